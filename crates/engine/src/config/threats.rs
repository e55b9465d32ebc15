//! The `threats` section of the configuration: raw serde form, validated and compiled once.
//!
//! The keys, their types, defaults and meaning are documented once, in `docs/configuration.md`
//! (a test checks that every key accepted here has a row there and the reverse).

use std::collections::BTreeMap;

use serde::de::value::StringDeserializer;
use serde::de::{DeserializeSeed, Deserializer, Error as _, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::ConfigError;
use crate::threat::operator::{OperatorMatcher, OperatorRuleError, OperatorRuleSpec, OperatorRules};
use crate::threat::reply::DEFAULT_DENIED_LINK_HOSTS;
use crate::threat::{Category, Source};
use crate::threat::{
    CategoryAction, ControlChars, HygieneSettings, ReplyScanner, ReplySettings, ThreatPolicy, ThreatScanner,
    ThreatSettings,
};

/// Shortest accepted canary: shorter markers occur in ordinary replies by chance.
const MIN_CANARY_CHARS: usize = 8;

/// The `threats` section as written in JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThreatsConfig {
    pub enabled: bool,
    pub block_threshold: f64,
    pub flag_threshold: f64,
    /// Per-category override of the default action (serde spells both as their `name()`).
    #[serde(deserialize_with = "actions")]
    pub actions: BTreeMap<Category, CategoryAction>,
    pub scan_roles: Vec<Source>,
    pub max_prompt_chars: u64,
    pub control_chars: ControlChars,
    pub canary: Option<String>,
    pub reply: ReplyConfig,
    /// Operator rules, scored like the built-in ones (see `threat::operator`).
    pub custom_rules: Vec<CustomRuleConfig>,
    /// Phrases removed from every text before it is scanned.
    pub allow_phrases: Vec<String>,
    /// The learned attack model (`PG-JB-900`) corroborates the rules' evidence. On by default:
    /// asked only where the rules see an attack on the model, it keeps every benign set within
    /// the 1% budget, also when trained without that set (`docs/quality.md`).
    pub learned_model: bool,
}

/// One entry of `threats.custom_rules` as written in JSON: `phrases` or `regex`, not both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRuleConfig {
    pub id: String,
    pub category: Category,
    pub weight: f64,
    #[serde(default)]
    pub phrases: Option<Vec<String>>,
    #[serde(default)]
    pub regex: Option<String>,
}

/// `threats.reply` as written in JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplyConfig {
    pub allowed_link_hosts: Vec<String>,
    pub denied_link_hosts: Vec<String>,
}

impl Default for ReplyConfig {
    fn default() -> Self {
        ReplyConfig {
            allowed_link_hosts: Vec::new(),
            denied_link_hosts: DEFAULT_DENIED_LINK_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
        }
    }
}

impl Default for ThreatsConfig {
    fn default() -> Self {
        let policy = ThreatPolicy::default();
        let hygiene = HygieneSettings::default();
        ThreatsConfig {
            enabled: true,
            block_threshold: f64::from(policy.block_threshold),
            flag_threshold: f64::from(policy.flag_threshold),
            actions: BTreeMap::new(),
            scan_roles: ThreatSettings::default().scan_roles,
            max_prompt_chars: hygiene.max_prompt_chars as u64,
            control_chars: hygiene.control_chars,
            canary: None,
            reply: ReplyConfig::default(),
            custom_rules: Vec::new(),
            allow_phrases: Vec::new(),
            learned_model: true,
        }
    }
}

/// Everything the filter needs for threats, compiled once per configuration.
#[derive(Debug)]
pub struct CompiledThreats {
    pub enabled: bool,
    pub scanner: ThreatScanner,
    pub policy: ThreatPolicy,
    pub reply: ReplyScanner,
    pub hygiene: HygieneSettings,
    /// The marker the filter puts into each request's system prompt, when configured.
    pub canary: Option<String>,
}

