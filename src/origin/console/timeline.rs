//! The keys page's timeline, drawn as SVG on the server: one row per key (oldest at the top),
//! its life as coloured spans — published before signing, signing, published after it stopped
//! signing — ending in retirement (a grey tick) or revocation (red). What the schedule will do
//! (the next key signing at the next rotation, the current key stopping then) is drawn paler
//! past the "now" line; the next scheduled rotation is a dashed line. Colours are presentation
//! attributes, not CSS, so the page's CSP needs no inline styles.

use std::fmt::Write;

use super::html::{esc, utc};
use crate::origin::keys::{KeyRecord, KeyState, Policy};

/// Rows drawn at most (the newest keys); the table below lists them all.
pub const MAX_ROWS: usize = 10;

const WIDTH: f64 = 960.0;
const LABEL: f64 = 270.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 34.0;
const ROW: f64 = 30.0;
const BAR: f64 = 14.0;

pub const PUBLISHED: &str = "#6c9bd2";
pub const SIGNING: &str = "#2e9d5b";
pub const STOPPED: &str = "#d99a1e";
pub const REVOKED: &str = "#c73a3a";
const RETIRED: &str = "#777777";

/// One phase of a key's life: `[from, to)` in Unix ms.
struct Span {
    phase: &'static str,
    colour: &'static str,
    from: i64,
    to: i64,
}

/// The spans of `key`'s life up to `end`, with the schedule's future (`rotation_at`) included.
fn spans(key: &KeyRecord, policy: &Policy, rotation_at: Option<i64>, end: i64) -> Vec<Span> {
    let stop = key.revoked_at.unwrap_or(end);
    let mut out = Vec::new();
    let mut push = |phase, colour, from: i64, to: i64| {
        let to = to.min(stop);
        if to > from {
            out.push(Span {
                phase,
                colour,
                from,
                to,
            });
        }
    };
    let signing_from = match key.state {
        KeyState::Next => rotation_at,
        _ => key.activated_at,
    };
    let signing_to = match key.state {
        KeyState::Current => rotation_at.unwrap_or(end),
        _ => key.deactivated_at.unwrap_or(end),
    };
    push(
        "published, not yet signing",
        PUBLISHED,
        key.created_at,
        signing_from.unwrap_or(end),
    );
    if let Some(from) = signing_from {
        push("signing", SIGNING, from, signing_to);
        if let Some(retire) = retirement(key, policy, rotation_at) {
            push("published, stopped signing", STOPPED, signing_to, retire);
        }
    }
    out
}

/// When `key` stops (or stopped, or will stop) being published after it stopped signing.
pub fn retirement(key: &KeyRecord, policy: &Policy, rotation_at: Option<i64>) -> Option<i64> {
    let stopped = match key.state {
        KeyState::Current => rotation_at,
        KeyState::Next => None,
        _ => key.deactivated_at,
    }?;
    Some(stopped.saturating_add(policy.retire_after_ms))
}

