//! Policies: what each kind of value becomes in the text sent upstream.
//!
//! A policy starts from a [`Preset`] (a table in [`presets`]) and is overridden key by key:
//! `levels` (sensitivity -> strategy) over the preset, `strategies` (type label -> strategy) over
//! both. Only [`Strategy::Placeholder`] and [`Strategy::Synthetic`] are reversible: they go
//! through the exchange's vault and are restored in replies. Every other strategy is computed
//! from the value alone and the original is kept nowhere (vault, session record, shared data).

pub mod keys;
mod presets;
pub mod render;
pub mod reply;
pub mod synthetic;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use keys::{KeyNames, Keyring};
pub use presets::preset_strategy;
pub use reply::{ReplyAction, ReplyPolicy};

use crate::config::ConfigError;
use crate::entity::{BuiltinKind, EntityKind, Sensitivity};

/// What a value becomes upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// A numbered placeholder (`[EMAIL_1]`), restored in replies.
    Placeholder,
    /// A format-valid fake of the same type, restored in replies (types without a generator get
    /// a placeholder).
    Synthetic,
    /// Every letter and digit replaced by `*`; length and separators kept.
    Mask,
    /// What the type's rule keeps visible (a card's first six and last four, ...), the rest
    /// masked.
    Partial,
    /// `[REDACTED]`, or `[LABEL]` under `redact_style: label`.
    Redact,
    /// A keyed HMAC-SHA-256 pseudonym, `LABEL_` and 16 hex digits: the same value gives the same
    /// pseudonym for a key, on every replica.
    Hash,
    /// An AEAD token (XChaCha20-Poly1305) that a holder of the key can open downstream.
    Encrypt,
    /// HIPAA Safe Harbor's reductions: a date to its year, a US ZIP code to its first three
    /// digits, an age over 89 to "90 or older"; any other type is redacted.
    Generalize,
    /// Forwarded as written (not masked, not counted as masked).
    Keep,
}

impl Strategy {
    pub const ALL: [Strategy; 9] = [
        Strategy::Placeholder,
        Strategy::Synthetic,
        Strategy::Mask,
        Strategy::Partial,
        Strategy::Redact,
        Strategy::Hash,
        Strategy::Encrypt,
        Strategy::Generalize,
        Strategy::Keep,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Strategy::Placeholder => "placeholder",
            Strategy::Synthetic => "synthetic",
            Strategy::Mask => "mask",
            Strategy::Partial => "partial",
            Strategy::Redact => "redact",
            Strategy::Hash => "hash",
            Strategy::Encrypt => "encrypt",
            Strategy::Generalize => "generalize",
            Strategy::Keep => "keep",
        }
    }

    /// Whether the original goes into the vault and comes back in replies.
    pub const fn is_reversible(self) -> bool {
        matches!(self, Strategy::Placeholder | Strategy::Synthetic)
    }
}

/// A named starting point (tables in docs/policies.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Every type a placeholder: the behaviour without a policy.
    #[default]
    Default,
    /// Credentials masked, personal data forwarded as written.
    SecretsOnly,
    /// The 18 identifiers of 45 CFR 164.514(b)(2).
    HipaaSafeHarbor,
    /// Cardholder data: card numbers first six and last four, verification codes redacted.
    PciDss,
    /// Personal data of the GDPR, special categories (health) redacted.
    GdprStrict,
}

impl Preset {
    pub const ALL: [Preset; 5] =
        [Preset::Default, Preset::SecretsOnly, Preset::HipaaSafeHarbor, Preset::PciDss, Preset::GdprStrict];

    pub const fn name(self) -> &'static str {
        match self {
            Preset::Default => "default",
            Preset::SecretsOnly => "secrets_only",
            Preset::HipaaSafeHarbor => "hipaa_safe_harbor",
            Preset::PciDss => "pci_dss",
            Preset::GdprStrict => "gdpr_strict",
        }
    }
}

/// Which policy an exchange runs under: the filter's own (`policy`) or one of `policies`, by its
/// place in the compiled configuration's list (see `FilterConfig::policy_of`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyId {
    #[default]
    Default,
    Named(usize),
}

impl PolicyId {
    /// Its place among every policy, the default first (a host keeps one counter per policy in
    /// this order, see `FilterConfig::policy_ids`).
    pub const fn index(self) -> usize {
        match self {
            PolicyId::Default => 0,
            PolicyId::Named(i) => i + 1,
        }
    }
}

