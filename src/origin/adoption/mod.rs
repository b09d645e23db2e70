//! Edge adoption of keyset versions, measured at the origin, and the readiness of the next key
//! (issue 12). Pure: no I/O and no clock — every call takes `now` (Unix milliseconds).
//!
//! Edges revalidate the keyset with `If-None-Match`, so each keyset request tells which
//! version the edge holds. [`Adoption::record`] classes it ([`Presented`]): the version this
//! answer carries (`current`), a version this process served before (`older`), no version
//! (`none`: a cold edge) or a tag it never served (`unknown`). Counts are kept in a mutex'd
//! ring of buckets covering one keyset max-age (at most [`MAX_BUCKETS`], each ≥ 1 s) and in a
//! per-minute series of the last hour. Memory is bounded whatever clients send: only versions
//! this process served are remembered (the last [`VERSION_CAPACITY`], each with its kids), and
//! an unknown tag is only counted, never stored.
//!
//! Readiness ([`readiness`]): the next key is ready once it has been published for one keyset
//! max-age (so every version served since an edge last revalidated holds it) and no request in
//! the last max-age presented a version without it. Counts are per process and in memory:
//! after a restart (or in the CLI) only the published-time rule applies until edges come back.
//!
//! This file owns the counting (the ring, the series, the remembered versions); [`report`]
//! owns what is read out of it ([`AdoptionReport`], `GET /keys/adoption`, which the console
//! and the metrics render).

mod report;

use std::collections::VecDeque;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

pub use super::readiness::{readiness, Readiness, SeenVersion};
pub use report::{AdoptionReport, ClassCounts, MinutePoint, Presented, VersionRow};

/// Keyset versions remembered (least recently served forgotten first). A version appears at
/// each rotation, revoke, import and retirement, so this covers far more than one max-age.
pub const VERSION_CAPACITY: usize = 64;
/// Buckets covering the window; a longer max-age makes wider buckets, never more.
pub const MAX_BUCKETS: i64 = 300;
/// The per-minute series: the last hour.
pub const SERIES_MINUTES: usize = 60;
const MINUTE_MS: i64 = 60_000;

/// The strong `ETag` of a JSON answer: the first 16 bytes of its SHA-256, quoted hex.
pub fn version_tag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

struct Version {
    id: u64,
    etag: String,
    kids: Vec<String>,
    first_served_ms: i64,
    last_served_ms: i64,
}

struct Bucket {
    start: i64,
    classes: [u64; 4],
    /// Known versions presented (at most [`VERSION_CAPACITY`] ids per bucket).
    versions: Vec<(u64, u64)>,
}

#[derive(Default)]
struct State {
    versions: Vec<Version>,
    next_id: u64,
    buckets: VecDeque<Bucket>,
    minutes: VecDeque<(i64, [u64; 4])>,
}

/// The adoption counts of one process.
pub struct Adoption {
    window_ms: i64,
    bucket_ms: i64,
    state: Mutex<State>,
}

impl Adoption {
    /// Counts over `window_ms` (the keyset max-age).
    pub fn new(window_ms: i64) -> Adoption {
        let window_ms = window_ms.max(0);
        let per_bucket = window_ms.saturating_add(MAX_BUCKETS - 1) / MAX_BUCKETS;
        // Whole seconds, at least one.
        let bucket_ms = ((per_bucket + 999) / 1000).max(1) * 1000;
        Adoption {
            window_ms,
            bucket_ms,
            state: Mutex::new(State::default()),
        }
    }

    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One keyset request answered with version `served` (whose kids `kids` gives, asked only
    /// the first time this version is served) that presented `if_none_match`.
    pub fn record(
        &self,
        now: i64,
        served: &str,
        kids: impl FnOnce() -> Vec<String>,
        if_none_match: Option<&str>,
    ) -> Presented {
        let mut st = self.lock();
        let served_id = st.remember(now, served, kids);
        let (class, id) = match if_none_match.map(str::trim).filter(|v| !v.is_empty()) {
            None => (Presented::None, None),
            Some(value) => classify(&st, value, served, served_id),
        };
        self.count(&mut st, now, class, id);
        class
    }

    fn count(&self, st: &mut State, now: i64, class: Presented, id: Option<u64>) {
        let start = now - now.rem_euclid(self.bucket_ms);
        // A clock stepped back counts into the newest bucket.
        match st.buckets.back_mut() {
            Some(b) if b.start >= start => {}
            _ => st.buckets.push_back(Bucket {
                start,
                classes: [0; 4],
                versions: Vec::new(),
            }),
        }
        let bucket = st.buckets.back_mut().expect("just pushed");
        bucket.classes[class.index()] += 1;
        if let Some(id) = id {
            match bucket.versions.iter_mut().find(|(v, _)| *v == id) {
                Some((_, n)) => *n += 1,
                None => bucket.versions.push((id, 1)),
            }
        }
        let horizon = now - self.window_ms;
        while st
            .buckets
            .front()
            .is_some_and(|b| b.start + self.bucket_ms <= horizon && st.buckets.len() > 1)
        {
            st.buckets.pop_front();
        }
        let minute = now - now.rem_euclid(MINUTE_MS);
        match st.minutes.back_mut() {
            Some((m, c)) if *m >= minute => c[class.index()] += 1,
            _ => {
                let mut c = [0; 4];
                c[class.index()] = 1;
                st.minutes.push_back((minute, c));
            }
        }
        while st.minutes.len() > SERIES_MINUTES {
            st.minutes.pop_front();
        }
    }

    /// The buckets overlapping the window ending at `now`.
    fn in_window<'a>(&self, st: &'a State, now: i64) -> impl Iterator<Item = &'a Bucket> {
        let horizon = now - self.window_ms;
        let width = self.bucket_ms;
        st.buckets
            .iter()
            .filter(move |b| b.start + width > horizon && b.start <= now)
    }

    /// The versions presented in the window, for the rotation check.
    pub fn seen(&self, now: i64) -> Vec<SeenVersion> {
        let st = self.lock();
        let mut last: Vec<(u64, i64)> = Vec::new();
        for b in self.in_window(&st, now) {
            for &(id, _) in &b.versions {
                let end = b.start + self.bucket_ms;
                match last.iter_mut().find(|(v, _)| *v == id) {
                    Some((_, at)) => *at = (*at).max(end),
                    None => last.push((id, end)),
                }
            }
        }
        last.into_iter()
            .map(|(id, end)| SeenVersion {
                kids: st
                    .versions
                    .iter()
                    .find(|v| v.id == id)
                    .map(|v| v.kids.clone()),
                last_presented_end_ms: end,
            })
            .collect()
    }
}

