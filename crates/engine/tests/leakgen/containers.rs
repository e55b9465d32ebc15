//! Structured documents pasted into a message or returned by a tool: JSON (compact, pretty,
//! escaped inside a JSON string), YAML, `.env` files, INI and TOML, XML elements and
//! attributes, HTTP headers, connection strings, CSV and markdown tables whose header names the
//! column, query strings (as written, and percent-encoded as a browser sends them), form
//! bodies, SQL `INSERT` statements with a column list and several rows, curl commands, Python and JavaScript literals, log lines and
//! Kubernetes-style name/value lists. Each entry puts a planted value under a key that names
//! it (`api_key`, `password`, `ssn`, `phone`, ...), beside ordinary entries whose values must
//! pass (commit hashes, UUIDs, digests, versions, counts under ordinary keys).
//!
//! The shapes follow each format's own specification or documentation (RFC 8259 JSON, YAML
//! 1.2, RFC 4180 CSV, RFC 9110 header fields, RFC 3986 query strings, the URL Standard's
//! `application/x-www-form-urlencoded` serializer, SQL's `INSERT ... VALUES` row lists, the
//! GitHub Flavored Markdown table extension); keys and values are made here, never taken from a data set.

use serde_json::{Map, Value as Json};

use super::rng::{Rng, ALNUM, HEX};
use super::text::{Keep, Plant, Planter};
use super::values::{password_value, value};

/// One entry of a document: its key, the value as written, and whether it is planted.
struct Entry {
    key: String,
    value: String,
    planted: bool,
}

/// The containers, each with the kinds of entry it can hold (`true`: only one-line values
/// without quotes or separators of its own are written into it).
pub const CONTAINERS: &[&str] = &[
    "json",
    "json-pretty",
    "json-in-json-string",
    "yaml",
    "env",
    "env-export",
    "env-quoted",
    "ini",
    "toml",
    "xml-element",
    "xml-attribute",
    "plist",
    "http-headers",
    "connection-string",
    "csv",
    "tsv",
    "markdown-table",
    "query-string",
    "query-string-encoded",
    "form-body",
    "sql-insert",
    "curl",
    "python-dict",
    "js-object",
    "log-line",
    "k8s-env",
    "cli-flags",
];

/// Keys that name a secret, in the spellings configuration files use: any value under them is
/// one (a password of a few characters too).
const SECRET_KEYS: &[&str] = &[
    "api_key",
    "apiKey",
    "client_secret",
    "clientSecret",
    "auth_token",
    "access_token",
    "password",
    "db_password",
    "secret",
    "secretKey",
    "private_key",
    "token",
];

/// Keys that name a credential only by what is under them (a key, a session): a random value
/// or a vendor token is one, a word is not.
const KEY_NAMES: &[&str] = &["signing_key", "encryption_key", "hmacKey", "session_id", "auth"];

/// Keys of ordinary values that must pass.
const PLAIN_KEYS: &[&str] = &["commit", "request_id", "sha256", "version", "region", "retries", "cache_key"];

fn pii_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "EMAIL" => &["email", "contact_email", "userEmail"],
        "PHONE" => &["phone", "mobile", "phone_number", "tel"],
        "US_SSN" => &["ssn", "social_security_number"],
        "CREDIT_CARD" => &["card_number", "cc_number", "card"],
        "IBAN" => &["iban", "bank_iban"],
        _ => &["ip", "client_ip", "host_ip"],
    }
}

