//! The `api` section of the configuration: whether the filter serves `/v1/anonymize` and
//! `/v1/restore` itself, where, and where their mappings rest.

use serde::Deserialize;

use crate::config::ConfigError;
use crate::protocol::route::normalise_path;

/// Default paths, those of the `@veily/llm-guard` client.
pub const DEFAULT_ANONYMIZE_PATH: &str = "/v1/anonymize";
pub const DEFAULT_RESTORE_PATH: &str = "/v1/restore";
/// Longest accepted `ttl_seconds` (and per-call `ttl`): one day.
pub const MAX_TTL_SECONDS: u64 = 24 * 3600;
/// Largest accepted `max_mappings` (the index of stored mappings is one shared-data value).
pub const MAX_MAPPINGS: u64 = 100_000;
/// Accepted `max_stored_bytes`: 1 MiB to 1 GiB; default 64 MiB.
pub const MIN_STORED_BYTES: u64 = 1 << 20;
pub const MAX_STORED_BYTES: u64 = 1 << 30;
pub const DEFAULT_STORED_BYTES: u64 = 64 << 20;
/// Largest stateful record: a mapping bigger than this is refused (stateless mode carries it).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Where a mapping rests between anonymize and restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MappingMode {
    /// The mapping id is the mapping, sealed: nothing is stored, any replica with the key
    /// restores it.
    #[default]
    Stateless,
    /// The mapping id is a random 128-bit name; the mapping is sealed in Envoy shared data.
    Stateful,
}

impl MappingMode {
    pub const fn name(self) -> &'static str {
        match self {
            MappingMode::Stateless => "stateless",
            MappingMode::Stateful => "stateful",
        }
    }
}

/// `api` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawApi {
    pub enabled: bool,
    pub anonymize_path: String,
    pub restore_path: String,
    pub mode: MappingMode,
    pub ttl_seconds: u64,
    pub max_mappings: u64,
    pub max_stored_bytes: u64,
    /// The trusted header naming the caller; absent: `session.identity_header`, if any.
    pub identity_header: Option<String>,
}

impl Default for RawApi {
    fn default() -> Self {
        RawApi {
            enabled: false,
            anonymize_path: DEFAULT_ANONYMIZE_PATH.to_owned(),
            restore_path: DEFAULT_RESTORE_PATH.to_owned(),
            mode: MappingMode::Stateless,
            ttl_seconds: 3600,
            max_mappings: 10_000,
            max_stored_bytes: DEFAULT_STORED_BYTES,
            identity_header: None,
        }
    }
}

/// Which call a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Anonymize,
    Restore,
}

/// The compiled `api` section (present only when `enabled`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    pub anonymize_path: String,
    pub restore_path: String,
    pub mode: MappingMode,
    pub ttl_seconds: u64,
    pub max_mappings: usize,
    /// Bytes of stored records kept per Envoy process (the oldest dropped beyond).
    pub max_stored_bytes: u64,
    /// Lower case; `None`: calls carry no identity.
    pub identity_header: Option<String>,
}

impl ApiSettings {
    /// The call `path` (query and all) asks for, compared normalised and exactly.
    pub fn endpoint(&self, path: &str) -> Option<Endpoint> {
        let path = normalise_path(path);
        if path == self.anonymize_path {
            Some(Endpoint::Anonymize)
        } else if path == self.restore_path {
            Some(Endpoint::Restore)
        } else {
            None
        }
    }
}

fn api_path(value: &str, field: &str) -> Result<String, ConfigError> {
    if !value.starts_with('/') || value.len() > 256 {
        return Err(ConfigError::new(field, "must start with '/' (at most 256 characters)"));
    }
    let path = normalise_path(value);
    if path == "/" {
        return Err(ConfigError::new(field, "must not be '/' (it would take every request)"));
    }
    Ok(path)
}

/// Validate `api`; `session_header` is `session.identity_header` (already checked), the
/// default identity header. `Ok(None)` when the API is off.
pub fn compile(
    raw: &RawApi,
    session_header: Option<&str>,
    header_name: impl Fn(&str, &str) -> Result<String, ConfigError>,
) -> Result<Option<ApiSettings>, ConfigError> {
    let anonymize_path = api_path(&raw.anonymize_path, "api.anonymize_path")?;
    let restore_path = api_path(&raw.restore_path, "api.restore_path")?;
    if anonymize_path == restore_path {
        return Err(ConfigError::new("api.restore_path", "must differ from api.anonymize_path"));
    }
    if !(60..=MAX_TTL_SECONDS).contains(&raw.ttl_seconds) {
        return Err(ConfigError::new("api.ttl_seconds", format!("must be between 60 and {MAX_TTL_SECONDS}")));
    }
    if !(1..=MAX_MAPPINGS).contains(&raw.max_mappings) {
        return Err(ConfigError::new("api.max_mappings", format!("must be between 1 and {MAX_MAPPINGS}")));
    }
    if !(MIN_STORED_BYTES..=MAX_STORED_BYTES).contains(&raw.max_stored_bytes) {
        return Err(ConfigError::new(
            "api.max_stored_bytes",
            format!("must be between {MIN_STORED_BYTES} and {MAX_STORED_BYTES}"),
        ));
    }
    let identity_header = match &raw.identity_header {
        Some(h) => Some(header_name(h, "api.identity_header")?),
        None => session_header.map(str::to_owned),
    };
    if !raw.enabled {
        return Ok(None);
    }
    Ok(Some(ApiSettings {
        anonymize_path,
        restore_path,
        mode: raw.mode,
        ttl_seconds: raw.ttl_seconds,
        max_mappings: usize::try_from(raw.max_mappings).unwrap_or(usize::MAX),
        max_stored_bytes: raw.max_stored_bytes,
        identity_header,
    }))
}
