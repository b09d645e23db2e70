//! The JavaScript adapter (SPEC §6): options in, fetch out, outcome back. Everything that decides
//! anything lives in `crate::core`; this layer only converts values and drives I/O.
//! Nothing here may panic: a wasm panic aborts the whole isolate.

mod allocator;
mod options;
mod outcome;
mod runtime;
mod runtime_check;
mod token_text;
mod verifier;
mod verify_with_keyset;
mod webcrypto;

pub use verifier::Verifier;
pub use verify_with_keyset::verify_with_keyset;
