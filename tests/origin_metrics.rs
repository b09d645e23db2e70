//! `/metrics` of the real binary (issue 11, point 5): the families served (`# TYPE` lines) are
//! exactly the ones documented in docs/ORIGIN.md's metrics table, with the same types, both
//! ways; per-route request counts and latency histograms carry the matched route template,
//! never a raw path; `jwtedge_build_info` names this version; process metrics are present.

mod origin_harness;

use std::collections::BTreeSet;

use origin_harness::*;

/// `(family, type)` from the documented table (`### Metrics` in docs/ORIGIN.md).
fn documented() -> BTreeSet<(String, String)> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ORIGIN.md")).unwrap();
    let section = doc
        .split("\n### Metrics\n")
        .nth(1)
        .expect("a `### Metrics` section in docs/ORIGIN.md");
    let section = section.split("\n## ").next().unwrap();
    let rows: BTreeSet<(String, String)> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_string(),
                cells[2].trim_matches('`').to_string(),
            )
        })
        .collect();
    assert!(rows.len() >= 15, "metrics table rows: {rows:?}");
    rows
}

fn served(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, kind) = l.split_once(' ').expect("# TYPE name type");
            (name.to_string(), kind.to_string())
        })
        .collect()
}

#[test]
fn served_families_are_the_documented_ones() {
    let dir = temp_dir("metrics");
    let origin = Origin::start(&base_env(&dir, &Backend::Sqlite), &dir);
    // Traffic on a templated route, a refused credential, an unknown path and an odd method.
    let r = origin.post("/keys/kid-RAW-123/revoke", Some("wrong-credential"), "");
    assert_eq!(r.status, 401);
    assert_eq!(origin.get("/no/such/RAWPATH-456", None).status, 404);
    let _ = origin.new_session("alice");
    let _ = origin.keyset_json();
    let resp = origin.get("/metrics", None);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = resp.body;
    let served = served(&text);
    let documented = documented();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && missing.is_empty(),
        "served but not documented: {undocumented:?}; documented but not served: {missing:?}"
    );

    // Route templates, never raw paths.
    assert!(
        text.contains(
            "jwtedge_http_requests_total{route=\"/keys/{kid}/revoke\",method=\"POST\",status=\"401\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains(
        "jwtedge_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"
    ));
    assert!(text.contains(
        "jwtedge_http_requests_total{route=\"/sessions\",method=\"POST\",status=\"201\"} 1"
    ));
    assert!(
        !text.contains("RAW"),
        "a raw path reached the labels: {text}"
    );
    assert!(text.contains(
        "jwtedge_http_request_duration_seconds_count{route=\"/sessions\",method=\"POST\"} 1"
    ));
    assert!(text.contains("jwtedge_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/sessions\",method=\"POST\"} 1"));
    assert!(text.contains("jwtedge_auth_failures_total 1"), "{text}");
    assert!(text.contains("jwtedge_tokens_signed_total 1"), "{text}");
    assert!(
        text.contains("jwtedge_keyset_served_total{status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "jwtedge_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    )));
    // Process metrics, with plausible values.
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing: {text}"))
            .parse()
            .unwrap()
    };
    assert!(value("process_resident_memory_bytes") > 1_000_000.0);
    assert!(value("process_open_fds") >= 3.0);
    assert!(value("process_cpu_seconds_total") >= 0.0);
    let start = value("process_start_time_seconds");
    assert!(
        (now() - start).abs() < 120.0,
        "start time {start} vs now {}",
        now()
    );
    assert!(text.trim_end().ends_with("# EOF"));
    origin.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
