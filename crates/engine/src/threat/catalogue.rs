//! The rule catalogue: every rule id the filter can report (in the `x-prompt-guard-rules` header,
//! logs and metrics), with its category, its weight and one line of what it matches.
//!
//! Pattern rules come from the rule tables themselves (their `about` field); rules decided by
//! code (the SQL injection lexer, hidden characters, reply findings) are listed here in
//! [`CODE_RULES`]. `docs/rules.md` is generated from [`markdown`], and a test fails when the two
//! differ, when an id is malformed or listed twice, or when the source names an id the
//! catalogue does not list.

use super::rules::{all_rules, View};
use super::Category;
use super::{model, reply, scanner, sqli, suffix};

/// Where a rule's finding goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A request text scored in this category.
    Request(Category),
    /// A reply finding (canary, links and images that carry data).
    Reply,
}

impl Family {
    pub const fn name(self) -> &'static str {
        match self {
            Family::Request(c) => c.name(),
            Family::Reply => "reply",
        }
    }

    /// The two letters after `PG-` in the ids of this family.
    pub const fn prefix(self) -> &'static str {
        match self {
            Family::Request(c) => c.rule_prefix(),
            Family::Reply => "RP",
        }
    }
}

/// How much one hit of a rule weighs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weight {
    Fixed(f32),
    /// Decided by the code from what it found, within these bounds.
    Between(f32, f32),
    /// A reply finding: acted on (removed, stream ended) or counted, not scored.
    None,
}

/// What reads the text for a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// A pattern over one normalised view.
    Pattern(View),
    /// Code: the SQL lexer, the hidden-character count, the reply scanner.
    Code,
}

/// One catalogue line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub id: &'static str,
    pub family: Family,
    pub weight: Weight,
    pub reader: Reader,
    pub about: &'static str,
}

const fn code(id: &'static str, family: Family, weight: Weight, about: &'static str) -> Entry {
    Entry { id, family, weight, reader: Reader::Code, about }
}

use Family::{Reply, Request};
use Weight::{Between, Fixed};

/// Rules decided by code rather than by one pattern.
pub static CODE_RULES: &[Entry] = &[
    code(sqli::id::UNION_SELECT, Request(Category::Sqli), Between(0.6, 0.9), "UNION SELECT (counts 0.6 in prose)"),
    code(sqli::id::STACKED_STATEMENT, Request(Category::Sqli), Fixed(0.85), "a stacked statement: `; drop …`, `; select …`, `; set @a=`"),
    code(sqli::id::TAUTOLOGY_AFTER_BOOLEAN, Request(Category::Sqli), Between(0.55, 0.8), "a tautology after a boolean operator: `or 1=1`, `and 'a'='a'`"),
    code(sqli::id::BOOLEAN_BETWEEN_LITERALS, Request(Category::Sqli), Fixed(0.35), "a boolean operator between two literals: `1 or 1`, `' or 'x`"),
    code(sqli::id::ATTACK_FUNCTION_OR_OBJECT, Request(Category::Sqli), Fixed(0.75), "a function only attacks call, called, or an object only attacks name (`information_schema`), named outside prose"),
    code(sqli::id::QUOTE_BREAK_OUT, Request(Category::Sqli), Between(0.0, 1.0), "a quote early in the text, with no prose before it, followed by a SQL operator, keyword or comment (a string break-out)"),
    code(sqli::id::COMMENT_AS_SPACE, Request(Category::Sqli), Fixed(0.6), "a comment used as a space between words, or a MySQL `/*!` comment"),
    code(sqli::id::TRAILING_COMMENT, Request(Category::Sqli), Fixed(0.45), "a SQL payload ending in a comment that cuts the rest of the query off"),
    code(sqli::id::WHOLE_STATEMENT, Request(Category::Sqli), Between(0.0, 1.0), "the whole value is a SQL statement rather than prose about SQL"),
    code(sqli::id::SQL_FRAGMENT, Request(Category::Sqli), Between(0.0, 1.0), "a value that is nothing but a piece of SQL: a SQL-only function called, operators and keywords without ordinary words, `) as x from`"),
    code(sqli::id::POSTGRES_CAST, Request(Category::Sqli), Between(0.0, 1.0), "PostgreSQL casts and JSON containment next to a quoted value: `'x'::jsonb`, `)::int`, `@>`"),
    code(sqli::id::ALWAYS_TRUE_COMPARISON, Request(Category::Sqli), Fixed(0.6), "a comparison of two literals that is always true, alone or after a comma or boolean: `1=1`, `'a'='a'` (also in SQL code)"),
    code(sqli::id::LONE_OPERATOR, Request(Category::Sqli), Fixed(0.5), "a short value that is a SQL operator alone (a scanner's probe)"),
    code(sqli::id::BOOLEAN_BETWEEN_QUOTES, Request(Category::Sqli), Fixed(0.6), "a boolean word squeezed between quotes (`a'or'a`), or an escaped quote followed by SQL (`\\' or 1`)"),
    code(sqli::id::SUB_SELECT, Request(Category::Sqli), Fixed(0.7), "a parenthesised sub-select `(select … from` in a value that is not a question about SQL"),
    code(sqli::id::QUERY_TAIL, Request(Category::Sqli), Fixed(0.6), "the tail of a query after a value: `' as \"x\" from`, `from t limit`, `case when … then`, `alter table x add`"),
    code(sqli::id::EXPRESSION_CONTINUED, Request(Category::Sqli), Fixed(0.5), "a quote followed by an operator that only continues an expression (`', 2, 1`), or nothing but quotes"),
    code(sqli::id::KEYWORD_PROBE, Request(Category::Sqli), Fixed(0.55), "a keyword probe: `except select`, `exec master.`, `procedure analyse`, `x like '`, the `1.e(` form"),
    code(sqli::id::ONLY_DESTROYS, Request(Category::Sqli), Fixed(0.6), "SQL code that only destroys: two or more drops, truncates or unconditioned deletes, nothing built or read"),
    code(scanner::id::INVISIBLE_CHARACTERS, Request(Category::Obfuscation), Between(0.15, 0.4), "invisible characters (zero-width, fillers); 0.4 from eight on"),
    code(scanner::id::BIDI_CONTROLS, Request(Category::Obfuscation), Fixed(0.35), "bidirectional control characters that reorder what a reader sees"),
    code(scanner::id::TAG_CHARACTERS, Request(Category::Obfuscation), Fixed(0.6), "Unicode tag characters (text invisible to a reader, read by a model)"),
    code(scanner::id::ENCODED_SEGMENT, Request(Category::Obfuscation), Fixed(0.3), "an encoded segment (base64, hex, escapes) whose decoded text matches rules the text as written does not"),
    code(model::ID, Request(model::CATEGORY), Between(0.5, model::MAX_WEIGHT), "the learned attack model (hashed character and word n-grams of the words view), asked only about a text in which the rules found evidence of an attack on the model, scores it above its threshold; the weight grows with the score"),
    code(suffix::ID, Request(suffix::CATEGORY), Between(suffix::MIN_WEIGHT, suffix::MAX_WEIGHT), "an adversarial suffix: a window of a user's text far outside the character model of ordinary text, after an ordinary request; the weight grows with the window's surprise"),
    code(reply::rule::CANARY, Reply, Weight::None, "the configured canary in a reply: the system prompt leaked"),
    code(reply::rule::IMAGE_CARRIES_CONVERSATION, Reply, Weight::None, "an image whose URL carries this conversation's data (fetched without a click)"),
    code(reply::rule::LINK_CARRIES_CONVERSATION, Reply, Weight::None, "a link whose URL carries this conversation's data"),
    code(reply::rule::DENIED_HOST, Reply, Weight::None, "an image or link to a denied host"),
    code(reply::rule::DATA_SHAPED_LINK, Reply, Weight::None, "a link or image to a host not allowed, with a data-shaped parameter (counted only)"),
];

