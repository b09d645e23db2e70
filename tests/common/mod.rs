//! Verification vectors shared by the native tests and the wasm-bindgen tests (Node and
//! Chromium), so both builds are held to the same expectations. Keys are fixed seeds: the vectors
//! are deterministic. Each vector names the outcome SPEC §4 requires, as `STATUS/reason` or `OK`.
#![allow(dead_code)]

/// ring as the runtime's RSA/ECDSA (native tests only).
#[cfg(not(target_arch = "wasm32"))]
pub mod runtime;

use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use jwtedge::core::b64url_encode as b64;
use sha2::Sha256;

pub const NOW: f64 = 1_700_000_000.0;
pub const ISS: &str = "https://auth.example.com";

pub struct Vector {
    pub name: String,
    pub token: String,
    pub jwks: String,
    /// Options as the JavaScript API spells them (SPEC §6), without `nowSeconds`.
    pub options: String,
    pub now: f64,
    pub expect: &'static str,
}

pub fn ed_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub const HS_SECRET: [u8; 32] = [7; 32];

pub fn ed_jwk(kid: &str, seed: u8) -> String {
    format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":"{kid}","alg":"EdDSA","use":"sig"}}"#,
        b64(ed_key(seed).verifying_key().as_bytes())
    )
}

pub fn hs_jwk(kid: &str, secret: &[u8]) -> String {
    format!(
        r#"{{"kty":"oct","k":"{}","kid":"{kid}","alg":"HS256","use":"sig"}}"#,
        b64(secret)
    )
}

/// The standard keyset: two Ed25519 keys and one HMAC key.
pub fn jwks() -> String {
    format!(
        r#"{{"keys":[{},{},{}]}}"#,
        ed_jwk("ed-1", 1),
        ed_jwk("ed-2", 2),
        hs_jwk("hs-1", &HS_SECRET)
    )
}

