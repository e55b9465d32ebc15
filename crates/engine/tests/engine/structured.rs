//! Values in structured text people paste into a message or a tool returns: JSON documents
//! (whole content, nested, escaped in a JSON string, pretty-printed), YAML, `.env` files,
//! INI/TOML, XML, HTTP headers, connection strings, tables whose header names the column,
//! query strings, curl commands, Python and JavaScript literals, log lines, name/value lists.
//! A value the filter masks in prose is masked in each of them; look-alikes under ordinary keys
//! (hashes, UUIDs, versions, counts, settings about a secret) pass.
//!
//! Values were written for this project: random-looking keys typed here, documentation
//! addresses (RFC 2606), SSNs that pass the SSA's structural rules, NANP numbers of the
//! 555 exchange.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::guard_request;
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::vault::Vault;
use serde_json::{json, Value};

const KEY: &str = "yQgM7rT2vLp9XcWb3NkZs8HdFj4QaRe6";
const PASSWORD: &str = "Hunter2xQ9z!";

fn cfg() -> FilterConfig {
    FilterConfig::from_json(b"{}").unwrap()
}

/// What the upstream receives as the user message's content.
fn forwarded(cfg: &FilterConfig, content: &str) -> String {
    let body = json!({"model": "m", "messages": [{"role": "user", "content": content}]});
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let bytes = body.to_string();
    let out =
        guard_request(cfg, cfg.classify("/v1/chat/completions"), bytes.as_bytes(), true, &mut vault, MemoScope::NONE)
            .unwrap_or_else(|r| panic!("refused: {r}"));
    let up = out.body.map(|b| String::from_utf8(b).unwrap()).unwrap_or(bytes);
    let v: Value = serde_json::from_str(&up).unwrap();
    v["messages"][0]["content"].as_str().unwrap().to_owned()
}

fn assert_masked(cases: &[(String, &str)]) {
    let cfg = cfg();
    for (text, value) in cases {
        let out = forwarded(&cfg, text);
        assert!(!out.contains(value), "{value} survived in {text:?}: {out:?}");
    }
}

fn assert_kept(texts: &[&str]) {
    let cfg = cfg();
    for text in texts {
        assert_eq!(forwarded(&cfg, text), *text, "changed");
    }
}

#[test]
fn a_json_document_as_the_whole_content_is_read_with_its_keys() {
    // The reported case: the same value after `api_key: ` was masked, inside a pasted JSON
    // document it was not (the document was walked as structure and each value read alone).
    let cases = [
        (format!("{{\"api_key\": \"{KEY}\"}}"), KEY),
        (format!("{{\"config\": {{\"client_secret\": \"{KEY}\"}}}}"), KEY),
        (format!("[{{\"password\": \"{PASSWORD}\"}}]"), PASSWORD),
        (format!("{{\n  \"user\": \"svc\",\n  \"secretKey\": \"{KEY}\"\n}}"), KEY),
        (json!({"level": "info", "payload": json!({"auth_token": KEY}).to_string()}).to_string(), KEY),
        (serde_json::to_string(&json!({"apiKey": KEY}).to_string()).unwrap(), KEY),
        (format!("{{\"name\": \"DB_PASSWORD\", \"value\": \"{PASSWORD}\"}}"), PASSWORD),
        ("{\"ssn\": \"536904411\"}".to_owned(), "536904411"),
        ("{\"phone\": \"4155550134\"}".to_owned(), "4155550134"),
        (format!("{{\"signing_key\": \"{KEY}\"}}"), KEY),
        (format!("{{\"auth\": \"{KEY}\"}}"), KEY),
    ];
    assert_masked(&cases);
}

