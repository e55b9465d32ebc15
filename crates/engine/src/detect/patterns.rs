//! The built-in candidate patterns. Each regex only proposes a span; the `Check` named next to it
//! decides (with validators and context) whether the span is a finding and how confident it is.
//! Regexes are ASCII-only on purpose: every value we look for is ASCII, and ASCII classes keep
//! the automata small and fast.

use super::secrets::Body;
use crate::entity::BuiltinKind;

/// Which validation a candidate goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Email,
    Phone,
    /// `123-45-6789` or `123 45 6789`.
    SsnSeparated,
    /// Nine digits in a row: only with SSN words nearby.
    SsnBare,
    Card,
    Iban,
    Ipv4,
    Ipv6,
    /// A vendor token with a distinctive prefix: the regex is the whole check.
    Prefixed,
    /// A Slack token: digit groups (team, user, ...), then a secret body judged on its own.
    Slack,
    OpenAi,
    AwsSecret,
    Jwt,
    PrivateKeyBlock,
    /// A PuTTY `.ppk` file header: the file up to its `Private-MAC` line.
    PuttyKey,
    /// `password=...`: capture group 1 is the value to mask.
    Assignment,
    /// `Bearer ...`: capture group 1 is the token.
    Bearer,
    /// `user:password` in a URL or a curl `-u`: capture group 1 or 2.
    Credentials,
    /// A token of the `secrets` catalogue: capture group 1 is the value, `Body` the part of it
    /// judged for randomness.
    Vendor(Body),
    /// A random value assigned to a key named after a vendor (`datadog_app_key: ...`,
    /// `facebook 1234|...`): capture group 1 is the value.
    VendorAssignment,
    /// A random value under a name that ends in `key` or names an authentication or a session
    /// (`SIGNING_KEY=...`, `"auth": "..."`, `sessionid=...`): capture group 1 is the value.
    KeyedRandom,
}

/// A cheap test on the whole text that must pass before a rule's regex runs at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The text contains one of `TOKEN_PREFIXES`: vendor tokens, JWTs and key blocks all
    /// start with a fixed literal, so one multi-literal scan rejects texts without any.
    Prefix,
    /// Run anchored where two ASCII letters and two digits start a word (every IBAN starts
    /// with its country code and check digits); the regex must start there.
    IbanStart,
    /// The text contains `@`.
    At,
    /// The text contains `aws` in any case (AWS secret keys have no shape of their own).
    AwsWord,
    /// Run only inside "number islands": stretches of digits and number punctuation holding
    /// at least `MIN_ISLAND_DIGITS` digits, found in one byte scan. Prose numbers (years,
    /// counts) never form one, so clean text skips these regexes entirely.
    NumberIsland,
    /// Like `NumberIsland`, for islands with at least four digits and a dot (IPv4).
    DottedIsland,
    /// The text has two colons at most five bytes apart (every IPv6 address does).
    ColonPair,
    /// The text contains `://` or a curl user option (`-u`, `--user`).
    UserInfo,
    /// Run anchored at each occurrence of a secret keyword (`KEYWORDS`), found with one
    /// case-insensitive Aho-Corasick pass; the regex must start with the keyword.
    Keyword,
}

/// Fewest digits in any candidate of a `NumberIsland` rule (a 7-digit local phone number).
pub const MIN_ISLAND_DIGITS: usize = 7;

/// Bytes that can appear inside a phone, SSN or card candidate.
pub fn island_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')' | b'+')
}

/// Where `Keyword` rules may start: every keyword alternation in those regexes begins with one
/// of these (compared ASCII case-insensitively).
pub const KEYWORDS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "api",
    "access",
    "token",
    "credential",
    "private",
    "bearer",
    "authorization",
    "contrase",
    "senha",
    "wachtwoord",
    // Vendors whose keys have no prefix of their own (`VendorAssignment`).
    "datadog",
    "pagerduty",
    "cohere",
    "sourcegraph",
    "facebook",
    "twilio",
    "heroku",
    "okta",
    "mailgun",
    "mailchimp",
    // Names whose random values are credentials (`KeyedRandom`).
    "key",
    "auth",
    "session",
    "sessid",
];