impl ThreatsConfig {
    pub fn compile(&self) -> Result<CompiledThreats, ConfigError> {
        let block = threshold(self.block_threshold, "threats.block_threshold")?;
        let flag = threshold(self.flag_threshold, "threats.flag_threshold")?;
        if flag > block {
            return Err(ConfigError::new("threats.flag_threshold", "must not exceed threats.block_threshold"));
        }
        let mut policy = ThreatPolicy { block_threshold: block, flag_threshold: flag, ..ThreatPolicy::default() };
        for (category, action) in &self.actions {
            if let Some(slot) = policy.actions.get_mut(category.index()) {
                *slot = *action;
            }
        }
        let mut scan_roles = Vec::new();
        for source in &self.scan_roles {
            if !scan_roles.contains(source) {
                scan_roles.push(*source);
            }
        }
        if self.max_prompt_chars == 0 {
            return Err(ConfigError::new("threats.max_prompt_chars", "must be at least 1"));
        }
        let max_prompt_chars = usize::try_from(self.max_prompt_chars)
            .map_err(|_| ConfigError::new("threats.max_prompt_chars", "too large for this platform"))?;
        let control_chars = self.control_chars;
        if let Some(canary) = &self.canary {
            if canary.chars().count() < MIN_CANARY_CHARS {
                return Err(ConfigError::new(
                    "threats.canary",
                    format!("must be at least {MIN_CANARY_CHARS} characters"),
                ));
            }
        }
        let allowed_link_hosts = host_names("threats.reply.allowed_link_hosts", &self.reply.allowed_link_hosts)?;
        let denied_link_hosts = host_names("threats.reply.denied_link_hosts", &self.reply.denied_link_hosts)?;
        // Switched off, nothing is scanned: the rule table is not compiled (time and memory per VM).
        let scan_roles = if self.enabled { scan_roles } else { Vec::new() };
        let operator = self.operator_rules()?;
        let scanner = ThreatScanner::new(&ThreatSettings { scan_roles })
            .map_err(|e| ConfigError::new("threats", e.to_string()))?
            .with_operator_rules(operator)
            .with_learned_model(self.learned_model)
            .warmed_up();
        Ok(CompiledThreats {
            enabled: self.enabled,
            scanner,
            policy,
            reply: ReplyScanner::new(ReplySettings {
                allowed_link_hosts,
                denied_link_hosts,
                canary: self.canary.clone(),
            }),
            canary: self.canary.clone(),
            hygiene: HygieneSettings { max_prompt_chars, control_chars },
        })
    }
}

impl ThreatsConfig {
    /// `threats.custom_rules` and `threats.allow_phrases`, validated and compiled.
    fn operator_rules(&self) -> Result<OperatorRules, ConfigError> {
        let mut specs = Vec::with_capacity(self.custom_rules.len());
        for (i, rule) in self.custom_rules.iter().enumerate() {
            let field = |key: &str| format!("threats.custom_rules[{i}].{key}");
            let matcher = match (&rule.phrases, &rule.regex) {
                (Some(phrases), None) if !phrases.is_empty() => OperatorMatcher::Phrases(phrases.clone()),
                (None, Some(regex)) => OperatorMatcher::Regex(regex.clone()),
                _ => {
                    return Err(ConfigError::new(
                        format!("threats.custom_rules[{i}]"),
                        "needs either a non-empty `phrases` list or a `regex`, not both",
                    ))
                }
            };
            if !(rule.weight.is_finite() && rule.weight > 0.0 && rule.weight <= 1.0) {
                return Err(ConfigError::new(field("weight"), OperatorRuleError::BadWeight.to_string()));
            }
            // Weights are compared and combined as f32 scores; the narrowing is intended.
            #[allow(clippy::cast_possible_truncation)]
            let weight = rule.weight as f32;
            specs.push(OperatorRuleSpec { id: rule.id.clone(), category: rule.category, weight, matcher });
        }
        OperatorRules::new(&specs, &self.allow_phrases).map_err(|(i, e)| {
            let key = match e {
                OperatorRuleError::BadId | OperatorRuleError::DuplicateId => "id",
                OperatorRuleError::BadWeight => "weight",
                OperatorRuleError::EmptyPhrase => "phrases",
                OperatorRuleError::BadRegex(_) => "regex",
            };
            ConfigError::new(format!("threats.custom_rules[{i}].{key}"), e.to_string())
        })
    }
}

/// `threats.actions`: a category read inside its entry, so that an unknown one is reported at
/// `threats.actions.<name>` like a bad action is (a map key that is not a plain string has no
/// path of its own).
fn actions<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Category, CategoryAction>, D::Error> {
    struct Entries;
    struct Entry(String);

    impl<'de> DeserializeSeed<'de> for Entry {
        type Value = (Category, CategoryAction);

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            let name: StringDeserializer<serde::de::value::Error> = self.0.into_deserializer();
            let category = Category::deserialize(name).map_err(D::Error::custom)?;
            Ok((category, CategoryAction::deserialize(d)?))
        }
    }

    impl<'de> Visitor<'de> for Entries {
        type Value = BTreeMap<Category, CategoryAction>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map from category to action")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                let (category, action) = map.next_value_seed(Entry(name))?;
                out.insert(category, action);
            }
            Ok(out)
        }
    }

    d.deserialize_map(Entries)
}

fn threshold(value: f64, field: &str) -> Result<f32, ConfigError> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        // Thresholds are compared with f32 scores; the narrowing is intended.
        #[allow(clippy::cast_possible_truncation)]
        Ok(value as f32)
    } else {
        Err(ConfigError::new(field, "must be a number greater than 0 and at most 1"))
    }
}

