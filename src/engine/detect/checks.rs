//! From a regex candidate to a scored span: boundaries, validators and context words.

use super::context::{
    byte_at, byte_before, inside_longer_number, near, touches_word, word_just_before, AWS_WORDS, CARD_WORDS,
    NOT_PERSONAL_WORDS, PHONE_WORDS, SSN_WORDS, VERSION_WORDS,
};
use super::patterns::Check;
use super::phone::{self, PhoneShape};
use super::validate::{
    card_issuer_ok, digits_of, iban_length, iban_mod97_ok, ipv4_ok, ipv6_ok, jwt_header_ok, luhn_ok, ssn_ok,
};

/// A scored span in byte offsets of the text.
pub type Scored = (usize, usize, f32);

/// Lower a score when words near the span say the number identifies an order, a version, etc.
fn demote_if_not_personal(text: &str, start: usize, end: usize, score: f32) -> f32 {
    if near(text, start, end, NOT_PERSONAL_WORDS, false) {
        score - 0.35
    } else {
        score
    }
}

/// Check the candidate `[start, end)`; `value` is capture group 1 when the rule has one.
pub fn check(check: Check, text: &str, start: usize, end: usize, value: Option<(usize, usize)>) -> Option<Scored> {
    let s = text.get(start..end)?;
    match check {
        Check::Email => (!touches_word(text, start, end)).then_some((start, end, 0.9)),
        Check::Phone => phone_check(text, start, s),
        Check::SsnSeparated => {
            let b = s.as_bytes();
            if b.get(3) != b.get(6) || inside_longer_number(text, start, end) || touches_word(text, start, end) {
                return None;
            }
            if !ssn_ok(&digits_of(s)) {
                return None;
            }
            let base = if b.get(3) == Some(&b'-') { 0.8 } else { 0.55 };
            let score = if near(text, start, end, SSN_WORDS, false) { 0.95 } else { base };
            Some((start, end, demote_if_not_personal(text, start, end, score)))
        }
        Check::SsnBare => {
            if inside_longer_number(text, start, end) || touches_word(text, start, end) || !ssn_ok(&digits_of(s)) {
                return None;
            }
            near(text, start, end, SSN_WORDS, false).then_some((start, end, 0.8))
        }
        Check::Card => card_check(text, start, s),
        Check::Iban => iban_check(text, start, s),
        Check::Ipv4 => {
            if inside_longer_number(text, start, end) || touches_word(text, start, end) || !ipv4_ok(s) {
                return None;
            }
            if VERSION_WORDS.contains(&word_just_before(text, start).as_str()) {
                return None;
            }
            Some((start, end, 0.85))
        }
        Check::Ipv6 => ipv6_check(text, start, s),
        Check::Prefixed => (!touches_word(text, start, end)).then_some((start, end, 0.95)),
        Check::OpenAi => {
            let body = s.strip_prefix("sk-")?;
            let mixed = body.bytes().any(|b| b.is_ascii_digit()) && body.bytes().any(|b| b.is_ascii_alphabetic());
            (mixed && !body.starts_with("ant-") && !touches_word(text, start, end)).then_some((start, end, 0.93))
        }
        Check::AwsSecret => aws_secret_check(text, start, end, s),
        Check::Jwt => (!touches_word(text, start, end) && jwt_header_ok(s)).then_some((start, end, 0.95)),
        Check::PrivateKeyBlock => Some((start, private_key_end(text, end), 0.99)),
        Check::Assignment => {
            let (vs, ve) = value?;
            assignment_check(text, start, vs, ve)
        }
        Check::Bearer => {
            let (vs, ve) = value?;
            let v = text.get(vs..ve)?;
            let mixed = v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic());
            mixed.then_some((vs, ve, 0.85))
        }
    }
}

fn phone_check(text: &str, start: usize, s: &str) -> Option<Scored> {
    // The candidate regex may start with `(` or `+`; it never starts inside a number we keep.
    let (len, shape) = phone::check(s)?;
    let end = start + len;
    // A phone number written with a closing parenthesis around the area code keeps it.
    if inside_longer_number(text, start, end) || touches_word(text, start, end) {
        return None;
    }
    let base: f32 = match shape {
        PhoneShape::International => 0.8,
        PhoneShape::National => 0.65,
        PhoneShape::NeedsContext => 0.3,
    };
    let score = if near(text, start, end, PHONE_WORDS, false) { base + 0.3 } else { base };
    Some((start, end, demote_if_not_personal(text, start, end, score.min(0.95))))
}

/// Card numbers: 12-19 digits, either unseparated or grouped the way cards are printed.
fn card_check(text: &str, start: usize, s: &str) -> Option<Scored> {
    // Split into groups and try the longest run of leading groups that forms a valid card, so
    // that a year or quantity written right after the number does not hide it.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut sep: Option<u8> = None;
    let mut gs = 0;
    for (i, b) in s.bytes().enumerate() {
        if !b.is_ascii_digit() {
            if sep.is_some_and(|p| p != b) {
                return None;
            }
            sep = Some(b);
            groups.push((gs, i));
            gs = i + 1;
        }
    }
    groups.push((gs, s.len()));
    for n in (1..=groups.len()).rev() {
        let used = groups.get(..n)?;
        let lens: Vec<usize> = used.iter().map(|&(a, b)| b - a).collect();
        let total: usize = lens.iter().sum();
        if !(12..=19).contains(&total) {
            continue;
        }
        let grouped_ok = n == 1
            || matches!(lens.as_slice(), [4, 6, 5] | [4, 6, 4])
            || (n >= 3
                && lens.split_last().is_some_and(|(last, rest)| rest.iter().all(|&l| l == 4) && (1..=4).contains(last)));
        if !grouped_ok {
            continue;
        }
        let end = start + used.last().map(|&(_, e)| e).unwrap_or(0);
        let value = text.get(start..end)?;
        let digits = digits_of(value);
        if !(luhn_ok(&digits) && card_issuer_ok(&digits)) {
            continue;
        }
        if inside_longer_number(text, start, end) || touches_word(text, start, end) {
            return None;
        }
        let base = if n == 1 { 0.75 } else { 0.9 };
        let score = if near(text, start, end, CARD_WORDS, false) { 0.97 } else { base };
        return Some((start, end, demote_if_not_personal(text, start, end, score)));
    }
    None
}

