//! Edge adoption and rotation readiness (issue 12: 1, 4), against the real binary over
//! loopback with a keyset max-age of 2 s: stub edges that revalidate with `If-None-Match`
//! fetch through a rotation, and `GET /keys/adoption` shows the counts moving from the old
//! version to the new one; a manual rotation before the next key is ready is
//! `409 next_key_not_ready` with `ready_at` (HTTP and CLI), forced rotations go through,
//! readiness turns true one max-age after the last request presenting a version without the
//! next key, an emergency revoke is never held back, a flood of unknown tags stays counted
//! and unstored, and the route needs the admin token. Every answer is checked against
//! docs/openapi.json by the harness.

mod origin_harness;

use std::time::{Duration, Instant};

use origin_harness::*;
use serde_json::Value;

const MAX_AGE_S: f64 = 2.0;

/// An edge's keyset cache: the ETag it holds, sent as `If-None-Match`.
struct StubEdge {
    etag: Option<String>,
}

impl StubEdge {
    fn fetch(&mut self, origin: &Origin) -> u16 {
        let mut headers = vec![];
        if let Some(tag) = &self.etag {
            headers.push(("If-None-Match".to_string(), tag.clone()));
        }
        let r = http(
            &origin.addr,
            "GET",
            "/.well-known/jwks.json",
            &headers,
            None,
        );
        assert!(r.status == 200 || r.status == 304, "{}", r.body);
        if r.status == 200 {
            self.etag = r.header("etag").map(str::to_string);
        }
        r.status
    }
}

fn admin() -> Vec<(String, String)> {
    vec![("Authorization".into(), format!("Bearer {ADMIN_TOKEN}"))]
}

fn adoption(origin: &Origin) -> Value {
    let r = origin.get("/keys/adoption", Some(ADMIN_TOKEN));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.json()
}

fn count(report: &Value, class: &str) -> u64 {
    report["counts"][class].as_u64().unwrap()
}

/// Requests of `class` in the last hour's per-minute series.
fn series_total(report: &Value, class: &str) -> u64 {
    report["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[class].as_u64().unwrap())
        .sum()
}

fn row<'a>(report: &'a Value, etag: &str) -> Option<&'a Value> {
    report["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["etag"] == etag)
}

fn rotate(origin: &Origin, query: &str, body: &str) -> Resp {
    origin.post(&format!("/keys/rotate{query}"), Some(ADMIN_TOKEN), body)
}

fn start(name: &str) -> (Origin, std::path::PathBuf, Vec<(String, String)>) {
    let dir = temp_dir(name);
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_KEYSET_MAX_AGE", "2s");
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    let origin = Origin::start(&env, &dir);
    (origin, dir, env)
}

