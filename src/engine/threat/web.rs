//! SQL injection payload checks in the spirit of libinjection: the text is split into SQL tokens
//! and the token stream, not keywords alone, decides. Prose that talks about SQL ("how do I
//! write a SELECT query?") has no string break-out, no tautology after a boolean, no stacked
//! statement and not the density of SQL tokens a payload has.

use super::score::ThreatReport;
use super::Category;

/// Tokens examined per text, at most: payloads are short, and this bounds the work.
const MAX_TOKENS: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// A quoted string (to its closing quote or the end of the text).
    Str,
    Num,
    /// `@name` or `@@name`.
    Var,
    Word(Kw),
    /// Comparison operators: = < > != <> <=> and friends.
    Cmp,
    /// Other operators and punctuation that SQL uses: + - * / % | & ^ ~ ! .
    Op,
    LParen,
    RParen,
    Comma,
    Semi,
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    /// Not a keyword: an identifier or an ordinary word.
    Ident,
    Union,
    Select,
    /// or, and, xor, not, && and ||.
    Logic,
    /// Keywords that start a statement other than SELECT.
    Statement,
    /// Clause keywords: from, where, order, group, having, limit, into, null...
    Clause,
    /// Keywords that compare like an operator: like, rlike, regexp, is, in, between.
    CmpWord,
    /// Functions used almost only by attacks (sleep, benchmark, load_file): count when called.
    AttackFn,
    /// Objects named almost only by attacks (information_schema, xp_cmdshell, sysobjects).
    AttackObj,
    /// Functions and keywords common in payloads but also in ordinary SQL.
    SqlFn,
}

fn keyword(word: &str) -> Kw {
    match word {
        "union" => Kw::Union,
        "select" => Kw::Select,
        "or" | "and" | "xor" | "not" | "div" => Kw::Logic,
        "insert" | "update" | "delete" | "drop" | "create" | "alter" | "exec" | "execute" | "declare" | "truncate"
        | "shutdown" | "grant" | "revoke" | "replace" | "merge" | "call" | "handler" | "rename" => {
            Kw::Statement
        }
        "like" | "rlike" | "regexp" | "in" | "is" | "between" | "sounds" => Kw::CmpWord,
        "from" | "where" | "order" | "group" | "by" | "having" | "limit" | "offset" | "into" | "null" | "values" | "set" | "table" | "as" | "case" | "when"
        | "then" | "else" | "end" | "top" | "all" | "distinct" | "asc" | "desc" | "procedure" | "join" | "on"
        | "begin" | "if" | "exists" | "collate" | "escape" | "true" | "false" | "delay" => Kw::Clause,
        "sleep" | "benchmark" | "pg_sleep" | "load_file" | "extractvalue" | "updatexml" | "sys_eval"
        | "group_concat" | "make_set" | "name_const" | "randomblob" | "lo_import" | "lo_export" | "lo_get"
        | "pg_ls_dir" | "pg_read_binary_file" | "dblink" => Kw::AttackFn,
        "information_schema" | "xp_cmdshell" | "outfile" | "dumpfile" | "sysobjects" | "syscolumns" | "utl_inaddr"
        | "dbms_pipe" | "pg_catalog" | "sqlite_master" | "msysobjects" | "xp_dirtree" | "sp_executesql"
        | "dbms_lock" | "sp_password" | "waitfor" => Kw::AttackObj,
        "char" | "chr" | "concat" | "concat_ws" | "cast" | "convert" | "version" | "database" | "user" | "ascii"
        | "substring" | "substr" | "mid" | "count" | "length" | "hex" | "unhex" | "schema" | "current_user"
        | "system_user" | "session_user" | "md5" | "ord" | "elt" | "iif" | "nchar" | "varchar" | "coalesce"
        | "ifnull" | "isnull" | "floor" | "rand" | "exp" | "row" | "dual" | "load" | "lower" | "upper" => Kw::SqlFn,
        // Names that are not English words, so prose never uses them as words.
        "abs" | "db_name" | "schema_name" | "find_in_set" | "compress" | "uncompress" | "jsonb_pretty"
        | "json_build_object" | "json_extract" | "json_keys" | "starts_with" | "unistr" | "current_database"
        | "pg_read_file" | "instr" | "soundex" | "strcmp" | "lpad" | "rpad" | "char_length" | "octet_length"
        | "sha1" | "sha2" | "aes_encrypt" | "aes_decrypt" | "export_set" | "object_id" | "db_id" | "user_name"
        | "suser_name" | "is_srvrolemember" | "has_dbaccess" | "sysdate" | "systimestamp" | "rownum" | "to_char"
        | "nvl" | "utl_http" => Kw::SqlFn,
        _ => Kw::Ident,
    }
}

