//! Serving under hostile clients (SPEC §7 "Serving"; issue 8, finding 7), against the real
//! binary: connections that never finish their request head are closed at the header timeout
//! (also when they trickle bytes); idle keep-alive connections live until the idle timeout,
//! not the header timeout; a request body must follow its headers within the header
//! timeout (408); the connection cap holds; with the open-file limit at 256, 300
//! stalled connections do not keep `/healthz` from answering; and SIGTERM with a request hung
//! in flight stops accepting at once and exits within `shutdown_timeout`.
//!
//! The timeouts are shortened through their settings (`JWTEDGE_HEADER_TIMEOUT`, …) so the
//! file runs in well under 30 s.

mod origin_harness;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use origin_harness::*;

/// A `jwtedge-origin serve` started through `sh -c` (for `ulimit`), killed on drop.
struct Served {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    fn start(env: &[(String, String)], cwd: &Path, shell_prefix: &str) -> Served {
        let mut child = Command::new("sh")
            .args([
                "-c",
                &format!("{shell_prefix} exec \"$0\" serve"),
                origin_harness::bin(),
            ])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().cloned())
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn jwtedge-origin");
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_pipe = child.stderr.take().unwrap();
        let err_sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                err_sink.lock().unwrap().push_str(&line);
                err_sink.lock().unwrap().push('\n');
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let out_pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!("jwtedge-origin did not start:\n{}", stderr.lock().unwrap())
            });
        Served {
            child,
            addr,
            stderr,
        }
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env_with(dir: &Path, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = base_env(dir, &Backend::Sqlite);
    set(&mut env, "JWTEDGE_ROTATION_INTERVAL", "off");
    for (k, v) in extra {
        set(&mut env, k, v);
    }
    env
}

/// A connection that sent half a request line and then nothing.
fn stalled(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"GET /heal").unwrap();
    s
}

/// Waits (up to `limit`) until the server closes `s`; true if it did.
fn closed_by_server(s: &mut TcpStream, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            // hyper may answer a timed-out head with nothing, or a 408: either way, read on
            // until the connection ends.
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                return false
            }
            Err(_) => return true, // reset
        }
    }
}

