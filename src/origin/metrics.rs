//! Prometheus metrics through `prometheus-client` (the Prometheus project's Rust client),
//! served as OpenMetrics text: tokens signed, sessions, refreshes by result, keyset responses
//! by status, key lifecycle events of this process, per-key state gauges computed from the
//! keyring at scrape time, per-route request counts and latency histograms (labelled with the
//! matched route template, never the raw path), build info, and process metrics read from
//! `/proc/self` at scrape time (the crate has none built in). Every family is documented in
//! docs/ORIGIN.md; tests/origin_metrics.rs compares the two.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter as PromCounter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use super::adoption::{AdoptionReport, Presented};
use super::keyring::Keyring;
use super::keys::{effective_state, KeyState, Policy};
use super::sessions::RefreshRejection;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One counter series (a child of a labelled family, or a family of its own).
#[derive(Clone, Default, Debug)]
pub struct Counter(PromCounter);

impl Counter {
    pub fn inc(&self) {
        self.0.inc();
    }

    pub fn add(&self, n: u64) {
        self.0.inc_by(n);
    }

    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    kid: String,
    alg: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

/// Request latency buckets, 1 ms to 10 s.
fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

pub struct Metrics {
    registry: Registry,
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
    requests: Family<RequestLabels, PromCounter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    keys: Family<StateLabel, Gauge>,
    key_state: Family<KeyLabels, Gauge>,
    key_generation: Gauge,
    by_version: Family<VersionLabel, Gauge>,
    next_key_ready: Gauge,
    /// Scrapes rebuild the key gauges; one at a time, so none sees another's half.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// A family with one counter per label value, each pre-created (so it is served at 0).
fn labelled<
    L: EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static,
>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    labels: &[L],
) -> Vec<Counter> {
    let family = Family::<L, PromCounter>::default();
    let children = labels
        .iter()
        .map(|l| Counter(family.get_or_create(l).clone()))
        .collect();
    registry.register(name, help, family);
    children
}

fn single(registry: &mut Registry, name: &str, help: &str) -> Counter {
    let c = Counter::default();
    registry.register(name, help, c.0.clone());
    c
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::default();
        let tokens_signed = single(
            &mut r,
            "jwtedge_tokens_signed",
            "Access tokens signed by this process",
        );
        let sessions_created = single(
            &mut r,
            "jwtedge_sessions_created",
            "Sessions created by this process",
        );
        let sessions_revoked = single(
            &mut r,
            "jwtedge_sessions_revoked",
            "Sessions revoked through this process (not counting theft detection)",
        );
        let refreshes = labelled(
            &mut r,
            "jwtedge_refreshes",
            "Refresh attempts by result",
            &[
                "ok",
                "invalid_refresh_token",
                "refresh_token_expired",
                "session_revoked",
                "token_theft_detected",
            ]
            .map(|result| ResultLabel { result }),
        );
        let keyset = labelled(
            &mut r,
            "jwtedge_keyset_served",
            "Keyset and metadata responses by HTTP status",
            &["200", "304", "401"].map(|status| StatusLabel { status }),
        );
        let events = labelled(
            &mut r,
            "jwtedge_key_events",
            "Key lifecycle steps made by this process",
            &[
                "scheduled_rotation",
                "manual_rotation",
                "revoke",
                "import",
                "retire",
            ]
            .map(|event| EventLabel { event }),
        );
        let auth_failures = single(
            &mut r,
            "jwtedge_auth_failures",
            "Requests refused for a missing or wrong credential",
        );
        let store_errors = single(&mut r, "jwtedge_store_errors", "Failed database operations");
        let keys = Family::<StateLabel, Gauge>::default();
        r.register("jwtedge_keys", "Keys by lifecycle state", keys.clone());
        let key_state = Family::<KeyLabels, Gauge>::default();
        r.register(
            "jwtedge_key_state",
            "1 for each key and its current lifecycle state",
            key_state.clone(),
        );
        let key_generation = Gauge::default();
        r.register(
            "jwtedge_key_generation",
            "Store generation of the loaded keys",
            key_generation.clone(),
        );
        let by_version = Family::<VersionLabel, Gauge>::default();
        r.register(
            "jwtedge_keyset_requests_by_version",
            "Keyset requests over the last keyset max-age by the version they presented: current, older, none (cold), unknown",
            by_version.clone(),
        );
        let next_key_ready = Gauge::default();
        r.register(
            "jwtedge_next_key_ready",
            "1 when the next key may start signing (published one keyset max-age, no edge presenting a version without it), else 0",
            next_key_ready.clone(),
        );
        let requests = Family::<RequestLabels, PromCounter>::default();
        r.register(
            "jwtedge_http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        let durations: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        r.register_with_unit(
            "jwtedge_http_request_duration",
            "HTTP request latency by route template and method, until the response head",
            Unit::Seconds,
            durations.clone(),
        );
        r.register(
            "jwtedge_build",
            "The running build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        r.register_collector(Box::new(ProcessCollector));
        let [refresh_ok, refresh_invalid, refresh_expired, refresh_session_revoked, refresh_theft] =
            <[Counter; 5]>::try_from(refreshes).expect("five results");
        let [keyset_200, keyset_304, keyset_401] =
            <[Counter; 3]>::try_from(keyset).expect("three statuses");
        let [rotations_scheduled, rotations_manual, revocations, imports, retirements] =
            <[Counter; 5]>::try_from(events).expect("five events");
        Metrics {
            registry: r,
            tokens_signed,
            sessions_created,
            sessions_revoked,
            refresh_ok,
            refresh_invalid,
            refresh_expired,
            refresh_session_revoked,
            refresh_theft,
            keyset_200,
            keyset_304,
            keyset_401,
            rotations_scheduled,
            rotations_manual,
            revocations,
            imports,
            retirements,
            auth_failures,
            store_errors,
            requests,
            durations,
            keys,
            key_state,
            key_generation,
            by_version,
            next_key_ready,
            scrape: Mutex::new(()),
        }
    }

    pub fn refresh_rejected(&self, r: RefreshRejection) {
        match r {
            RefreshRejection::Unknown => self.refresh_invalid.inc(),
            RefreshRejection::Expired => self.refresh_expired.inc(),
            RefreshRejection::SessionRevoked => self.refresh_session_revoked.inc(),
            RefreshRejection::TheftDetected => self.refresh_theft.inc(),
        }
    }

    /// One answered request. `route` is the matched route template (or `unmatched`), never
    /// the raw path; methods outside the standard set count as `other`: both keep the number
    /// of series bounded whatever clients send.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let method = match method {
            "GET" => "GET",
            "POST" => "POST",
            "HEAD" => "HEAD",
            "PUT" => "PUT",
            "DELETE" => "DELETE",
            "PATCH" => "PATCH",
            "OPTIONS" => "OPTIONS",
            _ => "other",
        };
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method,
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                route: route.to_string(),
                method,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The exposition text, with the key gauges computed from `ring` now and the adoption
    /// gauges from `adoption`.
    pub fn render(
        &self,
        ring: &Keyring,
        now: i64,
        policy: &Policy,
        adoption: &AdoptionReport,
    ) -> String {
        let _one_scrape = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        for state in KeyState::ALL {
            let n = ring
                .keys
                .iter()
                .filter(|k| effective_state(&k.record, now, policy) == state)
                .count();
            self.keys
                .get_or_create(&StateLabel {
                    state: state.name(),
                })
                .set(n as i64);
        }
        // Keys come and go: only the keys loaded now have a series.
        self.key_state.clear();
        for k in &ring.keys {
            self.key_state
                .get_or_create(&KeyLabels {
                    kid: k.record.kid.clone(),
                    alg: k.record.alg.name(),
                    state: effective_state(&k.record, now, policy).name(),
                })
                .set(1);
        }
        self.key_generation.set(ring.generation);
        for class in Presented::ALL {
            let n = adoption.counts.get(class);
            self.by_version
                .get_or_create(&VersionLabel {
                    version: class.name(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        self.next_key_ready.set(i64::from(adoption.readiness.ready));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Process metrics in the names of the Prometheus client libraries, read from `/proc/self`
/// at each scrape; a value that cannot be read is left out.
#[derive(Debug)]
struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stat = ProcStat::read();
        if let Some(s) = &stat {
            let cpu = ConstCounter::new(s.cpu_seconds);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "User and system CPU time spent.",
                None,
                cpu.metric_type(),
            )?)?;
            let start = ConstGauge::new(s.start_time_seconds);
            start.encode(encoder.encode_descriptor(
                "process_start_time",
                "Start time of the process since the Unix epoch.",
                Some(&Unit::Seconds),
                start.metric_type(),
            )?)?;
            let rss = ConstGauge::new(s.resident_bytes);
            rss.encode(encoder.encode_descriptor(
                "process_resident_memory",
                "Resident memory size.",
                Some(&Unit::Bytes),
                rss.metric_type(),
            )?)?;
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            let fds = ConstGauge::new(dir.count() as i64);
            fds.encode(encoder.encode_descriptor(
                "process_open_fds",
                "Open file descriptors.",
                None,
                fds.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

struct ProcStat {
    cpu_seconds: f64,
    start_time_seconds: f64,
    resident_bytes: i64,
}

impl ProcStat {
    fn read() -> Option<ProcStat> {
        // SAFETY: sysconf only reads a configuration value.
        let (ticks, page) = unsafe {
            (
                libc::sysconf(libc::_SC_CLK_TCK),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if ticks <= 0 || page <= 0 {
            return None;
        }
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) is in parentheses and may hold spaces: split after it.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        // Fields from 3 on: utime is 14, stime 15, starttime 22, rss 24 (proc(5)).
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        let (utime, stime, start, rss) = (field(14)?, field(15)?, field(22)?, field(24)?);
        let boot = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(ProcStat {
            cpu_seconds: (utime + stime) as f64 / ticks as f64,
            start_time_seconds: boot as f64 + start as f64 / ticks as f64,
            resident_bytes: (rss as i64).saturating_mul(page),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_labels_stay_bounded() {
        let m = Metrics::new();
        m.observe_request("/keys/{kid}/revoke", "POST", 200, Duration::from_millis(3));
        m.observe_request("unmatched", "PROPFIND", 404, Duration::from_millis(1));
        m.observe_request("unmatched", "BREW", 404, Duration::from_millis(1));
        let policy = Policy {
            algorithm: crate::origin::algorithm::Algorithm::EdDsa,
            rotation_interval_ms: None,
            retire_after_ms: 1000,
        };
        let adoption = crate::origin::adoption::Adoption::new(1000).report(0, "\"x\"", &[], None);
        let text = m.render(&Keyring::empty(), 0, &policy, &adoption);
        assert!(text.contains(
            "jwtedge_http_requests_total{route=\"/keys/{kid}/revoke\",method=\"POST\",status=\"200\"} 1"
        ), "{text}");
        assert!(text.contains(
            "jwtedge_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 2"
        ), "{text}");
        assert!(!text.contains("PROPFIND") && !text.contains("BREW"));
        assert!(text.contains("jwtedge_build_info{version=\""), "{text}");
        assert!(text.contains("process_open_fds "), "{text}");
        assert!(
            text.contains("jwtedge_keyset_requests_by_version{version=\"unknown\"} 0"),
            "{text}"
        );
        assert!(text.contains("jwtedge_next_key_ready 0"), "{text}");
        assert!(text.trim_end().ends_with("# EOF"));
    }
}
