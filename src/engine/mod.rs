//! The engine: plain Rust with no knowledge of Envoy. Detection, masking, restoring, protocol
//! rewriting and threat scoring live here and are tested and benchmarked natively.

pub mod detect;
pub mod encoding;
pub mod entity;
pub mod exchange;
pub mod mask;
pub mod memo;
pub mod placeholder;
pub mod plan;
pub mod protocol;
pub mod reply;
pub mod restore;
pub mod sse;
pub mod stream;
pub mod threat;
pub mod vault;
