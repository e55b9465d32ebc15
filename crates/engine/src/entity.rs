//! The kinds of sensitive value the engine can find, and their placeholder labels.

use std::fmt;

/// A built-in entity kind. Custom patterns from the configuration carry their own label instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltinKind {
    Email,
    Phone,
    UsSsn,
    CreditCard,
    Iban,
    IpAddress,
    AwsAccessKey,
    AwsSecretKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    StripeKey,
    OpenAiKey,
    AnthropicKey,
    GoogleApiKey,
    Jwt,
    PrivateKey,
    SecretAssignment,
    // National identifiers (`detect::national`).
    UsItin,
    UkNino,
    UkNhs,
    CaSin,
    AuTfn,
    AuMedicare,
    InAadhaar,
    InPan,
    BrCpf,
    BrCnpj,
    DeTaxId,
    FrNir,
    EsNif,
    EsNie,
    ItFiscalCode,
    NlBsn,
    PlPesel,
    SePersonnummer,
    // Health identifiers and personal dates (`detect::health`).
    UsNpi,
    UsDea,
    UsMbi,
    MedicalRecord,
    HealthPlanId,
    DateOfBirth,
    PersonalDate,
    Age,
    // Financial identifiers (`detect::finance`).
    AbaRouting,
    SwiftBic,
    BankAccount,
    CryptoWallet,
    CardCvv,
    CardExpiry,
    CardTrackData,
    CardPin,
    VatNumber,
    // Documents and devices (`detect::documents`).
    Passport,
    Mrz,
    UsDriverLicense,
    Vin,
    Imei,
    MacAddress,
    LicensePlate,
    DeviceSerial,
    ProfileUrl,
    // Names and postal addresses (`detect::names`, `detect::address`).
    Person,
    Address,
    Postcode,
}

impl BuiltinKind {
    /// Every built-in kind, in a fixed order (used to declare metrics and to parse configuration).
    pub const ALL: [BuiltinKind; 65] = [
        BuiltinKind::Email,
        BuiltinKind::Phone,
        BuiltinKind::UsSsn,
        BuiltinKind::CreditCard,
        BuiltinKind::Iban,
        BuiltinKind::IpAddress,
        BuiltinKind::AwsAccessKey,
        BuiltinKind::AwsSecretKey,
        BuiltinKind::GithubToken,
        BuiltinKind::GitlabToken,
        BuiltinKind::SlackToken,
        BuiltinKind::StripeKey,
        BuiltinKind::OpenAiKey,
        BuiltinKind::AnthropicKey,
        BuiltinKind::GoogleApiKey,
        BuiltinKind::Jwt,
        BuiltinKind::PrivateKey,
        BuiltinKind::SecretAssignment,
        BuiltinKind::UsItin,
        BuiltinKind::UkNino,
        BuiltinKind::UkNhs,
        BuiltinKind::CaSin,
        BuiltinKind::AuTfn,
        BuiltinKind::AuMedicare,
        BuiltinKind::InAadhaar,
        BuiltinKind::InPan,
        BuiltinKind::BrCpf,
        BuiltinKind::BrCnpj,
        BuiltinKind::DeTaxId,
        BuiltinKind::FrNir,
        BuiltinKind::EsNif,
        BuiltinKind::EsNie,
        BuiltinKind::ItFiscalCode,
        BuiltinKind::NlBsn,
        BuiltinKind::PlPesel,
        BuiltinKind::SePersonnummer,
        BuiltinKind::UsNpi,
        BuiltinKind::UsDea,
        BuiltinKind::UsMbi,
        BuiltinKind::MedicalRecord,
        BuiltinKind::HealthPlanId,
        BuiltinKind::DateOfBirth,
        BuiltinKind::PersonalDate,
        BuiltinKind::Age,
        BuiltinKind::AbaRouting,
        BuiltinKind::SwiftBic,
        BuiltinKind::BankAccount,
        BuiltinKind::CryptoWallet,
        BuiltinKind::CardCvv,
        BuiltinKind::CardExpiry,
        BuiltinKind::CardTrackData,
        BuiltinKind::CardPin,
        BuiltinKind::VatNumber,
        BuiltinKind::Passport,
        BuiltinKind::Mrz,
        BuiltinKind::UsDriverLicense,
        BuiltinKind::Vin,
        BuiltinKind::Imei,
        BuiltinKind::MacAddress,
        BuiltinKind::LicensePlate,
        BuiltinKind::DeviceSerial,
        BuiltinKind::ProfileUrl,
        BuiltinKind::Person,
        BuiltinKind::Address,
        BuiltinKind::Postcode,
    ];