/// IBANs: walk exactly the registered number of characters for the country, compact or in
/// groups of four, then check mod-97.
fn iban_check(text: &str, start: usize, s: &str) -> Option<Scored> {
    let b = s.as_bytes();
    let want = iban_length(b.get(..2)?)?;
    let mut compact = Vec::with_capacity(want);
    let mut spaced = false;
    let mut i = 0;
    while compact.len() < want {
        let c = *b.get(i)?;
        if c == b' ' {
            // Spaces only between groups of four.
            if compact.len() % 4 != 0 {
                return None;
            }
            spaced = true;
        } else {
            compact.push(c);
        }
        i += 1;
    }
    let end = start + i;
    if spaced && b.get(i).is_some_and(|&c| c != b' ') {
        return None;
    }
    if touches_word(text, start, end) || !iban_mod97_ok(&compact) {
        return None;
    }
    Some((start, end, 0.9))
}

fn ipv6_check(text: &str, start: usize, s: &str) -> Option<Scored> {
    // A sentence may put a colon right after the address; drop one unless it is part of `::`.
    let trimmed = if s.ends_with(':') && !s.ends_with("::") { s.get(..s.len() - 1)? } else { s };
    let end = start + trimmed.len();
    let before = byte_before(text, start);
    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b':' || c == b'.' || c == b'_')
        || byte_at(text, end).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
    {
        return None;
    }
    ipv6_ok(trimmed).then_some((start, end, 0.85))
}

fn aws_secret_check(text: &str, start: usize, end: usize, s: &str) -> Option<Scored> {
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'/' || c == b'+' || c == b'=';
    if byte_before(text, start).is_some_and(b64) || byte_at(text, end).is_some_and(b64) {
        return None;
    }
    // Real keys mix cases and digits; this refuses 40-char hex digests and words.
    let b = s.as_bytes();
    let mixed = b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase) && b.iter().any(u8::is_ascii_digit);
    (mixed && near(text, start, end, AWS_WORDS, false)).then_some((start, end, 0.85))
}

/// A private key block ends at its END line; a block cut short ends after its base64 body.
fn private_key_end(text: &str, header_end: usize) -> usize {
    let rest = text.get(header_end..).unwrap_or("");
    if let Some(pos) = rest.find("-----END ") {
        let after = header_end + pos + "-----END ".len();
        if let Some(close) = text.get(after..).and_then(|t| t.find("-----")) {
            let stop = after + close + 5;
            // Only if the END marker belongs to this block (no other BEGIN in between).
            if !text.get(header_end..stop).unwrap_or("").contains("-----BEGIN") {
                return stop;
            }
        }
    }
    let body = rest
        .bytes()
        .take_while(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'\n' | b'\r' | b' ' | b'\\' | b':' | b'-' | b','))
        .count();
    let end = header_end + body;
    header_end + text.get(header_end..end).unwrap_or("").trim_end().len()
}

/// Values that name or stand for a secret rather than being one.
fn is_stand_in(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    let filler = v.bytes().all(|c| c == v.as_bytes().first().copied().unwrap_or(b'*'));
    filler
        || v.starts_with('$')
        || v.starts_with('%')
        || lower.contains("your")
        || lower.contains("example")
        || lower.contains("redacted")
        || lower.contains("placeholder")
        || matches!(lower.as_str(), "true" | "false" | "null" | "none" | "undefined" | "required" | "optional" | "string" | "hidden" | "empty" | "secret" | "password" | "token")
        // A placeholder we produced ourselves (`[SECRET_1]`-like) is cut at `[` by the regex.
        || v.ends_with(']')
}

fn assignment_check(text: &str, kw_start: usize, vs: usize, ve: usize) -> Option<Scored> {
    // The keyword must start a word (`password`, `db_password`, `dbPassword`), not end one.
    if byte_before(text, kw_start).is_some_and(|c| c.is_ascii_lowercase()) {
        let prev_word: String = text.get(..kw_start)?.chars().rev().take_while(|c| c.is_ascii_alphanumeric()).collect();
        // camelCase (`dbPassword`) has an upper-case keyword start; `mypassword` is accepted too,
        // but `passwordless`-style suffixes are handled by the regex. Refuse plain prose glue
        // only when the previous word is long, which is how compound English words look.
        if prev_word.len() > 12 {
            return None;
        }
    }
    let v = text.get(vs..ve)?;
    let v = v.trim_end_matches(['.', ':']);
    let ve = vs + v.len();
    if v.len() < 4 || is_stand_in(v) {
        return None;
    }
    let sep_region = text.get(kw_start..vs).unwrap_or("");
    let quoted = sep_region.ends_with('"') || sep_region.ends_with('\'');
    let equals = sep_region.contains('=');
    let letters_only = v.bytes().all(|c| c.is_ascii_alphabetic());
    let digits_only = v.bytes().all(|c| c.is_ascii_digit());
    let score = if quoted || (equals && !letters_only) {
        0.85
    } else if equals || (!letters_only && !digits_only) {
        0.7
    } else {
        // `Password: required` or `token: 4096` in prose.
        0.4
    };
    Some((vs, ve, score))
}
