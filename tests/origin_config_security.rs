//! Startup refusals that keep secrets safe (issue 8, findings 8, 9 and 11), against the real
//! binary: a TOML syntax error names line, column and setting but never echoes the line (a
//! secret may be on it), in the config file and in credentials.toml; a data directory, secret
//! file or SQLite database that another user owns or could write (or, for secrets, read) stops
//! startup with the path and the fix, so a planted credentials.toml never takes effect; and
//! equal credentials are refused by setting name, never by value. The tests run as root, so
//! "another user" is uid 65534 via chown.

mod origin_harness;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use origin_harness::*;

/// Runs `serve`, which must exit with an error (within 20 s); returns stdout + stderr.
fn refused(env: &[(String, String)], args: &[&str], cwd: &Path) -> String {
    let mut child = Command::new(bin())
        .arg("serve")
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jwtedge-origin");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let running = child.try_wait().unwrap().is_none();
    if running {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!running && !out.status.success(), "started anyway:\n{text}");
    assert!(
        !text.contains("listening on"),
        "listened before refusing:\n{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    text
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), None).unwrap();
}

fn env_without_credentials(data: &Path) -> Vec<(String, String)> {
    let mut env = base_env(data, &Backend::Sqlite);
    for key in [
        "JWTEDGE_API_KEY",
        "JWTEDGE_ADMIN_TOKEN",
        "JWTEDGE_EDGE_CREDENTIAL",
    ] {
        unset(&mut env, key);
    }
    env
}

