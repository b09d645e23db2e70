//! The runtime calls the adapter makes, implemented in `js/glue.js` against the globals shared by
//! Workers, browsers and Node (no `window`), plus the clock.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    /// Resolves (never rejects) to `{kind:"http",status,body,cacheControl,age,etag}`,
    /// `{kind:"too_large"}` or `{kind:"failed"}`.
    #[wasm_bindgen(js_name = fetchKeyset)]
    pub fn fetch_keyset(
        fetcher: Option<js_sys::Function>,
        url: &str,
        authorization: Option<String>,
        etag: Option<String>,
        timeout_ms: f64,
        max_bytes: f64,
    ) -> Promise;

    /// Resolves when `promise` settles or after `ms`.
    #[wasm_bindgen(js_name = settledOrTimeout)]
    pub fn settled_or_timeout(promise: &Promise, ms: f64) -> Promise;

    /// `null` for undefined/null options; else the values of `names` in order. Throws a
    /// `TypeError` for a non-object or an unknown option.
    #[wasm_bindgen(catch, js_name = pickOptions)]
    pub fn pick_options(options: &JsValue, names: &js_sys::Array) -> Result<JsValue, JsValue>;

    /// Resolves to `if_valid` or `if_invalid` by the runtime's WebCrypto verdict on the Ed25519
    /// signature; `wasm_check(publicKey, signature, message)` decides when WebCrypto cannot.
    #[wasm_bindgen(js_name = ed25519Outcome)]
    pub fn ed25519_outcome(
        public_key: &[u8],
        signature: &[u8],
        message: &[u8],
        if_valid: &JsValue,
        if_invalid: &JsValue,
        wasm_check: &js_sys::Function,
    ) -> Promise;

    /// A table of imported RSA/EC keys for one keyset: `params[i]` is `[kind, first, second]`
    /// of key `i` (`"RSA"`, n, e or the curve, x, y), or null for keys the core checks.
    #[wasm_bindgen(js_name = newRuntimeKeys)]
    pub fn new_runtime_keys(params: &js_sys::Array) -> JsValue;

    /// `if_valid` or `if_invalid` by the runtime's verdict on an RSA/ECDSA signature made with key
    /// `index` of `keys` under the registered algorithm `alg`: the outcome itself where the
    /// runtime checks synchronously (`node:crypto`), else a promise of it (WebCrypto).
    #[wasm_bindgen(js_name = runtimeOutcome)]
    pub fn runtime_outcome(
        keys: &JsValue,
        index: u32,
        alg: u32,
        signature: &[u8],
        message: &[u8],
        if_valid: &JsValue,
        if_invalid: &JsValue,
    ) -> JsValue;

    /// `TypeError: jwtedge: option "<option>" must be <expected>`.
    #[wasm_bindgen(js_name = optionError)]
    pub fn option_error(option: &str, expected: &str) -> JsValue;

    /// [`option_error`] for a number outside `[min, max]`, the bounds written as integers.
    #[wasm_bindgen(js_name = optionRangeError)]
    pub fn option_range_error(option: &str, min: f64, max: f64) -> JsValue;

    /// `{fetches, notModified, failures, cacheHits, keys}` (`Verifier.stats()`).
    #[wasm_bindgen(js_name = statsObject)]
    pub fn stats_object(
        fetches: f64,
        not_modified: f64,
        failures: f64,
        cache_hits: f64,
        keys: f64,
    ) -> JsValue;

    #[wasm_bindgen(js_name = isCloudflareWorkers)]
    pub fn is_cloudflare_workers() -> bool;

    #[wasm_bindgen(js_name = registerMemory)]
    pub fn register_memory(memory: &JsValue);

    /// Bytes written at `ptr`; -1 when over `max_units` UTF-16 units; -2 when not a string.
    #[wasm_bindgen(js_name = encodeToken)]
    pub fn encode_token(token: &JsValue, ptr: u32, cap: u32, max_units: u32) -> f64;

    #[wasm_bindgen(js_name = registerCodes)]
    pub fn register_codes(statuses: &js_sys::Array, reasons: &js_sys::Array, algs: &js_sys::Array);

    /// `alg` indexes the registered algorithm names.
    #[wasm_bindgen(js_name = okOutcome)]
    pub fn ok_outcome(claims_json: &str, kid: &JsValue, alg: u32) -> JsValue;

    /// `reason` indexes the registered reasons.
    #[wasm_bindgen(js_name = rejectedOutcome)]
    pub fn rejected_outcome(reason: u32) -> JsValue;

    #[wasm_bindgen(js_name = keysetUnchanged)]
    pub fn keyset_unchanged(jwks: &JsValue) -> bool;
}

/// Milliseconds since the Unix epoch. In Workers it advances only across I/O, which is all the
/// cache policy needs.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
