//! Prometheus metrics (text exposition format 0.0.4), kept as plain atomic counters: tokens
//! signed, sessions, refreshes by result, keyset responses by status, key lifecycle events of
//! this process, and per-key state gauges computed from the keyring at scrape time.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use super::keyring::Keyring;
use super::keys::{effective_state, KeyState, Policy};
use super::sessions::RefreshRejection;

#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
pub struct Metrics {
    pub tokens_signed: Counter,
    pub sessions_created: Counter,
    pub sessions_revoked: Counter,
    pub refresh_ok: Counter,
    pub refresh_invalid: Counter,
    pub refresh_expired: Counter,
    pub refresh_session_revoked: Counter,
    pub refresh_theft: Counter,
    pub keyset_200: Counter,
    pub keyset_304: Counter,
    pub keyset_401: Counter,
    pub rotations_scheduled: Counter,
    pub rotations_manual: Counter,
    pub revocations: Counter,
    pub imports: Counter,
    pub retirements: Counter,
    pub auth_failures: Counter,
    pub store_errors: Counter,
}

impl Metrics {
    pub fn refresh_rejected(&self, r: RefreshRejection) {
        match r {
            RefreshRejection::Unknown => self.refresh_invalid.inc(),
            RefreshRejection::Expired => self.refresh_expired.inc(),
            RefreshRejection::SessionRevoked => self.refresh_session_revoked.inc(),
            RefreshRejection::TheftDetected => self.refresh_theft.inc(),
        }
    }

    pub fn render(&self, ring: &Keyring, now: i64, policy: &Policy) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, series: &[(&str, &Counter)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, c) in series {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {}", c.get());
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {}", c.get());
                }
            }
        };
        counter(
            "jwtedge_tokens_signed_total",
            "Access tokens signed by this process.",
            &[("", &self.tokens_signed)],
        );
        counter(
            "jwtedge_sessions_created_total",
            "Sessions created by this process.",
            &[("", &self.sessions_created)],
        );
        counter(
            "jwtedge_sessions_revoked_total",
            "Sessions revoked through this process (not counting theft detection).",
            &[("", &self.sessions_revoked)],
        );
        counter(
            "jwtedge_refreshes_total",
            "Refresh attempts by result.",
            &[
                ("result=\"ok\"", &self.refresh_ok),
                ("result=\"invalid_refresh_token\"", &self.refresh_invalid),
                ("result=\"refresh_token_expired\"", &self.refresh_expired),
                ("result=\"session_revoked\"", &self.refresh_session_revoked),
                ("result=\"token_theft_detected\"", &self.refresh_theft),
            ],
        );
        counter(
            "jwtedge_keyset_served_total",
            "Keyset responses by HTTP status.",
            &[
                ("status=\"200\"", &self.keyset_200),
                ("status=\"304\"", &self.keyset_304),
                ("status=\"401\"", &self.keyset_401),
            ],
        );
        counter(
            "jwtedge_key_events_total",
            "Key lifecycle steps made by this process.",
            &[
                ("event=\"scheduled_rotation\"", &self.rotations_scheduled),
                ("event=\"manual_rotation\"", &self.rotations_manual),
                ("event=\"revoke\"", &self.revocations),
                ("event=\"import\"", &self.imports),
                ("event=\"retire\"", &self.retirements),
            ],
        );
        counter(
            "jwtedge_auth_failures_total",
            "Requests refused for a missing or wrong credential.",
            &[("", &self.auth_failures)],
        );
        counter(
            "jwtedge_store_errors_total",
            "Failed database operations.",
            &[("", &self.store_errors)],
        );
        let _ = writeln!(
            out,
            "# HELP jwtedge_keys Keys by lifecycle state.\n# TYPE jwtedge_keys gauge"
        );
        for state in KeyState::ALL {
            let n = ring
                .keys
                .iter()
                .filter(|k| effective_state(&k.record, now, policy) == state)
                .count();
            let _ = writeln!(out, "jwtedge_keys{{state=\"{}\"}} {n}", state.name());
        }
        let _ = writeln!(
            out,
            "# HELP jwtedge_key_state 1 for each key and its current lifecycle state.\n# TYPE jwtedge_key_state gauge"
        );
        for k in &ring.keys {
            let _ = writeln!(
                out,
                "jwtedge_key_state{{kid=\"{}\",alg=\"{}\",state=\"{}\"}} 1",
                escape_label(&k.record.kid),
                k.record.alg.name(),
                effective_state(&k.record, now, policy).name()
            );
        }
        let _ = writeln!(
            out,
            "# HELP jwtedge_key_generation Store generation of the loaded keys.\n# TYPE jwtedge_key_generation gauge\njwtedge_key_generation {}",
            ring.generation
        );
        out
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
