//! Checks of a value that breaks out of its place in a query: string break-outs, probes,
//! comparisons that always hold, quote juxtapositions, clause tails, sub-selects, statement
//! shapes after a value.

use super::lexer::*;
use super::statement::*;

/// Weight of a string break-out: a quote early in the text, with no prose before it, followed
/// by a SQL operator, keyword or comment.
pub(super) fn breakout(view: &str) -> Option<f32> {
    // The break-out may come after a quoted value (`"a@b.c"' waitfor`): the first few quotes
    // are tried while what precedes them is still one token.
    view.match_indices(['\'', '"', '`']).take(3).enumerate().find_map(|(n, (q, _))| breakout_at(view, q, n == 0))
}

/// `first`: whether this is the text's first quote; a later one counts only when nobody
/// closes it (otherwise it closes a quoted value of the text's own).
pub(super) fn breakout_at(view: &str, q: usize, first_quote: bool) -> Option<f32> {
    let before = view.get(..q)?;
    // The value before the quote is one token (`admin`, `1`, `id=1`), not a sentence.
    if before.split_whitespace().count() > 1 || before.len() > 40 {
        return None;
    }
    let after = view.get(q + 1..)?;
    let quote = view.get(q..q + 1)?;
    // A quote nobody closes ends a string the application opened.
    let unmatched = view.matches(quote).count() % 2 == 1;
    if !first_quote && !unmatched {
        return None;
    }
    let lexemes = lex(after);
    let toks: Vec<Tok> = lexemes.iter().map(|l| l.tok).collect();
    let mut rest = toks.iter().copied().skip_while(|t| matches!(t, Tok::RParen | Tok::LParen));
    let first = rest.next()?;
    let first_text =
        lexemes.iter().find(|l| !matches!(l.tok, Tok::RParen | Tok::LParen)).and_then(|l| after.get(l.start..l.end));
    // What follows the keyword must read as SQL too: "' or '1'='1" does, while a quoted title
    // followed by English words that happen to be keywords ("DANCIN' LIKE A ROBOT") does not.
    // Strings count only next to a comparison ("'1'='1"); a closing quote alone is not SQL.
    let window: Vec<Tok> = rest.take(4).collect();
    let compares = window.contains(&Tok::Cmp);
    let sql_after =
        window.iter().filter(|t| !matches!(t, Tok::Word(Kw::Ident)) && (compares || **t != Tok::Str)).count();
    // The rest of the value commented out after SQL: the canonical `x' <operator> y--` shape.
    // Unary operators (`~`, `!`) and `@` do not join the broken-out value to anything.
    // A `%` that starts a percent-escape is transport encoding, not the modulo operator.
    let percent_escape = first_text == Some("%")
        && lexemes
            .iter()
            .find(|l| !matches!(l.tok, Tok::RParen | Tok::LParen))
            .is_some_and(|l| after.get(l.end..l.end + 2).is_some_and(|h| h.bytes().all(|d| d.is_ascii_hexdigit())));
    let binary = first_text.is_some_and(|t| !matches!(t, "~" | "!" | ":")) && !percent_escape;
    let commented_tail = unmatched
        && toks.len() <= 12
        && toks.last() == Some(&Tok::Comment)
        && binary
        && matches!(
            first,
            Tok::Op
                | Tok::Cmp
                | Tok::Word(Kw::Logic | Kw::CmpWord | Kw::Clause | Kw::Union | Kw::Select | Kw::Statement)
        );
    // Concatenation onto the broken string of a SQL call (`'+sleep(5)+'`, `'||version()||'`).
    let concat = matches!(first_text, Some("+" | "." | "||" | "&"))
        && toks.windows(2).any(|w| {
            matches!(w, [Tok::Word(Kw::SqlFn | Kw::AttackFn), Tok::LParen]) || matches!(w, [_, Tok::Word(Kw::Select)])
        });
    // After a statement separator, another statement, a comment or nothing: `'; drop`, `';--`.
    // A semicolon inside a value followed by more words (`women';s art`) is not a separator.
    let stacked = first == Tok::Semi
        && matches!(
            window.first(),
            None | Some(
                Tok::Comment
                    | Tok::Semi
                    | Tok::Var
                    | Tok::Word(
                        Kw::Union | Kw::Select | Kw::Statement | Kw::Clause | Kw::Logic | Kw::AttackFn | Kw::AttackObj
                    )
            )
        );
    let strong = commented_tail
        || concat
        || match first {
            Tok::Semi => stacked,
            Tok::Comment => true,
            // A statement keyword straight after a quote nobody closes (`'union a`, `" alter`).
            // What follows is short or SQL itself; "O' UNION selected a few friends" is prose.
            Tok::Word(Kw::Union | Kw::Select | Kw::Statement)
                if unmatched && !first_closed(after, quote) && (toks.len() <= 3 || sql_after >= 1) =>
            {
                true
            }
            // A value that is nothing but a closing quote, a boolean and an operand: `' or x`,
            // `'||true` (the operand may itself be an unclosed string).
            Tok::Word(Kw::Logic)
                if unmatched
                    && before.is_empty()
                    && matches!(first_text, Some("or" | "and" | "xor" | "||" | "&&"))
                    && !first_closed(after, quote)
                    && !window.is_empty()
                    && toks.len() <= 3 =>
            {
                true
            }
            Tok::Word(Kw::Logic | Kw::Union | Kw::Select | Kw::Statement | Kw::AttackFn | Kw::AttackObj) => {
                sql_after >= 2
            }
            Tok::Word(Kw::Clause | Kw::CmpWord) | Tok::Cmp => sql_after >= 3,
            // An operator continuing the broken-out value into a clause: `' * from = 1`.
            Tok::Op => {
                first_text == Some("*")
                    && sql_after >= 3
                    && window.iter().any(|t| matches!(t, Tok::Word(k) if *k != Kw::Ident))
            }
            _ => false,
        };
    strong.then_some(if toks.len() >= 3 { 0.7 } else { 0.55 })
}

