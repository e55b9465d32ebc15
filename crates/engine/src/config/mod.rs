//! Configuration: one JSON document (Envoy `configuration`, Istio `pluginConfig`), parsed into a
//! raw serde model, validated, then compiled once per VM into [`FilterConfig`] with every regex
//! built. A problem names the field by its JSON path and the filter refuses to start.

pub mod audit;
mod error;
pub mod threats;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use audit::{AuditSettings, ResponseHeaders};
pub use error::ConfigError;

use crate::api::{settings as api_settings, ApiSettings, RawApi};
use crate::detect::{CustomPattern, DetectBuildError, DetectSettings, Detector};
use crate::entity::BuiltinKind;
use crate::keys::{KeyNames, KeyUse, Keyring};
use crate::placeholder::{is_label, PlaceholderGrammar};
use crate::policy::{Policy, PolicyId, RawPolicy, Strategy};
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
    /// The filter's default policy (docs/policies.md); absent: the `default` preset.
    pub policy: Option<RawPolicy>,
    /// Named policies, for selection by route or tenant.
    pub policies: BTreeMap<String, RawPolicy>,
    /// A trusted request header whose value names the policy of the exchange (set by an
    /// authentication filter from a verified claim; the shipped bootstraps drop the client's copy).
    pub policy_header: Option<String>,
    /// Which environment variables hold the keys of `hash` and `encrypt`.
    pub keys: KeyNames,
    /// The audit record of every guarded exchange (docs/observability.md).
    pub audit: audit::RawAudit,
    /// Statistics headers on guarded replies.
    pub response_headers: audit::RawResponseHeaders,
    /// `/v1/anonymize` and `/v1/restore`, served by the filter (docs/api.md).
    pub api: RawApi,
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

/// A trusted header's name, lower case, or the error naming `field`.
fn header_name(value: &str, field: &str) -> Result<String, ConfigError> {
    let header = value.trim().to_ascii_lowercase();
    let token = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
    if header.is_empty() || !header.bytes().all(token) {
        return Err(ConfigError::new(field, "must be a header name (letters, digits, '-', '_', '.')"));
    }
    Ok(header)
}

fn compile_session(raw: &RawSession, vault_capacity: u64) -> Result<SessionConfig, ConfigError> {
    let header = header_name(&raw.identity_header, "session.identity_header")?;
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
            policy: None,
            policies: BTreeMap::new(),
            policy_header: None,
            keys: KeyNames::default(),
            audit: audit::RawAudit::default(),
            response_headers: audit::RawResponseHeaders::default(),
            api: RawApi::default(),
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

/// An explicit route: requests whose path starts with `prefix` are treated as `api`, under
/// `policy` (a name of `policies`, or `default`). At least one of the two is given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub prefix: String,
    #[serde(default)]
    pub api: Option<Api>,
    #[serde(default)]
    pub policy: Option<String>,
}

/// A compiled route: a normalised prefix, and what it decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub prefix: String,
    pub api: Option<Api>,
    pub policy: Option<PolicyId>,
}

/// The name under which the filter's own policy (`policy`) is selected, shown and counted.
pub const DEFAULT_POLICY_NAME: &str = "default";

/// A trusted policy header named a policy the configuration does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownPolicy;

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
    pub routes: Vec<Route>,
    pub restore_responses: bool,
    /// Labels that can be masked (enabled built-ins, then custom patterns), for metrics.
    pub labels: Vec<String>,
    pub threats: threats::CompiledThreats,
    /// Set when mappings are kept across the exchanges of a session.
    pub session: Option<SessionConfig>,
    /// Texts per generation of the scan memo (0: off); the memo itself is the VM's `Guard`'s.
    pub scan_memo_entries: usize,
    /// The policy exchanges run under unless another is selected.
    pub policy: Policy,
    /// Named policies (`policies`), compiled, sorted by name: [`PolicyId::Named`] indexes it.
    pub policies: Vec<(String, Policy)>,
    /// The trusted header that selects a policy by name (lower case).
    pub policy_header: Option<String>,
    /// The keys, read from the host environment (every feature that needs one checked it is set).
    pub keys: Keyring,
    pub audit: AuditSettings,
    pub response_headers: ResponseHeaders,
    /// Set when the filter serves the anonymize and restore API.
    pub api: Option<ApiSettings>,
}

