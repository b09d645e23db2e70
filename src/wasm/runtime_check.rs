//! RSA and ECDSA signatures checked by the runtime's own crypto (SPEC §3a): `node:crypto`,
//! synchronously, in Node through the package's Node entry; WebCrypto elsewhere (Workers,
//! browsers), asynchronously. As on the Ed25519 WebCrypto path, both possible outcomes are
//! settled first (the claims are judged, never trusted: the runtime's verdict picks which outcome
//! is returned), so the verdict needs no second trip into wasm.
//!
//! Imported keys (`KeyObject`s, `CryptoKey`s) live in a JS table made per keyset version and
//! dropped with it: a rotated-away key is not kept alive by the cache.

use std::sync::Arc;

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::outcome::{rejected, to_js};
use super::runtime::{new_runtime_keys, runtime_outcome};
use crate::core::{
    Algorithm, Keyset, Reason, RuntimeCheck, RuntimeKey, RuntimeKeyParams, VerifyOptions,
};

/// The JS table of imported keys for the keyset it was made for.
#[derive(Default)]
pub struct RuntimeKeys {
    keyset: Option<Arc<Keyset>>,
    table: JsValue,
}

impl RuntimeKeys {
    /// The table of `keyset`, made anew (and the previous one dropped) when the keyset changed.
    pub fn table_for(&mut self, keyset: &Arc<Keyset>) -> JsValue {
        if !self.keyset.as_ref().is_some_and(|k| Arc::ptr_eq(k, keyset)) {
            let params: Array = keyset
                .keys()
                .iter()
                .map(|k| match k.runtime_key().map(RuntimeKey::params) {
                    Some(RuntimeKeyParams::Rsa { n, e }) => key_params("RSA", n, e),
                    Some(RuntimeKeyParams::Ec { crv, x, y }) => key_params(crv, x, y),
                    None => JsValue::NULL,
                })
                .collect();
            self.table = new_runtime_keys(&params);
            self.keyset = Some(keyset.clone());
        }
        self.table.clone()
    }
}

/// `[kind, first, second]`: `"RSA"`, n, e or the curve, x, y.
fn key_params(kind: &str, first: &[u8], second: &[u8]) -> JsValue {
    Array::of3(
        &JsValue::from_str(kind),
        &Uint8Array::from(first),
        &Uint8Array::from(second),
    )
    .into()
}

/// What the runtime answered: the outcome now (Node), or the promise of it (WebCrypto).
pub enum Checked {
    Now(JsValue),
    Later(Promise),
}

/// Hands `check` to the runtime with the keys of `table`.
pub fn check_by_runtime(
    table: &JsValue,
    check: RuntimeCheck<'_, '_>,
    opts: &VerifyOptions,
    now_seconds: f64,
) -> Checked {
    let if_invalid = rejected(Reason::BadSignature);
    let alg = Algorithm::ALL
        .iter()
        .position(|a| *a == check.alg)
        .unwrap_or(0) as u32;
    let index = check.key.index as u32;
    let signature = check.signature;
    let message = check.signing_input;
    let if_valid = to_js(check.pending.finish(true, opts, now_seconds));
    let answer = runtime_outcome(
        table,
        index,
        alg,
        &signature,
        message,
        &if_valid,
        &if_invalid,
    );
    match answer.dyn_into::<Promise>() {
        Ok(promise) => Checked::Later(promise),
        Err(outcome) => Checked::Now(outcome),
    }
}
