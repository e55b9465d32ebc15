//! `audit` and `response_headers`: what the filter tells the operator about each exchange (the
//! audit record it hands to Envoy's access log) and the client (statistics headers on replies).
//! Both carry labels and counts only, never a value.

use serde::Deserialize;

use super::ConfigError;
use crate::policy::keys::{HashKey, MIN_HASH_KEY_BYTES};
use crate::policy::KeyNames;

/// `audit` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAudit {
    /// Build an audit record for every guarded exchange and hand it to the host (Envoy filter
    /// state `wasm.prompt_guard.audit`, printed by the access log).
    pub enabled: bool,
}

impl Default for RawAudit {
    fn default() -> Self {
        RawAudit { enabled: true }
    }
}

/// `response_headers` as written: optional statistics headers on guarded replies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawResponseHeaders {
    /// `x-prompt-guard-types: EMAIL=2,CREDIT_CARD=1`: the types masked in the request.
    pub types: bool,
}

impl Default for RawResponseHeaders {
    fn default() -> Self {
        RawResponseHeaders { types: true }
    }
}

/// Compiled `audit`: on or off, and the key the caller's identity is hashed under (the hash key
/// of `keys.hash`, when the environment has one; without it the record names no caller).
#[derive(Clone, Default)]
pub struct AuditSettings {
    pub enabled: bool,
    pub caller_key: Option<HashKey>,
}

impl std::fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSettings")
            .field("enabled", &self.enabled)
            .field("caller_key", &self.caller_key.as_ref().map(|_| "set"))
            .finish()
    }
}

/// Compiled `response_headers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHeaders {
    pub types: bool,
}

impl RawAudit {
    /// The settings, reading the hash key through `env` when the record is on. A key that is
    /// set but too short is refused, as it is for `hash` (an operator who sets one expects it to
    /// be used).
    pub fn compile(
        &self,
        names: &KeyNames,
        loaded: Option<&HashKey>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AuditSettings, ConfigError> {
        if !self.enabled {
            return Ok(AuditSettings::default());
        }
        let caller_key = match loaded {
            Some(key) => Some(key.clone()),
            None => match env(&names.hash) {
                None => None,
                Some(value) => Some(HashKey::new(value.as_bytes()).ok_or_else(|| {
                    ConfigError::new(
                        "keys.hash",
                        format!(
                            "the environment variable {} must hold at least {MIN_HASH_KEY_BYTES} bytes",
                            names.hash
                        ),
                    )
                })?),
            },
        };
        Ok(AuditSettings { enabled: true, caller_key })
    }
}

impl RawResponseHeaders {
    pub fn compile(&self) -> ResponseHeaders {
        ResponseHeaders { types: self.types }
    }
}
