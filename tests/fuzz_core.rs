//! Fuzzing the verifier's core on stable Rust (cargo fuzz needs nightly): structured mutations of
//! valid tokens, keysets and `Cache-Control` headers, drawn from a seeded generator. A bounded run
//! is part of `cargo test`; `bash scripts/fuzz.sh SECONDS` runs it as long as asked.
//!
//! What every case asserts (SPEC §4, §9): nothing panics; the outcome is one, deterministic, and
//! the same through the split pipeline the WebCrypto path takes; `OK` — and every reason judged
//! after the signature (`expired`, `not_yet_valid`, `invalid_*`, `missing_claim`) — only for a
//! token whose exact text this test signed with the real key; a duplicated registered member is
//! `malformed`; forged, confused and re-encoded tokens are never `OK`.
//!
//! Settings (environment): `JWTEDGE_FUZZ_SECONDS` (the token target's time, default 4; the keyset
//! target gets half, the Cache-Control target a quarter), `JWTEDGE_FUZZ_CASES` (an exact case
//! count per target instead), `JWTEDGE_FUZZ_SEED` (default: from the clock; always printed),
//! `JWTEDGE_FUZZ_CASE` (replay one case of that seed). A failure prints the line that replays it.
//!
//! Algorithms come from one table (`rows`): a new `Algorithm` fails `the_table_covers_every_algorithm`
//! until it has a row (its JWK, a signer, a forger's key).

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use common::{ISS, NOW};
use ed25519_dalek::Signer as _;
use jwtedge::core::{
    age_seconds, b64url_decode, b64url_encode as b64, exceeds_depth, max_age_seconds, verify_using,
    Algorithm, Keyset, KeysetLimits, Step, TypeExpectation, UntrustedToken, VerifyOptions,
    MAX_JSON_DEPTH,
};
use jwtedge::{Outcome, Reason, Status};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Budget: how long, which seed, and the loop that turns a panic into a replayable failure.

struct Budget {
    seed: u64,
    seconds: f64,
    cases: Option<u64>,
    only_case: Option<u64>,
}

impl Budget {
    fn from_env() -> Budget {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let seed = var("JWTEDGE_FUZZ_SEED")
            .map(|s| parse_u64(&s).expect("JWTEDGE_FUZZ_SEED is a number"))
            .unwrap_or_else(|| {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
            });
        Budget {
            seed,
            seconds: var("JWTEDGE_FUZZ_SECONDS")
                .map(|s| s.parse().expect("JWTEDGE_FUZZ_SECONDS is a number"))
                .unwrap_or(4.0),
            cases: var("JWTEDGE_FUZZ_CASES").map(|s| s.parse().expect("JWTEDGE_FUZZ_CASES")),
            only_case: var("JWTEDGE_FUZZ_CASE").map(|s| s.parse().expect("JWTEDGE_FUZZ_CASE")),
        }
    }

