//! The operator's CLI against the real binary (issue 11, point 3): every command but `serve`
//! refuses a data directory or database that holds no store, creating nothing, and creates one
//! only with `--init` (SQLite and PostgreSQL); `config print` shows each setting's value and
//! source with secrets redacted; `serve --help` lists every setting and its environment
//! variable; `GET /keys` times are integer Unix seconds.

mod origin_harness;

use origin_harness::*;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every operator command, on a store that must already exist.
fn commands(jwk_file: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["keys", "list"],
        vec!["keys", "list", "--json"],
        vec!["keys", "rotate"],
        vec!["keys", "revoke", "some-kid"],
        vec!["keys", "import", jwk_file],
        vec!["token", "issue", "--sub", "alice"],
    ]
}

#[test]
fn commands_refuse_a_data_directory_without_a_store() {
    let dir = temp_dir("cli-safety-sqlite");
    let jwk = dir.join("key.jwk");
    std::fs::write(&jwk, "{}").unwrap();
    let typo = dir.join("jwtedge-dta");
    let mut env = base_env(&typo, &Backend::Sqlite);
    // Generated secrets too: a refused command must not write them either.
    for k in [
        "JWTEDGE_API_KEY",
        "JWTEDGE_ADMIN_TOKEN",
        "JWTEDGE_MASTER_KEY",
    ] {
        unset(&mut env, k);
    }
    for args in commands(jwk.to_str().unwrap()) {
        let out = run_cli(&args, &env, &dir);
        let err = stderr(&out);
        assert!(
            !out.status.success(),
            "{args:?} succeeded on a missing store"
        );
        assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
        assert!(
            err.contains("no jwtedge store at") && err.contains(typo.to_str().unwrap()),
            "{args:?}: {err}"
        );
        assert!(err.contains("--init") && err.contains("`serve`"), "{err}");
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
    // Run from the wrong working directory: the default ./jwtedge-data is not created either.
    let out = run_cli(&["keys", "rotate"], &[], &dir);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no jwtedge store at"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("jwtedge-data").exists());
    // An existing directory holding no database is refused the same way.
    std::fs::create_dir(&typo).unwrap();
    let out = run_cli(&["keys", "list"], &env, &dir);
    assert!(
        stderr(&out).contains("no jwtedge store at"),
        "{}",
        stderr(&out)
    );
    assert!(!typo.join("jwtedge.sqlite3").exists());
    std::fs::remove_dir(&typo).unwrap();

    // --init creates it; afterwards the commands work without it.
    let out = run_cli(&["keys", "list", "--init"], &env, &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(typo.join("jwtedge.sqlite3").is_file());
    assert!(String::from_utf8_lossy(&out.stdout).contains("current"));
    let out = run_cli(&["token", "issue", "--sub", "alice"], &env, &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).matches('.').count(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn commands_refuse_an_empty_sqlite_file_named_by_database_url() {
    let dir = temp_dir("cli-safety-file");
    let file = dir.join("other.sqlite3");
    let mut env = base_env(&dir.join("data"), &Backend::Sqlite);
    set(
        &mut env,
        "JWTEDGE_DATABASE_URL",
        &format!("sqlite://{}", file.display()),
    );
    let out = run_cli(&["keys", "list"], &env, &dir);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("no jwtedge store at {}", file.display())),
        "{}",
        stderr(&out)
    );
    assert!(!file.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn commands_refuse_a_postgres_database_without_a_store() {
    let Some(backend) = postgres() else { return };
    let dir = temp_dir("cli-safety-pg");
    let env = base_env(&dir, &backend);
    let Backend::Postgres(url) = &backend else {
        unreachable!()
    };
    let jwk = dir.join("key.jwk");
    std::fs::write(&jwk, "{}").unwrap();
    for args in commands(jwk.to_str().unwrap()) {
        let out = run_cli(&args, &env, &dir);
        let err = stderr(&out);
        assert!(
            !out.status.success(),
            "{args:?} succeeded on an empty database"
        );
        assert!(
            err.contains("no jwtedge store at database postgres://"),
            "{err}"
        );
        let db = url.rsplit('/').next().unwrap();
        assert!(err.contains(db), "names the database: {err}");
    }
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "a refused command created tables");
    let out = run_cli(&["keys", "list", "--init"], &env, &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(&["keys", "rotate", "--force"], &env, &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_print_shows_sources_and_redacts_secrets() {
    let dir = temp_dir("config-print");
    let file = dir.join("origin.toml");
    std::fs::write(
        &file,
        "audience = \"from-file\"\nadmin_token = \"SECRET-admin-from-file-0123\"\nleeway = \"7s\"\n",
    )
    .unwrap();
    let data = dir.join("data");
    let env: Vec<(String, String)> = vec![
        ("JWTEDGE_API_KEY".into(), "SECRET-api-from-env-0123".into()),
        ("JWTEDGE_LEEWAY".into(), "9s".into()),
        (
            "JWTEDGE_DATABASE_URL".into(),
            "postgres://jw:SECRET-pw@db.example:5432/jw?sslmode=require".into(),
        ),
    ];
    let out = run_cli(
        &[
            "config",
            "print",
            "--config",
            file.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &env,
        &dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("SECRET"), "{text}");
    let line = |key: &str| -> (String, String) {
        let l = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("{key} missing: {text}"));
        let (value, source) = l.split_once(" = ").unwrap().1.split_once("  # ").unwrap();
        (value.trim().to_string(), source.trim().to_string())
    };
    assert_eq!(
        line("audience"),
        ("from-file".into(), format!("file {}", file.display()))
    );
    assert_eq!(line("leeway"), ("9s".into(), "env JWTEDGE_LEEWAY".into()));
    assert_eq!(
        line("api_key"),
        ("(redacted)".into(), "env JWTEDGE_API_KEY".into())
    );
    assert_eq!(line("admin_token").0, "(redacted)");
    assert_eq!(
        line("data_dir"),
        (data.display().to_string(), "flag --data-dir".into())
    );
    assert_eq!(line("database_url").0, "postgres://jw@db.example:5432/jw");
    assert_eq!(line("algorithm"), ("EdDSA".into(), "default".into()));
    assert!(line("edge_credential").1.starts_with("generated"), "{text}");
    assert!(line("master_key").1.contains("master.key"), "{text}");
    for setting in SETTINGS {
        line(setting);
    }
    assert!(!data.exists(), "config print created the data directory");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The example file, uncommented, resolves to the same effective values as no configuration.
#[test]
fn the_example_file_uncommented_changes_nothing() {
    let dir = temp_dir("example");
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/jwtedge-origin.example.toml"
    ))
    .unwrap();
    let uncommented: String = example
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.split_once(" = ").is_some_and(|(k, _)| {
                SETTINGS.contains(&k)
                    && ![
                        "database_url",
                        "master_key",
                        "api_key",
                        "admin_token",
                        "edge_credential",
                        "issuer",
                    ]
                    .contains(&k)
            })
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        uncommented.lines().count(),
        SETTINGS.len() - 6,
        "{uncommented}"
    );
    let file = dir.join("example.toml");
    std::fs::write(&file, uncommented).unwrap();
    let print = |args: &[&str]| -> Vec<String> {
        let out = run_cli(args, &[], &dir);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split_once("  # ").unwrap().0.trim().to_string())
            .collect()
    };
    assert_eq!(
        print(&["config", "print", "--config", file.to_str().unwrap()]),
        print(&["config", "print"])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const SETTINGS: [&str; 21] = [
    "listen",
    "data_dir",
    "database_url",
    "database_pool_size",
    "master_key",
    "api_key",
    "admin_token",
    "edge_credential",
    "algorithm",
    "issuer",
    "audience",
    "access_token_ttl",
    "refresh_token_ttl",
    "refresh_grace",
    "rotation_interval",
    "keyset_max_age",
    "leeway",
    "header_timeout",
    "idle_timeout",
    "max_connections",
    "shutdown_timeout",
];

#[test]
fn serve_help_lists_every_setting_and_its_variable() {
    let out = run_cli(&["serve", "--help"], &[], &std::env::temp_dir());
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert_eq!(SETTINGS, jwtedge::origin::config::SETTINGS);
    for setting in SETTINGS {
        let env = format!("JWTEDGE_{}", setting.to_ascii_uppercase());
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{setting} / {env}")))
            .unwrap_or_else(|| panic!("{setting} not in serve --help: {help}"));
        assert!(line.contains("[default: "), "{line}");
    }
    // Positional arguments and flags carry a description in their command's help.
    for (args, needle) in [
        (vec!["keys", "revoke", "--help"], "<KID>"),
        (vec!["keys", "import", "--help"], "<FILE>"),
        (vec!["token", "issue", "--help"], "--sub <SUB>"),
    ] {
        let out = run_cli(&args, &[], &std::env::temp_dir());
        let help = String::from_utf8(out.stdout).unwrap();
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(needle))
            .unwrap_or_else(|| panic!("{needle}: {help}"));
        assert!(
            line.trim_start().len() > needle.len() + 2,
            "{needle} has no description: {line:?}"
        );
    }
}

#[test]
fn key_listing_times_are_integer_seconds() {
    let dir = temp_dir("keys-integers");
    let origin = Origin::start(&base_env(&dir, &Backend::Sqlite), &dir);
    let listing = origin.keys();
    let int = |v: &serde_json::Value, what: &str| {
        assert!(v.is_u64(), "{what} is not an integer: {v}");
        let t = v.as_u64().unwrap() as f64;
        assert!(
            (t - now()).abs() < 3.0 * 86_400.0 * 7.0,
            "{what} = {t} is not Unix seconds"
        );
    };
    int(&listing["next_rotation_at"], "next_rotation_at");
    assert!(listing["rotation_interval_seconds"].is_u64(), "{listing}");
    let keys = listing["keys"].as_array().unwrap();
    assert!(keys.len() >= 2);
    for key in keys {
        int(&key["created_at"], "created_at");
        if !key["activated_at"].is_null() {
            int(&key["activated_at"], "activated_at");
        }
        if !key["retires_at"].is_null() {
            int(&key["retires_at"], "retires_at");
        }
    }
    let out = run_cli(
        &["keys", "list", "--json"],
        &base_env(&dir, &Backend::Sqlite),
        &dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(cli["keys"][0]["created_at"].is_u64(), "{cli}");
    origin.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
