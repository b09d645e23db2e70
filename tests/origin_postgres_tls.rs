//! PostgreSQL over TLS against the real binary and the test script's real server
//! (scripts/pg.sh: `ssl = on`, a throwaway CA and a certificate for `localhost` only, and the
//! role JWTEDGE_TEST_PG_TLS_USER that the server admits over TLS only): libpq's `sslmode` and
//! `sslrootcert`, and startup errors that name their cause (once).

mod origin_harness;

use std::path::{Path, PathBuf};
use std::process::Command;

use origin_harness::*;

/// The server's CA and the TLS-only role, or `None` when the PostgreSQL variants are skipped.
fn tls_server() -> Option<(String, PathBuf, String)> {
    let Backend::Postgres(url) = postgres()? else {
        unreachable!()
    };
    let ca = std::env::var("JWTEDGE_TEST_PG_CA").unwrap_or_else(|_| {
        panic!(
            "JWTEDGE_TEST_PG_CA is not set: start PostgreSQL with scripts/pg.sh (it makes the CA)"
        )
    });
    let user = std::env::var("JWTEDGE_TEST_PG_TLS_USER")
        .expect("JWTEDGE_TEST_PG_TLS_USER (set by scripts/pg.sh)");
    Some((url, PathBuf::from(ca), user))
}

/// `url` (postgres://postgres@127.0.0.1:PORT/DB) with another user, host and query.
fn variant(url: &str, user: &str, host: &str, query: &str) -> String {
    let rest = url.split_once('@').expect("user@host").1; // 127.0.0.1:PORT/DB
    let (_, port_db) = rest.split_once(':').expect("host:port");
    format!("postgres://{user}@{host}:{port_db}?{query}")
}

