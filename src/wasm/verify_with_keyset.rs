//! `verifyWithKeyset(token, jwks, options)`: synchronous verification against a keyset the
//! caller holds, with an optional clock override (`nowSeconds`) for tests and replay.

use std::cell::RefCell;
use std::sync::Arc;

use wasm_bindgen::prelude::*;

use super::options::{Options, VERIFY_WITH_KEYSET_OPTIONS};
use super::outcome::{rejected, to_js};
use super::runtime::now_ms;
use crate::core::{verify, Keyset, KeysetLimits, Reason};

thread_local! {
    /// The last keyset parsed, by its JSON text: callers pass the same keyset on every call, and
    /// parsing it (decoding, point decompression) would cost more than the verification.
    static LAST_KEYSET: RefCell<Option<(String, Arc<Keyset>)>> = const { RefCell::new(None) };
}

fn keyset_for(jwks: &str) -> Result<Arc<Keyset>, Reason> {
    let cached = LAST_KEYSET.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(text, _)| text == jwks)
            .map(|(_, k)| k.clone())
    });
    if let Some(keyset) = cached {
        return Ok(keyset);
    }
    let keyset = Arc::new(
        Keyset::from_jwks_json(jwks.as_bytes(), KeysetLimits::default())
            .map_err(|_| Reason::InvalidKeyset)?,
    );
    LAST_KEYSET.with(|c| *c.borrow_mut() = Some((jwks.to_owned(), keyset.clone())));
    Ok(keyset)
}

/// Verifies `token` against `jwks` (a JWKS JSON string, or an object that is serialised).
/// Throws a `TypeError` for bad options only; every token, good or bad, gets an outcome.
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
    let jwks_text = match jwks.as_string() {
        Some(text) => Some(text),
        None if jwks.is_object() => js_sys::JSON::stringify(&jwks)
            .ok()
            .and_then(|s| s.as_string()),
        None => None,
    };
    let Some(jwks_text) = jwks_text else {
        return Err(
            js_sys::TypeError::new("jwtedge: jwks must be a JWKS JSON string or object").into(),
        );
    };
    let keyset = match keyset_for(&jwks_text) {
        Ok(keyset) => keyset,
        Err(reason) => return Ok(rejected(reason)),
    };
    let Some(token) = token.as_string() else {
        return Ok(rejected(Reason::Malformed));
    };
    Ok(to_js(verify(&token, &keyset, &opts, now)))
}