/// Whether the first word after an opening quote is closed by the same quote right after it
/// (`'union'`, a quoted word), rather than starting SQL.
pub(super) fn first_closed(after: &str, quote: &str) -> bool {
    let word = after.trim_start().trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    word.starts_with(quote)
}

/// Whether a semicolon and a keyword are followed by a variable with a name (`;set @a`, not
/// a lone `;set @`).
pub(super) fn named_variable(view: &str, lexemes: &[Lexeme]) -> bool {
    lexemes.windows(3).any(|l| {
        matches!(l, [a, b, c] if a.tok == Tok::Semi && matches!(b.tok, Tok::Word(k) if k != Kw::Ident) && c.tok == Tok::Var
            && text_of(view, c).len() > 1)
    })
}

/// Probing shapes an injection scanner sends before a full payload, each the whole of a short
/// value; the id of the family and its weight. The families follow the probing steps of the
/// OWASP Web Security Testing Guide (WSTG-INPV-05: operators and tautologies that change a
/// condition, quotes that break or juxtapose strings, clause fragments that close a query).
pub(super) fn probe_shape(view: &str, lexemes: &[Lexeme]) -> Option<(&'static str, f32)> {
    if view.len() > MAX_FRAGMENT_BYTES {
        return None;
    }
    let trimmed = view.trim();
    // A SQL operator or an operator word that only SQL has, alone.
    if SQL_OPERATORS.contains(&trimmed.trim_start_matches(['\'', '"', '`', ' '])) {
        return Some((super::id::LONE_OPERATOR, 0.5));
    }
    if true_comparison(view, lexemes) {
        return Some((super::id::ALWAYS_TRUE_COMPARISON, 0.6));
    }
    if quote_juxtaposition(view) {
        return Some((super::id::BOOLEAN_BETWEEN_QUOTES, 0.6));
    }
    if clause_tail(view, lexemes) {
        return Some((super::id::QUERY_TAIL, 0.6));
    }
    if quote_probe(trimmed) {
        return Some((super::id::EXPRESSION_CONTINUED, 0.5));
    }
    if keyword_probe(view, lexemes) {
        return Some((super::id::KEYWORD_PROBE, 0.55));
    }
    None
}

/// A value that closes a string and goes on in a numeric or list context (`'>1`, `"*2`,
/// `', 2, 1`, `":60`), or is nothing but quotes (`'`, `"'`): the first probe of an injection
/// point, which watches for a database error. Prose and product codes write a quote before a
/// number, a dash or a slash ("<3", `'1--'`, `'/1x`), so the operator must be one that only
/// continues an expression: a comparison, a product, a separator.
pub(super) fn quote_probe(value: &str) -> bool {
    let Some(rest) = value.strip_prefix(['\'', '"', '`']) else { return false };
    let quotes = |b: u8| matches!(b, b'\'' | b'"' | b'`');
    if value.len() <= 3 && value.bytes().all(quotes) {
        // Not an empty pair (`''`), and not a backtick alone (markdown).
        let pair = value.len() == 2 && value.as_bytes().first() == value.as_bytes().get(1);
        return !pair && value.bytes().any(|b| b != b'`');
    }
    let head = rest.trim_start_matches([' ', '\'', '"', '`']);
    let opens_expression = head.starts_with(['>', '*', ':', ',', '=']);
    let allowed = |b: u8| b.is_ascii_hexdigit() || quotes(b) || b" <>=*/:,;[]{}()+-.".contains(&b);
    value.len() <= 40 && opens_expression && head.bytes().any(|b| b.is_ascii_digit()) && head.bytes().all(allowed)
}