#[test]
fn configuration_formats_mask_the_value_of_a_secret_key() {
    let cases = [
        (format!("service:\n  api_key: {KEY}\n  debug: true"), KEY),
        (format!("- secretKey: '{KEY}'"), KEY),
        (format!("export OPENAI_API_KEY={KEY}"), KEY),
        (format!("SECRETKEY=\"{KEY}\""), KEY),
        (format!("SIGNING_KEY={KEY}"), KEY),
        (format!("[default]\nclient_secret = {KEY}"), KEY),
        (format!("[db]\npassword = \"{PASSWORD}\""), PASSWORD),
        (format!("spring.datasource.password={PASSWORD}"), PASSWORD),
        (format!("<config><db_password>{PASSWORD}</db_password></config>"), PASSWORD),
        (format!("<user apiKey=\"{KEY}\" />"), KEY),
        (format!("<key>auth_token</key>\n<string>{KEY}</string>"), KEY),
        (format!("env:\n  - name: DB_PASSWORD\n    value: \"{PASSWORD}\""), PASSWORD),
        (format!("Server=db;Database=app;User Id=sa;Password={PASSWORD};"), PASSWORD),
        (format!("config = {{'password': '{PASSWORD}'}}"), PASSWORD),
        (format!("const cfg = {{ secretKey: '{KEY}' }};"), KEY),
        (format!("os.environ['API_KEY'] = '{KEY}'"), KEY),
    ];
    assert_masked(&cases);
}

#[test]
fn requests_logs_and_commands_mask_credentials() {
    let cases = [
        (format!("GET /v1 HTTP/1.1\nHost: api.example.net\nX-API-Key: {KEY}"), KEY),
        (format!("Cookie: session={KEY}; theme=dark"), KEY),
        (format!("curl -H 'X-Auth-Token: {KEY}' https://api.example.net"), KEY),
        (format!("mytool --client-secret {KEY} --verbose"), KEY),
        (format!("mytool --hmac-key {KEY}"), KEY),
        (format!("https://api.example.net/v1?api_key={KEY}&page=2"), KEY),
        (format!("2025-03-14 INFO user=jane password={PASSWORD} status=ok"), PASSWORD),
        ("https://app.example.net/search?email=jane.roe@example.com&page=2".to_owned(), "jane.roe@example.com"),
    ];
    assert_masked(&cases);
}

#[test]
fn tables_whose_header_names_the_column_mask_every_row() {
    let mut csv = String::from("id,name,ssn,api_key\n");
    for i in 0..20 {
        csv.push_str(&format!("{i},user{i},53690{:04},-\n", 4411 + i));
    }
    csv.push_str(&format!("21,svc,536904499,{KEY}\n"));
    let md = format!("| user | password |\n|---|---|\n| jane | {PASSWORD} |");
    let tsv = "name\tphone\nJane\t4155550134".to_owned();
    let pairs = format!("| client_secret | {KEY} |");
    assert_masked(&[
        (csv.clone(), "536904499"),
        (csv, KEY),
        (md, PASSWORD),
        (tsv, "4155550134"),
        (pairs, KEY),
        (format!("name;token;city\nJane;{KEY};Paris"), KEY),
    ]);
}

#[test]
fn look_alikes_in_the_same_containers_pass() {
    assert_kept(&[
        "{\"token_count\": \"12345678\"}",
        "{\"sha256\": \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}",
        "{\"request_id\": \"3f2504e0-4f89-41d3-9a0c-0305e82c3301\"}",
        "{\"password_min_length\": \"12\", \"token_type\": \"Bearer\"}",
        "{\"cache_key\": \"9fceb02d0ae598e95dc970b74767f19372d61af8\"}",
        "{\"primary_key\": \"Xk29fLq81ZrT0pWm4Ns7Vb3Hc6Jd\"}",
        "request_id = 7d4a0e9d-0804-4330-8507-e2a96245f483",
        "mytool --token-file /etc/app/token.txt",
        "docker login --password-stdin",
        "<password>required</password>",
        "| field | password |\n|---|---|\n| type | string |",
        "password | confirm | hint\nrequired | required | optional",
        "name,token_type,expires\nalice,bearer,3600",
        "key,value\ntimeout,30\nretries,5",
        "the password reset link expired yesterday",
        "tokenizer: cl100k_base",
        "SECRET_KEY_BASE=${SECRET_KEY_BASE}",
        "--password $DB_PASSWORD",
        "The token bucket algorithm refills at a fixed rate.",
        "Press the key is what the manual says.",
    ]);
}

#[test]
fn masked_json_documents_stay_json() {
    let cfg = cfg();
    let doc = json!({"db": {"password": PASSWORD, "host": "db.internal"}, "retries": 3});
    let out = forwarded(&cfg, &doc.to_string());
    let back: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(back["retries"], 3);
    assert_eq!(back["db"]["host"], "db.internal");
    assert_ne!(back["db"]["password"], PASSWORD);
}