/// Waits until the next key is ready; returns the report and when it was first seen ready.
fn until_ready(origin: &Origin, within: Duration, edges: &mut [StubEdge]) -> (Value, f64) {
    let deadline = Instant::now() + within;
    loop {
        for e in edges.iter_mut() {
            e.fetch(origin);
        }
        let report = adoption(origin);
        if report["readiness"]["ready"] == true {
            return (report, now());
        }
        assert!(Instant::now() < deadline, "never ready: {report}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn counts_follow_a_rotation_and_readiness_gates_manual_rotation() {
    let (origin, dir, env) = start("adoption");
    let started = now();

    // The route needs the admin token.
    assert_eq!(origin.get("/keys/adoption", None).status, 401);
    assert_eq!(origin.get("/keys/adoption", Some(API_KEY)).status, 401);

    // Right after start the next key was published less than one max-age ago.
    let listing = origin.keys();
    let next = listing["next"].as_str().unwrap().to_string();
    let next_created = listing["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == next.as_str())
        .unwrap()["created_at"]
        .as_i64()
        .unwrap();
    let r = rotate(&origin, "", "");
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.error_code(), "next_key_not_ready");
    let ready_at = r.json()["ready_at"].as_i64().unwrap();
    assert!(
        ready_at >= next_created + 2 && ready_at <= next_created + 3,
        "{ready_at} vs created {next_created}"
    );
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains(&ready_at.to_string()));
    let report = adoption(&origin);
    assert_eq!(report["window_seconds"], 2);
    assert_eq!(report["readiness"]["ready"], false);
    assert_eq!(report["readiness"]["next_kid"], next.as_str());
    assert_eq!(report["readiness"]["ready_at"], ready_at);
    assert!(report["readiness"]["reason"]
        .as_str()
        .unwrap()
        .contains("published for less"));
    // The CLI, without the server's counts, applies the published-time rule.
    let out = run_cli(&["keys", "rotate"], &env, &dir);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("next_key_not_ready") && err.contains("published-time rule"),
        "{err}"
    );

    // Three edges: a cold fetch each, then revalidations presenting the current version.
    let t0 = now();
    let mut edges: Vec<StubEdge> = (0..3).map(|_| StubEdge { etag: None }).collect();
    for e in edges.iter_mut() {
        assert_eq!(e.fetch(&origin), 200);
    }
    for _ in 0..2 {
        for e in edges.iter_mut() {
            assert_eq!(e.fetch(&origin), 304);
        }
    }
    let old = edges[0].etag.clone().unwrap();
    let report = adoption(&origin);
    assert_eq!(report["current_etag"], old.as_str());
    // The hour's series holds every request whatever the machine's speed; the 2 s window
    // holds them all if they took less than that.
    assert_eq!(
        (
            series_total(&report, "none"),
            series_total(&report, "current")
        ),
        (3, 6),
        "{report}"
    );
    if now() - t0 < MAX_AGE_S - 0.1 {
        assert_eq!(
            (count(&report, "none"), count(&report, "current")),
            (3, 6),
            "{report}"
        );
        let r0 = row(&report, &old).unwrap();
        assert_eq!(
            (r0["count"].as_u64(), r0["contains_next"].as_bool()),
            (Some(6), Some(true))
        );
    }
    assert_eq!(count(&report, "older") + count(&report, "unknown"), 0);

    // Ready one max-age after publication (the edges hold a version with the next key).
    let (report, ready_seen) = until_ready(&origin, Duration::from_secs(10), &mut edges);
    assert!(
        ready_seen >= next_created as f64 + MAX_AGE_S,
        "ready too early"
    );
    assert!(ready_seen - started < 12.0);
    assert!(report["readiness"]["reason"].is_null());
    let m = origin.get("/metrics", None).body;
    assert!(m.contains("jwtedge_next_key_ready 1"), "{m}");

    // Rotate (ready: no force needed). The edges still hold the old version.
    let rotated_before = now();
    let r = rotate(&origin, "", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let new_next = r.json()["next"].as_str().unwrap().to_string();
    for e in edges.iter_mut() {
        assert_eq!(e.fetch(&origin), 200, "the old version is refreshed");
    }
    let new = edges[0].etag.clone().unwrap();
    assert_ne!(new, old);
    let report = adoption(&origin);
    assert_eq!(report["current_etag"], new.as_str());
    assert_eq!(series_total(&report, "older"), 3, "{report}");
    assert!(
        now() - rotated_before < MAX_AGE_S,
        "the machine is too slow for this test"
    );
    assert_eq!(count(&report, "older"), 3, "{report}");
    let r_old = row(&report, &old).unwrap();
    assert_eq!(
        r_old["contains_next"], false,
        "the fresh next key is not in it"
    );
    assert_eq!(report["readiness"]["ready"], false);
    assert_eq!(report["readiness"]["next_kid"], new_next.as_str());
    assert!(report["readiness"]["reason"]
        .as_str()
        .unwrap()
        .contains("without the next key"));
    let r = rotate(&origin, "", "");
    assert_eq!(r.error_code(), "next_key_not_ready");

    // Two edges move on; a stale one keeps presenting the old version: not ready meanwhile.
    let mut stale = StubEdge {
        etag: Some(old.clone()),
    };
    let held_until = Instant::now() + Duration::from_millis(2600);
    let mut last_stale = now();
    while Instant::now() < held_until {
        for e in edges.iter_mut() {
            assert_eq!(e.fetch(&origin), 304);
        }
        stale.etag = Some(old.clone());
        // Sent at `last_stale` or later: it holds readiness back until one max-age after.
        last_stale = now();
        assert_eq!(stale.fetch(&origin), 200);
        let report = adoption(&origin);
        if now() < last_stale + MAX_AGE_S {
            assert_eq!(report["readiness"]["ready"], false, "{report}");
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(
        last_stale - rotated_before > MAX_AGE_S,
        "held past publication"
    );
    let report = adoption(&origin);
    assert!(
        count(&report, "current") > count(&report, "older"),
        "{report}"
    );
    assert!(
        row(&report, &new).unwrap()["count"].as_u64().unwrap() > 0
            && row(&report, &new).unwrap()["contains_next"] == true
    );
    let ready_at = report["readiness"]["ready_at"].as_i64().unwrap();
    assert!(ready_at as f64 >= last_stale + MAX_AGE_S, "{report}");

    // The stale edge stops: ready one max-age after its last request, not before.
    let (report, ready_seen) = until_ready(&origin, Duration::from_secs(10), &mut edges);
    assert!(
        ready_seen >= last_stale + MAX_AGE_S,
        "ready too early: {report}"
    );
    assert_eq!(count(&report, "older"), 0, "{report}");
    assert!(
        row(&report, &old).is_none(),
        "the old version left the window"
    );
    // The last hour's series holds every request counted.
    let series = report["series"].as_array().unwrap();
    assert_eq!(series.len(), 60);
    let in_series: u64 = series
        .iter()
        .map(|p| {
            ["current", "older", "none", "unknown"]
                .iter()
                .map(|c| p[c].as_u64().unwrap())
                .sum::<u64>()
        })
        .sum();
    assert!(in_series >= 3 + 6 + 3, "{in_series}");
    let r = rotate(&origin, "", "");
    assert_eq!(r.status, 200, "{}", r.body);

    let _ = origin.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn force_revoke_and_bounded_unknown_tags() {
    let (origin, dir, env) = start("adoption-force");
    // Not ready right after start: forced by the query, by the body, and by the CLI.
    assert_eq!(rotate(&origin, "", "").error_code(), "next_key_not_ready");
    let r = rotate(&origin, "?force=true", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = rotate(&origin, "", r#"{"force":true}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = rotate(&origin, "?force=false", "");
    assert_eq!(r.error_code(), "next_key_not_ready");
    let r = rotate(&origin, "?force=maybe", "");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "invalid_request")
    );
    // `current_changed` wins over the wait.
    let r = rotate(&origin, "", r#"{"expect_current":"someone-else"}"#);
    assert_eq!(r.error_code(), "current_changed");
    let out = run_cli(&["keys", "rotate", "--force"], &env, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An emergency revoke is never held back, whatever the readiness.
    std::thread::sleep(Duration::from_millis(600)); // the CLI's change reaches the server
    let keys = origin.keys();
    let current = keys["current"].as_str().unwrap().to_string();
    let next = keys["next"].as_str().unwrap().to_string();
    assert_eq!(adoption(&origin)["readiness"]["ready"], false);
    let r = origin.post(&format!("/keys/{current}/revoke"), Some(ADMIN_TOKEN), "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["current"], next.as_str());
    // The revoke made a fresh next key: not ready, on /metrics too.
    let m = origin.get("/metrics", None).body;
    assert!(m.contains("jwtedge_next_key_ready 0"), "{m}");

    // A flood of made-up tags is counted as unknown and stored nowhere.
    let n = 1500u64;
    for i in 0..n {
        let h = vec![("If-None-Match".to_string(), format!("\"flood-{i:0>40}\""))];
        let r = http(&origin.addr, "GET", "/.well-known/jwks.json", &h, None);
        assert_eq!(r.status, 200);
    }
    let r = http(&origin.addr, "GET", "/keys/adoption", &admin(), None);
    let report = r.json();
    // The window is 2 s and the flood may take longer: the hour's series holds all of it.
    let in_window = count(&report, "unknown");
    assert!(in_window > 0 && in_window <= n, "{report}");
    let in_series: u64 = report["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["unknown"].as_u64().unwrap())
        .sum();
    assert_eq!(in_series, n, "{report}");
    assert!(
        report["versions"].as_array().unwrap().len() <= 2,
        "{report}"
    );
    assert!(!r.body.contains("flood-"), "an unknown tag was stored");
    assert!(
        r.body.len() < 16_000,
        "the report stays small: {}",
        r.body.len()
    );
    let m = origin.get("/metrics", None).body;
    let gauge = m
        .lines()
        .find_map(|l| l.strip_prefix("jwtedge_keyset_requests_by_version{version=\"unknown\"} "))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{m}"));
    assert!(gauge >= in_window && gauge <= n, "{gauge}");
    assert!(m.contains("jwtedge_next_key_ready "), "{m}");

    let _ = origin.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
