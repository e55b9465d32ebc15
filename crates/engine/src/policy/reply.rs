//! What a reply may carry of personal data and secrets that its exchange did not mask: an action
//! per entity type, chosen by the operator.
//!
//! A value the reply carries as one of this exchange's placeholders is the client's own and is
//! restored whatever the policy says; the policy speaks only of values the model wrote itself
//! (a customer record it recites, a key it remembers). The configuration names types by label,
//! by group (`secrets`, `pii`) or `default`; the most specific key wins:
//!
//! ```json
//! { "default": "pass", "CREDIT_CARD": "redact", "US_SSN": "stop", "secrets": "redact" }
//! ```

use std::collections::BTreeMap;

use crate::config::ConfigError;
use crate::entity::{BuiltinKind, EntityKind};
use crate::event::Label;

/// What happens to a value of one type found in a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReplyAction {
    /// Forwarded as it is, counted.
    #[default]
    Pass,
    /// Replaced by `[REDACTED:<TYPE>]`.
    Redact,
    /// Letters and digits replaced by `*`; separators (spaces, `-`, `.`, `@`, ...) kept.
    Mask,
    /// The reply goes no further: a buffered reply becomes an error in the API's shape, a stream
    /// ends with an error event in the API's shape.
    Stop,
}

impl Label for ReplyAction {
    const ALL: &'static [Self] = &[ReplyAction::Pass, ReplyAction::Redact, ReplyAction::Mask, ReplyAction::Stop];
    fn label(self) -> &'static str {
        match self {
            ReplyAction::Pass => "pass",
            ReplyAction::Redact => "redact",
            ReplyAction::Mask => "mask",
            ReplyAction::Stop => "stop",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

impl ReplyAction {
    fn parse(text: &str) -> Option<ReplyAction> {
        ReplyAction::ALL.iter().copied().find(|a| a.label() == text)
    }
}

/// Group names a policy key may use besides type labels and `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeGroup {
    /// Credentials: every built-in kind whose [`BuiltinKind::is_secret`] holds.
    Secrets,
    /// Everything that is not a secret, custom patterns included.
    Pii,
}

impl TypeGroup {
    pub const ALL: [TypeGroup; 2] = [TypeGroup::Secrets, TypeGroup::Pii];

    pub fn name(self) -> &'static str {
        match self {
            TypeGroup::Secrets => "secrets",
            TypeGroup::Pii => "pii",
        }
    }

    fn holds(self, kind: EntityKind) -> bool {
        let secret = matches!(kind, EntityKind::Builtin(b) if b.is_secret());
        match self {
            TypeGroup::Secrets => secret,
            TypeGroup::Pii => !secret,
        }
    }
}

/// The compiled policy: one action per built-in kind and per custom pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPolicy {
    builtin: Vec<ReplyAction>,
    custom: Vec<ReplyAction>,
    default: ReplyAction,
    /// Some kind acts (anything but `pass`): replies must be held and scanned.
    acts: bool,
}

impl Default for ReplyPolicy {
    /// Every type passes (counted only).
    fn default() -> Self {
        ReplyPolicy { builtin: Vec::new(), custom: Vec::new(), default: ReplyAction::Pass, acts: false }
    }
}

impl ReplyPolicy {
    /// Compile the policy object at `field` (its JSON path, for errors). `custom_labels` are the
    /// configured custom patterns' labels, in their order.
    pub fn from_value(
        value: &serde_json::Value,
        field: &str,
        custom_labels: &[String],
    ) -> Result<ReplyPolicy, ConfigError> {
        let Some(map) = value.as_object() else {
            return Err(ConfigError::new(field, "must be an object of type labels, groups or `default` to actions"));
        };
        let mut raw = BTreeMap::new();
        for (key, v) in map {
            let action = v.as_str().and_then(ReplyAction::parse).ok_or_else(|| {
                ConfigError::new(format!("{field}.{key}"), "must be one of \"pass\", \"redact\", \"mask\", \"stop\"")
            })?;
            raw.insert(key.as_str(), action);
        }
        Self::compile(&raw, field, custom_labels)
    }

