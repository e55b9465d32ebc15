//! The catalogue of secret formats: every credential format the detector knows, by id, with the
//! rule that finds it. Vendor tokens with a fixed literal (a prefix such as `dckr_pat_`, a label
//! such as `AccountKey=`, or an inner marker such as Azure's `Q~`) are matched by the regexes
//! here; their literal is in `patterns::TOKEN_PREFIXES`, so a text without any of them never
//! runs these regexes. Other formats (JWTs, key blocks, Slack tokens, URL credentials,
//! assignments) have rules of their own in `patterns`, named here by their check.
//!
//! Prefixes, lengths and alphabets are the vendors' documented formats, cross-checked against
//! the public gitleaks rule set. `docs/entities.md` ("Secrets") lists the same ids, and
//! `tests/fixtures/pii/secret_formats.jsonl` holds a positive and a negative case for each; a
//! test keeps the three equal.

use super::patterns::{Check, Rule};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finder {
    /// By the catalogue regex: capture group 1 is the value masked (a label before it, such as
    /// `AccountKey=`, stays); the value must be a whole word, not part of a longer base64 run,
    /// and its body must look random (no `xxxx`, `1234`, `EXAMPLE` stand-ins).
    Token { regex: &'static str, body: Body },
    /// By a rule of `patterns` with this check.
    Rule(Check),
}

#[derive(Debug, Clone, Copy)]
pub struct SecretFormat {
    pub id: &'static str,
    pub kind: BuiltinKind,
    pub finder: Finder,
}

const fn token(id: &'static str, kind: BuiltinKind, regex: &'static str, body: Body) -> SecretFormat {
    SecretFormat { id, kind, finder: Finder::Token { regex, body } }
}

const fn by_rule(id: &'static str, kind: BuiltinKind, check: Check) -> SecretFormat {
    SecretFormat { id, kind, finder: Finder::Rule(check) }
}

use Body::{After, AfterLast};

pub const FORMATS: &[SecretFormat] = &[
    // Cloud.
    by_rule("aws-access-key-id", K::AwsAccessKey, Check::Prefixed),
    by_rule("aws-secret-access-key", K::AwsSecretKey, Check::AwsSecret),
    token("aws-bedrock-api-key", K::SecretAssignment, r"(ABSK[A-Za-z0-9+/]{109,269}={0,2})", After(4)),
    by_rule("gcp-api-key", K::GoogleApiKey, Check::Prefixed),
    by_rule("gcp-service-account-key", K::PrivateKey, Check::PrivateKeyBlock),
    token("azure-storage-account-key", K::SecretAssignment, r"AccountKey=([A-Za-z0-9+/]{86}==)", After(0)),
    token("azure-shared-access-key", K::SecretAssignment, r"SharedAccessKey=([A-Za-z0-9+/]{42,43}=)", After(0)),
    token(
        "azure-ad-client-secret",
        K::SecretAssignment,
        r"([A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34})",
        After(0),
    ),
    token("alibaba-access-key-id", K::SecretAssignment, r"(LTAI[A-Za-z0-9]{20})", After(4)),
    by_rule("digitalocean-token", K::SecretAssignment, Check::Prefixed),
    token("heroku-api-key", K::SecretAssignment, r"(HRKU-AA[A-Za-z0-9_\-]{58})", After(7)),
    // Version control and CI.
    by_rule("github-pat", K::GithubToken, Check::Prefixed),
    by_rule("github-oauth-token", K::GithubToken, Check::Prefixed),
    by_rule("github-user-to-server-token", K::GithubToken, Check::Prefixed),
    by_rule("github-app-token", K::GithubToken, Check::Prefixed),
    by_rule("github-refresh-token", K::GithubToken, Check::Prefixed),
    by_rule("github-fine-grained-pat", K::GithubToken, Check::Prefixed),
    by_rule("gitlab-pat", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-deploy-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-runner-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-pipeline-trigger-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-feed-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-scim-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-cicd-job-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-incoming-mail-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-agent-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-oauth-secret", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-feature-flag-token", K::GitlabToken, Check::Prefixed),
    by_rule("gitlab-runner-registration-token", K::GitlabToken, Check::Prefixed),
    token("bitbucket-app-password", K::SecretAssignment, r"(ATBB[A-Za-z0-9]{32})", After(4)),
    token("atlassian-api-token", K::SecretAssignment, r"(ATATT3[A-Za-z0-9_\-=]{186})", After(6)),
    token("circleci-personal-token", K::SecretAssignment, r"(CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})", After(7)),
    token("circleci-project-token", K::SecretAssignment, r"(CCIPRJ_[A-Za-z0-9]{22}_[a-f0-9]{40})", After(7)),
    token("terraform-cloud-token", K::SecretAssignment, r"([a-z0-9]{14}\.atlasv1\.[a-z0-9_=\-]{60,70})", After(0)),
    token("pulumi-token", K::SecretAssignment, r"(pul-[a-f0-9]{40})", After(4)),
    token("doppler-token", K::SecretAssignment, r"(dp\.pt\.[A-Za-z0-9]{43})", After(6)),
    by_rule("vault-token", K::SecretAssignment, Check::Prefixed),
    by_rule("onepassword-service-account-token", K::SecretAssignment, Check::Prefixed),
    by_rule("sourcegraph-token", K::SecretAssignment, Check::Prefixed),
    by_rule("grafana-service-account-token", K::SecretAssignment, Check::Prefixed),
    token("grafana-cloud-token", K::SecretAssignment, r"(glc_[A-Za-z0-9+/]{32,400}={0,2})", After(4)),
    token("sentry-user-token", K::SecretAssignment, r"(sntryu_[a-f0-9]{64})", After(7)),
    token("new-relic-user-key", K::SecretAssignment, r"(NRAK-[A-Z0-9]{27})", After(5)),
    token("databricks-token", K::SecretAssignment, r"(dapi[a-f0-9]{32}(?:-[0-9]+)?)", After(4)),
    token("postman-api-key", K::SecretAssignment, r"(PMAK-[a-f0-9]{24}-[a-f0-9]{34})", After(5)),
    token("prefect-api-key", K::SecretAssignment, r"(pnu_[A-Za-z0-9]{36})", After(4)),
    token("readme-api-key", K::SecretAssignment, r"(rdme_[a-z0-9]{70})", After(5)),
    token("intra42-client-secret", K::SecretAssignment, r"(s-s4t2(?:ud|af)-[a-f0-9]{64})", After(9)),
    // Chat and operations.
    by_rule("slack-webhook-url", K::SlackToken, Check::Prefixed),
    by_rule("slack-bot-token", K::SlackToken, Check::Slack),
    by_rule("slack-user-token", K::SlackToken, Check::Slack),
    by_rule("slack-app-token", K::SlackToken, Check::Slack),
    by_rule("slack-config-token", K::SlackToken, Check::Slack),
    token(
        "discord-webhook-url",
        K::SecretAssignment,
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,68})",
        AfterLast(b'/'),
    ),
    token("telegram-bot-token", K::SecretAssignment, r"([0-9]{8,10}:AA[A-Za-z0-9_\-]{33})", AfterLast(b':')),
    token("twilio-api-key", K::SecretAssignment, r"(SK[0-9a-f]{32})", After(2)),
    by_rule("sendgrid-api-key", K::SecretAssignment, Check::Prefixed),
    token("mailgun-private-key", K::SecretAssignment, r"(key-[0-9a-f]{32})", After(4)),
    by_rule("vendor-keyed-secret", K::SecretAssignment, Check::VendorAssignment),
    by_rule("linear-api-key", K::SecretAssignment, Check::Prefixed),
    by_rule("notion-token", K::SecretAssignment, Check::Prefixed),
    // Payments and commerce.
    by_rule("stripe-secret-key", K::StripeKey, Check::Prefixed),
    by_rule("stripe-restricted-key", K::StripeKey, Check::Prefixed),
    by_rule("stripe-webhook-secret", K::StripeKey, Check::Prefixed),
    token("square-access-token", K::SecretAssignment, r"(EAAA[A-Za-z0-9_\-]{60}|sq0atp-[A-Za-z0-9_\-]{22})", After(4)),
    token("square-oauth-secret", K::SecretAssignment, r"(sq0csp-[A-Za-z0-9_\-]{43})", After(7)),
    token(
        "braintree-access-token",
        K::SecretAssignment,
        r"(access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})",
        AfterLast(b'$'),
    ),
    by_rule("shopify-token", K::SecretAssignment, Check::Prefixed),
    token("facebook-page-token", K::SecretAssignment, r"(EAA[MC][A-Za-z0-9]{100,})", After(4)),
    // AI providers.
    by_rule("openai-api-key", K::OpenAiKey, Check::OpenAi),
    by_rule("anthropic-api-key", K::AnthropicKey, Check::Prefixed),
    by_rule("huggingface-token", K::SecretAssignment, Check::Prefixed),
    token("huggingface-org-token", K::SecretAssignment, r"(api_org_[A-Za-z]{34})", After(8)),
    token("replicate-api-token", K::SecretAssignment, r"(r8_[A-Za-z0-9]{37})", After(3)),
    by_rule("groq-api-key", K::SecretAssignment, Check::Prefixed),
    by_rule("perplexity-api-key", K::SecretAssignment, Check::Prefixed),
    token("xai-api-key", K::SecretAssignment, r"(xai-[A-Za-z0-9]{80})", After(4)),
    // Package registries.
    by_rule("npm-token", K::SecretAssignment, Check::Prefixed),
    by_rule("pypi-token", K::SecretAssignment, Check::Prefixed),
    token("nuget-api-key", K::SecretAssignment, r"(oy2[a-z0-9]{43})", After(3)),
    token("rubygems-api-key", K::SecretAssignment, r"(rubygems_[a-f0-9]{48})", After(9)),
    token("docker-hub-token", K::SecretAssignment, r"(dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,})", After(9)),
    token("artifactory-api-key", K::SecretAssignment, r"(AKCp[A-Za-z0-9]{69})", After(4)),
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
    token("age-secret-key", K::PrivateKey, r"(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})", After(16)),
    // Generic forms.
    by_rule("jwt", K::Jwt, Check::Jwt),
    by_rule("bearer-token", K::SecretAssignment, Check::Bearer),
    by_rule("password-assignment", K::SecretAssignment, Check::Assignment),
];

/// The catalogue's own token rules, as `patterns` rules (gated on their literals).
pub fn token_rules() -> impl Iterator<Item = Rule> {
    FORMATS.iter().filter_map(|f| match f.finder {
        Finder::Token { regex, body } => {
            Some(Rule { kind: f.kind, check: Check::Vendor(body), gate: super::patterns::Gate::Prefix, regex })
        }
        Finder::Rule(_) => None,
    })
}

/// The part of a matched token value judged for randomness.
pub fn body_of(value: &str, body: Body) -> &str {
    match body {
        Body::After(n) => value.get(usize::from(n)..).unwrap_or(""),
        Body::AfterLast(b) => value.rfind(char::from(b)).and_then(|i| value.get(i + 1..)).unwrap_or(value),
    }
}
