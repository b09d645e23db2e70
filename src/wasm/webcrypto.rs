//! Ed25519 checked by the runtime's WebCrypto — native and fast on Workers, where a wasm check is
//! about twice as slow. Both possible outcomes are settled before the check (the claims are judged
//! then, never trusted: the signature's verdict picks which outcome is returned), so the check
//! resolves straight to an outcome in JS without another trip into wasm.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;

use super::outcome::{rejected, to_js};
use super::runtime::ed25519_outcome;
use crate::core::{Reason, UntrustedToken, VerifyKey, VerifyOptions};

thread_local! {
    /// The wasm check, for a runtime whose WebCrypto has no Ed25519 (or refuses a key): called
    /// from JS with the public key, signature and message.
    static WASM_CHECK: Closure<dyn Fn(Uint8Array, Uint8Array, Uint8Array) -> bool> =
        Closure::new(|public_key: Uint8Array, signature: Uint8Array, message: Uint8Array| {
            let key: Option<[u8; 32]> = public_key.to_vec().try_into().ok();
            key.and_then(|k| VerifyKey::ed25519(&k))
                .is_some_and(|k| k.verify_signature(&message.to_vec(), &signature.to_vec()))
        });
}

/// The promise of the outcome, for a token whose `key` has this Ed25519 `public_key`
/// (`VerifyKey::ed25519_public_key`, which leaves out the weak keys only wasm rejects).
pub fn ed25519_via_webcrypto(
    untrusted: UntrustedToken<'_>,
    key: &VerifyKey,
    public_key: [u8; 32],
    opts: &VerifyOptions,
    now_seconds: f64,
) -> Promise {
    let if_invalid = rejected(Reason::BadSignature);
    let signature = untrusted.signature().to_vec();
    let message = untrusted.signing_input().to_vec();
    let if_valid = to_js(
        untrusted
            .awaiting_signature(key)
            .finish(true, opts, now_seconds),
    );
    WASM_CHECK.with(|wasm_check| {
        ed25519_outcome(
            &public_key,
            &signature,
            &message,
            &if_valid,
            &if_invalid,
            wasm_check.as_ref().unchecked_ref(),
        )
    })
}
