//! SQL injection payload checks in the spirit of libinjection: the text is split into SQL tokens
//! and the token stream, not keywords alone, decides. Prose that talks about SQL ("how do I
//! write a SELECT query?") has no string break-out, no tautology after a boolean, no stacked
//! statement and not the density of SQL tokens a payload has.

use super::score::ThreatReport;
use super::Category;

mod lexer;
mod prose;
mod statement;
#[cfg(test)]
mod tests;
mod value;

/// Ids of the SQL rules decided by code (listed with what each matches in `threat::catalogue`).
pub mod id {
    /// UNION SELECT.
    pub const UNION_SELECT: &str = "PG-SQ-001";
    /// A stacked statement after a value.
    pub const STACKED_STATEMENT: &str = "PG-SQ-002";
    /// A tautology after a boolean operator.
    pub const TAUTOLOGY_AFTER_BOOLEAN: &str = "PG-SQ-003";
    /// A boolean operator between two literals.
    pub const BOOLEAN_BETWEEN_LITERALS: &str = "PG-SQ-004";
    /// A function or object only attacks use.
    pub const ATTACK_FUNCTION_OR_OBJECT: &str = "PG-SQ-005";
    /// A string break-out early in the text.
    pub const QUOTE_BREAK_OUT: &str = "PG-SQ-006";
    /// A comment used as a space, or a MySQL `/*!` comment.
    pub const COMMENT_AS_SPACE: &str = "PG-SQ-007";
    /// A payload ending in a comment that cuts the query off.
    pub const TRAILING_COMMENT: &str = "PG-SQ-008";
    /// The whole value is a SQL statement.
    pub const WHOLE_STATEMENT: &str = "PG-SQ-009";
    /// A value that is nothing but a piece of SQL.
    pub const SQL_FRAGMENT: &str = "PG-SQ-010";
    /// PostgreSQL casts and JSON containment next to a quoted value.
    pub const POSTGRES_CAST: &str = "PG-SQ-011";
    /// A comparison of two literals that always holds.
    pub const ALWAYS_TRUE_COMPARISON: &str = "PG-SQ-013";
    /// A short value that is a SQL operator alone.
    pub const LONE_OPERATOR: &str = "PG-SQ-014";
    /// A boolean word squeezed between quotes, or an escaped quote before SQL.
    pub const BOOLEAN_BETWEEN_QUOTES: &str = "PG-SQ-015";
    /// A parenthesised sub-select.
    pub const SUB_SELECT: &str = "PG-SQ-016";
    /// The tail of a query after a value.
    pub const QUERY_TAIL: &str = "PG-SQ-017";
    /// A quote followed by an operator that only continues an expression.
    pub const EXPRESSION_CONTINUED: &str = "PG-SQ-018";
    /// A keyword probe.
    pub const KEYWORD_PROBE: &str = "PG-SQ-019";
    /// SQL code that only destroys.
    pub const ONLY_DESTROYS: &str = "PG-SQ-020";
}

pub(super) use lexer::is_sql_keyword;
use lexer::*;
use prose::*;
use statement::*;
use value::*;

/// Values scanned on their own as well, at most: quoted strings and query parameter values.
const MAX_SUB_VIEWS: usize = 16;