/// What `redact` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactStyle {
    /// `[REDACTED]`
    #[default]
    Redacted,
    /// `[EMAIL]`: the type label in brackets.
    Label,
}

/// A policy as written in the configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPolicy {
    pub preset: Preset,
    /// Type label (built-in or custom pattern) -> strategy.
    pub strategies: BTreeMap<String, Strategy>,
    pub levels: BTreeMap<Sensitivity, Strategy>,
    pub redact_style: RedactStyle,
    /// What a reply's personal data and secrets that the exchange did not mask become
    /// ([`ReplyPolicy`]): type label, group or `default` -> action.
    pub reply: Option<serde_json::Value>,
}

/// Kinds whose values must never be kept or shown under `pci_dss`, whatever the overrides: PCI
/// DSS 3.3.1 forbids storing sensitive authentication data (full track data, verification codes,
/// PINs) after authorisation.
const PCI_ALWAYS_REDACTED: &[BuiltinKind] = &[BuiltinKind::CardCvv, BuiltinKind::CardTrackData, BuiltinKind::CardPin];

/// A compiled policy: a strategy per built-in kind and per custom pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub preset: Preset,
    /// Indexed by the kind's position in [`BuiltinKind::ALL`].
    builtin: Vec<Strategy>,
    /// Indexed like the configuration's custom patterns.
    custom: Vec<Strategy>,
    pub redact_style: RedactStyle,
    /// What the reply's unmasked personal data and secrets become.
    pub reply: ReplyPolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            preset: Preset::Default,
            builtin: vec![Strategy::Placeholder; BuiltinKind::ALL.len()],
            custom: Vec::new(),
            redact_style: RedactStyle::Redacted,
            reply: ReplyPolicy::default(),
        }
    }
}

/// The kind's position in [`BuiltinKind::ALL`], which lists the kinds in declaration order
/// (a test checks it): a table lookup per finding rather than a search.
const fn index_of(kind: BuiltinKind) -> usize {
    kind as usize
}

impl Policy {
    /// Compile `raw`, found at `field` of the configuration (`policy`, `policies.payments`),
    /// for a filter with these custom pattern labels.
    pub fn compile(raw: &RawPolicy, field: &str, custom_labels: &[String]) -> Result<Policy, ConfigError> {
        let mut builtin: Vec<Strategy> = BuiltinKind::ALL
            .iter()
            .map(|&k| raw.levels.get(&k.sensitivity()).copied().unwrap_or(preset_strategy(raw.preset, k)))
            .collect();
        let mut custom = vec![Strategy::Placeholder; custom_labels.len()];
        for (label, &strategy) in &raw.strategies {
            if let Some(kind) = BuiltinKind::from_label(label) {
                if raw.preset == Preset::PciDss && PCI_ALWAYS_REDACTED.contains(&kind) && strategy != Strategy::Redact {
                    return Err(ConfigError::new(
                        format!("{field}.strategies.{label}"),
                        "is always 'redact' under the pci_dss preset (PCI DSS 3.3.1)",
                    ));
                }
                if let Some(slot) = builtin.get_mut(index_of(kind)) {
                    *slot = strategy;
                }
            } else if let Some(i) = custom_labels.iter().position(|l| l == label) {
                if let Some(slot) = custom.get_mut(i) {
                    *slot = strategy;
                }
            } else {
                return Err(ConfigError::new(
                    format!("{field}.strategies.{label}"),
                    "is not a known entity type or custom pattern name",
                ));
            }
        }
        if raw.preset == Preset::PciDss {
            for &kind in PCI_ALWAYS_REDACTED {
                if let Some(slot) = builtin.get_mut(index_of(kind)) {
                    *slot = Strategy::Redact;
                }
            }
        }
        let reply = match &raw.reply {
            Some(v) => ReplyPolicy::from_value(v, &format!("{field}.reply"), custom_labels)?,
            None => ReplyPolicy::default(),
        };
        Ok(Policy { preset: raw.preset, builtin, custom, redact_style: raw.redact_style, reply })
    }

    /// A preset as it is, without overrides.
    pub fn from_preset(preset: Preset) -> Policy {
        let raw = RawPolicy { preset, ..RawPolicy::default() };
        Policy::compile(&raw, "policy", &[]).unwrap_or_default()
    }

    pub fn strategy(&self, kind: EntityKind) -> Strategy {
        match kind {
            EntityKind::Builtin(k) => self.builtin.get(index_of(k)).copied().unwrap_or(Strategy::Placeholder),
            EntityKind::Custom(i) => self.custom.get(usize::from(i)).copied().unwrap_or(Strategy::Placeholder),
        }
    }