/// One keep-alive GET on `s`; the status.
fn keep_alive_get(s: &mut TcpStream, path: &str) -> u16 {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn stalled_heads_close_at_the_header_timeout_and_idle_connections_at_the_idle_timeout() {
    let dir = temp_dir("serve-timeouts");
    let env = env_with(
        &dir,
        &[
            ("JWTEDGE_HEADER_TIMEOUT", "1s"),
            ("JWTEDGE_IDLE_TIMEOUT", "3s"),
        ],
    );
    let origin = Served::start(&env, &dir, "");
    let started = Instant::now();
    let mut half_lines: Vec<TcpStream> = (0..50).map(|_| stalled(&origin.addr)).collect();
    // A trickler: one byte every 200 ms keeps a read-inactivity timer happy forever; the
    // header clock runs from the first byte.
    let mut trickler = TcpStream::connect(&origin.addr).unwrap();
    let mut silent = TcpStream::connect(&origin.addr).unwrap();
    // A keep-alive client that made one request and then waits.
    let mut idle = TcpStream::connect(&origin.addr).unwrap();
    assert_eq!(keep_alive_get(&mut idle, "/healthz"), 200);
    let idle_since = Instant::now();
    let trickle = std::thread::spawn(move || {
        let begun = Instant::now();
        for b in b"GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
            if trickler.write_all(&[*b]).is_err() {
                return Some(begun.elapsed());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        // Every byte went out; the server must have closed on us meanwhile.
        closed_by_server(&mut trickler, Duration::from_millis(1)).then(|| begun.elapsed())
    });
    for (i, s) in half_lines.iter_mut().enumerate() {
        let left = Duration::from_secs(4).saturating_sub(started.elapsed());
        assert!(
            closed_by_server(s, left),
            "stalled connection {i} still open {:?} after it began (header timeout 1s)",
            started.elapsed()
        );
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the header timeout: {:?}",
        started.elapsed()
    );
    assert!(closed_by_server(&mut silent, Duration::from_secs(2)));
    let trickled = trickle.join().unwrap();
    assert!(
        trickled.is_some_and(|t| t < Duration::from_secs(4)),
        "a trickling head was not cut at the header timeout: {trickled:?}"
    );
    // The idle keep-alive connection outlived the header timeout and still serves...
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(idle_since.elapsed()));
    assert_eq!(keep_alive_get(&mut idle, "/healthz"), 200);
    // ...and is closed once idle for the idle timeout.
    let idle_again = Instant::now();
    assert!(closed_by_server(&mut idle, Duration::from_secs(6)));
    let lived = idle_again.elapsed();
    assert!(
        lived >= Duration::from_millis(2700) && lived < Duration::from_secs(5),
        "idle connection closed after {lived:?} (idle timeout 3s)"
    );
    // The server is fine.
    assert_eq!(http(&origin.addr, "GET", "/healthz", &[], None).status, 200);
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_body_that_does_not_arrive_is_cut_at_the_header_timeout() {
    // Headers complete, body trickled: the handler never runs, the client gets 408 and the
    // connection ends, instead of holding a slot for as long as the client likes.
    let dir = temp_dir("serve-slow-body");
    let env = env_with(&dir, &[("JWTEDGE_HEADER_TIMEOUT", "1s")]);
    let origin = Served::start(&env, &dir, "");
    let mut s = TcpStream::connect(&origin.addr).unwrap();
    s.write_all(
        format!(
            "POST /sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"sub\""
        )
        .as_bytes(),
    )
    .unwrap();
    let sent = Instant::now();
    let mut writer = s.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(200));
            if writer.write_all(b" ").is_err() {
                break;
            }
        }
    });
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let took = sent.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "{answer:?} after {took:?}"
    );
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    trickle.join().unwrap();
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_connection_cap_holds() {
    // The cap: with 10 slots all taken by stalled heads, an 11th connection waits for a slot.
    let dir = temp_dir("serve-cap");
    let env = env_with(
        &dir,
        &[
            ("JWTEDGE_HEADER_TIMEOUT", "1500ms"),
            ("JWTEDGE_MAX_CONNECTIONS", "10"),
        ],
    );
    let origin = Served::start(&env, &dir, "");
    let started = Instant::now();
    let held: Vec<TcpStream> = (0..10).map(|_| stalled(&origin.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let addr = origin.addr.clone();
    let probe = std::thread::spawn(move || {
        let r = try_http(&addr, "GET", "/healthz", &[], None);
        (r.map(|r| r.status), started.elapsed())
    });
    let (status, answered) = probe.join().unwrap();
    assert_eq!(status, Ok(200));
    assert!(
        answered >= Duration::from_millis(1300),
        "answered after {answered:?}: the 11th connection did not wait for a slot (cap 10)"
    );
    assert!(answered < Duration::from_secs(5), "{answered:?}");
    drop(held);
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stalled_connections_beyond_the_open_file_limit_do_not_starve_healthz() {
    // ulimit -n 256, 300 stalled connections. The cap is lowered under the limit (the log
    // says so), stalled heads are cut, and /healthz answers.
    let dir = temp_dir("serve-nofile");
    let env = env_with(&dir, &[("JWTEDGE_HEADER_TIMEOUT", "1s")]);
    let origin = Served::start(&env, &dir, "ulimit -n 256 &&");
    let started = Instant::now();
    let held: Vec<TcpStream> = (0..300).map(|_| stalled(&origin.addr)).collect();
    let r = try_http(&origin.addr, "GET", "/healthz", &[], None);
    let answered = started.elapsed();
    assert_eq!(r.map(|r| r.status), Ok(200));
    assert!(answered < Duration::from_secs(8), "{answered:?}");
    // And the store still works under that limit.
    let r = http(
        &origin.addr,
        "POST",
        "/sessions",
        &[
            ("Authorization".into(), format!("Bearer {API_KEY}")),
            ("Content-Type".into(), "application/json".into()),
        ],
        Some(br#"{"sub":"alice"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        origin
            .stderr
            .lock()
            .unwrap()
            .contains("max_connections lowered"),
        "{}",
        origin.stderr.lock().unwrap()
    );
    drop(held);
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_with_hung_and_stalled_clients_exits_within_shutdown_timeout() {
    let dir = temp_dir("serve-shutdown");
    // The header timeout (default 10 s) must not be what frees the server here.
    let env = env_with(&dir, &[("JWTEDGE_SHUTDOWN_TIMEOUT", "2s")]);
    let mut origin = Served::start(&env, &dir, "");
    let _stalled: Vec<TcpStream> = (0..20).map(|_| stalled(&origin.addr)).collect();
    // A request in flight that never finishes: its body never arrives.
    let mut hung = TcpStream::connect(&origin.addr).unwrap();
    hung.write_all(
        format!(
            "POST /sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"sub\""
        )
        .as_bytes(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    origin.sigterm();
    // It stops accepting at once, while the hung request still has its grace.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        TcpStream::connect(&origin.addr).is_err(),
        "still accepting connections after SIGTERM"
    );
    assert!(
        origin.child.try_wait().unwrap().is_none(),
        "did not wait for the request in flight"
    );
    let status = origin.wait_exit(Duration::from_secs(8));
    let took = signalled.elapsed();
    assert!(
        status.is_some(),
        "still running {took:?} after SIGTERM (shutdown_timeout 2s):\n{}",
        origin.stderr.lock().unwrap()
    );
    assert!(status.unwrap().success());
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(4),
        "exited {took:?} after SIGTERM (shutdown_timeout 2s)"
    );
    assert!(closed_by_server(&mut hung, Duration::from_secs(1)));
    assert!(origin
        .stderr
        .lock()
        .unwrap()
        .contains("shutdown_timeout reached"));
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}
