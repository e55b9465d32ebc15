//! Configuration: one JSON document (Envoy `configuration`, Istio `pluginConfig`), parsed into a
//! raw serde model, validated, then compiled once per VM into [`FilterConfig`] with every regex
//! built. A problem names the field by its JSON path and the filter refuses to start.

mod error;
pub mod threats;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use error::ConfigError;

use crate::detect::{CustomPattern, DetectBuildError, DetectSettings, Detector};
use crate::entity::BuiltinKind;
use crate::placeholder::{is_label, PlaceholderGrammar};
use crate::policy_reply::ReplyPolicy;
use crate::protocol::route::normalise_path;
use crate::protocol::Api;
use crate::restore::RestoreSpec;
use crate::store::SessionSettings;

/// Smallest and largest accepted `max_body_bytes`.
pub const MIN_BODY_BYTES: u64 = 1024;
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Default `max_body_bytes`: 32 MiB.
pub const DEFAULT_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// Largest accepted `max_entities_per_request`.
pub const MAX_ENTITIES: u64 = 100_000;
/// Default and largest `scan_memo_entries` (texts per generation; two generations are kept).
pub const DEFAULT_MEMO_ENTRIES: u64 = 2048;
pub const MAX_MEMO_ENTRIES: u64 = 65_536;

/// What to do with a request whose path is not a known LLM API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnknownPaths {
    /// Forward untouched: an explicit operator choice.
    PassThrough,
    /// Mask every string of a JSON body, or the raw text of a text body (the default: on a
    /// guarded route an unknown endpoint is a leak until proven otherwise).
    #[default]
    Generic,
}

/// The JSON document as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub fail_open: bool,
    pub max_body_bytes: u64,
    pub max_response_bytes: u64,
    pub placeholder_template: String,
    pub max_entities_per_request: u64,
    pub entities: BTreeMap<String, bool>,
    pub custom_patterns: Vec<RawCustomPattern>,
    pub allow_list: Vec<String>,
    pub min_score: f64,
    pub unknown_paths: UnknownPaths,
    pub routes: Vec<RawRoute>,
    pub restore_responses: bool,
    pub threats: threats::ThreatsConfig,
    pub session: Option<RawSession>,
    pub scan_memo_entries: u64,
    /// What a reply's personal data and secrets that the exchange did not mask become, per type
    /// (`policy_reply`). Provisional key: the same object under `policy.reply` once policies land.
    pub reply_entities: Option<serde_json::Value>,
}

/// `session`: placeholder mappings kept across the exchanges of one session.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    /// Request header that names the session. It must be set by something the operator trusts
    /// (an authentication filter, the gateway), never passed through from the client.
    pub identity_header: String,
    #[serde(default = "default_ttl")]
    pub ttl_seconds: u64,
    #[serde(default = "default_session_entries")]
    pub max_entries: u64,
    #[serde(default = "default_sessions")]
    pub max_sessions: u64,
}

fn default_ttl() -> u64 {
    3600
}
fn default_session_entries() -> u64 {
    1000
}
fn default_sessions() -> u64 {
    10_000
}

/// Compiled `session` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub identity_header: String,
    pub store: SessionSettings,
}

