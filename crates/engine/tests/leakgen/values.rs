//! The values planted in requests (each must be masked) and the look-alikes planted beside them
//! (each must pass unchanged). Every value is made here from the format its owner publishes:
//! e-mail (RFC 5322 addr-spec, RFC 6531 internationalised, RFC 3492 punycode domains), phone
//! numbers (ITU-T E.164 and each country's national notation: NANP, UK Ofcom, German, French,
//! Indian numbering plans), US SSN (SSA structure: area not 000/666/9xx, group and serial not
//! zero), payment cards (ISO/IEC 7812 Luhn with the networks' published prefixes), IBAN (ISO 13616
//! mod-97 with the SWIFT registry lengths), IPv4/IPv6 (RFC 5737 and RFC 3849 documentation
//! ranges, RFC 1918 private ranges), vendor secrets (each vendor's documented prefix and body
//! alphabet, random bodies, never a real key), PEM (RFC 7468) and OpenSSH private key blocks,
//! JWTs (RFC 7519), password assignments and prose. Names are made from syllables, not from any
//! name list.

use base64::Engine as _;

use super::rng::{Rng, ALNUM, BASE64, BASE64URL, DIGITS, HEX, LOWER, UPPER};

/// A value planted in a text: where it came from, and what must not reach the upstream.
#[derive(Debug, Clone)]
pub struct Value {
    /// Entity family: `EMAIL`, `PHONE`, `US_SSN`, `CREDIT_CARD`, `IBAN`, `IP_ADDRESS`,
    /// `SECRET/<vendor>`, `PRIVATE_KEY`, `PASSWORD`.
    pub kind: String,
    /// How it is written, e.g. `uk-national`, `e164-compact`, `dashes`.
    pub format: String,
    /// The value as written in the text.
    pub text: String,
    /// Strings that must not appear in the forwarded body (the secret part of the value).
    pub needles: Vec<String>,
    /// Words that must come before the value for it to be this kind at all (a bare nine-digit
    /// number is an SSN only when called one); empty when the value stands alone.
    pub needs_lead: Vec<&'static str>,
    /// Leads that fit (one is chosen when `needs_lead` is empty, sometimes none).
    pub leads: Vec<&'static str>,
}

impl Value {
    fn new(kind: &str, format: &str, text: String) -> Value {
        Value {
            kind: kind.to_owned(),
            format: format.to_owned(),
            needles: vec![text.clone()],
            text,
            needs_lead: Vec::new(),
            leads: Vec::new(),
        }
    }