/// A value that is a SQL keyword construct with nothing around it: a set operator before a
/// query (`except select`), a stored procedure run by name (`execute sp_x`, `exec master.`,
/// `execute immediate`), MySQL's `procedure analyse`, a comparison left open for the next
/// string (`x like '`), or the `1.e(` number form that hides a function call from keyword
/// filters.
pub(super) fn keyword_probe(view: &str, lexemes: &[Lexeme]) -> bool {
    let words: Vec<&str> = lexemes.iter().map(|l| text_of(view, l)).collect();
    match words.as_slice() {
        ["except" | "intersect" | "minus", "select" | "values", ..] => return true,
        ["exec" | "execute", name] | ["exec" | "execute", name, "."]
            if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            return true
        }
        ["procedure", "analyse", ..] | ["execute", "immediate", ..] => return true,
        _ => {}
    }
    // `x like '` / `x = '`: an opening quote that the application's query will close.
    let tail = lexemes.iter().rev().take(2).map(|l| l.tok).collect::<Vec<_>>();
    if let [Tok::Str, op] = tail.as_slice() {
        let last = lexemes.last().map_or("", |l| text_of(view, l));
        if last.len() == 1 && matches!(op, Tok::Cmp | Tok::Word(Kw::CmpWord)) && lexemes.len() <= 4 {
            return true;
        }
    }
    let b = view.as_bytes();
    b.windows(4).enumerate().any(|(i, w)| {
        matches!(w, [d, b'.', b'e', b'(' | b'.'] if d.is_ascii_digit())
            && !b.get(i + 4).is_some_and(|c| c.is_ascii_digit())
            && (i == 0 || !b.get(i - 1).is_some_and(|c| c.is_ascii_alphabetic()))
    })
}

/// Operators and operator words that a value never consists of, except as a probe.
pub(super) const SQL_OPERATORS: &[&str] = &[
    "||",
    "&&",
    "<>",
    "!=",
    "<=>",
    ">=",
    "<=",
    "==",
    ">>",
    "<<",
    "->",
    "->>",
    "#>",
    "#>>",
    "@>",
    "<@",
    "xor",
    "rlike",
    "regexp",
    "ilike",
    "notnull",
    "sounds like",
];

/// Text of a lexeme.
pub(super) fn text_of<'a>(view: &'a str, l: &Lexeme) -> &'a str {
    view.get(l.start..l.end).unwrap_or("")
}

/// A comparison of two literals that is always true, standing alone or after a comma or a
/// boolean (`1=1`, `b,'a'='a'`, `42 like 42`, `11!=1`): a tautology that needs no `or`. A false
/// one (`11=1`) is as likely a typo or a formula.
pub(super) fn true_comparison(view: &str, lexemes: &[Lexeme]) -> bool {
    let sk: Vec<&Lexeme> =
        lexemes.iter().filter(|l| !matches!(l.tok, Tok::Comment | Tok::LParen | Tok::RParen)).collect();
    let commented = lexemes.last().is_some_and(|l| l.tok == Tok::Comment);
    for (i, a) in sk.iter().enumerate() {
        if !is_literal(a.tok) {
            continue;
        }
        // One operator, or two words with a negation (`is not`, `not like`).
        for width in [1usize, 2] {
            let (Some(ops), Some(c)) = (sk.get(i + 1..i + 1 + width), sk.get(i + 1 + width)) else { continue };
            let texts: Vec<&str> = ops.iter().map(|o| text_of(view, o)).collect();
            let negated = texts.contains(&"not");
            let base: Vec<&str> = texts.iter().copied().filter(|t| *t != "not").collect();
            let [op] = base.as_slice() else { continue };
            let is_op = ops.iter().all(|o| matches!(o.tok, Tok::Cmp | Tok::Word(Kw::CmpWord | Kw::Logic)))
                && (width == 1 || negated);
            if !is_literal(c.tok) || !is_op {
                continue;
            }
            let opens = i == 0
                || sk.get(i - 1).is_some_and(|p| {
                    matches!(p.tok, Tok::Comma | Tok::Word(Kw::Logic))
                        || matches!(text_of(view, p), "where" | "when" | "having")
                });
            let closes = commented
                || sk.get(i + 2 + width).is_none_or(|n| {
                    matches!(n.tok, Tok::Comma | Tok::Semi | Tok::Word(Kw::Logic)) || text_of(view, n) == "then"
                });
            let result = holds(literal_value(text_of(view, a)), op, literal_value(text_of(view, c)));
            if opens && closes && result != negated {
                return true;
            }
        }
    }
    false
}