    /// The label used in placeholders, configuration and metrics.
    pub const fn label(self) -> &'static str {
        match self {
            BuiltinKind::Email => "EMAIL",
            BuiltinKind::Phone => "PHONE",
            BuiltinKind::UsSsn => "US_SSN",
            BuiltinKind::CreditCard => "CREDIT_CARD",
            BuiltinKind::Iban => "IBAN",
            BuiltinKind::IpAddress => "IP_ADDRESS",
            BuiltinKind::AwsAccessKey => "AWS_ACCESS_KEY",
            BuiltinKind::AwsSecretKey => "AWS_SECRET_KEY",
            BuiltinKind::GithubToken => "GITHUB_TOKEN",
            BuiltinKind::GitlabToken => "GITLAB_TOKEN",
            BuiltinKind::SlackToken => "SLACK_TOKEN",
            BuiltinKind::StripeKey => "STRIPE_KEY",
            BuiltinKind::OpenAiKey => "OPENAI_KEY",
            BuiltinKind::AnthropicKey => "ANTHROPIC_KEY",
            BuiltinKind::GoogleApiKey => "GOOGLE_API_KEY",
            BuiltinKind::Jwt => "JWT",
            BuiltinKind::PrivateKey => "PRIVATE_KEY",
            BuiltinKind::SecretAssignment => "SECRET",
            BuiltinKind::UsItin => "US_ITIN",
            BuiltinKind::UkNino => "UK_NINO",
            BuiltinKind::UkNhs => "UK_NHS",
            BuiltinKind::CaSin => "CA_SIN",
            BuiltinKind::AuTfn => "AU_TFN",
            BuiltinKind::AuMedicare => "AU_MEDICARE",
            BuiltinKind::InAadhaar => "IN_AADHAAR",
            BuiltinKind::InPan => "IN_PAN",
            BuiltinKind::BrCpf => "BR_CPF",
            BuiltinKind::BrCnpj => "BR_CNPJ",
            BuiltinKind::DeTaxId => "DE_TAX_ID",
            BuiltinKind::FrNir => "FR_NIR",
            BuiltinKind::EsNif => "ES_NIF",
            BuiltinKind::EsNie => "ES_NIE",
            BuiltinKind::ItFiscalCode => "IT_FISCAL_CODE",
            BuiltinKind::NlBsn => "NL_BSN",
            BuiltinKind::PlPesel => "PL_PESEL",
            BuiltinKind::SePersonnummer => "SE_PERSONNUMMER",
            BuiltinKind::UsNpi => "US_NPI",
            BuiltinKind::UsDea => "US_DEA",
            BuiltinKind::UsMbi => "US_MBI",
            BuiltinKind::MedicalRecord => "MEDICAL_RECORD",
            BuiltinKind::HealthPlanId => "HEALTH_PLAN_ID",
            BuiltinKind::DateOfBirth => "DATE_OF_BIRTH",
            BuiltinKind::PersonalDate => "PERSONAL_DATE",
            BuiltinKind::Age => "AGE",
            BuiltinKind::AbaRouting => "ABA_ROUTING",
            BuiltinKind::SwiftBic => "SWIFT_BIC",
            BuiltinKind::BankAccount => "BANK_ACCOUNT",
            BuiltinKind::CryptoWallet => "CRYPTO_WALLET",
            BuiltinKind::CardCvv => "CARD_CVV",
            BuiltinKind::CardExpiry => "CARD_EXPIRY",
            BuiltinKind::CardTrackData => "CARD_TRACK_DATA",
            BuiltinKind::CardPin => "CARD_PIN",
            BuiltinKind::VatNumber => "VAT_NUMBER",
            BuiltinKind::Passport => "PASSPORT",
            BuiltinKind::Mrz => "MRZ",
            BuiltinKind::UsDriverLicense => "US_DRIVER_LICENSE",
            BuiltinKind::Vin => "VIN",
            BuiltinKind::Imei => "IMEI",
            BuiltinKind::MacAddress => "MAC_ADDRESS",
            BuiltinKind::LicensePlate => "LICENSE_PLATE",
            BuiltinKind::DeviceSerial => "DEVICE_SERIAL",
            BuiltinKind::ProfileUrl => "PROFILE_URL",
            BuiltinKind::Person => "PERSON",
            BuiltinKind::Address => "ADDRESS",
            BuiltinKind::Postcode => "POSTCODE",
        }
    }

    pub fn from_label(label: &str) -> Option<BuiltinKind> {
        BuiltinKind::ALL.iter().copied().find(|k| k.label() == label)
    }

    /// Secrets are credentials rather than personal data; replies that contain one the request
    /// did not carry are reported as leaks.
    pub const fn is_secret(self) -> bool {
        matches!(
            self,
            BuiltinKind::AwsAccessKey
                | BuiltinKind::AwsSecretKey
                | BuiltinKind::GithubToken
                | BuiltinKind::GitlabToken
                | BuiltinKind::SlackToken
                | BuiltinKind::StripeKey
                | BuiltinKind::OpenAiKey
                | BuiltinKind::AnthropicKey
                | BuiltinKind::GoogleApiKey
                | BuiltinKind::Jwt
                | BuiltinKind::PrivateKey
                | BuiltinKind::SecretAssignment
        )
    }
}

