//! From a regex candidate to a scored span: boundaries, validators and context words.

use super::context::{
    byte_at, byte_before, inside_longer_number, near, touches_word, underscore_glues, unspaced_script,
    word_just_before, ContextWords, Nearby, WordLists, NOT_PERSONAL_WORDS, VERSION_WORDS,
};
use super::patterns::Check;
use super::phone::{self, PhoneShape};
use super::secrets::{body_of, checksum_holds, issued_header_holds, Body};
use super::validate::{
    card_issuer_ok, digits_of, iban_length, iban_mod97_ok, iban_shape_ok, ipv4_ok, ipv6_ok, jwt_header_ok,
    looks_random, luhn_ok, ssn_ok,
};

/// A scored span in byte offsets of the text.
pub type Scored = (usize, usize, f32);

/// Lower a score when words near the span say the number identifies an order, a version, etc.
fn demote_if_not_personal(nearby: &Nearby, score: f32) -> f32 {
    if nearby.before(WordLists::NOT_PERSONAL) {
        score - 0.35
    } else {
        score
    }
}

/// `**password: value**`, `_my password is value_`: markdown emphasis opened earlier on the line
/// (at a word start) closes after the value and is not part of it. Returns the value's end
/// without the closing marker.
fn without_closing_emphasis(text: &str, start: usize, vs: usize, ve: usize) -> usize {
    let value = text.get(vs..ve).unwrap_or("");
    let run = value.len() - value.trim_end_matches(['*', '_']).len();
    if run == 0 || run > 3 || run == value.len() {
        return ve;
    }
    let marker = &value[value.len() - run..];
    let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let line = text.get(line_start..vs).unwrap_or("");
    let opened = line.starts_with(marker) || line.contains(&format!(" {marker}"));
    if opened {
        ve - run
    } else {
        ve
    }
}

/// An address matched with the letters of a script written without spaces on either side
/// (`邮箱是kim@example.com谢谢`): those letters are the sentence, not the address, unless the
/// local part or the top-level domain is written in that script alone (`测试@例子.中国`).
fn email_without_unspaced_text(text: &str, start: usize, end: usize) -> (usize, usize) {
    let Some(s) = text.get(start..end) else { return (start, end) };
    let Some(at) = s.find('@') else { return (start, end) };
    // The pattern lets any non-ASCII character through: punctuation beyond ASCII (`“`, `。`,
    // `，`) is not part of an address. The local part starts after the last such character, the
    // domain ends before the first.
    let other = |c: char| !c.is_ascii() && !c.is_alphanumeric();
    let local_from = s[..at].char_indices().rev().find(|(_, c)| other(*c)).map_or(0, |(i, c)| i + c.len_utf8());
    let domain_to = s[at..].char_indices().find(|(_, c)| other(*c)).map_or(s.len(), |(i, _)| at + i);
    let (start, end) = (start + local_from, start + domain_to);
    let s = &text[start..end];
    let Some(at) = s.find('@') else { return (start, end) };
    let local = &s[..at];
    let mut start = start;
    if let Some((i, c)) = local.char_indices().rev().find(|(_, c)| unspaced_script(*c)) {
        if i + c.len_utf8() < local.len() {
            start += i + c.len_utf8();
        }
    }
    let mut end = end;
    let tld_from = s.rfind('.').unwrap_or(s.len());
    let tld = &s[tld_from..];
    if let Some((i, _)) = tld.char_indices().find(|(_, c)| unspaced_script(*c)) {
        if i > 1 {
            end = start.max(end - (tld.len() - i));
        }
    }
    (start, end)
}

/// Check the candidate `[start, end)`; `value` is capture group 1 when the rule has one.
/// `words` answers context-word questions for the same text.
pub fn check(
    check: Check,
    text: &str,
    words: &ContextWords<'_>,
    start: usize,
    end: usize,
    value: Option<(usize, usize)>,
) -> Option<Scored> {
    let s = text.get(start..end)?;
    match check {
        Check::Email => {
            // `\tbob@...`: an escape written out as raw text is not part of the address.
            let escape = byte_before(text, start) == Some(b'\\') && matches!(s.as_bytes(), [b'n' | b't' | b'r', _, ..]);
            let start = if escape { start + 1 } else { start };
            let (start, end) = email_without_unspaced_text(text, start, end);
            // What is left must still be an address: a local part and a dotted domain.
            let shaped = text.get(start..end).and_then(|a| a.split_once('@')).is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.ends_with(['.', '-'])
            });
            (shaped && !touches_word(text, start, end) && !in_url_userinfo(text, start)).then_some((start, end, 0.9))
        }
        Check::Phone => phone_check(text, words, start, s),
        Check::SsnSeparated => {
            let b = s.as_bytes();
            if b.get(3) != b.get(6) || inside_longer_number(text, start, end) || touches_word(text, start, end) {
                return None;
            }
            if !ssn_ok(&digits_of(s)) {
                return None;
            }
            // Dashes are the printed form; spaces and dots are seen too but are weaker alone.
            let (base, with_words) = match b.get(3) {
                Some(b'-') => (0.8, 0.95),
                Some(b' ') => (0.55, 0.9),
                _ => (0.45, 0.85),
            };
            let nearby = Nearby::scan(words, start, end, false);
            let score = if nearby.before(WordLists::SSN) { with_words } else { base };
            let demoted = demote_if_not_personal(&nearby, score);
            // The dashed form with a valid area, group and serial is an SSN whatever word
            // stands before it ("Account holder: …", "Employee no. (…)").
            Some((start, end, if b.get(3) == Some(&b'-') { demoted.max(STRONG_MIN_SCORE) } else { demoted }))
        }
        Check::SsnBare => {
            if inside_longer_number(text, start, end) || touches_word(text, start, end) || !ssn_ok(&digits_of(s)) {
                return None;
            }
            Nearby::scan(words, start, end, false).before(WordLists::SSN).then_some((start, end, 0.8))
        }
        Check::Card => card_check(text, words, start, s),
        Check::Iban => iban_check(text, start, s),
        Check::Ipv4 => ipv4_check(text, start, end, s),
        Check::Ipv6 => ipv6_check(text, start, s),
        Check::Prefixed => {
            if !token_ok(text, start, end, s) {
                return None;
            }
            // A GitHub or npm token whose checksum fails was not issued, and a Google key
            // without the header of issued keys likely not: either is masked only where the
            // text says it is a credential (the header is the weaker sign, so a labelled Google
            // key still outranks a generic value under a key name).
            let score = match (checksum_holds(s), issued_header_holds(s)) {
                (Some(false), _) if labelled_as_credential(text, start, end) => 0.8,
                (_, Some(false)) if labelled_as_credential(text, start, end) => 0.85,
                (Some(false), _) | (_, Some(false)) => 0.4,
                _ => 0.95,
            };
            Some((start, end, score))
        }
        Check::Slack => slack_check(text, start, end, s),
        Check::OpenAi => {
            let body = s.strip_prefix("sk-")?;
            let mixed = body.bytes().any(|b| b.is_ascii_digit()) && body.bytes().any(|b| b.is_ascii_alphabetic());
            (mixed && !body.starts_with("ant-") && token_ok(text, start, end, s)).then_some((start, end, 0.93))
        }
        Check::AwsSecret => aws_secret_check(text, words, start, end, s),
        Check::Jwt => (!touches_word(text, start, end) && jwt_header_ok(s)).then_some((start, end, 0.95)),
        Check::PrivateKeyBlock => {
            let stop = private_key_end(text, end);
            // A real key has a long base64 body; `BEGIN ... anything ... END` is an illustration.
            let body = text.get(end..stop).unwrap_or("");
            key_body_ok(body).then_some((start, stop, 0.99))
        }
        Check::PuttyKey => putty_key_end(text, end).map(|stop| (start, stop, 0.99)),
        Check::Assignment => {
            let (vs, ve) = value?;
            let ve = without_closing_emphasis(text, start, vs, ve);
            assignment_check(text, start, vs, ve)
        }
        Check::Bearer => {
            let (vs, ve) = value?;
            let ve = without_closing_emphasis(text, start, vs, ve);
            // A sentence's full stop after the token is not part of it (the token repeated
            // elsewhere is written without it).
            let ve = vs + text.get(vs..ve)?.trim_end_matches('.').len();
            let v = text.get(vs..ve)?;
            let mixed = v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic());
            let base64_padded = v.ends_with('=') && v.len() >= 8;
            // A long random token of letters alone (some issuers' opaque tokens) counts too.
            let random = v.len() >= 24 && looks_random(v);
            ((mixed || base64_padded || random) && !is_stand_in(v)).then_some((vs, ve, 0.85))
        }
        Check::Vendor(body) => {
            let (vs, ve) = value?;
            vendor_token_check(text, vs, ve, body)
        }
        Check::VendorAssignment => {
            let (vs, ve) = value?;
            let ve = without_closing_emphasis(text, start, vs, ve);
            vendor_assignment_check(text, start, vs, ve)
        }
        Check::KeyedRandom => {
            let (vs, ve) = value?;
            let ve = without_closing_emphasis(text, start, vs, ve);
            keyed_random_check(text, start, vs, ve)
        }
        Check::Credentials => {
            let (vs, ve) = value?;
            let v = text.get(vs..ve)?;
            let (user, raw_password) = v.split_once(':')?;
            let password = raw_password.trim_matches(|c| c == '"' || c == '\'');
            let user = user.trim_matches(|c| c == '"' || c == '\'');
            // `<user:password>` is documentation; `test:test` repeats the user name.
            let template = v.contains('<') || v.contains('>') || password.eq_ignore_ascii_case(user);
            // Only the password is masked: it is the secret, and masked alone it is found again
            // wherever it is repeated without its URL.
            let pstart = ve - raw_password.len();
            // `curl -u "sk_live_…:"`: an API key given as the user name, with no password (how
            // several vendors' APIs take a key) is the secret itself.
            if password.is_empty() {
                let ustart = vs + (v.len() - v.trim_start_matches(['"', '\'']).len());
                let mixed = user.bytes().any(|b| b.is_ascii_digit()) && user.bytes().any(|b| b.is_ascii_alphabetic());
                let key_like = user.len() >= 8 && mixed && looks_random(user) && !is_stand_in(user);
                return key_like.then_some((ustart, ustart + user.len(), 0.85));
            }
            (password.len() >= 4 && !template && !is_stand_in(password) && !password.starts_with("//"))
                .then_some((pstart, ve, 0.9))
        }
    }
}

