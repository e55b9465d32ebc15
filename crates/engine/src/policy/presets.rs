//! The presets' tables: the strategy each preset gives each built-in kind. docs/policies.md
//! shows the same tables and says which rule each row answers.

use super::{Preset, Strategy};
use crate::entity::BuiltinKind;

/// Health identifiers: special category data under GDPR Art. 9, redacted by `gdpr_strict`.
const HEALTH: &[BuiltinKind] = &[
    BuiltinKind::MedicalRecord,
    BuiltinKind::HealthPlanId,
    BuiltinKind::UsMbi,
    BuiltinKind::UkNhs,
    BuiltinKind::AuMedicare,
];

/// The values Safe Harbor lets a covered entity keep in part (45 CFR 164.514(b)(2)(i)(B), (C)):
/// the year of a date, the first three digits of a ZIP code, an age up to 89.
const SAFE_HARBOR_REDUCED: &[BuiltinKind] =
    &[BuiltinKind::DateOfBirth, BuiltinKind::PersonalDate, BuiltinKind::Age, BuiltinKind::Postcode];

/// The strategy `preset` gives `kind` before any override.
pub fn preset_strategy(preset: Preset, kind: BuiltinKind) -> Strategy {
    match preset {
        Preset::Default => Strategy::Placeholder,
        Preset::SecretsOnly if kind.is_secret() => Strategy::Placeholder,
        Preset::SecretsOnly => Strategy::Keep,
        // Every other identifier is replaced by a code not derived from it, which 164.514(c)
        // allows the covered entity to keep for re-identification: the placeholder.
        Preset::HipaaSafeHarbor if SAFE_HARBOR_REDUCED.contains(&kind) => Strategy::Generalize,
        Preset::HipaaSafeHarbor => Strategy::Placeholder,
        Preset::PciDss => match kind {
            BuiltinKind::CreditCard => Strategy::Partial,
            BuiltinKind::CardCvv | BuiltinKind::CardPin | BuiltinKind::CardTrackData => Strategy::Redact,
            _ => Strategy::Placeholder,
        },
        Preset::GdprStrict if HEALTH.contains(&kind) => Strategy::Redact,
        Preset::GdprStrict => Strategy::Placeholder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_covers_every_kind_and_only_secrets_only_keeps_any() {
        for preset in Preset::ALL {
            for kind in BuiltinKind::ALL {
                let s = preset_strategy(preset, kind);
                assert_eq!(s == Strategy::Keep, preset == Preset::SecretsOnly && !kind.is_secret(), "{kind}");
                assert!(!matches!(s, Strategy::Hash | Strategy::Encrypt), "no preset needs a key");
            }
        }
    }

    #[test]
    fn card_data_under_pci_dss() {
        assert_eq!(preset_strategy(Preset::PciDss, BuiltinKind::CreditCard), Strategy::Partial);
        assert_eq!(preset_strategy(Preset::PciDss, BuiltinKind::CardCvv), Strategy::Redact);
        assert_eq!(preset_strategy(Preset::PciDss, BuiltinKind::CardPin), Strategy::Redact);
        assert_eq!(preset_strategy(Preset::PciDss, BuiltinKind::CardTrackData), Strategy::Redact);
    }
}