/// `v` as the URL Standard's `application/x-www-form-urlencoded` serializer writes it: a
/// space as `+`, every byte but letters, digits and `*-._` as `%XX`.
pub fn form_encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `api_key` -> `API_KEY`, `apiKey` -> `APIKEY` (environment variables).
fn upper_snake(key: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase();
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `api_key` -> `Api-Key` (header field names).
fn header_name(key: &str) -> String {
    upper_snake(key)
        .split('_')
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut c = lower.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A secret value as people paste them, with a key that names it: a password (under a key
/// that says so), a generic random key, or a vendor token.
fn secret(rng: &mut Rng) -> (String, String, String) {
    let which = rng.below(3);
    let keys = if which == 0 || rng.chance(1, 2) { SECRET_KEYS } else { KEY_NAMES };
    let key = (*rng.pick(keys)).to_owned();
    let (format, v) = secret_value(rng, which);
    (key, format, v)
}

fn secret_value(rng: &mut Rng, which: usize) -> (String, String) {
    match which {
        0 => ("password".into(), password_value(rng)),
        1 => {
            let n = rng.range(32, 40);
            ("random-key".into(), rng.chars(ALNUM, n))
        }
        _ => loop {
            let v = value(rng);
            if v.kind.starts_with("SECRET/") && v.kind != "SECRET/aws-secret-key" && v.kind != "SECRET/slack-webhook" {
                break (v.kind.trim_start_matches("SECRET/").to_owned(), v.text);
            }
        },
    }
}

/// A personal value, bare (no lead, no wrapping): the key is its only context.
fn personal(rng: &mut Rng) -> Option<(String, String, String)> {
    let v = value(rng);
    let bare = matches!(v.kind.as_str(), "EMAIL" | "PHONE" | "US_SSN" | "CREDIT_CARD" | "IBAN" | "IP_ADDRESS");
    let written = v.needles.first()?.clone();
    // Display names, ports and CIDR suffixes are written elsewhere; here only the value.
    (bare && !written.contains(['"', ','])).then_some((v.kind, v.format, written))
}

fn plain(rng: &mut Rng, key: &str) -> String {
    match key {
        "commit" => rng.chars(HEX, 40),
        "request_id" => format!(
            "{}-{}-4{}-{}{}-{}",
            rng.chars(HEX, 8),
            rng.chars(HEX, 4),
            rng.chars(HEX, 3),
            rng.pick(&['8', '9', 'a', 'b']),
            rng.chars(HEX, 3),
            rng.chars(HEX, 12)
        ),
        "sha256" => rng.chars(HEX, 64),
        "cache_key" => rng.chars(HEX, 40),
        "version" => format!("{}.{}.{}", rng.range(0, 9), rng.range(0, 30), rng.range(0, 20)),
        "region" => (*rng.pick(&["eu-west-1", "us-east-2", "ap-south-1"])).to_owned(),
        _ => rng.range(1, 9).to_string(),
    }
}

impl Planter {
    /// A structured document with one to three planted values under keys that name them and
    /// one or two ordinary entries, in a random container; every planted value is recorded.
    pub fn structured(&mut self, field: &str) -> String {
        let container = *self.rng.pick(CONTAINERS);
        self.structured_as(field, container)
    }

    /// A JSON object of labelled entries, as text (tool arguments and results).
    pub fn structured_json(&mut self, field: &str) -> String {
        let container = *self.rng.pick(&["json", "json-pretty"]);
        self.structured_as(field, container)
    }

    fn structured_as(&mut self, field: &str, container: &'static str) -> String {
        let secrets_only = matches!(container, "connection-string" | "cli-flags");
        let mut entries = Vec::new();
        let mut planted: Vec<(String, String, String)> = Vec::new();
        for _ in 0..self.rng.range(1, 3) {
            let pii = if secrets_only || self.rng.chance(1, 2) { None } else { personal(&mut self.rng) };
            let (key, kind, format, v) = match pii {
                Some((kind, format, v)) => ((*self.rng.pick(pii_keys(&kind))).to_owned(), kind, format, v),
                None => {
                    let (key, format, v) = secret(&mut self.rng);
                    (key, "SECRET/keyed".to_owned(), format, v)
                }
            };
            // A key used twice would drop an entry from JSON.
            if entries.iter().any(|e: &Entry| e.key == key) {
                continue;
            }
            // Percent-encoded containers carry the value as the browser sent it: that is what
            // must not pass, and what a restore gives back.
            let v = if matches!(container, "query-string-encoded" | "form-body") { form_encode(&v) } else { v };
            planted.push((kind, format, v.clone()));
            entries.push(Entry { key, value: v, planted: true });
        }
        for _ in 0..self.rng.range(1, 2) {
            let key = *self.rng.pick(PLAIN_KEYS);
            if entries.iter().any(|e| e.key == key) {
                continue;
            }
            let v = plain(&mut self.rng, key);
            let at = self.rng.below(entries.len() + 1);
            entries.insert(at, Entry { key: key.to_owned(), value: v, planted: false });
        }
        let text = render(&mut self.rng, container, &entries);
        let label = self.field_label(field);
        for (kind, format, v) in planted {
            self.plants.push(Plant {
                kind,
                format: format!("{container} {format}"),
                wrap: "none",
                form: "ascii",
                position: "structured",
                field: label.clone(),
                snippet: text.clone(),
                needles: vec![v.clone()],
                masked: v,
            });
        }
        for e in entries.iter().filter(|e| !e.planted) {
            self.keeps.push(Keep {
                kind: format!("structured/{container}/{}", e.key),
                field: label.clone(),
                text: e.value.clone(),
            });
        }
        text
    }
}

fn json_object(entries: &[Entry]) -> Json {
    let mut m = Map::new();
    for e in entries {
        m.insert(e.key.clone(), Json::String(e.value.clone()));
    }
    Json::Object(m)
}

/// The entries written in `container`'s syntax.
fn render(rng: &mut Rng, container: &str, entries: &[Entry]) -> String {
    let lines = |f: &dyn Fn(&Entry) -> String| entries.iter().map(f).collect::<Vec<_>>().join("\n");
    match container {
        "json" => json_object(entries).to_string(),
        "json-pretty" => serde_json::to_string_pretty(&json_object(entries)).unwrap_or_default(),
        "json-in-json-string" => {
            // A log or an API that carries a JSON document as a string value.
            let inner = json_object(entries).to_string();
            let mut outer = Map::new();
            outer.insert("level".into(), Json::String("info".into()));
            outer.insert("payload".into(), Json::String(inner));
            let doc = Json::Object(outer).to_string();
            if rng.chance(1, 2) {
                doc
            } else {
                // Pasted as a string literal, escapes and all.
                Json::String(json_object(entries).to_string()).to_string()
            }
        }
        "yaml" => format!("service:\n{}", lines(&|e| format!("  {}: {}", e.key, e.value))),
        "env" => lines(&|e| format!("{}={}", upper_snake(&e.key), e.value)),
        "env-export" => lines(&|e| format!("export {}={}", upper_snake(&e.key), e.value)),
        "env-quoted" => lines(&|e| format!("{}=\"{}\"", upper_snake(&e.key), e.value)),
        "ini" => format!("[default]\n{}", lines(&|e| format!("{} = {}", e.key, e.value))),
        "toml" => format!("[service]\n{}", lines(&|e| format!("{} = \"{}\"", e.key, e.value))),
        "xml-element" => {
            format!("<config>\n{}\n</config>", lines(&|e| format!("  <{k}>{v}</{k}>", k = e.key, v = e.value)))
        }
        "xml-attribute" => {
            let attrs: Vec<String> = entries.iter().map(|e| format!("{}=\"{}\"", e.key, e.value)).collect();
            format!("<account {} />", attrs.join(" "))
        }
        "plist" => format!(
            "<dict>\n{}\n</dict>",
            lines(&|e| format!("  <key>{}</key>\n  <string>{}</string>", e.key, e.value))
        ),
        "http-headers" => format!(
            "POST /v1/sync HTTP/1.1\nHost: api.example.net\n{}\nContent-Type: application/json",
            lines(&|e| format!("X-{}: {}", header_name(&e.key), e.value))
        ),
        "connection-string" => {
            let parts: Vec<String> = entries.iter().map(|e| format!("{}={}", header_name(&e.key), e.value)).collect();
            format!("Server=db.internal;Database=app;User Id=svc;{};", parts.join(";"))
        }
        "csv" | "tsv" | "markdown-table" => {
            let sep = match container {
                "csv" => ",",
                "tsv" => "\t",
                _ => " | ",
            };
            let mut keys = vec!["id".to_owned(), "name".to_owned()];
            keys.extend(entries.iter().map(|e| e.key.clone()));
            let row = |cells: Vec<String>| {
                let joined = cells.join(sep);
                if container == "markdown-table" {
                    format!("| {joined} |")
                } else {
                    joined
                }
            };
            let mut out = vec![row(keys.clone())];
            if container == "markdown-table" {
                out.push(row(keys.iter().map(|_| "---".to_owned()).collect()));
            }
            // The planted row comes after others, out of reach of the header's context words.
            let before = rng.range(0, 12);
            for i in 0..before {
                let mut cells = vec![(i + 1).to_string(), format!("user{}", i + 1)];
                cells.extend(entries.iter().map(|_| "-".to_owned()));
                out.push(row(cells));
            }
            let mut cells = vec![(before + 1).to_string(), "svc".to_owned()];
            cells.extend(entries.iter().map(|e| e.value.clone()));
            out.push(row(cells));
            out.join("\n")
        }
        "query-string" => {
            let q: Vec<String> = entries.iter().map(|e| format!("{}={}", e.key, e.value)).collect();
            format!("https://app.example.net/callback?{}&page=2", q.join("&"))
        }
        "query-string-encoded" => {
            let q: Vec<String> = entries.iter().map(|e| format!("{}={}", e.key, e.value)).collect();
            format!("Opened https://app.example.net/account?{}&lang=en-GB#top", q.join("&"))
        }
        "form-body" => {
            let q: Vec<String> = entries.iter().map(|e| format!("{}={}", e.key, e.value)).collect();
            format!("The form posted this body:\n{}&submit=Save+changes", q.join("&"))
        }
        "sql-insert" => {
            // Rows before the planted one, of harmless values, and sometimes one after.
            // A number is written bare now and then (an SSN or a phone kept as digits).
            let bare: Vec<bool> =
                entries.iter().map(|e| e.value.bytes().all(|b| b.is_ascii_digit()) && rng.chance(1, 2)).collect();
            let quoted = |v: &str, bare: bool| if bare { v.to_owned() } else { format!("'{}'", v.replace('\'', "''")) };
            let cols: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
            let mut rows = Vec::new();
            for i in 0..rng.range(0, 3) {
                let mut cells = vec![(i + 1).to_string()];
                cells.extend(entries.iter().map(|_| "NULL".to_owned()));
                rows.push(format!("({})", cells.join(", ")));
            }
            let mut cells = vec![(rows.len() + 1).to_string()];
            cells.extend(entries.iter().zip(&bare).map(|(e, &b)| quoted(&e.value, b)));
            rows.push(format!("({})", cells.join(", ")));
            if rng.chance(1, 2) {
                let mut cells = vec![(rows.len() + 1).to_string()];
                cells.extend(entries.iter().map(|_| "'n/a'".to_owned()));
                rows.push(format!("({})", cells.join(", ")));
            }
            let statement = if rng.chance(1, 2) { "INSERT INTO" } else { "insert into" };
            let values = if rng.chance(1, 2) { "VALUES" } else { "values" };
            format!("{statement} app.accounts (id, {})\n{values} {};", cols.join(", "), rows.join(",\n  "))
        }
        "curl" => {
            let h: Vec<String> =
                entries.iter().map(|e| format!("  -H \"X-{}: {}\" \\", header_name(&e.key), e.value)).collect();
            format!("curl -X POST https://api.example.net/v1/sync \\\n{}\n  -d '{{}}'", h.join("\n"))
        }
        "python-dict" => {
            let items: Vec<String> = entries.iter().map(|e| format!("'{}': '{}'", e.key, e.value)).collect();
            format!("config = {{{}}}", items.join(", "))
        }
        "js-object" => {
            let items: Vec<String> = entries.iter().map(|e| format!("  {}: '{}',", e.key, e.value)).collect();
            format!("const config = {{\n{}\n}};", items.join("\n"))
        }
        "log-line" => {
            let kv: Vec<String> = entries.iter().map(|e| format!("{}={}", e.key, e.value)).collect();
            format!("2025-03-14T09:26:53Z INFO sync started {} status=ok", kv.join(" "))
        }
        "k8s-env" => {
            format!("env:\n{}", lines(&|e| format!("  - name: {}\n    value: \"{}\"", upper_snake(&e.key), e.value)))
        }
        _ => {
            let flags: Vec<String> = entries
                .iter()
                .map(|e| format!("--{} {}", upper_snake(&e.key).replace('_', "-").to_ascii_lowercase(), e.value))
                .collect();
            format!("sync-tool {}", flags.join(" "))
        }
    }
}
