//! wasm-bindgen tests in headless Chromium: `WASM_BINDGEN_USE_BROWSER=1
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test
//! wasm_browser`. The configure line makes them browser-only, so Node never runs them by mistake.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

include!("wasm/cases.rs");
