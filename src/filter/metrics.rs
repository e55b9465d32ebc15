//! Every metric the filter exports, declared once at configure time.
//!
//! Envoy prefixes custom Wasm metrics with `wasmcustom.`. Labels are written into the name as
//! `.<label>.<value>` so that the `stats_tags` in the shipped Envoy config turn them into
//! Prometheus labels, e.g. `wasmcustom.prompt_guard.entities_masked.type.EMAIL` becomes
//! `wasmcustom_prompt_guard_entities_masked{type="EMAIL"}`.

use std::marker::PhantomData;

use super::host;
use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::entity::{BuiltinKind, EntityKind};
use prompt_guard_engine::event::{
    ApiOperation, ApiOutcome, Event, Label, Reason, ReplyFindingKind, StreamAnomaly, Unopened, Unrestored,
    VERDICT_ACTIONS,
};
use prompt_guard_engine::policy::reply::ReplyAction;
use prompt_guard_engine::policy::PolicyId;
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

/// A family of counters, one per value of a typed label, declared up front.
#[derive(Debug)]
pub struct Family<L: Label> {
    counters: Vec<Counter>,
    label: PhantomData<L>,
}

impl<L: Label> Default for Family<L> {
    fn default() -> Self {
        Family { counters: Vec::new(), label: PhantomData }
    }
}

impl<L: Label> Family<L> {
    fn define(name: &str, label: &str) -> Family<L> {
        let counters = L::ALL.iter().map(|v| Counter::define(&format!("{name}.{label}.{}", v.label()))).collect();
        Family { counters, label: PhantomData }
    }
    fn add(&self, value: L, n: u64) {
        if let Some(c) = self.counters.get(value.index()) {
            c.add(n);
        }
    }
}

/// Counters per entity label: the labels are the configuration's (built-in and custom entities).
#[derive(Debug, Default)]
pub struct EntityCounters {
    counters: Vec<(String, Counter)>,
}

impl EntityCounters {
    fn define(name: &str, labels: &[String]) -> EntityCounters {
        let counters = labels.iter().map(|l| (l.clone(), Counter::define(&format!("{name}.type.{l}")))).collect();
        EntityCounters { counters }
    }
    fn add(&self, label: &str, n: u64) {
        match self.counters.iter().find(|(l, _)| l == label) {
            Some((_, c)) => c.add(n),
            // The masker only issues configured labels; say so if that ever stops being true.
            None => log::warn!("prompt-guard: entity label {label} has no counter"),
        }
    }
}

/// Values found in replies that the exchange did not mask, per entity type and reply action:
/// `reply_entities.type.<TYPE>.action.<action>`. Every type the detector can report (enabled
/// built-ins, then custom patterns, in the configuration's order) times every action.
#[derive(Debug, Default)]
pub struct ReplyEntityCounters {
    builtin: Vec<(BuiltinKind, Vec<Counter>)>,
    custom: Vec<Vec<Counter>>,
}

impl ReplyEntityCounters {
    fn define(name: &str, cfg: &FilterConfig) -> ReplyEntityCounters {
        let per_action = |label: &str| -> Vec<Counter> {
            ReplyAction::ALL
                .iter()
                .map(|a| Counter::define(&format!("{name}.type.{label}.action.{}", a.label())))
                .collect()
        };
        let mut out = ReplyEntityCounters::default();
        for label in &cfg.labels {
            match BuiltinKind::from_label(label) {
                Some(kind) => out.builtin.push((kind, per_action(label))),
                None => out.custom.push(per_action(label)),
            }
        }
        out
    }
    fn add(&self, kind: EntityKind, action: ReplyAction, n: u64) {
        let counters = match kind {
            EntityKind::Builtin(b) => self.builtin.iter().find(|(k, _)| *k == b).map(|(_, c)| c),
            EntityKind::Custom(i) => self.custom.get(usize::from(i)),
        };
        match counters.and_then(|c| c.get(action.index())) {
            Some(c) => c.add(n),
            None => log::warn!("prompt-guard: reply entity {kind:?} has no counter"),
        }
    }
}

/// Counters per policy (`<name>.policy.<policy>`): the default then the named policies, in the
/// order of `PolicyId::index`; the names are the configuration's.
#[derive(Debug, Default)]
pub struct PolicyCounters {
    counters: Vec<Counter>,
}

impl PolicyCounters {
    fn define(name: &str, cfg: &FilterConfig) -> PolicyCounters {
        let counters =
            cfg.policy_ids().map(|id| Counter::define(&format!("{name}.policy.{}", cfg.policy_name(id)))).collect();
        PolicyCounters { counters }
    }
    fn inc(&self, policy: PolicyId) {
        self.add(policy, 1);
    }
    fn add(&self, policy: PolicyId, n: u64) {
        match self.counters.get(policy.index()) {
            Some(c) => c.add(n),
            None => log::warn!("prompt-guard: policy {} has no counter", policy.index()),
        }
    }
}

/// Threat verdicts per category and action.
#[derive(Debug, Default)]
pub struct VerdictCounters {
    counters: Vec<(Category, Action, Counter)>,
}

impl VerdictCounters {
    fn define(name: &str) -> VerdictCounters {
        let counters = Category::ALL
            .iter()
            .flat_map(|c| VERDICT_ACTIONS.iter().map(move |a| (*c, *a)))
            .map(|(c, a)| (c, a, Counter::define(&format!("{name}.category.{}.action.{}", c.name(), a.name()))))
            .collect();
        VerdictCounters { counters }
    }
    fn add(&self, category: Category, action: Action) {
        match self.counters.iter().find(|(c, a, _)| *c == category && *a == action) {
            Some((_, _, counter)) => counter.inc(),
            None => log::warn!("prompt-guard: verdict {} {} has no counter", category.name(), action.name()),
        }
    }
}

