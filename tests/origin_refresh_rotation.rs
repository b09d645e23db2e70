//! Refresh-token rotation, exactly (SPEC §7), against the real binary on SQLite and PostgreSQL:
//! - 20 concurrent refreshes of one token make exactly one successor, and all 20 answers carry
//!   that same refresh token (each with a fresh access token);
//! - a retry within the grace returns the same successor; a retry after the successor was used
//!   is theft (401 `token_theft_detected`, session revoked), and the theft log line names `sid`;
//! - the fork scenario of issue 8: a user and an attacker both replay the old token within the
//!   grace, then keep refreshing past it: it ends in `token_theft_detected`, session revoked;
//! - two replicas on one PostgreSQL database racing the same refresh: one successor per round.
//!
//! "Exactly one successor" is checked in the database itself: a session's refresh tokens are
//! its chain, and exactly one of them is unused (live).

mod origin_harness;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use jwtedge::core::b64url_decode;
use origin_harness::*;
use sha2::{Digest, Sha256};

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn claims(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64url_decode(part.as_bytes()).unwrap()).unwrap()
}

/// A session's refresh tokens as stored: (hash, used) for each, and whether it is revoked.
struct Chain {
    tokens: Vec<(String, bool)>,
    revoked: bool,
}

impl Chain {
    fn live(&self) -> Vec<&str> {
        self.tokens
            .iter()
            .filter(|(_, used)| !used)
            .map(|(h, _)| h.as_str())
            .collect()
    }
}

fn chain(backend: &Backend, dir: &std::path::Path, sid: &str) -> Chain {
    match backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open_with_flags(
                dir.join("jwtedge.sqlite3"),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap();
            let mut stmt = c
                .prepare(
                    "SELECT hash, used_at IS NOT NULL FROM refresh_tokens WHERE session_id = ?1",
                )
                .unwrap();
            let tokens = stmt
                .query_map([sid], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let revoked = c
                .query_row(
                    "SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ?1",
                    [sid],
                    |r| r.get(0),
                )
                .unwrap();
            Chain { tokens, revoked }
        }
        Backend::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
            let tokens = c
                .query(
                    "SELECT hash, used_at IS NOT NULL FROM refresh_tokens WHERE session_id = $1",
                    &[&sid],
                )
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let revoked = c
                .query_one(
                    "SELECT revoked_at IS NOT NULL FROM sessions WHERE id = $1",
                    &[&sid],
                )
                .unwrap()
                .get(0);
            Chain { tokens, revoked }
        }
    }
}

fn start(backend: &Backend, name: &str, grace: &str) -> (Origin, std::path::PathBuf) {
    let dir = temp_dir(name);
    let mut env = base_env(&dir, backend);
    set(&mut env, "JWTEDGE_REFRESH_GRACE", grace);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    (Origin::start(&env, &dir), dir)
}

