//! The families of leaks the 200,000-case run of the leak generator (`make leakgen-long`)
//! found, each at the engine's level with values of its family written here (never a single
//! lucky string: each test runs many values of the family).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::guard_request;
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::vault::Vault;
use serde_json::{json, Value};

fn cfg() -> FilterConfig {
    FilterConfig::from_json(b"{}").unwrap()
}

/// The body the upstream receives for these user messages.
fn forward(cfg: &FilterConfig, contents: &[&str]) -> String {
    let messages: Vec<Value> = contents.iter().map(|c| json!({"role": "user", "content": c})).collect();
    let body = json!({"model": "m", "messages": messages}).to_string();
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let out =
        guard_request(cfg, cfg.classify("/v1/chat/completions"), body.as_bytes(), true, &mut vault, MemoScope::NONE)
            .unwrap_or_else(|r| panic!("refused: {r}"));
    out.body.map(|b| String::from_utf8(b).unwrap()).unwrap_or(body)
}

fn survives(up: &str, value: &str) -> bool {
    let escaped = serde_json::to_string(value).unwrap();
    up.contains(value) || up.contains(escaped.trim_matches('"'))
}

/// Random values of one alphabet, from a fixed seed (a linear congruential generator).
struct Gen(u64);

impl Gen {
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                char::from(alphabet[((self.0 >> 33) as usize) % alphabet.len()])
            })
            .collect()
    }
}

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random keys with no digit among their letters (one in 280 of 32-40 random letters and
/// digits) under names of keys, and AWS secret keys of 40 base64 characters with no digit (one
/// in a thousand): the letters read as random, whatever their vowels.
#[test]
fn random_letters_without_digits_are_keys() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0001);
    let mut missed = Vec::new();
    for i in 0..300 {
        let key = g.chars(LETTERS, 32 + i % 9);
        let aws = g.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/", 40);
        let texts = [
            (format!("{{\n  \"auth\": \"{key}\"\n}}"), key.clone()),
            (format!("[default]\nsession_id = {key}"), key.clone()),
            (format!("const config = {{\n  signing_key: '{key}',\n}};"), key.clone()),
            (format!("AUTH=\"{key}\""), key.clone()),
            (format!("aws secret key: {aws}"), aws.clone()),
        ];
        for (text, value) in texts {
            if survives(&forward(&cfg, &[&text]), &value) {
                missed.push((text, value));
            }
        }
    }
    // Random letters read as words about once in 2,500 (`word_like` in the detector): of 300
    // keys, more than two read so would say the test is weaker than that.
    let keys: std::collections::BTreeSet<&String> = missed.iter().map(|(_, v)| v).collect();
    assert!(keys.len() <= 2, "{} of 300 missed: {missed:#?}", keys.len());
}

/// Names made of words stay under the same keys (identifiers of the kind people configure).
#[test]
fn names_of_words_under_key_names_stay() {
    let cfg = cfg();
    for name in [
        "AzureADTokenProvider",
        "DefaultAzureCredentialOptions",
        "ManagedIdentityCredentialBuilder",
        "thepassionatecerealkiller",
    ] {
        for text in
            [format!("{{\"auth\": \"{name}\"}}"), format!("session_id = {name}"), format!("signing_key: '{name}'")]
        {
            let up = forward(&cfg, &[&text]);
            assert!(up.contains(name), "{name} masked in {text}: {up}");
        }
    }
}

/// A run of one character inside a long random body is chance, not a stand-in (six equal hex
/// digits among 64: once in 18,000 tokens); a stand-in's run is a quarter of it or ten long.
#[test]
fn runs_inside_random_bodies_are_chance() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0002);
    for i in 0..40 {
        let d = char::from(b"0123456789abcdef"[i % 16]);
        let run: String = std::iter::repeat_n(d, 6 + i % 3).collect();
        let hex =
            format!("{}{run}{}", g.chars(b"0123456789abcdef", 20), g.chars(b"0123456789abcdef", 64 - 20 - run.len()));
        let ntn = format!("ntn_0666666{}{}", g.chars(b"0123456789", 4), g.chars(LETTERS, 35));
        for value in [format!("dop_v1_{hex}"), ntn] {
            let up = forward(&cfg, &[&format!("token: {value}")]);
            assert!(!survives(&up, &value), "{value}: {up}");
        }
    }
    for stand_in in [
        "dop_v1_0000000000000000000000000000000000000000000000000000000000000000",
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "AKIAXXXXXXXXXXXXXXXX",
    ] {
        let up = forward(&cfg, &[&format!("see {stand_in} in the docs")]);
        assert!(survives(&up, stand_in), "{stand_in}: {up}");
    }
}

