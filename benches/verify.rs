//! The native floor: the core's whole verify (parse, key lookup, signature, claims) for HS256 and
//! EdDSA on the same token shape as bench/. `cargo bench --bench verify`; bench/run.sh reads the
//! medians from target/criterion and prints the wasm/native ratio.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use jwtedge::core::{Keyset, KeysetLimits, VerifyOptions};

fn bench(c: &mut Criterion) {
    let keyset =
        Keyset::from_jwks_json(common::jwks().as_bytes(), KeysetLimits::default()).unwrap();
    let opts = VerifyOptions {
        issuer: Some(vec![common::ISS.into()]),
        audience: Some(vec!["api".into()]),
        ..VerifyOptions::default()
    };
    let claims = common::claims_with(r#""scope":"openid profile email orders:read orders:write""#);
    let tokens = [
        (
            "HS256",
            common::hs_token(
                &common::HS_SECRET,
                r#"{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}"#,
                &claims,
            ),
        ),
        (
            "EdDSA",
            common::ed_token(1, r#"{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt"}"#, &claims),
        ),
    ];
    let mut group = c.benchmark_group("core_verify");
    for (alg, token) in &tokens {
        assert!(jwtedge::verify(token, &keyset, &opts, common::NOW)
            .verified()
            .is_some());
        group.bench_function(*alg, |b| {
            b.iter(|| jwtedge::verify(std::hint::black_box(token), &keyset, &opts, common::NOW))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