    /// Runs `one` on fresh, independently seeded generators until the budget is spent. Case `i`
    /// of seed `s` is the same case on every machine (rand's StdRng, pinned by Cargo.lock).
    fn run(
        &self,
        target: &str,
        share: f64,
        mut one: impl FnMut(&mut StdRng, &mut Stats) -> Result<(), String>,
    ) -> Stats {
        let started = Instant::now();
        let mut stats = Stats::default();
        let indices: Box<dyn Iterator<Item = u64>> = match self.only_case {
            Some(i) => Box::new(std::iter::once(i)),
            None => Box::new(0..),
        };
        for i in indices {
            if self.only_case.is_none() {
                let done = match self.cases {
                    Some(n) => i >= n,
                    None => started.elapsed().as_secs_f64() >= self.seconds * share,
                };
                if done {
                    break;
                }
            }
            let mut rng = StdRng::seed_from_u64(self.seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            stats.input.clear();
            let result = catch_unwind(AssertUnwindSafe(|| one(&mut rng, &mut stats)));
            let failure = match result {
                Ok(Ok(())) => None,
                Ok(Err(message)) => Some(message),
                Err(panic) => Some(format!("PANIC: {}", panic_text(&panic))),
            };
            if let Some(failure) = failure {
                panic!(
                    "fuzz_core {target}: case {i} of seed {seed} failed: {failure}\n  input: {input}\n  \
                     replay: JWTEDGE_FUZZ_SEED={seed} JWTEDGE_FUZZ_CASE={i} cargo test --test fuzz_core {target}",
                    seed = self.seed,
                    input = stats.input,
                );
            }
            stats.cases += 1;
        }
        // Written to stderr directly, past the test harness's capture, so that the count shows in
        // `cargo test` output (scripts/test.sh keeps lines starting `fuzz_core`).
        let mut line = format!(
            "fuzz_core {target}: {} cases in {:.1} s, seed {} (JWTEDGE_FUZZ_SEED={} replays)",
            stats.cases,
            started.elapsed().as_secs_f64(),
            self.seed,
            self.seed
        );
        if !stats.outcomes.is_empty() {
            let tally: Vec<String> = stats
                .outcomes
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            line.push_str(&format!("; {}", tally.join(", ")));
        }
        let _ = writeln!(std::io::stderr(), "{line}");
        assert!(stats.cases > 0, "fuzz_core {target}: no case ran");
        stats
    }
}

#[derive(Default)]
struct Stats {
    cases: u64,
    outcomes: BTreeMap<String, u64>,
    /// What the current case is feeding the code under test, for the failure report.
    input: String,
}

impl Stats {
    fn tally(&mut self, what: &str) {
        *self.outcomes.entry(what.to_string()).or_default() += 1;
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(non-string panic)".into())
}

// ---------------------------------------------------------------------------------------------
// The algorithm table: one row per signing key the keyset holds.

/// Signs a signing input with one key.
type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;

struct Row {
    alg: Algorithm,
    kid: &'static str,
    /// The key's JWK members (without `kid`), as a keyset lists it.
    jwk: Members,
    sign: SignFn,
    /// A key of the same kind that is in no keyset: what a forger holds.
    forge: SignFn,
    /// Public key bytes, which an algorithm-confusion forger uses as an HMAC secret.
    public: Option<Vec<u8>>,
}

fn ed_row(kid: &'static str, seed: u8, forger_seed: u8) -> Row {
    let key = common::ed_key(seed);
    let forger = common::ed_key(forger_seed);
    let public = key.verifying_key().to_bytes();
    Row {
        alg: Algorithm::EdDsa,
        kid,
        jwk: members(&[
            ("kty", "\"OKP\""),
            ("crv", "\"Ed25519\""),
            ("x", &js(&b64(&public))),
            ("alg", "\"EdDSA\""),
            ("use", "\"sig\""),
        ]),
        sign: Box::new(move |m| key.sign(m).to_bytes().to_vec()),
        forge: Box::new(move |m| forger.sign(m).to_bytes().to_vec()),
        public: Some(public.to_vec()),
    }
}

fn hs_row(kid: &'static str, secret: [u8; 32], forger_secret: [u8; 32]) -> Row {
    Row {
        alg: Algorithm::Hs256,
        kid,
        jwk: members(&[
            ("kty", "\"oct\""),
            ("k", &js(&b64(&secret))),
            ("alg", "\"HS256\""),
            ("use", "\"sig\""),
        ]),
        sign: Box::new(move |m| common::hmac_sign(&secret, m)),
        forge: Box::new(move |m| common::hmac_sign(&forger_secret, m)),
        public: None,
    }
}

/// HS384/HS512: HMAC with a longer hash (and a key as long as it).
fn hs_long_row(kid: &'static str, alg: Algorithm, byte: u8) -> Row {
    use hmac::{Hmac, Mac};
    let len = alg.hash_bytes();
    let sign = move |secret: Vec<u8>| -> SignFn {
        Box::new(move |m| {
            if alg == Algorithm::Hs384 {
                let mut mac = Hmac::<sha2::Sha384>::new_from_slice(&secret).expect("any length");
                mac.update(m);
                mac.finalize().into_bytes().to_vec()
            } else {
                let mut mac = Hmac::<sha2::Sha512>::new_from_slice(&secret).expect("any length");
                mac.update(m);
                mac.finalize().into_bytes().to_vec()
            }
        })
    };
    Row {
        alg,
        kid,
        jwk: members(&[
            ("kty", "\"oct\""),
            ("k", &js(&b64(&vec![byte; len]))),
            ("alg", &js(alg.name())),
            ("use", "\"sig\""),
        ]),
        sign: sign(vec![byte; len]),
        forge: sign(vec![byte ^ 1; len]),
        public: None,
    }
}

/// RSA and ECDSA: signatures checked by the runtime (ring here, tests/common/runtime.rs).
fn runtime_row(kid: &'static str, alg: Algorithm) -> Row {
    use common::runtime;
    let (key, forger): (Vec<u8>, Vec<u8>) = match alg {
        Algorithm::Es256 | Algorithm::Es384 => (
            if alg == Algorithm::Es256 {
                runtime::EC_P256
            } else {
                runtime::EC_P384
            }
            .to_vec(),
            runtime::fresh_ec_key(alg),
        ),
        _ => (
            runtime::RSA_2048.to_vec(),
            runtime::RSA_2048_FORGER.to_vec(),
        ),
    };
    let public_members = if alg.key_kind() == jwtedge::core::KeyKind::Rsa {
        runtime::rsa_members(&key, false)
    } else {
        runtime::ec_members(alg, &key)
    };
    let mut jwk: Members =
        serde_json::from_str::<serde_json::Map<String, Value>>(&format!("{{{public_members}}}"))
            .expect("members")
            .into_iter()
            .map(|(n, v)| (n, v.to_string()))
            .collect();
    let kty = if alg.key_kind() == jwtedge::core::KeyKind::Rsa {
        "RSA"
    } else {
        "EC"
    };
    jwk.insert(0, ("kty".into(), js(kty)));
    jwk.push(("alg".into(), js(alg.name())));
    jwk.push(("use".into(), js("sig")));
    let public = runtime::public_bytes(alg, &key);
    Row {
        alg,
        kid,
        jwk,
        sign: {
            let signer = runtime::Signer::new(alg, &key);
            Box::new(move |m| signer.sign(m))
        },
        forge: {
            let signer = runtime::Signer::new(alg, &forger);
            Box::new(move |m| signer.sign(m))
        },
        public: Some(public),
    }
}

/// Every algorithm the core verifies (ES512 aside: ring, the stand-in for the runtime here, has
/// no P-521; tests/node checks ES512 against node:crypto).
fn rows() -> Vec<Row> {
    vec![
        ed_row("ed-1", 1, 9),
        ed_row("ed-2", 2, 8),
        hs_row("hs-1", common::HS_SECRET, [8; 32]),
        hs_long_row("hs-384", Algorithm::Hs384, 5),
        hs_long_row("hs-512", Algorithm::Hs512, 6),
        runtime_row("rs-256", Algorithm::Rs256),
        runtime_row("rs-384", Algorithm::Rs384),
        runtime_row("rs-512", Algorithm::Rs512),
        runtime_row("ps-256", Algorithm::Ps256),
        runtime_row("ps-384", Algorithm::Ps384),
        runtime_row("ps-512", Algorithm::Ps512),
        runtime_row("es-256", Algorithm::Es256),
        runtime_row("es-384", Algorithm::Es384),
    ]
}

#[test]
fn the_table_covers_every_algorithm() {
    let rows = rows();
    for alg in Algorithm::ALL {
        if alg == Algorithm::Es512 {
            continue; // no P-521 in ring: see rows()
        }
        assert!(
            rows.iter().any(|r| r.alg == alg),
            "fuzz_core has no row for {alg}: add its signer to rows()"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// JSON as member lists, so mutations can work on members (duplicate, escape, retype) and on text.

/// `(name as it appears between the quotes, raw JSON value)`.
type Members = Vec<(String, String)>;

fn members(list: &[(&str, &str)]) -> Members {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn object(members: &Members) -> String {
    let body: Vec<String> = members
        .iter()
        .map(|(n, v)| format!("\"{n}\":{v}"))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn js(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// The top-level member names of a JSON object after unescaping, duplicates kept; `None` when the
/// text is not a JSON object.
fn top_level_names(json: &[u8]) -> Option<Vec<String>> {
    struct Names(Vec<String>);
    impl<'de> Deserialize<'de> for Names {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Names, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Names;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Names, A::Error> {
                    let mut names = Vec::new();
                    while let Some((name, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                        names.push(name);
                    }
                    Ok(Names(names))
                }
            }
            d.deserialize_map(V)
        }
    }
    if exceeds_depth(json, MAX_JSON_DEPTH) {
        return None;
    }
    serde_json::from_slice::<Names>(json).ok().map(|n| n.0)
}

fn has_duplicate_of(names: &[String], registered: &[&str]) -> Option<String> {
    registered
        .iter()
        .find(|r| names.iter().filter(|n| n == *r).count() > 1)
        .map(|r| r.to_string())
}

const REGISTERED_HEADER: [&str; 4] = ["alg", "kid", "typ", "crit"];
const REGISTERED_CLAIMS: [&str; 8] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid"];

// ---------------------------------------------------------------------------------------------
// The generator: one case's random choices, and what it signed.

struct Gen<'a> {
    rng: &'a mut StdRng,
    /// Mutations applied, in order, for the failure report.
    log: Vec<String>,
}

const HUGE_NUMBERS: [&str; 24] = [
    "1e308",
    "1e309",
    "-1e309",
    "1e999",
    "1E400",
    "-0",
    "0e0",
    "18446744073709551616",
    "9007199254740993",
    "1.7976931348623157e308",
    "4.9e-324",
    "1e-400",
    "00",
    "01",
    "1.",
    "+1",
    ".5",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "1700000000.000000000000000000001",
    "-1700000000",
    "17000000000000000000000000000000000000000000000000000000000000000000000000000000000",
];

/// Pieces of JSON string content: plain, non-ASCII, escapes, surrogates (paired and lone), NUL.
const STRING_PIECES: [&str; 18] = [
    "a",
    "user",
    "é",
    "日本",
    "🎉",
    "\\u0041",
    "\\n",
    "\\\"",
    "\\\\",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\udfff",
    "\\u0000",
    " ",
    "\u{202e}",
    "\u{feff}",
    "\\/",
    "\u{1}",
];

impl Gen<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        items.choose(self.rng).expect("non-empty choice")
    }

    fn note(&mut self, what: impl Into<String>) {
        self.log.push(what.into());
    }

    fn string_content(&mut self) -> String {
        let n = self.below(5);
        (0..n).map(|_| *self.pick(&STRING_PIECES)).collect()
    }

    fn number(&mut self) -> String {
        match self.below(4) {
            0 => self.pick(&HUGE_NUMBERS).to_string(),
            1 => format!("{}", self.rng.random::<f64>() * 1e10),
            2 => format!("{}", self.rng.random::<i64>()),
            _ => format!("{}", self.below(1000)),
        }
    }

    /// A random JSON value at most `depth` levels deep; `wild` ones may be out of range or not
    /// quite JSON (huge numbers, lone surrogates, control characters).
    fn value(&mut self, depth: usize, wild: bool) -> String {
        let kinds = if depth == 0 { 4 } else { 6 };
        match self.below(kinds) {
            0 if wild => self.number(),
            0 => format!("{}", self.rng.random_range(-1e6..1e6)),
            1 if wild => format!("\"{}\"", self.string_content()),
            1 => js(self.pick::<&str>(&["é", "日本", "🎉", "a b", "\u{0}", "\\", "\"", ""])),
            2 => self.pick(&["true", "false", "null"]).to_string(),
            3 => format!("\"{}\"", self.pick(&["api", ISS, "user-1", "admin", ""])),
            4 => {
                let n = self.below(4);
                let items: Vec<String> = (0..n).map(|_| self.value(depth - 1, wild)).collect();
                format!("[{}]", items.join(","))
            }
            _ => {
                let n = self.below(4);
                let items: Members = (0..n)
                    .map(|_| {
                        let name = match wild {
                            true => self.string_content(),
                            false => self.pick(&["a", "b", "é", "🎉"]).to_string(),
                        };
                        (name, self.value(depth - 1, wild))
                    })
                    .collect();
                object(&items)
            }
        }
    }

    /// Arrays/objects nested around the SPEC's depth limit of 32 (or far beyond it).
    fn nested(&mut self) -> String {
        let depth = *self.pick(&[30usize, 31, 32, 33, 64, 5000]);
        match self.below(3) {
            0 => format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
            1 => format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)),
            _ => format!(
                "{}\"]]]\"{}",
                "[{\"[\":".repeat(depth / 2),
                "}]".repeat(depth / 2)
            ),
        }
    }

    fn options(&mut self, rows: &[Row]) -> VerifyOptions {
        let mut o = VerifyOptions::default();
        if self.chance(0.8) {
            o.issuer = Some(vec![ISS.into()]);
        }
        if self.chance(0.8) {
            o.audience = Some(if self.chance(0.8) {
                vec!["api".into()]
            } else {
                vec!["billing".into(), "api".into()]
            });
        }
        o.leeway_seconds = *self.pick(&[0.0, 0.0, 0.0, 5.0, 0.5, 60.0]);
        if self.chance(0.1) {
            let mut algs: Vec<Algorithm> = Vec::new();
            for row in rows {
                if !algs.contains(&row.alg) {
                    algs.push(row.alg);
                }
            }
            let keep = self.below(algs.len()) + 1;
            o.algorithms = algs.sample(self.rng, keep).copied().collect();
        }
        if self.chance(0.1) {
            o.token_type = TypeExpectation::Exactly("at+jwt".into());
        }
        if self.chance(0.1) {
            o.required_claims = vec![self.pick(&["sid", "scope", "nope"]).to_string()];
        }
        if self.chance(0.05) {
            o.max_token_bytes = self.rng.random_range(40..700);
        }
        o
    }

    fn header(&mut self, row: &Row, with_kid: bool) -> Members {
        let mut h = members(&[("alg", &js(row.alg.name()))]);
        if with_kid {
            h.push(("kid".into(), js(row.kid)));
        }
        let typ = *self.pick(&[
            Some("at+jwt"),
            Some("at+jwt"),
            Some("at+jwt"),
            Some("JWT"),
            None,
            Some("application/at+jwt"),
        ]);
        if let Some(typ) = typ {
            h.push(("typ".into(), js(typ)));
        }
        if self.chance(0.2) {
            h.reverse();
        }
        h
    }

    fn claims(&mut self, opts: &VerifyOptions) -> Members {
        let l = opts.leeway_seconds;
        let mut c = Members::new();
        let iss = *self.pick(&[
            ISS,
            ISS,
            ISS,
            ISS,
            ISS,
            "https://evil.example",
            "https://auth.example.com/",
        ]);
        c.push(("iss".into(), js(iss)));
        c.push(("sub".into(), js("user-1")));
        let aud = self
            .pick(&[
                "\"api\"",
                "\"api\"",
                "\"api\"",
                "[\"x\",\"api\"]",
                "\"billing\"",
                "[]",
            ])
            .to_string();
        c.push(("aud".into(), aud));
        c.push(("iat".into(), format!("{}", NOW - 10.0)));
        let exp = *self.pick(&[
            NOW + 600.0,
            NOW + 600.0,
            NOW + 600.0,
            NOW - 10.0,
            NOW - l,
            NOW - l + 0.25,
            NOW - l - 0.25,
        ]);
        c.push(("exp".into(), format!("{exp}")));
        if self.chance(0.3) {
            let nbf = *self.pick(&[NOW - 10.0, NOW + 100.0, NOW + l, NOW + l + 0.25]);
            c.push(("nbf".into(), format!("{nbf}")));
        }
        c.push(("jti".into(), js("j-1")));
        c.push(("sid".into(), js("s-1")));
        for _ in 0..self.below(3) {
            let name = self
                .pick(&["role", "scope", "é", "🎉", "x\\u0000"])
                .to_string();
            let wild = self.chance(0.1);
            let value = self.value(2, wild);
            c.push((name, value));
        }
        if self.chance(0.2) {
            c.reverse();
        }
        c
    }

    /// One change to a JSON object's members (a header or a claims set).
    fn mutate_members(&mut self, m: &mut Members, is_header: bool, rows: &[Row]) {
        if m.is_empty() {
            m.push(("x".into(), "1".into()));
        }
        let i = self.below(m.len());
        match self.below(11) {
            0 => {
                let copy = m[i].clone();
                let value = if self.chance(0.5) {
                    copy.1.clone()
                } else {
                    self.value(1, true)
                };
                let at = self.below(m.len() + 1);
                self.note(format!("duplicate member {}", copy.0));
                m.insert(at, (copy.0, value));
            }
            1 => {
                // "alg" → "\u0061lg": the same name to a JSON parser.
                let name = m[i].0.clone();
                let escaped: String = name
                    .chars()
                    .enumerate()
                    .map(|(k, ch)| {
                        if k == 0 && ch.is_ascii() {
                            format!("\\u{:04x}", ch as u32)
                        } else {
                            ch.to_string()
                        }
                    })
                    .collect();
                self.note(format!("escape name {name}"));
                m[i].0 = escaped;
            }
            2 => {
                let value = self.pick(&HUGE_NUMBERS).to_string();
                self.note(format!("{} = {value}", m[i].0));
                m[i].1 = value;
            }
            3 => {
                let value = self.nested();
                self.note(format!("{} = nested", m[i].0));
                m[i].1 = value;
            }
            4 => {
                let value = format!("\"{}\"", self.string_content());
                self.note(format!("{} = string {value}", m[i].0));
                m[i].1 = value;
            }
            5 => {
                let (name, _) = m.remove(i);
                self.note(format!("drop {name}"));
            }
            6 => {
                let value = self.value(2, true);
                self.note(format!("{} = {value}", m[i].0));
                m[i].1 = value;
            }
            7 if is_header => self.swap_alg(m, rows),
            8 if is_header => self.swap_kid(m, rows),
            9 if is_header => {
                let crit = *self.pick(&["[]", "[\"exp\"]", "null", "\"x\"", "{}", "[\"b64\"]"]);
                self.note(format!("crit {crit}"));
                m.push(("crit".into(), crit.into()));
            }
            10 if is_header => {
                let typ = *self.pick(&[
                    "\"dpop+jwt\"",
                    "\"AT+JWT\"",
                    "null",
                    "5",
                    "\"application/jwt\"",
                    "\"at+jwt \"",
                    "\"\"",
                ]);
                self.note(format!("typ {typ}"));
                set(m, "typ", typ);
            }
            _ if !is_header => {
                let (name, value) = self
                    .pick(&[
                        ("exp", "\"1800000000\""),
                        ("exp", "null"),
                        ("exp", "true"),
                        ("exp", "[1800000000]"),
                        ("aud", "[1]"),
                        ("aud", "{}"),
                        ("iss", "5"),
                        ("sub", "null"),
                        ("nbf", "\"0\""),
                        ("jti", "{}"),
                        ("sid", "[]"),
                        ("exp", "1800000000"),
                    ])
                    .to_owned();
                self.note(format!("retype {name} = {value}"));
                set(m, name, value);
            }
            _ => {
                let name = self.string_content();
                let value = self.value(2, true);
                self.note(format!("add {name}"));
                m.push((name, value));
            }
        }
    }

    fn swap_alg(&mut self, m: &mut Members, rows: &[Row]) {
        let other = rows[self.below(rows.len())].alg.name();
        let alg = match self.below(3) {
            0 => js(other),
            _ => self
                .pick(&[
                    "\"none\"",
                    "\"None\"",
                    "\"NONE\"",
                    "\"hs256\"",
                    "\"eddsa\"",
                    "\"HS384\"",
                    "\"RS256\"",
                    "\"ES256\"",
                    "\"EdDSA \"",
                    "\"Ed25519\"",
                    "\"\"",
                    "null",
                    "1",
                    "[\"EdDSA\"]",
                    "\"H\\u0053256\"",
                ])
                .to_string(),
        };
        self.note(format!("alg {alg}"));
        set(m, "alg", &alg);
    }

    fn swap_kid(&mut self, m: &mut Members, rows: &[Row]) {
        let other = rows[self.below(rows.len())].kid;
        let kid = match self.below(3) {
            0 => js(other),
            _ => self
                .pick(&[
                    "\"zz\"",
                    "\"\"",
                    "null",
                    "5",
                    "\"ed\\u002d1\"",
                    "\"ED-1\"",
                    "\"ed-1 \"",
                    "\"ed-1\\u0000\"",
                    "[\"ed-1\"]",
                ])
                .to_string(),
        };
        if self.chance(0.15) {
            self.note("drop kid");
            m.retain(|(n, _)| n != "kid");
        } else {
            self.note(format!("kid {kid}"));
            set(m, "kid", &kid);
        }
    }

    /// One change to a JSON text that member edits cannot make.
    fn mutate_json_text(&mut self, text: &mut Vec<u8>) {
        match self.below(8) {
            0 => {
                self.note("BOM/whitespace before");
                let prefix: &[u8] = self.pick::<&[u8]>(&[b"\xef\xbb\xbf", b" ", b"\n", b"\t\r\n "]);
                text.splice(0..0, prefix.iter().copied());
            }
            1 => {
                let tail: &[u8] =
                    self.pick::<&[u8]>(&[b"x", b",", b"}", b" ", b"\0", b"//c", b"{}", b"\n"]);
                self.note(format!("trailing {:?}", String::from_utf8_lossy(tail)));
                text.extend_from_slice(tail);
            }
            2 => {
                let form = self.below(4);
                self.note(format!("not an object ({form})"));
                *text = match form {
                    0 => [&b"["[..], text, b"]"].concat(),
                    1 => b"\"a string\"".to_vec(),
                    2 => b"null".to_vec(),
                    _ => Vec::new(),
                };
            }
            3 => {
                let at = self.below(text.len());
                self.note(format!("truncate JSON at {at}"));
                text.truncate(at);
            }
            4 => {
                let bad: &[u8] = self.pick::<&[u8]>(&[
                    b"\xff",
                    b"\xc0\x80",
                    b"\xed\xa0\x80",
                    b"\xf4\x90\x80\x80",
                ]);
                let at = self.below(text.len() + 1);
                self.note(format!("invalid UTF-8 at {at}"));
                text.splice(at..at, bad.iter().copied());
            }
            5 => {
                if let Some(pos) = text.iter().rposition(|b| *b == b'}') {
                    self.note("trailing comma");
                    text.insert(pos, b',');
                }
            }
            6 => {
                let i = self.below(text.len());
                let bit = self.below(8);
                self.note(format!("JSON bit flip {i}:{bit}"));
                if let Some(b) = text.get_mut(i) {
                    *b ^= 1 << bit;
                }
            }
            _ => {
                self.note("wrap in whitespace-padded object");
                *text = [&b" "[..], text, b" "].concat();
            }
        }
    }

    /// One change to the compact serialisation itself.
    fn mutate_token(&mut self, token: &mut String, other_sig: &str, max: usize) {
        let parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        match self.below(12) {
            0 => {
                // ASCII stays ASCII: bit 7 is left alone (the token is a &str).
                let i = self.below(token.len());
                let bit = self.below(7);
                self.note(format!("bit flip {i}:{bit}"));
                let mut bytes = token.clone().into_bytes();
                if let Some(b) = bytes.get_mut(i) {
                    if b.is_ascii() {
                        *b ^= 1 << bit;
                    }
                }
                *token = String::from_utf8(bytes).expect("ASCII");
            }
            1 => {
                // Flip a bit of a decoded part and re-encode: valid base64url, changed bytes.
                let p = self.below(parts.len());
                if let Some(mut raw) = b64url_decode(parts[p].as_bytes()).filter(|r| !r.is_empty())
                {
                    let i = self.below(raw.len());
                    let bit = self.below(8);
                    raw[i] ^= 1 << bit;
                    self.note(format!("decoded bit flip part {p} byte {i}:{bit}"));
                    *token = with_part(&parts, p, &b64(&raw));
                }
            }
            2 => {
                let p = self.below(parts.len());
                let swapped = match self.below(4) {
                    0 => parts[p].replace('-', "+").replace('_', "/"),
                    1 => format!("{}{}", parts[p], self.pick(&["=", "==", "==="])),
                    2 => {
                        // The standard alphabet with padding: the same bytes, another spelling.
                        use base64::Engine;
                        b64url_decode(parts[p].as_bytes())
                            .map(|raw| base64::engine::general_purpose::STANDARD.encode(raw))
                            .unwrap_or_else(|| parts[p].clone())
                    }
                    _ => {
                        use base64::Engine;
                        b64url_decode(parts[p].as_bytes())
                            .map(|raw| base64::engine::general_purpose::URL_SAFE.encode(raw))
                            .unwrap_or_else(|| parts[p].clone())
                    }
                };
                self.note(format!("base64 alphabet/padding, part {p}"));
                *token = with_part(&parts, p, &swapped);
            }
            3 => {
                // Non-zero trailing bits: a lenient decoder reads the same bytes.
                let p = self.below(parts.len());
                let s = &parts[p];
                if matches!(s.len() % 4, 2 | 3) {
                    const ALPHABET: &[u8] =
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                    let last = s.as_bytes()[s.len() - 1];
                    if let Some(v) = ALPHABET.iter().position(|c| *c == last) {
                        let noise = if s.len() % 4 == 2 {
                            1 + self.below(15)
                        } else {
                            1 + self.below(3)
                        };
                        let changed = ALPHABET[v | noise] as char;
                        self.note(format!("trailing bits, part {p}"));
                        *token = with_part(&parts, p, &format!("{}{changed}", &s[..s.len() - 1]));
                    }
                }
            }
            4 => {
                let mut at = self.below(token.len() + 1);
                while !token.is_char_boundary(at) {
                    at -= 1;
                }
                self.note(format!("truncate at {at}"));
                token.truncate(at);
            }
            5 => {
                let form = self.below(6);
                self.note(format!("dots ({form})"));
                *token = match form {
                    0 => format!("{token}."),
                    1 => format!(".{token}"),
                    2 => token.replacen('.', "..", 1),
                    3 => token.replacen('.', "", 1),
                    4 => format!(
                        "{}.{}.{}.{}",
                        parts[0],
                        parts.get(1).cloned().unwrap_or_default(),
                        "",
                        ""
                    ),
                    _ => with_part(&parts, parts.len() - 1, ""),
                };
            }
            6 => {
                self.note("signature from another token");
                *token = with_part(&parts, parts.len() - 1, other_sig);
            }
            7 => {
                let ws = *self.pick(&[" ", "\n", "\t", "\r\n", "\u{a0}", "\u{2028}"]);
                let at = self.below(token.len() + 1);
                if token.is_char_boundary(at) {
                    self.note(format!("whitespace at {at}"));
                    token.insert_str(at, ws);
                }
            }
            8 => {
                let at = self.below(token.len());
                if token.is_char_boundary(at) && token.is_char_boundary(at + 1) {
                    self.note(format!("delete byte {at}"));
                    token.remove(at);
                }
            }
            9 => {
                let ch = *self.pick(&[
                    'A', '-', '_', '=', '+', '/', '.', 'é', '\0', '\u{202e}', '🎉',
                ]);
                let at = self.below(token.len() + 1);
                if token.is_char_boundary(at) {
                    self.note(format!("insert {ch:?} at {at}"));
                    token.insert(at, ch);
                }
            }
            10 => {
                let extra = max.saturating_sub(token.len()) + self.below(3);
                self.note(format!("pad to {} bytes", token.len() + extra));
                token.push_str(&"A".repeat(extra));
            }
            _ => {
                // Header of one token, payload of another (cut-and-paste).
                self.note("swap header and payload");
                if parts.len() == 3 {
                    *token = format!("{}.{}.{}", parts[1], parts[0], parts[2]);
                }
            }
        }
    }
}

fn with_part(parts: &[String], index: usize, new: &str) -> String {
    let mut parts = parts.to_vec();
    if let Some(p) = parts.get_mut(index) {
        *p = new.to_string();
    }
    parts.join(".")
}

fn set(m: &mut Members, name: &str, value: &str) {
    match m.iter_mut().find(|(n, _)| n == name) {
        Some(member) => member.1 = value.to_string(),
        None => m.push((name.to_string(), value.to_string())),
    }
}

fn encode(header: &[u8], claims: &[u8], sig: &[u8]) -> String {
    format!("{}.{}.{}", b64(header), b64(claims), b64(sig))
}

fn signing_input(header: &[u8], claims: &[u8]) -> String {
    format!("{}.{}", b64(header), b64(claims))
}

// ---------------------------------------------------------------------------------------------
// Keysets

#[derive(Clone, Copy, Debug, PartialEq)]
enum KeysetKind {
    /// Every row, each with its kid.
    Standard,
    /// The first row of each algorithm, without kid (third-party style, SPEC §3).
    Kidless,
    /// The standard keyset with keyset-level and text-level mutations.
    Mutated,
}

fn keyset_members(rows: &[Row], kind: KeysetKind) -> Vec<Members> {
    let mut seen = Vec::new();
    let mut keys = Vec::new();
    for row in rows {
        let mut jwk = row.jwk.clone();
        if kind == KeysetKind::Kidless {
            if seen.contains(&row.alg) {
                continue;
            }
            seen.push(row.alg);
        } else {
            jwk.push(("kid".into(), js(row.kid)));
        }
        keys.push(jwk);
    }
    keys
}

fn keyset_text(keys: &[Members]) -> String {
    let keys: Vec<String> = keys.iter().map(object).collect();
    format!("{{\"keys\":[{}]}}", keys.join(","))
}

/// Keys the verifier should skip or that carry odd members (never key material a forger holds).
const ODD_KEYS: [&str; 9] = [
    r#"{"kty":"RSA","n":"sXch","e":"AQAB","kid":"r","alg":"RS256"}"#,
    r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"e"}"#,
    r#"{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"x"}"#,
    r#"{"kty":"oct","k":"c2hvcnQ","kid":"short"}"#,
    r#"{"kty":"oct","k":"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE","kid":"enc","use":"enc"}"#,
    r#"{"kty":"OKP","crv":"Ed25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kid":"small-order"}"#,
    r#"{"kty":5}"#,
    r#"[]"#,
    r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed-1","x5c":["MIIB"],"key_ops":["verify"],"ext":true}"#,
];

impl Gen<'_> {
    /// Keyset-level changes: keys dropped, duplicated, relabelled, members retyped.
    fn mutate_keys(&mut self, keys: &mut Vec<Members>) {
        let n = keys.len();
        match self.below(8) {
            0 if n > 0 => {
                let i = self.below(n);
                self.note(format!("drop key {i}"));
                keys.remove(i);
            }
            1 if n > 0 => {
                let i = self.below(n);
                self.note(format!("duplicate key {i}"));
                let copy = keys[i].clone();
                keys.insert(self.below(n + 1), copy);
            }
            2 if n > 1 => {
                let (a, b) = (self.below(n), self.below(n));
                self.note(format!("swap kids of keys {a} and {b}"));
                let kid_a = keys[a]
                    .iter()
                    .find(|(k, _)| k == "kid")
                    .map(|m| m.1.clone());
                let kid_b = keys[b]
                    .iter()
                    .find(|(k, _)| k == "kid")
                    .map(|m| m.1.clone());
                if let (Some(ka), Some(kb)) = (kid_a, kid_b) {
                    set(&mut keys[a], "kid", &kb);
                    set(&mut keys[b], "kid", &ka);
                }
            }
            3 if n > 0 => {
                let i = self.below(n);
                let (name, value) = *self.pick(&[
                    ("alg", "\"HS256\""),
                    ("alg", "\"EdDSA\""),
                    ("alg", "\"none\""),
                    ("alg", "null"),
                    ("use", "\"enc\""),
                    ("use", "5"),
                    ("crv", "\"Ed448\""),
                    ("kty", "\"EC\""),
                    ("kid", "5"),
                    ("kid", "\"\""),
                    ("key_ops", "[\"sign\"]"),
                    ("key_ops", "[\"verify\"]"),
                ]);
                self.note(format!("key {i}: {name} = {value}"));
                set(&mut keys[i], name, value);
            }
            4 if n > 0 => {
                let i = self.below(n);
                let drop = self
                    .pick(&["alg", "kid", "use", "crv", "x", "k", "kty"])
                    .to_string();
                self.note(format!("key {i}: drop {drop}"));
                keys[i].retain(|(k, _)| *k != drop);
            }
            5 if n > 0 => {
                let i = self.below(n);
                let mut jwk = keys[i].clone();
                self.mutate_members(&mut jwk, false, &[]);
                keys[i] = jwk;
            }
            _ => {
                let odd = *self.pick(&ODD_KEYS);
                self.note(format!("add odd key {odd}"));
                let at = self.below(n + 1);
                // Kept as raw text: a one-member list whose "name" closes the object itself.
                keys.insert(at, vec![(String::new(), odd.to_string())]);
            }
        }
    }
}