/// The SVG for `keys` at `now`; `rotation_at` is the next scheduled rotation (`None`: off).
pub fn svg(keys: &[KeyRecord], policy: &Policy, now: i64, rotation_at: Option<i64>) -> String {
    let mut rows: Vec<&KeyRecord> = keys.iter().collect();
    rows.sort_by_key(|k| (k.created_at, k.activated_at.unwrap_or(i64::MAX)));
    let skip = rows.len().saturating_sub(MAX_ROWS);
    let rows = &rows[skip..];
    let start = rows
        .iter()
        .map(|k| k.created_at)
        .min()
        .unwrap_or(now)
        .min(now);
    // Far enough right to show the next rotation and the current key's end after it.
    let mut end = now.max(rotation_at.unwrap_or(now));
    if let Some(r) = rotation_at {
        end = end.max(r + policy.retire_after_ms.min((r - start).max(1) / 4));
    }
    for k in rows {
        if let Some(t) = k.deactivated_at.map(|d| d + policy.retire_after_ms) {
            end = end.max(t);
        }
    }
    end += ((end - start) / 12).max(1000);
    let span = (end - start).max(1) as f64;
    let x = |t: i64| LABEL + (t.clamp(start, end) - start) as f64 / span * (WIDTH - LABEL - RIGHT);
    let height = TOP + ROW * rows.len() as f64 + 26.0;

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"Signing key timeline\" \
         font-family=\"system-ui, sans-serif\" font-size=\"12\">"
    );
    // Axis ticks: five evenly spaced times.
    for i in 0..=4 {
        let t = start + (end - start) * i / 4;
        let tx = x(t);
        let label = utc(t);
        // `2026-11-26 16:32:52 UTC`: the time of day over a short window, else the date too.
        let short = match end - start {
            w if w <= 3 * 3_600_000 => &label[11..19],
            w if w <= 3 * 86_400_000 => &label[5..16],
            _ => &label[5..10],
        };
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            s,
            "<line x1=\"{tx:.1}\" y1=\"{}\" x2=\"{tx:.1}\" y2=\"{}\" stroke=\"#dddddd\"/>\
             <text x=\"{tx:.1}\" y=\"14\" text-anchor=\"{anchor}\" fill=\"#555555\"><title>{}</title>{}</text>",
            TOP - 8.0,
            height - 20.0,
            esc(&label),
            esc(short)
        );
    }
    for (i, key) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let state = key.state.name();
        let label_colour = if key.state == KeyState::Revoked {
            REVOKED
        } else {
            "#222222"
        };
        let short_kid: String = key.kid.chars().take(16).collect();
        let ellipsis = if key.kid.chars().count() > 16 {
            "…"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<g class=\"key-row\" data-kid=\"{}\" data-state=\"{state}\">\
             <text x=\"4\" y=\"{:.1}\" fill=\"{label_colour}\"><title>{}</title>{}{ellipsis} · {} · {state}</text>",
            esc(&key.kid),
            y + BAR,
            esc(&key.kid),
            esc(&short_kid),
            key.alg.name()
        );
        for sp in spans(key, policy, rotation_at, end) {
            let (x1, x2) = (x(sp.from), x(sp.to));
            let future = sp.from >= now;
            let _ = write!(
                s,
                "<rect class=\"span\" data-phase=\"{}\" x=\"{x1:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR}\" \
                 fill=\"{}\" fill-opacity=\"{}\"><title>{}: {}, {} → {}{}</title></rect>",
                sp.phase.split(',').next().unwrap_or(sp.phase).replace(' ', "-"),
                y + 3.0,
                (x2 - x1).max(1.5),
                sp.colour,
                if future { "0.35" } else { "1" },
                esc(&key.kid),
                sp.phase,
                utc(sp.from),
                utc(sp.to),
                if future { " (scheduled)" } else { "" }
            );
            // A span running into the present is split at "now": its scheduled part paler.
            if sp.from < now && sp.to > now {
                let xn = x(now);
                let _ = write!(
                    s,
                    "<rect x=\"{xn:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"#ffffff\" fill-opacity=\"0.6\"/>",
                    y + 3.0,
                    (x2 - xn).max(0.0)
                );
            }
        }
        if let Some(at) = key.revoked_at {
            let xr = x(at);
            let _ = write!(
                s,
                "<rect class=\"revoked-mark\" x=\"{:.1}\" y=\"{:.1}\" width=\"5\" height=\"{}\" fill=\"{REVOKED}\">\
                 <title>{}: revoked {}</title></rect>",
                xr - 2.5,
                y,
                BAR + 6.0,
                esc(&key.kid),
                utc(at)
            );
        } else if key.state == KeyState::Retired || key.state == KeyState::Previous {
            if let Some(at) = retirement(key, policy, rotation_at) {
                let xr = x(at);
                let past = if at <= now { "retired" } else { "retires" };
                let _ = write!(
                    s,
                    "<rect class=\"retired-mark\" x=\"{:.1}\" y=\"{:.1}\" width=\"3\" height=\"{}\" fill=\"{RETIRED}\">\
                     <title>{}: {past} {}</title></rect>",
                    xr - 1.5,
                    y,
                    BAR + 6.0,
                    esc(&key.kid),
                    utc(at)
                );
            }
        }
        s.push_str("</g>");
    }
    let bottom = height - 20.0;
    let xn = x(now);
    let _ = write!(
        s,
        "<g id=\"now-line\"><line x1=\"{xn:.1}\" y1=\"{}\" x2=\"{xn:.1}\" y2=\"{bottom}\" stroke=\"#111111\" stroke-width=\"2\"/>\
         <text x=\"{xn:.1}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\"><title>{}</title>now</text></g>",
        TOP - 8.0,
        bottom + 14.0,
        utc(now)
    );
    if let Some(r) = rotation_at {
        let xr = x(r);
        let _ = write!(
            s,
            "<g id=\"next-rotation\"><line x1=\"{xr:.1}\" y1=\"{}\" x2=\"{xr:.1}\" y2=\"{bottom}\" stroke=\"#6a3fb5\" \
             stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"{xr:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#6a3fb5\">\
             <title>next scheduled rotation: {}</title>next rotation</text></g>",
            TOP - 8.0,
            bottom + 14.0,
            utc(r)
        );
    }
    s.push_str("</svg>");
    s
}