#[test]
fn a_form_body_reads_each_value_with_its_name() {
    use prompt_guard_engine::exchange::{guard_request_as, BodyKind};
    let cfg = cfg();
    let body = format!("user=jane&password={PASSWORD}&api_key={KEY}&page=2");
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let out =
        guard_request_as(&cfg, cfg.classify("/v1/forms"), body.as_bytes(), BodyKind::Form, &mut vault, MemoScope::NONE)
            .unwrap_or_else(|r| panic!("refused: {r}"));
    let up = String::from_utf8(out.body.expect("masked")).unwrap();
    assert!(!up.contains(PASSWORD) && !up.contains(KEY), "{up}");
    assert!(up.starts_with("user=jane&password=") && up.ends_with("&page=2"), "{up}");
}

#[test]
fn sql_insert_rows_are_read_with_their_column_names() {
    let sql = format!(
        "INSERT INTO customers (id, name, email, phone, ssn, api_key)\nVALUES (1, 'Jane', 'jane.roe@example.com', \
         '4155550134', '536904411', NULL),\n       (2, 'Svc', 'ops@example.org', '4155550199', '536904412', '{KEY}');"
    );
    for value in ["jane.roe@example.com", "4155550134", "536904411", "4155550199", "536904412", KEY] {
        assert_masked(&[(sql.clone(), value)]);
    }
    // Columns that name nothing, and statements without a column list, pass as written.
    assert_kept(&[
        "INSERT INTO orders (id, qty, sku) VALUES (1, 4155550134, 'A-536904411');",
        "INSERT INTO orders VALUES (1, 4155550134);",
    ]);
}

/// The user message's content forwarded, and the vault's originals.
fn forwarded_with_originals(content: &str) -> (String, Vec<String>) {
    let cfg = cfg();
    let body = json!({"model": "m", "messages": [{"role": "user", "content": content}]}).to_string();
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let out =
        guard_request(&cfg, cfg.classify("/v1/chat/completions"), body.as_bytes(), true, &mut vault, MemoScope::NONE)
            .unwrap_or_else(|r| panic!("refused: {r}"));
    let up: Value = serde_json::from_slice(&out.body.unwrap_or_else(|| body.into_bytes())).unwrap();
    let originals = vault.entries().iter().map(|e| e.original.clone()).collect();
    (up["messages"][0]["content"].as_str().unwrap().to_owned(), originals)
}

#[test]
fn percent_encoded_values_are_masked_as_written() {
    let cases = [
        ("https://app.example.net/cb?email=jane.roe%40example.com&page=2", "jane.roe%40example.com"),
        ("Sent: phone=%2B1+415+555+0134&plan=pro", "%2B1+415+555+0134"),
        ("https://shop.example.net/pay?card=4111+1111+1111+1111&exp=12%2F29", "4111+1111+1111+1111"),
        ("POST /signup body: name=Jane&iban=DE89+3704+0044+0532+0130+00&terms=on", "DE89+3704+0044+0532+0130+00"),
    ];
    for (text, value) in cases {
        let (out, originals) = forwarded_with_originals(text);
        assert!(!out.contains(value), "{value} survived in {text:?}: {out:?}");
        // The placeholder stands for what the user wrote: restoring gives the encoded bytes back.
        assert!(originals.iter().any(|o| o == value), "{originals:?}");
    }
    // Encoded values that are not personal pass.
    assert_kept(&[
        "https://example.net/search?q=rock+and+roll&page=2",
        "https://example.net/login?next=%2Fhome%2Fsettings&lang=en",
        "price=10+2&qty=3",
    ]);
}

#[test]
fn a_raw_plus_in_a_query_value_does_not_split_it() {
    // Pasted without encoding: the `+` is the value's own, and the value is masked whole.
    let value = "GG6H^+z4lXbqKQ9B16";
    let (out, originals) = forwarded_with_originals(&format!("https://app.example.net/cb?password={value}&page=2"));
    assert!(!out.contains("z4lXbqKQ9B16"), "{out}");
    assert!(originals.iter().any(|o| o == value), "{originals:?}");
}