/// SQL injection evidence in one view of a text, added to `report`. Quoted strings and query
/// parameter values are also scanned on their own, since a payload usually sits in one value
/// (`probe="1 or 1=1"`, `?id=1' or '1'='1`) and the quotes around it would hide it.
///
/// `as_written`: the view is a text as its author wrote it (not one decoded from a transport
/// encoding): only such a text can be SQL code a person writes (see `sql_statement`); a value
/// inside it, or SQL that arrived percent-encoded, is a value.
///
/// What follows a quote nobody opened in the text (`… named ' OR 1=1; --`) is a value broken out
/// of: its findings go to `breakout`, which counts in full even in text about code.
pub fn scan_sqli(view: &str, as_written: bool, report: &mut ThreatReport, breakout: &mut ThreatReport) {
    // Whether the whole view is prose is asked several times below; it is read once.
    let prose = Prose::new();
    let mut reach = scan_sqli_view(view, &prose, as_written, report);
    // A long text goes on past the tokens one view reads: the rest is read in windows, for the
    // shapes that count even in prose, so padding cannot push a payload out of sight.
    for _ in 0..MAX_WINDOWS {
        let Some(at) = reach else { break };
        let Some(rest) = view.get(at..) else { break };
        reach = prose_level_window(rest, report).map(|r| at + r);
    }
    let (subs, broken_out) = sub_views(view, &prose);
    for sub in subs.into_iter().take(MAX_SUB_VIEWS) {
        scan_sqli_view(sub, &Prose::new(), false, report);
    }
    if let Some(after) = broken_out {
        scan_sqli_view(after, &Prose::new(), false, breakout);
    }
}

/// Windows read past the first `MAX_TOKENS` tokens of a text, at most (about 1 MB of SQL-dense
/// text; a request body is smaller than that by default).
const MAX_WINDOWS: usize = 512;
/// Tokens a window shares with the one before it, so that a shape on the seam is whole in one.
const WINDOW_OVERLAP: usize = 8;

/// Where the next window starts when `lexemes` filled the token budget: a few tokens back.
fn next_window(lexemes: &[Lexeme]) -> Option<usize> {
    (lexemes.len() >= MAX_TOKENS).then(|| lexemes.get(lexemes.len() - WINDOW_OVERLAP).map(|l| l.start)).flatten()
}

/// One window past the first: the prose-level shapes only (as if it were prose, whatever it
/// is: the text around it was already judged). Returns where the next window starts.
fn prose_level_window(window: &str, report: &mut ThreatReport) -> Option<usize> {
    // Without a prose-level shape here, the rest can be skipped too.
    if !may_hold_prose_shape(window) {
        return None;
    }
    let lexemes = lex(window);
    let toks: Vec<Tok> = lexemes.iter().map(|l| l.tok).collect();
    prose_level_shapes(window, &lexemes, &toks, &skeleton(&toks), true, report);
    next_window(&lexemes)
}

/// Whether one of `prose_level_shapes` could fire in `text`: each needs a `;` (a stacked
/// statement), `union` (UNION SELECT), or an attack function's name right before a `(` (a
/// parenthesis alone is common in prose).
fn may_hold_prose_shape(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr(b';', b).is_some() || memchr::memmem::find(b, b"union").is_some() || attack_call(text)
}

/// Whether an attack function's name stands right before a `(` somewhere (spaces allowed).
fn attack_call(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'(', b).any(|p| {
        let before = text.get(..p).unwrap_or("").trim_end_matches([' ', '\t']);
        let name_len =
            before.bytes().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$').count();
        before.get(before.len() - name_len..).is_some_and(|name| keyword(name) == Kw::AttackFn)
    })
}

/// The shapes that never occur in prose by accident: UNION SELECT, a stacked statement, an
/// attack function called (and, outside prose, an attack object named).
fn prose_level_shapes(
    view: &str,
    lexemes: &[Lexeme],
    toks: &[Tok],
    sk: &[Tok],
    prose: bool,
    report: &mut ThreatReport,
) {
    // Stacked statements and UNION SELECT.
    if sk.ends_with(&[Tok::Word(Kw::Union), Tok::Word(Kw::Select)]) {
        report.add(id::UNION_SELECT, Category::Sqli, if prose { 0.6 } else { 0.9 });
    }
    for w in sk.windows(3) {
        match w {
            [Tok::Word(Kw::Union), Tok::Word(Kw::Select), _]
            | [Tok::Word(Kw::Union), Tok::Word(Kw::Clause), Tok::Word(Kw::Select)] => {
                report.add(id::UNION_SELECT, Category::Sqli, if prose { 0.6 } else { 0.9 })
            }
            [Tok::Semi, Tok::Word(Kw::Statement | Kw::Select), next] if !matches!(next, Tok::Word(Kw::Ident)) => {
                report.add(id::STACKED_STATEMENT, Category::Sqli, 0.85)
            }
            // A stacked statement on a user variable: `;set @a=`, `;execute @q`.
            [Tok::Semi, Tok::Word(k), Tok::Var] if *k != Kw::Ident && named_variable(view, lexemes) => {
                report.add(id::STACKED_STATEMENT, Category::Sqli, 0.85)
            }
            _ => {}
        }
    }
    // Attack functions when called, attack objects when named.
    let called = toks.windows(2).any(|w| matches!(w, [Tok::Word(Kw::AttackFn), Tok::LParen]));
    // Named bare, backticked or quoted (`'msdasql'`, a provider name passed as a string).
    let named = toks.iter().any(|t| matches!(t, Tok::Word(Kw::AttackObj)))
        || lexemes.iter().any(|l| l.tok == Tok::Str && keyword(literal_value(text_of(view, l))) == Kw::AttackObj);
    if called || (named && !prose) {
        report.add(id::ATTACK_FUNCTION_OR_OBJECT, Category::Sqli, 0.75);
    }
}

