//! `jwtedge-origin`: the key origin (SPEC §7). Native only; everything lives in
//! `jwtedge::origin`. On wasm32 (where `wasm-pack` builds the library) this is an empty stub.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    jwtedge::origin::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
