// The wasm-bindgen test cases (not a test target of its own), included by tests/wasm_node.rs (Node) and tests/wasm_browser.rs
// (headless Chromium): the shared vectors through the JavaScript-facing API, the `Verifier`
// against data: URL keysets and a dead origin, and option checking.

use js_sys::{Reflect, JSON};
use jwtedge::{verify_with_keyset, Verifier};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn get(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(name)).unwrap()
}

/// `OK` or `STATUS/reason`, as the vectors spell outcomes.
fn code(outcome: &JsValue) -> String {
    let status = get(outcome, "status")
        .as_string()
        .expect("status is a string");
    match get(outcome, "reason").as_string() {
        Some(reason) => format!("{status}/{reason}"),
        None => status,
    }
}

fn options_with_now(json: &str, now: f64) -> JsValue {
    let options = JSON::parse(json).unwrap();
    Reflect::set(&options, &"nowSeconds".into(), &now.into()).unwrap();
    options
}

#[wasm_bindgen_test]
fn every_vector_gets_its_outcome_in_wasm() {
    let vectors = common::vectors();
    assert!(vectors.len() >= 60);
    let mut failures = Vec::new();
    for v in &vectors {
        let out = verify_with_keyset(
            JsValue::from_str(&v.token),
            JsValue::from_str(&v.jwks),
            options_with_now(&v.options, v.now),
        )
        .unwrap_or_else(|e| panic!("{} threw {e:?}", v.name));
        let got = code(&out);
        if got != v.expect {
            failures.push(format!("{}: expected {}, got {got}", v.name, v.expect));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[wasm_bindgen_test]
fn ok_outcome_is_a_plain_object_with_claims_kid_alg() {
    let token = common::ed_token(
        1,
        r#"{"alg":"EdDSA","kid":"ed-1"}"#,
        &common::claims_with(r#""scope":"a b""#),
    );
    let out = verify_with_keyset(
        token.into(),
        common::jwks().into(),
        options_with_now("{}", common::NOW),
    )
    .unwrap();
    assert_eq!(code(&out), "OK");
    assert_eq!(get(&out, "kid").as_string().as_deref(), Some("ed-1"));
    assert_eq!(get(&out, "alg").as_string().as_deref(), Some("EdDSA"));
    let claims = get(&out, "claims");
    assert_eq!(get(&claims, "scope").as_string().as_deref(), Some("a b"));
    assert_eq!(get(&claims, "sid").as_string().as_deref(), Some("s-1"));
    assert_eq!(get(&claims, "exp").as_f64(), Some(common::NOW + 3600.0));
}

#[wasm_bindgen_test]
fn non_string_tokens_and_bad_keysets_get_outcomes() {
    let opts = || options_with_now("{}", common::NOW);
    for token in [
        JsValue::NULL,
        JsValue::UNDEFINED,
        JsValue::from_f64(1.0),
        js_sys::Object::new().into(),
    ] {
        let out = verify_with_keyset(token, common::jwks().into(), opts()).unwrap();
        assert_eq!(code(&out), "UNAUTHORISED/malformed");
    }
    let token = common::ed_token(
        1,
        r#"{"alg":"EdDSA","kid":"ed-1"}"#,
        &common::claims_with(""),
    );
    for jwks in [
        "",
        "garbage",
        r#"{"keys":"no"}"#,
        r#"{"keys":[{"kty":"RSA"}]}"#,
    ] {
        let out = verify_with_keyset(token.clone().into(), jwks.into(), opts()).unwrap();
        assert_eq!(code(&out), "KEYSET_UNAVAILABLE/invalid_keyset", "{jwks}");
    }
}

fn type_error_names(result: Result<impl Sized, JsValue>, option: &str) {
    let Err(error) = result else {
        panic!("expected a TypeError naming {option}");
    };
    assert!(error.is_instance_of::<js_sys::TypeError>(), "{error:?}");
    let message = get(&error, "message").as_string().unwrap();
    assert!(message.contains(option), "{message}");
}

#[wasm_bindgen_test]
fn bad_options_throw_type_errors_naming_the_option() {
    let parse = |json: &str| JSON::parse(json).unwrap();
    type_error_names(Verifier::new(parse(r#"{}"#)), "keysetUrl");
    type_error_names(Verifier::new(parse(r#"{"keysetUrl":5}"#)), "keysetUrl");
    type_error_names(
        Verifier::new(parse(r#"{"keysetUrl":"ftp://x"}"#)),
        "keysetUrl",
    );
    let url = r#""keysetUrl":"https://auth.example.com/jwks.json""#;
    type_error_names(
        Verifier::new(parse(&format!(r#"{{{url},"leewaySecs":5}}"#))),
        "leewaySecs",
    );
    type_error_names(
        Verifier::new(parse(&format!(r#"{{{url},"leewaySeconds":"5"}}"#))),
        "leewaySeconds",
    );
    type_error_names(
        Verifier::new(parse(&format!(r#"{{{url},"leewaySeconds":-1}}"#))),
        "leewaySeconds",
    );
    type_error_names(
        Verifier::new(parse(&format!(r#"{{{url},"algorithms":["none"]}}"#))),
        "algorithms",
    );
    type_error_names(
        Verifier::new(parse(&format!(r#"{{{url},"algorithms":[]}}"#))),
        "algorithms",
    );
    type_error_names(
        Verifier::new(parse(&format!(r#"{{{url},"audience":7}}"#))),
        "audience",
    );
    type_error_names(
        Verifier::new(parse(&format!(r#"{{{url},"cooldownSeconds":null}}"#))),
        "cooldownSeconds",
    );
    type_error_names(
        Verifier::new(parse(&format!(r#"{{{url},"maxKeys":1.5}}"#))),
        "maxKeys",
    );
    type_error_names(Verifier::new(JsValue::from_str("https://x")), "options");
    type_error_names(
        verify_with_keyset("t".into(), "{}".into(), parse(r#"{"nowSeconds":"soon"}"#)),
        "nowSeconds",
    );
    type_error_names(
        verify_with_keyset(
            "t".into(),
            "{}".into(),
            parse(r#"{"keysetUrl":"https://x"}"#),
        ),
        "keysetUrl",
    );
    assert!(Verifier::new(parse(&format!(
        r#"{{{url},"leewaySeconds":5,"audience":["a","b"]}}"#
    )))
    .is_ok());
}

fn now_s() -> f64 {
    (js_sys::Date::now() / 1000.0).floor()
}

fn live_token(seed: u8, kid: &str) -> String {
    let claims = format!(
        r#"{{"sub":"u","exp":{},"iat":{}}}"#,
        now_s() + 600.0,
        now_s()
    );
    common::ed_token(
        seed,
        &format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#),
        &claims,
    )
}

fn data_url(body: &str) -> String {
    let encoded = js_sys::encode_uri_component(body).as_string().unwrap();
    format!("data:application/json,{encoded}")
}

async fn verify(verifier: &Verifier, token: &str) -> JsValue {
    JsFuture::from(verifier.verify(token.into()))
        .await
        .expect("verify never rejects")
}

#[wasm_bindgen_test]
async fn verifier_fetches_caches_and_answers() {
    let options = JSON::parse(&format!(
        r#"{{"keysetUrl":{:?}}}"#,
        data_url(&common::jwks())
    ))
    .unwrap();
    let verifier = Verifier::new(options).unwrap();
    assert_eq!(code(&verify(&verifier, &live_token(1, "ed-1")).await), "OK");
    assert_eq!(code(&verify(&verifier, &live_token(2, "ed-2")).await), "OK");
    assert_eq!(
        code(&verify(&verifier, &live_token(9, "ed-1")).await),
        "UNAUTHORISED/bad_signature"
    );
    // Unknown kid inside the cooldown of the first fetch: no refetch, refresh advised.
    assert_eq!(
        code(&verify(&verifier, &live_token(3, "ed-3")).await),
        "TRY_REFRESH_TOKEN/unknown_key"
    );
    assert_eq!(
        code(&verify(&verifier, "not.a.token").await),
        "UNAUTHORISED/malformed"
    );
    assert_eq!(
        code(
            &JsFuture::from(verifier.verify(JsValue::NULL))
                .await
                .unwrap()
        ),
        "UNAUTHORISED/malformed"
    );
    let stats = verifier.stats();
    assert_eq!(get(&stats, "fetches").as_f64(), Some(1.0));
    assert_eq!(get(&stats, "keys").as_f64(), Some(3.0));
    assert!(get(&stats, "cacheHits").as_f64().unwrap() >= 3.0);
}

#[wasm_bindgen_test]
async fn concurrent_verifies_on_a_cold_verifier_share_one_fetch() {
    let options = JSON::parse(&format!(
        r#"{{"keysetUrl":{:?}}}"#,
        data_url(&common::jwks())
    ))
    .unwrap();
    let verifier = Verifier::new(options).unwrap();
    let token = live_token(1, "ed-1");
    let pending: Vec<_> = (0..200)
        .map(|_| JsFuture::from(verifier.verify(token.clone().into())))
        .collect();
    for p in pending {
        assert_eq!(code(&p.await.unwrap()), "OK");
    }
    assert_eq!(get(&verifier.stats(), "fetches").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn dead_origin_and_garbage_keyset_are_keyset_unavailable() {
    // Nothing listens on port 9 of the loopback (and browsers refuse it outright).
    let dead =
        JSON::parse(r#"{"keysetUrl":"http://127.0.0.1:9/jwks.json","fetchTimeoutSeconds":2}"#)
            .unwrap();
    let verifier = Verifier::new(dead).unwrap();
    assert_eq!(
        code(&verify(&verifier, &live_token(1, "ed-1")).await),
        "KEYSET_UNAVAILABLE/fetch_failed"
    );
    // Inside the cooldown the answer comes without another fetch.
    assert_eq!(
        code(&verify(&verifier, &live_token(1, "ed-1")).await),
        "KEYSET_UNAVAILABLE/fetch_failed"
    );
    assert_eq!(get(&verifier.stats(), "fetches").as_f64(), Some(1.0));
    let garbage = JSON::parse(&format!(
        r#"{{"keysetUrl":{:?}}}"#,
        data_url("<html>oops</html>")
    ))
    .unwrap();
    let verifier = Verifier::new(garbage).unwrap();
    assert_eq!(
        code(&verify(&verifier, &live_token(1, "ed-1")).await),
        "KEYSET_UNAVAILABLE/invalid_keyset"
    );
    let huge = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(70_000));
    let big = JSON::parse(&format!(r#"{{"keysetUrl":{:?}}}"#, data_url(&huge))).unwrap();
    let verifier = Verifier::new(big).unwrap();
    assert_eq!(
        code(&verify(&verifier, &live_token(1, "ed-1")).await),
        "KEYSET_UNAVAILABLE/invalid_keyset"
    );
}

#[wasm_bindgen_test]
async fn ed25519_by_webcrypto_and_by_wasm_agree() {
    for backend in ["webcrypto", "wasm"] {
        let options = JSON::parse(&format!(
            r#"{{"keysetUrl":{:?},"ed25519":"{backend}"}}"#,
            data_url(&common::jwks())
        ))
        .unwrap();
        let verifier = Verifier::new(options).unwrap();
        let good = live_token(1, "ed-1");
        assert_eq!(code(&verify(&verifier, &good).await), "OK", "{backend}");
        assert_eq!(
            code(&verify(&verifier, &live_token(9, "ed-1")).await),
            "UNAUTHORISED/bad_signature",
            "{backend}"
        );
        let expired = common::ed_token(
            2,
            r#"{"alg":"EdDSA","kid":"ed-2"}"#,
            &format!(r#"{{"exp":{}}}"#, now_s() - 5.0),
        );
        assert_eq!(
            code(&verify(&verifier, &expired).await),
            "TRY_REFRESH_TOKEN/expired",
            "{backend}"
        );
        // An expired token with a bad signature: the signature decides.
        let forged_expired = common::ed_token(
            9,
            r#"{"alg":"EdDSA","kid":"ed-2"}"#,
            &format!(r#"{{"exp":{}}}"#, now_s() - 5.0),
        );
        assert_eq!(
            code(&verify(&verifier, &forged_expired).await),
            "UNAUTHORISED/bad_signature",
            "{backend}"
        );
    }
}

/// RS256 and ES256 through the runtime's WebCrypto (no node:crypto is handed over here: these
/// builds are loaded without the package's Node entry): `verifyWithKeyset` answers a promise of
/// the outcome, and the `Verifier` the outcome.
#[wasm_bindgen_test]
async fn rsa_and_ecdsa_are_checked_by_webcrypto() {
    let opts = || options_with_now(r#"{"issuer":"https://auth.example.com"}"#, common::NOW);
    let flip = |token: &str| {
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut sig = jwtedge::core::b64url_decode(sig.as_bytes()).unwrap();
        sig[9] ^= 0x10;
        format!("{head}.{}", jwtedge::core::b64url_encode(&sig))
    };
    let verifier = Verifier::new(options_with_keyset_url(&data_url(common::RUNTIME_JWKS))).unwrap();
    for token in [common::RS256_TOKEN, common::ES256_TOKEN] {
        for (token, expected) in [
            (token.to_string(), "OK"),
            (flip(token), "UNAUTHORISED/bad_signature"),
        ] {
            let answer =
                verify_with_keyset(token.as_str().into(), common::RUNTIME_JWKS.into(), opts())
                    .unwrap();
            let promise = answer
                .dyn_into::<js_sys::Promise>()
                .expect("WebCrypto answers a promise");
            let outcome = JsFuture::from(promise).await.expect("never rejects");
            assert_eq!(code(&outcome), expected);
            // The Verifier's clock is the real one: these tokens have expired by now, after
            // their signature checked out.
            let fetched = verify(&verifier, &token).await;
            let expected = if expected == "OK" {
                "TRY_REFRESH_TOKEN/expired"
            } else {
                expected
            };
            assert_eq!(code(&fetched), expected);
        }
    }
}

fn options_with_keyset_url(url: &str) -> JsValue {
    let options = js_sys::Object::new();
    Reflect::set(&options, &"keysetUrl".into(), &url.into()).unwrap();
    options.into()
}

/// The `.wasm`'s own allocator (src/wasm/allocator.rs, the global allocator of this test too):
/// blocks of many sizes and alignments, freed and reused in a scrambled order, grown by
/// `realloc` across size classes and past a memory page, never overlap and keep their bytes.
#[wasm_bindgen_test]
fn the_allocator_keeps_every_block_apart_and_intact() {
    let mut seed: u32 = 0x9e37_79b9;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let fill = |len: usize, tag: u32| -> Vec<u8> {
        (0..len).map(|i| (i as u32).wrapping_mul(31).wrapping_add(tag) as u8).collect()
    };
    let mut live: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut wide: Vec<Vec<u128>> = Vec::new();
    for round in 0..2_000u32 {
        let len = match next() % 10 {
            0 => (next() % 200_000) as usize, // past a 64 KiB page
            1 => 0,
            _ => (next() % 300) as usize,
        };
        live.push((round, fill(len, round)));
        if round % 7 == 0 {
            let v: Vec<u128> = (0..(next() % 40) as u128).collect();
            assert_eq!(v.as_ptr() as usize % std::mem::align_of::<u128>(), 0);
            wide.push(v);
        }
        if next() % 3 == 0 && !live.is_empty() {
            let at = next() as usize % live.len();
            let (tag, block) = live.swap_remove(at);
            assert!(block == fill(block.len(), tag), "block {tag} was overwritten");
        }
        if next() % 5 == 0 && !live.is_empty() {
            // realloc: grow a block into another class, its bytes carried over.
            let at = next() as usize % live.len();
            let (tag, block) = &mut live[at];
            let old = block.len();
            block.extend((old..old * 2 + 9).map(|i| (i as u32).wrapping_mul(31).wrapping_add(*tag) as u8));
        }
    }
    for (tag, block) in &live {
        assert!(*block == fill(block.len(), *tag), "block {tag} was overwritten");
    }
    for v in &wide {
        assert!(v.iter().enumerate().all(|(i, x)| *x == i as u128));
    }
    // No two live blocks share a byte.
    let mut spans: Vec<(usize, usize)> = live
        .iter()
        .filter(|(_, b)| b.capacity() > 0)
        .map(|(_, b)| (b.as_ptr() as usize, b.as_ptr() as usize + b.capacity()))
        .collect();
    spans.sort_unstable();
    assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "two live blocks overlap");
}