/// Words that say a value near them is a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "token",
    "tokens",
    "authtoken",
    "pat",
    "secret",
    "secrets",
    "key",
    "apikey",
    "password",
    "passwd",
    "credential",
    "credentials",
    "auth",
    "authorization",
    "bearer",
    "login",
    "github",
    "gh",
    "npm",
    "npmrc",
];

/// Whether the text labels `[start, end)` as a credential: a credential word just before or
/// after it, a name it is assigned to with such a word among its parts (`GOOGLE_MAPS_KEY:`,
/// `githubToken =`), or its place in a URL's userinfo (`https://TOKEN@host`).
fn labelled_as_credential(text: &str, start: usize, end: usize) -> bool {
    near(text, start, end, CREDENTIAL_WORDS, true) || named_as_credential(text, start) || in_url_userinfo(text, start)
}

/// Whether the value at `start` is assigned (`:`, `=`, quotes between) to a name that has a
/// credential word among its parts.
fn named_as_credential(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("");
    let head = before.trim_end_matches([' ', '\t', '"', '\'']);
    let Some(head) = head.strip_suffix([':', '=']) else { return false };
    let head = head.trim_end_matches([' ', '\t', '"', '\'', ':']);
    let name_len = head
        .bytes()
        .rev()
        .take(64)
        .take_while(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        .count();
    let name = head.get(head.len() - name_len..).unwrap_or("");
    split_name(name).iter().any(|part| CREDENTIAL_WORDS.contains(&part.as_str()))
}

/// Whether `start` is inside the userinfo of a URL (`https://user:pass@host`), where what
/// looks like an e-mail address is really a password and a host.
fn in_url_userinfo(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("");
    let token_start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    // Still in the authority: no path between `://` and the value (an address in a query
    // string, `/search?email=jane@example.com`, is an address). A password may hold `?` or `#`
    // unescaped, so only a `/` ends the authority here.
    before.get(token_start..).and_then(|t| t.rsplit_once("://")).is_some_and(|(_, authority)| !authority.contains('/'))
}

/// A vendor token: a whole word whose body looks random and is not a documented stand-in
/// (`AKIAIOSFODNN7EXAMPLE`, `ghp_xxxx...`).
fn token_ok(text: &str, start: usize, end: usize, s: &str) -> bool {
    let body = s.get(4..).unwrap_or("");
    !touches_word(text, start, end) && looks_random(body) && !s.to_ascii_lowercase().contains("example")
}

/// Slack tokens as documented: `xoxb-`/`xoxp-`/`xoxe-`/`xapp-`..., then numeric groups (a
/// one-digit format version, or team, user and installation ids of 8-13 digits), then the
/// secret body (24 alphanumerics for bot tokens, 32 hex digits for user tokens, longer for
/// refresh and configuration tokens). Only the body is judged for randomness: the id groups
/// are digits and a hex body has only 16 symbols, so judging the whole token refused real ones.
fn slack_check(text: &str, start: usize, end: usize, s: &str) -> Option<Scored> {
    if touches_word(text, start, end) {
        return None;
    }
    let (_, rest) = s.split_once('-')?;
    let mut groups = rest.split('-').peekable();
    let mut ids = 0;
    while let Some(g) = groups.next_if(|g| !g.is_empty() && g.bytes().all(|c| c.is_ascii_digit())) {
        // A version digit leads some formats (`xoxe-1-`, `xapp-1-`); ids are 8-13 digits.
        let version = ids == 0 && g.len() == 1;
        if !version && !(8..=13).contains(&g.len()) {
            return None;
        }
        let same = g.bytes().all(|c| Some(c) == g.bytes().next());
        if !version && same {
            return None;
        }
        ids += 1;
    }
    let body: String = groups.collect::<Vec<&str>>().concat();
    let lower = body.to_ascii_lowercase();
    let stand_in = ["example", "here", "token", "your", "xxxx"].iter().any(|w| lower.contains(w));
    (ids >= 1 && body.len() >= 20 && !stand_in && looks_random(&body)).then_some((start, end, 0.95))
}

fn ipv4_check(text: &str, start: usize, end: usize, s: &str) -> Option<Scored> {
    if touches_word(text, start, end) || !ipv4_ok(s) {
        return None;
    }
    let before = byte_before(text, start);
    if before.is_some_and(|c| c.is_ascii_digit() || c == b'.') {
        return None;
    }
    // A CIDR suffix (`/24`) belongs to the address; any other continuation (`1.2.3.4.5`, a
    // longer number) means this is not an address.
    let mut stop = end;
    let rest = text.get(end..).unwrap_or("");
    if rest.starts_with(':') && rest.as_bytes().get(1).is_some_and(u8::is_ascii_digit) {
        // A port (`192.0.2.1:8080`) is not part of the address.
    } else if let Some(after_slash) = rest.strip_prefix('/') {
        let n: String = after_slash.chars().take_while(char::is_ascii_digit).collect();
        if n.parse::<u8>().is_ok_and(|p| p <= 32)
            && !after_slash[n.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            stop = end + 1 + n.len();
        }
    } else if inside_longer_number(text, start, end) && !comma_separated(text, start, end) {
        return None;
    }
    // The list is ASCII, so ASCII case folding finds what Unicode lower-casing would.
    let word = word_just_before(text, start);
    if VERSION_WORDS.iter().any(|v| v.eq_ignore_ascii_case(word)) {
        return None;
    }
    Some((start, stop, 0.85))
}

/// A dotted quad between commas or semicolons (a CSV row: `4,203.0.113.24,9`): the digits on
/// the other side of the comma are another field, not more of this number.
/// A list of versions (`2.4.7.2,2.4.7.3`) is not: a field beside it that is a dotted number
/// makes the row a list of numbers.
fn comma_separated(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let sep = |c: Option<u8>| matches!(c, None | Some(b',' | b';' | b' ' | b'\t' | b'\n' | b'\r'));
    let dotted = |field: &mut dyn Iterator<Item = &u8>| {
        let f: Vec<u8> =
            field.take_while(|c| !matches!(c, b',' | b';' | b' ' | b'\t' | b'\n')).take(40).copied().collect();
        f.contains(&b'.') && f.iter().all(|c| c.is_ascii_digit() || *c == b'.')
    };
    let before_field = start.checked_sub(1).and_then(|i| b.get(..i)).unwrap_or(&[]);
    let after_field = b.get(end + 1..).unwrap_or(&[]);
    sep(byte_before(text, start))
        && sep(byte_at(text, end))
        && !dotted(&mut before_field.iter().rev())
        && !dotted(&mut after_field.iter())
}

fn phone_check(text: &str, words: &ContextWords<'_>, start: usize, s: &str) -> Option<Scored> {
    // The candidate regex may start with `(` or `+`; it never starts inside a number we keep.
    let (from, len, shape) = phone::check(s)?;
    let start = start + from;
    let mut end = start + len;
    // A group of a longer dashed identifier (`7d4a0e9d-0804-4330-8507-e2a96245f483`, a UUID
    // whose middle groups happen to be digits) is not a phone number: a dash joins it to a run
    // of letters and digits that holds a digit (`-Office`, `-Fax` labels do not).
    let b = text.as_bytes();
    let run_has_digit = |run: &mut dyn Iterator<Item = &u8>| {
        run.take_while(|c| c.is_ascii_alphanumeric()).take(16).any(u8::is_ascii_digit)
    };
    let glued_before = start >= 2
        && b.get(start - 1) == Some(&b'-')
        && run_has_digit(&mut b.get(..start - 1).unwrap_or(&[]).iter().rev());
    let glued_after = b.get(end) == Some(&b'-') && run_has_digit(&mut b.get(end + 1..).unwrap_or(&[]).iter());
    if glued_before || glued_after {
        return None;
    }
    // An extension (`x4587`, `ext. 12`) is part of the number.
    let rest = text.get(end..).unwrap_or("");
    for marker in ["x", "X", " x", " ext. ", " ext ", " ext."] {
        if let Some(after) = rest.strip_prefix(marker) {
            let n = after.bytes().take_while(u8::is_ascii_digit).count();
            if (1..=5).contains(&n) {
                end += marker.len() + n;
                break;
            }
        }
    }
    // A phone number written with a closing parenthesis around the area code keeps it.
    if inside_longer_number(text, start, end) || touches_word(text, start, end) {
        return None;
    }
    let base: f32 = match shape {
        PhoneShape::International => 0.8,
        PhoneShape::National => 0.65,
        PhoneShape::NeedsContext => 0.3,
    };
    let nearby = Nearby::scan(words, start, end, true);
    let phone_words = nearby.around(WordLists::PHONE);
    if shape == PhoneShape::NeedsContext && !phone_words {
        // Cannot reach the threshold without phone words: skip the remaining context checks.
        return None;
    }
    let score = if phone_words { base + 0.3 } else { base };
    // Words like "order" or "invoice" outweigh phone words when they label the number itself
    // ("order number 212-555-0123", "ticket #4155550123"); elsewhere in the sentence ("about
    // my order, call me on 212-555-0123") they say nothing about it.
    let score = if labelled_not_personal(text, start) { score.min(0.75) - 0.35 } else { score };
    Some((start, end, score.min(0.95)))
}

/// Whether the word right before `start` (skipping a `number`/`no`/`nr`/`num` after it, and
/// `#`, `:` or `.`) marks the number as an identifier of something other than a person.
fn labelled_not_personal(text: &str, start: usize) -> bool {
    let is = |w: &str, list: &[&str]| list.iter().any(|l| l.eq_ignore_ascii_case(w));
    let mut word = word_just_before(text, start);
    if is(word, &["number", "no", "nr", "num", "nos", "numbers"]) {
        let at = (word.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        let before = word_just_before(text, at);
        if !before.is_empty() {
            word = before;
        }
    }
    // "no" and "id" alone are labels only when spelled as such; "number" alone is a phone word.
    is(word, NOT_PERSONAL_WORDS) && !word.eq_ignore_ascii_case("number")
}

/// Card numbers: 12-19 digits, either unseparated or grouped the way cards are printed.
fn card_check(text: &str, words: &ContextWords<'_>, start: usize, s: &str) -> Option<Scored> {
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
                && lens
                    .split_last()
                    .is_some_and(|(last, rest)| rest.iter().all(|&l| l == 4) && (1..=4).contains(last)));
        if !grouped_ok {
            continue;
        }
        let end = start + used.last().map(|&(_, e)| e).unwrap_or(0);
        let value = text.get(start..end)?;
        let digits = digits_of(value);
        if !luhn_ok(&digits) {
            continue;
        }
        if inside_longer_number(text, start, end) || touches_word(text, start, end) {
            return None;
        }
        let nearby = Nearby::scan(words, start, end, false);
        let card_words = nearby.before(WordLists::CARD);
        // Outside the known issuer ranges a Luhn-valid number is a card only when the text
        // says it is one (private-label and newer ranges).
        let score = match (card_issuer_ok(&digits), card_words) {
            (true, true) => 0.97,
            (true, false) if n == 1 => 0.75,
            (true, false) => 0.9,
            (false, true) => 0.7,
            (false, false) => continue,
        };
        let demoted = demote_if_not_personal(&nearby, score);
        // A Luhn-valid number of a card's length in an issuer's range is a card whatever word
        // stands before it ("Reference 5200…", "id=5200…"): masking a look-alike costs a
        // placeholder, missing a card costs the card.
        let strong = card_issuer_ok(&digits) && matches!(digits.len(), 15 | 16);
        return Some((start, end, if strong { demoted.max(STRONG_MIN_SCORE) } else { demoted }));
    }
    None
}

