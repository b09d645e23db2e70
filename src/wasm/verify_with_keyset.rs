//! `verifyWithKeyset(token, jwks, options)`: verification against a keyset the caller holds, with
//! an optional clock override (`nowSeconds`) for tests and replay. Synchronous — it answers the
//! outcome itself — except for an RSA/ECDSA signature on a runtime whose only RSA/ECDSA is
//! WebCrypto (Workers, browsers): then it answers a promise of the outcome (README, "Algorithms").

use std::cell::RefCell;
use std::sync::Arc;

use wasm_bindgen::prelude::*;

use super::options::{Options, VERIFY_WITH_KEYSET_OPTIONS};
use super::outcome::{rejected, to_js};
use super::runtime::{keyset_unchanged, now_ms};
use super::runtime_check::{check_by_runtime, Checked, RuntimeKeys};
use super::token_text::with_token;
use crate::core::{Keyset, KeysetLimits, Reason, Step, UntrustedToken, VerifyOptions};

thread_local! {
    /// The keyset of the previous call, with its JSON text: callers pass the same keyset on every
    /// call, and parsing it (decoding, point decompression) — or importing its RSA/EC keys into
    /// the runtime again — would cost more than the verification. An object keyset is
    /// recognised by its serialisation.
    static LAST_KEYSET: RefCell<Option<(String, Arc<Keyset>)>> = const { RefCell::new(None) };
    /// RSA/EC keys imported into the runtime, for the last keyset only.
    static RUNTIME_KEYS: RefCell<RuntimeKeys> = RefCell::new(RuntimeKeys::default());
}

/// The outcome, or (RSA/ECDSA under WebCrypto) the promise of it.
fn verify_token(token: &str, keyset: &Arc<Keyset>, opts: &VerifyOptions, now: f64) -> JsValue {
    let untrusted = match UntrustedToken::parse(token, opts) {
        Ok(untrusted) => untrusted,
        Err(reason) => return rejected(reason),
    };
    match untrusted.check(keyset, opts, now) {
        Step::Done(outcome) => to_js(outcome),
        Step::Runtime(check) => {
            let table = RUNTIME_KEYS.with(|keys| keys.borrow_mut().table_for(keyset));
            match check_by_runtime(&table, check, opts, now) {
                Checked::Now(outcome) => outcome,
                Checked::Later(promise) => promise.into(),
            }
        }
    }
}

/// The parsed keyset, `None` when it is unusable; a `TypeError` when `jwks` is neither a string
/// nor an object.
fn keyset_for(jwks: &JsValue) -> Result<Option<Arc<Keyset>>, JsValue> {
    if keyset_unchanged(jwks) {
        if let Some((_, keyset)) = LAST_KEYSET.with(|c| c.borrow().clone()) {
            return Ok(Some(keyset));
        }
    }
    let text = match jwks.as_string() {
        Some(text) => Some(text),
        None if jwks.is_object() => js_sys::JSON::stringify(jwks)
            .ok()
            .and_then(|s| s.as_string()),
        None => None,
    };
    let Some(text) = text else {
        return Err(
            js_sys::TypeError::new("jwtedge: jwks must be a JWKS JSON string or object").into(),
        );
    };
    let same = LAST_KEYSET.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(last, _)| *last == text)
            .map(|(_, keyset)| keyset.clone())
    });
    if same.is_some() {
        return Ok(same);
    }
    let parsed = Keyset::from_jwks_json(text.as_bytes(), KeysetLimits::default())
        .ok()
        .map(Arc::new);
    LAST_KEYSET.with(|c| *c.borrow_mut() = parsed.clone().map(|keyset| (text, keyset)));
    Ok(parsed)
}

/// Verifies `token` against `jwks` (a JWKS JSON string, or an object that is serialised).
/// Throws a `TypeError` for bad options only; every token, good or bad, gets an outcome — itself,
/// or a promise of it when an RSA/ECDSA signature goes to WebCrypto (Workers, browsers).
#[wasm_bindgen(js_name = verifyWithKeyset)]
pub fn verify_with_keyset(
    token: JsValue,
    jwks: JsValue,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let options = Options::new(&options, VERIFY_WITH_KEYSET_OPTIONS)?;
    let opts = options.verify_options()?;
    let now = match options.number("nowSeconds", 0.0, 1e12)? {
        Some(now) => now,
        None => now_ms() / 1000.0,
    };
    let Some(keyset) = keyset_for(&jwks)? else {
        return Ok(rejected(Reason::InvalidKeyset));
    };
    Ok(with_token(
        &token,
        opts.max_token_bytes,
        |text| match text {
            Ok(token) => verify_token(token, &keyset, &opts, now),
            Err(reason) => rejected(reason),
        },
    ))
}