/// Every rule, pattern rules and code rules, in id order.
pub fn entries() -> Vec<Entry> {
    let mut out: Vec<Entry> = all_rules()
        .map(|r| Entry {
            id: r.id,
            family: Family::Request(r.category),
            weight: Weight::Fixed(r.weight),
            reader: Reader::Pattern(r.view),
            about: r.about,
        })
        .chain(CODE_RULES.iter().copied())
        .collect();
    out.sort_by(|a, b| a.id.cmp(b.id));
    out
}

/// `PG-`, two capital letters, `-`, three digits.
pub fn well_formed(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 9
        && id.starts_with("PG-")
        && b[3..5].iter().all(u8::is_ascii_uppercase)
        && b[5] == b'-'
        && b[6..].iter().all(u8::is_ascii_digit)
}

fn weight_text(w: Weight) -> String {
    match w {
        Weight::Fixed(x) => format!("{x}"),
        Weight::Between(lo, hi) if lo == 0.0 && hi == 1.0 => "computed".to_owned(),
        Weight::Between(lo, hi) => format!("{lo}–{hi}"),
        Weight::None => "–".to_owned(),
    }
}

fn reader_text(r: Reader) -> &'static str {
    match r {
        Reader::Pattern(View::Words) => "words",
        Reader::Pattern(View::Plain) => "plain",
        Reader::Pattern(View::Payload) => "payload",
        Reader::Code => "code",
    }
}

/// A table cell: `|` escaped everywhere, and outside code spans the characters markdown would
/// read as markup (`<` opening a tag, `*` and `_` emphasis, `\\` escapes).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => in_code = !in_code,
            '|' => out.push('\\'),
            '<' if !in_code => {
                out.push_str("&lt;");
                continue;
            }
            '*' | '_' | '\\' if !in_code => out.push('\\'),
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The text of `src/threat/gate.rs`, the gate literals of every rule (see `scanner`).
pub fn gate_table() -> Result<String, super::scanner::RuleTableError> {
    super::scanner::gate_table_source()
}

/// The text of `docs/rules.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rule catalogue\n\n\
         <!-- Generated from the rule tables by `UPDATE_RULES_DOC=1 cargo test -p prompt-guard-engine --test engine catalogue`; do not edit by hand. -->\n\n\
         Every rule id the filter reports (the `x-prompt-guard-rules` header, logs, metrics). A category's score \
         combines the weights of the rules that hit in it (see [detection](detection.md)); a weight is what one hit \
         alone says, in (0, 1). *Reads*: `words` is the text folded to words one space apart, `plain` the lower-cased \
         text with punctuation, `payload` the plain view read for machine payloads (counted at half weight in prose), \
         `code` a rule decided by code (the SQL lexer, hidden characters, the reply scanner). Reply findings are not \
         scored: they are removed or end the stream (see [replies](replies.md)).\n",
    );
    let mut family = None;
    for e in entries() {
        let prefix = e.family.prefix();
        if family != Some(prefix) {
            family = Some(prefix);
            out.push_str(&format!(
                "\n## {} (`PG-{prefix}`)\n\n| id | weight | reads | matches |\n|---|---|---|---|\n",
                e.family.name()
            ));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            e.id,
            weight_text(e.weight),
            reader_text(e.reader),
            cell(e.about)
        ));
    }
    out
}