    fn compile(
        raw: &BTreeMap<&str, ReplyAction>,
        field: &str,
        custom_labels: &[String],
    ) -> Result<ReplyPolicy, ConfigError> {
        for key in raw.keys() {
            let known = *key == "default"
                || TypeGroup::ALL.iter().any(|g| g.name() == *key)
                || BuiltinKind::from_label(key).is_some()
                || custom_labels.iter().any(|l| l == key);
            if !known {
                return Err(ConfigError::new(
                    format!("{field}.{key}"),
                    "is not an entity type, a group (`secrets`, `pii`) or `default`",
                ));
            }
        }
        let default = raw.get("default").copied().unwrap_or_default();
        let lookup = |label: &str, kind: EntityKind| {
            raw.get(label)
                .copied()
                .or_else(|| TypeGroup::ALL.iter().find(|g| g.holds(kind)).and_then(|g| raw.get(g.name()).copied()))
                .unwrap_or(default)
        };
        let builtin: Vec<ReplyAction> =
            BuiltinKind::ALL.iter().map(|k| lookup(k.label(), EntityKind::Builtin(*k))).collect();
        let custom: Vec<ReplyAction> = custom_labels
            .iter()
            .enumerate()
            .map(|(i, l)| lookup(l, EntityKind::Custom(u16::try_from(i).unwrap_or(u16::MAX))))
            .collect();
        let acts = default != ReplyAction::Pass || builtin.iter().chain(&custom).any(|a| *a != ReplyAction::Pass);
        Ok(ReplyPolicy { builtin, custom, default, acts })
    }

    /// The action for a value of `kind`.
    pub fn action(&self, kind: EntityKind) -> ReplyAction {
        let found = match kind {
            EntityKind::Builtin(b) => BuiltinKind::ALL.iter().position(|k| *k == b).and_then(|i| self.builtin.get(i)),
            EntityKind::Custom(i) => self.custom.get(usize::from(i)),
        };
        found.copied().unwrap_or(self.default)
    }

    /// Does any type act (redact, mask or stop)? When none does, replies are only counted.
    pub fn acts(&self) -> bool {
        self.acts
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn policy(v: serde_json::Value) -> Result<ReplyPolicy, ConfigError> {
        ReplyPolicy::from_value(&v, "policy.reply", &["EMPLOYEE_ID".to_owned()])
    }

    #[test]
    fn the_most_specific_key_wins() {
        let p = policy(json!({"default": "mask", "CREDIT_CARD": "redact", "US_SSN": "stop", "secrets": "redact",
                              "GITHUB_TOKEN": "pass"}))
        .unwrap();
        assert!(p.acts());
        assert_eq!(p.action(EntityKind::Builtin(BuiltinKind::CreditCard)), ReplyAction::Redact);
        assert_eq!(p.action(EntityKind::Builtin(BuiltinKind::UsSsn)), ReplyAction::Stop);
        assert_eq!(p.action(EntityKind::Builtin(BuiltinKind::OpenAiKey)), ReplyAction::Redact);
        assert_eq!(p.action(EntityKind::Builtin(BuiltinKind::GithubToken)), ReplyAction::Pass);
        assert_eq!(p.action(EntityKind::Builtin(BuiltinKind::Email)), ReplyAction::Mask);
        assert_eq!(p.action(EntityKind::Custom(0)), ReplyAction::Mask);
    }

    #[test]
    fn groups_cover_their_kinds_and_custom_labels_are_keys() {
        let p = policy(json!({"pii": "stop", "EMPLOYEE_ID": "redact"})).unwrap();
        assert_eq!(p.action(EntityKind::Builtin(BuiltinKind::Person)), ReplyAction::Stop);
        assert_eq!(p.action(EntityKind::Builtin(BuiltinKind::Jwt)), ReplyAction::Pass);
        assert_eq!(p.action(EntityKind::Custom(0)), ReplyAction::Redact);
        for kind in BuiltinKind::ALL {
            let want = if kind.is_secret() { ReplyAction::Pass } else { ReplyAction::Stop };
            assert_eq!(p.action(EntityKind::Builtin(kind)), want, "{kind}");
        }
    }

    #[test]
    fn all_pass_does_not_act_and_is_the_default() {
        assert!(!ReplyPolicy::default().acts());
        assert!(!policy(json!({"default": "pass", "EMAIL": "pass"})).unwrap().acts());
        assert_eq!(ReplyPolicy::default().action(EntityKind::Builtin(BuiltinKind::Email)), ReplyAction::Pass);
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(policy(json!({"EMALE": "redact"})).unwrap_err().field, "policy.reply.EMALE");
        assert_eq!(policy(json!({"EMAIL": "shred"})).unwrap_err().field, "policy.reply.EMAIL");
        assert_eq!(policy(json!({"EMAIL": 1})).unwrap_err().field, "policy.reply.EMAIL");
        assert_eq!(policy(json!(["EMAIL"])).unwrap_err().field, "policy.reply");
    }
}
