//! The command line and configuration, against the real binary: the embedded default layout
//! (data directory with a generated master key and credentials, mode 0600, named in the log,
//! never printed), configuration precedence (TOML file < environment), startup errors that
//! name the setting, and `keys list|rotate|revoke|import` and `token issue` run beside a
//! serving process on the same data directory, which picks the changes up within a second.

mod origin_harness;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use jwtedge::core::{b64url_decode, Outcome, VerifyOptions};
use origin_harness::*;

fn env_of(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn claims(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64url_decode(part.as_bytes()).unwrap()).unwrap()
}

#[test]
fn embedded_default_generates_secrets_and_explains_itself() {
    let cwd = temp_dir("embedded");
    // Nothing configured but a free port (the real default, 8080, may be taken on a CI box).
    let env = env_of(&[("JWTEDGE_LISTEN", "127.0.0.1:0")]);
    let origin = Origin::start(&env, &cwd);
    let data = cwd.join("jwtedge-data");
    for file in ["master.key", "credentials.toml", "jwtedge.sqlite3"] {
        let meta = std::fs::metadata(data.join(file)).unwrap_or_else(|_| panic!("{file}"));
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
    }
    let creds: toml::Table =
        toml::from_str(&std::fs::read_to_string(data.join("credentials.toml")).unwrap()).unwrap();
    let api_key = creds["api_key"].as_str().unwrap().to_string();
    let mut secrets: Vec<String> = ["api_key", "admin_token", "edge_credential"]
        .iter()
        .map(|k| creds[*k].as_str().unwrap().to_string())
        .collect();
    secrets.push(
        std::fs::read_to_string(data.join("master.key"))
            .unwrap()
            .trim()
            .to_string(),
    );
    let logs = origin.logs();
    assert!(
        logs.contains("master.key") && logs.contains("credentials.toml"),
        "{logs}"
    );
    assert!(logs.contains("listening on http://127.0.0.1:"));
    assert!(
        logs.contains("first token:") && logs.contains("token issue --sub"),
        "{logs}"
    );

    // The printed recipe works: the API key from credentials.toml creates a session.
    let r = origin.post("/sessions", Some(&api_key), r#"{"sub":"alice"}"#);
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        claims(&token)["iss"],
        origin.base.as_str(),
        "default issuer"
    );
    assert_eq!(claims(&token)["aud"], "api");
    assert_eq!(token_kid(&token).len(), 16);
    let keyset = origin.get("/.well-known/jwks.json", None).body;
    assert!(matches!(
        jwtedge::verify(
            &token,
            &parse_keyset(&keyset),
            &VerifyOptions::default(),
            now()
        ),
        Outcome::Ok(_)
    ));

    // `token issue` on the same data directory while it serves.
    let out = run_cli(&["token", "issue", "--sub", "bob"], &env, &cwd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli_token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(claims(&cli_token)["sub"], "bob");
    assert!(matches!(
        jwtedge::verify(
            &cli_token,
            &parse_keyset(&keyset),
            &VerifyOptions::default(),
            now()
        ),
        Outcome::Ok(_)
    ));
    secrets.push(token);
    secrets.push(cli_token);
    let (status, logs) = origin.stop();
    assert!(status.success());
    assert_no_secrets(&logs, &secrets);
    let _ = std::fs::remove_dir_all(&cwd);
}

fn expect_startup_error(env: &[(String, String)], args: &[&str], needles: &[&str]) {
    let cwd = temp_dir("bad-config");
    let started = Instant::now();
    let out = run_cli(args, env, &cwd);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!out.status.success(), "started with {env:?} {args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&cwd);
}

#[test]
fn bad_configuration_stops_startup_naming_the_setting() {
    let cases: [(&str, &str, &str); 6] = [
        ("JWTEDGE_ROTATION_INTERVAL", "weekly", "rotation_interval"),
        ("JWTEDGE_ALGORITHM", "RS384", "algorithm"),
        ("JWTEDGE_ACCESS_TOKEN_TTL", "0s", "access_token_ttl"),
        ("JWTEDGE_LISTEN", "localhost", "listen"),
        ("JWTEDGE_MASTER_KEY", "dG9vIHNob3J0", "master_key"),
        ("JWTEDGE_DATABASE_URL", "mysql://db/x", "database_url"),
    ];
    for (var, value, setting) in cases {
        let out = run_cli(&["serve"], &env_of(&[(var, value)]), &std::env::temp_dir());
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("`{setting}`")) && stderr.contains(var),
            "{var}: {stderr}"
        );
    }
    // A TOML file with a typo or a bad value.
    let dir = temp_dir("bad-toml");
    let file = dir.join("origin.toml");
    std::fs::write(&file, "rotation_intervall = \"1h\"\n").unwrap();
    let f = file.display().to_string();
    expect_startup_error(
        &[],
        &["serve", "--config", &f],
        &["rotation_intervall", "unknown setting"],
    );
    std::fs::write(&file, "keyset_max_age = \"soon\"\n").unwrap();
    expect_startup_error(
        &[],
        &["serve", "--config", &f],
        &["keyset_max_age", "origin.toml"],
    );
    std::fs::write(&file, "listen = [1]\n").unwrap();
    expect_startup_error(
        &[],
        &["serve", "--config", &f],
        &["listen", "expected a string"],
    );
    expect_startup_error(
        &[],
        &["serve", "--config", "/nonexistent/x.toml"],
        &["cannot read"],
    );
    // A port already in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let data = dir.join("data");
    expect_startup_error(
        &env_of(&[("JWTEDGE_DATA_DIR", data.to_str().unwrap())]),
        &["serve", "--listen", &addr],
        &["`listen`", &addr],
    );
    // A database sealed under another master key.
    let mut env = base_env(&data, &Backend::Sqlite);
    let out = run_cli(&["keys", "list", "--init"], &env, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    set(
        &mut env,
        "JWTEDGE_MASTER_KEY",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    );
    expect_startup_error(&env, &["serve"], &["`master_key`", "different master key"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn environment_beats_the_config_file() {
    let dir = temp_dir("precedence");
    let file = dir.join("origin.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nalgorithm = \"HS256\"\naudience = \"from-file\"\nissuer = \"https://file.example\"\naccess_token_ttl = \"7m\"\napi_key = \"{API_KEY}\"\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let env = env_of(&[
        ("JWTEDGE_AUDIENCE", "from-env"),
        ("JWTEDGE_ROTATION_INTERVAL", "off"),
    ]);
    let cwd = dir.clone();
    let mut child_env = env.clone();
    child_env.push(("JWTEDGE_EDGE_CREDENTIAL".into(), EDGE_CREDENTIAL.into()));
    // `Origin::start` runs `serve` with exactly this env; pass the file through the CLI.
    let out = run_cli(
        &[
            "--config",
            file.to_str().unwrap(),
            "token",
            "issue",
            "--sub",
            "x",
            "--init",
        ],
        &child_env,
        &cwd,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let c = claims(&token);
    assert_eq!(c["aud"], "from-env", "the environment beats the file");
    assert_eq!(
        c["iss"], "https://file.example",
        "the file beats the default"
    );
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 420);
    let header: serde_json::Value = serde_json::from_slice(
        &b64url_decode(token.split('.').next().unwrap().as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn key_commands_reach_a_running_server() {
    let dir = temp_dir("cli-keys");
    let mut env = base_env(&dir.join("data"), &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    let origin = Origin::start(&env, &dir);
    let cli = |args: &[&str]| {
        let out = run_cli(args, &env, &dir);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let signer = || token_kid(origin.new_session("cli")["access_token"].as_str().unwrap());

    let listed: serde_json::Value =
        serde_json::from_str(&cli(&["keys", "list", "--json"])).unwrap();
    let (current, next) = (
        listed["current"].as_str().unwrap().to_string(),
        listed["next"].as_str().unwrap().to_string(),
    );
    assert_eq!(signer(), current);

    // Rotate from the CLI: within a second the server signs with the old next.
    let out = cli(&["keys", "rotate", "--force"]);
    assert!(out.contains(&format!("current {next}")), "{out}");
    poll(
        Duration::from_secs(1),
        "server signs with the rotated key",
        || (signer() == next).then_some(()),
    );
    let keyset = origin.keyset_json();
    assert!(
        kids(&keyset).contains(&current),
        "previous key still published"
    );

    // Revoke from the CLI: within a second the key is gone from the server's keyset.
    let out = cli(&["keys", "revoke", &current]);
    assert!(out.contains("revoked"), "{out}");
    poll(
        Duration::from_secs(1),
        "revoked key leaves the keyset",
        || (!kids(&origin.keyset_json()).contains(&current)).then_some(()),
    );

    // Import (RFC 8037 A.1 key) from the CLI: the server signs with it.
    let jwk = dir.join("mine.jwk");
    std::fs::write(
        &jwk,
        r#"{"kty":"OKP","crv":"Ed25519","kid":"imported-rfc8037","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    )
    .unwrap();
    let out = cli(&["keys", "import", jwk.to_str().unwrap()]);
    assert!(out.contains("imported imported-rfc8037"), "{out}");
    poll(
        Duration::from_secs(1),
        "server signs with the imported key",
        || (signer() == "imported-rfc8037").then_some(()),
    );
    let token = origin.new_session("imp")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let keyset = origin.keyset_json();
    assert!(keyset.contains("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"));
    assert!(!keyset.contains("nWGxne"), "never the private part");
    assert!(matches!(verify(&token, &keyset, now()), Outcome::Ok(_)));
    let table = cli(&["keys", "list"]);
    assert!(
        table.contains("imported-rfc8037") && table.contains("current"),
        "{table}"
    );
    assert!(
        table.contains("revoked") && table.contains("previous"),
        "{table}"
    );

    // Failures are messages, not panics.
    for args in [
        vec!["keys", "revoke", "no-such-kid"],
        vec!["keys", "import", "/nonexistent.jwk"],
        vec!["keys", "import", jwk.to_str().unwrap()], // the kid exists now
    ] {
        let out = run_cli(&args, &env, &dir);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("jwtedge-origin: "), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
    let (status, _) = origin.stop();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The stderr log once it holds the "listening" record, which comes after every startup warning.
fn startup_log(origin: &Origin) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let logs = origin.logs();
        if logs.contains("jwtedge-origin listening") || Instant::now() > deadline {
            return logs;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn warns_when_rotation_is_not_longer_than_the_keyset_max_age() {
    let warning = "rotation_interval is not longer than keyset_max_age";
    let cwd = temp_dir("rotation-warning");
    let mut env = base_env(&cwd.join("short"), &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "60s");
    set(&mut env, "JWTEDGE_KEYSET_MAX_AGE", "300s");
    let short = Origin::start(&env, &cwd);
    let logs = startup_log(&short);
    assert!(logs.contains(warning), "{logs}");
    short.stop();

    let mut env = base_env(&cwd.join("long"), &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "1h");
    set(&mut env, "JWTEDGE_KEYSET_MAX_AGE", "300s");
    let long = Origin::start(&env, &cwd);
    let logs = startup_log(&long);
    assert!(logs.contains("jwtedge-origin listening"), "{logs}");
    assert!(!logs.contains(warning), "{logs}");
    long.stop();
}