impl FilterConfig {
    /// Parse, validate and compile. An empty document means every default. No environment:
    /// a policy that needs a key is refused (see [`FilterConfig::from_json_with_env`]).
    pub fn from_json(bytes: &[u8]) -> Result<FilterConfig, ConfigError> {
        FilterConfig::from_json_with_env(bytes, &|_| None)
    }

    /// Parse, validate and compile, reading the keys the policies need through `env` (the
    /// host's environment variables, by name).
    pub fn from_json_with_env(bytes: &[u8], env: &dyn Fn(&str) -> Option<String>) -> Result<FilterConfig, ConfigError> {
        let raw = parse_raw(bytes)?;
        compile(raw, env)
    }

    /// A named policy of `policies`.
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policy_id(name).filter(|id| *id != PolicyId::Default).map(|id| self.policy_of(id))
    }

    /// The policy called `name`: `default` is the filter's own (`policy`), any other a name of
    /// `policies`.
    pub fn policy_id(&self, name: &str) -> Option<PolicyId> {
        if name == DEFAULT_POLICY_NAME {
            return Some(PolicyId::Default);
        }
        self.policies.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok().map(PolicyId::Named)
    }

    /// The compiled policy `id` names (the default for an index out of range, which no
    /// configuration issues).
    pub fn policy_of(&self, id: PolicyId) -> &Policy {
        match id {
            PolicyId::Default => &self.policy,
            PolicyId::Named(i) => self.policies.get(i).map_or(&self.policy, |(_, p)| p),
        }
    }

    /// The name `id` is shown and counted under.
    pub fn policy_name(&self, id: PolicyId) -> &str {
        match id {
            PolicyId::Default => DEFAULT_POLICY_NAME,
            PolicyId::Named(i) => self.policies.get(i).map_or(DEFAULT_POLICY_NAME, |(n, _)| n.as_str()),
        }
    }

    /// Every policy, the default first then the named ones by name: the order of
    /// [`PolicyId::index`].
    pub fn policy_ids(&self) -> impl Iterator<Item = PolicyId> {
        std::iter::once(PolicyId::Default).chain((0..self.policies.len()).map(PolicyId::Named))
    }

    /// The policy of a request to `path` whose trusted policy header (when configured) carries
    /// `header`: a non-empty header decides (an unknown name is an error), then the first route
    /// whose prefix covers the path and names a policy, then the default.
    pub fn select_policy(&self, path: &str, header: Option<&str>) -> Result<PolicyId, UnknownPolicy> {
        if let Some(name) = header.map(str::trim).filter(|v| !v.is_empty()) {
            return self.policy_id(name).ok_or(UnknownPolicy);
        }
        let path = normalise_path(path);
        let chosen = self.routes.iter().filter(|r| covers(&r.prefix, &path)).find_map(|r| r.policy);
        Ok(chosen.unwrap_or(PolicyId::Default))
    }

    /// The prefix of the first configured route that covers `path` (the audit record's route).
    pub fn route_prefix(&self, path: &str) -> Option<&str> {
        let path = normalise_path(path);
        self.routes.iter().find(|r| covers(&r.prefix, &path)).map(|r| r.prefix.as_str())
    }

    /// Which API a request path speaks: explicit routes first, then the known endpoints, then
    /// `unknown_paths`. Both the path and the routes' prefixes are compared normalised (see
    /// `protocol::route`), segment by segment: `/v1` covers `/v1/x` and `/V1;a=b/x`, not `/v1x`.
    /// `path` may carry a query string.
    pub fn classify(&self, path: &str) -> Api {
        let path = normalise_path(path);
        if let Some(api) = self.routes.iter().filter(|r| covers(&r.prefix, &path)).find_map(|r| r.api) {
            return api;
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

/// Whether the normalised `prefix` covers the normalised `path`, segment by segment.
fn covers(prefix: &str, path: &str) -> bool {
    prefix == "/" || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
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

fn compile(raw: RawConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<FilterConfig, ConfigError> {
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
        if r.api.is_none() && r.policy.is_none() {
            return Err(ConfigError::new(format!("routes[{i}]"), "names an 'api', a 'policy' or both"));
        }
        // Policy names are checked once `policies` is compiled, below.
        routes.push(Route { prefix: normalise_path(&r.prefix), api: r.api, policy: None });
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

    let custom_labels: Vec<String> = custom.iter().map(|c| c.label.clone()).collect();
    let policy = match &raw.policy {
        Some(p) => Policy::compile(p, "policy", &custom_labels)?,
        None => Policy::compile(&RawPolicy::default(), "policy", &custom_labels)?,
    };
    // A BTreeMap iterates in name order: `policies` stays sorted for `policy_id`.
    let mut policies = Vec::with_capacity(raw.policies.len());
    for (name, p) in &raw.policies {
        // Names become metric tags and a response header value: `.` would cut a stats name.
        if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(ConfigError::new(
                format!("policies.{name}"),
                "a policy name is 1 to 64 letters, digits, '-' or '_'",
            ));
        }
        if name == DEFAULT_POLICY_NAME {
            return Err(ConfigError::new(
                format!("policies.{name}"),
                "'default' names the filter's own policy: configure it under 'policy'",
            ));
        }
        policies.push((name.clone(), Policy::compile(p, &format!("policies.{name}"), &custom_labels)?));
    }
    for (i, r) in raw.routes.iter().enumerate() {
        let Some(name) = &r.policy else { continue };
        let id = if name == DEFAULT_POLICY_NAME {
            Some(PolicyId::Default)
        } else {
            policies.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok().map(PolicyId::Named)
        };
        let id = id.ok_or_else(|| {
            ConfigError::new(format!("routes[{i}].policy"), "is not 'default' or a name of 'policies'")
        })?;
        if let Some(route) = routes.get_mut(i) {
            route.policy = Some(id);
        }
    }
    let policy_header = raw.policy_header.as_deref().map(|h| header_name(h, "policy_header")).transpose()?;
    let all = || std::iter::once(&policy).chain(policies.iter().map(|(_, p)| p));
    let keys = Keyring::from_env(&raw.keys, env)?;
    if all().any(|p| p.uses(Strategy::Hash)) {
        keys.require(&raw.keys, KeyUse::Hash, "a policy hashes values")?;
    }
    if all().any(|p| p.uses(Strategy::Encrypt)) {
        keys.require(&raw.keys, KeyUse::Seal, "a policy encrypts values")?;
    }

    let audit = raw.audit.compile();
    let threats = raw.threats.compile()?;
    let session = raw.session.as_ref().map(|s| compile_session(s, raw.max_entities_per_request)).transpose()?;
    if session.is_some() {
        // Sessions rest in shared data: sealed, under names no one can link to an identity.
        keys.require(&raw.keys, KeyUse::Seal, "session is configured (its records are sealed)")?;
        keys.require(&raw.keys, KeyUse::Hash, "session is configured (its records are named by keyed hashes)")?;
    }
    let api = api_settings::compile(&raw.api, session.as_ref().map(|s| s.identity_header.as_str()), header_name)?;
    if api.is_some() {
        // Mappings are sealed wherever they rest; ids and records name callers by keyed hashes.
        keys.require(&raw.keys, KeyUse::Seal, "api is enabled (its mappings are sealed)")?;
        keys.require(&raw.keys, KeyUse::Hash, "api is enabled (it names callers by keyed hashes)")?;
    }

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
        policy,
        policies,
        policy_header,
        keys,
        audit,
        response_headers: raw.response_headers.compile(),
        api,
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
    fn policies_compile_and_keys_come_from_the_environment() {
        let c = FilterConfig::from_json(br#"{"policies": {"payments": {"preset": "pci_dss"}}}"#).unwrap();
        assert_eq!(c.policy, Policy::default());
        assert_eq!(c.policy("payments").unwrap().preset, crate::policy::Preset::PciDss);
        assert!(c.policy("other").is_none());
        let hashing = br#"{"policies": {"a": {"strategies": {"EMAIL": "hash"}}}, "keys": {"hash": "TEAM_KEY"}}"#;
        let e = err(std::str::from_utf8(hashing).unwrap());
        assert_eq!(e.field, "keys.hash");
        assert!(e.problem.contains("TEAM_KEY"), "{e}");
        let env = |name: &str| (name == "TEAM_KEY").then(|| "k".repeat(32));
        let c = FilterConfig::from_json_with_env(hashing, &env).unwrap();
        assert!(c.keys.hash_key().is_some() && c.keys.seal_key().is_none());
        assert_eq!(err(r#"{"policy": {"preset": "strict"}}"#).field, "policy.preset");
        assert_eq!(err(r#"{"policy": {"colour": 1}}"#).field, "policy.colour");
        assert_eq!(err(r#"{"policies": {"a b": {}}}"#).field, "policies.a b");
        assert_eq!(err(r#"{"policies": {"a.b": {}}}"#).field, "policies.a.b");
        assert_eq!(err(r#"{"policies": {"default": {}}}"#).field, "policies.default");
        assert_eq!(err(r#"{"policies": {"p": {"strategies": {"NOPE": "mask"}}}}"#).field, "policies.p.strategies.NOPE");
    }

    #[test]
    fn entity_switches() {
        let c = FilterConfig::from_json(br#"{"entities": {"IP_ADDRESS": false, "EMAIL": true}}"#).unwrap();
        assert!(!c.labels.iter().any(|l| l == "IP_ADDRESS"));
        assert!(c.labels.iter().any(|l| l == "EMAIL"));
    }

    fn two_teams() -> FilterConfig {
        FilterConfig::from_json(
            br#"{"policies": {"payments": {"preset": "pci_dss"}, "research": {"preset": "secrets_only"}},
                 "policy_header": "X-Team-Policy",
                 "routes": [{"prefix": "/pay", "policy": "payments"},
                            {"prefix": "/pay/raw", "api": "pass_through"},
                            {"prefix": "/lab", "api": "openai_chat", "policy": "research"}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn routes_and_the_header_select_a_policy() {
        let c = two_teams();
        assert_eq!(c.policy_header.as_deref(), Some("x-team-policy"));
        let payments = c.policy_id("payments").unwrap();
        let research = c.policy_id("research").unwrap();
        assert_ne!(payments, research);
        assert_eq!(c.select_policy("/pay/v1/chat/completions", None), Ok(payments));
        assert_eq!(c.select_policy("/PAY;x=1/v1/chat/completions", None), Ok(payments));
        assert_eq!(c.select_policy("/payroll/v1/chat/completions", None), Ok(PolicyId::Default));
        assert_eq!(c.select_policy("/v1/chat/completions", None), Ok(PolicyId::Default));
        assert_eq!(c.select_policy("/lab/x", None), Ok(research));
        // The header beats the route; blank is absent; `default` is the filter's own policy.
        assert_eq!(c.select_policy("/pay/v1/chat/completions", Some("research")), Ok(research));
        assert_eq!(c.select_policy("/pay/v1/chat/completions", Some("  ")), Ok(payments));
        assert_eq!(c.select_policy("/pay/v1/chat/completions", Some("default")), Ok(PolicyId::Default));
        assert_eq!(c.select_policy("/v1/chat/completions", Some("payment")), Err(UnknownPolicy));
        assert_eq!(c.policy_name(payments), "payments");
        assert_eq!(c.policy_name(PolicyId::Default), "default");
        assert_eq!(c.policy_of(payments).preset, crate::policy::Preset::PciDss);
        let names: Vec<&str> = c.policy_ids().map(|id| c.policy_name(id)).collect();
        assert_eq!(names, ["default", "payments", "research"]);
        for (i, id) in c.policy_ids().enumerate() {
            assert_eq!(id.index(), i);
        }
    }

    #[test]
    fn a_route_with_only_a_policy_leaves_the_api_to_the_path() {
        let c = two_teams();
        // The API is read from the path's known endpoint under the team's prefix.
        assert_eq!(c.classify("/pay/v1/chat/completions"), Api::OpenAiChat);
        assert_eq!(c.classify("/pay/notes"), Api::Generic);
        assert_eq!(c.classify("/v1/chat/completions"), Api::OpenAiChat);
        assert_eq!(c.classify("/pay/raw/x"), Api::PassThrough);
        assert_eq!(c.classify("/lab/anything"), Api::OpenAiChat);
    }

    #[test]
    fn route_policies_are_checked_at_load() {
        let e = err(r#"{"routes": [{"prefix": "/a", "policy": "nope"}]}"#);
        assert_eq!(e.field, "routes[0].policy");
        assert_eq!(err(r#"{"routes": [{"prefix": "/a"}]}"#).field, "routes[0]");
        assert_eq!(err(r#"{"policy_header": "x team"}"#).field, "policy_header");
        let c = FilterConfig::from_json(br#"{"routes": [{"prefix": "/a", "policy": "default"}]}"#).unwrap();
        assert_eq!(c.select_policy("/a/b", None), Ok(PolicyId::Default));
    }
}