/// Whether the skeleton is one comparison of two literals and nothing else (`1 is not 1`):
/// then whether it holds decides, not its keywords.
pub(super) fn bare_comparison(sk: &[Tok]) -> bool {
    matches!(sk, [a, middle @ .., c] if is_literal(*a) && is_literal(*c) && !middle.is_empty() && middle.len() <= 2
        && middle.iter().all(|t| matches!(t, Tok::Cmp | Tok::Word(Kw::CmpWord | Kw::Logic))))
}

/// A literal's value: a string without its quotes, a number as written.
pub(super) fn literal_value(text: &str) -> &str {
    let t = text.trim_start_matches(['\'', '"']);
    t.trim_end_matches(['\'', '"'])
}

/// Whether `a op c` holds, numerically when both are numbers.
pub(super) fn holds(a: &str, op: &str, c: &str) -> bool {
    let (x, y) = (a.parse::<f64>().ok(), c.parse::<f64>().ok());
    let ordering = match (x, y) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => Some(a.cmp(c)),
    };
    let Some(ord) = ordering else { return false };
    use std::cmp::Ordering::*;
    match op {
        // Equal operands under an operator that includes equality; an ordering that merely
        // holds (`123<456`) is arithmetic, not a rigged condition.
        "=" | "==" | "<=>" | "is" | "like" | "rlike" | "regexp" | "glob" | "ilike" | ">=" | "<=" => ord == Equal,
        "!=" | "<>" => ord != Equal,
        _ => false,
    }
}

/// A boolean word squeezed between quotes with a value right after (`a'or'a`, `'and'1`), or a
/// backslash-escaped quote followed by SQL (`\' or 1`): the string is broken out of with no
/// space to spare, or the application's own escaping is turned against it.
pub(super) fn quote_juxtaposition(view: &str) -> bool {
    let b = view.as_bytes();
    for (q, &c) in b.iter().enumerate() {
        if !matches!(c, b'\'' | b'"' | b'`') {
            continue;
        }
        let after = view.get(q + 1..).unwrap_or("");
        let escaped = q > 0 && b.get(q - 1) == Some(&b'\\');
        let head = after.trim_start();
        for word in ["or", "and", "xor", "||", "&&"] {
            let Some(rest) = after.strip_prefix(word) else {
                if escaped {
                    if let Some(rest) = head.strip_prefix(word) {
                        if !rest.bytes().next().is_some_and(|d| d.is_ascii_alphanumeric() || d == b'_') {
                            return true;
                        }
                    }
                }
                continue;
            };
            let mut r = rest.bytes();
            if r.next() == Some(c)
                && r.next().is_some_and(|d| d.is_ascii_alphanumeric() || matches!(d, b'\'' | b'"' | b'('))
            {
                return true;
            }
            if escaped && !rest.bytes().next().is_some_and(|d| d.is_ascii_alphanumeric() || d == b'_') {
                return true;
            }
        }
    }
    false
}