/// The score a strong shape keeps whatever its context says (above the default threshold).
const STRONG_MIN_SCORE: f32 = 0.55;

/// IBANs: walk exactly the registered number of characters for the country, compact or in
/// groups of four (ISO 13616's print form), then check the country's BBAN shape and mod-97.
///
/// A grouped IBAN is grouped throughout: every group but the last has four characters. A
/// hyphen-grouped one is a whole token, not a part of a longer hyphenated id: a UUID's
/// 8-4-4-4-12 hex groups hold a country code and check digits by chance
/// (`…-ad50-4c40-8278-…`, `ba80df21-8742-…`).
fn iban_check(text: &str, start: usize, s: &str) -> Option<Scored> {
    let b = s.as_bytes();
    // Upper and lower case are both seen in the wild; the checksum is case-blind.
    let country = [b.first()?.to_ascii_uppercase(), b.get(1)?.to_ascii_uppercase()];
    let want = iban_length(&country)?;
    let mut compact = Vec::with_capacity(want);
    let mut sep: Option<u8> = None;
    // Characters since the last separator (or the start).
    let mut group = 0;
    let mut i = 0;
    while compact.len() < want {
        let c = *b.get(i)?;
        if c == b' ' || c == b'-' {
            // One separator style, only after a group of four.
            if group != 4 || sep.is_some_and(|p| p != c) {
                return None;
            }
            sep = Some(c);
            group = 0;
        } else {
            if sep.is_some() && group == 4 {
                return None;
            }
            compact.push(c.to_ascii_uppercase());
            group += 1;
        }
        i += 1;
    }
    let end = start + i;
    // Either case, but one case: `LV80 bANK ...` is a typo, not an IBAN.
    let letters = s.get(..i).unwrap_or("").bytes().filter(u8::is_ascii_alphabetic);
    let (mut upper, mut lower) = (false, false);
    for c in letters {
        upper |= c.is_ascii_uppercase();
        lower |= c.is_ascii_lowercase();
    }
    if upper && lower {
        return None;
    }
    if sep == Some(b'-') && hyphen_joined(text, start, end) {
        return None;
    }
    if touches_word(text, start, end) || !iban_shape_ok(&compact) || !iban_mod97_ok(&compact) {
        return None;
    }
    Some((start, end, 0.9))
}