/// Like `keyset_text`, but a key whose only member has an empty name is raw JSON text.
fn keyset_text_raw(keys: &[Members]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|k| match k.as_slice() {
            [(name, raw)] if name.is_empty() => raw.clone(),
            _ => object(k),
        })
        .collect();
    format!("{{\"keys\":[{}]}}", keys.join(","))
}

// ---------------------------------------------------------------------------------------------
// Oracles

/// Claims checks a reason after the signature stage implies (SPEC §4 order).
const AFTER_SIGNATURE: [Reason; 5] = [
    Reason::Expired,
    Reason::NotYetValid,
    Reason::InvalidIssuer,
    Reason::InvalidAudience,
    Reason::MissingClaim,
];

struct Signed {
    token: String,
    row: usize,
}

/// Everything asserted of one verification.
fn check_outcome(
    token: &str,
    keyset: &Keyset,
    kind: KeysetKind,
    opts: &VerifyOptions,
    rows: &[Row],
    signed: &[Signed],
) -> Result<Outcome, String> {
    let out = verify_using(token, keyset, opts, NOW, common::runtime::check);
    // Deterministic, and the split pipeline (key lookup here, signature check elsewhere, as the
    // WebCrypto path does) reaches the same outcome.
    let again = verify_using(token, keyset, opts, NOW, common::runtime::check);
    if again != out {
        return Err(format!("two verifications differ: {out:?} / {again:?}"));
    }
    let split = match UntrustedToken::parse(token, opts) {
        Err(reason) => Outcome::Rejected(reason),
        Ok(untrusted) => match untrusted.find_key(keyset) {
            Err(reason) => Outcome::Rejected(reason),
            Ok(key) => match key.runtime_key() {
                None => {
                    let valid =
                        key.verify_signature(untrusted.signing_input(), untrusted.signature());
                    untrusted.awaiting_signature(key).finish(valid, opts, NOW)
                }
                // The runtime path: the core's checks, then the runtime's verdict.
                Some(_) => match untrusted.check_with(key, opts, NOW) {
                    Step::Done(outcome) => outcome,
                    Step::Runtime(check) => match common::runtime::check(&check) {
                        Some(valid) => check.finish(valid, opts, NOW),
                        None => Outcome::Rejected(Reason::UnsupportedAlgorithm),
                    },
                },
            },
        },
    };
    if split != out {
        return Err(format!("split pipeline differs: {out:?} / {split:?}"));
    }
    // One outcome, consistent with itself.
    match &out {
        Outcome::Ok(_) => {
            if out.reason().is_some() || out.status() != Status::Ok || out.code() != "OK" {
                return Err("OK with a reason".into());
            }
        }
        Outcome::Rejected(reason) => {
            if out.verified().is_some()
                || out.status() != reason.status()
                || out.status() == Status::Ok
            {
                return Err(format!("inconsistent rejection {out:?}"));
            }
            if reason.status() == Status::KeysetUnavailable {
                return Err(format!("a pure verification produced {reason}"));
            }
        }
    }
    // Size is checked first and alone.
    if (token.len() > opts.max_token_bytes) != (out.reason() == Some(Reason::TooLarge)) {
        return Err(format!(
            "{} bytes against a limit of {} gave {}",
            token.len(),
            opts.max_token_bytes,
            out.code()
        ));
    }
    // Duplicated registered members never verify.
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 3 && token.len() <= opts.max_token_bytes {
        for (part, registered) in [
            (parts[0], &REGISTERED_HEADER[..]),
            (parts[1], &REGISTERED_CLAIMS[..]),
        ] {
            let names = b64url_decode(part.as_bytes()).and_then(|json| top_level_names(&json));
            if let Some(dup) = names.and_then(|n| has_duplicate_of(&n, registered)) {
                if out.reason() != Some(Reason::Malformed) {
                    return Err(format!("duplicate {dup:?} gave {}", out.code()));
                }
            }
        }
    }
    // A registered member written as `null` is a wrong type, not an absent member (`exp` aside:
    // a null expiry is `missing_claim`).
    if parts.len() == 3 && token.len() <= opts.max_token_bytes {
        let value = |part: &str| {
            b64url_decode(part.as_bytes()).and_then(|j| serde_json::from_slice::<Value>(&j).ok())
        };
        let null_in = |v: Option<Value>, names: &[&str]| {
            v.is_some_and(|v| names.iter().any(|n| v.get(n).is_some_and(Value::is_null)))
        };
        if (null_in(value(parts[0]), &["kid", "typ", "crit"])
            || null_in(
                value(parts[1]),
                &["iss", "sub", "aud", "nbf", "iat", "jti", "sid"],
            ))
            && out.reason() != Some(Reason::Malformed)
        {
            return Err(format!("a registered null member gave {}", out.code()));
        }
    }
    // A `crit` member (any value, `null` included) or an algorithm not allowed ends the
    // verification at the header stage (SPEC §4: unsupported_algorithm; malformed if ill-typed).
    if parts.len() == 3 {
        let header = b64url_decode(parts[0].as_bytes());
        let names = header
            .as_deref()
            .and_then(top_level_names)
            .unwrap_or_default();
        let alg: Option<String> = header
            .as_deref()
            .and_then(|h| serde_json::from_slice::<Value>(h).ok())
            .and_then(|h| h.get("alg")?.as_str().map(str::to_owned));
        let alg_refused = alg.is_some_and(|alg| {
            !Algorithm::from_name(&alg).is_some_and(|a| opts.algorithms.contains(&a))
        });
        let header_stage = [
            Reason::TooLarge,
            Reason::Malformed,
            Reason::UnsupportedAlgorithm,
        ];
        if (names.iter().any(|n| n == "crit") || alg_refused)
            && !out.reason().is_some_and(|r| header_stage.contains(&r))
        {
            return Err(format!("crit or a refused alg gave {}", out.code()));
        }
    }
    // OK, and every verdict reached after the signature, only for what the test signed.
    let after_signature = match &out {
        Outcome::Ok(_) => true,
        Outcome::Rejected(reason) => AFTER_SIGNATURE.contains(reason),
    };
    if after_signature {
        let Some(origin) = signed.iter().find(|s| s.token == token) else {
            return Err(format!("{} for a token the test never signed", out.code()));
        };
        let row = &rows[origin.row];
        if let Outcome::Ok(v) = &out {
            if v.alg != row.alg {
                return Err(format!("OK as {} for a token signed as {}", v.alg, row.alg));
            }
            let want_kid = match kind {
                KeysetKind::Standard => Some(row.kid),
                KeysetKind::Kidless => None,
                KeysetKind::Mutated => v.kid.as_deref(),
            };
            if v.kid.as_deref() != want_kid {
                return Err(format!("OK with kid {:?}, signed by {}", v.kid, row.kid));
            }
            // A token naming a kid is verified by the key of that kid, never another.
            let header: Option<Value> =
                b64url_decode(parts[0].as_bytes()).and_then(|h| serde_json::from_slice(&h).ok());
            if let Some(kid) = header.as_ref().and_then(|h| h.get("kid")) {
                if v.kid.as_deref() != kid.as_str() {
                    return Err(format!("OK with kid {:?}, header kid {kid}", v.kid));
                }
            }
            let payload = b64url_decode(parts[1].as_bytes()).unwrap_or_default();
            if v.claims_json.as_bytes() != payload.as_slice() {
                return Err("claims_json is not the signed payload".into());
            }
            check_verified_claims(&v.claims_json, opts)?;
        }
    }
    Ok(out)
}