fn compile_session(raw: &RawSession, vault_capacity: u64) -> Result<SessionConfig, ConfigError> {
    let header = raw.identity_header.trim().to_ascii_lowercase();
    let token = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
    if header.is_empty() || !header.bytes().all(token) {
        return Err(ConfigError::new(
            "session.identity_header",
            "must be a header name (letters, digits, '-', '_', '.')",
        ));
    }
    if !(1..=7 * 24 * 3600).contains(&raw.ttl_seconds) {
        return Err(ConfigError::new("session.ttl_seconds", "must be between 1 and 604800 (7 days)"));
    }
    if !(1..=vault_capacity).contains(&raw.max_entries) {
        // A session's mappings are loaded into the exchange's vault, which holds at most
        // max_entries_per_request values.
        return Err(ConfigError::new(
            "session.max_entries",
            format!("must be between 1 and max_entries_per_request ({vault_capacity})"),
        ));
    }
    if !(1..=1_000_000).contains(&raw.max_sessions) {
        return Err(ConfigError::new("session.max_sessions", "must be between 1 and 1000000"));
    }
    Ok(SessionConfig {
        identity_header: header,
        store: SessionSettings {
            ttl_seconds: raw.ttl_seconds,
            max_entries: usize::try_from(raw.max_entries).unwrap_or(usize::MAX),
            max_sessions: usize::try_from(raw.max_sessions).unwrap_or(usize::MAX),
        },
    })
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            fail_open: false,
            // Anthropic's documented request limit for the Messages API (32 MB): a gateway that
            // refuses less refuses vision and long-context requests the provider takes
            // (docs/limits.md).
            max_body_bytes: DEFAULT_BODY_BYTES,
            max_response_bytes: 8 * 1024 * 1024,
            placeholder_template: PlaceholderGrammar::DEFAULT_TEMPLATE.to_owned(),
            max_entities_per_request: 1000,
            entities: BTreeMap::new(),
            custom_patterns: Vec::new(),
            allow_list: Vec::new(),
            min_score: 0.5,
            unknown_paths: UnknownPaths::Generic,
            routes: Vec::new(),
            restore_responses: true,
            threats: threats::ThreatsConfig::default(),
            session: None,
            scan_memo_entries: DEFAULT_MEMO_ENTRIES,
            reply_entities: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustomPattern {
    pub name: String,
    pub regex: String,
    #[serde(default)]
    pub context: Vec<String>,
}

/// An explicit route: requests whose path starts with `prefix` are treated as `api`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub prefix: String,
    pub api: Api,
}

/// The compiled configuration shared by every HTTP context of a VM.
#[derive(Debug)]
pub struct FilterConfig {
    pub fail_open: bool,
    pub max_body_bytes: usize,
    pub max_response_bytes: usize,
    pub max_entities: usize,
    pub restore: RestoreSpec,
    pub detector: Detector,
    pub unknown_paths: UnknownPaths,
    pub routes: Vec<(String, Api)>,
    pub restore_responses: bool,
    /// Labels that can be masked (enabled built-ins, then custom patterns), for metrics.
    pub labels: Vec<String>,
    pub threats: threats::CompiledThreats,
    /// Set when mappings are kept across the exchanges of a session.
    pub session: Option<SessionConfig>,
    /// Texts per generation of the scan memo (0: off); the memo itself is the VM's `Guard`'s.
    pub scan_memo_entries: usize,
    /// What a reply's unmasked personal data and secrets become, per type.
    pub reply_policy: ReplyPolicy,
}

impl FilterConfig {
    /// Parse, validate and compile. An empty document means every default.
    pub fn from_json(bytes: &[u8]) -> Result<FilterConfig, ConfigError> {
        let raw = parse_raw(bytes)?;
        compile(raw)
    }

    /// Which API a request path speaks: explicit routes first, then the known endpoints, then
    /// `unknown_paths`. Both the path and the routes' prefixes are compared normalised (see
    /// `protocol::route`), segment by segment: `/v1` covers `/v1/x` and `/V1;a=b/x`, not `/v1x`.
    /// `path` may carry a query string.
    pub fn classify(&self, path: &str) -> Api {
        let path = normalise_path(path);
        let under = |prefix: &str| {
            prefix == "/" || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
        };
        if let Some((_, api)) = self.routes.iter().find(|(prefix, _)| under(prefix)) {
            return *api;
        }
        match Api::from_path(&path) {
            Some(api) => api,
            None => match self.unknown_paths {
                UnknownPaths::PassThrough => Api::PassThrough,
                UnknownPaths::Generic => Api::Generic,
            },
        }
    }
}

fn parse_raw(bytes: &[u8]) -> Result<RawConfig, ConfigError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(RawConfig::default());
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ConfigError::new("", "the configuration must be a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path == "?" { String::new() } else { path };
        let problem = redact_strings(&e.into_inner().to_string());
        ConfigError::new(field, problem)
    })
}

