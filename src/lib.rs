//! prompt-guard: an Envoy proxy-wasm filter that masks PII and secrets in LLM API requests,
//! restores them in replies, and blocks prompt attacks.
//!
//! `engine`, `config` and `store` are plain Rust and never name `proxy_wasm`; `filter` is the
//! glue that binds them to the host and is only compiled for `wasm32`.

pub mod config;
pub mod engine;
pub mod store;

#[cfg(target_arch = "wasm32")]
mod filter;