/// Split lower-cased `text` into SQL tokens, at most `MAX_TOKENS`.
fn tokenize(text: &str) -> Vec<Tok> {
    let b = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if toks.len() >= MAX_TOKENS {
            break;
        }
        let next = b.get(i + 1).copied();
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => i += 1,
            b'\'' | b'"' | b'`' => {
                // Strings run to the matching quote; a doubled quote is an escaped quote.
                let mut j = i + 1;
                while let Some(&d) = b.get(j) {
                    if d == c {
                        if b.get(j + 1) == Some(&c) {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    if d == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                // Backticks quote identifiers (MySQL), not values; a quoted attack object is
                // still one (`information_schema`).
                let tok = if c == b'`' {
                    let inner = text.get(i + 1..j.min(b.len())).unwrap_or("");
                    if keyword(inner) == Kw::AttackObj { Tok::Word(Kw::AttackObj) } else { Tok::Word(Kw::Ident) }
                } else {
                    Tok::Str
                };
                toks.push(tok);
                i = j + 1;
            }
            b'-' if next == Some(b'-') => {
                toks.push(Tok::Comment);
                i = b.iter().skip(i).position(|&d| d == b'\n').map_or(b.len(), |p| i + p + 1);
            }
            // `#` comments out the rest in MySQL, but `#` is also a URL fragment or a template
            // sigil: it counts as a comment only after a value or a space.
            b'#' if i == 0 || matches!(b.get(i - 1), Some(b' ' | b'\'' | b'"' | b'`' | b')' | b'0'..=b'9')) => {
                toks.push(Tok::Comment);
                i = b.iter().skip(i).position(|&d| d == b'\n').map_or(b.len(), |p| i + p + 1);
            }
            b'/' if next == Some(b'*') => {
                // MySQL `/*! ... */` executes its content: skip only the marker and scan inside.
                if b.get(i + 2) == Some(&b'!') {
                    toks.push(Tok::Comment);
                    i += 3;
                    while b.get(i).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                    }
                    continue;
                }
                toks.push(Tok::Comment);
                let end = text.get(i + 2..).and_then(|rest| rest.find("*/")).map_or(b.len(), |p| i + 2 + p + 2);
                i = end;
            }
            b'(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            b')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            b',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            b';' => {
                toks.push(Tok::Semi);
                i += 1;
            }
            b'=' | b'<' | b'>' => {
                let mut j = i + 1;
                while matches!(b.get(j), Some(b'=' | b'<' | b'>')) {
                    j += 1;
                }
                toks.push(Tok::Cmp);
                i = j;
            }
            b'!' if next == Some(b'=') => {
                toks.push(Tok::Cmp);
                i += 2;
            }
            b'|' if next == Some(b'|') => {
                toks.push(Tok::Word(Kw::Logic));
                i += 2;
            }
            b'&' if next == Some(b'&') => {
                toks.push(Tok::Word(Kw::Logic));
                i += 2;
            }
            b'@' => {
                let mut j = i + 1;
                while b.get(j).is_some_and(|d| d.is_ascii_alphanumeric() || matches!(d, b'_' | b'@' | b'.' | b'$')) {
                    j += 1;
                }
                toks.push(Tok::Var);
                i = j;
            }
            b'0'..=b'9' => {
                let mut j = i + 1;
                while b.get(j).is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'.') {
                    j += 1;
                }
                toks.push(Tok::Num);
                i = j;
            }
            b'.' if next.is_some_and(|d| d.is_ascii_digit()) => {
                let mut j = i + 1;
                while b.get(j).is_some_and(|d| d.is_ascii_alphanumeric()) {
                    j += 1;
                }
                toks.push(Tok::Num);
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let mut j = i + 1;
                while b.get(j).is_some_and(|d| d.is_ascii_alphanumeric() || matches!(d, b'_' | b'$')) {
                    j += 1;
                }
                toks.push(Tok::Word(keyword(text.get(i..j).unwrap_or(""))));
                i = j;
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'|' | b'&' | b'^' | b'~' | b'!' | b'.' | b':' | b'#' => {
                toks.push(Tok::Op);
                i += 1;
            }
            _ => {
                // Any other character (letters of other scripts, brackets, symbols): treat as
                // an ordinary word so it dilutes density like prose does.
                let width = text.get(i..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
                toks.push(Tok::Word(Kw::Ident));
                i += width;
            }
        }
    }
    toks
}

