//! Shared by the `origin_*` integration tests: starts the real `jwtedge-origin` binary on a
//! loopback port (port 0; the port is read from what it prints), speaks plain HTTP/1.1 to it,
//! captures its stdout and stderr (for the log checks), and gives each test its own data
//! directory and, for the PostgreSQL variants, its own fresh database.
#![allow(dead_code)]

pub mod openapi;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jwtedge::core::{Keyset, KeysetLimits, Outcome, VerifyOptions};

pub const API_KEY: &str = "test-api-key-4b8c1e0f2a9d";
pub const ADMIN_TOKEN: &str = "test-admin-token-77e3a1c95b20";
pub const EDGE_CREDENTIAL: &str = "test-edge-credential-d41f0b6e";
/// 32 bytes, base64.
pub const MASTER_KEY: &str = "q7W4c1m2Zx9eTn0yP3rS5uV8wA6bD0fG2hJ4kL6mN8o=";

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "jwtedge-origin-test-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Which store a test runs against.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    /// A URL of a fresh database of its own.
    Postgres(String),
}

impl Backend {
    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            Backend::Sqlite => vec![],
            Backend::Postgres(url) => vec![("JWTEDGE_DATABASE_URL".into(), url.clone())],
        }
    }
}

/// The PostgreSQL backend with a fresh database, or `None` when the PostgreSQL variants are
/// explicitly skipped (`JWTEDGE_TEST_SKIP_PG=1`). Without either variable the test fails:
/// a missing database must not pass silently.
pub fn postgres() -> Option<Backend> {
    match std::env::var("JWTEDGE_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(Backend::Postgres(fresh_database(&url))),
        _ if std::env::var("JWTEDGE_TEST_SKIP_PG").as_deref() == Ok("1") => {
            eprintln!("SKIPPED: PostgreSQL variant (JWTEDGE_TEST_SKIP_PG=1)");
            None
        }
        _ => panic!(
            "JWTEDGE_TEST_DATABASE_URL is not set. Start a throwaway server with \
             `eval \"$(scripts/pg.sh start)\"` (stop it with `scripts/pg.sh stop \"$JWTEDGE_TEST_PG_DIR\"`), \
             or set JWTEDGE_TEST_SKIP_PG=1 to skip the PostgreSQL variants explicitly."
        ),
    }
}

/// Creates a database of its own for one test on the server of `url`.
fn fresh_database(url: &str) -> String {
    let name = format!(
        "jwtedge_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut client = postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to JWTEDGE_TEST_DATABASE_URL: {e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let base = url.split('?').next().unwrap();
    let cut = base.rfind('/').expect("URL with a database path");
    format!("{}/{name}", &base[..cut])
}

/// Environment for a test origin: loopback port 0, known credentials, plus `extra`.
pub fn base_env(data_dir: &Path, backend: &Backend) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("JWTEDGE_LISTEN".into(), "127.0.0.1:0".into()),
        ("JWTEDGE_DATA_DIR".into(), data_dir.display().to_string()),
        ("JWTEDGE_API_KEY".into(), API_KEY.into()),
        ("JWTEDGE_ADMIN_TOKEN".into(), ADMIN_TOKEN.into()),
        ("JWTEDGE_EDGE_CREDENTIAL".into(), EDGE_CREDENTIAL.into()),
        ("JWTEDGE_MASTER_KEY".into(), MASTER_KEY.into()),
        ("JWTEDGE_ISSUER".into(), "https://origin.test".into()),
    ];
    env.extend(backend.env());
    env
}

pub fn set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.into(), value.into()));
}

pub fn unset(env: &mut Vec<(String, String)>, key: &str) {
    env.retain(|(k, _)| k != key);
}

pub struct Output {
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
}

fn pump<R: Read + Send + 'static>(reader: R, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        let mut line = String::new();
        while let Ok(n) = reader.read_line(&mut line) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_jwtedge-origin")
}

/// Runs a one-shot CLI command with `env` (and nothing else from the outer environment).
pub fn run_cli(args: &[&str], env: &[(String, String)], cwd: &Path) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .current_dir(cwd)
        .output()
        .expect("run jwtedge-origin")
}

/// A running `jwtedge-origin serve`.
pub struct Origin {
    child: Child,
    pub base: String,
    pub addr: String,
    pub output: Output,
}