/// Whether a hyphen joins the span `start..end` to a letter or digit on either side.
fn hyphen_joined(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let before = start.checked_sub(2).and_then(|i| b.get(i..start));
    let after = b.get(end..end.saturating_add(2));
    let joined = |pair: &[u8], hyphen: usize| {
        pair.get(hyphen) == Some(&b'-') && pair.get(1 - hyphen).is_some_and(u8::is_ascii_alphanumeric)
    };
    before.is_some_and(|p| joined(p, 1)) || after.is_some_and(|p| joined(p, 0))
}

fn ipv6_check(text: &str, start: usize, s: &str) -> Option<Scored> {
    // A sentence may put a colon right after the address; drop one unless it is part of `::`.
    let trimmed = if s.ends_with(':') && !s.ends_with("::") { s.get(..s.len() - 1)? } else { s };
    let end = start + trimmed.len();
    let before = byte_before(text, start);
    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b':' || c == b'.')
        || underscore_glues(text, start, false)
        || byte_at(text, end).is_some_and(|c| c.is_ascii_alphanumeric())
        || underscore_glues(text, end, true)
    {
        return None;
    }
    ipv6_ok(trimmed).then_some((start, end, 0.85))
}

fn aws_secret_check(text: &str, words: &ContextWords<'_>, start: usize, end: usize, s: &str) -> Option<Scored> {
    // Part of a longer base64 run is not a key. `=` is base64 only as padding at the end, so
    // before the candidate it is an assignment (`AWS_SECRET_ACCESS_KEY=...`), after it padding.
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'/' || c == b'+';
    if byte_before(text, start).is_some_and(b64) || byte_at(text, end).is_some_and(|c| b64(c) || c == b'=') {
        return None;
    }
    // Real keys mix cases and digits; this refuses 40-char hex digests and words.
    let b = s.as_bytes();
    // Forty random base64 characters hold no digit about once in a thousand keys: then the
    // letters must read as random.
    let mixed = b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
        && (b.iter().any(u8::is_ascii_digit) || !word_like(b));
    // AWS documents its example keys with `EXAMPLE` in them.
    (mixed && !is_stand_in(s) && Nearby::scan(words, start, end, false).before(WordLists::AWS))
        .then_some((start, end, 0.85))
}

/// What a line between a key block's header and footer is.
#[derive(PartialEq)]
enum KeyLine {
    Blank,
    /// `Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`, PGP's `Version: ...`.
    Header,
    /// Base64, possibly in chunks joined by single spaces when line breaks were lost in a paste
    /// (every chunk but the last at least 16 characters, which prose words never are).
    Body,
    Other,
}

fn key_line(line: &[u8]) -> KeyLine {
    if line.is_empty() {
        return KeyLine::Blank;
    }
    let b64 = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
    let chunks: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
    let body = chunks.iter().all(|t| !t.is_empty() && t.iter().all(b64))
        && chunks.split_last().is_some_and(|(_, rest)| rest.iter().all(|t| t.len() >= 16));
    if body {
        KeyLine::Body
    } else if line.contains(&b':') && line.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        KeyLine::Header
    } else {
        KeyLine::Other
    }
}

/// A private key block ends at its END line; a block cut short ends after its last base64 line.
/// Lines end at a line break or at its escape (`\n`, `\r` written out, as in JSON strings).
///
/// Linear over any text: the walk stops at the first `-----` after the header (the END line, or
/// the next block's header) or at the first line that is not part of a key, so the stretches
/// walked for different headers never overlap: thousands of headers cost one pass.
fn private_key_end(text: &str, header_end: usize) -> usize {
    let b = text.as_bytes();
    let mut i = header_end;
    let mut body_end: Option<usize> = None;
    loop {
        let mut j = i;
        let mut marker = false;
        while let Some(&c) = b.get(j) {
            if c == b'-' && b.get(j..j + 5) == Some(b"-----".as_slice()) {
                marker = true;
                break;
            }
            if c == b'\n' || (c == b'\\' && matches!(b.get(j + 1), Some(b'n' | b'r'))) {
                break;
            }
            j += 1;
        }
        let raw = b.get(i..j).unwrap_or(&[]);
        let lead = raw.iter().take_while(|c| c.is_ascii_whitespace()).count();
        let trail = raw.iter().rev().take_while(|c| c.is_ascii_whitespace()).count();
        let line = raw.get(lead..raw.len().saturating_sub(trail).max(lead)).unwrap_or(&[]);
        match key_line(line) {
            KeyLine::Body => body_end = Some(i + lead + line.len()),
            KeyLine::Blank if marker => {}
            KeyLine::Blank | KeyLine::Header if body_end.is_none() => {}
            _ => break,
        }
        if marker {
            let rest = b.get(j..).unwrap_or(&[]);
            if rest.starts_with(b"-----END ") {
                // The END line's label is a few upper-case words; its closing dashes end the block.
                let label = rest.get(9..).unwrap_or(&[]);
                let n = label
                    .iter()
                    .take(64)
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b' ')
                    .count();
                if label.get(n..n + 5) == Some(b"-----".as_slice()) {
                    return j + 9 + n + 5;
                }
            }
            break;
        }
        // Past the line break (one byte, or two for an escape).
        i = match b.get(j) {
            Some(b'\n') => j + 1,
            Some(_) => j + 2,
            None => break,
        };
    }
    body_end.unwrap_or(header_end)
}

/// Whether the body of a key block holds key material rather than an illustration
/// (`MIIE...`, `<your key here>`, `AAAA...`). A key body is long base64 that uses most of the
/// alphabet; unlike tokens it may hold long runs (`AAAAAAAA` in OpenSSH and DER length
/// fields), so runs are not held against it.
fn key_body_ok(body: &str) -> bool {
    let mut seen = [false; 128];
    let (mut b64, mut distinct, mut sequential) = (0usize, 0usize, 0usize);
    let mut prev = 0u8;
    for c in body.bytes().filter(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/')) {
        b64 += 1;
        if let Some(slot) = seen.get_mut(usize::from(c)) {
            if !*slot {
                *slot = true;
                distinct += 1;
            }
        }
        sequential += usize::from(c == prev.wrapping_add(1));
        prev = c;
    }
    // 64 random base64 characters show about 40 distinct symbols.
    b64 >= 64 && distinct >= 32 && sequential * 3 < b64
}