fn is_value(t: Tok) -> bool {
    matches!(t, Tok::Str | Tok::Num | Tok::Var | Tok::Word(Kw::Ident | Kw::SqlFn | Kw::Clause))
}

fn is_literal(t: Tok) -> bool {
    matches!(t, Tok::Str | Tok::Num)
}

/// Tokens without comments and parentheses: comment tricks and redundant parentheses
/// (`UNION/**/SELECT`, `or(1)=(1)`) must not hide a shape.
fn skeleton(toks: &[Tok]) -> Vec<Tok> {
    toks.iter().copied().filter(|t| !matches!(t, Tok::Comment | Tok::LParen | Tok::RParen)).collect()
}

/// Values scanned on their own as well, at most: quoted strings and query parameter values.
const MAX_SUB_VIEWS: usize = 16;

/// SQL injection evidence in one view of a text, added to `report`. Quoted strings and query
/// parameter values are also scanned on their own, since a payload usually sits in one value
/// (`probe="1 or 1=1"`, `?id=1' or '1'='1`) and the quotes around it would hide it.
pub fn scan_sqli(view: &str, report: &mut ThreatReport) {
    scan_sqli_view(view, report);
    for sub in sub_views(view).into_iter().take(MAX_SUB_VIEWS) {
        scan_sqli_view(sub, report);
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
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'/' | b'?'));
    let value = view.get(split + 1..)?.trim_start();
    (simple && !value.is_empty() && !view.get(split..).is_some_and(|s| s.starts_with("://"))).then_some(value)
}

/// Longest text read as one `name=value` or `Header: value` line.
const MAX_VALUE_LINE_BYTES: usize = 512;

/// Quoted string contents and query parameter values that could hold a payload.
fn sub_views(view: &str) -> Vec<&str> {
    let mut out = Vec::new();
    // `name=value` or `Header: value`: the value alone (the name would read as a word).
    if let Some(value) = value_part(view) {
        out.push(value);
    }
    if view.contains('=') && (view.contains('&') || view.contains('?')) {
        for pair in view.split(['&', '?']) {
            if let Some((_, value)) = pair.split_once('=') {
                if value.len() >= 3 && value.len() < view.len() {
                    out.push(value);
                }
            }
        }
    }
    // A quote that closes a string value someone else opened, anywhere in the text (`... named
    // ' OR 1=1; --`): what follows it is judged as a payload of its own. Only an unmatched
    // quote counts, and only when SQL starts right after it, so apostrophes in prose do not.
    if view.bytes().filter(|&b| b == b'\'').count() % 2 == 1 {
        for (q, _) in view.match_indices('\'') {
            let after = view.get(q + 1..).unwrap_or("");
            let head = after.trim_start().to_ascii_lowercase();
            let sql_start = [";", "--", "#", ")", "or ", "and ", "union ", "||"].iter().any(|p| head.starts_with(p));
            if sql_start && after.len() >= 4 && q > 0 {
                out.push(after);
                break;
            }
        }
    }
    // Backticks are left out: in prose they mark inline code, which is not a payload.
    // In prose, quotes mark quotations ("if x > 0 and y < 1"), not values.
    let quotes: &[char] = if is_prose(view) { &[] } else { &['"'] };
    for &quote in quotes {
        let mut parts = view.split(quote);
        parts.next();
        while let (Some(inner), Some(_)) = (parts.next(), Some(())) {
            if inner.len() >= 3 && inner.contains(' ') {
                out.push(inner);
            }
        }
    }
    out
}

