//! Subjects (SPEC §7 "Subjects"), against the real binary: `sub` is 1–256 characters, without
//! control characters and without leading or trailing whitespace — a value that an HTTP header
//! would alter is refused with 400 `invalid_sub`, on `POST /sessions` and on
//! `token issue --sub`, so two users can never reach an upstream as the same identity
//! (issue 8, finding 3: `" alice"` and `"alice "` both arrived as `alice`). The store plays no
//! part (the check runs before it), so SQLite only.

mod origin_harness;

use jwtedge::core::b64url_decode;
use origin_harness::*;

fn claims(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64url_decode(part.as_bytes()).unwrap()).unwrap()
}

fn refused() -> Vec<String> {
    let mut subs: Vec<String> = [
        "",
        " alice",
        "alice ",
        "  ",
        "\talice",
        "alice\t",
        "alice\n",
        "\r\nalice",
        "al\u{0}ice",
        "al\u{7}ice",
        "al\u{7f}ice",
        "al\u{85}ice",
        "al\nice",
        "\u{a0}alice",
        "alice\u{3000}",
        "alice\u{2028}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    subs.push("a".repeat(257));
    subs.push("é".repeat(257));
    subs
}

fn accepted() -> Vec<String> {
    vec![
        "a".into(),
        "alice".into(),
        "alice smith".into(),
        "用户-7".into(),
        "a".repeat(256),
        "é".repeat(256),
    ]
}

#[test]
fn sessions_refuse_subjects_a_header_would_alter() {
    let dir = temp_dir("subjects");
    let mut env = base_env(&dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    let origin = Origin::start(&env, &dir);
    for sub in refused() {
        let body = serde_json::json!({ "sub": sub }).to_string();
        let r = origin.post("/sessions", Some(API_KEY), &body);
        assert_eq!(r.status, 400, "sub {sub:?} was accepted: {}", r.body);
        assert_eq!(r.error_code(), "invalid_sub", "{sub:?}: {}", r.body);
        let message = r.json()["message"].as_str().unwrap().to_string();
        assert!(message.contains("`sub`"), "{sub:?}: {message}");
    }
    for sub in accepted() {
        let body = serde_json::json!({ "sub": sub }).to_string();
        let r = origin.post("/sessions", Some(API_KEY), &body);
        assert_eq!(r.status, 201, "sub {sub:?} was refused: {}", r.body);
        let access = r.json()["access_token"].as_str().unwrap().to_string();
        assert_eq!(claims(&access)["sub"], sub.as_str(), "the sub as given");
    }
    let (status, _) = origin.stop();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn token_issue_refuses_subjects_a_header_would_alter() {
    let dir = temp_dir("subjects-cli");
    let env = base_env(&dir, &Backend::Sqlite);
    for sub in [" alice", "alice ", "al\u{7f}ice", "", "\u{a0}alice"] {
        let out = run_cli(&["token", "issue", "--sub", sub, "--init"], &env, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "token issue --sub {sub:?} succeeded");
        assert!(out.stdout.is_empty(), "{sub:?}: a token was printed");
        assert!(stderr.contains("invalid_sub"), "{sub:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = run_cli(&["token", "issue", "--sub", "alice smith"], &env, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(claims(&token)["sub"], "alice smith");
    let _ = std::fs::remove_dir_all(&dir);
}
