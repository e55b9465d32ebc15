//! The catalogue of secret formats: every credential format the detector knows, by id, with the
//! way it is found. Vendor tokens with a fixed literal (a prefix such as `dckr_pat_`, a label
//! such as `AccountKey=`, or an inner marker such as Azure's `Q~`) are described by their shapes
//! (`secrets_shape`), found by one automaton over those literals; every literal contains one of
//! `patterns::TOKEN_PREFIXES`, so a text without any of them is never searched for them. Other
//! formats (OpenAI keys, JWTs, key blocks, Slack tokens, URL credentials, assignments) have
//! rules of their own in `patterns`, named here by their check.
//!
//! Prefixes, lengths and alphabets are the vendors' documented formats, cross-checked against
//! the public gitleaks rule set. `docs/entities.md` ("Secrets") lists the same ids, and
//! `tests/fixtures/pii/secret_formats.jsonl` holds a positive and a negative case for each; a
//! test keeps the three equal.

use super::patterns::Check;
use super::secrets_shape::{exactly, run, Class, Part, Shape, UNBOUNDED};
use crate::entity::BuiltinKind as K;
use crate::entity::BuiltinKind;

/// Which part of a matched token is judged for randomness (ids, versions and separators are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Everything after the first `n` bytes (the literal prefix).
    After(u8),
    /// Everything after the last occurrence of this byte (`/` in a webhook URL, `$` in a
    /// Braintree token, `:` in a Telegram bot token).
    AfterLast(u8),
}

