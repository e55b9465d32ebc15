//! `audit` and `response_headers`: what the filter tells the operator about each exchange (the
//! audit record it hands to Envoy's access log) and the client (statistics headers on replies).
//! Both carry labels and counts only, never a value.

use serde::Deserialize;

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

/// Compiled `audit`. The record's caller hash uses the keyring's hash key when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditSettings {
    pub enabled: bool,
}

/// Compiled `response_headers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHeaders {
    pub types: bool,
}

impl RawAudit {
    pub fn compile(&self) -> AuditSettings {
        AuditSettings { enabled: self.enabled }
    }
}

impl RawResponseHeaders {
    pub fn compile(&self) -> ResponseHeaders {
        ResponseHeaders { types: self.types }
    }
}