fn scan_sqli_view(view: &str, report: &mut ThreatReport) {
    // Cheap prefilter: every payload shape below needs one of these bytes or words, except
    // the fragment shapes, which short values are always checked for.
    let b = view.as_bytes();
    if !b.iter().any(|c| matches!(c, b'\'' | b'"' | b'`' | b'=' | b';' | b'(' | b'#' | b'-' | b'/' | b'@' | b'<' | b'>'))
        && !view.contains("union")
        && !view.contains("select")
    {
        if view.len() <= MAX_FRAGMENT_BYTES {
            let toks = tokenize(view);
            if let Some(w) = fragment_shape(view, &toks, &skeleton(&toks)) {
                report.add("PG-SQ-010", Category::Sqli, w);
            }
            // A short value that names what only attacks name (`information_schema`).
            if toks.iter().any(|t| matches!(t, Tok::Word(Kw::AttackObj))) && !is_prose(view) {
                report.add("PG-SQ-005", Category::Sqli, 0.75);
            }
        }
        return;
    }
    let toks = tokenize(view);
    let sk = skeleton(&toks);
    // Prose (mostly ordinary words) gets only the shapes that never occur in prose by accident;
    // a payload is judged on all of them.
    let idents = toks.iter().filter(|t| matches!(t, Tok::Word(Kw::Ident))).count();
    let prose = is_prose(view);

    // Stacked statements and UNION SELECT.
    if sk.ends_with(&[Tok::Word(Kw::Union), Tok::Word(Kw::Select)]) {
        report.add("PG-SQ-001", Category::Sqli, if prose { 0.6 } else { 0.9 });
    }
    for w in sk.windows(3) {
        match w {
            [Tok::Word(Kw::Union), Tok::Word(Kw::Select), _] | [Tok::Word(Kw::Union), Tok::Word(Kw::Clause), Tok::Word(Kw::Select)] => {
                report.add("PG-SQ-001", Category::Sqli, if prose { 0.6 } else { 0.9 })
            }
            [Tok::Semi, Tok::Word(Kw::Statement | Kw::Select), next] if !matches!(next, Tok::Word(Kw::Ident)) => {
                report.add("PG-SQ-002", Category::Sqli, 0.85)
            }
            _ => {}
        }
    }
    // Attack functions when called, attack objects when named.
    let called = toks.windows(2).any(|w| matches!(w, [Tok::Word(Kw::AttackFn), Tok::LParen]));
    let named = toks.iter().any(|t| matches!(t, Tok::Word(Kw::AttackObj)));
    if called || (named && !prose) {
        report.add("PG-SQ-005", Category::Sqli, 0.75);
    }
    if prose {
        return;
    }
    // Tautologies after a boolean operator: `or 1=1`, `and 'a'='a'`, `|| x like y`.
    for w in sk.windows(4) {
        if let [Tok::Word(Kw::Logic), a, Tok::Cmp | Tok::Word(Kw::CmpWord), c] = w {
            if is_value(*a) && is_value(*c) {
                let weight = if is_literal(*a) || is_literal(*c) { 0.8 } else { 0.55 };
                report.add("PG-SQ-003", Category::Sqli, weight);
            }
        }
    }
    // A boolean operator straight after a literal and before a literal: `1 or 1`, `' or 'x`.
    for w in sk.windows(3) {
        if let [a, Tok::Word(Kw::Logic), c] = w {
            if is_literal(*a) && is_literal(*c) {
                report.add("PG-SQ-004", Category::Sqli, 0.35);
            }
        }
    }
    // A quote that closes a string and is followed by SQL: the break-out of a string context.
    if let Some(w) = breakout(view) {
        report.add("PG-SQ-006", Category::Sqli, w);
    }
    // Comment tricks: a comment used as a space between words, or a payload ending in a comment.
    let inner_comment = toks.windows(3).any(|w| matches!(w, [Tok::Word(_), Tok::Comment, Tok::Word(_)]));
    if inner_comment || view.contains("/*!") {
        report.add("PG-SQ-007", Category::Sqli, 0.6);
    }
    let sql_tokens = toks.len() - idents;
    if toks.last() == Some(&Tok::Comment) && sql_tokens >= 3 {
        report.add("PG-SQ-008", Category::Sqli, 0.45);
    }
    // The whole text is a SQL statement (or a fragment of one) rather than prose about SQL.
    if let Some(w) = statement_shape(&toks) {
        report.add("PG-SQ-009", Category::Sqli, w);
    }
    if view.len() <= MAX_FRAGMENT_BYTES {
        if let Some(w) = fragment_shape(view, &toks, &sk) {
            report.add("PG-SQ-010", Category::Sqli, w);
        }
    }
    if let Some(w) = postgres_cast(view) {
        report.add("PG-SQ-011", Category::Sqli, w);
    }
}

/// Longest value judged as a bare SQL fragment: payload values are short, and a longer text
/// made only of SQL is already a statement.
const MAX_FRAGMENT_BYTES: usize = 160;

