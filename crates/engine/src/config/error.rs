//! The one error a configuration can fail with: which field, and what is wrong with it.

use std::fmt;

/// A configuration problem, naming the field by its JSON path (`threats.actions.sqli`,
/// `custom_patterns[2].regex`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError { field: field.into(), problem: problem.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "invalid configuration: {}", self.problem)
        } else {
            write!(f, "invalid configuration: {}: {}", self.field, self.problem)
        }
    }
}

impl std::error::Error for ConfigError {}
