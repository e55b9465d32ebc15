//! Whole-statement and fragment shapes: a text that is a SQL statement (and whether it is a
//! destructive script), a bare SQL fragment as a value, unclosed SQL calls and PostgreSQL casts.

use super::lexer::*;
use super::value::*;

/// Words that open a SQL statement besides the statement keywords (`Kw::Statement`, SELECT).
pub(super) const STATEMENT_OPENERS: [&str; 19] = [
    "with",
    "attach",
    "detach",
    "values",
    "explain",
    "begin",
    "commit",
    "rollback",
    "vacuum",
    "copy",
    "analyze",
    "pragma",
    "show",
    "comment",
    "reindex",
    "cluster",
    "lock",
    "savepoint",
    "set",
];

/// Whether the view is SQL code that a person writes, not a value that breaks out of one: it
/// opens with a statement (not with a value, a quote or a parenthesis), every string and
/// parenthesis it opens is closed, it does not stop on an operator or a dangling clause, and it
/// names no function or object that only attacks use. Statements that run other SQL or a
/// variable's content (`exec`, `declare`, `set @x`) are what stacked payloads open with, and do
/// not count.
pub(super) fn sql_statement(view: &str, lexemes: &[Lexeme]) -> bool {
    // Elisions are left out: what they stand for was a statement's part.
    let kept: Vec<Lexeme>;
    let lexemes = if view.contains("...") {
        kept = lexemes.iter().copied().filter(|l| !elision_dot(view, l)).collect();
        &kept[..]
    } else {
        lexemes
    };
    let mut significant = lexemes.iter().filter(|l| l.tok != Tok::Comment);
    let Some(first) = significant.next() else { return false };
    if !statement_opener(view, first) || lexemes.get(1).is_some_and(|l| l.tok == Tok::Var) || view.contains("/*!") {
        return false;
    }
    let mut depth = 0i32;
    let mut char_calls = 0usize;
    for (i, l) in lexemes.iter().enumerate() {
        let next = lexemes.get(i + 1).map(|n| n.tok);
        match l.tok {
            Tok::LParen => depth += 1,
            Tok::RParen => depth -= 1,
            Tok::Str => {
                let t = text_of(view, l).as_bytes();
                if t.len() < 2 || t.first() != t.last() {
                    return false;
                }
            }
            // A number a person writes (`12`, `1.5e3`, `0x1f`), not one glued to a word
            // (`1from`, `0xunion`, `1.e.name`: keyword filters' blind spots), and no long hex
            // literal (a string spelled without quotes).
            Tok::Num => {
                let t = text_of(view, l);
                if !well_formed_number(t) || (t.starts_with("0x") && t.len() > 6) {
                    return false;
                }
            }
            // A statement after a separator opens with a statement word, not a value or a
            // parenthesis (`select 1; (select 1)`).
            Tok::Semi => {
                let follower = lexemes.get(i + 1..).and_then(|rest| rest.iter().find(|n| n.tok != Tok::Comment));
                if follower.is_some_and(|n| !statement_opener(view, n)) {
                    return false;
                }
            }
            Tok::Word(Kw::AttackObj | Kw::AttackFn) if !catalogue_word(text_of(view, l)) => return false,
            Tok::Word(Kw::SqlFn) if matches!(text_of(view, l), "char" | "chr") && next == Some(Tok::LParen) => {
                char_calls += 1;
            }
            // A character that is no SQL (a backslash between words) outside strings.
            Tok::Word(Kw::Ident) if text_of(view, l).starts_with('\\') => return false,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    // Strings built from character codes (`chr(116) || chr(97)`) avoid quotes on purpose.
    if char_calls >= 2 {
        return false;
    }
    // An empty comment at the end (`--`, `#`, `/*`) cuts off whatever the query had after the
    // value; a comment a person writes says something.
    let empty_tail = lexemes.last().is_some_and(|l| {
        l.tok == Tok::Comment
            && text_of(view, l).trim_matches(|c: char| matches!(c, '-' | '#' | '/' | '*' | '+' | ' ' | ';')).is_empty()
    });
    if empty_tail {
        return false;
    }
    let last = lexemes.iter().rev().find(|l| l.tok != Tok::Comment);
    let ends_open = last.is_some_and(|l| match l.tok {
        Tok::Word(Kw::Logic | Kw::CmpWord) | Tok::Cmp | Tok::Comma | Tok::LParen | Tok::Op => true,
        Tok::Word(Kw::Clause) => !matches!(text_of(view, l), "null" | "end" | "asc" | "desc" | "true" | "false"),
        _ => false,
    });
    // A statement whose end is elided ends where the elision is, not on the word before it.
    let elided_end = view.trim_end_matches([' ', ';', '\n']).ends_with("...");
    depth == 0 && (!ends_open || elided_end) && lexemes.len() < MAX_TOKENS
}

/// Whether a lexeme is a word that opens a statement a person writes.
pub(super) fn statement_opener(view: &str, l: &Lexeme) -> bool {
    let word = text_of(view, l);
    match l.tok {
        Tok::Word(Kw::Select) => true,
        Tok::Word(Kw::Statement) => !matches!(word, "exec" | "execute" | "declare" | "print" | "handler" | "shutdown"),
        Tok::Word(_) => STATEMENT_OPENERS.contains(&word),
        _ => false,
    }
}

/// `12`, `1.5`, `1e-3`, `.5`, `0x1F`: digits, one point and an exponent, or a hex literal.
pub(super) fn well_formed_number(t: &str) -> bool {
    if let Some(hex) = t.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let (mantissa, exponent) = match t.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (t, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => digits(a) && digits(b) && !(a.is_empty() && b.is_empty()),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| !e.is_empty() && digits(e.trim_start_matches(['-', '+'])))
}

/// A script that only destroys: two or more statements that drop or empty tables, databases
/// or schemas (`drop`, `truncate`, `delete` without `where`) and none that builds or reads
/// anything. A migration drops and creates; a cleanup query deletes with a condition.
pub(super) fn destructive_script(view: &str, lexemes: &[Lexeme]) -> bool {
    let mut destroys = 0usize;
    let mut other = 0usize;
    let mut statement: Option<&str> = None;
    let mut conditioned = false;
    let mut close = |statement: Option<&str>, conditioned: bool| match statement {
        Some("drop" | "truncate") => destroys += 1,
        Some("delete") if !conditioned => destroys += 1,
        Some(_) => other += 1,
        None => {}
    };
    for l in lexemes.iter().filter(|l| l.tok != Tok::Comment) {
        match l.tok {
            Tok::Semi => {
                close(statement.take(), conditioned);
                conditioned = false;
            }
            _ if statement.is_none() => statement = Some(text_of(view, l)),
            Tok::Word(Kw::Clause) if text_of(view, l) == "where" => conditioned = true,
            _ => {}
        }
    }
    close(statement, conditioned);
    destroys >= 2 && other == 0
}

/// Longest value judged as a bare SQL fragment: payload values are short, and a longer text
/// made only of SQL is already a statement.
pub(super) const MAX_FRAGMENT_BYTES: usize = 160;

/// Weight when a short value is nothing but a piece of SQL: a call of a function only SQL has,
/// a run of SQL operators and keywords without ordinary words, or a closed sub-query followed
/// by a clause (`) AS x FROM`).
pub(super) fn fragment_shape(view: &str, toks: &[Tok], sk: &[Tok]) -> Option<f32> {
    let idents = sk.iter().filter(|t| matches!(t, Tok::Word(Kw::Ident))).count();
    let sql_call = toks.windows(2).any(|w| matches!(w, [Tok::Word(Kw::SqlFn | Kw::AttackFn), Tok::LParen]));
    if sql_call && idents <= 1 && toks.len() <= 40 {
        return Some(0.6);
    }
    // Keywords and operators only: `is null`, `in (0,1)`, `order by`, `not like 'a'`. Boolean
    // words alone join search terms (`"red" AND "blue"`), and one keyword alone is a word a
    // person may type, so a comparison or clause word and a second keyword, a comparison
    // operator or a parenthesised list are needed.
    let keywords = sk
        .iter()
        .filter(|t| {
            matches!(t, Tok::Word(Kw::Logic | Kw::CmpWord | Kw::Clause | Kw::Union | Kw::Select | Kw::Statement))
        })
        .count();
    let sql_word =
        sk.iter().any(|t| matches!(t, Tok::Word(Kw::CmpWord | Kw::Clause | Kw::Union | Kw::Select | Kw::Statement)));
    let only_sql = sk.iter().all(|t| !matches!(t, Tok::Word(Kw::Ident)));
    let list = toks.contains(&Tok::LParen) && toks.contains(&Tok::Comma);
    // Keywords that are also English ("table top", "is not") need a symbol or a value beside
    // them, or to be one of the pairs only SQL says.
    let not_words = sk.iter().any(|t| !matches!(t, Tok::Word(_)));
    let sql_pair = SQL_WORD_PAIRS.iter().any(|p| view.contains(p));
    if only_sql
        && sql_word
        && !bare_comparison(sk)
        && (sk.contains(&Tok::Cmp) || list || (keywords >= 2 && (not_words || sql_pair)))
    {
        return Some(0.55);
    }
    // A SELECT of constants (`select 0x616263`, `select 1,2,3`): the column-count probe.
    if matches!(sk, [Tok::Word(Kw::Select), Tok::Num, ..]) && only_sql {
        return Some(0.55);
    }
    // SELECT of what only attacks select (`select pg_sleep`).
    if matches!(sk, [Tok::Word(Kw::Select), Tok::Word(Kw::AttackFn | Kw::AttackObj), ..]) {
        return Some(0.6);
    }
    // A condition or a statement whose end is commented out: `or 1#`, `drop x;--`.
    let commented = toks.last() == Some(&Tok::Comment);
    if commented && matches!(sk.first(), Some(Tok::Word(Kw::Logic))) && idents <= 1 && sk.len() <= 6 {
        return Some(0.6);
    }
    if matches!(sk.first(), Some(Tok::Word(Kw::Statement))) && toks.ends_with(&[Tok::Semi, Tok::Comment]) && idents <= 2
    {
        return Some(0.6);
    }
    // A value that opens with a boolean operator and goes on to compare or open a group:
    // the tail of a condition (`and 7639=(`, `&& 1==(`, `or 'a' <`).
    let opens_with_logic = matches!(sk.first(), Some(Tok::Word(Kw::Logic)));
    if opens_with_logic
        && idents <= 2
        && (sk.contains(&Tok::Cmp) || toks.get(1..).is_some_and(|t| t.contains(&Tok::LParen)))
    {
        return Some(0.6);
    }
    // A statement stacked at the start of a value (`;drop`, `;update users`), a statement on a
    // variable (`declare @b`, `exec (@`) or a user variable assignment (`set @x`).
    let stacked =
        matches!(sk, [Tok::Semi, Tok::Word(Kw::Statement | Kw::Select), ..] | [Tok::Word(Kw::Statement), Tok::Var, ..]);
    let trimmed = view.trim_start_matches([';', ' ']);
    let assigns_variable = trimmed
        .strip_prefix("set @")
        .is_some_and(|rest| rest.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'@'));
    if stacked || assigns_variable {
        return Some(0.6);
    }
    // An unclosed call of a SQL function and nothing else (`round(`, `if (`): a truncated probe.
    if opens_sql_call(view) {
        return Some(0.55);
    }
    let closes_subquery = matches!(toks.first(), Some(Tok::RParen))
        && sk.first().is_some_and(|t| matches!(t, Tok::Word(Kw::Clause | Kw::Logic | Kw::Union | Kw::CmpWord)));
    let alias_from =
        sk.windows(3).any(|w| matches!(w, [Tok::Word(Kw::Clause), Tok::Word(_) | Tok::Str, Tok::Word(Kw::Clause)]));
    (closes_subquery && (alias_from || sk.len() <= 4)).then_some(0.6)
}

/// Functions common to the major SQL dialects; most are English words too, so they count only
/// in an unclosed call that is the whole value.
pub(super) const SQL_FUNCTIONS: &[&str] = &[
    "abs",
    "ascii",
    "avg",
    "benchmark",
    "cast",
    "ceil",
    "ceiling",
    "char",
    "chr",
    "coalesce",
    "concat",
    "convert",
    "cos",
    "count",
    "database",
    "date",
    "day",
    "exp",
    "floor",
    "greatest",
    "hex",
    "hour",
    "if",
    "ifnull",
    "in",
    "insert",
    "least",
    "left",
    "length",
    "ln",
    "log",
    "lower",
    "ltrim",
    "max",
    "md5",
    "mid",
    "min",
    "minute",
    "month",
    "now",
    "nullif",
    "ord",
    "pow",
    "power",
    "rand",
    "replace",
    "right",
    "round",
    "rtrim",
    "sin",
    "sleep",
    "sqrt",
    "substr",
    "substring",
    "sum",
    "trim",
    "upper",
    "user",
    "version",
    "year",
    "decode",
    "encode",
    "xmltype",
    "pi",
    "time",
    "format",
    "default",
    "values",
    "quarter",
    "week",
    "weekday",
    "password",
    "timestamp",
    "curdate",
    "curtime",
    "sysdate",
    "uuid",
    "instr",
    "locate",
    "extract",
    "truncate",
    "nullif",
    "hex",
    "unhex",
];

/// Whether `view` is a SQL function name followed by an opening parenthesis (comments and
/// a little stray punctuation between them allowed: `date](`, `left')?$(`) and nothing else.
pub(super) fn opens_sql_call(view: &str) -> bool {
    let view = view.trim();
    let name_len = view.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(view.len());
    let name = view.get(..name_len).unwrap_or("");
    let rest = view.get(name_len..).unwrap_or("");
    let comment = rest.contains("/*");
    let punctuation = rest.len() <= 8 && rest.bytes().all(|b| !b.is_ascii_alphanumeric());
    SQL_FUNCTIONS.contains(&name) && rest.ends_with('(') && (comment || punctuation)
}

/// Keyword pairs that only SQL says.
pub(super) const SQL_WORD_PAIRS: [&str; 6] = ["is null", "not null", "like null", "order by", "group by", "union all"];

/// Cast targets that only PostgreSQL writes after `::`.
pub(super) const PG_ONLY_TYPES: [&str; 7] = ["int", "integer", "bigint", "jsonb", "regclass", "bytea", "varchar"];

/// PostgreSQL casts and JSON containment operators, which ordinary text does not write:
/// `'x'::jsonb`, `)::int`, `@>` and `<@` next to a quoted value.
pub(super) fn postgres_cast(view: &str) -> Option<f32> {
    const TYPES: [&str; 19] = [
        "int",
        "integer",
        "bigint",
        "text",
        "json",
        "jsonb",
        "varchar",
        "numeric",
        "regclass",
        "bytea",
        "oid",
        "bool",
        "double",
        "float",
        "real",
        "date",
        "timestamp",
        "uuid",
        "char",
    ];
    let mut rest = view;
    while let Some(pos) = rest.find("::") {
        let after = rest.get(pos + 2..).unwrap_or("");
        let word_end = after.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(after.len());
        let before = rest.get(..pos).and_then(|b| b.chars().last());
        let target = after.get(..word_end).unwrap_or("");
        if TYPES.contains(&target) && matches!(before, Some('\'' | ')' | '"' | '0'..='9')) {
            return Some(0.7);
        }
        // After a bare name only the types no programming language spells this way.
        if PG_ONLY_TYPES.contains(&target) && before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Some(0.6);
        }
        rest = after;
    }
    let json_op = ["'@>", "' @>", "'<@", "' <@", "@> '", "<@ '"].iter().any(|op| view.contains(op));
    // JSON operators applied to a quoted JSON literal (`'{"a":1}' -> '$.a'`, `'[1]' ? '1'`),
    // a condition that keyword-based filters do not read as one.
    let json_literal_op = ["}'", "]'"].iter().any(|close| {
        view.match_indices(close).any(|(p, _)| {
            let rest = view.get(p + 2..).unwrap_or("").trim_start();
            ["->", "?", "#>", "@>", "<@", "<", ">", "="].iter().any(|op| rest.starts_with(op))
        })
    });
    (json_op || json_literal_op).then_some(0.6)
}