#[test]
fn toml_syntax_errors_name_the_line_never_its_text() {
    let dir = temp_dir("toml-secret");
    let file = dir.join("origin.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\n# the admin token\nadmin_token = \"TOPSECRET-3f9a0c7e1b2d\nissuer = \"https://x\"\n",
    )
    .unwrap();
    let f = file.display().to_string();
    let text = refused(&[], &["--config", &f], &dir);
    assert!(
        !text.contains("TOPSECRET"),
        "the secret was echoed:\n{text}"
    );
    assert!(text.contains("line 3"), "{text}");
    assert!(text.contains("column"), "{text}");
    assert!(text.contains("`admin_token`"), "{text}");
    assert!(text.contains("origin.toml"), "{text}");

    // A line that is nothing but a pasted secret: the line is named, the text is not, and the
    // "key" is not guessed from it.
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nTOPSECRET-77aa01 x\n").unwrap();
    let text = refused(&[], &["--config", &f], &dir);
    assert!(!text.contains("TOPSECRET"), "{text}");
    assert!(text.contains("line 2"), "{text}");

    // The same for a broken credentials.toml in the data directory.
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    chmod(&data, 0o700);
    let creds = data.join("credentials.toml");
    std::fs::write(
        &creds,
        "api_key = \"api-key-0123456789abcdef\"\nadmin_token = \"TOPSECRET-c0ffee-0123456789\n",
    )
    .unwrap();
    chmod(&creds, 0o600);
    let text = refused(&env_without_credentials(&data), &[], &dir);
    assert!(!text.contains("TOPSECRET"), "{text}");
    assert!(
        text.contains("credentials.toml") && text.contains("line 2"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn loose_or_foreign_files_stop_startup_with_the_path_and_the_fix() {
    let dir = temp_dir("perms");
    let data = dir.join("data");
    let data_s = data.display().to_string();

    // A world-writable data directory (another user could swap any file in it).
    std::fs::create_dir(&data).unwrap();
    chmod(&data, 0o777);
    let text = refused(&base_env(&data, &Backend::Sqlite), &[], &dir);
    assert!(
        text.contains(&data_s) && text.contains("chmod 700"),
        "{text}"
    );
    chmod(&data, 0o770);
    let text = refused(&base_env(&data, &Backend::Sqlite), &[], &dir);
    assert!(text.contains("chmod 700"), "{text}");

    // A data directory that belongs to another user.
    chmod(&data, 0o700);
    chown(&data, 65534);
    let text = refused(&base_env(&data, &Backend::Sqlite), &[], &dir);
    assert!(
        text.contains(&data_s) && text.contains("uid 65534") && text.contains("chown"),
        "{text}"
    );
    chown(&data, 0);

    // A credentials.toml planted by another local user, world-readable: refused, and its
    // admin token never opens /keys (nothing listens).
    let planted = "planted-admin-token-0123456789";
    let creds = data.join("credentials.toml");
    std::fs::write(
        &creds,
        format!(
            "api_key = \"planted-api-key-0123456789\"\nadmin_token = \"{planted}\"\nedge_credential = \"planted-edge-0123456789\"\n"
        ),
    )
    .unwrap();
    chmod(&creds, 0o644);
    let env = env_without_credentials(&data);
    let text = refused(&env, &[], &dir);
    assert!(
        text.contains(&creds.display().to_string()) && text.contains("chmod 600"),
        "{text}"
    );
    assert!(!text.contains(planted), "{text}");
    // The same file, private but owned by the other user.
    chmod(&creds, 0o600);
    chown(&creds, 65534);
    let text = refused(&env, &[], &dir);
    assert!(text.contains("uid 65534"), "{text}");
    // Once it is the user's own, private file, the origin starts and uses it.
    chown(&creds, 0);
    let origin = Origin::start(&env, &dir);
    assert_eq!(origin.get("/keys", Some(planted)).status, 200);
    drop(origin);

    // A group-readable master key file (a data directory of its own: the first one's
    // database is sealed under the configured master key).
    let data = dir.join("data2");
    let mut env = env_without_credentials(&data);
    unset(&mut env, "JWTEDGE_MASTER_KEY");
    let origin = Origin::start(&env, &dir); // generates master.key next to a fresh database
    drop(origin);
    let master = data.join("master.key");
    chmod(&master, 0o640);
    let text = refused(&env, &[], &dir);
    assert!(
        text.contains(&master.display().to_string()) && text.contains("chmod 600"),
        "{text}"
    );
    chmod(&master, 0o600);

    // A group-writable SQLite database (refresh-token hashes, sealed keys).
    let db = data.join("jwtedge.sqlite3");
    assert!(db.exists());
    chmod(&db, 0o664);
    let text = refused(&env, &[], &dir);
    assert!(
        text.contains(&db.display().to_string()) && text.contains("chmod 600"),
        "{text}"
    );
    chmod(&db, 0o600);
    let origin = Origin::start(&env, &dir);
    assert_eq!(origin.get("/healthz", None).status, 200);
    let (status, _) = origin.stop();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn equal_credentials_are_refused_by_name_not_value() {
    let dir = temp_dir("equal-creds");
    let data = dir.join("data");
    let shared = "same-credential-twice-0123456789";
    let pairs = [
        (
            "JWTEDGE_API_KEY",
            "JWTEDGE_ADMIN_TOKEN",
            "`api_key`",
            "`admin_token`",
        ),
        (
            "JWTEDGE_API_KEY",
            "JWTEDGE_EDGE_CREDENTIAL",
            "`api_key`",
            "`edge_credential`",
        ),
        (
            "JWTEDGE_ADMIN_TOKEN",
            "JWTEDGE_EDGE_CREDENTIAL",
            "`admin_token`",
            "`edge_credential`",
        ),
    ];
    for (a, b, name_a, name_b) in pairs {
        let mut env = base_env(&data, &Backend::Sqlite);
        set(&mut env, a, shared);
        set(&mut env, b, shared);
        let text = refused(&env, &[], &dir);
        assert!(text.contains(name_a) && text.contains(name_b), "{text}");
        assert!(!text.contains(shared), "the value was echoed:\n{text}");
    }
    // One from the environment, one from credentials.toml.
    std::fs::create_dir_all(&data).unwrap();
    let creds = data.join("credentials.toml");
    std::fs::write(
        &creds,
        format!("api_key = \"api-key-0123456789abcdef\"\nadmin_token = \"admin-0123456789abcdef\"\nedge_credential = \"{shared}\"\n"),
    )
    .unwrap();
    chmod(&creds, 0o600);
    let mut env = env_without_credentials(&data);
    set(&mut env, "JWTEDGE_ADMIN_TOKEN", shared);
    let text = refused(&env, &[], &dir);
    assert!(
        text.contains("`admin_token`") && text.contains("`edge_credential`"),
        "{text}"
    );
    assert!(!text.contains(shared), "{text}");
    // Distinct values start.
    let origin = Origin::start(&env_without_credentials(&data), &dir);
    assert_eq!(origin.get("/healthz", None).status, 200);
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}