/// The literal every `Prefix` rule's matches start with (case-sensitive).
pub const TOKEN_PREFIXES: &[&str] = &[
    "AKIA",
    "ASIA",
    "ABIA",
    "ACCA",
    "A3T",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "glrt-",
    "glptt-",
    "glft-",
    "glsoat-",
    "glcbt-",
    "glimt-",
    "glagent-",
    "gloas-",
    "glffct-",
    "GR1348941",
    "xox",
    "xapp-",
    "hooks.slack.com",
    "sk_",
    "rk_",
    "whsec_",
    "sk-",
    "AIza",
    "eyJ",
    "-----BEGIN",
    "PuTTY-User-Key-File-",
    "hf_",
    "npm_",
    "pypi-",
    "ntn_",
    "sgp_",
    "hvs.",
    "ops_",
    "dop_v1_",
    "doo_v1_",
    "dor_v1_",
    "SG.",
    "shpat_",
    "shpca_",
    "shppa_",
    "shpss_",
    "pplx-",
    "gsk_",
    "lin_api_",
    "glsa_",
    // The literals of the `secrets` catalogue's token rules.
    "ABSK",
    "AccountKey=",
    "SharedAccessKey=",
    "Q~",
    "LTAI",
    "HRKU-",
    "ATBB",
    "ATATT3",
    "CCIPAT_",
    "CCIPRJ_",
    ".atlasv1.",
    "pul-",
    "dp.pt.",
    "glc_",
    "sntryu_",
    "NRAK-",
    "dapi",
    "PMAK-",
    "pnu_",
    "rdme_",
    "s-s4t2",
    "discord",
    ":AA",
    "SK",
    "key-",
    "EAA",
    "sq0atp-",
    "sq0csp-",
    "access_token$",
    "api_org_",
    "r8_",
    "xai-",
    "oy2",
    "rubygems_",
    "dckr_",
    "AKCp",
    "AGE-SECRET-KEY-1",
];

/// How far past a keyword an anchored `Keyword` rule may match.
pub const KEYWORD_WINDOW: usize = 1400;

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub kind: BuiltinKind,
    pub check: Check,
    pub gate: Gate,
    pub regex: &'static str,
}

const fn rule(kind: BuiltinKind, check: Check, gate: Gate, regex: &'static str) -> Rule {
    Rule { kind, check, gate, regex }
}

use BuiltinKind as K;

/// What separates a key from its value in the forms people write: `:`, `=`, `:=`, `=>`, "is",
/// a `value` key after a `name` one (`name: DB_PASSWORD` / `value: ...`), an element's `>`, a
/// property list's `</key><string>`, a two-column table's `|`, or white space (a command-line
/// option). `checks::key_form` decides which forms count where.
macro_rules! key_separator {
    () => {
        r#"(?:[ \t]*(?::=|=>|[:=])|[ \t]+(?i-u:is|was)(?:[ \t]*:|[ \t])|[ \t]*,?[ \t]*(?:\r?\n[ \t]*)?\\?["']?(?i-u:value)\\?["']?[ \t]*[:=]|>|</(?i-u:key)>[ \t]*\r?\n?[ \t]*<(?i-u:string)>|[ \t]+\|[ \t]|[ \t]+)"#
    };
}

