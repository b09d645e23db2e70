//! The sessions of one subject against the real binary, on SQLite and PostgreSQL:
//! `GET /sessions?sub=…` lists them (API key; created / last-refreshed times in integer Unix
//! seconds, revoked or not), `POST /sessions/revoke {"sub": …}` (API key) signs the subject out
//! everywhere: every refresh token of every session dies, other subjects are untouched, the
//! access tokens already issued stay valid until their `exp` (documented: the edge keeps no
//! revocation list), and the subject can sign in again.

mod origin_harness;

use jwtedge::core::Outcome;
use origin_harness::*;
use serde_json::Value;

const ALICE: &str = "alice@example.com";
const ALICE_Q: &str = "alice%40example.com";

fn list(origin: &Origin, sub_query: &str) -> Value {
    let r = origin.get(&format!("/sessions?sub={sub_query}"), Some(API_KEY));
    assert_eq!(r.status, 200, "GET /sessions: {}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.json()
}

fn revoke_sub(origin: &Origin, auth: Option<&str>, sub: &str) -> Resp {
    origin.post(
        "/sessions/revoke",
        auth,
        &serde_json::json!({ "sub": sub }).to_string(),
    )
}

fn by_id<'a>(listing: &'a Value, sid: &str) -> &'a Value {
    listing["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == sid)
        .unwrap_or_else(|| panic!("{sid} not listed: {listing}"))
}

fn subject_sessions(backend: Backend) {
    let dir = temp_dir("subject-sessions");
    let mut env = base_env(&dir, &backend);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    set(&mut env, "JWTEDGE_REFRESH_GRACE", "0s");
    let origin = Origin::start(&env, &dir);
    let t0 = now().floor() as i64;

    let a: Vec<Value> = (0..3).map(|_| origin.new_session(ALICE)).collect();
    let bob = origin.new_session("bob");
    // One of alice's sessions is refreshed once.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = origin.refresh(a[0]["refresh_token"].as_str().unwrap());
    assert_eq!(r.status, 200, "{}", r.body);
    let a0_next = r.json()["refresh_token"].as_str().unwrap().to_string();
    let t1 = now().ceil() as i64;

    // Listing needs the API key.
    let r = origin.get(&format!("/sessions?sub={ALICE_Q}"), None);
    assert_eq!(r.status, 401, "{}", r.body);
    let r = origin.get(&format!("/sessions?sub={ALICE_Q}"), Some(ADMIN_TOKEN));
    assert_eq!(r.status, 401, "only the API key: {}", r.body);

    let listing = list(&origin, ALICE_Q);
    assert_eq!(listing["sub"], ALICE);
    assert_eq!(listing["truncated"], false);
    assert_eq!(
        listing["sessions"].as_array().unwrap().len(),
        3,
        "{listing}"
    );
    for (i, s) in a.iter().enumerate() {
        let row = by_id(&listing, s["session_id"].as_str().unwrap());
        let created = row["created_at"]
            .as_i64()
            .unwrap_or_else(|| panic!("integer seconds: {row}"));
        assert!((t0..=t1).contains(&created), "{row}");
        assert_eq!(row["revoked"], false);
        assert!(row["revoked_at"].is_null());
        if i == 0 {
            let refreshed = row["last_refreshed_at"]
                .as_i64()
                .unwrap_or_else(|| panic!("integer seconds: {row}"));
            assert!(refreshed > created && refreshed <= t1, "{row}");
        } else {
            assert!(row["last_refreshed_at"].is_null(), "never refreshed: {row}");
        }
    }
    assert!(
        !listing.to_string().contains("refresh_token") && !listing.to_string().contains("rt_"),
        "no tokens in a listing: {listing}"
    );
    let bobs = list(&origin, "bob");
    assert_eq!(bobs["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(bobs["sessions"][0]["session_id"], bob["session_id"]);
    assert_eq!(list(&origin, "nobody")["sessions"], serde_json::json!([]));

    // Bad requests.
    let r = origin.get("/sessions", Some(API_KEY));
    assert_eq!(
        (r.status, r.error_code()),
        (400, "invalid_request".into()),
        "{}",
        r.body
    );
    let r = origin.get("/sessions?sub=%20alice", Some(API_KEY));
    assert_eq!(
        (r.status, r.error_code()),
        (400, "invalid_sub".into()),
        "{}",
        r.body
    );
    let r = origin.post(
        "/sessions/revoke",
        Some(API_KEY),
        &serde_json::json!({ "sub": ALICE, "session_id": bob["session_id"] }).to_string(),
    );
    assert_eq!(r.status, 400, "one of the three: {}", r.body);

    // Revoking all needs the API key; without it nothing changes.
    assert_eq!(revoke_sub(&origin, None, ALICE).status, 401);
    assert_eq!(revoke_sub(&origin, Some(ADMIN_TOKEN), ALICE).status, 401);
    assert!(list(&origin, ALICE_Q)["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["revoked"] == false));

    let keyset = origin.keyset_json();
    let r = revoke_sub(&origin, Some(API_KEY), ALICE);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.json()["sessions_revoked"], 3, "{}", r.body);
    assert_eq!(r.json()["sub"], ALICE);

    // Every refresh token of alice dies: the current ones and the rotated one.
    for token in [
        a0_next.as_str(),
        a[0]["refresh_token"].as_str().unwrap(),
        a[1]["refresh_token"].as_str().unwrap(),
        a[2]["refresh_token"].as_str().unwrap(),
    ] {
        let r = origin.refresh(token);
        assert_eq!(
            (r.status, r.error_code()),
            (401, "session_revoked".into()),
            "{}",
            r.body
        );
    }
    let listing = list(&origin, ALICE_Q);
    for row in listing["sessions"].as_array().unwrap() {
        assert_eq!(row["revoked"], true, "{row}");
        let at = row["revoked_at"].as_i64().expect("integer seconds");
        assert!(at >= t1 - 1 && at <= now().ceil() as i64, "{row}");
    }
    // Access tokens already issued run out at their exp (no revocation list at the edge).
    let access = a[1]["access_token"].as_str().unwrap();
    assert!(
        matches!(verify(access, &keyset, now()), Outcome::Ok(_)),
        "an issued access token stays valid until exp"
    );
    // Other subjects are untouched.
    let r = origin.refresh(bob["refresh_token"].as_str().unwrap());
    assert_eq!(r.status, 200, "bob still refreshes: {}", r.body);
    assert_eq!(list(&origin, "bob")["sessions"][0]["revoked"], false);
    // Again: nothing left to revoke. And alice can sign in again.
    assert_eq!(
        revoke_sub(&origin, Some(API_KEY), ALICE).json()["sessions_revoked"],
        0
    );
    let fresh = origin.new_session(ALICE);
    let r = origin.refresh(fresh["refresh_token"].as_str().unwrap());
    assert_eq!(r.status, 200, "{}", r.body);
    let listing = list(&origin, ALICE_Q);
    assert_eq!(listing["sessions"].as_array().unwrap().len(), 4);
    assert_eq!(
        by_id(&listing, fresh["session_id"].as_str().unwrap())["revoked"],
        false
    );

    let (status, logs) = origin.stop();
    assert!(status.success(), "{logs}");
    assert!(
        logs.contains("all sessions of a subject revoked"),
        "logged: {logs}"
    );
    assert!(!logs.contains(ALICE), "the subject is not logged: {logs}");
}

#[test]
fn subject_sessions_sqlite() {
    subject_sessions(Backend::Sqlite);
}

#[test]
fn subject_sessions_postgres() {
    if let Some(pg) = postgres() {
        subject_sessions(pg);
    }
}