/// serde quotes the offending string in its messages (`invalid type: string "...", expected a
/// sequence`). A configuration can hold personal data (an allow-listed address), and the message
/// goes to Envoy's log, so the quoted text is left out; the field path says where to look.
fn redact_strings(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("string \"") {
        out.push_str(&rest[..at]);
        out.push_str("a string");
        let after = &rest[at + "string \"".len()..];
        // The closing quote is the last one before the `, expected` that serde always adds.
        let end = after.find("\", expected").or_else(|| after.rfind('"')).unwrap_or(after.len());
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

fn compile(raw: RawConfig) -> Result<FilterConfig, ConfigError> {
    if !(MIN_BODY_BYTES..=MAX_BODY_BYTES).contains(&raw.max_body_bytes) {
        return Err(ConfigError::new(
            "max_body_bytes",
            format!("must be between {MIN_BODY_BYTES} and {MAX_BODY_BYTES}"),
        ));
    }
    if !(1..=MAX_ENTITIES).contains(&raw.max_entities_per_request) {
        return Err(ConfigError::new("max_entities_per_request", format!("must be between 1 and {MAX_ENTITIES}")));
    }
    if raw.scan_memo_entries > MAX_MEMO_ENTRIES {
        return Err(ConfigError::new("scan_memo_entries", format!("must be between 0 and {MAX_MEMO_ENTRIES}")));
    }
    if !(0.0..=1.0).contains(&raw.min_score) {
        return Err(ConfigError::new("min_score", "must be between 0 and 1"));
    }
    if !(MIN_BODY_BYTES..=MAX_BODY_BYTES).contains(&raw.max_response_bytes) {
        return Err(ConfigError::new(
            "max_response_bytes",
            format!("must be between {MIN_BODY_BYTES} and {MAX_BODY_BYTES}"),
        ));
    }
    let grammar = PlaceholderGrammar::parse(&raw.placeholder_template)
        .map_err(|e| ConfigError::new("placeholder_template", e.to_string()))?;

    let mut enabled: Vec<BuiltinKind> = BuiltinKind::ALL.to_vec();
    for (label, on) in &raw.entities {
        let kind = BuiltinKind::from_label(label).ok_or_else(|| {
            ConfigError::new(format!("entities.{label}"), "is not a known entity type (see the README for the list)")
        })?;
        if !on {
            enabled.retain(|k| *k != kind);
        }
    }

    let mut custom = Vec::with_capacity(raw.custom_patterns.len());
    for (i, p) in raw.custom_patterns.iter().enumerate() {
        let label = p.name.to_ascii_uppercase();
        if !is_label(&label) {
            return Err(ConfigError::new(
                format!("custom_patterns[{i}].name"),
                "must be 1 to 32 letters, digits or '_', starting with a letter",
            ));
        }
        if BuiltinKind::from_label(&label).is_some() || custom.iter().any(|c: &CustomPattern| c.label == label) {
            return Err(ConfigError::new(format!("custom_patterns[{i}].name"), format!("'{label}' is already used")));
        }
        if p.regex.is_empty() {
            return Err(ConfigError::new(format!("custom_patterns[{i}].regex"), "must not be empty"));
        }
        if let Some(j) = p.context.iter().position(|w| w.trim().is_empty()) {
            return Err(ConfigError::new(format!("custom_patterns[{i}].context[{j}]"), "must not be empty"));
        }
        custom.push(CustomPattern { label, regex: p.regex.clone(), context: p.context.clone() });
    }
    if let Some(j) = raw.allow_list.iter().position(String::is_empty) {
        return Err(ConfigError::new(format!("allow_list[{j}]"), "must not be empty"));
    }

    let mut routes = Vec::with_capacity(raw.routes.len());
    for (i, r) in raw.routes.iter().enumerate() {
        if !r.prefix.starts_with('/') {
            return Err(ConfigError::new(format!("routes[{i}].prefix"), "must start with '/'"));
        }
        routes.push((normalise_path(&r.prefix), r.api));
    }

    let settings = DetectSettings {
        enabled: enabled.clone(),
        custom: custom.clone(),
        allow_list: raw.allow_list.clone(),
        min_score: raw.min_score as f32,
    };
    let detector = Detector::new(&settings).map_err(|e| match e {
        DetectBuildError::BadCustomRegex { index, message } => {
            ConfigError::new(format!("custom_patterns[{index}].regex"), message)
        }
        DetectBuildError::TooManyCustomPatterns { count } => {
            ConfigError::new("custom_patterns", format!("{count} patterns, at most {} allowed", u16::MAX))
        }
        other @ DetectBuildError::BuiltinRegex { .. } => ConfigError::new("", other.to_string()),
    })?;

    let mut labels: Vec<String> = enabled.iter().map(|k| k.label().to_owned()).collect();
    labels.extend(custom.iter().map(|c| c.label.clone()));
    // Every label the filter could ever issue counts as ours when a reply carries an unknown
    // placeholder, including disabled built-ins: a miss is a miss whatever is switched on now.
    let mut known: Vec<String> = BuiltinKind::ALL.iter().map(|k| k.label().to_owned()).collect();
    known.extend(custom.iter().map(|c| c.label.clone()));

    let threats = raw.threats.compile()?;
    let custom_labels: Vec<String> = custom.iter().map(|c| c.label.clone()).collect();
    let reply_policy = match &raw.reply_entities {
        Some(v) => ReplyPolicy::from_value(v, "reply_entities", &custom_labels)?,
        None => ReplyPolicy::default(),
    };
    let session = raw.session.as_ref().map(|s| compile_session(s, raw.max_entities_per_request)).transpose()?;

    Ok(FilterConfig {
        fail_open: raw.fail_open,
        max_body_bytes: usize::try_from(raw.max_body_bytes).unwrap_or(usize::MAX),
        max_response_bytes: usize::try_from(raw.max_response_bytes).unwrap_or(usize::MAX),
        max_entities: usize::try_from(raw.max_entities_per_request).unwrap_or(usize::MAX),
        restore: RestoreSpec { grammar, known_labels: known },
        detector,
        unknown_paths: raw.unknown_paths,
        routes,
        restore_responses: raw.restore_responses,
        labels,
        threats,
        session,
        scan_memo_entries: usize::try_from(raw.scan_memo_entries).unwrap_or(0),
        reply_policy,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn err(json: &str) -> ConfigError {
        FilterConfig::from_json(json.as_bytes()).expect_err(json)
    }

    #[test]
    fn empty_document_is_all_defaults() {
        let c = FilterConfig::from_json(b"").unwrap();
        assert!(!c.fail_open);
        assert_eq!(c.max_body_bytes, 32 * 1024 * 1024);
        assert_eq!(c.labels.len(), BuiltinKind::ALL.len());
        let c = FilterConfig::from_json(b"{}").unwrap();
        assert_eq!(c.restore.grammar, PlaceholderGrammar::default());
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(err(r#"{"fail_opn": true}"#).field, "fail_opn");
        assert!(err(r#"{"fail_opn": true}"#).problem.contains("unknown field `fail_opn`"));
        assert_eq!(err(r#"{"max_body_bytes": 10}"#).field, "max_body_bytes");
        assert_eq!(err(r#"{"max_body_bytes": "big"}"#).field, "max_body_bytes");
        assert_eq!(err(r#"{"placeholder_template": "{TYPE}"}"#).field, "placeholder_template");
        assert_eq!(err(r#"{"entities": {"EMALE": false}}"#).field, "entities.EMALE");
        assert_eq!(err(r#"{"custom_patterns": [{"name": "x y", "regex": "a"}]}"#).field, "custom_patterns[0].name");
        assert_eq!(
            err(r#"{"custom_patterns": [{"name": "emp", "regex": "a", "colour": 1}]}"#).field,
            "custom_patterns[0].colour"
        );
        assert_eq!(err(r#"{"routes": [{"prefix": "x", "api": "openai_chat"}]}"#).field, "routes[0].prefix");
        assert_eq!(err(r#"{"routes": [{"prefix": "/x", "api": "gopher"}]}"#).field, "routes[0].api");
        assert_eq!(err(r#"{"unknown_paths": "mask"}"#).field, "unknown_paths");
        assert_eq!(err(r#"{"session": {"identity_header": "x user"}}"#).field, "session.identity_header");
        assert_eq!(err(r#"{"session": {"identity_header": "x-user", "ttl_seconds": 0}}"#).field, "session.ttl_seconds");
        assert_eq!(err(r#"{"session": {}}"#).field, "session");
        assert_eq!(err(r#"{"scan_memo_entries": 70000}"#).field, "scan_memo_entries");
        assert_eq!(err(r#"{"scan_memo_entries": -1}"#).field, "scan_memo_entries");
        assert_eq!(err("[1,2]").field, "");
        assert_eq!(err("{").field, "");
    }

    #[test]
    fn config_values_never_reach_the_message() {
        let e = err(r#"{"allow_list": "ann@example.com"}"#);
        assert_eq!(e.field, "allow_list");
        assert!(!e.to_string().contains("ann@example.com"), "{e}");
        assert!(e.problem.contains("a string"), "{e}");
    }

    #[test]
    fn entity_switches() {
        let c = FilterConfig::from_json(br#"{"entities": {"IP_ADDRESS": false, "EMAIL": true}}"#).unwrap();
        assert!(!c.labels.iter().any(|l| l == "IP_ADDRESS"));
        assert!(c.labels.iter().any(|l| l == "EMAIL"));
    }
}