/// `is_prose` of one view, computed on first use.
struct Prose(std::cell::OnceCell<bool>);

impl Prose {
    fn new() -> Prose {
        Prose(std::cell::OnceCell::new())
    }

    fn of(&self, view: &str) -> bool {
        *self.0.get_or_init(|| is_prose(view))
    }
}

/// The value of a single `name=value` pair or `Header: value` line, when the name is one token.
/// Only short texts are such lines; in a long one a colon starts a sentence, not a value.
fn value_part(view: &str) -> Option<&str> {
    if view.len() > MAX_VALUE_LINE_BYTES {
        return None;
    }
    let split = view.find(['=', ':'])?;
    let name = view.get(..split)?;
    let simple = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'/' | b'?'));
    let value = view.get(split + 1..)?.trim_start();
    (simple && !value.is_empty() && !view.get(split..).is_some_and(|s| s.starts_with("://"))).then_some(value)
}

/// Whether the quote at `q` is the apostrophe of an English contraction: a letter before it, and
/// after it one of the contracted endings and then no letter.
fn contraction(view: &str, q: usize) -> bool {
    let b = view.as_bytes();
    if !q.checked_sub(1).and_then(|p| b.get(p)).is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let after = b.get(q + 1..).unwrap_or_default();
    ["t", "s", "re", "ve", "ll", "d", "m"]
        .iter()
        .any(|end| after.starts_with(end.as_bytes()) && !after.get(end.len()).is_some_and(u8::is_ascii_alphabetic))
}

/// Longest text read as one `name=value` or `Header: value` line.
const MAX_VALUE_LINE_BYTES: usize = 512;