    fn leads(mut self, leads: &[&'static str]) -> Value {
        self.leads = leads.to_vec();
        self
    }

    fn needs(mut self, leads: &[&'static str]) -> Value {
        self.needs_lead = leads.to_vec();
        self
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "tor", "bel", "sa", "vin", "dra", "ul", "fen", "ori", "pas", "zel", "mar", "tis", "no",
    "quo", "bri", "hal", "ves", "una", "gor", "lem",
];

/// A made-up name part of 2-3 syllables.
pub fn name(rng: &mut Rng) -> String {
    let n = rng.range(2, 3);
    (0..n).map(|_| *rng.pick(SYLLABLES)).collect()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn email(rng: &mut Rng) -> Value {
    let (first, last) = (name(rng), name(rng));
    let local = match rng.below(5) {
        0 => format!("{first}.{last}"),
        1 => format!("{first}_{last}+{}", rng.chars(LOWER, 4)),
        2 => format!("{}{last}{}", &first[..1], rng.digits(2)),
        3 => format!("{first}-{}", rng.digits(3)),
        _ => first.clone(),
    };
    let tld = *rng.pick(&["com", "org", "net", "io", "de", "fr", "co.uk", "in"]);
    let domain = format!("{}.{tld}", name(rng));
    let leads: &[&'static str] = &["", "Email me at ", "Contact: ", "reply to ", "my address is "];
    match rng.below(8) {
        0 => Value::new("EMAIL", "upper", format!("{local}@{domain}").to_uppercase()).leads(leads),
        1 => {
            let v = Value::new("EMAIL", "mailto", format!("mailto:{local}@{domain}")).leads(&[""]);
            Value { needles: vec![format!("{local}@{domain}")], ..v }
        }
        2 => {
            let addr = format!("{local}@{domain}");
            let v =
                Value::new("EMAIL", "display-name", format!("{} {} <{addr}>", capitalise(&first), capitalise(&last)));
            Value { needles: vec![addr], ..v.leads(&["From: ", "To: ", ""]) }
        }
        3 => {
            // RFC 3492 punycode of an internationalised domain (ASCII on the wire).
            let d = *rng.pick(&["xn--bcher-kva.de", "xn--mller-kva.ch", "xn--caf-dma.fr", "xn--80ak6aa92e.com"]);
            Value::new("EMAIL", "idn-punycode", format!("{local}@{d}")).leads(leads)
        }
        4 => {
            let d = *rng.pick(&["bücher.de", "müller.ch", "café.fr", "пример.рф", "例え.jp"]);
            Value::new("EMAIL", "idn-unicode-domain", format!("{local}@{d}")).leads(leads)
        }
        5 => {
            let l = *rng.pick(&["josé", "zoë.müller", "søren", "δοκιμή", "用户"]);
            Value::new("EMAIL", "unicode-local", format!("{l}{}@{domain}", rng.digits(2))).leads(leads)
        }
        _ => Value::new("EMAIL", "plain", format!("{local}@{domain}")).leads(leads),
    }
}

const PHONE_LEADS: &[&str] = &["Phone: ", "call me on ", "mobile ", "tel. ", "reach me at ", "my cell is "];

fn nz(rng: &mut Rng) -> char {
    *rng.pick(&['2', '3', '4', '5', '6', '7', '8', '9'])
}

fn phone(rng: &mut Rng) -> Value {
    // NANP: NXX-NXX-XXXX with the 555-01XX fictional block or random exchanges.
    let area = format!("{}{}", nz(rng), rng.digits(2));
    let exch = format!("{}{}", nz(rng), rng.digits(2));
    let line = rng.digits(4);
    let both = PHONE_LEADS;
    match rng.below(16) {
        0 => Value::new("PHONE", "us-parens", format!("({area}) {exch}-{line}")).leads(both),
        1 => Value::new("PHONE", "us-dashes", format!("{area}-{exch}-{line}")).leads(both),
        2 => Value::new("PHONE", "us-dots", format!("{area}.{exch}.{line}")).leads(both),
        3 => Value::new("PHONE", "us-e164", format!("+1 {area} {exch} {line}")).leads(both),
        4 => Value::new("PHONE", "us-e164-compact", format!("+1{area}{exch}{line}")).leads(both),
        5 => Value::new("PHONE", "us-compact", format!("{area}{exch}{line}")).needs(PHONE_LEADS),
        6 => {
            // Ofcom drama ranges: 020 7946 0xxx (London), 07700 900xxx (mobile).
            if rng.chance(1, 2) {
                Value::new("PHONE", "uk-national", format!("020 7946 0{}", rng.digits(3))).leads(both)
            } else {
                Value::new("PHONE", "uk-mobile", format!("07700 900{}", rng.digits(3))).leads(both)
            }
        }
        7 => Value::new("PHONE", "uk-e164", format!("+44 20 7946 0{}", rng.digits(3))).leads(both),
        8 => Value::new("PHONE", "uk-e164-compact", format!("+447700900{}", rng.digits(3))).leads(both),
        9 => {
            let city = *rng.pick(&["030", "040", "089", "069", "0221"]);
            Value::new("PHONE", "de-national", format!("{city} {}", rng.digits(8))).leads(both)
        }
        10 => {
            let mobile = *rng.pick(&["0151", "0160", "0171", "0176"]);
            let n = rng.digits(8);
            if rng.chance(1, 2) {
                Value::new("PHONE", "de-e164", format!("+49 {} {n}", &mobile[1..])).leads(both)
            } else {
                Value::new("PHONE", "de-mobile", format!("{mobile} {n}")).leads(both)
            }
        }
        11 => {
            let p = format!("0{}", rng.range(1, 7));
            let pairs: Vec<String> = (0..4).map(|_| rng.digits(2)).collect();
            Value::new("PHONE", "fr-national", format!("{p} {}", pairs.join(" "))).leads(both)
        }
        12 => {
            let pairs: Vec<String> = (0..4).map(|_| rng.digits(2)).collect();
            if rng.chance(1, 2) {
                Value::new("PHONE", "fr-e164", format!("+33 {} {}", rng.range(1, 7), pairs.join(" "))).leads(both)
            } else {
                Value::new("PHONE", "fr-e164-compact", format!("+33{}{}", rng.range(6, 7), pairs.concat())).leads(both)
            }
        }
        13 => {
            let m = format!("{}{}", rng.pick(&['6', '7', '8', '9']), rng.digits(4));
            Value::new("PHONE", "in-e164", format!("+91 {m} {}", rng.digits(5))).leads(both)
        }
        14 => {
            let m = format!("{}{}", rng.pick(&['6', '7', '8', '9']), rng.digits(4));
            if rng.chance(1, 2) {
                Value::new("PHONE", "in-mobile", format!("{m} {}", rng.digits(5))).leads(both)
            } else {
                Value::new("PHONE", "in-e164-compact", format!("+91{m}{}", rng.digits(5))).leads(both)
            }
        }
        _ => Value::new("PHONE", "us-e164-dashes", format!("+1-{area}-{exch}-{line}")).leads(both),
    }
}

fn ssn_parts(rng: &mut Rng) -> (String, String, String) {
    let area = loop {
        let a = rng.range(1, 899);
        if a != 666 {
            break a;
        }
    };
    (format!("{area:03}"), format!("{:02}", rng.range(1, 99)), format!("{:04}", rng.range(1, 9999)))
}

fn ssn(rng: &mut Rng) -> Value {
    let (a, g, s) = ssn_parts(rng);
    match rng.below(5) {
        0 => Value::new("US_SSN", "spaced", format!("{a} {g} {s}")).needs(&["SSN ", "social security number "]),
        1 => Value::new("US_SSN", "bare", format!("{a}{g}{s}")).needs(&["SSN: ", "SSN ", "social security no. "]),
        2 => Value::new("US_SSN", "dashed-quoted", format!("\"{a}-{g}-{s}\"")).leads(&["", "ssn ", "SSN is "]),
        3 => Value::new("US_SSN", "dashed-parens", format!("({a}-{g}-{s})")).leads(&["", "SSN "]),
        _ => Value::new("US_SSN", "dashed", format!("{a}-{g}-{s}")).leads(&["", "SSN ", "social security number "]),
    }
    .fix_needle_digits()
}

impl Value {
    /// For values written with quotes or parentheses around them, the needle is the inside.
    fn fix_needle_digits(mut self) -> Value {
        let inner = self.text.trim_matches(|c| c == '"' || c == '(' || c == ')').to_owned();
        self.needles = vec![inner];
        self
    }
}

/// Digits completed with a Luhn check digit.
pub fn luhn_complete(prefix: &str, len: usize, rng: &mut Rng) -> String {
    let mut d = prefix.to_owned();
    d.push_str(&rng.digits(len - 1 - prefix.len()));
    let mut sum = 0;
    // The check digit will be the rightmost: double every second digit from the right of it.
    for (i, c) in d.bytes().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    d.push(char::from(b'0' + ((10 - sum % 10) % 10) as u8));
    d
}

fn group(digits: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    for &n in sizes {
        out.push(&digits[i..(i + n).min(digits.len())]);
        i += n;
    }
    out.join(sep)
}

fn card(rng: &mut Rng) -> Value {
    let (brand, digits, sizes): (&str, String, &[usize]) = match rng.below(4) {
        0 => ("visa", luhn_complete("4", 16, rng), &[4, 4, 4, 4]),
        1 => {
            let p = format!("5{}", rng.range(1, 5));
            ("mastercard", luhn_complete(&p, 16, rng), &[4, 4, 4, 4])
        }
        2 => {
            let p = *rng.pick(&["34", "37"]);
            ("amex", luhn_complete(p, 15, rng), &[4, 6, 5])
        }
        _ => ("discover", luhn_complete("6011", 16, rng), &[4, 4, 4, 4]),
    };
    let (sep_name, sep) = *rng.pick(&[("spaces", " "), ("dashes", "-"), ("dots", "."), ("compact", "")]);
    let text = group(&digits, sizes, sep);
    Value::new("CREDIT_CARD", &format!("{brand}-{sep_name}"), text).leads(&[
        "",
        "card ",
        "credit card number: ",
        "pay with ",
        "Visa/MC ",
    ])
}

/// ISO 13616 check digits for a country code and BBAN.
pub fn iban(country: &str, bban: &str) -> String {
    let rearranged = format!("{bban}{country}00");
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let v =
            if c.is_ascii_digit() { c as u32 - '0' as u32 } else { c.to_ascii_uppercase() as u32 - 'A' as u32 + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    format!("{country}{:02}{bban}", 98 - rem)
}

fn iban_value(rng: &mut Rng) -> Value {
    let (country, bban) = match rng.below(6) {
        0 => ("DE", rng.digits(18)),
        1 => ("GB", format!("{}{}", rng.chars(UPPER, 4), rng.digits(14))),
        2 => ("FR", format!("{}{}{}", rng.digits(10), rng.chars("ABCDEFGHJK0123456789", 11), rng.digits(2))),
        3 => ("NL", format!("{}{}", rng.chars(UPPER, 4), rng.digits(10))),
        4 => ("ES", rng.digits(20)),
        _ => ("IT", format!("{}{}{}", rng.chars(UPPER, 1), rng.digits(10), rng.chars("0123456789", 12))),
    };
    let compact = iban(country, &bban);
    let leads: &[&'static str] = &["", "IBAN ", "pay to ", "account IBAN: "];
    if rng.chance(1, 2) {
        let grouped: Vec<String> =
            compact.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        Value::new("IBAN", &format!("{}-grouped", country.to_lowercase()), grouped.join(" ")).leads(leads)
    } else {
        Value::new("IBAN", &format!("{}-compact", country.to_lowercase()), compact).leads(leads)
    }
}

fn ip(rng: &mut Rng) -> Value {
    let leads: &[&'static str] = &["", "server ", "from IP ", "host ", "client address "];
    match rng.below(7) {
        0 => {
            let net = *rng.pick(&["192.0.2", "198.51.100", "203.0.113"]);
            Value::new("IP_ADDRESS", "v4-doc", format!("{net}.{}", rng.range(1, 254))).leads(leads)
        }
        1 => Value::new(
            "IP_ADDRESS",
            "v4-private",
            format!("10.{}.{}.{}", rng.range(0, 255), rng.range(0, 255), rng.range(1, 254)),
        )
        .leads(leads),
        2 => {
            let addr = format!("172.{}.{}.{}", rng.range(16, 31), rng.range(0, 255), rng.range(1, 254));
            let v = Value::new("IP_ADDRESS", "v4-port", format!("{addr}:{}", rng.range(1024, 65535)));
            Value { needles: vec![addr], ..v.leads(leads) }
        }
        3 => {
            let addr = format!("192.168.{}.0", rng.range(0, 255));
            let v = Value::new("IP_ADDRESS", "v4-cidr", format!("{addr}/24"));
            Value { needles: vec![addr], ..v.leads(leads) }
        }
        4 => {
            let g: Vec<String> = (0..2).map(|_| format!("{:x}", rng.range(1, 0xffff))).collect();
            Value::new("IP_ADDRESS", "v6-compressed", format!("2001:db8:{}::{}", g[0], g[1])).leads(leads)
        }
        5 => {
            let g: Vec<String> = (0..6).map(|_| format!("{:x}", rng.range(1, 0xffff))).collect();
            Value::new("IP_ADDRESS", "v6-full", format!("2001:db8:{}", g.join(":"))).leads(leads)
        }
        _ => {
            let addr = format!("2001:db8::{:x}", rng.range(0x10, 0xffff));
            let v = Value::new("IP_ADDRESS", "v6-bracket-port", format!("[{addr}]:{}", rng.range(1024, 65535)));
            Value { needles: vec![addr], ..v.leads(leads) }
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected), as GitHub's token checksum uses.
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

fn base62(mut n: u64, width: usize) -> String {
    let a = ALNUM.as_bytes();
    // GitHub's alphabet is 0-9A-Za-z.
    let alphabet: Vec<u8> = a[52..].iter().chain(&a[..52]).copied().collect();
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = alphabet[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Vendor tokens, each in its vendor's documented shape with a random body.
fn vendor_secret(rng: &mut Rng) -> Value {
    const LEADS: &[&str] = &["", "key: ", "use ", "token ", "export TOKEN=", "the key is "];
    let (vendor, text) = match rng.below(27) {
        0 => (
            "aws-access-key",
            format!(
                "{}{}",
                rng.pick(&["AKIA", "ASIA", "ABIA", "ACCA"]),
                rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
            ),
        ),
        1 => {
            let body = rng.chars(ALNUM, 30);
            let sum = base62(u64::from(crc32(body.as_bytes())), 6);
            ("github-classic", format!("{}_{body}{sum}", rng.pick(&["ghp", "gho", "ghu", "ghs", "ghr"])))
        }
        2 => ("github-fine-grained", format!("github_pat_{}_{}", rng.chars(ALNUM, 22), rng.chars(ALNUM, 59))),
        3 => {
            // GitLab's documented token prefixes; runner registration tokens start GR1348941.
            let prefix = *rng.pick(&[
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
            ]);
            ("gitlab", format!("{prefix}{}", rng.chars(&format!("{ALNUM}_-"), 20)))
        }
        4 => {
            if rng.chance(1, 4) {
                (
                    "slack-app-token",
                    format!(
                        "xapp-1-A{}-{}-{}",
                        rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
                        rng.digits(13),
                        rng.chars(HEX, 64)
                    ),
                )
            } else {
                let t = *rng.pick(&["xoxb", "xoxp", "xoxa", "xoxe"]);
                ("slack-token", format!("{t}-{}-{}-{}", rng.digits(12), rng.digits(13), rng.chars(ALNUM, 24)))
            }
        }
        5 => (
            "slack-webhook",
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8),
                rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
                rng.chars(ALNUM, 24)
            ),
        ),
        6 => {
            ("stripe", format!("{}_{}_{}", rng.pick(&["sk", "rk"]), rng.pick(&["live", "test"]), rng.chars(ALNUM, 24)))
        }
        7 => ("stripe-webhook", format!("whsec_{}", rng.chars(ALNUM, 32))),
        8 => ("anthropic", format!("sk-ant-api03-{}AA", rng.chars(&format!("{ALNUM}-_"), 93))),
        9 => {
            let (a, b) = (rng.chars(ALNUM, 20), rng.chars(ALNUM, 20));
            let p = *rng.pick(&["sk-proj-", "sk-svcacct-", "sk-"]);
            ("openai", format!("{p}{a}T3BlbkFJ{b}"))
        }
        // Issued Google keys go on with `Sy` after `AIza` (the detector masks other `AIza` values
        // only under a key's name).
        10 => ("google-api", format!("AIzaSy{}", rng.chars(&format!("{ALNUM}-_"), 33))),
        11 => {
            let payload = format!(
                "{{\"sub\":\"{}\",\"name\":\"{}\",\"iat\":{}}}",
                rng.digits(10),
                capitalise(&name(rng)),
                1_700_000_000 + rng.below(50_000_000)
            );
            let jwt = format!(
                "{}.{}.{}",
                b64url(br#"{"alg":"HS256","typ":"JWT"}"#),
                b64url(payload.as_bytes()),
                rng.chars(BASE64URL, 43)
            );
            ("jwt", jwt)
        }
        12 => ("huggingface", format!("hf_{}", rng.chars(&format!("{UPPER}{LOWER}"), 34))),
        13 => {
            // npm tokens carry GitHub's checksum: 30 random characters, their CRC-32 in base62.
            let body = rng.chars(ALNUM, 30);
            ("npm", format!("npm_{body}{}", base62(u64::from(crc32(body.as_bytes())), 6)))
        }
        14 => ("pypi", format!("pypi-AgEIcHlwaS5vcmc{}", rng.chars(&format!("{ALNUM}-_"), 70))),
        15 => ("notion", format!("ntn_{}{}", rng.digits(11), rng.chars(ALNUM, 35))),
        16 => ("sourcegraph", format!("sgp_{}_{}", rng.chars(HEX, 16), rng.chars(HEX, 40))),
        17 => ("vault", format!("hvs.{}", rng.chars(&format!("{ALNUM}-_"), 95))),
        18 => ("1password", format!("ops_eyJ{}", rng.chars(&format!("{ALNUM}+/"), 120))),
        19 => ("digitalocean", format!("{}_v1_{}", rng.pick(&["dop", "doo", "dor"]), rng.chars(HEX, 64))),
        20 => (
            "sendgrid",
            format!("SG.{}.{}", rng.chars(&format!("{ALNUM}-_"), 22), rng.chars(&format!("{ALNUM}-_"), 43)),
        ),
        21 => ("shopify", format!("{}_{}", rng.pick(&["shpat", "shpca", "shppa", "shpss"]), rng.chars(HEX, 32))),
        22 => ("perplexity", format!("pplx-{}", rng.chars(ALNUM, 48))),
        23 => ("groq", format!("gsk_{}", rng.chars(ALNUM, 52))),
        24 => ("linear", format!("lin_api_{}", rng.chars(ALNUM, 40))),
        25 => ("grafana", format!("glsa_{}_{}", rng.chars(ALNUM, 32), rng.chars(HEX, 8))),
        _ => {
            let secret = rng.chars(BASE64, 40);
            // AWS secret keys have no shape of their own: they are one only as one.
            let lead = *rng.pick(&["AWS_SECRET_ACCESS_KEY=", "aws_secret_access_key = ", "aws secret key: "]);
            let mut v = Value::new("SECRET/aws-secret-key", "assignment", format!("{lead}{secret}"));
            v.needles = vec![secret];
            return v.leads(&[""]);
        }
    };
    // Random bodies can, rarely, be too regular to look like a key; draw again then.
    Value::new(&format!("SECRET/{vendor}"), "vendor", text).leads(LEADS)
}

pub fn password_value(rng: &mut Rng) -> String {
    loop {
        let n = rng.range(10, 18);
        // A backslash now and then: restored into JSON text it must be escaped.
        let p = rng.chars(&format!("{ALNUM}{ALNUM}!#%&*+-.@^_~\\"), n);
        let ok = p.bytes().any(|b| b.is_ascii_digit())
            && p.bytes().any(|b| b.is_ascii_alphabetic())
            && p.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && p.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
        if ok {
            return p;
        }
    }
}

fn password(rng: &mut Rng) -> Value {
    let pw = password_value(rng);
    let (format, text) = match rng.below(8) {
        0 => ("assign-equals", format!("password={pw}")),
        1 => ("env-quoted", format!("DB_PASSWORD=\"{pw}\"")),
        2 => ("yaml", format!("passwd: {pw}")),
        3 => ("prose-colon", format!("Password: {pw}")),
        4 => ("prose-is", format!("my password is {pw}")),
        5 => ("bearer", format!("Authorization: Bearer {}", rng.chars(&format!("{ALNUM}-._"), 40))),
        6 => ("url-userinfo", format!("postgres://{}:{pw}@db{}.internal:5432/app", name(rng), rng.digits(2))),
        _ => ("json-pair", format!("\"api_key\": \"{pw}\"")),
    };
    let needle = if format == "bearer" { text.trim_start_matches("Authorization: Bearer ").to_owned() } else { pw };
    let mut v = Value::new("PASSWORD", format, text);
    // Either half of a secret reaching the upstream is a leak too (a mask that stops at a `@` or
    // a `.` inside the value leaves the rest in clear).
    let mid = needle.len() / 2;
    let halves: Vec<String> = [&needle[..mid], &needle[mid..]].iter().map(|h| (*h).to_owned()).collect();
    v.needles = vec![needle];
    v.needles.extend(halves);
    v.leads(&["", "Login details: ", "config: "])
}

fn private_key(rng: &mut Rng) -> Value {
    let (label, format, body_start) = match rng.below(4) {
        0 => ("RSA PRIVATE KEY", "pem-rsa", "MIIEowIBAAKCAQEA".to_owned()),
        1 => ("EC PRIVATE KEY", "pem-ec", "MHcCAQEEI".to_owned()),
        2 => ("PRIVATE KEY", "pem-pkcs8", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".to_owned()),
        // openssh-key-v1 of an unencrypted Ed25519 key: magic, cipher "none", kdf "none", empty
        // kdf options, one key, then the 51-byte public key blob's header (the zero bytes of the
        // length fields are the runs of `A` every such key starts with).
        _ => (
            "OPENSSH PRIVATE KEY",
            "openssh",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACA".to_owned(),
        ),
    };
    let lines = rng.range(4, 8);
    let mut body = body_start;
    body.push_str(&rng.chars(BASE64, 64 * lines - body.len()));
    let body_lines: Vec<String> = body.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let escaped = rng.chance(1, 4);
    let nl = if escaped { "\\n" } else { "\n" };
    let text = format!("-----BEGIN {label}-----{nl}{}{nl}-----END {label}-----", body_lines.join(nl));
    let format = if escaped { format!("{format}-escaped-newlines") } else { format.to_owned() };
    let mut v = Value::new("PRIVATE_KEY", &format, text);
    // Any full body line reaching the upstream is a leak; the first and a middle one stand for all.
    v.needles = vec![body_lines[1].clone(), body_lines[lines - 1].clone()];
    v.leads(&["", "key file:\n", "Here is the deploy key: "])
}

/// One value of a random kind.
pub fn value(rng: &mut Rng) -> Value {
    match rng.below(20) {
        0..=2 => email(rng),
        3..=5 => phone(rng),
        6 | 7 => ssn(rng),
        8 | 9 => card(rng),
        10 => iban_value(rng),
        11 | 12 => ip(rng),
        13..=16 => vendor_secret(rng),
        17 | 18 => password(rng),
        _ => private_key(rng),
    }
}

/// A harmless value that looks like one of ours and must pass unchanged.
#[derive(Debug, Clone)]
pub struct LookAlike {
    pub kind: &'static str,
    pub text: String,
}

fn isbn13(rng: &mut Rng) -> String {
    let core = format!("978{}{}", rng.range(0, 1), rng.digits(8));
    let sum: u32 = core.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 }).sum();
    let check = (10 - sum % 10) % 10;
    format!("{}-{}-{}-{}-{check}", &core[..3], &core[3..4], &core[4..8], &core[8..12])
}

pub fn look_alike(rng: &mut Rng) -> LookAlike {
    let (kind, text) = match rng.below(12) {
        0 => (
            "uuid",
            format!(
                "{}-{}-4{}-{}{}-{}",
                rng.chars(HEX, 8),
                rng.chars(HEX, 4),
                rng.chars(HEX, 3),
                rng.pick(&['8', '9', 'a', 'b']),
                rng.chars(HEX, 3),
                rng.chars(HEX, 12)
            ),
        ),
        1 => ("git-sha", rng.chars(HEX, 40)),
        2 => ("git-short-sha", format!("commit {}", rng.chars(HEX, 7))),
        3 => ("version", format!("v{}.{}.{}", rng.range(0, 12), rng.range(0, 40), rng.range(0, 20))),
        4 => (
            "version-pre",
            format!("version {}.{}.{}-rc.{}", rng.range(1, 9), rng.range(0, 30), rng.range(0, 9), rng.range(1, 5)),
        ),
        5 => ("order-number", format!("order #{}-{}", rng.chars(UPPER, 2), rng.digits(6))),
        6 => ("isbn", format!("ISBN {}", isbn13(rng))),
        7 => (
            "timestamp-iso",
            format!(
                "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                rng.range(10, 29),
                rng.range(1, 12),
                rng.range(1, 28),
                rng.range(0, 23),
                rng.range(0, 59),
                rng.range(0, 59)
            ),
        ),
        8 => ("timestamp-date", format!("{:02}/{:02}/20{:02}", rng.range(1, 28), rng.range(1, 12), rng.range(10, 29))),
        9 => ("price-usd", format!("${},{:03}.{:02}", rng.range(1, 99), rng.range(0, 999), rng.range(0, 99))),
        10 => ("price-eur", format!("€{}.{:02}", rng.range(1, 999), rng.range(0, 99))),
        _ => ("build-hash", format!("build {}", rng.chars(DIGITS, 4))),
    };
    LookAlike { kind, text }
}
