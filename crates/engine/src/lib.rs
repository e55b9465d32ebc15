//! prompt-guard's engine: plain Rust with no knowledge of Envoy. Detection, masking, restoring,
//! protocol rewriting, threat scoring, the configuration model and the session store live here and
//! are tested and benchmarked natively. The crate does not depend on `proxy-wasm`; the filter crate
//! binds it to the host.

pub mod api;
pub mod config;
pub mod detect;
pub mod encoding;
pub mod entity;
pub mod event;
pub mod exchange;
pub mod keys;
pub mod mask;
pub mod memo;
pub mod placeholder;
pub mod plan;
pub mod policy;
pub mod protocol;
pub mod reply;
pub mod restore;
pub mod sse;
pub mod store;
pub mod threat;
pub mod vault;
