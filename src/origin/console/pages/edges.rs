//! The edges page: which keyset versions edges presented (`If-None-Match`) over the last keyset
//! max-age and, per minute, over the last hour (a stacked SVG bar chart), and whether the next
//! key is ready to sign, with a countdown. The figures are this process's (adoption.rs): with
//! several replicas behind a balancer each sees its share.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::origin::adoption::{AdoptionReport, MinutePoint};
use crate::origin::console::html::{self, esc, time, utc};
use crate::origin::service::{now_ms, Origin};

const CLASSES: [(&str, &str, &str); 4] = [
    ("current", "#2e9d5b", "the version served now"),
    ("older", "#d99a1e", "an older version"),
    ("none", "#6c9bd2", "no version (a cold edge)"),
    ("unknown", "#c73a3a", "a tag this process never served"),
];

fn class_count(p: &MinutePoint, class: &str) -> u64 {
    match class {
        "current" => p.current,
        "older" => p.older,
        "none" => p.none,
        _ => p.unknown,
    }
}

/// `GET /admin/edges`.
pub async fn page(State(origin): State<Arc<Origin>>, headers: HeaderMap) -> Response {
    let signed_in = match super::super::for_page(&origin, &headers) {
        Ok(s) => s,
        Err(r) => return r.response(),
    };
    let _ = origin.reload_if_changed().await;
    let now = now_ms();
    let report = origin.adoption_report(now);
    let mut b = String::new();
    readiness(&mut b, &report, now);
    let _ = write!(
        b,
        "<h2>Keyset requests, last keyset max-age ({} s)</h2><dl class=\"figures\" id=\"adoption-counts\">",
        report.window_seconds
    );
    for (class, colour, meaning) in CLASSES {
        let n = match class {
            "current" => report.counts.current,
            "older" => report.counts.older,
            "none" => report.counts.none,
            _ => report.counts.unknown,
        };
        let _ = write!(
            b,
            "<div><dt><svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"{colour}\"/></svg> \
             {class}</dt><dd id=\"count-{class}\" title=\"{meaning}\">{n}</dd></div>"
        );
    }
    b.push_str("</dl><h2>Last hour, per minute</h2>");
    b.push_str(&chart(&report.series));
    b.push_str(&versions(&report, now));
    b.push_str(
        "<p class=\"hint\">Edges revalidate the keyset with <code>If-None-Match</code>: each request \
         says which version it holds. Counts are kept in memory by this process since it started.</p>",
    );
    html::respond(
        StatusCode::OK,
        html::page("Edges", "Edges", Some(&signed_in.csrf), None, &b),
    )
}

fn readiness(b: &mut String, report: &AdoptionReport, now: i64) {
    let r = &report.readiness;
    let kid = r
        .next_kid
        .as_deref()
        .map(esc)
        .unwrap_or_else(|| "none".into());
    if r.ready {
        let _ = write!(
            b,
            "<p id=\"readiness\" class=\"ready\">The next key <code>{kid}</code> is ready: rotating now is safe{}.</p>",
            r.ready_at
                .map(|at| format!(" (since {})", time(Some(at * 1000), now)))
                .unwrap_or_default()
        );
    } else {
        let _ = write!(
            b,
            "<p id=\"readiness\" class=\"not-ready\">The next key <code>{kid}</code> is not ready: {}.{}</p>",
            esc(r.reason.as_deref().unwrap_or("unknown")),
            match r.ready_at {
                Some(at) => format!(
                    " Ready {} if no edge presents an older version meanwhile: \
                     <span class=\"countdown\" data-countdown=\"{at}\"></span>",
                    time(Some(at * 1000), now)
                ),
                None => String::new(),
            }
        );
    }
}

/// Stacked bars, one per minute of the last hour (oldest left).
fn chart(series: &[MinutePoint]) -> String {
    const W: f64 = 960.0;
    const H: f64 = 160.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 22.0;
    let max = series
        .iter()
        .map(|p| p.current + p.older + p.none + p.unknown)
        .max()
        .unwrap_or(0)
        .max(1);
    let n = series.len().max(1) as f64;
    let bar_w = (W - LEFT) / n;
    let plot_h = H - BOTTOM - 8.0;
    let mut s = format!(
        "<svg id=\"adoption-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" \
         height=\"{H}\" role=\"img\" aria-label=\"Keyset requests per minute by version presented\" \
         font-family=\"system-ui, sans-serif\" font-size=\"11\">\
         <text x=\"{:.0}\" y=\"14\" text-anchor=\"end\" fill=\"#555555\">{max}</text>\
         <line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{W}\" y2=\"{:.1}\" stroke=\"#999999\"/>",
        LEFT - 4.0,
        H - BOTTOM,
        H - BOTTOM
    );
    for (i, p) in series.iter().enumerate() {
        let x = LEFT + bar_w * i as f64;
        let mut y = H - BOTTOM;
        let total = p.current + p.older + p.none + p.unknown;
        let _ = write!(
            s,
            "<g class=\"minute\" data-minute=\"{}\" data-total=\"{total}\"><title>{}: {} current, {} older, {} none, {} unknown</title>",
            p.minute,
            utc(p.minute * 1000),
            p.current,
            p.older,
            p.none,
            p.unknown
        );
        for (class, colour, _) in CLASSES {
            let c = class_count(p, class);
            if c == 0 {
                continue;
            }
            let h = c as f64 / max as f64 * plot_h;
            y -= h;
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{colour}\" data-class=\"{class}\"/>",
                x + 1.0,
                (bar_w - 2.0).max(1.0)
            );
        }
        s.push_str("</g>");
    }
    for (x, label, anchor) in [
        (LEFT, "60 min ago", "start"),
        (LEFT + (W - LEFT) / 2.0, "30 min ago", "middle"),
        (W, "now", "end"),
    ] {
        let _ = write!(
            s,
            "<text x=\"{x:.0}\" y=\"{:.0}\" text-anchor=\"{anchor}\" fill=\"#555555\">{label}</text>",
            H - 6.0
        );
    }
    s.push_str("</svg>");
    s
}

fn versions(report: &AdoptionReport, now: i64) -> String {
    let mut t = String::from(
        "<h2>Versions presented</h2><table id=\"versions\"><thead><tr><th>ETag</th><th>requests</th>\
         <th>served now</th><th>holds the next key</th><th>kids</th><th>first served</th></tr></thead><tbody>",
    );
    for v in &report.versions {
        let kids: Vec<String> = v
            .kids
            .iter()
            .map(|k| format!("<code>{}</code>", esc(k)))
            .collect();
        let _ = write!(
            t,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&v.etag),
            v.count,
            if v.current { "yes" } else { "no" },
            if v.contains_next { "yes" } else { "no" },
            kids.join(" "),
            time(Some(v.first_served_at * 1000), now)
        );
    }
    t.push_str("</tbody></table>");
    t
}
