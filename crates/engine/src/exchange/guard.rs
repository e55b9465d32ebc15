//! What one VM holds for all its exchanges: the compiled configuration, which never changes,
//! and the scan memo, which its requests share.

use crate::config::{ConfigError, FilterConfig};
use crate::memo::ScanMemo;

/// The per-VM state: the configuration as immutable data beside the one mutable thing the
/// exchanges share (the memo locks itself). Exchanges borrow it.
#[derive(Debug)]
pub struct Guard {
    config: FilterConfig,
    memo: ScanMemo,
}

impl Guard {
    pub fn new(config: FilterConfig) -> Guard {
        let memo = ScanMemo::new(config.scan_memo_entries);
        Guard { config, memo }
    }

    /// Parse, validate and compile a configuration (see [`FilterConfig::from_json`]).
    pub fn from_json(bytes: &[u8]) -> Result<Guard, ConfigError> {
        FilterConfig::from_json(bytes).map(Guard::new)
    }

    /// The same, reading the keys the policies need through `env` (see
    /// [`FilterConfig::from_json_with_env`]).
    pub fn from_json_with_env(bytes: &[u8], env: &dyn Fn(&str) -> Option<String>) -> Result<Guard, ConfigError> {
        FilterConfig::from_json_with_env(bytes, env).map(Guard::new)
    }

    pub fn config(&self) -> &FilterConfig {
        &self.config
    }

    /// What was found in texts of earlier requests, per caller (`scan_memo_entries`).
    pub fn memo(&self) -> &ScanMemo {
        &self.memo
    }
}