/// Refreshes `token` from `n` threads at once, spread over `origins`; every answer.
fn race(origins: &[Arc<Origin>], token: &str, n: usize) -> Vec<Resp> {
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let origin = origins[i % origins.len()].clone();
            let (barrier, token) = (barrier.clone(), token.to_string());
            std::thread::spawn(move || {
                barrier.wait();
                origin.refresh(&token)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Asserts that every answer of a race succeeded with one and the same refresh token (not
/// `old`), each with an access token of its own for session `sid`; returns that token.
fn one_successor(answers: &[Resp], old: &str, sid: &str) -> String {
    let mut refresh_tokens = BTreeSet::new();
    let mut access_tokens = BTreeSet::new();
    for r in answers {
        assert_eq!(r.status, 200, "a concurrent refresh failed: {}", r.body);
        let v = r.json();
        assert_eq!(v["session_id"], sid);
        refresh_tokens.insert(v["refresh_token"].as_str().unwrap().to_string());
        let access = v["access_token"].as_str().unwrap().to_string();
        assert_eq!(claims(&access)["sid"], sid);
        access_tokens.insert(access);
    }
    assert_eq!(
        refresh_tokens.len(),
        1,
        "{} concurrent refreshes of one token forked the session into {} live refresh tokens",
        answers.len(),
        refresh_tokens.len()
    );
    assert_eq!(
        access_tokens.len(),
        answers.len(),
        "each answer carries a fresh access token"
    );
    let successor = refresh_tokens.into_iter().next().unwrap();
    assert_ne!(successor, old);
    successor
}

fn theft_line(logs: &str) -> Option<&str> {
    logs.lines().find(|l| l.contains("token theft"))
}

fn concurrent_refreshes(backend: Backend) {
    let (origin, dir) = start(&backend, "rotation-concurrent", "10s");
    let origin = Arc::new(origin);
    let s = origin.new_session("alice");
    let t0 = s["refresh_token"].as_str().unwrap().to_string();
    let sid = s["session_id"].as_str().unwrap().to_string();

    let t1 = one_successor(&race(std::slice::from_ref(&origin), &t0, 20), &t0, &sid);
    let c = chain(&backend, &dir, &sid);
    assert_eq!(
        c.tokens.len(),
        2,
        "one successor stored, no more: {:?}",
        c.tokens
    );
    assert_eq!(c.live(), vec![sha256_hex(&t1).as_str()], "one live token");

    // The successor is a working token; once it is used, the old one is theft.
    let r = origin.refresh(&t1);
    assert_eq!(r.status, 200, "{}", r.body);
    let t2 = r.json()["refresh_token"].as_str().unwrap().to_string();
    let r = origin.refresh(&t0);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.error_code(), "token_theft_detected");
    assert_eq!(origin.refresh(&t2).error_code(), "session_revoked");
    assert!(chain(&backend, &dir, &sid).revoked);
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_refreshes_make_one_successor_sqlite() {
    concurrent_refreshes(Backend::Sqlite);
}

#[test]
fn concurrent_refreshes_make_one_successor_postgres() {
    if let Some(pg) = postgres() {
        concurrent_refreshes(pg);
    }
}

fn retry_within_grace(backend: Backend) {
    let (origin, dir) = start(&backend, "rotation-retry", "10s");
    let s = origin.new_session("bob");
    let t0 = s["refresh_token"].as_str().unwrap().to_string();
    let sid = s["session_id"].as_str().unwrap().to_string();
    let first = origin.refresh(&t0);
    assert_eq!(first.status, 200, "{}", first.body);
    let t1 = first.json()["refresh_token"].as_str().unwrap().to_string();

    // A client that lost the answer retries: the same successor, a fresh access token.
    let again = origin.refresh(&t0);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["refresh_token"], t1.as_str());
    assert_ne!(again.json()["access_token"], first.json()["access_token"]);
    assert_eq!(chain(&backend, &dir, &sid).tokens.len(), 2);

    // Once the successor was used, the old token is theft even within the grace.
    let r = origin.refresh(&t1);
    assert_eq!(r.status, 200, "{}", r.body);
    let t2 = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert!(theft_line(&origin.logs()).is_none());
    let r = origin.refresh(&t0);
    assert_eq!(
        r.status, 401,
        "a retry after the successor was used: {}",
        r.body
    );
    assert_eq!(r.error_code(), "token_theft_detected");
    let r = origin.refresh(&t2);
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "session_revoked");
    assert!(chain(&backend, &dir, &sid).revoked);

    // The theft is logged with the session it revoked (finding 11).
    let logs = poll(Duration::from_secs(5), "the theft log line", || {
        let logs = origin.logs();
        theft_line(&logs).is_some().then_some(logs)
    });
    let line = theft_line(&logs).unwrap();
    assert!(
        line.contains(&format!("sid={sid}")),
        "the theft log line does not name the session: {line}"
    );
    assert_no_secrets(&logs, &[t0, t1, t2]);
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn retry_within_grace_sqlite() {
    retry_within_grace(Backend::Sqlite);
}

#[test]
fn retry_within_grace_postgres() {
    if let Some(pg) = postgres() {
        retry_within_grace(pg);
    }
}

/// Issue 8, finding 6: with `refresh_grace=3s`, a user and an attacker both replay the old
/// token within the grace, then each keeps refreshing what it holds, at its own pace, past the
/// grace. Before the fix each got a branch of its own and theft was never detected.
fn fork(backend: Backend) {
    let grace = Duration::from_secs(3);
    let (origin, dir) = start(&backend, "rotation-fork", "3s");
    let s = origin.new_session("carol");
    let t0 = s["refresh_token"].as_str().unwrap().to_string();
    let sid = s["session_id"].as_str().unwrap().to_string();

    let take = |r: Resp| -> Result<String, String> {
        if r.status == 200 {
            Ok(r.json()["refresh_token"].as_str().unwrap().to_string())
        } else {
            assert_eq!(r.status, 401, "{}", r.body);
            Err(r.error_code())
        }
    };
    // Both replay t0 within the grace (the user twice: a retry).
    let mut user = take(origin.refresh(&t0)).expect("the user's refresh");
    let mut attacker = take(origin.refresh(&t0)).expect("the attacker's replay, within grace");
    let user_retry = take(origin.refresh(&t0)).expect("the user's retry, within grace");
    let replays_agree = (attacker == user, user_retry == user);

    // Then each keeps refreshing: the user every 400 ms, the attacker every second.
    let started = Instant::now();
    let (mut next_user, mut next_attacker) = (started, started + Duration::from_millis(100));
    let mut refused = vec![];
    let mut refreshes = 0;
    while started.elapsed() < grace + Duration::from_secs(3) && refused.is_empty() {
        let now = Instant::now();
        if now >= next_user {
            match take(origin.refresh(&user)) {
                Ok(t) => user = t,
                Err(code) => refused.push(("user", code)),
            }
            refreshes += 1;
            next_user += Duration::from_millis(400);
        }
        if now >= next_attacker && refused.is_empty() {
            match take(origin.refresh(&attacker)) {
                Ok(t) => attacker = t,
                Err(code) => refused.push(("attacker", code)),
            }
            refreshes += 1;
            next_attacker += Duration::from_secs(1);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        refused.first().map(|(_, code)| code.as_str()),
        Some("token_theft_detected"),
        "{refreshes} refreshes over {:?} by two holders of one session, no theft detected",
        started.elapsed()
    );
    assert_eq!(
        replays_agree,
        (true, true),
        "a replay within the grace got a refresh token of its own (a fork)"
    );
    // Whatever either of them holds now is dead.
    for token in [&user, &attacker] {
        let r = origin.refresh(token);
        assert_eq!(r.status, 401, "{}", r.body);
        assert!(
            ["session_revoked", "token_theft_detected"].contains(&r.error_code().as_str()),
            "{}",
            r.body
        );
    }
    let c = chain(&backend, &dir, &sid);
    assert!(c.revoked, "the session is revoked");
    assert!(c.live().len() <= 1, "never two live tokens: {:?}", c.tokens);
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fork_ends_in_theft_detection_sqlite() {
    fork(Backend::Sqlite);
}

#[test]
fn fork_ends_in_theft_detection_postgres() {
    if let Some(pg) = postgres() {
        fork(pg);
    }
}

/// Two replicas on one database, each taking half of 20 simultaneous refreshes of the same
/// token, five rounds down one chain: one successor per round, the same in all 20 answers.
#[test]
fn replicas_racing_one_refresh_make_one_successor() {
    let Some(pg) = postgres() else { return };
    let (a, dir_a) = start(&pg, "rotation-replica-a", "10s");
    let (b, dir_b) = start(&pg, "rotation-replica-b", "10s");
    let replicas = [Arc::new(a), Arc::new(b)];
    let s = replicas[0].new_session("dave");
    let sid = s["session_id"].as_str().unwrap().to_string();
    let mut token = s["refresh_token"].as_str().unwrap().to_string();
    for round in 1..=5 {
        let answers = race(&replicas, &token, 20);
        token = one_successor(&answers, &token, &sid);
        let c = chain(&pg, &dir_a, &sid);
        assert_eq!(c.tokens.len(), round + 1, "round {round}: {:?}", c.tokens);
        assert_eq!(c.live(), vec![sha256_hex(&token).as_str()], "round {round}");
    }
    drop(replicas);
    for d in [dir_a, dir_b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Issue 8, finding 11: the theft-detection log line names the session it revoked.
#[test]
fn theft_log_line_names_the_session() {
    let (origin, dir) = start(&Backend::Sqlite, "rotation-theft-log", "0s");
    let s = origin.new_session("erin");
    let t0 = s["refresh_token"].as_str().unwrap().to_string();
    let sid = s["session_id"].as_str().unwrap().to_string();
    assert_eq!(origin.refresh(&t0).status, 200);
    std::thread::sleep(Duration::from_millis(20));
    let r = origin.refresh(&t0);
    assert_eq!(r.error_code(), "token_theft_detected", "{}", r.body);
    let logs = poll(Duration::from_secs(5), "the theft log line", || {
        let logs = origin.logs();
        theft_line(&logs).is_some().then_some(logs)
    });
    let line = theft_line(&logs).unwrap();
    assert!(
        line.contains(&format!("sid={sid}")),
        "the theft log line does not name the session: {line}"
    );
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}
