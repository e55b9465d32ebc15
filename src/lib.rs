//! prompt-guard: an Envoy proxy-wasm filter that masks PII and secrets in LLM API requests,
//! restores them in replies, and blocks prompt attacks.
//!
//! This crate is the glue: it binds the engine (`prompt_guard_engine`, plain Rust that never
//! names `proxy_wasm`) to the host, and is only compiled for `wasm32`.

#[cfg(target_arch = "wasm32")]
mod filter;