/// A PuTTY private key file (`PuTTY-User-Key-File-2:` or `-3:`, the header of a `.ppk` file):
/// its end, after the `Private-MAC` line (or, cut short, after the private base64 lines),
/// when the file shows its private lines. The walk follows the file's own lines (`Encryption:`,
/// `Comment:`, `Public-Lines:`, `Private-Lines:`, key-derivation fields, base64 lines) and stops
/// at the first other line, so it never crosses into a following file.
fn putty_key_end(text: &str, header_end: usize) -> Option<usize> {
    const FIELDS: &[&str] =
        &["Encryption:", "Comment:", "Public-Lines:", "Private-Lines:", "Key-Derivation:", "Argon2-"];
    let rest = text.get(header_end..)?;
    // The header line's own rest (the key type).
    let mut at = header_end + rest.find('\n').unwrap_or(rest.len());
    let mut private_body: Option<(usize, usize)> = None;
    let mut in_private = false;
    while let Some(line_start) = text.get(at..).and_then(|r| r.strip_prefix('\n')).map(|_| at + 1) {
        let line_all = text.get(line_start..).unwrap_or("");
        let line_len = line_all.find('\n').unwrap_or(line_all.len());
        let line = line_all.get(..line_len).unwrap_or("").trim_end_matches('\r');
        let line_end = line_start + line_len;
        if line.starts_with("Private-MAC:") || line.starts_with("Private-Hash:") {
            return private_body.map(|_| line_start + line.len());
        }
        if line.starts_with("Private-Lines:") {
            in_private = true;
        } else if FIELDS.iter().any(|f| line.starts_with(f)) {
            in_private = false;
        } else if !line.is_empty() && line.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
        {
            if in_private {
                let first = private_body.map_or(line_start, |(s, _)| s);
                private_body = Some((first, line_start + line.len()));
            }
        } else {
            break;
        }
        at = line_end;
    }
    // Cut short after the private lines: mask to their end, if they hold key material.
    let (s, e) = private_body?;
    let random = text.get(s..e).is_some_and(|b| b.bytes().filter(u8::is_ascii_alphanumeric).count() >= 32);
    random.then_some(e)
}

/// A token of the `secrets` catalogue: a whole word, not the middle of a longer base64 run
/// (`...+EZAK...` inside a signature), whose body looks random and is not a stand-in.
fn vendor_token_check(text: &str, vs: usize, ve: usize, body: Body) -> Option<Scored> {
    let v = text.get(vs..ve)?;
    let in_base64 = byte_before(text, vs).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');
    let b = body_of(v, body);
    let ok = !in_base64
        && !touches_word(text, vs, ve)
        && looks_random(b)
        && !is_stand_in(b)
        && !v.to_ascii_lowercase().contains("example");
    ok.then_some((vs, ve, 0.95))
}

/// A value assigned to a key named after a vendor: the keyword starts a word (`twilio_token`,
/// `fbToken`... not `rookTable`), and the value is random letters and digits, not a name,
/// reference or stand-in.
fn vendor_assignment_check(text: &str, kw_start: usize, vs: usize, ve: usize) -> Option<Scored> {
    let kw_first = byte_at(text, kw_start)?;
    let glued = byte_before(text, kw_start).is_some_and(|c| c.is_ascii_alphanumeric());
    if glued && !(kw_first.is_ascii_uppercase() && byte_before(text, kw_start).is_some_and(|c| c.is_ascii_lowercase()))
    {
        return None;
    }
    let v = text.get(vs..ve)?;
    let mixed = v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic());
    let ok = mixed
        && !touches_word(text, vs, ve)
        && looks_random(v)
        && !is_stand_in(v)
        && !is_reference(v)
        && !breaks_vendor_format(text, kw_start, vs, v);
    ok.then_some((vs, ve, 0.85))
}

/// Name parts that say a `key` is not a secret: database and storage keys, published keys,
/// identifiers of a key rather than the key.
const NOT_SECRET_KEY_PARTS: &[&str] = &[
    "public",
    "pub",
    "primary",
    "foreign",
    "sort",
    "partition",
    "cache",
    "idempotency",
    "object",
    "s3",
    "row",
    "hash",
    "range",
    "map",
    "dict",
    "lookup",
    "index",
    "unique",
    "composite",
    "routing",
    "dedup",
    "dedupe",
    "ssh",
];

/// A vendor's documented key format, for vendors whose keys have no prefix of their own.
#[derive(Debug, Clone, Copy)]
enum VendorFormat {
    /// This many lower-case hex digits (machine-written hex has one case).
    LowerHex(usize),
    /// 32 lower-case hex digits, `-us` and a data centre's number of one or two digits.
    HexDataCentre,
}

impl VendorFormat {
    fn holds(self, v: &str) -> bool {
        let lower_hex = |s: &str| s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        match self {
            VendorFormat::LowerHex(n) => v.len() == n && lower_hex(v),
            VendorFormat::HexDataCentre => v.split_once("-us").is_some_and(|(key, dc)| {
                key.len() == 32
                    && lower_hex(key)
                    && (1..=2).contains(&dc.len())
                    && dc.bytes().all(|c| c.is_ascii_digit())
            }),
        }
    }
}

/// Vendors named in a key's name, with the format of their keys (as the vendors document them,
/// cross-checked against the public gitleaks rules). A value under such a name that breaks the
/// format (another length, a letter of the other case, a character outside the alphabet) is not
/// that vendor's key: an edited example, or another field of the vendor's configuration.
const VENDOR_KEY_FORMATS: &[(&str, VendorFormat)] = &[
    // Cisco Meraki dashboard API keys.
    ("meraki", VendorFormat::LowerHex(40)),
    // Mailchimp (Marketing API) keys.
    ("mailchimp", VendorFormat::HexDataCentre),
];

/// Where the whole name a keyword found at `kw_start` is part of (`meraki_api_key` for `api`)
/// starts and ends, before the value's separator at `vs`.
fn key_name(text: &str, kw_start: usize, vs: usize) -> (usize, usize) {
    let name_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    let before = text.as_bytes().get(..kw_start).unwrap_or(&[]);
    let name_start = before.iter().rposition(|&c| !name_char(c)).map_or(0, |i| i + 1);
    let key_end = kw_start + text.get(kw_start..vs).unwrap_or("").bytes().take_while(|&c| name_char(c)).count();
    (name_start, key_end)
}

/// Whether the key's name names a vendor whose documented key format the value `v` breaks.
fn breaks_vendor_format(text: &str, kw_start: usize, vs: usize, v: &str) -> bool {
    let (name_start, name_end) = key_name(text, kw_start, vs);
    let name = text.as_bytes().get(name_start..name_end).unwrap_or(&[]);
    let names = |vendor: &str| name.windows(vendor.len()).any(|w| w.eq_ignore_ascii_case(vendor.as_bytes()));
    VENDOR_KEY_FORMATS.iter().any(|(vendor, format)| names(vendor) && !format.holds(v))
}

