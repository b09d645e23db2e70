//! The adoption report (`GET /keys/adoption`): what a keyset request presented, the counts by
//! class, the versions presented in the window, the per-minute series of the last hour and the
//! next key's readiness — read out of the counts kept by [`Adoption`].
//!
//! Names used by other modules (the console renders them; keep them stable):
//! [`AdoptionReport`] { `window_seconds`, `bucket_seconds`, `current_etag`, `counts`
//! ([`ClassCounts`] { `current`, `older`, `none`, `unknown` }), `versions` ([`VersionRow`]
//! { `etag`, `count`, `current`, `contains_next`, `kids`, `first_served_at` }), `series`
//! ([`MinutePoint`] { `minute`, `current`, `older`, `none`, `unknown` }, 60 points, oldest
//! first), `readiness` ([`Readiness`] { `next_kid`, `ready`, `ready_at`, `reason` }) };
//! obtained from `Origin::adoption_report(now_ms)`. Times are whole Unix seconds.

use serde::Serialize;

use super::{Adoption, MINUTE_MS, SERIES_MINUTES};
use crate::origin::keys::KeyRecord;
use crate::origin::readiness::{readiness, Readiness};

/// What a keyset request presented in `If-None-Match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    Current,
    Older,
    None,
    Unknown,
}

impl Presented {
    pub const ALL: [Presented; 4] = [
        Presented::Current,
        Presented::Older,
        Presented::None,
        Presented::Unknown,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Presented::Current => "current",
            Presented::Older => "older",
            Presented::None => "none",
            Presented::Unknown => "unknown",
        }
    }

    pub(super) const fn index(self) -> usize {
        self as usize
    }
}

/// Keyset requests by what they presented.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    pub current: u64,
    pub older: u64,
    pub none: u64,
    pub unknown: u64,
}

impl ClassCounts {
    fn from_array(a: [u64; 4]) -> ClassCounts {
        ClassCounts {
            current: a[0],
            older: a[1],
            none: a[2],
            unknown: a[3],
        }
    }

    pub fn get(&self, class: Presented) -> u64 {
        [self.current, self.older, self.none, self.unknown][class.index()]
    }
}

/// One keyset version presented in the window (or the current one, even if unseen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRow {
    pub etag: String,
    /// Requests in the window that presented it.
    pub count: u64,
    /// It is the version served now (with every published key).
    pub current: bool,
    /// It holds the next key.
    pub contains_next: bool,
    pub kids: Vec<String>,
    /// When this process first served it (Unix seconds).
    pub first_served_at: i64,
}

/// One minute of the last hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MinutePoint {
    /// Start of the minute (Unix seconds).
    pub minute: i64,
    pub current: u64,
    pub older: u64,
    pub none: u64,
    pub unknown: u64,
}

/// `GET /keys/adoption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdoptionReport {
    /// The window: one keyset max-age.
    pub window_seconds: u64,
    /// Its resolution.
    pub bucket_seconds: u64,
    /// The version served now to an edge that receives every published key.
    pub current_etag: String,
    pub counts: ClassCounts,
    /// Versions presented in the window, most presented first; the current one always.
    pub versions: Vec<VersionRow>,
    /// Requests per minute over the last hour, oldest first.
    pub series: Vec<MinutePoint>,
    pub readiness: Readiness,
}

impl Adoption {
    /// The report of `GET /keys/adoption`. `current_etag`/`current_kids`: the version served
    /// now with every published key; `next`: the next key's record.
    pub fn report(
        &self,
        now: i64,
        current_etag: &str,
        current_kids: &[String],
        next: Option<&KeyRecord>,
    ) -> AdoptionReport {
        let readiness = readiness(next, now, self.window_ms, &self.seen(now));
        let st = self.lock();
        let mut classes = [0u64; 4];
        let mut per_version: Vec<(u64, u64)> = Vec::new();
        for b in self.in_window(&st, now) {
            for (i, n) in b.classes.iter().enumerate() {
                classes[i] += n;
            }
            for &(id, n) in &b.versions {
                match per_version.iter_mut().find(|(v, _)| *v == id) {
                    Some((_, c)) => *c += n,
                    None => per_version.push((id, n)),
                }
            }
        }
        let next_kid = next.map(|k| k.kid.as_str());
        let holds_next = |kids: &[String]| next_kid.is_none_or(|n| kids.iter().any(|k| k == n));
        let mut versions: Vec<VersionRow> = per_version
            .iter()
            .filter_map(|&(id, count)| {
                let v = st.versions.iter().find(|v| v.id == id)?;
                Some(VersionRow {
                    etag: v.etag.clone(),
                    count,
                    current: v.etag == current_etag,
                    contains_next: holds_next(&v.kids),
                    kids: v.kids.clone(),
                    first_served_at: v.first_served_ms.div_euclid(1000),
                })
            })
            .collect();
        if !versions.iter().any(|v| v.current) {
            let first = st
                .versions
                .iter()
                .find(|v| v.etag == current_etag)
                .map_or(now, |v| v.first_served_ms);
            versions.push(VersionRow {
                etag: current_etag.to_string(),
                count: 0,
                current: true,
                contains_next: holds_next(current_kids),
                kids: current_kids.to_vec(),
                first_served_at: first.div_euclid(1000),
            });
        }
        versions.sort_by(|a, b| b.count.cmp(&a.count).then(b.current.cmp(&a.current)));
        let this_minute = now - now.rem_euclid(MINUTE_MS);
        let series = (0..SERIES_MINUTES as i64)
            .rev()
            .map(|ago| {
                let minute = this_minute - ago * MINUTE_MS;
                let c = st
                    .minutes
                    .iter()
                    .find(|(m, _)| *m == minute)
                    .map_or([0; 4], |(_, c)| *c);
                MinutePoint {
                    minute: minute.div_euclid(1000),
                    current: c[0],
                    older: c[1],
                    none: c[2],
                    unknown: c[3],
                }
            })
            .collect();
        AdoptionReport {
            window_seconds: (self.window_ms / 1000) as u64,
            bucket_seconds: (self.bucket_ms / 1000) as u64,
            current_etag: current_etag.to_string(),
            counts: ClassCounts::from_array(classes),
            versions,
            series,
            readiness,
        }
    }
}