/// Quoted string contents and query parameter values that could hold a payload.
/// Also returns, apart, what follows a quote that breaks out of a string.
fn sub_views<'a>(view: &'a str, prose: &Prose) -> (Vec<&'a str>, Option<&'a str>) {
    let mut out = Vec::new();
    let mut broken_out = None;
    // `name=value` or `Header: value`: the value alone (the name would read as a word).
    if let Some(value) = value_part(view) {
        out.push(value);
    }
    if view.contains('=') && (view.contains('&') || view.contains('?')) {
        for pair in view.split(['&', '?']) {
            if let Some((_, value)) = pair.split_once('=') {
                if value.len() >= 2 && value.len() < view.len() {
                    out.push(value);
                }
            }
        }
    }
    // A quote that closes a string value someone else opened, anywhere in the text (`... named
    // ' OR 1=1; --`): what follows it is judged as a payload of its own. Only an unmatched
    // quote counts, and only when SQL starts right after it, so apostrophes in prose do not.
    // An English contraction (`don't`, `it's`, `we'll`) in a comment of a program is an
    // apostrophe, not a quote: it does not unbalance the program's strings.
    let quotes = view.match_indices('\'').filter(|(q, _)| !contraction(view, *q)).count();
    if quotes % 2 == 1 {
        for (q, _) in view.match_indices('\'').filter(|(q, _)| !contraction(view, *q)) {
            let after = view.get(q + 1..).unwrap_or("");
            // Only the head is compared: lower-casing all of `after` for every quote was
            // quadratic in a text of many unmatched quotes.
            let head = after.trim_start().as_bytes();
            let head = head.get(..head.len().min(8)).unwrap_or_default().to_ascii_lowercase();
            let sql_start =
                [";", "--", "#", ")", "or ", "and ", "union ", "||"].iter().any(|p| head.starts_with(p.as_bytes()));
            if sql_start && after.len() >= 4 && q > 0 {
                broken_out = Some(after);
                break;
            }
        }
    }
    // Backticks are left out: in prose they mark inline code, which is not a payload.
    // In prose, quotes mark quotations ("if x > 0 and y < 1"), not values.
    let quotes: &[char] = if prose.of(view) { &[] } else { &['"'] };
    // A markup attribute value (`probe="..."`) or a JSON key or value (`{"...":`) is a value of
    // its own even without a space in it; they come after the spaced strings, so that a long
    // list of short JSON values does not crowd those out.
    let mut structured = Vec::new();
    for &quote in quotes {
        let mut parts = view.split(quote);
        let mut before = parts.next().unwrap_or("");
        while let Some(inner) = parts.next() {
            if inner.len() >= 3 && inner.contains(' ') {
                out.push(inner);
            } else if before.trim_end().ends_with(['=', '{', '[', ',', ':']) && !inner.is_empty() {
                structured.push(inner);
            }
            before = parts.next().unwrap_or("");
        }
    }
    out.extend(structured);
    (out, broken_out)
}

