//! `Verifier`: verification against a keyset fetched from the origin and cached per isolate,
//! driven by the core's cache policy. One shared fetch promise per cache miss (coalescing);
//! waiters bound their wait, so a fetch whose starter was cancelled cannot hang them.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::options::{type_error, Options, VERIFIER_OPTIONS};
use super::outcome::{rejected, to_js};
use super::runtime::{
    fetch_keyset, is_cloudflare_workers, now_ms, settled_or_timeout, stats_object,
};
use super::runtime_check::{check_by_runtime, Checked, RuntimeKeys};
use super::token_text::with_token;
use super::webcrypto::ed25519_via_webcrypto;
use crate::core::cache::{CacheConfig, FetchResponse, FetchTicket, KeysetCache, Plan};
use crate::core::{Reason, Step as CoreStep, UntrustedToken, VerifyOptions};

/// Plans one verification may go through: wait, take over a dead fetch, wait, verify — with room
/// to spare, and a hard stop so no input can loop.
const MAX_PLANS: usize = 8;

#[wasm_bindgen]
pub struct Verifier {
    inner: Rc<Inner>,
}

struct Inner {
    url: String,
    authorization: Option<String>,
    fetcher: Option<js_sys::Function>,
    /// Ed25519 signatures checked by the runtime's WebCrypto (faster on Workers, where it is
    /// native and synchronous underneath) instead of in wasm (faster in Node).
    webcrypto_ed25519: bool,
    opts: VerifyOptions,
    config: CacheConfig,
    state: RefCell<State>,
}

struct State {
    cache: KeysetCache,
    /// The promise of the fetch in flight (fetch + apply), by ticket id.
    in_flight: Option<(u64, Promise)>,
    /// RSA/EC keys imported into the runtime, for the current keyset only.
    runtime_keys: RuntimeKeys,
}

enum Step {
    Done(JsValue),
    /// Waiting for the keyset.
    Pending,
    /// The signature is with the runtime's WebCrypto (Ed25519, RSA, ECDSA): this promise settles
    /// to the outcome.
    WebCrypto(Promise),
}

#[wasm_bindgen]
impl Verifier {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Verifier, JsValue> {
        let options = Options::new(&options, VERIFIER_OPTIONS)?;
        let url = options
            .string("keysetUrl")?
            .ok_or_else(|| type_error("keysetUrl", "the keyset URL (a string)"))?;
        if !["https://", "http://", "data:"]
            .iter()
            .any(|p| url.starts_with(p))
        {
            return Err(type_error("keysetUrl", "an http(s) URL"));
        }
        let authorization = options.string("keysetAuthorization")?;
        if authorization
            .as_deref()
            .is_some_and(|a| a.contains(['\r', '\n']))
        {
            return Err(type_error(
                "keysetAuthorization",
                "a header value without line breaks",
            ));
        }
        let fetcher = options.function("fetch")?;
        let webcrypto_ed25519 = match options.string("ed25519")?.as_deref() {
            None | Some("auto") => is_cloudflare_workers(),
            Some("webcrypto") => true,
            Some("wasm") => false,
            Some(_) => return Err(type_error("ed25519", "\"auto\", \"wasm\" or \"webcrypto\"")),
        };
        let opts = options.verify_options()?;
        let config = options.cache_config()?;
        Ok(Verifier {
            inner: Rc::new(Inner {
                url,
                authorization,
                fetcher,
                webcrypto_ed25519,
                opts,
                config,
                state: RefCell::new(State {
                    cache: KeysetCache::new(config),
                    in_flight: None,
                    runtime_keys: RuntimeKeys::default(),
                }),
            }),
        })
    }

    /// Resolves to the outcome; never rejects. Answers synchronously-resolved promises when the
    /// keyset is at hand, so the warm path costs no task switch.
    pub fn verify(&self, token: JsValue) -> Promise {
        with_token(&token, self.inner.opts.max_token_bytes, |text| match text {
            Err(reason) => Promise::resolve(&rejected(reason)),
            Ok(token) => match self.inner.step(token) {
                Step::Done(outcome) => Promise::resolve(&outcome),
                Step::Pending => {
                    let inner = self.inner.clone();
                    let token = token.to_owned();
                    future_to_promise(async move { Ok(inner.verify_waiting(&token).await) })
                }
                Step::WebCrypto(outcome) => outcome,
            },
        })
    }

    /// `{fetches, notModified, failures, cacheHits, keys}`.
    pub fn stats(&self) -> JsValue {
        let state = self.inner.state.borrow();
        let s = state.cache.stats();
        stats_object(
            s.fetches as f64,
            s.not_modified as f64,
            s.failures as f64,
            s.cache_hits as f64,
            state.cache.key_count() as f64,
        )
    }
}

