//! Reading the JavaScript options object (SPEC §6). Every option is checked at construction: an
//! unknown name or a wrong type throws a `TypeError` that names the option.

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};

use super::runtime::{option_error, option_range_error, pick_options};

use crate::core::cache::CacheConfig;
use crate::core::{Algorithm, KeysetLimits, TypeExpectation, VerifyOptions};

/// Options of `verifyWithKeyset`: the verification options, and the clock override.
pub const VERIFY_WITH_KEYSET_OPTIONS: &[&str] = &[
    "issuer",
    "audience",
    "algorithms",
    "leewaySeconds",
    "tokenType",
    "requiredClaims",
    "maxTokenBytes",
    "nowSeconds",
];

/// Options of `Verifier`: the verification options, and those of the keyset and its cache.
pub const VERIFIER_OPTIONS: &[&str] = &[
    "issuer",
    "audience",
    "algorithms",
    "leewaySeconds",
    "tokenType",
    "requiredClaims",
    "maxTokenBytes",
    "keysetUrl",
    "keysetAuthorization",
    "fetch",
    "ed25519",
    "cooldownSeconds",
    "maxStaleSeconds",
    "fetchTimeoutSeconds",
    "minFreshSeconds",
    "maxFreshSeconds",
    "defaultFreshSeconds",
    "maxKeysetBytes",
    "maxKeys",
];

/// Ten years: larger durations are certainly mistakes.
const MAX_SECONDS: f64 = 315_360_000.0;

/// A `TypeError` naming the option. The message is put together in JavaScript (js/glue.js):
/// string formatting in Rust would cost the `.wasm` its formatting machinery.
pub fn type_error(option: &str, expected: &str) -> JsValue {
    option_error(option, expected)
}

thread_local! {
    /// The JS arrays of option names, built once: reading options then costs one call into JS.
    static NAME_ARRAYS: std::cell::RefCell<Vec<(usize, Array)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn names_array(names: &'static [&'static str]) -> Array {
    NAME_ARRAYS.with(|cache| {
        let key = names.as_ptr() as usize;
        if let Some((_, array)) = cache.borrow().iter().find(|(k, _)| *k == key) {
            return array.clone();
        }
        let array: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
        cache.borrow_mut().push((key, array.clone()));
        array
    })
}

/// A validated options object: its values, in the order of `names`.
pub struct Options {
    names: &'static [&'static str],
    values: Option<Array>,
}

impl Options {
    /// Checks that `value` is an object (or undefined) whose every own key is in `names`.
    pub fn new(value: &JsValue, names: &'static [&'static str]) -> Result<Options, JsValue> {
        let picked = pick_options(value, &names_array(names))?;
        Ok(Options {
            names,
            values: (!picked.is_null()).then(|| picked.unchecked_into()),
        })
    }

    /// The value of `name`, `None` when absent or undefined.
    fn get(&self, name: &str) -> Result<Option<JsValue>, JsValue> {
        let (Some(values), Some(index)) =
            (&self.values, self.names.iter().position(|n| *n == name))
        else {
            return Ok(None);
        };
        let value = values.get(index as u32);
        Ok((!value.is_undefined()).then_some(value))
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, JsValue> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => v
                .as_string()
                .filter(|s| !s.is_empty())
                .map(Some)
                .ok_or_else(|| type_error(name, "a non-empty string")),
        }
    }

    pub fn function(&self, name: &str) -> Result<Option<js_sys::Function>, JsValue> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => v
                .dyn_into::<js_sys::Function>()
                .map(Some)
                .map_err(|_| type_error(name, "a function with the signature of fetch")),
        }
    }

    /// A string or a non-empty array of strings.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, JsValue> {
        let expected = "a string or a non-empty array of strings";
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        if let Some(s) = v.as_string() {
            return Ok(Some(vec![s]));
        }
        if !Array::is_array(&v) {
            return Err(type_error(name, expected));
        }
        let list: Vec<String> = Array::from(&v)
            .iter()
            .map(|item| item.as_string().ok_or_else(|| type_error(name, expected)))
            .collect::<Result<_, _>>()?;
        if list.is_empty() {
            return Err(type_error(name, expected));
        }
        Ok(Some(list))
    }

    /// A finite number in `[min, max]`.
    pub fn number(&self, name: &str, min: f64, max: f64) -> Result<Option<f64>, JsValue> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|n| n.is_finite() && *n >= min && *n <= max)
                .map(Some)
                .ok_or_else(|| option_range_error(name, min, max)),
        }
    }

    /// A duration option in seconds, as milliseconds; `default_ms` when absent.
    fn seconds_ms(&self, name: &str, min: f64, default_ms: u64) -> Result<u64, JsValue> {
        Ok(self
            .number(name, min, MAX_SECONDS)?
            .map_or(default_ms, |s| (s * 1000.0).round() as u64))
    }

    fn count(&self, name: &str, min: f64, max: f64) -> Result<Option<usize>, JsValue> {
        match self.number(name, min, max)? {
            Some(n) if n.fract() != 0.0 => Err(type_error(name, "an integer")),
            other => Ok(other.map(|n| n as usize)),
        }
    }

    pub fn verify_options(&self) -> Result<VerifyOptions, JsValue> {
        let mut o = VerifyOptions::default();
        if let Some(list) = self.strings("algorithms")? {
            o.algorithms = list
                .iter()
                .map(|name| Algorithm::from_name(name))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    type_error(
                        "algorithms",
                        "a list of EdDSA, HS256, HS384, HS512, RS256, RS384, RS512, PS256, \
                         PS384, PS512, ES256, ES384, ES512",
                    )
                })?;
        }
        o.issuer = self.strings("issuer")?;
        o.audience = self.strings("audience")?;
        if let Some(leeway) = self.number("leewaySeconds", 0.0, MAX_SECONDS)? {
            o.leeway_seconds = leeway;
        }
        if let Some(typ) = self.string("tokenType")? {
            o.token_type = TypeExpectation::Exactly(typ);
        }
        if let Some(required) = self.strings("requiredClaims")? {
            o.required_claims = required;
        }
        if let Some(max) = self.count("maxTokenBytes", 16.0, 1_048_576.0)? {
            o.max_token_bytes = max;
        }
        Ok(o)
    }

    pub fn cache_config(&self) -> Result<CacheConfig, JsValue> {
        let d = CacheConfig::default();
        let l = KeysetLimits::default();
        let config = CacheConfig {
            cooldown_ms: self.seconds_ms("cooldownSeconds", 0.0, d.cooldown_ms)?,
            max_stale_ms: self.seconds_ms("maxStaleSeconds", 0.0, d.max_stale_ms)?,
            fetch_timeout_ms: self.seconds_ms("fetchTimeoutSeconds", 0.001, d.fetch_timeout_ms)?,
            min_fresh_ms: self.seconds_ms("minFreshSeconds", 0.0, d.min_fresh_ms)?,
            max_fresh_ms: self.seconds_ms("maxFreshSeconds", 0.0, d.max_fresh_ms)?,
            default_fresh_ms: self.seconds_ms("defaultFreshSeconds", 0.0, d.default_fresh_ms)?,
            limits: KeysetLimits {
                max_bytes: self
                    .count("maxKeysetBytes", 2.0, 16_777_216.0)?
                    .unwrap_or(l.max_bytes),
                max_keys: self.count("maxKeys", 1.0, 100_000.0)?.unwrap_or(l.max_keys),
            },
        };
        if config.min_fresh_ms > config.max_fresh_ms {
            return Err(type_error("minFreshSeconds", "at most maxFreshSeconds"));
        }
        Ok(config)
    }
}