impl Origin {
    /// Starts `serve` in `cwd` with exactly `env` and waits until it prints its address.
    pub fn start(env: &[(String, String)], cwd: &Path) -> Origin {
        Self::try_start(env, cwd).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn try_start(env: &[(String, String)], cwd: &Path) -> Result<Origin, String> {
        let mut child = Command::new(bin())
            .arg("serve")
            .env_clear()
            .env("JWTEDGE_LOG", "debug")
            .envs(env.iter().cloned())
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let output = Output {
            stdout: Arc::new(Mutex::new(String::new())),
            stderr: Arc::new(Mutex::new(String::new())),
        };
        pump(child.stdout.take().unwrap(), output.stdout.clone());
        pump(child.stderr.take().unwrap(), output.stderr.clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = {
                let text = output.stdout.lock().unwrap();
                text.split("listening on http://")
                    .nth(1)
                    .filter(|rest| rest.contains('\n'))
                    .and_then(|rest| rest.lines().next())
                    .map(|addr| addr.trim().to_string())
            };
            if let Some(addr) = found {
                return Ok(Origin {
                    child,
                    base: format!("http://{addr}"),
                    addr,
                    output,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                return Err(format!(
                    "jwtedge-origin exited ({status}) before listening:\n{}",
                    output.stderr.lock().unwrap()
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!(
                    "jwtedge-origin did not report its address in 30 s:\n{}",
                    output.stderr.lock().unwrap()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it printed so far, stdout then stderr.
    pub fn logs(&self) -> String {
        format!(
            "{}{}",
            self.output.stdout.lock().unwrap(),
            self.output.stderr.lock().unwrap()
        )
    }

    /// SIGTERM, then wait (up to 15 s) for a graceful exit.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return (status, self.logs());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("jwtedge-origin ignored SIGTERM for 15 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.logs()
    }

    pub fn get(&self, path: &str, auth: Option<&str>) -> Resp {
        let mut headers = vec![];
        if let Some(a) = auth {
            headers.push(("Authorization".to_string(), format!("Bearer {a}")));
        }
        http(&self.addr, "GET", path, &headers, None)
    }

    pub fn post(&self, path: &str, auth: Option<&str>, body: &str) -> Resp {
        let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        if let Some(a) = auth {
            headers.push(("Authorization".to_string(), format!("Bearer {a}")));
        }
        http(&self.addr, "POST", path, &headers, Some(body.as_bytes()))
    }

    /// The keyset as served now (with the edge credential, which an Ed25519 keyset ignores).
    pub fn keyset_json(&self) -> String {
        let r = self.get("/.well-known/jwks.json", Some(EDGE_CREDENTIAL));
        assert_eq!(r.status, 200, "keyset: {}", r.body);
        r.body
    }

    pub fn keys(&self) -> serde_json::Value {
        let r = self.get("/keys", Some(ADMIN_TOKEN));
        assert_eq!(r.status, 200, "GET /keys: {}", r.body);
        r.json()
    }

    /// `POST /sessions` → the response JSON (asserting 201).
    pub fn new_session(&self, sub: &str) -> serde_json::Value {
        let r = self.post(
            "/sessions",
            Some(API_KEY),
            &format!(r#"{{"sub":"{sub}","claims":{{"role":"tester"}}}}"#),
        );
        assert_eq!(r.status, 201, "POST /sessions: {}", r.body);
        r.json()
    }

    pub fn refresh(&self, refresh_token: &str) -> Resp {
        self.post(
            "/sessions/refresh",
            None,
            &format!(r#"{{"refresh_token":"{refresh_token}"}}"#),
        )
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The `error` code of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_string()
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Resp {
    try_http(addr, method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

pub fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<Resp, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    // The server may answer (413) and close before reading everything: ignore write errors.
    let _ = stream.write_all(&bytes);
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read: {e}"))?;
    let resp = parse_response(&raw)?;
    // Every answer is checked against docs/openapi.json (openapi.rs).
    openapi::record(
        method,
        path,
        resp.status,
        resp.header("content-type"),
        &resp.body,
    );
    Ok(resp)
}

fn parse_response(raw: &[u8]) -> Result<Resp, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no header end in {:?}", String::from_utf8_lossy(raw)))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}

/// Parses a served keyset with the core verifier (limits raised: the crash test accumulates
/// many previous keys).
pub fn parse_keyset(json: &str) -> Keyset {
    Keyset::from_jwks_json(
        json.as_bytes(),
        KeysetLimits {
            max_bytes: 16 << 20,
            max_keys: 100_000,
        },
    )
    .unwrap_or_else(|e| panic!("served keyset rejected: {e}: {json}"))
}

pub fn kids(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// Verification options matching the test origins' profile.
pub fn opts() -> VerifyOptions {
    VerifyOptions {
        issuer: Some(vec!["https://origin.test".into()]),
        audience: Some(vec!["api".into()]),
        token_type: jwtedge::core::TypeExpectation::Exactly("at+jwt".into()),
        required_claims: vec!["sub".into(), "sid".into(), "jti".into(), "iat".into()],
        ..VerifyOptions::default()
    }
}

pub fn verify(token: &str, keyset_json: &str, now: f64) -> Outcome {
    jwtedge::verify(token, &parse_keyset(keyset_json), &opts(), now)
}

/// The kid in a token's header (read without verifying).
pub fn token_kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let bytes = jwtedge::core::b64url_decode(header.as_bytes()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["kid"].as_str().unwrap().to_string()
}

/// Polls `f` until it returns `Some`, or panics with `what` after `timeout`.
pub fn poll<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts none of `secrets` occurs in `logs`.
pub fn assert_no_secrets(logs: &str, secrets: &[String]) {
    for s in secrets {
        assert!(s.len() >= 8, "secret too short to grep meaningfully: {s:?}");
        assert!(
            !logs.contains(s.as_str()),
            "the origin's output contains a secret or token ({}…):\n{logs}",
            &s[..8]
        );
    }
}