pub fn hmac_sign(secret: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// Builds `b64(header).b64(claims).b64(sig)` with the signature computed by `sign`.
pub fn token_with(header: &str, claims: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

pub fn ed_token(seed: u8, header: &str, claims: &str) -> String {
    token_with(header, claims, |m| ed_key(seed).sign(m).to_bytes().to_vec())
}

pub fn hs_token(secret: &[u8], header: &str, claims: &str) -> String {
    token_with(header, claims, |m| hmac_sign(secret, m))
}

pub fn claims_with(extra: &str) -> String {
    let base = format!(
        r#""iss":"{ISS}","sub":"user-1","aud":"api","iat":{},"exp":{},"jti":"j-1","sid":"s-1""#,
        NOW - 10.0,
        NOW + 3600.0
    );
    if extra.is_empty() {
        format!("{{{base}}}")
    } else {
        format!("{{{base},{extra}}}")
    }
}

/// Claims with some registered members replaced: `over` is a list of `"name":value` members.
pub fn claims_over(over: &[(&str, &str)]) -> String {
    let mut members: Vec<(String, String)> = vec![
        ("iss".into(), format!("\"{ISS}\"")),
        ("sub".into(), "\"user-1\"".into()),
        ("aud".into(), "\"api\"".into()),
        ("iat".into(), format!("{}", NOW - 10.0)),
        ("exp".into(), format!("{}", NOW + 3600.0)),
        ("jti".into(), "\"j-1\"".into()),
        ("sid".into(), "\"s-1\"".into()),
    ];
    for (name, value) in over {
        match members.iter_mut().find(|(n, _)| n == name) {
            Some(m) if value.is_empty() => m.1.clear(),
            Some(m) => m.1 = value.to_string(),
            None => members.push((name.to_string(), value.to_string())),
        }
    }
    let body: Vec<String> = members
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| format!("\"{n}\":{v}"))
        .collect();
    format!("{{{}}}", body.join(","))
}

const ED_H: &str = r#"{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt"}"#;
const HS_H: &str = r#"{"alg":"HS256","kid":"hs-1","typ":"at+jwt"}"#;
const STD_OPTS: &str = r#"{"issuer":"https://auth.example.com","audience":"api"}"#;

/// RS256 and ES256 tokens (signed by the fixture keys of tests/fixtures, claims valid at `NOW`)
/// and their keyset: fixed vectors for the builds that check RSA/ECDSA through the runtime
/// (wasm tests: WebCrypto in Node and Chromium), where no signer is at hand.
pub const RUNTIME_JWKS: &str = r#"{"keys":[{"kty":"RSA","n":"sMCTqV7lcvA-rb8IG-N__pHzmy67vrg0YBBd5IL6BXUT1r_cTx0gJ2q0ZQHomvem7KZlFBR3zCSHJwE4U1eGA6zOvY3yxT_01EkplljS9MCoyS_qoPOE6hcl-PbuTxIi48EuZvGKdtwxm4OcRBfh0jUD3_hDTFG8dYaVRwm04y5O7P2kuHV8bUxu99SpQaqHRmoTbYKwR9qX_dAtgWHk5BMUKTZboFFeF5NzFo8gvHmiAty-U_DEGmeTNS5acWPXIGblJPLWq3z4CAlHhhLOHxz5izDzbO6YXps9GO7hIU-zZ1ZcQDU-cgiZ40pOKqtelMjpl653aPgzQliyJ3_5gQ","e":"AQAB","kid":"rs-1","alg":"RS256","use":"sig"},{"kty":"EC","crv":"P-256","x":"9hTsiwc1LPs_7wye36h8G__1X0JTthRyiHfBZKkFgXo","y":"eaCfBnqfJ5jIY_y0syi44m8Av3-9C2tQ6yUOgZzqlPI","kid":"es-1","use":"sig"}]}"#;
pub const RS256_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzLTEifQ.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJhcGkiLCJpYXQiOjE2OTk5OTk5OTAsImV4cCI6MTcwMDAwMzYwMH0.HdDMJkCY3ez10CTRQkteWsoHfvq2iDE0KmBwNEdIZWUetJ9ecb0uABSRUqeHMqK3j2b9Ttu8eLHhk1OuF5ggt43DLuiL2Dzj0yOpuGeZIe1Ql4TNBJCEeByNYYozu3diCFfgVe9IR6Flgfc46Ta_ypCvBEHnjUmOChtSwNkHLZ50iQfk_KcN04swKPw6zgAP0-qgO08w_nlUvxmhwUavC_38lsUnACiu-Vzqxnme2NSJ3i3ttv3pXgOq1rjGWTJfhixNjye4LxSsIIfba6oUsmGUkQvo5GQ6e-0VqjhmM1TUXgu-pwHrp37AR4uGsPPgRfa_wNJ76d7mzxUYHp57FA";
pub const ES256_TOKEN: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzLTEifQ.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJhcGkiLCJpYXQiOjE2OTk5OTk5OTAsImV4cCI6MTcwMDAwMzYwMH0.vW_VC7mF9X-TPv9BJIcmZhcpnFPZxj6cfYoSvWxipa2ipgCB0tbxWUf-KO8gk8Pu-385M_bkUfc0cSQLTvsjHw";

/// RFC 7515 Appendix A.1: an HS256 JWS without `kid`, and its key.
pub const RFC7515_A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const RFC7515_A1_JWKS: &str = r#"{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#;

fn v(name: &str, token: String, expect: &'static str) -> Vector {
    Vector {
        name: name.into(),
        token,
        jwks: jwks(),
        options: STD_OPTS.into(),
        now: NOW,
        expect,
    }
}

fn with_opts(mut vector: Vector, options: &str) -> Vector {
    vector.options = options.into();
    vector
}

fn with_jwks(mut vector: Vector, jwks: String) -> Vector {
    vector.jwks = jwks;
    vector
}

fn with_now(mut vector: Vector, now: f64) -> Vector {
    vector.now = now;
    vector
}

/// Replaces one of the three parts of a token.
fn replace_part(token: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[index] = part.to_string();
    parts.join(".")
}

/// Flips one bit of the decoded signature.
fn flip_signature_bit(token: &str) -> String {
    let sig_b64 = token.rsplit('.').next().unwrap();
    let mut sig = jwtedge::core::b64url_decode(sig_b64.as_bytes()).unwrap();
    sig[5] ^= 0x01;
    replace_part(token, 2, &b64(&sig))
}

/// Ed25519 order L, little-endian, for a malleated (non-canonical) signature.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn malleate(token: &str) -> String {
    let sig_b64 = token.rsplit('.').next().unwrap();
    let mut sig = jwtedge::core::b64url_decode(sig_b64.as_bytes()).unwrap();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = sig[32 + i] as u16 + L[i] as u16 + carry;
        sig[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    replace_part(token, 2, &b64(&sig))
}

pub fn vectors() -> Vec<Vector> {
    let good_claims = claims_with("");
    let ed_ok = ed_token(1, ED_H, &good_claims);
    let hs_ok = hs_token(&HS_SECRET, HS_H, &good_claims);
    let ed1_public = *ed_key(1).verifying_key().as_bytes();
    let deep_claims = format!(
        r#"{{"exp":{},"x":{}{}}}"#,
        NOW + 60.0,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let depth33 = format!(
        r#"{{"exp":{},"x":{}{}}}"#,
        NOW + 60.0,
        "[".repeat(32),
        "]".repeat(32)
    );
    let depth32 = format!(
        r#"{{"exp":{},"x":{}{}}}"#,
        NOW + 60.0,
        "[".repeat(31),
        "]".repeat(31)
    );
    let payload_b64 = ed_ok.split('.').nth(1).unwrap().to_string();
    let header_b64 = ed_ok.split('.').next().unwrap().to_string();
    let mut out = vec![
        // --- OK
        v("ed25519 valid", ed_ok.clone(), "OK"),
        v("hs256 valid", hs_ok.clone(), "OK"),
        v(
            "typ JWT accepted",
            ed_token(
                1,
                r#"{"alg":"EdDSA","kid":"ed-1","typ":"JWT"}"#,
                &good_claims,
            ),
            "OK",
        ),
        v(
            "typ absent accepted",
            ed_token(1, r#"{"alg":"EdDSA","kid":"ed-1"}"#, &good_claims),
            "OK",
        ),
        v(
            "aud array containing the audience",
            ed_token(1, ED_H, &claims_over(&[("aud", r#"["other","api"]"#)])),
            "OK",
        ),
        v(
            "second ed25519 key",
            ed_token(2, r#"{"alg":"EdDSA","kid":"ed-2"}"#, &good_claims),
            "OK",
        ),
        with_opts(
            v(
                "expired within leeway",
                ed_token(1, ED_H, &claims_over(&[("exp", &format!("{}", NOW - 3.0))])),
                "OK",
            ),
            r#"{"issuer":"https://auth.example.com","audience":"api","leewaySeconds":5}"#,
        ),
        with_jwks(
            v(
                "kid-less token, one key of its alg",
                hs_token(&HS_SECRET, r#"{"alg":"HS256"}"#, &good_claims),
                "OK",
            ),
            format!(
                r#"{{"keys":[{},{}]}}"#,
                ed_jwk("ed-1", 1),
                hs_jwk("hs-1", &HS_SECRET)
            ),
        ),
        with_now(
            with_opts(
                with_jwks(
                    v("RFC 7515 A.1", RFC7515_A1_TOKEN.into(), "OK"),
                    RFC7515_A1_JWKS.into(),
                ),
                "{}",
            ),
            1_300_819_379.0,
        ),
        with_opts(
            v("nested JSON at depth 32", ed_token(1, ED_H, &depth32), "OK"),
            "{}",
        ),
        // --- TRY_REFRESH_TOKEN
        v(
            "expired one second ago",
            ed_token(1, ED_H, &claims_over(&[("exp", &format!("{}", NOW - 1.0))])),
            "TRY_REFRESH_TOKEN/expired",
        ),
        v(
            "exp equal to now",
            hs_token(
                &HS_SECRET,
                HS_H,
                &claims_over(&[("exp", &format!("{NOW}"))]),
            ),
            "TRY_REFRESH_TOKEN/expired",
        ),
        v(
            "unknown kid",
            ed_token(
                3,
                r#"{"alg":"EdDSA","kid":"ed-rotated-away"}"#,
                &good_claims,
            ),
            "TRY_REFRESH_TOKEN/unknown_key",
        ),
        v(
            "unknown kid with a bad signature is still unknown_key",
            flip_signature_bit(&ed_token(
                3,
                r#"{"alg":"EdDSA","kid":"gone"}"#,
                &good_claims,
            )),
            "TRY_REFRESH_TOKEN/unknown_key",
        ),
        // --- UNAUTHORISED/unsupported_algorithm
        v(
            "alg none, empty signature",
            format!(
                "{}.{}.",
                b64(br#"{"alg":"none","kid":"ed-1"}"#),
                payload_b64
            ),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        v(
            "alg NONE upper case",
            format!(
                "{}.{}.",
                b64(br#"{"alg":"NONE","kid":"ed-1"}"#),
                payload_b64
            ),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        v(
            "alg none with a signature",
            hs_token(&HS_SECRET, r#"{"alg":"none","kid":"hs-1"}"#, &good_claims),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        v(
            "algorithm confusion: HS256 keyed with the Ed25519 public key",
            hs_token(&ed1_public, r#"{"alg":"HS256","kid":"ed-1"}"#, &good_claims),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        v(
            "algorithm confusion: HS256 keyed with the public key as JWK x text",
            hs_token(
                b64(&ed1_public).as_bytes(),
                r#"{"alg":"HS256","kid":"ed-1"}"#,
                &good_claims,
            ),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        v(
            "header EdDSA on an HMAC key",
            ed_token(1, r#"{"alg":"EdDSA","kid":"hs-1"}"#, &good_claims),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        v(
            "RS256 is not supported",
            hs_token(&HS_SECRET, r#"{"alg":"RS256","kid":"hs-1"}"#, &good_claims),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        v(
            "alg hs256 in the wrong case",
            hs_token(&HS_SECRET, r#"{"alg":"hs256","kid":"hs-1"}"#, &good_claims),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        with_opts(
            v(
                "HS256 not in the allowed algorithms",
                hs_ok.clone(),
                "UNAUTHORISED/unsupported_algorithm",
            ),
            r#"{"algorithms":["EdDSA"]}"#,
        ),
        v(
            "unknown crit",
            ed_token(
                1,
                r#"{"alg":"EdDSA","kid":"ed-1","crit":["exp"],"exp":1}"#,
                &good_claims,
            ),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        v(
            "crit b64 false (RFC 7797)",
            ed_token(
                1,
                r#"{"alg":"EdDSA","kid":"ed-1","b64":false,"crit":["b64"]}"#,
                &good_claims,
            ),
            "UNAUTHORISED/unsupported_algorithm",
        ),
        // --- UNAUTHORISED/malformed
        v(
            "crit null (not absent: RFC 7515 wants an array)",
            ed_token(
                1,
                r#"{"alg":"EdDSA","kid":"ed-1","crit":null}"#,
                &good_claims,
            ),
            "UNAUTHORISED/malformed",
        ),
        // null is a wrong type, not an absent member (found by tests/fuzz_core.rs and the jose
        // differential: jose refuses kid/nbf/iat null, jwtedge took them as absent).
        v(
            "kid null (not the kid-less path)",
            hs_token(&HS_SECRET, r#"{"alg":"HS256","kid":null}"#, &good_claims),
            "UNAUTHORISED/malformed",
        ),
        v(
            "typ null",
            ed_token(
                1,
                r#"{"alg":"EdDSA","kid":"ed-1","typ":null}"#,
                &good_claims,
            ),
            "UNAUTHORISED/malformed",
        ),
        v(
            "nbf null (not a skipped check)",
            ed_token(1, ED_H, &claims_over(&[("nbf", "null")])),
            "UNAUTHORISED/malformed",
        ),
        v(
            "iat null",
            ed_token(1, ED_H, &claims_over(&[("iat", "null")])),
            "UNAUTHORISED/malformed",
        ),
        with_opts(
            v(
                "iss null without an issuer expectation",
                ed_token(1, ED_H, &claims_over(&[("iss", "null")])),
                "UNAUTHORISED/malformed",
            ),
            "{}",
        ),
        v("empty string", String::new(), "UNAUTHORISED/malformed"),
        v(
            "two dots, empty parts",
            "..".into(),
            "UNAUTHORISED/malformed",
        ),
        v("one part", header_b64.clone(), "UNAUTHORISED/malformed"),
        v(
            "two parts",
            format!("{header_b64}.{payload_b64}"),
            "UNAUTHORISED/malformed",
        ),
        v(
            "four parts",
            format!("{ed_ok}.AAAA"),
            "UNAUTHORISED/malformed",
        ),
        v(
            "padding in the header",
            replace_part(&ed_ok, 0, &format!("{header_b64}==")),
            "UNAUTHORISED/malformed",
        ),
        v(
            "plus sign in the signature",
            {
                let sig = ed_ok.rsplit('.').next().unwrap();
                replace_part(&ed_ok, 2, &format!("+{}", &sig[1..]))
            },
            "UNAUTHORISED/malformed",
        ),
        v(
            "slash in the payload",
            replace_part(&ed_ok, 1, &format!("/{}", &payload_b64[1..])),
            "UNAUTHORISED/malformed",
        ),
        v(
            "whitespace before the token",
            format!(" {ed_ok}"),
            "UNAUTHORISED/malformed",
        ),
        v(
            "Bearer prefix left on",
            format!("Bearer {ed_ok}"),
            "UNAUTHORISED/malformed",
        ),
        v(
            "non-ASCII character",
            format!("{ed_ok}é"),
            "UNAUTHORISED/malformed",
        ),
        v(
            "non-UTF-8 bytes in the claims",
            replace_part(&ed_ok, 1, &b64(b"{\"exp\":1,\"x\":\"\xff\xfe\"}")),
            "UNAUTHORISED/malformed",
        ),
        v(
            "non-UTF-8 bytes in the header",
            replace_part(&ed_ok, 0, &b64(b"{\"alg\":\"EdDSA\",\"kid\":\"\xc3\x28\"}")),
            "UNAUTHORISED/malformed",
        ),
        v(
            "header not JSON",
            replace_part(&ed_ok, 0, &b64(b"alg=EdDSA")),
            "UNAUTHORISED/malformed",
        ),
        v(
            "header a JSON array",
            replace_part(&ed_ok, 0, &b64(br#"["EdDSA","ed-1"]"#)),
            "UNAUTHORISED/malformed",
        ),
        v(
            "claims a JSON array",
            ed_token(1, ED_H, r#"[1,2]"#),
            "UNAUTHORISED/malformed",
        ),
        v(
            "claims null",
            ed_token(1, ED_H, "null"),
            "UNAUTHORISED/malformed",
        ),
        v(
            "claims a string",
            ed_token(1, ED_H, r#""exp""#),
            "UNAUTHORISED/malformed",
        ),
        v(
            "header without alg",
            ed_token(1, r#"{"kid":"ed-1"}"#, &good_claims),
            "UNAUTHORISED/malformed",
        ),
        v(
            "duplicate alg in the header",
            ed_token(
                1,
                r#"{"alg":"HS256","alg":"EdDSA","kid":"ed-1"}"#,
                &good_claims,
            ),
            "UNAUTHORISED/malformed",
        ),
        v(
            "kid a number",
            ed_token(1, r#"{"alg":"EdDSA","kid":5}"#, &good_claims),
            "UNAUTHORISED/malformed",
        ),
        v(
            "exp a string",
            ed_token(
                1,
                ED_H,
                &claims_over(&[("exp", &format!("\"{}\"", NOW + 60.0))]),
            ),
            "UNAUTHORISED/malformed",
        ),
        v(
            "exp a boolean",
            ed_token(1, ED_H, &claims_over(&[("exp", "true")])),
            "UNAUTHORISED/malformed",
        ),
        v(
            "exp out of range",
            ed_token(1, ED_H, &claims_over(&[("exp", "1e999")])),
            "UNAUTHORISED/malformed",
        ),
        v(
            "aud a number",
            ed_token(1, ED_H, &claims_over(&[("aud", "7")])),
            "UNAUTHORISED/malformed",
        ),
        v(
            "iss an array",
            ed_token(1, ED_H, &claims_over(&[("iss", r#"["a"]"#)])),
            "UNAUTHORISED/malformed",
        ),
        v(
            "duplicate exp claim",
            ed_token(
                1,
                ED_H,
                &format!(r#"{{"exp":{},"exp":{}}}"#, NOW + 60.0, NOW - 60.0),
            ),
            "UNAUTHORISED/malformed",
        ),
        v(
            "JSON nested 33 levels",
            ed_token(1, ED_H, &depth33),
            "UNAUTHORISED/malformed",
        ),
        with_opts(
            v(
                "JSON nested 10,000 levels (size limit raised)",
                ed_token(1, ED_H, &deep_claims),
                "UNAUTHORISED/malformed",
            ),
            r#"{"maxTokenBytes":65536}"#,
        ),
        v(
            "JSON nested 10,000 levels in the header",
            replace_part(
                &ed_ok,
                0,
                &b64(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes()),
            ),
            "UNAUTHORISED/too_large",
        ),
        v(
            "kid-less EdDSA with two Ed25519 keys",
            ed_token(1, r#"{"alg":"EdDSA"}"#, &good_claims),
            "UNAUTHORISED/malformed",
        ),
        with_jwks(
            v(
                "kid-less HS256, no HMAC key",
                hs_token(&HS_SECRET, r#"{"alg":"HS256"}"#, &good_claims),
                "UNAUTHORISED/malformed",
            ),
            format!(r#"{{"keys":[{}]}}"#, ed_jwk("ed-1", 1)),
        ),
        // --- UNAUTHORISED/too_large
        v(
            "9 KiB token",
            ed_token(
                1,
                ED_H,
                &claims_with(&format!(r#""pad":"{}""#, "x".repeat(7000))),
            ),
            "UNAUTHORISED/too_large",
        ),
        v(
            "1 MiB kid",
            ed_token(
                1,
                &format!(r#"{{"alg":"EdDSA","kid":"{}"}}"#, "k".repeat(1 << 20)),
                &good_claims,
            ),
            "UNAUTHORISED/too_large",
        ),
        v(
            "JSON nested 10,000 levels",
            ed_token(1, ED_H, &deep_claims),
            "UNAUTHORISED/too_large",
        ),
        // --- UNAUTHORISED/bad_signature
        v(
            "tampered claims",
            replace_part(
                &ed_ok,
                1,
                &b64(claims_over(&[("sub", "\"admin\"")]).as_bytes()),
            ),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "tampered hs256 claims",
            replace_part(
                &hs_ok,
                1,
                &b64(claims_over(&[("sub", "\"admin\"")]).as_bytes()),
            ),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "flipped signature bit",
            flip_signature_bit(&ed_ok),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "flipped hs256 signature bit",
            flip_signature_bit(&hs_ok),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "signed by a key not in the keyset, under a known kid",
            ed_token(9, ED_H, &good_claims),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "signed by ed-1, claims kid ed-2",
            ed_token(1, r#"{"alg":"EdDSA","kid":"ed-2"}"#, &good_claims),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "hs256 signed with another secret",
            hs_token(&[8; 32], HS_H, &good_claims),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "truncated signature",
            {
                let sig =
                    jwtedge::core::b64url_decode(ed_ok.rsplit('.').next().unwrap().as_bytes())
                        .unwrap();
                replace_part(&ed_ok, 2, &b64(&sig[..63]))
            },
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "empty EdDSA signature",
            replace_part(&ed_ok, 2, ""),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "hs256 signature of the wrong length",
            {
                let sig = hmac_sign(&HS_SECRET, b"x");
                replace_part(&hs_ok, 2, &b64(&sig[..16]))
            },
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "malleated Ed25519 signature (S + L)",
            malleate(&ed_ok),
            "UNAUTHORISED/bad_signature",
        ),
        v(
            "expired and badly signed: signature decides",
            flip_signature_bit(&ed_token(1, ED_H, &claims_over(&[("exp", "1")]))),
            "UNAUTHORISED/bad_signature",
        ),
        // --- claims
        v(
            "nbf in the future",
            ed_token(
                1,
                ED_H,
                &claims_over(&[("nbf", &format!("{}", NOW + 30.0))]),
            ),
            "UNAUTHORISED/not_yet_valid",
        ),
        v(
            "iat in the future is not judged",
            ed_token(
                1,
                ED_H,
                &claims_over(&[("iat", &format!("{}", NOW + 30.0))]),
            ),
            "OK",
        ),
        v(
            "wrong issuer",
            ed_token(
                1,
                ED_H,
                &claims_over(&[("iss", "\"https://evil.example\"")]),
            ),
            "UNAUTHORISED/invalid_issuer",
        ),
        v(
            "missing issuer",
            ed_token(1, ED_H, &claims_over(&[("iss", "")])),
            "UNAUTHORISED/invalid_issuer",
        ),
        v(
            "expired with a wrong issuer: issuer decides",
            ed_token(1, ED_H, &claims_over(&[("iss", "\"x\""), ("exp", "1")])),
            "UNAUTHORISED/invalid_issuer",
        ),
        v(
            "wrong audience",
            hs_token(&HS_SECRET, HS_H, &claims_over(&[("aud", "\"admin-api\"")])),
            "UNAUTHORISED/invalid_audience",
        ),
        v(
            "typ dpop+jwt",
            ed_token(
                1,
                r#"{"alg":"EdDSA","kid":"ed-1","typ":"dpop+jwt"}"#,
                &good_claims,
            ),
            "UNAUTHORISED/invalid_type",
        ),
        with_opts(
            v(
                "typ JWT when at+jwt is required",
                ed_token(
                    1,
                    r#"{"alg":"EdDSA","kid":"ed-1","typ":"JWT"}"#,
                    &good_claims,
                ),
                "UNAUTHORISED/invalid_type",
            ),
            r#"{"tokenType":"at+jwt"}"#,
        ),
        v(
            "no exp",
            ed_token(1, ED_H, &claims_over(&[("exp", "")])),
            "UNAUTHORISED/missing_claim",
        ),
        v(
            "exp null",
            ed_token(1, ED_H, &claims_over(&[("exp", "null")])),
            "UNAUTHORISED/missing_claim",
        ),
        with_opts(
            v(
                "required claim absent",
                ed_token(1, ED_H, &claims_over(&[("sid", "")])),
                "UNAUTHORISED/missing_claim",
            ),
            r#"{"requiredClaims":["sid"]}"#,
        ),
    ];
    // Every vector names its source so a failure points at it.
    for (i, vector) in out.iter_mut().enumerate() {
        vector.name = format!("#{i:02} {}", vector.name);
    }
    out
}