/// `your` opens a stand-in; inside random letters it is chance.
#[test]
fn your_inside_random_letters_is_chance() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0003);
    for _ in 0..30 {
        let key = format!("{}{}YoUR{}", g.chars(LETTERS, 8), g.chars(b"0123456789", 3), g.chars(LETTERS, 20));
        let up = forward(&cfg, &[&format!("{{\"encryption_key\": \"{key}\"}}")]);
        assert!(!survives(&up, &key), "{key}: {up}");
    }
    let up = forward(&cfg, &[r#"{"encryption_key": "YOUR_ENCRYPTION_KEY_HERE_0123"}"#]);
    assert!(up.contains("YOUR_ENCRYPTION_KEY_HERE_0123"), "{up}");
}

/// A value masked inside a JSON document carried as a string in another JSON document (escaped
/// twice) is masked where it is repeated plainly, and the reverse.
#[test]
fn values_escaped_twice_are_masked_when_repeated_plainly() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0004);
    for _ in 0..20 {
        let password = format!("{}\\{}9", g.chars(LETTERS, 5), g.chars(LETTERS, 6));
        let inner = json!({"password": password}).to_string();
        let outer = json!({"level": "info", "payload": inner}).to_string();
        let pasted = serde_json::to_string(&inner).unwrap();
        for first in [outer, pasted] {
            let up = forward(&cfg, &[&first, &format!("it was {password} then")]);
            assert!(!survives(&up, &password), "{password}: {up}");
        }
    }
}

/// A password of lower-case letters and digits with a dot is not a code path when a segment
/// holds digits inside a longer word (`ta49dl.uoe`); code paths pass.
#[test]
fn dotted_passwords_with_inner_digits_are_passwords() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0005);
    for _ in 0..30 {
        let lower = b"abcdefghijklmnopqrstuvwxyz";
        let pw =
            format!("{}{}{}.{}", g.chars(lower, 2), g.chars(b"0123456789", 2), g.chars(lower, 2), g.chars(lower, 3));
        let up = forward(&cfg, &[&format!("passwd: {pw}")]);
        assert!(!survives(&up, &pw), "{pw}: {up}");
    }
    for path in ["settings.db_password", "config.k8s.token", "os.environ", "self.i18n.secret"] {
        let text = format!("password: {path}");
        assert!(forward(&cfg, &[&text]).contains(path), "{path}");
    }
    // A path that names no credential and starts from no receiver is a code path under a key
    // that is not a password's.
    let text = "token: charset.utf8";
    assert!(forward(&cfg, &[text]).contains("charset.utf8"), "{text}");
}

/// A password holding an `@` is masked whole, not only its part that reads as an address.
#[test]
fn passwords_with_an_at_sign_are_masked_whole() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0006);
    for _ in 0..30 {
        let pw = format!(
            "{}~{}*{}@9.{}",
            g.chars(LETTERS, 4),
            g.chars(LETTERS, 2),
            g.chars(LETTERS, 3),
            g.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3)
        );
        for text in [format!("DB_PASSWORD=\"{pw}\""), format!("password: {pw}")] {
            let up = forward(&cfg, &[&text]);
            assert!(!up.contains(pw.split('@').next().unwrap()), "{pw}: {up}");
        }
    }
}

/// An address of another script, percent-encoded in a form body, is masked where the encoded
/// value is repeated on its own.
#[test]
fn an_encoded_address_is_masked_where_it_is_repeated() {
    let cfg = cfg();
    for (local, domain) in
        [("%E7%94%A8%E6%88%B724", "novinlo.org"), ("%C3%A9lodie.m", "example.fr"), ("jane.roe", "example.com")]
    {
        let value = format!("{local}%40{domain}");
        let up = forward(&cfg, &[&format!("name=J&contact_email={value}&plan=pro"), &format!("again: {value}")]);
        assert!(!up.contains(&format!("40{domain}")), "{value}: {up}");
    }
}

/// A bearer token at the end of a sentence is masked without the full stop, so that the token
/// repeated on its own elsewhere is masked too.
#[test]
fn a_bearer_token_before_a_full_stop_is_masked_where_it_recurs() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0007);
    for _ in 0..20 {
        let token = g
            .chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._", 40)
            .trim_end_matches('.')
            .to_owned();
        let up = forward(&cfg, &[&format!("config: Authorization: Bearer {token}. Thanks."), &token]);
        assert!(!survives(&up, &token), "{token}: {up}");
        assert!(up.contains("]. Thanks."), "{up}");
    }
}

/// A key assigned inside markdown emphasis (`_AWS_SECRET_ACCESS_KEY=…_`) is masked without the
/// closing marker, so that the key repeated on its own is masked too.
#[test]
fn a_key_in_emphasis_is_masked_where_it_recurs() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0008);
    for _ in 0..20 {
        let key = format!(
            "{}7{}",
            g.chars(LETTERS, 20),
            g.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 19)
        );
        for (open, close) in [("_", "_"), ("**", "**"), ("*", "*")] {
            for name in ["AWS_SECRET_ACCESS_KEY", "SIGNING_KEY"] {
                let up =
                    forward(&cfg, &[&format!("Note {open}{name}={key}{close} here."), &format!("again {key} here")]);
                assert!(!survives(&up, &key), "{key}: {up}");
            }
        }
    }
}

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";