/// Returns where a next window should start when the view has more tokens than one reads.
fn scan_sqli_view(view: &str, prose_of: &Prose, as_written: bool, report: &mut ThreatReport) -> Option<usize> {
    // Cheap prefilter: every payload shape below needs one of these bytes or words, except
    // the fragment shapes, which short values are always checked for.
    let b = view.as_bytes();
    if !b
        .iter()
        .any(|c| matches!(c, b'\'' | b'"' | b'`' | b'=' | b';' | b'(' | b'#' | b'-' | b'/' | b'@' | b'<' | b'>'))
        && !view.contains("union")
        && !view.contains("select")
    {
        if view.len() <= MAX_FRAGMENT_BYTES {
            let lexemes = lex(view);
            let toks: Vec<Tok> = lexemes.iter().map(|l| l.tok).collect();
            if let Some((id, w)) = probe_shape(view, &lexemes) {
                report.add(id, Category::Sqli, w);
            }
            if let Some(w) = fragment_shape(view, &toks, &skeleton(&toks)) {
                report.add(id::SQL_FRAGMENT, Category::Sqli, w);
            }
            // A short value that names what only attacks name (`information_schema`); a
            // question that names it ("how do I shrink tempdb?") has more words than that.
            let words = toks.iter().filter(|t| matches!(t, Tok::Word(Kw::Ident))).count();
            if toks.iter().any(|t| matches!(t, Tok::Word(Kw::AttackObj))) && words <= 2 && !prose_of.of(view) {
                report.add(id::ATTACK_FUNCTION_OR_OBJECT, Category::Sqli, 0.75);
            }
        }
        return None;
    }
    // In prose only the prose-level shapes can fire: without one, the tokens need not be read.
    if !may_hold_prose_shape(view) && prose_of.of(view) {
        return None;
    }
    let lexemes = lex(view);
    let toks: Vec<Tok> = lexemes.iter().map(|l| l.tok).collect();
    let sk = skeleton(&toks);
    // Prose (mostly ordinary words) gets only the shapes that never occur in prose by accident;
    // a payload is judged on all of them.
    let idents = toks.iter().filter(|t| matches!(t, Tok::Word(Kw::Ident))).count();
    let prose = prose_of.of(view);
    if as_written && sql_statement(view, &lexemes) {
        // SQL code as a person writes it (a query, a migration, a script): only what no
        // ordinary statement does counts, a condition rigged to be always true and an attack
        // function called. What follows one statement keeps being read as SQL code.
        if true_comparison(view, &lexemes) {
            report.add(id::ALWAYS_TRUE_COMPARISON, Category::Sqli, 0.6);
        }
        if toks.windows(2).any(|w| matches!(w, [Tok::Word(Kw::AttackFn), Tok::LParen])) {
            report.add(id::ATTACK_FUNCTION_OR_OBJECT, Category::Sqli, 0.75);
        }
        if destructive_script(view, &lexemes) {
            report.add(id::ONLY_DESTROYS, Category::Sqli, 0.6);
        }
        return None;
    }

    prose_level_shapes(view, &lexemes, &toks, &sk, prose, report);
    let reach = next_window(&lexemes);
    if prose {
        return reach;
    }
    // A question or a sentence that quotes SQL ("why is this slow: select ... (select ...)?")
    // asks about code; an injected value starts with its payload.
    let asks = view.trim_end().ends_with('?')
        || (lexemes.len() >= 3
            && lexemes.iter().take(3).all(|l| {
                l.tok == Tok::Word(Kw::Ident)
                    && text_of(view, l).bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            }));
    if !asks {
        if let Some((id, w)) = probe_shape(view, &lexemes) {
            report.add(id, Category::Sqli, w);
        }
        if subselect(view, &lexemes) {
            report.add(id::SUB_SELECT, Category::Sqli, 0.7);
        }
    }
    // Tautologies after a boolean operator: `or 1=1`, `and 'a'='a'`, `|| x like y`.
    for w in sk.windows(4) {
        if let [Tok::Word(Kw::Logic), a, Tok::Cmp | Tok::Word(Kw::CmpWord), c] = w {
            if is_value(*a) && is_value(*c) {
                let weight = if is_literal(*a) || is_literal(*c) { 0.8 } else { 0.55 };
                report.add(id::TAUTOLOGY_AFTER_BOOLEAN, Category::Sqli, weight);
            }
        }
    }
    // A boolean operator straight after a literal and before a literal: `1 or 1`, `' or 'x`.
    for w in sk.windows(3) {
        if let [a, Tok::Word(Kw::Logic), c] = w {
            if is_literal(*a) && is_literal(*c) {
                report.add(id::BOOLEAN_BETWEEN_LITERALS, Category::Sqli, 0.35);
            }
        }
    }
    // A quote that closes a string and is followed by SQL: the break-out of a string context.
    if let Some(w) = breakout(view) {
        report.add(id::QUOTE_BREAK_OUT, Category::Sqli, w);
    }
    // Comment tricks: a comment used as a space between words, or a payload ending in a comment.
    let inner_comment = toks.windows(3).any(|w| matches!(w, [Tok::Word(_), Tok::Comment, Tok::Word(_)]));
    if inner_comment || view.contains("/*!") {
        report.add(id::COMMENT_AS_SPACE, Category::Sqli, 0.6);
    }
    let sql_tokens = toks.len() - idents;
    if toks.last() == Some(&Tok::Comment) && sql_tokens >= 3 {
        report.add(id::TRAILING_COMMENT, Category::Sqli, 0.45);
    }
    // The whole text is a SQL statement (or a fragment of one) rather than prose about SQL.
    if let Some(w) = statement_shape(&toks) {
        report.add(id::WHOLE_STATEMENT, Category::Sqli, w);
    }
    // A longer value is still a fragment when it has no ordinary word at all (`in (1, 2, ...)`).
    if view.len() <= MAX_FRAGMENT_BYTES || (idents == 0 && view.len() <= MAX_VALUE_LINE_BYTES) {
        if let Some(w) = fragment_shape(view, &toks, &sk) {
            report.add(id::SQL_FRAGMENT, Category::Sqli, w);
        }
    }
    if let Some(w) = postgres_cast(view) {
        report.add(id::POSTGRES_CAST, Category::Sqli, w);
    }
    reach
}