/// An `OK` token meets every expectation (an independent reading of the claims with serde_json:
/// registered members as untyped values, custom members skipped, as JavaScript would see them).
fn check_verified_claims(claims_json: &str, opts: &VerifyOptions) -> Result<(), String> {
    #[derive(Deserialize)]
    struct Registered {
        iss: Option<Value>,
        aud: Option<Value>,
        exp: Option<Value>,
        nbf: Option<Value>,
    }
    let r: Registered = serde_json::from_str(claims_json).map_err(|e| format!("OK claims: {e}"))?;
    let names = top_level_names(claims_json.as_bytes()).unwrap_or_default();
    let claims: serde_json::Map<String, Value> = [
        ("iss", r.iss),
        ("aud", r.aud),
        ("exp", r.exp),
        ("nbf", r.nbf),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_string(), v?)))
    .collect();
    let num = |name: &str| claims.get(name).and_then(Value::as_f64);
    let l = opts.leeway_seconds;
    match num("exp") {
        Some(exp) if exp > NOW - l => {}
        other => return Err(format!("OK with exp {other:?}")),
    }
    if num("nbf").is_some_and(|nbf| nbf > NOW + l) {
        return Err("OK before nbf".into());
    }
    if let Some(issuers) = &opts.issuer {
        let iss = claims.get("iss").and_then(Value::as_str);
        if !iss.is_some_and(|i| issuers.iter().any(|w| w == i)) {
            return Err(format!("OK with iss {iss:?}"));
        }
    }
    if let Some(audiences) = &opts.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => audiences.contains(a),
            Some(Value::Array(list)) => list
                .iter()
                .any(|a| a.as_str().is_some_and(|a| audiences.iter().any(|w| w == a))),
            _ => false,
        };
        if !ok {
            return Err("OK without an expected audience".into());
        }
    }
    for name in &opts.required_claims {
        if !names.contains(name) {
            return Err(format!("OK without required claim {name}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Targets

/// Mutated tokens (and sometimes keysets) through the whole verification pipeline.
#[test]
fn fuzz_tokens() {
    let budget = Budget::from_env();
    let rows = rows();
    let standard_text = keyset_text(&keyset_members(&rows, KeysetKind::Standard));
    let standard = Keyset::from_jwks_json(standard_text.as_bytes(), KeysetLimits::default())
        .expect("the standard keyset loads");
    let kidless_text = keyset_text(&keyset_members(&rows, KeysetKind::Kidless));
    let kidless = Keyset::from_jwks_json(kidless_text.as_bytes(), KeysetLimits::default())
        .expect("the kid-less keyset loads");
    assert_eq!(standard.len(), rows.len());

    let stats = budget.run("tokens", 1.0, |rng, stats| {
        let mut g = Gen {
            rng,
            log: Vec::new(),
        };
        let opts = g.options(&rows);
        let roll = g.below(10);
        let (kind, mutated);
        let keyset = if roll < 7 {
            kind = KeysetKind::Standard;
            &standard
        } else if roll < 8 {
            kind = KeysetKind::Kidless;
            &kidless
        } else {
            let mut keys = keyset_members(&rows, KeysetKind::Standard);
            for _ in 0..=g.below(2) {
                g.mutate_keys(&mut keys);
            }
            let text = keyset_text_raw(&keys);
            stats.input = format!("keyset {text}");
            match Keyset::from_jwks_json(text.as_bytes(), KeysetLimits::default()) {
                Ok(parsed) => {
                    kind = KeysetKind::Mutated;
                    mutated = parsed;
                    &mutated
                }
                Err(_) => {
                    kind = KeysetKind::Standard;
                    &standard
                }
            }
        };

        let r = g.below(rows.len());
        let row = &rows[r];
        let with_kid = kind != KeysetKind::Kidless || g.chance(0.2);
        let mut header = g.header(row, with_kid);
        let mut claims = g.claims(&opts);
        let (h0, c0) = (object(&header).into_bytes(), object(&claims).into_bytes());
        let mut signed = vec![Signed {
            token: encode(&h0, &c0, &(row.sign)(signing_input(&h0, &c0).as_bytes())),
            row: r,
        }];
        // Another row's genuine signature, for cut-and-paste.
        let o = g.below(rows.len());
        let other_sig = b64(&(rows[o].sign)(signing_input(&h0, &c0).as_bytes()));
        signed.push(Signed {
            token: format!("{}.{other_sig}", signing_input(&h0, &c0)),
            row: o,
        });

        // Some cases stay clean: the claims' edges (exp, nbf, leeway, iss, aud) on valid signatures.
        let clean = g.chance(0.2);
        // Member edits, then text edits of the JSON.
        for _ in 0..if clean { 0 } else { g.below(3) } {
            if g.chance(0.5) {
                g.mutate_members(&mut header, true, &rows);
            } else {
                g.mutate_members(&mut claims, false, &rows);
            }
        }
        let (mut h, mut c) = (object(&header).into_bytes(), object(&claims).into_bytes());
        if !clean && g.chance(0.15) {
            let target = if g.chance(0.5) { &mut h } else { &mut c };
            g.mutate_json_text(target);
        }

        // Who signs what was built.
        let input = signing_input(&h, &c);
        let mut token = match if clean { 0 } else { g.below(10) } {
            0..=3 => {
                g.note("re-signed with the real key");
                let token = encode(&h, &c, &(row.sign)(input.as_bytes()));
                signed.push(Signed {
                    token: token.clone(),
                    row: r,
                });
                token
            }
            4..=6 => signed[0]
                .token
                .rsplit('.')
                .next()
                .map(|s| format!("{input}.{s}"))
                .unwrap_or_default(),
            7 => {
                g.note("signed with a forger's key");
                encode(&h, &c, &(row.forge)(input.as_bytes()))
            }
            _ => {
                // Algorithm confusion: HS256 keyed with a public key (raw, or its JWK's "x").
                let asymmetric: Vec<&Row> = rows.iter().filter(|r| r.public.is_some()).collect();
                let victim = asymmetric[g.below(asymmetric.len())];
                let public = victim.public.clone().unwrap_or_default();
                let secret = if g.chance(0.5) {
                    public
                } else {
                    b64(&public).into_bytes()
                };
                set(&mut header, "alg", "\"HS256\"");
                set(&mut header, "kid", &js(victim.kid));
                let h = object(&header).into_bytes();
                g.note(format!("HS256 keyed with the public key of {}", victim.kid));
                let input = signing_input(&h, &c);
                encode(&h, &c, &common::hmac_sign(&secret, input.as_bytes()))
            }
        };

        // Edits of the compact serialisation.
        if !clean && g.chance(0.45) {
            for _ in 0..=g.below(2) {
                g.mutate_token(&mut token, &other_sig, opts.max_token_bytes);
            }
        }

        stats.input = format!(
            "token {token}\n  keyset {kind:?}{}\n  options {opts:?}\n  mutations {:?}",
            if kind == KeysetKind::Mutated {
                format!(" ({})", stats.input)
            } else {
                String::new()
            },
            g.log
        );
        let out = check_outcome(&token, keyset, kind, &opts, &rows, &signed)?;
        stats.tally(out.reason().map_or("OK", Reason::code));

        // The untouched original under the same expectations is never refused before its claims
        // are judged (a fuzzer that only ever produced garbage would prove nothing).
        if kind == KeysetKind::Standard
            && opts.max_token_bytes >= signed[0].token.len()
            && opts.token_type == TypeExpectation::default()
            && opts.algorithms.contains(&row.alg)
            && serde_json::from_slice::<Value>(&c0).is_ok()
        {
            let base = check_outcome(&signed[0].token, keyset, kind, &opts, &rows, &signed)?;
            if let Outcome::Rejected(reason) = base {
                if !AFTER_SIGNATURE.contains(&reason) {
                    return Err(format!("the unmutated token was refused: {reason}"));
                }
            }
        }
        Ok(())
    });
    if stats.cases >= 1000 {
        assert!(
            stats.outcomes.get("OK").copied().unwrap_or(0) > 0,
            "no case verified"
        );
        assert!(
            stats.outcomes.len() >= 8,
            "few distinct outcomes: {:?}",
            stats.outcomes
        );
    }
}

/// JWKS documents: generated, mutated, at and over the limits. Nothing panics, limits hold, and
/// whatever loads still refuses forged and confused tokens.
#[test]
fn fuzz_keysets() {
    let budget = Budget::from_env();
    let rows = rows();
    // Genuine, forged and confused tokens, checked against every keyset that loads.
    let claims = object(&members(&[("exp", &format!("{}", NOW + 60.0))])).into_bytes();
    let mut signed = Vec::new();
    let mut forged = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let header = object(&members(&[
            ("alg", &js(row.alg.name())),
            ("kid", &js(row.kid)),
        ]))
        .into_bytes();
        let input = signing_input(&header, &claims);
        signed.push(Signed {
            token: encode(&header, &claims, &(row.sign)(input.as_bytes())),
            row: r,
        });
        forged.push(encode(&header, &claims, &(row.forge)(input.as_bytes())));
        if let Some(public) = &row.public {
            let h = object(&members(&[("alg", "\"HS256\""), ("kid", &js(row.kid))])).into_bytes();
            let input = signing_input(&h, &claims);
            forged.push(encode(
                &h,
                &claims,
                &common::hmac_sign(public, input.as_bytes()),
            ));
        }
    }
    let stats = budget.run("keysets", 0.5, |rng, stats| {
        let mut g = Gen {
            rng,
            log: Vec::new(),
        };
        let mut keys = keyset_members(&rows, KeysetKind::Standard);
        match g.below(4) {
            0 => {
                // Around the key-count limit.
                let n = *g.pick(&[0usize, 1, 99, 100, 101, 1000]);
                keys = (0..n)
                    .map(|i| {
                        let mut k = rows[i % rows.len()].jwk.clone();
                        k.push(("kid".into(), js(&format!("k{i}"))));
                        k
                    })
                    .collect();
                g.note(format!("{n} keys"));
            }
            1 => {
                for _ in 0..=g.below(4) {
                    g.mutate_keys(&mut keys);
                }
            }
            _ => {}
        }
        let mut text = keyset_text_raw(&keys).into_bytes();
        match g.below(5) {
            0 => {
                // Around the byte limit.
                let target = *g.pick(&[65_535usize, 65_536, 65_537]);
                let pad = target.saturating_sub(text.len() + 10);
                let filler = format!(",\"pad\":\"{}\"}}", "a".repeat(pad));
                text.pop();
                text.extend_from_slice(filler.as_bytes());
                g.note(format!("{} bytes", text.len()));
            }
            1 | 2 => {
                for _ in 0..=g.below(3) {
                    g.mutate_json_text(&mut text);
                }
            }
            3 => {
                // The top-level object itself: "keys" duplicated, escaped, retyped, dropped.
                let inner = keyset_text_raw(&keys);
                let keys_value = inner["{\"keys\":".len()..inner.len() - 1].to_string();
                let mut top = vec![("keys".to_string(), keys_value)];
                g.mutate_members(&mut top, false, &rows);
                text = object(&top).into_bytes();
            }
            _ => {}
        }
        let limits = if g.chance(0.8) {
            KeysetLimits::default()
        } else {
            KeysetLimits {
                max_bytes: g.rng.random_range(0..2000),
                max_keys: g.below(5),
            }
        };
        stats.input = format!(
            "keyset {} (limits {limits:?}), mutations {:?}",
            String::from_utf8_lossy(&text),
            g.log
        );
        let parsed = Keyset::from_jwks_json(&text, limits);
        let again = Keyset::from_jwks_json(&text, limits);
        let summary = |k: &Result<Keyset, _>| {
            k.as_ref()
                .map(|k: &Keyset| {
                    k.keys()
                        .iter()
                        .map(|k| (k.kid.clone(), k.alg))
                        .collect::<Vec<_>>()
                })
                .map_err(|e| *e)
        };
        if summary(&parsed) != summary(&again) {
            return Err("two parses differ".into());
        }
        let keyset = match parsed {
            Err(e) => {
                stats.tally(e.code());
                return Ok(());
            }
            Ok(k) => k,
        };
        // SPEC §3: a keyset with no usable key (`{"keys":[]}` included) is refused, never loaded.
        if keyset.is_empty() {
            return Err("a keyset with no usable key loaded".into());
        }
        stats.tally("loaded");
        if text.len() > limits.max_bytes || keyset.len() > limits.max_keys {
            return Err(format!(
                "loaded {} keys from {} bytes over {limits:?}",
                keyset.len(),
                text.len()
            ));
        }
        // Genuine, forged and confused tokens against what loaded (signed once, outside the
        // loop: RSA signing would otherwise take most of the time).
        let opts = VerifyOptions::default();
        for token in signed.iter().map(|s| &s.token).chain(&forged) {
            check_outcome(token, &keyset, KeysetKind::Mutated, &opts, &rows, &signed)?;
        }
        Ok(())
    });
    assert!(stats.cases > 0);
}

/// `Cache-Control` values: generated directive lists, mutated. Nothing panics, and the answer
/// follows from the directives.
#[test]
fn fuzz_cache_control() {
    const DIRECTIVES: [&str; 20] = [
        "public",
        "private",
        "no-store",
        "NO-CACHE",
        "max-age=300",
        "MAX-AGE=\"60\"",
        "max-age=0",
        "s-maxage=10",
        "must-revalidate",
        "max-age",
        "max-age=",
        "max-age=-1",
        "max-age=1e3",
        "max-age=99999999999999999999999",
        "no-store=\"x\"",
        "max-age = 5",
        "max-age=\"",
        "stale-if-error=86400",
        "max-age=٣",
        "max-age=3é",
    ];
    let budget = Budget::from_env();
    let stats = budget.run("cache_control", 0.25, |rng, stats| {
        let mut g = Gen {
            rng,
            log: Vec::new(),
        };
        let n = g.below(5);
        let mut header = String::new();
        for i in 0..n {
            if i > 0 {
                header.push_str(g.pick::<&str>(&[",", ", ", " ,", ";", ",,", ",\t"]));
            }
            header.push_str(g.pick::<&str>(&DIRECTIVES));
        }
        let mut bytes = header.into_bytes();
        for _ in 0..g.below(3) {
            let at = g.below(bytes.len() + 1);
            match g.below(4) {
                0 => {
                    if let Some(b) = bytes.get_mut(at) {
                        *b ^= 1 << g.below(8);
                    }
                }
                1 => bytes.truncate(at),
                2 => {
                    let s = g
                        .pick(&["\"", "=", ",", "é", "\u{0}", "🎉", " ", "9"])
                        .as_bytes();
                    bytes.splice(at..at, s.iter().copied());
                }
                _ => bytes.extend(std::iter::repeat_n(b'9', g.below(100))),
            }
        }
        // Header values reach the parser as text; keep what is valid UTF-8.
        let header = String::from_utf8_lossy(&bytes).into_owned();
        stats.input = format!("Cache-Control {header:?}");
        let got = max_age_seconds(&header);
        if got != max_age_seconds(&header) {
            return Err("two parses differ".into());
        }
        let directives: Vec<String> = header
            .split(',')
            .map(|d| {
                d.split('=')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        if directives
            .iter()
            .any(|d| d == "no-store" || d == "no-cache")
            && got != Some(0)
        {
            return Err(format!("no-store/no-cache gave {got:?}"));
        }
        if got.is_some_and(|n| n > 0) && !directives.iter().any(|d| d == "max-age") {
            return Err(format!("{got:?} without a max-age directive"));
        }
        stats.tally(match got {
            None => "none",
            Some(0) => "zero",
            Some(_) => "max-age",
        });

        // The same text as an `Age` value: delta-seconds (the first of a list) or nothing.
        let age = age_seconds(&header);
        if age != age_seconds(&header) {
            return Err("two Age parses differ".into());
        }
        let first = header.split(',').next().unwrap_or("").trim();
        let digits = !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit());
        match age {
            Some(n) if !digits || (n != u64::MAX && first.trim_start_matches('0').len() > 20) => {
                return Err(format!("Age {n} from {first:?}"));
            }
            Some(n) if n != u64::MAX && first.parse::<u64>().ok() != Some(n) => {
                return Err(format!("Age {n} from {first:?}"));
            }
            None if digits => return Err(format!("no Age from {first:?}")),
            _ => {}
        }
        // Directive lists with a number in front exercise the Age path too.
        let age_text = format!("{}{}", g.below(100_000), header);
        let _ = age_seconds(&age_text);
        Ok(())
    });
    assert!(stats.cases > 0);
}