/// A password assigned to a password's key with a dot between a short head and a word-like tail
/// (`password=u.nwigqussu0`) is a password: under a password's key a dotted value is a code path
/// only when it reads as code (a receiver such as `self`/`config`, or a part naming a credential).
#[test]
fn dotted_values_under_a_password_key_are_passwords() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_0009);
    for _ in 0..30 {
        let pw = format!("{}.{}{}", g.chars(LOWER, 1), g.chars(LOWER, 9), g.chars(DIGITS, 1));
        for text in [format!("password={pw}"), format!("db_passwd: {pw}"), format!("SECRET={pw}")] {
            let up = forward(&cfg, &[&text]);
            assert!(!survives(&up, &pw), "{text}: {up}");
        }
    }
    for text in [
        "password = self.password",
        "password: config.db.password",
        "db_password = settings.postgres_pwd",
        "secret: ctx.auth",
        "token: client.session",
        "api_key: charset.utf8",
    ] {
        let value = text.rsplit(' ').next().unwrap();
        assert!(forward(&cfg, &[text]).contains(value), "{text}");
    }
}

/// A quoted value after a password key's `=` is a literal, even when it reads as an upper-case
/// name (`DB_PASSWORD="E8_PDKG-DH"`); references and stand-ins stay.
#[test]
fn quoted_values_after_password_equals_are_literals() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_000a);
    for _ in 0..30 {
        let pw = format!("{}{}_{}-{}", g.chars(UPPER, 1), g.chars(DIGITS, 1), g.chars(UPPER, 4), g.chars(UPPER, 2));
        let name = format!("{}_{}", g.chars(UPPER, 4), g.chars(UPPER, 5));
        for text in [format!("DB_PASSWORD=\"{pw}\""), format!("export SECRET='{name}'"), format!("password={pw}")] {
            let up = forward(&cfg, &[&text]);
            let value = text.rsplit('=').next().unwrap().trim_matches(['"', '\'']);
            assert!(!survives(&up, value), "{text}: {up}");
        }
    }
    for text in [
        "DB_PASSWORD=\"${DB_PASS}\"",
        "DB_PASSWORD=\"$PGPASS\"",
        "DB_PASSWORD=\"<your-password>\"",
        "DB_PASSWORD=\"********\"",
        "DB_PASSWORD=\"changeme\"",
        "DB_PASSWORD=\"Change_Me!\"",
        "ADMIN_PASSWORD='changeit'",
        "DB_PASSWORD=\"{{ db_password }}\"",
        "password: {{.Values.db.password}}",
        "password = get_password()",
        "password: DB_PASSWORD_VAR",
        "token: ACCESS_TOKEN_NAME",
    ] {
        assert!(survives(&forward(&cfg, &[text]), text), "{text}");
    }
}

/// Two short alphabet runs inside a password (`dxYzl_MN+5`, `rtWXy3gHia`) are chance; a value
/// that is mostly runs (`abcdef123`, `AbCdEfG`) stands for one.
#[test]
fn short_runs_inside_passwords_are_chance() {
    let cfg = cfg();
    let mut g = Gen(0x5eed_000b);
    let run = |g: &mut Gen, alphabet: &[u8], n: usize| {
        let start = g.chars(&alphabet[..alphabet.len() - n], 1).bytes().next().unwrap();
        (0..n as u8).map(|k| char::from(start + k)).collect::<String>()
    };
    for _ in 0..30 {
        let pw = format!(
            "{}{}{}_{}+{}",
            g.chars(LOWER, 1),
            run(&mut g, LOWER, 3),
            g.chars(LOWER, 1),
            run(&mut g, UPPER, 2),
            g.chars(DIGITS, 1)
        );
        // Digits between the parts keep the runs from joining by chance.
        let glued = format!(
            "{}{}{}{}{}{}{}",
            g.chars(DIGITS, 1),
            g.chars(LOWER, 1),
            g.chars(DIGITS, 1),
            run(&mut g, UPPER, 3),
            g.chars(DIGITS, 1),
            run(&mut g, LOWER, 3),
            g.chars(DIGITS, 1)
        );
        for text in
            [format!("password: {pw}"), format!("PASSWORD=\"{pw}\""), format!("{{\"db_password\":\"{glued}\"}}")]
        {
            let up = forward(&cfg, &[&text]);
            let value = if text.contains(&pw) { &pw } else { &glued };
            assert!(!survives(&up, value), "{text}: {up}");
        }
    }
    // The change-me words inside a longer random value are chance.
    for _ in 0..30 {
        let pw = format!("{}{}sETmE{}", g.chars(LOWER, 1), g.chars(DIGITS, 2), g.chars(LETTERS, 5));
        let pw2 = format!("{}changeme{}", g.chars(DIGITS, 2), g.chars(LETTERS, 6));
        for value in [pw, pw2] {
            let text = format!("CLIENT_SECRET: \"{value}\"");
            assert!(!survives(&forward(&cfg, &[&text]), &value), "{text}");
        }
    }
    for value in ["abcdef123", "AbCdEfG", "1234567890", "qabcdefgh"] {
        let text = format!("password: {value}");
        assert!(forward(&cfg, &[&text]).contains(value), "{text}");
    }
}