/// How much harm a value of a kind does if it leaks, so a policy can act on a level instead of
/// listing types (`policy.levels`). Critical: a credential or a payment secret that lets its
/// holder act (spend, sign in); high: an identifier that names one person for life or across
/// institutions (national and health identifiers, account numbers, dates of birth); medium: a
/// direct contact or a name; low: a value that narrows a person down only with others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Critical,
    High,
    Medium,
    Low,
}

impl Sensitivity {
    pub const ALL: [Sensitivity; 4] = [Sensitivity::Critical, Sensitivity::High, Sensitivity::Medium, Sensitivity::Low];

    pub const fn name(self) -> &'static str {
        match self {
            Sensitivity::Critical => "critical",
            Sensitivity::High => "high",
            Sensitivity::Medium => "medium",
            Sensitivity::Low => "low",
        }
    }
}

impl BuiltinKind {
    /// The sensitivity of every built-in kind (documented in docs/policies.md).
    pub const fn sensitivity(self) -> Sensitivity {
        use BuiltinKind as K;
        match self {
            K::AwsAccessKey
            | K::AwsSecretKey
            | K::GithubToken
            | K::GitlabToken
            | K::SlackToken
            | K::StripeKey
            | K::OpenAiKey
            | K::AnthropicKey
            | K::GoogleApiKey
            | K::Jwt
            | K::PrivateKey
            | K::SecretAssignment
            | K::CreditCard
            | K::CardCvv
            | K::CardTrackData
            | K::CardPin => Sensitivity::Critical,
            K::UsSsn
            | K::UsItin
            | K::UkNino
            | K::UkNhs
            | K::CaSin
            | K::AuTfn
            | K::AuMedicare
            | K::InAadhaar
            | K::InPan
            | K::BrCpf
            | K::BrCnpj
            | K::DeTaxId
            | K::FrNir
            | K::EsNif
            | K::EsNie
            | K::ItFiscalCode
            | K::NlBsn
            | K::PlPesel
            | K::SePersonnummer
            | K::UsMbi
            | K::MedicalRecord
            | K::HealthPlanId
            | K::DateOfBirth
            | K::Iban
            | K::BankAccount
            | K::CryptoWallet
            | K::Passport
            | K::Mrz
            | K::UsDriverLicense => Sensitivity::High,
            K::Email
            | K::Phone
            | K::Person
            | K::Address
            | K::IpAddress
            | K::CardExpiry
            | K::UsNpi
            | K::UsDea
            | K::VatNumber
            | K::ProfileUrl => Sensitivity::Medium,
            K::PersonalDate
            | K::Age
            | K::AbaRouting
            | K::SwiftBic
            | K::Vin
            | K::Imei
            | K::MacAddress
            | K::LicensePlate
            | K::DeviceSerial
            | K::Postcode => Sensitivity::Low,
        }
    }
}

impl fmt::Display for BuiltinKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a finding is: a built-in kind or the index of a configured custom pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Builtin(BuiltinKind),
    /// Index into the compiled configuration's custom patterns.
    Custom(u16),
}

/// One sensitive value found in a text: byte offsets into that text (always on char boundaries).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub kind: EntityKind,
    /// Confidence in [0, 1] after validators and context words.
    pub score: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_level_and_every_level_a_kind() {
        for level in Sensitivity::ALL {
            assert!(BuiltinKind::ALL.iter().any(|k| k.sensitivity() == level), "{}", level.name());
        }
        // Every secret is critical: a credential lets its holder act.
        for k in BuiltinKind::ALL.iter().filter(|k| k.is_secret()) {
            assert_eq!(k.sensitivity(), Sensitivity::Critical, "{k}");
        }
    }
}
