//! Every metric the filter exports, declared once at configure time.
//!
//! Envoy prefixes custom Wasm metrics with `wasmcustom.`. Labels are written into the name as
//! `.<label>.<value>` so that the `stats_tags` in the shipped Envoy config turn them into
//! Prometheus labels, e.g. `wasmcustom.prompt_guard.entities_masked.type.EMAIL` becomes
//! `wasmcustom_prompt_guard_entities_masked{type="EMAIL"}`.

use super::host;
use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::Rejection;
use prompt_guard_engine::threat::{Action, Category};

const PREFIX: &str = "prompt_guard.";

/// A counter id; 0 when the host refused to define it (counting then does nothing).
#[derive(Debug, Clone, Copy, Default)]
pub struct Counter(Option<u32>);

impl Counter {
    fn define(name: &str) -> Counter {
        match host::define_counter(&format!("{PREFIX}{name}")) {
            Ok(id) => Counter(Some(id)),
            Err(e) => {
                log::warn!("prompt-guard: metric {name} not defined: {e}");
                Counter(None)
            }
        }
    }
    pub fn add(self, n: u64) {
        if let Some(id) = self.0 {
            host::increment(id, n);
        }
    }
    pub fn inc(self) {
        self.add(1);
    }
}

/// A gauge id; `None` when the host refused to define it (setting it then does nothing).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauge(Option<u32>);

impl Gauge {
    fn define(name: &str) -> Gauge {
        match host::define_gauge(&format!("{PREFIX}{name}")) {
            Ok(id) => Gauge(Some(id)),
            Err(e) => {
                log::warn!("prompt-guard: metric {name} not defined: {e}");
                Gauge(None)
            }
        }
    }
    pub fn set(self, value: u64) {
        if let Some(id) = self.0 {
            host::record(id, value);
        }
    }
}

/// A histogram id; `None` when the host refused to define it (recording then does nothing).
/// Its buckets are the host's setting (`stats_config.histogram_bucket_settings` in Envoy).
#[derive(Debug, Clone, Copy, Default)]
pub struct Histogram(Option<u32>);

impl Histogram {
    fn define(name: &str) -> Histogram {
        match host::define_histogram(&format!("{PREFIX}{name}")) {
            Ok(id) => Histogram(Some(id)),
            Err(e) => {
                log::warn!("prompt-guard: metric {name} not defined: {e}");
                Histogram(None)
            }
        }
    }
    pub fn record(self, value: u64) {
        if let Some(id) = self.0 {
            host::record(id, value);
        }
    }
}

/// A family of counters keyed by one label value.
#[derive(Debug, Default)]
pub struct Labeled {
    counters: Vec<(String, Counter)>,
}

impl Labeled {
    fn define(name: &str, label: &str, values: impl IntoIterator<Item = String>) -> Labeled {
        let counters = values
            .into_iter()
            .map(|v| {
                let c = Counter::define(&format!("{name}.{label}.{v}"));
                (v, c)
            })
            .collect();
        Labeled { counters }
    }
    pub fn add(&self, value: &str, n: u64) {
        if let Some((_, c)) = self.counters.iter().find(|(v, _)| v == value) {
            c.add(n);
        }
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub requests_inspected: Counter,
    pub requests_with_findings: Counter,
    /// Texts whose scan results were remembered from an earlier request of the same caller.
    pub scan_memo_hits: Counter,
    pub entities_masked: Labeled,
    pub placeholders_restored: Counter,
    pub restore_misses: Counter,
    pub rejections: Labeled,
    pub fail_open: Labeled,
    pub responses_unrestored: Labeled,
    pub stream_anomalies: Labeled,
    pub threat_verdicts: Labeled,
    pub reply_findings: Labeled,
    /// The VM's linear memory after the last exchange, in bytes (the last reading of any worker).
    pub wasm_memory_bytes: Gauge,
    /// Host time the filter's callbacks spent on one inspected request, in microseconds.
    pub request_processing_us: Histogram,
    /// Host time the filter's callbacks spent on one reply it looked at, in microseconds.
    pub reply_processing_us: Histogram,
}

/// What a reply may carry that the request did not.
pub const REPLY_FINDINGS: [&str; 5] = ["exfiltration_link", "link_reported", "canary_leak", "secret", "pii"];

/// The `threat_verdicts` key for a category and action (`<category>.action.<action>`, so that
/// the full name reads `threat_verdicts.category.<category>.action.<action>`).
pub fn verdict_key(category: Category, action: Action) -> String {
    format!("{}.action.{}", category.name(), action.name())
}

/// Streams that were not what they declared: ended mid-event or mid-placeholder (or cut by a
/// reset or an abort), not SSE at all, with an event larger than the framer holds, or compressed
/// and inflating past `max_response_bytes` (ended with an error event).
pub const STREAM_ANOMALIES: [&str; 4] = ["truncated", "not_sse", "oversized_event", "inflate_limit"];

/// Why a reply went to the client without its placeholders restored.
pub const UNRESTORED_REASONS: [&str; 4] = ["too_large", "unsupported_encoding", "corrupt_encoding", "not_utf8"];

impl Metrics {
    pub fn define(cfg: &FilterConfig) -> Metrics {
        let reasons = || Rejection::REASONS.iter().map(|r| (*r).to_owned());
        Metrics {
            requests_inspected: Counter::define("requests_inspected"),
            requests_with_findings: Counter::define("requests_with_findings"),
            scan_memo_hits: Counter::define("scan_memo_hits"),
            entities_masked: Labeled::define("entities_masked", "type", cfg.labels.iter().cloned()),
            placeholders_restored: Counter::define("placeholders_restored"),
            restore_misses: Counter::define("restore_misses"),
            rejections: Labeled::define("rejections", "reason", reasons()),
            fail_open: Labeled::define("fail_open", "reason", reasons()),
            responses_unrestored: Labeled::define(
                "responses_unrestored",
                "reason",
                UNRESTORED_REASONS.iter().map(|r| (*r).to_owned()),
            ),
            threat_verdicts: Labeled::define(
                "threat_verdicts",
                "category",
                Category::ALL.iter().flat_map(|c| [verdict_key(*c, Action::Block), verdict_key(*c, Action::Flag)]),
            ),
            reply_findings: Labeled::define("reply_findings", "kind", REPLY_FINDINGS.iter().map(|r| (*r).to_owned())),
            stream_anomalies: Labeled::define(
                "stream_anomalies",
                "kind",
                STREAM_ANOMALIES.iter().map(|r| (*r).to_owned()),
            ),
            wasm_memory_bytes: Gauge::define("wasm_memory_bytes"),
            request_processing_us: Histogram::define("request_processing_us"),
            reply_processing_us: Histogram::define("reply_processing_us"),
        }
    }
}