pub const RULES: &[Rule] = &[
    rule(
        K::Email,
        Check::Email,
        Gate::At,
        // Internationalised addresses (RFC 6531 local parts, IDN domains) as well as ASCII ones.
        // Any non-ASCII character may stand for a letter here (a Unicode word class costs a third
        // more configuration time); the check trims what is not a letter or digit. Top-level
        // domains are letters, or punycode.
        r"[A-Za-z0-9\x{80}-\x{10FFFF}][A-Za-z0-9\x{80}-\x{10FFFF}._%+\-]*@[A-Za-z0-9\x{80}-\x{10FFFF}](?:[A-Za-z0-9\x{80}-\x{10FFFF}\-]*[A-Za-z0-9\x{80}-\x{10FFFF}])?(?:\.[A-Za-z0-9\x{80}-\x{10FFFF}](?:[A-Za-z0-9\x{80}-\x{10FFFF}\-]*[A-Za-z0-9\x{80}-\x{10FFFF}])?)*\.(?:xn--[a-z0-9\-]{2,59}|[A-Za-z\x{80}-\x{10FFFF}]{2,24})",
    ),
    rule(K::Phone, Check::Phone, Gate::NumberIsland, r"(?:\+[ ]?|\()?[0-9][0-9 \-./()]{5,26}[0-9]"),
    rule(K::UsSsn, Check::SsnSeparated, Gate::NumberIsland, r"[0-9]{3}[- .][0-9]{2}[- .][0-9]{4}"),
    rule(K::UsSsn, Check::SsnBare, Gate::NumberIsland, r"[0-9]{9}"),
    // One separator style per number, so that numbers written side by side stay apart.
    rule(
        K::CreditCard,
        Check::Card,
        Gate::NumberIsland,
        r"[0-9]{4}(?:-[0-9]{1,6}){2,4}|[0-9]{4}(?: [0-9]{1,6}){2,4}|[0-9]{4}(?:\.[0-9]{1,6}){2,4}|[0-9]{12,19}",
    ),
    rule(K::Iban, Check::Iban, Gate::IbanStart, r"[A-Za-z]{2}[0-9]{2}(?:[ \-]?[A-Za-z0-9]){8,36}"),
    rule(K::IpAddress, Check::Ipv4, Gate::DottedIsland, r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"),
    rule(
        K::IpAddress,
        Check::Ipv6,
        Gate::ColonPair,
        r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}",
    ),
    rule(K::AwsSecretKey, Check::AwsSecret, Gate::AwsWord, r"[A-Za-z0-9/+]{40}"),
    rule(
        K::SlackToken,
        Check::Slack,
        Gate::Prefix,
        r"(?:xoxe\.xox[bp]|xox[abposre]|xapp)-[0-9]{1,13}-[A-Za-z0-9\-]{10,}",
    ),
    rule(K::OpenAiKey, Check::OpenAi, Gate::Prefix, r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    rule(K::Jwt, Check::Jwt, Gate::Prefix, r"eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*"),
    // Vendor tokens with a plain prefix and alphabet (AWS access keys, GitHub, GitLab, Stripe,
    // Google, Anthropic, ...) are found by the shapes of the `secrets` catalogue, not here.
    rule(
        K::PrivateKey,
        Check::PrivateKeyBlock,
        Gate::Prefix,
        r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----",
    ),
    rule(K::PrivateKey, Check::PuttyKey, Gate::Prefix, r"PuTTY-User-Key-File-[1-3]: [A-Za-z0-9@.\-]{3,64}"),
    // The value ends at white space, ASCII or typographic quotes and brackets, and CJK
    // punctuation (a value quoted `“…”`, bracketed `【…】` or ending a CJK sentence `…。`).
    // Keywords fold ASCII case only (`(?i-u:`): Unicode folding (`ſ` for `s`, the Kelvin sign
    // for `k`) turned each keyword into UTF-8 alternations, built twice per VM (the rule and
    // the keyword set), for spellings nobody writes in a key name.
    rule(
        K::SecretAssignment,
        Check::Assignment,
        Gate::Keyword,
        concat!(
            r#"(?i-u:password|passwd|passwort|passe|pwd|passphrase|secret|api[_\-.]?key|access[_\-]?key|token|credentials?|private[_\-]?key|contrase(?:ñ|Ñ|n)a|senha|wachtwoord)(?:(?i-u:key|token)(?:[_\-.][A-Za-z0-9_\-.]{0,40})?|[_\-.][A-Za-z0-9_\-.]{0,40})?\\?["']?"#,
            key_separator!(),
            r#"(?:[ \t]*[|>][\-+]?)?(?:[ \t]*\r?\n[ \t]+)?[ \t]*(?:\\?["'“‘«„‹「『【〔〈《（［｛])?([^\s"'`,;<>(){}\[\]“”‘’«»„‹›「」『』【】〔〕〈〉《》（）［］｛｝。、，！？：；]{4,})"#
        ),
    ),
    rule(K::SecretAssignment, Check::Bearer, Gate::Keyword, r"(?i-u:bearer)[ \t]+([A-Za-z0-9\-._~+/]{16,}=*)"),
    rule(
        K::SecretAssignment,
        Check::Bearer,
        Gate::Keyword,
        r#"(?i-u:authorization)["']?[ \t]*[:=][ \t]*["']?(?:(?i-u:basic|token|api-token|digest)[ \t]+)?([A-Za-z0-9\-._~+/]{8,}=*)"#,
    ),
    // Credentials in a URL (`scheme://user:password@host`, RFC 3986 userinfo) or on a curl
    // command line (`-u user:password`).
    rule(
        K::SecretAssignment,
        Check::Credentials,
        Gate::UserInfo,
        // A password may hold a raw `@` (RFC 3986 wants it escaped; people do not): the host
        // starts after the last `@` before the path.
        r#"[A-Za-z][A-Za-z0-9+.\-]{1,15}://([^\s:/@"'<>]{0,64}:[^\s/"'<>]{1,128})@|(?:-u|--user)[ \t]+["']?([^\s"':]{0,64}:["']?[^\s"']{0,128}["']?)"#,
    ),
    // A random value under a name that ends in `key` (`signing_key`, `ENCRYPTION_KEY`,
    // `hmacKey`) or names an authentication or a session (`auth`, `session_id`, `PHPSESSID`).
    // The value ends before trailing `=` padding is judged, and at a cookie's `;`.
    rule(
        K::SecretAssignment,
        Check::KeyedRandom,
        Gate::Keyword,
        concat!(
            r#"(?i-u:key|auth|session|sessid)[A-Za-z0-9_\-]{0,16}\\?["']?\]?"#,
            key_separator!(),
            r#"[ \t]*\\?["']?([A-Za-z0-9+/_\-.~%]{16,300}=*)"#
        ),
    ),
    // Keys named after a vendor whose keys have no prefix: the key may hold more words
    // (`facebook access_token`), the separator may be a space (`facebook 1234|...`).
    rule(
        K::SecretAssignment,
        Check::VendorAssignment,
        Gate::Keyword,
        r#"(?i-u:datadog|pagerduty|cohere|sourcegraph|facebook|twilio|heroku|okta|mailgun|mailchimp)[A-Za-z0-9_.\- ]{0,24}?["']?(?:[ \t]*(?::=|=>|[:=])[ \t]*|[ \t]+)["']?([A-Za-z0-9_\-|+/]{20,100})"#,
    ),
];