/// A CA that signed nothing the server shows.
fn other_ca(dir: &Path) -> PathBuf {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args([
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "other-ca.key",
            "-out",
            "other-ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=some other CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ])
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("other-ca.crt")
}

fn env_for(dir: &Path, url: &str) -> Vec<(String, String)> {
    let mut env = base_env(dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_DATABASE_URL", url);
    env
}

/// Starts an origin on `url`, which must work: a session is created and refreshed.
fn works(dir: &Path, url: &str) -> Origin {
    let origin = Origin::try_start(&env_for(dir, url), dir)
        .unwrap_or_else(|e| panic!("origin on {url} did not start: {e}"));
    let s = origin.new_session("alice");
    let r = origin.refresh(s["refresh_token"].as_str().unwrap());
    assert_eq!(r.status, 200, "refresh: {}", r.body);
    origin
}

/// Starts an origin on `url`, which must fail at startup; returns what it printed.
fn fails(dir: &Path, url: &str) -> String {
    match Origin::try_start(&env_for(dir, url), dir) {
        Ok(o) => panic!("origin on {url} started:\n{}", o.logs()),
        Err(e) => e,
    }
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn verify_full_with_the_right_ca_works_over_tls() {
    let Some((url, ca, user)) = tls_server() else {
        return;
    };
    let dir = temp_dir("pg-tls-full");
    let good = variant(
        &url,
        &user,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    );
    let origin = works(&dir, &good);
    // The role gets in over TLS only; and the server sees the origin's connections encrypted.
    let db = url.rsplit('/').next().unwrap();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let row = admin
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a \
             JOIN pg_stat_ssl s USING (pid) WHERE a.usename = $1 AND a.datname = $2",
            &[&user, &db],
        )
        .unwrap();
    let (encrypted, all): (i64, i64) = (row.get(0), row.get(1));
    assert!(all >= 1, "the origin holds pooled connections");
    assert_eq!(encrypted, all, "every connection of the origin is TLS");
    drop(origin);
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_naming_the_cause() {
    let Some((url, _ca, user)) = tls_server() else {
        return;
    };
    let dir = temp_dir("pg-tls-wrong-ca");
    let wrong = other_ca(&dir);
    for query in [
        format!("sslmode=verify-full&sslrootcert={}", wrong.display()),
        format!("sslmode=verify-ca&sslrootcert={}", wrong.display()),
        // libpq: `require` with a root certificate verifies the chain.
        format!("sslmode=require&sslrootcert={}", wrong.display()),
        // No sslrootcert: the system's roots, which do not hold the throwaway CA.
        "sslmode=verify-full".to_string(),
    ] {
        let out = fails(&dir, &variant(&url, &user, "localhost", &query));
        assert!(out.contains("database_url"), "{query}: {out}");
        assert!(out.contains("TLS"), "{query}: {out}");
        // (A machine with an empty system store says so instead.)
        let cause = if query == "sslmode=verify-full" && !out.contains("UnknownIssuer") {
            "no CA certificates in the system store"
        } else {
            "UnknownIssuer"
        };
        assert_eq!(count(&out, cause), 1, "{query}: the cause, once: {out}");
    }
}

#[test]
fn verify_full_refuses_a_certificate_for_another_host_name() {
    let Some((url, ca, user)) = tls_server() else {
        return;
    };
    let dir = temp_dir("pg-tls-name");
    // The certificate names `localhost` only; 127.0.0.1 is the same server under another name.
    let out = fails(
        &dir,
        &variant(
            &url,
            &user,
            "127.0.0.1",
            &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
        ),
    );
    assert!(out.contains("TLS"), "{out}");
    assert_eq!(
        count(&out, "not valid for name \"127.0.0.1\""),
        1,
        "names the cause once: {out}"
    );
    // verify-ca checks the chain, not the name (libpq).
    let origin = works(
        &dir,
        &variant(
            &url,
            &user,
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={}", ca.display()),
        ),
    );
    drop(origin);
}

#[test]
fn sslmode_disable_against_a_server_that_requires_tls_fails_clearly() {
    let Some((url, _ca, user)) = tls_server() else {
        return;
    };
    let dir = temp_dir("pg-tls-disable");
    let out = fails(&dir, &variant(&url, &user, "127.0.0.1", "sslmode=disable"));
    assert!(out.contains("database_url"), "{out}");
    assert_eq!(count(&out, "no encryption"), 1, "{out}");
    assert!(out.contains("requires TLS"), "{out}");
    // libpq: `require` and `prefer` without sslrootcert encrypt without verifying, so they
    // reach this server (whose CA the system does not know).
    for query in ["sslmode=require", "sslmode=prefer"] {
        drop(works(&dir, &variant(&url, &user, "127.0.0.1", query)));
    }
}

#[test]
fn an_unreachable_database_is_a_startup_error_naming_the_cause_once() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = temp_dir("pg-unreachable");
    let out = fails(
        &dir,
        &format!("postgres://postgres:hunter2-not-logged@127.0.0.1:{port}/jwtedge"),
    );
    assert!(out.contains("database_url"), "{out}");
    assert!(out.contains("error connecting to server"), "{out}");
    assert_eq!(
        count(&out, "Connection refused"),
        1,
        "the cause, once: {out}"
    );
    assert!(
        !out.contains("hunter2"),
        "no password in the message: {out}"
    );
}

/// A TCP relay in front of PostgreSQL that can be cut (every relayed connection shut, new ones
/// closed on accept) and restored: a database outage without stopping the shared server.
struct Relay {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn start(target: String) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up2, open2) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                {
                    let mut open = open2.lock().unwrap();
                    open.push(client.try_clone().unwrap());
                    open.push(server.try_clone().unwrap());
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                        let _ = from.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_database_outage_is_logged_once_when_it_starts_and_once_when_it_ends() {
    let Some(Backend::Postgres(url)) = postgres() else {
        return;
    };
    let rest = url.split_once('@').unwrap().1; // 127.0.0.1:PORT/DB
    let (host_port, db) = rest.split_once('/').unwrap();
    let relay = Relay::start(host_port.to_string());
    let dir = temp_dir("pg-outage");
    let origin = Origin::start(
        &env_for(
            &dir,
            &format!(
                "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
                relay.port
            ),
        ),
        &dir,
    );
    origin.new_session("alice");

    relay.cut();
    for _ in 0..5 {
        let r = origin.post("/sessions", Some(API_KEY), r#"{"sub":"alice"}"#);
        assert_eq!(
            (r.status, r.error_code()),
            (503, "store_unavailable".into()),
            "{}",
            r.body
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(1500)); // the scheduler ticks on too
    let logs = origin.logs();
    assert_eq!(
        count(&logs, "PostgreSQL is unreachable"),
        1,
        "once when it starts: {logs}"
    );
    assert_eq!(count(&logs, "database error"), 0, "not per request: {logs}");
    assert_eq!(count(&logs, "reachable again"), 0, "{logs}");

    relay.restore();
    poll(
        std::time::Duration::from_secs(20),
        "sessions again after the outage",
        || {
            let r = origin.post("/sessions", Some(API_KEY), r#"{"sub":"alice"}"#);
            (r.status == 201).then_some(())
        },
    );
    let logs = origin.logs();
    assert_eq!(
        count(&logs, "PostgreSQL is reachable again"),
        1,
        "once when it ends: {logs}"
    );
    assert_eq!(count(&logs, "PostgreSQL is unreachable"), 1, "{logs}");
}