/// Calls to the filter's own API per operation and outcome:
/// `api_calls.operation.<operation>.outcome.<outcome>`.
#[derive(Debug, Default)]
pub struct ApiCallCounters {
    counters: Vec<Counter>,
}

impl ApiCallCounters {
    fn define(name: &str) -> ApiCallCounters {
        let counters = ApiOperation::ALL
            .iter()
            .flat_map(|o| ApiOutcome::ALL.iter().map(move |r| (*o, *r)))
            .map(|(o, r)| Counter::define(&format!("{name}.operation.{}.outcome.{}", o.label(), r.label())))
            .collect();
        ApiCallCounters { counters }
    }
    fn inc(&self, operation: ApiOperation, outcome: ApiOutcome) {
        let at = operation.index() * ApiOutcome::ALL.len() + outcome.index();
        match self.counters.get(at) {
            Some(c) => c.inc(),
            None => log::warn!("prompt-guard: API call {} {} has no counter", operation.label(), outcome.label()),
        }
    }
}

/// Every metric, declared once from the engine's event labels; counted only through [`Metrics::count`].
#[derive(Debug, Default)]
pub struct Metrics {
    requests_inspected: Counter,
    requests_with_findings: Counter,
    /// Texts whose scan results were remembered from an earlier request of the same caller.
    scan_memo_hits: Counter,
    entities_masked: EntityCounters,
    placeholders_restored: Counter,
    restore_misses: Counter,
    rejections: Family<Reason>,
    fail_open: Family<Reason>,
    responses_unrestored: Family<Unrestored>,
    stream_anomalies: Family<StreamAnomaly>,
    threat_verdicts: VerdictCounters,
    reply_findings: Family<ReplyFindingKind>,
    reply_entities: ReplyEntityCounters,
    /// Inspected requests per policy.
    policy_requests: PolicyCounters,
    /// Values masked in requests per policy (all types).
    policy_entities_masked: PolicyCounters,
    /// Sealed session records that did not open (treated as absent), per reason.
    sealed_unopened: Family<Unopened>,
    /// Calls to the filter's own API, per operation and outcome.
    api_calls: ApiCallCounters,
    /// The VM's linear memory after the last exchange, in bytes (the last reading of any worker).
    pub wasm_memory_bytes: Gauge,
    /// Host time the filter's callbacks spent on one inspected request, in microseconds.
    pub request_processing_us: Histogram,
    /// Host time the filter's callbacks spent on one reply it looked at, in microseconds.
    pub reply_processing_us: Histogram,
}

impl Metrics {
    pub fn define(cfg: &FilterConfig) -> Metrics {
        Metrics {
            requests_inspected: Counter::define("requests_inspected"),
            requests_with_findings: Counter::define("requests_with_findings"),
            scan_memo_hits: Counter::define("scan_memo_hits"),
            entities_masked: EntityCounters::define("entities_masked", &cfg.labels),
            placeholders_restored: Counter::define("placeholders_restored"),
            restore_misses: Counter::define("restore_misses"),
            rejections: Family::define("rejections", "reason"),
            fail_open: Family::define("fail_open", "reason"),
            responses_unrestored: Family::define("responses_unrestored", "reason"),
            threat_verdicts: VerdictCounters::define("threat_verdicts"),
            reply_findings: Family::define("reply_findings", "kind"),
            reply_entities: ReplyEntityCounters::define("reply_entities", cfg),
            stream_anomalies: Family::define("stream_anomalies", "kind"),
            policy_requests: PolicyCounters::define("policy_requests", cfg),
            policy_entities_masked: PolicyCounters::define("policy_entities_masked", cfg),
            sealed_unopened: Family::define("sealed_unopened", "reason"),
            api_calls: ApiCallCounters::define("api_calls"),
            wasm_memory_bytes: Gauge::define("wasm_memory_bytes"),
            request_processing_us: Histogram::define("request_processing_us"),
            reply_processing_us: Histogram::define("reply_processing_us"),
        }
    }

    /// The one place an event becomes a count.
    pub fn count(&self, event: &Event<'_>) {
        match *event {
            Event::Inspected => self.requests_inspected.inc(),
            Event::WithFindings => self.requests_with_findings.inc(),
            Event::MemoHits(n) => self.scan_memo_hits.add(n),
            Event::Masked { label, count } => self.entities_masked.add(label, count),
            Event::Rejected(reason) => self.rejections.add(reason, 1),
            Event::FailOpen(reason) => self.fail_open.add(reason, 1),
            Event::Verdict { category, action } => self.threat_verdicts.add(category, action),
            Event::Restored(n) => self.placeholders_restored.add(n),
            Event::Misses(n) => self.restore_misses.add(n),
            Event::Unrestored(reason) => self.responses_unrestored.add(reason, 1),
            Event::Stream { anomaly, count } => self.stream_anomalies.add(anomaly, count),
            Event::ReplyFinding { kind, count } => self.reply_findings.add(kind, count),
            Event::ReplyEntity { kind, action, count } => self.reply_entities.add(kind, action, count),
            Event::UnderPolicy(policy) => self.policy_requests.inc(policy),
            Event::MaskedUnder { policy, count } => self.policy_entities_masked.add(policy, count),
            Event::SealedUnopened(reason) => self.sealed_unopened.add(reason, 1),
            Event::ApiCall { operation, outcome } => self.api_calls.inc(operation, outcome),
        }
    }
}
