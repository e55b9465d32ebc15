//! Configuration: the raw JSON document, validated and compiled once per VM.

mod error;

pub use error::ConfigError;
pub mod threats;
