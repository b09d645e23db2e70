//! Bringing the token string into wasm memory. wasm-bindgen's string passing copies char by char
//! in JS; a token is ASCII, so `TextEncoder.encodeInto` into a reused buffer is several times
//! cheaper. The length is checked before any copy: a 1 MiB token costs nothing to refuse.

use std::cell::{Cell, RefCell};

use wasm_bindgen::JsValue;

use super::runtime::{encode_token, register_memory};
use crate::core::Reason;

thread_local! {
    static MEMORY_REGISTERED: Cell<bool> = const { Cell::new(false) };
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the token's UTF-8 text, or on `malformed` (not a string) / `too_large` (longer
/// than `max_bytes`, which is the first check of SPEC §4).
pub fn with_token<R>(
    token: &JsValue,
    max_bytes: usize,
    f: impl FnOnce(Result<&str, Reason>) -> R,
) -> R {
    if !MEMORY_REGISTERED.with(Cell::get) {
        register_memory(&wasm_bindgen::memory());
        MEMORY_REGISTERED.with(|r| r.set(true));
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit; a longer string is refused before copying.
    let capacity = max_bytes.saturating_mul(3);
    BUFFER.with(|cell| {
        // Re-entrant use (a getter calling back into jwtedge) gets a buffer of its own.
        let mut own = Vec::new();
        let mut shared = cell.try_borrow_mut();
        let buffer = match shared.as_deref_mut() {
            Ok(buffer) => buffer,
            Err(_) => &mut own,
        };
        if buffer.len() < capacity {
            buffer.resize(capacity, 0);
        }
        let written = encode_token(
            token,
            buffer.as_mut_ptr() as u32,
            capacity as u32,
            max_bytes as u32,
        );
        if written == -2.0 {
            return f(Err(Reason::Malformed));
        }
        if written < 0.0 || written as usize > max_bytes {
            return f(Err(Reason::TooLarge));
        }
        match buffer.get(..written as usize).map(std::str::from_utf8) {
            Some(Ok(text)) => f(Ok(text)),
            _ => f(Err(Reason::Malformed)),
        }
    })
}