impl State {
    /// Remembers a version this process serves; returns its id.
    fn remember(&mut self, now: i64, etag: &str, kids: impl FnOnce() -> Vec<String>) -> u64 {
        if let Some(v) = self.versions.iter_mut().find(|v| v.etag == etag) {
            v.last_served_ms = v.last_served_ms.max(now);
            return v.id;
        }
        if self.versions.len() >= VERSION_CAPACITY {
            if let Some(oldest) =
                (0..self.versions.len()).min_by_key(|&i| self.versions[i].last_served_ms)
            {
                self.versions.swap_remove(oldest);
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.versions.push(Version {
            id,
            etag: etag.to_string(),
            kids: kids(),
            first_served_ms: now,
            last_served_ms: now,
        });
        id
    }
}

/// Classes an `If-None-Match` value (a list of entity tags, weak ones compared weakly, as the
/// keyset endpoint does). `*` and tags never served are `unknown`.
fn classify(st: &State, value: &str, served: &str, served_id: u64) -> (Presented, Option<u64>) {
    let mut older = None;
    for tag in value.split(',').map(str::trim) {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        if tag == served {
            return (Presented::Current, Some(served_id));
        }
        if older.is_none() {
            older = st.versions.iter().find(|v| v.etag == tag).map(|v| v.id);
        }
    }
    match older {
        Some(id) => (Presented::Older, Some(id)),
        None => (Presented::Unknown, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::keys::next_key_for_tests as key;

    fn kids(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn classes_and_window() {
        let a = Adoption::new(10_000);
        let v1 = "\"v1\"";
        let v2 = "\"v2\"";
        assert_eq!(a.record(0, v1, || kids(&["a", "b"]), None), Presented::None);
        assert_eq!(
            a.record(500, v1, || unreachable!(), Some(v1)),
            Presented::Current
        );
        assert_eq!(
            a.record(600, v1, Vec::new, Some("W/\"v1\"")),
            Presented::Current
        );
        // After a rotation v2 is served; v1 is now older, a made-up tag unknown.
        assert_eq!(
            a.record(1_000, v2, || kids(&["b", "c"]), Some(v1)),
            Presented::Older
        );
        assert_eq!(
            a.record(1_100, v2, Vec::new, Some("\"zz\"")),
            Presented::Unknown
        );
        assert_eq!(a.record(1_200, v2, Vec::new, Some("*")), Presented::Unknown);
        let next = key("c", 1_000);
        let r = a.report(2_000, v2, &kids(&["b", "c"]), Some(&next));
        assert_eq!(
            r.counts,
            ClassCounts {
                current: 2,
                older: 1,
                none: 1,
                unknown: 2
            }
        );
        let row = |e: &str| r.versions.iter().find(|v| v.etag == e).unwrap().clone();
        assert_eq!((row(v1).count, row(v1).contains_next), (3, false));
        assert!(row(v2).current && row(v2).contains_next && row(v2).count == 0);
        // v1 (without c) was presented in the bucket ending at 2 s: ready at 12 s.
        assert!(!r.readiness.ready);
        assert_eq!(r.readiness.ready_at, Some(12));
        assert!(r.readiness.reason.unwrap().contains("without the next key"));
        // Eleven seconds on, everything has left the window.
        let r = a.report(13_000, v2, &kids(&["b", "c"]), Some(&next));
        assert_eq!(r.counts, ClassCounts::default());
        assert!(r.readiness.ready && r.readiness.reason.is_none());
        assert_eq!(r.series.len(), SERIES_MINUTES);
        assert_eq!(r.series.iter().map(|p| p.current + p.older).sum::<u64>(), 3);
    }

    #[test]
    fn unknown_tags_are_never_stored_and_versions_are_bounded() {
        let a = Adoption::new(300_000);
        for i in 0..10_000 {
            a.record(i, "\"cur\"", || kids(&["k"]), Some(&format!("\"{i}\"")));
        }
        for i in 0..(VERSION_CAPACITY as i64 + 10) {
            a.record(20_000 + i, &format!("\"s{i}\""), || kids(&["k"]), None);
        }
        let st = a.lock();
        assert_eq!(st.versions.len(), VERSION_CAPACITY);
        assert!(st.buckets.len() <= MAX_BUCKETS as usize + 1);
        assert!(st
            .buckets
            .iter()
            .all(|b| b.versions.len() <= VERSION_CAPACITY));
        drop(st);
        let r = a.report(30_000, "\"cur\"", &kids(&["k"]), None);
        assert_eq!(r.counts.unknown, 10_000);
        // Long windows use wider buckets, never more of them.
        assert_eq!(Adoption::new(3_600_000).bucket_ms, 12_000);
        assert_eq!(Adoption::new(2_000).bucket_ms, 1_000);
    }
}