/// The tail of a query after the value: an alias and `from` (`' as "x" from`), a `from`
/// clause with another clause after it (`from \`t\` limit`), a conditional (`case when ...
/// then`), or a table definition (`alter table x add`).
pub(super) fn clause_tail(view: &str, lexemes: &[Lexeme]) -> bool {
    if alias_from(view) {
        return true;
    }
    let words: Vec<&str> = lexemes.iter().filter(|l| matches!(l.tok, Tok::Word(_))).map(|l| text_of(view, l)).collect();
    let first = lexemes.iter().find(|l| !matches!(l.tok, Tok::Op | Tok::LParen | Tok::Comment));
    let first_word = first.map(|l| text_of(view, l));
    let symbols = view.contains('`') || lexemes.iter().any(|l| matches!(l.tok, Tok::Cmp | Tok::Str));
    let pair = SQL_WORD_PAIRS.iter().any(|p| view.contains(p));
    if first_word == Some("from")
        && words.iter().skip(2).any(|w| matches!(*w, "where" | "limit" | "group" | "order" | "having" | "join"))
        && (symbols || pair)
    {
        return true;
    }
    if first_word == Some("case") && words.get(1) == Some(&"when") && words.contains(&"then") {
        return true;
    }
    // `create table persons`, `alter table \`t\` add ...`: a table definition, not "create table
    // of contents".
    for (i, w) in words.windows(2).enumerate() {
        if matches!(w, ["create" | "alter" | "drop" | "truncate", "table"]) {
            let next = words.get(i + 3).copied();
            let ends = words.len() == i + 3
                || matches!(next, Some("add" | "change" | "modify" | "drop" | "rename" | "engine" | "character"));
            if ends || view.contains('`') || view.contains('(') {
                return true;
            }
        }
    }
    false
}

/// `as` followed by a quoted alias and `from`, or a quote right before `as ... from`.
pub(super) fn alias_from(view: &str) -> bool {
    for (p, _) in view.match_indices("as") {
        let before = view.get(..p).unwrap_or("");
        if before.bytes().last().is_some_and(|d| d.is_ascii_alphanumeric() || d == b'_') {
            continue;
        }
        let quote_before = before.trim_end().ends_with(['\'', '"', '`']);
        let rest = view.get(p + 2..).unwrap_or("");
        if !rest.starts_with([' ', '\'', '"', '`']) {
            continue;
        }
        let rest = rest.trim_start();
        let quoted = rest.starts_with(['\'', '"', '`']);
        let rest = rest.trim_start_matches(['\'', '"', '`']);
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
        let rest = rest.trim_start_matches(['\'', '"', '`']).trim_start();
        let from =
            rest.strip_prefix("from").is_some_and(|r| !r.bytes().next().is_some_and(|d| d.is_ascii_alphanumeric()));
        if from && (quoted || quote_before) {
            return true;
        }
    }
    false
}

/// A parenthesised sub-select: `(select ... from`, or `(select` ending a value.
pub(super) fn subselect(view: &str, lexemes: &[Lexeme]) -> bool {
    let sk: Vec<&Lexeme> = lexemes.iter().filter(|l| l.tok != Tok::Comment).collect();
    sk.windows(2).enumerate().any(|(i, w)| {
        matches!(w, [a, b] if a.tok == Tok::LParen && b.tok == Tok::Word(Kw::Select))
            && (sk.len() == i + 2
                || sk.get(i + 2).is_some_and(|n| !matches!(n.tok, Tok::Word(Kw::Ident)))
                || sk.iter().skip(i + 2).take(24).any(|l| text_of(view, l) == "from"))
    })
}

/// Weight when the token stream is SQL from start to end: it starts with a statement or a
/// value followed by SQL, and SQL tokens dominate ordinary words.
pub(super) fn statement_shape(toks: &[Tok]) -> Option<f32> {
    if toks.len() < 3 {
        return None;
    }
    let idents = toks.iter().filter(|t| matches!(t, Tok::Word(Kw::Ident))).count();
    let keywords = toks.iter().filter(|t| matches!(t, Tok::Word(k) if *k != Kw::Ident)).count();
    let punct = toks.iter().filter(|t| !matches!(t, Tok::Word(_))).count();
    let starts_statement = toks
        .iter()
        .find(|t| !matches!(t, Tok::LParen | Tok::Comment))
        .is_some_and(|t| matches!(t, Tok::Word(Kw::Select | Kw::Statement | Kw::Union)));
    // A clause opening the text (`from (select ...`) needs more SQL to count.
    let starts_clause = toks.iter().find(|t| !matches!(t, Tok::LParen | Tok::Comment)) == Some(&Tok::Word(Kw::Clause));
    // Ordinary words must be a minority and there must be SQL punctuation, not just keywords
    // ("select the best option from the list" has keywords but reads as prose).
    let dense = idents * 2 <= keywords + punct && punct >= 1 && keywords >= 2;
    let clause = toks.iter().any(|t| matches!(t, Tok::Word(Kw::Clause | Kw::SqlFn | Kw::AttackFn | Kw::AttackObj)));
    let clause_statement = starts_clause && keywords >= 3 && toks.contains(&Tok::Word(Kw::Select));
    ((starts_statement || clause_statement) && dense && clause).then_some(0.8)
}