/// A random value under a name ending in `key` (a part of its own: `signing_key`, `SIGNING_KEY`,
/// `signingKey`, not `monkey`) or naming an authentication or a session. The value must look
/// random (twenty characters or more) and mix letters and digits; hex digests and UUIDs (all hex) are identifiers, not
/// credentials, and stay.
fn keyed_random_check(text: &str, kw_start: usize, vs: usize, ve: usize) -> Option<Scored> {
    key_form(text, kw_start, vs, ve)?;
    let (name_start, key_end) = key_name(text, kw_start, vs);
    let name = text.get(name_start..key_end)?;
    let word = text.get(kw_start..key_end)?.to_ascii_lowercase();
    let prev = byte_before(text, kw_start);
    let kw_first = byte_at(text, kw_start)?;
    // The keyword opens a part of the name: after a separator, at a camelCase step, or first.
    let opens_part = match prev {
        None => true,
        Some(c) if !c.is_ascii_alphanumeric() => true,
        Some(c) => c.is_ascii_lowercase() && kw_first.is_ascii_uppercase(),
    };
    let parts: Vec<String> = split_name(name);
    // A session's id is its credential (`session_id`, `PHPSESSID`).
    let session = word.starts_with("session") || word.starts_with("sessid");
    if word.starts_with("key") {
        // `key` closes the name (`signing_key`, not `key_id` or `keyboard`), and is not alone.
        if !opens_part || word != "key" || parts.len() < 2 {
            return None;
        }
    } else if !(opens_part || session) {
        return None;
    }
    let not_secret = |p: &String| {
        NOT_SECRET_KEY_PARTS.contains(&p.as_str())
            || (METADATA_SUFFIXES.contains(&p.as_str()) && !(session && p == "id"))
    };
    if parts.iter().any(not_secret) {
        return None;
    }
    if parts.iter().any(|p| matches!(p.as_str(), "csrf" | "xsrf" | "publishable" | "authenticity")) {
        return None;
    }
    // `auth` as a word of its own (`auth`, `X-Auth-Token`, `authKey`), not `author`, `authority`.
    if word.starts_with("auth") && !parts.iter().any(|p| p == "auth") {
        return None;
    }
    let v = text.get(vs..ve)?;
    let core = v.trim_end_matches('=');
    let mixed = core.bytes().any(|b| b.is_ascii_digit()) && core.bytes().any(|b| b.is_ascii_alphabetic());
    let hex_id = core.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    // A long random run of letters alone is a key too (some issuers' alphabets have no digits).
    // Twenty characters at least: shorter values under such names are labels (`SalesResults-1.2`).
    let ok = core.len() >= 20
        && (mixed || core.len() >= 24)
        && reads_random(core)
        && !hex_id
        && !touches_word(text, vs, ve)
        && looks_random(core)
        && !is_stand_in(core)
        && !is_reference(core)
        && !breaks_vendor_format(text, kw_start, vs, v);
    ok.then_some((vs, ve, 0.8))
}