/// Weight when a short value is nothing but a piece of SQL: a call of a function only SQL has,
/// a run of SQL operators and keywords without ordinary words, or a closed sub-query followed
/// by a clause (`) AS x FROM`).
fn fragment_shape(view: &str, toks: &[Tok], sk: &[Tok]) -> Option<f32> {
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
        .filter(|t| matches!(t, Tok::Word(Kw::Logic | Kw::CmpWord | Kw::Clause | Kw::Union | Kw::Select | Kw::Statement)))
        .count();
    let sql_word = sk.iter().any(|t| matches!(t, Tok::Word(Kw::CmpWord | Kw::Clause | Kw::Union | Kw::Select | Kw::Statement)));
    let only_sql = sk.iter().all(|t| !matches!(t, Tok::Word(Kw::Ident)));
    let list = toks.contains(&Tok::LParen) && toks.contains(&Tok::Comma);
    // Keywords that are also English ("table top", "is not") need a symbol or a value beside
    // them, or to be one of the pairs only SQL says.
    let not_words = sk.iter().any(|t| !matches!(t, Tok::Word(_)));
    let sql_pair = SQL_WORD_PAIRS.iter().any(|p| view.contains(p));
    if only_sql && sql_word && (sk.contains(&Tok::Cmp) || list || (keywords >= 2 && (not_words || sql_pair))) {
        return Some(0.55);
    }
    // A value that opens with a boolean operator and goes on to compare or open a group:
    // the tail of a condition (`and 7639=(`, `&& 1==(`, `or 'a' <`).
    let opens_with_logic = matches!(sk.first(), Some(Tok::Word(Kw::Logic)));
    if opens_with_logic && idents <= 2 && (sk.contains(&Tok::Cmp) || toks.get(1..).is_some_and(|t| t.contains(&Tok::LParen))) {
        return Some(0.6);
    }
    // A statement stacked at the start of a value (`;drop`, `;update users`), a statement on a
    // variable (`declare @b`, `exec (@`) or a user variable assignment (`set @x`).
    let stacked = matches!(sk, [Tok::Semi, Tok::Word(Kw::Statement | Kw::Select), ..] | [Tok::Word(Kw::Statement), Tok::Var, ..]);
    let trimmed = view.trim_start_matches([';', ' ']);
    let assigns_variable = trimmed
        .strip_prefix("set @")
        .is_some_and(|rest| rest.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'@'));
    if stacked || assigns_variable {
        return Some(0.6);
    }
    // An unclosed call of a SQL function and nothing else (`round(`, `if (`): a truncated probe.
    if matches!(toks.last(), Some(Tok::LParen)) && sk.len() <= 2 && opens_sql_call(view) {
        return Some(0.55);
    }
    let closes_subquery = matches!(toks.first(), Some(Tok::RParen))
        && sk.first().is_some_and(|t| matches!(t, Tok::Word(Kw::Clause | Kw::Logic | Kw::Union)));
    let alias_from = sk.windows(3).any(|w| matches!(w, [Tok::Word(Kw::Clause), Tok::Word(_) | Tok::Str, Tok::Word(Kw::Clause)]));
    (closes_subquery && (alias_from || sk.len() <= 4)).then_some(0.6)
}

/// Functions common to the major SQL dialects; most are English words too, so they count only
/// in an unclosed call that is the whole value.
const SQL_FUNCTIONS: &[&str] = &[
    "abs", "ascii", "avg", "benchmark", "cast", "ceil", "ceiling", "char", "chr", "coalesce", "concat", "convert",
    "cos", "count", "database", "date", "day", "exp", "floor", "greatest", "hex", "hour", "if", "ifnull", "in",
    "insert", "least", "left", "length", "ln", "log", "lower", "ltrim", "max", "md5", "mid", "min", "minute",
    "month", "now", "nullif", "ord", "pow", "power", "rand", "replace", "right", "round", "rtrim", "sin", "sleep",
    "sqrt", "substr", "substring", "sum", "trim", "upper", "user", "version", "year", "decode", "encode", "xmltype",
];

/// Whether `view` is a SQL function name followed by an opening parenthesis (comments and
/// stray punctuation between them allowed) and nothing else.
fn opens_sql_call(view: &str) -> bool {
    let name: String = view.trim_start().chars().take_while(|c| c.is_ascii_alphabetic() || *c == '_').collect();
    SQL_FUNCTIONS.contains(&name.as_str())
}

/// Keyword pairs that only SQL says.
const SQL_WORD_PAIRS: [&str; 6] = ["is null", "not null", "like null", "order by", "group by", "union all"];