    /// Whether values of `kind` kept for restoring (placeholders) may be written to a session
    /// record: never a card verification code, a PIN or track data, whatever the policy
    /// (sensitive authentication data is not stored after authorisation, PCI DSS 3.3.1), nor a
    /// card number under `pci_dss` (never written to shared data unsealed).
    pub fn may_save(&self, kind: EntityKind) -> bool {
        match kind {
            EntityKind::Builtin(BuiltinKind::CardCvv | BuiltinKind::CardPin | BuiltinKind::CardTrackData) => false,
            EntityKind::Builtin(BuiltinKind::CreditCard) => self.preset != Preset::PciDss,
            _ => true,
        }
    }

    /// Whether any type is under `strategy`.
    pub fn uses(&self, strategy: Strategy) -> bool {
        self.builtin.iter().chain(&self.custom).any(|s| *s == strategy)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn compile(json: &str) -> Result<Policy, ConfigError> {
        let raw: RawPolicy = serde_json::from_str(json).unwrap();
        Policy::compile(&raw, "policy", &["EMPLOYEE_ID".to_owned()])
    }

    #[test]
    fn kinds_are_indexed_by_their_position_in_all() {
        for (i, k) in BuiltinKind::ALL.iter().enumerate() {
            assert_eq!(index_of(*k), i, "{k}");
        }
    }

    #[test]
    fn default_is_placeholder_everywhere() {
        let p = compile("{}").unwrap();
        assert_eq!(p, Policy { custom: vec![Strategy::Placeholder], ..Policy::default() });
        for k in BuiltinKind::ALL {
            assert_eq!(p.strategy(EntityKind::Builtin(k)), Strategy::Placeholder, "{k}");
        }
    }

    #[test]
    fn a_type_beats_its_level_which_beats_the_preset() {
        let p = compile(
            r#"{"preset": "secrets_only", "levels": {"medium": "redact"}, "strategies": {"EMAIL": "hash", "EMPLOYEE_ID": "mask"}}"#,
        )
        .unwrap();
        assert_eq!(p.strategy(EntityKind::Builtin(BuiltinKind::Email)), Strategy::Hash);
        assert_eq!(p.strategy(EntityKind::Builtin(BuiltinKind::Phone)), Strategy::Redact);
        assert_eq!(p.strategy(EntityKind::Builtin(BuiltinKind::UsSsn)), Strategy::Keep);
        assert_eq!(p.strategy(EntityKind::Builtin(BuiltinKind::Jwt)), Strategy::Placeholder);
        assert_eq!(p.strategy(EntityKind::Custom(0)), Strategy::Mask);
    }

    #[test]
    fn pci_dss_never_weakens_the_verification_code() {
        let e = compile(r#"{"preset": "pci_dss", "strategies": {"CARD_CVV": "placeholder"}}"#).unwrap_err();
        assert_eq!(e.field, "policy.strategies.CARD_CVV");
        let p = compile(r#"{"preset": "pci_dss", "levels": {"critical": "placeholder"}}"#).unwrap();
        assert_eq!(p.strategy(EntityKind::Builtin(BuiltinKind::CardCvv)), Strategy::Redact);
        for label in ["CARD_PIN", "CARD_TRACK_DATA"] {
            let kind = BuiltinKind::from_label(label).unwrap();
            assert_eq!(p.strategy(EntityKind::Builtin(kind)), Strategy::Redact, "{label}");
            assert!(!p.may_save(EntityKind::Builtin(kind)) && !Policy::default().may_save(EntityKind::Builtin(kind)));
            let doc = format!(r#"{{"preset": "pci_dss", "strategies": {{"{label}": "mask"}}}}"#);
            assert_eq!(compile(&doc).unwrap_err().field, format!("policy.strategies.{label}"));
        }
        assert_eq!(p.strategy(EntityKind::Builtin(BuiltinKind::CreditCard)), Strategy::Placeholder);
    }

    #[test]
    fn unknown_labels_are_refused() {
        assert_eq!(compile(r#"{"strategies": {"EMALE": "hash"}}"#).unwrap_err().field, "policy.strategies.EMALE");
        assert!(serde_json::from_str::<RawPolicy>(r#"{"strategies": {"EMAIL": "shred"}}"#).is_err());
        assert!(serde_json::from_str::<RawPolicy>(r#"{"levels": {"extreme": "redact"}}"#).is_err());
    }
}