/// Letters that read as random rather than as words: both cases, and the case changes often
/// (`CdqgVLzRgZBYBepq`, not `thepassionatecerealkiller` or `SalesResults`). Digits count as a
/// third class, so the same test judges mixed values.
fn reads_random(v: &str) -> bool {
    let class = |c: u8| match c {
        b'a'..=b'z' => 0,
        b'A'..=b'Z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let b = v.as_bytes();
    let changes = b.windows(2).filter(|w| w.first().map(|&c| class(c)) != w.get(1).map(|&c| class(c))).count();
    let upper = b.iter().any(u8::is_ascii_uppercase);
    let lower = b.iter().any(u8::is_ascii_lowercase);
    // Words are about two-fifths vowels, random letters one in five: letters alone with many
    // vowels are a name (`AzureADTokenProvider`), not a key.
    let digits = b.iter().any(u8::is_ascii_digit);
    // Letters alone are judged as words or not (`word_like`), which also covers the few case
    // changes of a name; counting changes there too would refuse random letters by chance.
    let random = if digits { changes * 4 >= b.len() } else { !word_like(b) };
    upper && lower && random && looks_random(v)
}

/// Consonant pairs that English words are made of (clusters and doubled letters): inside a
/// word, any other pair of consonants is rare.
const WORD_CLUSTERS: &[&[u8; 2]] = &[
    b"bl", b"br", b"ch", b"ck", b"cl", b"cr", b"ct", b"dr", b"fl", b"fr", b"ft", b"gh", b"gl", b"gn", b"gr", b"kn",
    b"ld", b"lf", b"lk", b"lm", b"lp", b"ls", b"lt", b"lv", b"mb", b"mn", b"mp", b"ms", b"nc", b"nd", b"nf", b"ng",
    b"nk", b"ns", b"nt", b"nv", b"ph", b"pl", b"pr", b"ps", b"pt", b"rb", b"rc", b"rd", b"rf", b"rg", b"rk", b"rl",
    b"rm", b"rn", b"rp", b"rs", b"rt", b"rv", b"sc", b"sh", b"sk", b"sl", b"sm", b"sn", b"sp", b"st", b"sw", b"th",
    b"tr", b"ts", b"tw", b"wh", b"wn", b"wr", b"xt",
];

/// Whether letters read as words joined into a name (`AzureADTokenProvider`,
/// `thepassionatecerealkiller`) rather than as random letters (`SfKQarykFIWqpatUtOxJnav`). A
/// name has many vowels (about two letters in five; random letters one in five), few capitals
/// (one a word, besides acronyms; random letters one in two), and inside its words the
/// consonants pair as English clusters do. Random letters pass all three by chance about once
/// in 2,500 (a random key of 32 to 40 letters and digits, with no digit, once in 700,000), where the
/// vowel count alone let one in 18 through; 98% of the vowel-rich identifiers of a large body of
/// source code still read as names.
fn word_like(b: &[u8]) -> bool {
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let vowel = |c: u8| matches!(c.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
    let vowels = b.iter().filter(|c| matches!(c.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u')).count();
    let capitals = b.iter().filter(|c| c.is_ascii_uppercase()).count();
    // Pairs inside a word: the second letter lower case (a capital starts a word or an acronym).
    let odd_pairs = b
        .windows(2)
        .filter(|w| {
            let (x, y) = (w[0].to_ascii_lowercase(), w[1]);
            w[0].is_ascii_alphabetic()
                && y.is_ascii_lowercase()
                && !vowel(x)
                && !vowel(y)
                && x != y
                && !WORD_CLUSTERS.contains(&&[x, y])
        })
        .count();
    vowels * 10 > letters * 3 && capitals * 5 <= letters * 2 && odd_pairs <= 3
}

/// The words of a name, lower case: split at `_`, `-`, `.` and camelCase steps.
fn split_name(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.') {
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Whether most neighbouring characters of `v` count up inside runs of three or more (`abc`,
/// `123`, `AbCdeF`): keyboard and alphabet runs that stand for a value in examples
/// (`dapi1234567890...`, `AbCeFG123`). Counted on the value as written (punctuation breaks a
/// run); two short runs inside a random password (`dxYzl_MN+5`, `rtWXy3gHia`) are chance.
fn mostly_sequential(v: &str) -> bool {
    let b: Vec<u8> = v.bytes().map(|c| c.to_ascii_lowercase()).collect();
    let alnum = b.iter().filter(|c| c.is_ascii_alphanumeric()).count();
    let pairs = alnum.saturating_sub(1);
    // `run` counts the rising steps of the current run; runs of two or more steps are counted.
    let (mut rising, mut run) = (0usize, 0usize);
    for (i, &c) in b.iter().enumerate() {
        let step = i > 0
            && c.is_ascii_alphanumeric()
            && b.get(i - 1).is_some_and(|&p| p.is_ascii_alphanumeric() && p.wrapping_add(1) == c);
        if step {
            run += 1;
        } else {
            if run >= 2 {
                rising += run;
            }
            run = 0;
        }
    }
    if run >= 2 {
        rising += run;
    }
    pairs >= 5 && rising * 2 > pairs
}

/// Values that name or stand for a secret rather than being one.
fn is_stand_in(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    let filler = v.bytes().all(|c| c == v.as_bytes().first().copied().unwrap_or(b'*'));
    // `your` opens a stand-in (`your_api_key`, `<YOUR-TOKEN>`, `yourkeyhere`); inside random
    // letters (`...DzYoURH...`) it is chance.
    let your = lower
        .match_indices("your")
        .any(|(i, _)| !lower.as_bytes().get(i.wrapping_sub(1)).is_some_and(u8::is_ascii_alphanumeric));
    filler
        || stand_in_run(v)
        || mostly_sequential(v)
        || v.starts_with('$')
        || v.starts_with('%')
        || your
        || lower.contains("example")
        || lower.contains("redacted")
        || lower.contains("placeholder")
        || changeme(&lower)
        || matches!(lower.as_str(), "true" | "false" | "null" | "none" | "undefined" | "required" | "optional" | "string" | "hidden" | "empty" | "secret" | "password" | "token" | "pass" | "passwd" | "test")
        // A placeholder we produced ourselves (`[SECRET_1]`-like) is cut at `[` by the regex.
        || v.ends_with(']')
}

/// The `change me` family of defaults and stand-ins (`changeme`, `Change-Me!`, `changeit`,
/// `replace_me123`): the value, its separators dropped, is such a word with at most a few
/// characters after it. Inside a longer random value the letters are chance (`…sETmE…`).
fn changeme(lower: &str) -> bool {
    let alnum: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    ["changeme", "changeit", "replaceme", "changethis"]
        .iter()
        .any(|w| alnum.strip_prefix(w).is_some_and(|rest| rest.len() <= 4))
}

/// A run of one character that stands for the value (`xxxxxxxx`, `sk_live_000000`): six or more,
/// and a quarter of the value or ten characters. A shorter run inside a long random body is
/// chance (six equal digits among 64 hex digits, about once in 18,000 tokens).
fn stand_in_run(v: &str) -> bool {
    let run = super::validate::longest_run(v.as_bytes());
    run >= 6 && (run * 4 >= v.len() || run >= 10)
}

/// How a value refers to a secret instead of holding one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Reference {
    Url,
    FilePath,
    SnakeName,
    UpperName,
    CodePath,
    Version,
}

/// Values that refer to a secret instead of holding one: URLs, dotted code paths
/// (`settings.api_key`), version strings, and upper-case names (`ACCESS_TOKEN`, `K8S_CRED`).
fn is_reference(v: &str) -> bool {
    reference(v).is_some()
}

/// Words that name a credential inside a code path (`settings.db_password`, `cfg.apiKey`).
const PATH_CREDENTIAL_PARTS: &[&str] = &["pass", "pwd", "secret", "token", "key", "cred", "auth"];

/// Receivers a code path starts from (`self.x`, `config.db.x`, `os.environ`).
const RECEIVERS: &[&str] = &[
    "self", "this", "config", "conf", "cfg", "settings", "env", "os", "process", "app", "options", "opts", "args",
    "params", "secrets", "vault", "ctx", "context", "request", "req", "props", "values", "data",
];

/// Whether a dotted value reads as code, not as a password that holds a dot: a segment names a
/// credential or the path starts from a common receiver. A password key's value must show one of
/// these to be a code path (`u.nwigqussu0` is a password).
fn code_like_path(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    let first = lower.split('.').next().unwrap_or("");
    RECEIVERS.contains(&first)
        || lower.split('.').skip(1).any(|seg| PATH_CREDENTIAL_PARTS.iter().any(|w| seg.contains(w)))
}

/// Which kind of reference `v` is, if any.
fn reference(v: &str) -> Option<Reference> {
    if v.contains("://") {
        return Some(Reference::Url);
    }
    // A file path (`/etc/app/token`, `./secrets.env`, `path/to/private_key.pem`): where a
    // secret is kept, not the secret.
    let last = v.rsplit('/').next().unwrap_or("");
    let extension = last.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && (1..=5).contains(&ext.len()) && ext.bytes().all(|c| c.is_ascii_lowercase())
    });
    let name_segments = v.split('/').all(|seg| {
        seg.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'_' | b'~'))
    });
    let rooted = ["/", "./", "../", "~/"].iter().any(|p| v.starts_with(p));
    if v.contains('/') && !v.contains(['+', '=']) && (extension || (rooted && name_segments)) {
        return Some(Reference::FilePath);
    }
    // A snake_case name (`access_token`, `my_secret`): a variable standing for the value.
    if v.contains('_') && v.bytes().all(|c| c.is_ascii_lowercase() || c == b'_') {
        return Some(Reference::SnakeName);
    }
    // Names are made of short words; a long segment (`API-ZNRMR7SL6L3ATMOIK7GK`) is a key.
    // ... and at least one of them a word of letters (`K8S_CRED`, not `E1NW3-YBX7`).
    let upper_name = v.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
        && (v.contains('_') || v.contains('-'))
        // A name keeps one separator (`DB_HOST`, `X-API-KEY`); both in one value (`E8_PDKG-DH`)
        // is a password's mix.
        && !(v.contains('_') && v.contains('-'))
        // A name's words are joined by one separator (`G5_-T_X` is not a name).
        && !v.trim_matches(['_', '-']).split(['_', '-']).any(str::is_empty)
        && v.split(['_', '-']).all(|seg| seg.len() <= 10)
        && v.split(['_', '-']).any(|seg| seg.len() >= 3 && seg.bytes().all(|c| c.is_ascii_uppercase()))
        && !v.split(['_', '-']).any(|seg| seg.bytes().next().is_some_and(|c| c.is_ascii_digit()));
    let segments: Vec<&str> = v.split('.').collect();
    // Names put digits at the end of a word (`v2`, `utf8`) or inside a short abbreviation
    // (`k8s`, `i18n`); letters and digits that alternate twice or more in one segment
    // (`oo0u6zn`), or digits inside a longer one (`ta49dl`), are a password's, not a name's.
    let alternating = |seg: &str| {
        let steps = |letter_first: bool| {
            seg.as_bytes()
                .windows(2)
                .filter(|w| {
                    let (a, b) = (w.first().copied().unwrap_or(0), w.get(1).copied().unwrap_or(0));
                    let (x, y) = if letter_first { (a, b) } else { (b, a) };
                    x.is_ascii_alphabetic() && y.is_ascii_digit()
                })
                .count()
        };
        let (into_digits, out_of_digits) = (steps(true), steps(false));
        into_digits >= 2 || (seg.len() > 4 && into_digits + out_of_digits >= 2)
    };
    // A code path's segments are names: lower case (`api_key`, `v2`) or words without digits
    // (`Settings`, `apiKey`, `API_KEY`). Mixed case with digits (`uLhl0.bavlX5J`) is a password
    // that happens to hold a dot.
    // A value mixing digits with both cases is a password, whatever its dots.
    let password_like = v.bytes().any(|c| c.is_ascii_digit())
        && v.bytes().any(|c| c.is_ascii_uppercase())
        && v.bytes().any(|c| c.is_ascii_lowercase());
    let dotted = !password_like
        && segments.len() >= 2
        && !segments.iter().any(|seg| alternating(seg))
        && segments.iter().all(|seg| {
            let seg = seg.split(':').next().unwrap_or("");
            let lower = seg.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-');
            let no_digits = !seg.bytes().any(|c| c.is_ascii_digit());
            seg.bytes().next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
                && seg.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                && (lower || no_digits)
        });
    let tail = segments.iter().rev().take(2).all(|seg| !seg.is_empty() && seg.bytes().all(|c| c.is_ascii_digit()));
    let version = segments.len() >= 3 && tail;
    if upper_name {
        Some(Reference::UpperName)
    } else if version {
        Some(Reference::Version)
    } else if dotted {
        Some(Reference::CodePath)
    } else {
        None
    }
}

/// Key suffixes that name a property of a secret rather than the secret.
const METADATA_SUFFIXES: &[&str] = &[
    "type",
    "url",
    "uri",
    "name",
    "id",
    "count",
    "len",
    "length",
    "limit",
    "path",
    "file",
    "endpoint",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "timeout",
    "size",
    "format",
    "header",
    "field",
    "prefix",
    "policy",
    "version",
    "hint",
    "label",
    "enabled",
    "required",
    "min",
    "max",
    "env",
    "var",
    "ref",
    "arn",
    "location",
    "hash",
    "algorithm",
];

/// Whether the key before a value (its name around the keyword at `kw_start`) and what
/// separates them make one of the forms people write: `Some(true)` for an assignment (`:`, `=`,
/// "is", a `name`/`value` pair), `Some(false)` for a form whose place in a structure makes the
/// value the key's whole value (an XML element, a property list entry, a two-column table row,
/// a command-line option), `None` for anything else (`password reset`, `<b>token</b>` in prose).
/// The end of a value at the first `&name=` inside it (the next field of a query string or a
/// form body), else `ve`.
fn query_field_end(text: &str, vs: usize, ve: usize) -> usize {
    let v = text.get(vs..ve).unwrap_or("");
    let mut from = 0;
    while let Some(i) = v.get(from..).and_then(|r| r.find('&')).map(|i| from + i) {
        let rest = &v[i + 1..];
        let name = rest.bytes().take_while(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')).count();
        if name > 0
            && rest.as_bytes().get(name) == Some(&b'=')
            && rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        {
            return vs + i;
        }
        from = i + 1;
    }
    ve
}

fn key_form(text: &str, kw_start: usize, vs: usize, ve: usize) -> Option<bool> {
    let name_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    let before = text.get(..kw_start)?.as_bytes();
    let name_start = before.iter().rposition(|&c| !name_char(c)).map_or(0, |i| i + 1);
    let key_end = kw_start + text.get(kw_start..vs)?.bytes().take_while(|&c| name_char(c)).count();
    let sep = text.get(key_end..vs)?.trim_start_matches(['\\', '"', '\'', ']']);
    let opened_by = before.get(..name_start).and_then(|b| b.last()).copied();
    let assigned = sep.contains([':', '=']) || sep.trim_start().starts_with(['i', 'I', 'w', 'W']);
    // A name and value pair (`name: DB_PASSWORD` then `value: ...`, as in Kubernetes and ECS
    // environment lists): the keyword is the value of a `name` key.
    if sep.to_ascii_lowercase().contains("value") {
        let lead = text.get(..name_start)?.trim_end_matches(['"', '\'', ' ', '\t', '\\']);
        let lead = lead.strip_suffix([':', '=']).unwrap_or("");
        if !lead.trim_end_matches(['"', '\'', ' ', '\t', '\\']).to_ascii_lowercase().ends_with("name") {
            return None;
        }
    }
    if assigned {
        return Some(true);
    }
    let after = text.get(ve..).unwrap_or("");
    let form_ok = if sep.starts_with("</") {
        // A property list: `<key>password</key><string>value</string>`.
        text.get(..name_start).is_some_and(|b| b.to_ascii_lowercase().ends_with("<key>")) && after.starts_with("</")
    } else if sep.starts_with('>') {
        // An element: `<password>value</password>`.
        opened_by == Some(b'<') && after.starts_with("</")
    } else if sep.trim_start().starts_with('|') {
        // A row of a two-column table: `| password | value |`, nothing else on the line.
        let line_start = text.get(..name_start).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
        let lead = text.get(line_start..name_start).unwrap_or("").trim();
        let rest = after.split('\n').next().unwrap_or("").trim();
        matches!(lead, "" | "|") && matches!(rest, "" | "|")
    } else {
        // A command-line option: `--password value`, `--api-key value`.
        text.get(name_start..kw_start).is_some_and(|n| n.starts_with('-'))
    };
    form_ok.then_some(false)
}

/// Whether the keyword at `kw_start` names a password or a secret (not a token or a key name).
fn names_password(text: &str, kw_start: usize) -> bool {
    let kw = text.get(kw_start..).unwrap_or("").as_bytes();
    let head = kw.get(..kw.len().min(12)).unwrap_or(&[]).to_ascii_lowercase();
    ["pass", "pwd", "secret", "contrase", "senha", "wachtwoord"].iter().any(|w| head.starts_with(w.as_bytes()))
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
    let assigned = key_form(text, kw_start, vs, ve)?;
    // `password=abc&page=2`: in a query string or a form body `&name=` starts the next field.
    let ve = query_field_end(text, vs, ve);
    let v = text.get(vs..ve)?;
    // `{\"token\": \"value\"}`: JSON inside a JSON string; the value's closing quote is escaped.
    let escaped_quote =
        text.get(..vs).is_some_and(|b| b.ends_with("\\\"")) && text.get(ve..).is_some_and(|a| a.starts_with('"'));
    let (v, ve) = match v.strip_suffix('\\') {
        Some(inner) if escaped_quote => (inner, ve - 1),
        _ => (v, ve),
    };
    // `token is secret.\n`: a line break written as an escape (in a JSON string) after a word
    // that stands in for a value. Passwords may hold a backslash, so a value is not cut there.
    let head = ["\\n", "\\r", "\\t"].iter().filter_map(|e| v.find(e)).min().map(|i| &v[..i]);
    if head.is_some_and(|h| h.len() >= 3 && is_stand_in(h.trim_end_matches(['.', ':']))) {
        return None;
    }
    // `ops_eyJzaWdu...`, `sk-…`: an elided value illustrates a format.
    if v.ends_with("..")
        || v.ends_with('…')
        || text.get(ve..).is_some_and(|r| r.starts_with("..") || r.starts_with('…'))
    {
        return None;
    }
    let v = v.trim_end_matches(['.', ':']);
    let ve = vs + v.len();
    if v.len() < 4 || is_stand_in(v) {
        return None;
    }
    let sep_region = text.get(kw_start..vs).unwrap_or("");
    // A password's key (`DB_PASSWORD`, `secret`): its value is a secret unless it plainly is
    // not one. A quoted value after `=` (`PASSWORD="E8_PDKG-DH"`) is a literal, not a name; a
    // dotted value is a code path only when it reads as code (`settings.db_password`).
    let password_key = names_password(text, kw_start);
    let quoted_literal = sep_region.contains('=') && (sep_region.ends_with('"') || sep_region.ends_with('\''));
    let refers = match reference(v) {
        None => false,
        Some(Reference::Url) => true,
        Some(_) if password_key && quoted_literal => false,
        // `"client_secret": config.Secret{...}`, `secret = vault.Read(...)`: a path that opens a
        // call or a composite literal is code.
        Some(Reference::CodePath) if password_key => {
            code_like_path(v) || matches!(byte_at(text, ve), Some(b'(' | b'{'))
        }
        Some(_) => true,
    };
    if refers {
        return None;
    }
    // `token_type`, `password_min_length`, `api_key_url`: settings about a secret, not one.
    let key: String = text
        .get(kw_start..vs)
        .unwrap_or("")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect::<String>()
        .to_ascii_lowercase();
    if key.split(['_', '-', '.']).skip(1).any(|part| METADATA_SUFFIXES.contains(&part)) {
        return None;
    }
    // `meraki_token = <hex of another length>`: not the named vendor's key. A password under a
    // vendor's name is a password whatever its form.
    if !password_key && breaks_vendor_format(text, kw_start, vs, v) {
        return None;
    }
    // `publicToken`, `public_key`: published by design.
    let lead = text.get(kw_start.saturating_sub(8)..kw_start).unwrap_or("").to_ascii_lowercase();
    // `csrf_token`, `xsrf-token`: anti-forgery values, echoed in every page of a session.
    let lead = if lead.ends_with('_') || lead.ends_with('-') {
        text.get(kw_start.saturating_sub(16)..kw_start).unwrap_or("").to_ascii_lowercase()
    } else {
        lead
    };
    if lead.contains("public")
        || lead.contains("publish")
        || lead.contains("csrf")
        || lead.contains("xsrf")
        || lead.contains("authenticity")
    {
        return None;
    }
    // A quoted value, or one whose place in a structure says it is the key's whole value.
    let quoted = sep_region.ends_with('"') || sep_region.ends_with('\'') || !assigned;
    let equals = sep_region.contains('=');
    // Letters of any script: `oublié`, `obligatoria` are words, not passwords.
    // A long random run of letters (`CdqgVLzRgZBYBepqkpEY...`) is not a word.
    let letters_only = v.chars().all(char::is_alphabetic) && !(v.len() >= 16 && reads_random(v));
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