/// Host names as written (trimmed, lower-cased, a trailing dot dropped), or an error naming the
/// first that is not one.
fn host_names(field: &str, hosts: &[String]) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::with_capacity(hosts.len());
    for (i, host) in hosts.iter().enumerate() {
        let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
        let valid = !h.is_empty()
            && h.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if !valid {
            return Err(ConfigError::new(
                format!("{field}[{i}]"),
                "expected a host name such as docs.example.com (no scheme, port or path)",
            ));
        }
        out.push(h);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// Compile `json` as the `threats` section of a whole document, so errors carry their path.
    fn parse(json: &str) -> Result<CompiledThreats, ConfigError> {
        crate::config::FilterConfig::from_json(format!(r#"{{"threats":{json}}}"#).as_bytes()).map(|c| c.threats)
    }

    /// The JSON spelling of a value, through serde.
    fn spelled<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: T, name: &str) {
        let parsed: T = serde_json::from_value(serde_json::Value::String(name.to_owned())).unwrap();
        assert_eq!(parsed, value, "{name}");
    }

    #[test]
    fn json_spellings_are_the_names_used_in_headers_and_metrics() {
        for c in Category::ALL {
            spelled(c, c.name());
        }
        for s in Source::ALL {
            spelled(s, s.name());
        }
        for a in [CategoryAction::Tiered, CategoryAction::Block, CategoryAction::Flag, CategoryAction::Off] {
            spelled(a, a.name());
        }
        for c in [ControlChars::Strip, ControlChars::Reject, ControlChars::Allow] {
            spelled(c, c.name());
        }
    }

    #[test]
    fn a_bad_value_names_what_is_accepted() {
        let e = parse(r#"{"actions":{"sqli":"explode"}}"#).unwrap_err();
        assert!(e.problem.contains("`tiered`, `block`, `flag`, `off`"), "{e}");
        let e = parse(r#"{"actions":{"nope":"off"}}"#).unwrap_err();
        assert!(e.problem.contains("`instruction_override`") && e.problem.contains("`code_injection`"), "{e}");
        let e = parse(r#"{"control_chars":"eat"}"#).unwrap_err();
        assert!(e.problem.contains("`strip`, `reject`, `allow`"), "{e}");
    }

    #[test]
    fn defaults_compile() {
        let c = parse("{}").unwrap();
        assert!(c.enabled);
        assert_eq!(c.policy, ThreatPolicy::default());
        assert!(!c.scanner.scans(Source::System));
        assert!(c.scanner.scans(Source::Tool));
    }

    #[test]
    fn errors_name_the_field() {
        let field = |json: &str| parse(json).err().map(|e| e.field);
        assert_eq!(field(r#"{"actions":{"sqli":"explode"}}"#).as_deref(), Some("threats.actions.sqli"));
        assert_eq!(field(r#"{"actions":{"nope":"off"}}"#).as_deref(), Some("threats.actions.nope"));
        assert_eq!(field(r#"{"block_threshold":1.5}"#).as_deref(), Some("threats.block_threshold"));
        assert_eq!(field(r#"{"flag_threshold":0.9,"block_threshold":0.8}"#).as_deref(), Some("threats.flag_threshold"));
        assert_eq!(field(r#"{"scan_roles":["user","robot"]}"#).as_deref(), Some("threats.scan_roles[1]"));
        assert_eq!(field(r#"{"control_chars":"eat"}"#).as_deref(), Some("threats.control_chars"));
        assert_eq!(field(r#"{"canary":"abc"}"#).as_deref(), Some("threats.canary"));
        assert_eq!(
            field(r#"{"reply":{"allowed_link_hosts":["https://x.com/"]}}"#).as_deref(),
            Some("threats.reply.allowed_link_hosts[0]")
        );
        assert!(parse(r#"{"unknown_key":1}"#).is_err());
    }

    #[test]
    fn actions_override_categories() {
        let c = parse(r#"{"actions":{"sqli":"off","jailbreak":"flag"}}"#).unwrap();
        assert_eq!(c.policy.action_for(Category::Sqli), CategoryAction::Off);
        assert_eq!(c.policy.action_for(Category::Jailbreak), CategoryAction::Flag);
        // Payload categories are flagged by default; the others are tiered.
        assert_eq!(c.policy.action_for(Category::Xss), CategoryAction::Flag);
        assert_eq!(c.policy.action_for(Category::InstructionOverride), CategoryAction::Tiered);
        let raised = parse(r#"{"actions":{"sqli":"tiered"}}"#).unwrap();
        assert_eq!(raised.policy.action_for(Category::Sqli), CategoryAction::Tiered);
    }
}