/// Cast targets that only PostgreSQL writes after `::`.
const PG_ONLY_TYPES: [&str; 7] = ["int", "integer", "bigint", "jsonb", "regclass", "bytea", "varchar"];

/// PostgreSQL casts and JSON containment operators, which ordinary text does not write:
/// `'x'::jsonb`, `)::int`, `@>` and `<@` next to a quoted value.
fn postgres_cast(view: &str) -> Option<f32> {
    const TYPES: [&str; 12] =
        ["int", "integer", "bigint", "text", "json", "jsonb", "varchar", "numeric", "regclass", "bytea", "oid", "bool"];
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
    json_op.then_some(0.6)
}

/// Whether the text reads as sentences: most whitespace-separated chunks are ordinary words
/// (letters, perhaps with trailing punctuation) that are not SQL keywords. Decided on chunks,
/// not tokens, because prose punctuation ("(CNN) --") would otherwise look like SQL.
fn is_prose(view: &str) -> bool {
    let mut chunks = 0usize;
    let mut words = 0usize;
    // Chunks without letters or digits (table rules `|`, dashes, brackets) say nothing either way.
    for chunk in view.split(' ').filter(|c| c.bytes().any(|b| b.is_ascii_alphanumeric() || b >= 0x80)).take(400) {
        chunks += 1;
        let core = chunk.trim_end_matches(['.', ',', '?', '!', ':', ';']).trim_start_matches(['(', '"']);
        let core = core.trim_end_matches([')', '"']);
        // An apostrophe inside a word ("don't") is prose; a quote at either end is a literal.
        let quoted = core.starts_with('\'') || core.ends_with('\'');
        let letters = core.bytes().all(|b| b.is_ascii_alphabetic() || b == b'\'' || b >= 0x80);
        if core.len() >= 2 && letters && !quoted && keyword(core) == Kw::Ident {
            words += 1;
        }
    }
    words >= 8 && words * 2 > chunks
}

/// Weight of a string break-out: a quote early in the text, with no prose before it, followed
/// by a SQL operator, keyword or comment.
fn breakout(view: &str) -> Option<f32> {
    let q = view.find(['\'', '"', '`'])?;
    let before = view.get(..q)?;
    // The value before the quote is one token (`admin`, `1`, `id=1`), not a sentence.
    if before.split_whitespace().count() > 1 || before.len() > 40 {
        return None;
    }
    let after = view.get(q + 1..)?;
    let toks = tokenize(after);
    let mut rest = toks.iter().copied().skip_while(|t| *t == Tok::RParen);
    let first = rest.next()?;
    // What follows the keyword must read as SQL too: "' or '1'='1" does, while a quoted title
    // followed by English words that happen to be keywords ("DANCIN' LIKE A ROBOT") does not.
    // Strings count only next to a comparison ("'1'='1"); a closing quote alone is not SQL.
    let window: Vec<Tok> = rest.take(4).collect();
    let compares = window.contains(&Tok::Cmp);
    let sql_after = window.iter().filter(|t| !matches!(t, Tok::Word(Kw::Ident)) && (compares || **t != Tok::Str)).count();
    let strong = match first {
        Tok::Semi | Tok::Comment => true,
        Tok::Word(Kw::Logic | Kw::Union | Kw::Select | Kw::Statement | Kw::AttackFn | Kw::AttackObj) => sql_after >= 2,
        Tok::Word(Kw::Clause | Kw::CmpWord) | Tok::Cmp => sql_after >= 3,
        _ => false,
    };
    strong.then_some(if toks.len() >= 3 { 0.7 } else { 0.55 })
}

/// Weight when the token stream is SQL from start to end: it starts with a statement or a
/// value followed by SQL, and SQL tokens dominate ordinary words.
fn statement_shape(toks: &[Tok]) -> Option<f32> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn score(s: &str) -> f32 {
        let mut r = ThreatReport::default();
        scan_sqli(s, &mut r);
        r.score(Category::Sqli)
    }

    #[test]
    fn payloads_score_high() {
        for p in ["1' or '1'='1", "-1 union select 1,2,3--", "1; drop table users", "admin'--", "1 and sleep(5)"] {
            assert!(score(p) >= 0.5, "{p}");
        }
    }

    #[test]
    fn prose_about_sql_scores_low() {
        for p in ["how do i write a select query?", "select the best answer from the list below", "rock and roll"] {
            assert!(score(p) < 0.5, "{p}");
        }
    }
}