/// The colour legend under the timeline.
pub fn legend() -> String {
    let mut s = String::from("<ul class=\"legend\">");
    for (colour, text) in [
        (PUBLISHED, "published, not yet signing"),
        (SIGNING, "signing"),
        (
            STOPPED,
            "published, stopped signing (until its last token expires)",
        ),
        (REVOKED, "revoked"),
        (RETIRED, "retired"),
    ] {
        let _ = write!(
            s,
            "<li><svg width=\"14\" height=\"10\" aria-hidden=\"true\"><rect width=\"14\" height=\"10\" fill=\"{colour}\"/></svg> {text}</li>"
        );
    }
    s.push_str("<li>paler: scheduled, not yet happened</li></ul>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::algorithm::Algorithm;

    fn key(
        kid: &str,
        state: KeyState,
        created: i64,
        act: Option<i64>,
        deact: Option<i64>,
        rev: Option<i64>,
    ) -> KeyRecord {
        KeyRecord {
            kid: kid.into(),
            alg: Algorithm::EdDsa,
            state,
            created_at: created,
            activated_at: act,
            deactivated_at: deact,
            revoked_at: rev,
            public_key: vec![],
            sealed_secret: None,
        }
    }

    const POLICY: Policy = Policy {
        algorithm: Algorithm::EdDsa,
        rotation_interval_ms: Some(100_000),
        retire_after_ms: 10_000,
    };

    #[test]
    fn phases_per_key() {
        let keys = vec![
            key("old", KeyState::Retired, 0, Some(0), Some(100_000), None),
            key("cur", KeyState::Current, 0, Some(100_000), None, None),
            key("nxt", KeyState::Next, 100_000, None, None, None),
            key("bad", KeyState::Revoked, 50_000, None, None, Some(60_000)),
        ];
        let svg = svg(&keys, &POLICY, 150_000, Some(200_000));
        for kid in ["old", "cur", "nxt", "bad"] {
            assert!(svg.contains(&format!("data-kid=\"{kid}\"")), "{kid}");
        }
        assert_eq!(svg.matches("class=\"key-row\"").count(), 4);
        assert!(svg.contains("id=\"now-line\"") && svg.contains("id=\"next-rotation\""));
        assert_eq!(svg.matches("class=\"revoked-mark\"").count(), 1);
        assert_eq!(svg.matches("class=\"retired-mark\"").count(), 1);
        // The next key signs at the next rotation (scheduled); the retired key stopped before.
        let nxt = &svg[svg.find("data-kid=\"nxt\"").unwrap()..];
        let nxt = &nxt[..nxt.find("</g>").unwrap()];
        assert!(nxt.contains("data-phase=\"signing\"") && nxt.contains("(scheduled)"));
        let bad = &svg[svg.find("data-kid=\"bad\"").unwrap()..];
        let bad = &bad[..bad.find("</g>").unwrap()];
        assert!(!bad.contains("data-phase=\"signing\""));
    }

    #[test]
    fn without_schedule_no_rotation_marker() {
        let keys = vec![key("cur", KeyState::Current, 0, Some(0), None, None)];
        let svg = svg(&keys, &POLICY, 1_000, None);
        assert!(!svg.contains("next-rotation"));
        assert!(svg.contains("data-phase=\"signing\""));
    }
}