/// How a format is found.
#[derive(Debug, Clone, Copy)]
pub enum Finder {
    /// By its shapes (`secrets_shape`): an anchor literal found by one automaton for the whole
    /// catalogue, walked out to the value, which `check` then judges: `Check::Prefixed` (a whole
    /// token whose body looks random; GitHub and npm tokens also by their checksum) or
    /// `Check::Vendor` (the same, with the part of the value judged for randomness, and not part
    /// of a longer base64 run).
    Shapes { shapes: &'static [Shape], check: Check },
    /// By a rule of `patterns` with this check.
    Rule(#[cfg_attr(not(test), allow(dead_code))] Check),
}

#[derive(Debug, Clone, Copy)]
pub struct SecretFormat {
    pub id: &'static str,
    pub kind: BuiltinKind,
    pub finder: Finder,
}

/// A vendor token judged by `Check::Vendor`.
const fn token(id: &'static str, kind: BuiltinKind, shapes: &'static [Shape], body: Body) -> SecretFormat {
    SecretFormat { id, kind, finder: Finder::Shapes { shapes, check: Check::Vendor(body) } }
}

/// A vendor token judged by `Check::Prefixed`.
const fn prefixed(id: &'static str, kind: BuiltinKind, shapes: &'static [Shape]) -> SecretFormat {
    SecretFormat { id, kind, finder: Finder::Shapes { shapes, check: Check::Prefixed } }
}

const fn by_rule(id: &'static str, kind: BuiltinKind, check: Check) -> SecretFormat {
    SecretFormat { id, kind, finder: Finder::Rule(check) }
}

use Body::{After, AfterLast};
use Part::{OneOf, Optional};

const ALNUM: Class = Class::of("A-Za-z0-9");
const LETTERS: Class = Class::of("A-Za-z");
const UPPER_ALNUM: Class = Class::of("A-Z0-9");
const LOWER_ALNUM: Class = Class::of("a-z0-9");
const HEX: Class = Class::of("a-f0-9");
const ANY_HEX: Class = Class::of("a-fA-F0-9");
const DIGITS: Class = Class::of("0-9");
const BASE64: Class = Class::of("A-Za-z0-9+/");
const URL_SAFE: Class = Class::of("A-Za-z0-9_-");
const WORD: Class = Class::of("A-Za-z0-9_");
const PADDING: Class = Class::of("=");
/// The bech32 alphabet, upper case (age keys).
const BECH32: Class = Class::of("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L");

/// The shape of most tokens: a prefix, then a run of the vendor's alphabet.
macro_rules! starting {
    ($($anchor:literal),+ ; $class:expr, $min:expr, $max:expr) => {
        &[Shape::starting(&[$($anchor),+], &[run($class, $min, $max)])]
    };
}

pub const FORMATS: &[SecretFormat] = &[
    // Cloud.
    prefixed(
        "aws-access-key-id",
        K::AwsAccessKey,
        &[
            Shape::starting(&["AKIA", "ASIA", "ABIA", "ACCA"], &[exactly(UPPER_ALNUM, 16)]),
            Shape::starting(&["A3T"], &[exactly(UPPER_ALNUM, 17)]),
        ],
    ),
    by_rule("aws-secret-access-key", K::AwsSecretKey, Check::AwsSecret),
    token(
        "aws-bedrock-api-key",
        K::SecretAssignment,
        &[Shape::starting(&["ABSK"], &[run(BASE64, 109, 269), run(PADDING, 0, 2)])],
        After(4),
    ),
    prefixed("gcp-api-key", K::GoogleApiKey, starting!("AIza"; URL_SAFE, 35, 35)),
    by_rule("gcp-service-account-key", K::PrivateKey, Check::PrivateKeyBlock),
    token(
        "azure-storage-account-key",
        K::SecretAssignment,
        &[Shape::labelled(&["AccountKey="], &[exactly(BASE64, 86), OneOf(&["=="])])],
        After(0),
    ),
    token(
        "azure-shared-access-key",
        K::SecretAssignment,
        &[Shape::labelled(&["SharedAccessKey="], &[run(BASE64, 42, 43), OneOf(&["="])])],
        After(0),
    ),
    token(
        "azure-ad-client-secret",
        K::SecretAssignment,
        &[Shape::around(
            &["Q~"],
            &[exactly(Class::of("A-Za-z0-9_~."), 3), exactly(DIGITS, 1)],
            &[run(Class::of("A-Za-z0-9_~.-"), 31, 34)],
        )],
        After(0),
    ),
    token("alibaba-access-key-id", K::SecretAssignment, starting!("LTAI"; ALNUM, 20, 20), After(4)),
    prefixed("digitalocean-token", K::SecretAssignment, starting!("dop_v1_", "doo_v1_", "dor_v1_"; HEX, 64, 64)),
    token("heroku-api-key", K::SecretAssignment, starting!("HRKU-AA"; URL_SAFE, 58, 58), After(7)),
    // Version control and CI.
    prefixed("github-pat", K::GithubToken, starting!("ghp_"; ALNUM, 36, UNBOUNDED)),
    prefixed("github-oauth-token", K::GithubToken, starting!("gho_"; ALNUM, 36, UNBOUNDED)),
    prefixed("github-user-to-server-token", K::GithubToken, starting!("ghu_"; ALNUM, 36, UNBOUNDED)),
    prefixed("github-app-token", K::GithubToken, starting!("ghs_"; ALNUM, 36, UNBOUNDED)),
    prefixed("github-refresh-token", K::GithubToken, starting!("ghr_"; ALNUM, 36, UNBOUNDED)),
    prefixed("github-fine-grained-pat", K::GithubToken, starting!("github_pat_"; WORD, 22, UNBOUNDED)),
    prefixed("gitlab-pat", K::GitlabToken, starting!("glpat-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-deploy-token", K::GitlabToken, starting!("gldt-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-runner-token", K::GitlabToken, starting!("glrt-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-pipeline-trigger-token", K::GitlabToken, starting!("glptt-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-feed-token", K::GitlabToken, starting!("glft-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-scim-token", K::GitlabToken, starting!("glsoat-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-cicd-job-token", K::GitlabToken, starting!("glcbt-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-incoming-mail-token", K::GitlabToken, starting!("glimt-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-agent-token", K::GitlabToken, starting!("glagent-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-oauth-secret", K::GitlabToken, starting!("gloas-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-feature-flag-token", K::GitlabToken, starting!("glffct-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("gitlab-runner-registration-token", K::GitlabToken, starting!("GR1348941"; URL_SAFE, 20, UNBOUNDED)),
    token("bitbucket-app-password", K::SecretAssignment, starting!("ATBB"; ALNUM, 32, 32), After(4)),
    token(
        "atlassian-api-token",
        K::SecretAssignment,
        starting!("ATATT3"; Class::of("A-Za-z0-9_=-"), 186, 186),
        After(6),
    ),
    token(
        "circleci-personal-token",
        K::SecretAssignment,
        &[Shape::starting(&["CCIPAT_"], &[exactly(ALNUM, 22), OneOf(&["_"]), exactly(HEX, 40)])],
        After(7),
    ),
    token(
        "circleci-project-token",
        K::SecretAssignment,
        &[Shape::starting(&["CCIPRJ_"], &[exactly(ALNUM, 22), OneOf(&["_"]), exactly(HEX, 40)])],
        After(7),
    ),
    token(
        "terraform-cloud-token",
        K::SecretAssignment,
        &[Shape::around(&[".atlasv1."], &[exactly(LOWER_ALNUM, 14)], &[run(Class::of("a-z0-9_=-"), 60, 70)])],
        After(0),
    ),
    token("pulumi-token", K::SecretAssignment, starting!("pul-"; HEX, 40, 40), After(4)),
    token("doppler-token", K::SecretAssignment, starting!("dp.pt."; ALNUM, 43, 43), After(6)),
    prefixed("vault-token", K::SecretAssignment, starting!("hvs."; URL_SAFE, 90, UNBOUNDED)),
    prefixed(
        "onepassword-service-account-token",
        K::SecretAssignment,
        &[Shape::starting(&["ops_eyJ"], &[run(BASE64, 100, UNBOUNDED), run(PADDING, 0, 2)])],
    ),
    prefixed(
        "sourcegraph-token",
        K::SecretAssignment,
        &[
            Shape::starting(&["sgp_"], &[Optional(&[exactly(ANY_HEX, 16), OneOf(&["_"])]), exactly(ANY_HEX, 40)]),
            Shape::starting(&["sgp_local_"], &[exactly(ANY_HEX, 40)]),
        ],
    ),
    prefixed(
        "grafana-service-account-token",
        K::SecretAssignment,
        &[Shape::starting(&["glsa_"], &[exactly(ALNUM, 32), OneOf(&["_"]), exactly(ANY_HEX, 8)])],
    ),
    token(
        "grafana-cloud-token",
        K::SecretAssignment,
        &[Shape::starting(&["glc_"], &[run(BASE64, 32, 400), run(PADDING, 0, 2)])],
        After(4),
    ),
    token("sentry-user-token", K::SecretAssignment, starting!("sntryu_"; HEX, 64, 64), After(7)),
    token("new-relic-user-key", K::SecretAssignment, starting!("NRAK-"; UPPER_ALNUM, 27, 27), After(5)),
    token(
        "databricks-token",
        K::SecretAssignment,
        &[Shape::starting(&["dapi"], &[exactly(HEX, 32), Optional(&[OneOf(&["-"]), run(DIGITS, 1, UNBOUNDED)])])],
        After(4),
    ),
    token(
        "postman-api-key",
        K::SecretAssignment,
        &[Shape::starting(&["PMAK-"], &[exactly(HEX, 24), OneOf(&["-"]), exactly(HEX, 34)])],
        After(5),
    ),
    token("prefect-api-key", K::SecretAssignment, starting!("pnu_"; ALNUM, 36, 36), After(4)),
    token("readme-api-key", K::SecretAssignment, starting!("rdme_"; LOWER_ALNUM, 70, 70), After(5)),
    token("intra42-client-secret", K::SecretAssignment, starting!("s-s4t2ud-", "s-s4t2af-"; HEX, 64, 64), After(9)),
    // Chat and operations.
    prefixed(
        "slack-webhook-url",
        K::SlackToken,
        &[Shape::starting(
            &["https://hooks.slack.com/", "http://hooks.slack.com/"],
            &[OneOf(&["services/", "workflows/", "triggers/"]), run(Class::of("A-Za-z0-9+/_-"), 20, UNBOUNDED)],
        )],
    ),
    by_rule("slack-bot-token", K::SlackToken, Check::Slack),
    by_rule("slack-user-token", K::SlackToken, Check::Slack),
    by_rule("slack-app-token", K::SlackToken, Check::Slack),
    by_rule("slack-config-token", K::SlackToken, Check::Slack),
    token(
        "discord-webhook-url",
        K::SecretAssignment,
        &[Shape::starting(
            &[
                "https://discord.com/api/webhooks/",
                "https://discordapp.com/api/webhooks/",
                "https://ptb.discord.com/api/webhooks/",
                "https://ptb.discordapp.com/api/webhooks/",
                "https://canary.discord.com/api/webhooks/",
                "https://canary.discordapp.com/api/webhooks/",
            ],
            &[run(DIGITS, 17, 20), OneOf(&["/"]), run(URL_SAFE, 60, 68)],
        )],
        AfterLast(b'/'),
    ),
    token(
        "telegram-bot-token",
        K::SecretAssignment,
        &[Shape::around(&[":AA"], &[run(DIGITS, 8, 10)], &[exactly(URL_SAFE, 33)])],
        AfterLast(b':'),
    ),
    token("twilio-api-key", K::SecretAssignment, starting!("SK"; HEX, 32, 32), After(2)),
    prefixed(
        "sendgrid-api-key",
        K::SecretAssignment,
        &[Shape::starting(&["SG."], &[exactly(URL_SAFE, 22), OneOf(&["."]), exactly(URL_SAFE, 43)])],
    ),
    token("mailgun-private-key", K::SecretAssignment, starting!("key-"; HEX, 32, 32), After(4)),
    by_rule("vendor-keyed-secret", K::SecretAssignment, Check::VendorAssignment),
    by_rule("random-keyed-secret", K::SecretAssignment, Check::KeyedRandom),
    prefixed("linear-api-key", K::SecretAssignment, starting!("lin_api_"; ALNUM, 40, 40)),
    prefixed(
        "notion-token",
        K::SecretAssignment,
        &[Shape::starting(&["ntn_"], &[exactly(DIGITS, 11), exactly(ALNUM, 35)])],
    ),
    // Payments and commerce.
    prefixed("stripe-secret-key", K::StripeKey, starting!("sk_live_", "sk_test_", "sk_prod_"; ALNUM, 10, UNBOUNDED)),
    prefixed(
        "stripe-restricted-key",
        K::StripeKey,
        starting!("rk_live_", "rk_test_", "rk_prod_"; ALNUM, 10, UNBOUNDED),
    ),
    prefixed("stripe-webhook-secret", K::StripeKey, starting!("whsec_"; ALNUM, 24, UNBOUNDED)),
    token(
        "square-access-token",
        K::SecretAssignment,
        &[
            Shape::starting(&["EAAA"], &[exactly(URL_SAFE, 60)]),
            Shape::starting(&["sq0atp-"], &[exactly(URL_SAFE, 22)]),
        ],
        After(4),
    ),
    token("square-oauth-secret", K::SecretAssignment, starting!("sq0csp-"; URL_SAFE, 43, 43), After(7)),
    token(
        "braintree-access-token",
        K::SecretAssignment,
        &[Shape::starting(
            &["access_token$"],
            &[OneOf(&["production$", "sandbox$"]), exactly(LOWER_ALNUM, 16), OneOf(&["$"]), exactly(HEX, 32)],
        )],
        AfterLast(b'$'),
    ),
    prefixed("shopify-token", K::SecretAssignment, starting!("shpat_", "shpca_", "shppa_", "shpss_"; ANY_HEX, 32, 32)),
    token("facebook-page-token", K::SecretAssignment, starting!("EAAM", "EAAC"; ALNUM, 100, UNBOUNDED), After(4)),
    // AI providers.
    by_rule("openai-api-key", K::OpenAiKey, Check::OpenAi),
    prefixed("anthropic-api-key", K::AnthropicKey, starting!("sk-ant-"; URL_SAFE, 20, UNBOUNDED)),
    prefixed("huggingface-token", K::SecretAssignment, starting!("hf_"; LETTERS, 34, 34)),
    token("huggingface-org-token", K::SecretAssignment, starting!("api_org_"; LETTERS, 34, 34), After(8)),
    token("replicate-api-token", K::SecretAssignment, starting!("r8_"; ALNUM, 37, 37), After(3)),
    prefixed("groq-api-key", K::SecretAssignment, starting!("gsk_"; ALNUM, 52, 52)),
    prefixed("perplexity-api-key", K::SecretAssignment, starting!("pplx-"; ALNUM, 48, 48)),
    token("xai-api-key", K::SecretAssignment, starting!("xai-"; ALNUM, 80, 80), After(4)),
    // Package registries.
    prefixed("npm-token", K::SecretAssignment, starting!("npm_"; ALNUM, 36, 36)),
    prefixed("pypi-token", K::SecretAssignment, starting!("pypi-AgEIcHlwaS5vcmc"; URL_SAFE, 50, UNBOUNDED)),
    token("nuget-api-key", K::SecretAssignment, starting!("oy2"; LOWER_ALNUM, 43, 43), After(3)),
    token("rubygems-api-key", K::SecretAssignment, starting!("rubygems_"; HEX, 48, 48), After(9)),
    token(
        "docker-hub-token",
        K::SecretAssignment,
        starting!("dckr_pat_", "dckr_oat_"; URL_SAFE, 27, UNBOUNDED),
        After(9),
    ),
    token("artifactory-api-key", K::SecretAssignment, starting!("AKCp"; ALNUM, 69, 69), After(4)),
    // Database and broker URLs with a password.
    by_rule("postgres-url", K::SecretAssignment, Check::Credentials),
    by_rule("mysql-url", K::SecretAssignment, Check::Credentials),
    by_rule("mongodb-url", K::SecretAssignment, Check::Credentials),
    by_rule("redis-url", K::SecretAssignment, Check::Credentials),
    by_rule("amqp-url", K::SecretAssignment, Check::Credentials),
    by_rule("curl-user-password", K::SecretAssignment, Check::Credentials),
    // Private keys.
    by_rule("pkcs8-private-key", K::PrivateKey, Check::PrivateKeyBlock),
    by_rule("pkcs8-encrypted-private-key", K::PrivateKey, Check::PrivateKeyBlock),
    by_rule("rsa-private-key", K::PrivateKey, Check::PrivateKeyBlock),
    by_rule("ec-private-key", K::PrivateKey, Check::PrivateKeyBlock),
    by_rule("dsa-private-key", K::PrivateKey, Check::PrivateKeyBlock),
    by_rule("openssh-private-key", K::PrivateKey, Check::PrivateKeyBlock),
    by_rule("pgp-private-key-block", K::PrivateKey, Check::PrivateKeyBlock),
    by_rule("putty-private-key", K::PrivateKey, Check::PuttyKey),
    token("age-secret-key", K::PrivateKey, starting!("AGE-SECRET-KEY-1"; BECH32, 58, 58), After(16)),
    // Generic forms.
    by_rule("jwt", K::Jwt, Check::Jwt),
    by_rule("bearer-token", K::SecretAssignment, Check::Bearer),
    by_rule("password-assignment", K::SecretAssignment, Check::Assignment),
];

/// The catalogue's shapes, each with its format's index, for the formats of enabled kinds.
pub fn shapes(enabled: impl Fn(BuiltinKind) -> bool) -> impl Iterator<Item = (usize, Shape)> {
    FORMATS.iter().enumerate().filter(move |(_, f)| enabled(f.kind)).flat_map(|(i, f)| {
        let shapes: &'static [Shape] = match f.finder {
            Finder::Shapes { shapes, .. } => shapes,
            Finder::Rule(_) => &[],
        };
        shapes.iter().map(move |s| (i, *s))
    })
}

/// Whether a token's own checksum holds, for the formats that carry one: GitHub's classic
/// tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm's (`npm_`) are a four-byte prefix,
/// 30 random base62 characters and the CRC-32 of those 30, in base62 (`0-9A-Z-a-z`), six
/// characters (GitHub's published token format, which npm adopted). `None` for other tokens
/// (and for these prefixes at another length, which the format does not have).
pub fn checksum_holds(token: &str) -> Option<bool> {
    const CHECKSUMMED: [&str; 6] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"];
    let b = token.as_bytes();
    if b.len() != 40 || !CHECKSUMMED.iter().any(|p| token.starts_with(p)) {
        return None;
    }
    let (entropy, sum) = (b.get(4..34)?, b.get(34..)?);
    let mut stated = 0u64;
    for &c in sum {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return Some(false),
        };
        stated = stated * 62 + u64::from(digit);
    }
    Some(stated == u64::from(crc32(entropy)))
}

/// Whether a Google API key carries the header of issued keys. Keys are `AIza` and 35
/// characters of the URL-safe base64 alphabet; the keys in Google's documentation and those
/// published in public code go on with `Sy` (`AIzaSy` is the base64 of one fixed four-byte header
/// and the high bits of a fifth byte), while made-up values often fill the 35 at random. No
/// document promises the header, so a key without it is not refused: like a GitHub token whose
/// checksum fails, it is masked only where the text labels it as a key. `None` for other tokens.
pub fn issued_header_holds(token: &str) -> Option<bool> {
    token.starts_with("AIza").then(|| token.starts_with("AIzaSy"))
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it). Bitwise: it runs over 30 bytes per
/// candidate token, so a table would cost more to build than it saves.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The part of a matched token value judged for randomness.
pub fn body_of(value: &str, body: Body) -> &str {
    match body {
        Body::After(n) => value.get(usize::from(n)..).unwrap_or(""),
        Body::AfterLast(b) => value.rfind(char::from(b)).and_then(|i| value.get(i + 1..)).unwrap_or(value),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::super::patterns::{RULES, TOKEN_PREFIXES};
    use super::super::secrets_shape::ShapeScan;
    use super::*;

    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) as usize) % n.max(1)
        }
    }

    /// Text for `parts`: each run `delta` bytes longer than its minimum (or its maximum), so
    /// that lengths on and just past each bound are tried.
    fn sample(parts: &[Part], rng: &mut Rng, out: &mut String) {
        for part in parts {
            match part {
                Part::Run(class, min, max) => {
                    let bytes: Vec<u8> = (0u8..128).filter(|&b| class.has(b)).collect();
                    let max = if *max == UNBOUNDED { min + 40 } else { *max };
                    let n = match rng.below(4) {
                        0 => usize::from(*min),
                        1 => usize::from(max),
                        2 => usize::from(min.saturating_sub(1)),
                        _ => usize::from(max) + 1,
                    };
                    (0..n).for_each(|_| out.push(char::from(bytes[rng.below(bytes.len())])));
                }
                Part::OneOf(lits) => out.push_str(lits[rng.below(lits.len())]),
                Part::Optional(inner) => {
                    if rng.below(2) == 0 {
                        sample(inner, rng, out);
                    }
                }
            }
        }
    }

    /// Every shape is deterministic, so the greedy walk finds what its regex finds: checked
    /// on generated texts around every bound of every run, with noise before and after.
    #[test]
    fn every_shape_walks_as_its_regex_matches() {
        let mut rng = Rng(0x5eed);
        let noise = ["", " ", "x", "=", "_", "-", "0", "a", "/", ".", "é"];
        for (format, shape) in shapes(|_| true) {
            let id = FORMATS[format].id;
            assert!(shape.is_deterministic(), "{id}: a variable run is followed by its own bytes");
            let unanchored = regex::Regex::new(&shape.regex()).unwrap();
            let anchored = regex::Regex::new(&format!("^(?:{})", shape.regex())).unwrap();
            for _ in 0..400 {
                let mut text = noise[rng.below(noise.len())].to_string();
                sample(shape.before, &mut rng, &mut text);
                text.push_str(shape.anchors[rng.below(shape.anchors.len())]);
                sample(shape.after, &mut rng, &mut text);
                text.push_str(noise[rng.below(noise.len())]);
                // Every walk is the anchored regex's match from the same place.
                let mut walks = Vec::new();
                for anchor in shape.anchors {
                    for (at, _) in text.match_indices(anchor) {
                        let Some((s, e)) = shape.walk(text.as_bytes(), at, anchor.len()) else { continue };
                        let from = if shape.anchor_in_value { s } else { at };
                        let caps = anchored.captures(&text[from..]).unwrap_or_else(|| panic!("{id}: {text:?}"));
                        let g = caps.get(1).unwrap();
                        assert_eq!((from + g.start(), from + g.end()), (s, e), "{id}: {text:?}");
                        walks.push((s, e));
                    }
                }
                // Every regex match is a walk.
                for caps in unanchored.captures_iter(&text) {
                    let g = caps.get(1).unwrap();
                    assert!(walks.contains(&(g.start(), g.end())), "{id}: {text:?} {:?}", (g.start(), g.end()));
                }
            }
        }
    }

    /// The shape scan runs only when the literal scan found a token prefix that one of its
    /// anchors contains: every anchor must contain one.
    #[test]
    fn every_anchor_holds_a_token_prefix() {
        for (format, shape) in shapes(|_| true) {
            for anchor in shape.anchors {
                assert!(TOKEN_PREFIXES.iter().any(|p| anchor.contains(p)), "{}: {anchor}", FORMATS[format].id);
            }
        }
    }

    /// The checksum as GitHub publishes it: CRC-32 of the 30 characters after the prefix, six
    /// base62 digits. The check value of CRC-32 (`123456789` -> `CBF43926`) pins the CRC; the
    /// token is written here from the format, and every single-character change breaks it.
    #[test]
    fn github_and_npm_checksums() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let entropy = "Kq3ZtW8nRv2LxPb7YhJd5MfTc9GsNe";
        let base62 = |mut n: u64| {
            let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
            let mut out = [b'0'; 6];
            for slot in out.iter_mut().rev() {
                *slot = alphabet[(n % 62) as usize];
                n /= 62;
            }
            String::from_utf8(out.to_vec()).unwrap()
        };
        let sum = base62(u64::from(crc32(entropy.as_bytes())));
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"] {
            let token = format!("{prefix}{entropy}{sum}");
            assert_eq!(checksum_holds(&token), Some(true), "{token}");
            for i in 4..40 {
                let mut broken = token.clone().into_bytes();
                broken[i] = if broken[i] == b'x' { b'y' } else { b'x' };
                assert_eq!(checksum_holds(std::str::from_utf8(&broken).unwrap()), Some(false), "{i}");
            }
        }
        assert_eq!(checksum_holds(&format!("glpat-{entropy}{sum}")), None);
        assert_eq!(checksum_holds(&format!("ghp_{entropy}{sum}x")), None);
    }

    /// The catalogue's scan finds the same natively (packed) as in wasm (automaton), on every
    /// fixture text and bench body.
    #[test]
    fn packed_and_automaton_shape_scans_agree() {
        let packed = ShapeScan::new(shapes(|_| true)).unwrap();
        let automaton = packed.as_automaton().unwrap();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut texts: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(format!("{root}/tests/fixtures/pii")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                texts.extend(std::fs::read_to_string(&path).unwrap().lines().map(String::from));
            }
        }
        for name in ["chat_1k", "multiturn_16k", "dense_16k", "long_context_128k"] {
            texts.push(std::fs::read_to_string(format!("benches/fixtures/{name}.request.json")).unwrap());
        }
        let mut total = 0;
        for t in &texts {
            let run = |s: &ShapeScan| {
                let mut out = Vec::new();
                s.find(t, |o, a, b| out.push((o, a, b)));
                out.sort_unstable();
                out
            };
            let found = run(&packed);
            total += found.len();
            assert_eq!(found, run(&automaton), "{t:?}");
        }
        assert!(total > 100, "{total}");
    }

    /// A format found by a rule names a check some rule of `patterns` has.
    #[test]
    fn rule_formats_have_their_rule() {
        for f in FORMATS {
            if let Finder::Rule(check) = f.finder {
                assert!(RULES.iter().any(|r| r.check == check && r.kind == f.kind), "{}", f.id);
            }
        }
    }
}