impl Inner {
    /// One plan. Verifies when it can; otherwise starts or joins a fetch and reports `Pending`.
    fn step(self: &Rc<Self>, token: &str) -> Step {
        let untrusted = match UntrustedToken::parse(token, &self.opts) {
            Ok(t) => t,
            Err(reason) => return Step::Done(rejected(reason)),
        };
        let now = now_ms();
        let plan = self
            .state
            .borrow_mut()
            .cache
            .plan(now as u64, &untrusted.key_need());
        match plan {
            Plan::Verify(keyset) => {
                let now = now / 1000.0;
                // One key lookup, whoever then checks the signature.
                let key = match untrusted.find_key(&keyset) {
                    Ok(key) => key,
                    Err(reason) => return Step::Done(rejected(reason)),
                };
                if self.webcrypto_ed25519 {
                    if let Some(public_key) = key.ed25519_public_key() {
                        return Step::WebCrypto(ed25519_via_webcrypto(
                            untrusted, key, public_key, &self.opts, now,
                        ));
                    }
                }
                match untrusted.check_with(key, &self.opts, now) {
                    CoreStep::Done(outcome) => Step::Done(to_js(outcome)),
                    CoreStep::Runtime(check) => {
                        let table = self.state.borrow_mut().runtime_keys.table_for(&keyset);
                        match check_by_runtime(&table, check, &self.opts, now) {
                            Checked::Now(outcome) => Step::Done(outcome),
                            Checked::Later(outcome) => Step::WebCrypto(outcome),
                        }
                    }
                }
            }
            Plan::Unavailable(reason) => Step::Done(rejected(reason)),
            Plan::Fetch(ticket) => {
                self.start_fetch(ticket);
                Step::Pending
            }
            Plan::Wait { .. } => Step::Pending,
        }
    }

    async fn verify_waiting(self: Rc<Self>, token: &str) -> JsValue {
        for _ in 0..MAX_PLANS {
            let joined = self
                .state
                .borrow()
                .in_flight
                .as_ref()
                .map(|(_, p)| p.clone());
            if let Some(promise) = joined {
                let wait = settled_or_timeout(&promise, self.config.takeover_after_ms() as f64);
                let _ = JsFuture::from(wait).await;
            }
            match self.step(token) {
                Step::Done(outcome) => return outcome,
                Step::WebCrypto(outcome) => {
                    let settled = JsFuture::from(outcome).await;
                    return settled.unwrap_or_else(|_| rejected(Reason::BadSignature));
                }
                Step::Pending => {}
            }
        }
        rejected(Reason::FetchFailed)
    }

    /// Starts the fetch of `ticket`; its promise applies the result to the cache before it
    /// resolves, so every waiter that wakes sees the new state.
    fn start_fetch(self: &Rc<Self>, ticket: FetchTicket) {
        let inner = self.clone();
        let id = ticket.id;
        let promise = future_to_promise(async move {
            let fetched = fetch_keyset(
                inner.fetcher.clone(),
                &inner.url,
                inner.authorization.clone(),
                ticket.etag,
                inner.config.fetch_timeout_ms as f64,
                inner.config.limits.max_bytes as f64,
            );
            let result = JsFuture::from(fetched).await.unwrap_or(JsValue::UNDEFINED);
            inner.apply(id, &result);
            Ok(JsValue::UNDEFINED)
        });
        self.state.borrow_mut().in_flight = Some((id, promise));
    }

    fn apply(&self, id: u64, result: &JsValue) {
        let get = |name: &str| Reflect::get(result, &JsValue::from_str(name)).unwrap_or_default();
        let body: Vec<u8> = get("body")
            .dyn_into::<Uint8Array>()
            .map(|b| b.to_vec())
            .unwrap_or_default();
        let cache_control = get("cacheControl").as_string();
        let age = get("age").as_string();
        let etag = get("etag").as_string();
        let response = match get("kind").as_string().as_deref() {
            Some("http") => FetchResponse::Http {
                status: get("status").as_f64().map_or(0, |s| s as u16),
                body: &body,
                cache_control: cache_control.as_deref(),
                age: age.as_deref(),
                etag: etag.as_deref(),
            },
            Some("too_large") => FetchResponse::TooLarge,
            _ => FetchResponse::Failed,
        };
        let mut state = self.state.borrow_mut();
        state.cache.fetch_finished(now_ms() as u64, id, response);
        if state.in_flight.as_ref().is_some_and(|(i, _)| *i == id) {
            state.in_flight = None;
        }
    }
}
