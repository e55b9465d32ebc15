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
    keyword_bytes(word.as_bytes())
}

/// Whether a (lower-case) word is a SQL keyword or function name.
pub(super) fn is_sql_keyword(word: &str) -> bool {
    keyword(word) != Kw::Ident
}

/// `keyword` of a word given as bytes.
fn keyword_bytes(word: &[u8]) -> Kw {
    match word {
        b"union" => Kw::Union,
        b"select" => Kw::Select,
        b"or" | b"and" | b"xor" | b"not" | b"div" | b"mod" => Kw::Logic,
        b"insert" | b"update" | b"delete" | b"drop" | b"create" | b"alter" | b"exec" | b"execute" | b"declare"
        | b"truncate" | b"shutdown" | b"grant" | b"revoke" | b"replace" | b"merge" | b"call" | b"handler"
        | b"rename" | b"prepare" | b"print" => Kw::Statement,
        // PostgreSQL and SQLite spell more comparisons as words: ilike, similar to, glob, notnull.
        b"like" | b"rlike" | b"regexp" | b"in" | b"is" | b"between" | b"sounds" | b"ilike" | b"similar" | b"glob"
        | b"notnull" => Kw::CmpWord,
        b"from" | b"where" | b"order" | b"group" | b"by" | b"having" | b"limit" | b"offset" | b"into" | b"null"
        | b"values" | b"set" | b"table" | b"as" | b"case" | b"when" | b"then" | b"else" | b"end" | b"top" | b"all"
        | b"distinct" | b"distinctrow" | b"asc" | b"desc" | b"procedure" | b"join" | b"on" | b"begin" | b"if"
        | b"exists" | b"collate" | b"escape" | b"true" | b"false" | b"delay" => Kw::Clause,
        b"sleep"
        | b"benchmark"
        | b"pg_sleep"
        | b"load_file"
        | b"extractvalue"
        | b"updatexml"
        | b"sys_eval"
        | b"group_concat"
        | b"make_set"
        | b"name_const"
        | b"randomblob"
        | b"lo_import"
        | b"lo_export"
        | b"lo_get"
        | b"pg_ls_dir"
        | b"pg_read_binary_file"
        | b"dblink" => Kw::AttackFn,
        b"information_schema"
        | b"xp_cmdshell"
        | b"outfile"
        | b"dumpfile"
        | b"sysobjects"
        | b"syscolumns"
        | b"utl_inaddr"
        | b"dbms_pipe"
        | b"pg_catalog"
        | b"sqlite_master"
        | b"msysobjects"
        | b"xp_dirtree"
        | b"sp_executesql"
        | b"dbms_lock"
        | b"sp_password"
        | b"waitfor" => Kw::AttackObj,
        // System databases and catalogues an attacker enumerates (SQL Server, Access), remote
        // data sources and the packages that reach the network or files from inside the
        // database (SQL Server OPENROWSET and OLE DB providers, Oracle UTL_*).
        b"tempdb"
        | b"msdb"
        | b"msysaccessobjects"
        | b"msysqueries"
        | b"msysrelationships"
        | b"schema_name"
        | b"openrowset"
        | b"opendatasource"
        | b"msdasql"
        | b"sqloledb"
        | b"utl_http"
        | b"utl_file"
        | b"utl_tcp"
        | b"dbms_java"
        | b"sp_oacreate"
        | b"sp_makewebtask"
        | b"sp_addextendedproc" => Kw::AttackObj,
        // SQL Server extended stored procedures (`xp_cmdshell`, `xp_regread`...) exist to reach the OS.
        w if w.starts_with(b"xp_") && w.len() > 4 => Kw::AttackObj,
        b"char" | b"chr" | b"concat" | b"concat_ws" | b"cast" | b"convert" | b"version" | b"database" | b"user"
        | b"ascii" | b"substring" | b"substr" | b"mid" | b"count" | b"length" | b"hex" | b"unhex" | b"schema"
        | b"current_user" | b"system_user" | b"session_user" | b"md5" | b"ord" | b"elt" | b"iif" | b"nchar"
        | b"varchar" | b"coalesce" | b"ifnull" | b"isnull" | b"floor" | b"rand" | b"exp" | b"row" | b"dual"
        | b"load" | b"lower" | b"upper" => Kw::SqlFn,
        // Names that are not English words, so prose never uses them as words.
        b"abs" | b"db_name" | b"find_in_set" | b"compress" | b"uncompress" | b"jsonb_pretty" | b"json_build_object"
        | b"json_extract" | b"json_keys" | b"starts_with" | b"unistr" | b"current_database" | b"pg_read_file"
        | b"instr" | b"soundex" | b"strcmp" | b"lpad" | b"rpad" | b"char_length" | b"octet_length" | b"sha1"
        | b"sha2" | b"aes_encrypt" | b"aes_decrypt" | b"export_set" | b"object_id" | b"db_id" | b"user_name"
        | b"suser_name" | b"is_srvrolemember" | b"has_dbaccess" | b"sysdate" | b"systimestamp" | b"rownum"
        | b"to_char" | b"nvl" => Kw::SqlFn,
        _ => Kw::Ident,
    }
}

/// A token and where it is in the text (byte offsets).
#[derive(Debug, Clone, Copy)]
struct Lexeme {
    tok: Tok,
    start: usize,
    end: usize,
}

/// Split lower-cased `text` into SQL tokens with their places, at most `MAX_TOKENS`.
fn lex(text: &str) -> Vec<Lexeme> {
    let b = text.as_bytes();
    let mut toks = Spans { out: Vec::new(), text_len: b.len(), start: 0 };
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if toks.len() >= MAX_TOKENS {
            break;
        }
        toks.mark(i);
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
                    if keyword(inner) == Kw::AttackObj {
                        Tok::Word(Kw::AttackObj)
                    } else {
                        Tok::Word(Kw::Ident)
                    }
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
            // `#2` is a number sign, not a comment.
            b'#' if (i == 0
                || matches!(b.get(i - 1), Some(b' ' | b'\'' | b'"' | b'`' | b')' | b';' | b'0'..=b'9')))
                && !next.is_some_and(|d| d.is_ascii_digit()) =>
            {
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
            b'(' | b')' | b',' | b';' => {
                toks.push(match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b',' => Tok::Comma,
                    _ => Tok::Semi,
                });
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
        toks.close(i);
    }
    toks.close(b.len());
    toks.out
}

/// Lexemes under construction: `mark` notes where the next token starts (and ends the ones
/// before it), `push` records a token, `close` ends the tokens still open.
struct Spans {
    out: Vec<Lexeme>,
    text_len: usize,
    start: usize,
}

impl Spans {
    fn len(&self) -> usize {
        self.out.len()
    }

    fn mark(&mut self, start: usize) {
        self.close(start);
        self.start = start;
    }

    fn push(&mut self, tok: Tok) {
        self.out.push(Lexeme { tok, start: self.start, end: usize::MAX });
    }

    fn close(&mut self, end: usize) {
        let end = end.min(self.text_len);
        for l in self.out.iter_mut().rev().take_while(|l| l.end == usize::MAX) {
            l.end = end;
        }
    }
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
        report.add("PG-SQ-001", Category::Sqli, if prose { 0.6 } else { 0.9 });
    }
    for w in sk.windows(3) {
        match w {
            [Tok::Word(Kw::Union), Tok::Word(Kw::Select), _]
            | [Tok::Word(Kw::Union), Tok::Word(Kw::Clause), Tok::Word(Kw::Select)] => {
                report.add("PG-SQ-001", Category::Sqli, if prose { 0.6 } else { 0.9 })
            }
            [Tok::Semi, Tok::Word(Kw::Statement | Kw::Select), next] if !matches!(next, Tok::Word(Kw::Ident)) => {
                report.add("PG-SQ-002", Category::Sqli, 0.85)
            }
            // A stacked statement on a user variable: `;set @a=`, `;execute @q`.
            [Tok::Semi, Tok::Word(k), Tok::Var] if *k != Kw::Ident && named_variable(view, lexemes) => {
                report.add("PG-SQ-002", Category::Sqli, 0.85)
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
        report.add("PG-SQ-005", Category::Sqli, 0.75);
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
    if view.bytes().filter(|&b| b == b'\'').count() % 2 == 1 {
        for (q, _) in view.match_indices('\'') {
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
                report.add("PG-SQ-010", Category::Sqli, w);
            }
            // A short value that names what only attacks name (`information_schema`); a
            // question that names it ("how do I shrink tempdb?") has more words than that.
            let words = toks.iter().filter(|t| matches!(t, Tok::Word(Kw::Ident))).count();
            if toks.iter().any(|t| matches!(t, Tok::Word(Kw::AttackObj))) && words <= 2 && !prose_of.of(view) {
                report.add("PG-SQ-005", Category::Sqli, 0.75);
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
            report.add("PG-SQ-013", Category::Sqli, 0.6);
        }
        if toks.windows(2).any(|w| matches!(w, [Tok::Word(Kw::AttackFn), Tok::LParen])) {
            report.add("PG-SQ-005", Category::Sqli, 0.75);
        }
        if destructive_script(view, &lexemes) {
            report.add("PG-SQ-020", Category::Sqli, 0.6);
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
            report.add("PG-SQ-016", Category::Sqli, 0.7);
        }
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
    // A longer value is still a fragment when it has no ordinary word at all (`in (1, 2, ...)`).
    if view.len() <= MAX_FRAGMENT_BYTES || (idents == 0 && view.len() <= MAX_VALUE_LINE_BYTES) {
        if let Some(w) = fragment_shape(view, &toks, &sk) {
            report.add("PG-SQ-010", Category::Sqli, w);
        }
    }
    if let Some(w) = postgres_cast(view) {
        report.add("PG-SQ-011", Category::Sqli, w);
    }
    reach
}

/// Words that open a SQL statement besides the statement keywords (`Kw::Statement`, SELECT).
const STATEMENT_OPENERS: [&str; 17] = [
    "with",
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
fn sql_statement(view: &str, lexemes: &[Lexeme]) -> bool {
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
            Tok::Word(Kw::AttackObj | Kw::AttackFn) => return false,
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
    depth == 0 && !ends_open && lexemes.len() < MAX_TOKENS
}

/// Whether a lexeme is a word that opens a statement a person writes.
fn statement_opener(view: &str, l: &Lexeme) -> bool {
    let word = text_of(view, l);
    match l.tok {
        Tok::Word(Kw::Select) => true,
        Tok::Word(Kw::Statement) => !matches!(word, "exec" | "execute" | "declare" | "print" | "handler" | "shutdown"),
        Tok::Word(_) => STATEMENT_OPENERS.contains(&word),
        _ => false,
    }
}

/// `12`, `1.5`, `1e-3`, `.5`, `0x1F`: digits, one point and an exponent, or a hex literal.
fn well_formed_number(t: &str) -> bool {
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
fn destructive_script(view: &str, lexemes: &[Lexeme]) -> bool {
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
const SQL_FUNCTIONS: &[&str] = &[
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
fn opens_sql_call(view: &str) -> bool {
    let view = view.trim();
    let name_len = view.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(view.len());
    let name = view.get(..name_len).unwrap_or("");
    let rest = view.get(name_len..).unwrap_or("");
    let comment = rest.contains("/*");
    let punctuation = rest.len() <= 8 && rest.bytes().all(|b| !b.is_ascii_alphanumeric());
    SQL_FUNCTIONS.contains(&name) && rest.ends_with('(') && (comment || punctuation)
}

/// Keyword pairs that only SQL says.
const SQL_WORD_PAIRS: [&str; 6] = ["is null", "not null", "like null", "order by", "group by", "union all"];

/// Cast targets that only PostgreSQL writes after `::`.
const PG_ONLY_TYPES: [&str; 7] = ["int", "integer", "bigint", "jsonb", "regclass", "bytea", "varchar"];

/// PostgreSQL casts and JSON containment operators, which ordinary text does not write:
/// `'x'::jsonb`, `)::int`, `@>` and `<@` next to a quoted value.
fn postgres_cast(view: &str) -> Option<f32> {
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

/// Whether the text reads as sentences: most whitespace-separated chunks are ordinary words
/// (letters, perhaps with trailing punctuation) that are not SQL keywords. Decided on chunks,
/// not tokens, because prose punctuation ("(CNN) --") would otherwise look like SQL.
fn is_prose(view: &str) -> bool {
    let mut chunks = 0usize;
    let mut words = 0usize;
    for chunk in view.as_bytes().split(|&b| b == b' ') {
        // Trimming ASCII punctuation keeps the chunk a whole UTF-8 sequence, and takes away no
        // letter or digit, so the core has those the chunk has.
        let core = trim_bytes(chunk, b".,?!:;", b"(\"");
        let core = trim_bytes(core, b")\"", b"");
        let classes = core.iter().fold(0u8, |acc, &b| acc | PROSE_CLASS[usize::from(b)]);
        // Chunks without letters or digits (table rules `|`, dashes, brackets) say nothing either way.
        if classes & (LETTER | DIGIT | HIGH) == 0 {
            continue;
        }
        chunks += 1;
        // An apostrophe inside a word ("don't") is prose; a quote at either end is a literal.
        let quoted = core.first() == Some(&b'\'') || core.last() == Some(&b'\'');
        let letters = classes & (DIGIT | OTHER) == 0;
        // Keywords are ASCII letters only: other words need no lookup.
        if core.len() >= 2 && letters && !quoted && (classes != LETTER || keyword_bytes(core) == Kw::Ident) {
            words += 1;
        }
        if chunks == MAX_PROSE_CHUNKS {
            break;
        }
    }
    words >= 8 && words * 2 > chunks
}

/// Chunks `is_prose` reads at most.
const MAX_PROSE_CHUNKS: usize = 400;

// Byte classes of `is_prose`, OR-ed over a chunk in one pass.
const LETTER: u8 = 1;
const DIGIT: u8 = 2;
const APOSTROPHE: u8 = 4;
const HIGH: u8 = 8;
const OTHER: u8 = 16;
static PROSE_CLASS: [u8; 256] = byte_table!(|c| if c.is_ascii_alphabetic() {
    LETTER
} else if c.is_ascii_digit() {
    DIGIT
} else if c == b'\'' {
    APOSTROPHE
} else if c >= 0x80 {
    HIGH
} else {
    OTHER
});

/// `chunk` without any of `end` at its end, then without any of `start` at its start.
fn trim_bytes<'a>(chunk: &'a [u8], end: &[u8], start: &[u8]) -> &'a [u8] {
    let mut c = chunk;
    while let [rest @ .., last] = c {
        if !end.contains(last) {
            break;
        }
        c = rest;
    }
    while let [first, rest @ ..] = c {
        if !start.contains(first) {
            break;
        }
        c = rest;
    }
    c
}

/// Weight of a string break-out: a quote early in the text, with no prose before it, followed
/// by a SQL operator, keyword or comment.
fn breakout(view: &str) -> Option<f32> {
    // The break-out may come after a quoted value (`"a@b.c"' waitfor`): the first few quotes
    // are tried while what precedes them is still one token.
    view.match_indices(['\'', '"', '`']).take(3).enumerate().find_map(|(n, (q, _))| breakout_at(view, q, n == 0))
}

/// `first`: whether this is the text's first quote; a later one counts only when nobody
/// closes it (otherwise it closes a quoted value of the text's own).
fn breakout_at(view: &str, q: usize, first_quote: bool) -> Option<f32> {
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
fn first_closed(after: &str, quote: &str) -> bool {
    let word = after.trim_start().trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    word.starts_with(quote)
}

/// Whether a semicolon and a keyword are followed by a variable with a name (`;set @a`, not
/// a lone `;set @`).
fn named_variable(view: &str, lexemes: &[Lexeme]) -> bool {
    lexemes.windows(3).any(|l| {
        matches!(l, [a, b, c] if a.tok == Tok::Semi && matches!(b.tok, Tok::Word(k) if k != Kw::Ident) && c.tok == Tok::Var
            && text_of(view, c).len() > 1)
    })
}

/// Probing shapes an injection scanner sends before a full payload, each the whole of a short
/// value; the id of the family and its weight. The families follow the probing steps of the
/// OWASP Web Security Testing Guide (WSTG-INPV-05: operators and tautologies that change a
/// condition, quotes that break or juxtapose strings, clause fragments that close a query).
fn probe_shape(view: &str, lexemes: &[Lexeme]) -> Option<(&'static str, f32)> {
    if view.len() > MAX_FRAGMENT_BYTES {
        return None;
    }
    let trimmed = view.trim();
    // A SQL operator or an operator word that only SQL has, alone.
    if SQL_OPERATORS.contains(&trimmed.trim_start_matches(['\'', '"', '`', ' '])) {
        return Some(("PG-SQ-014", 0.5));
    }
    if true_comparison(view, lexemes) {
        return Some(("PG-SQ-013", 0.6));
    }
    if quote_juxtaposition(view) {
        return Some(("PG-SQ-015", 0.6));
    }
    if clause_tail(view, lexemes) {
        return Some(("PG-SQ-017", 0.6));
    }
    if quote_probe(trimmed) {
        return Some(("PG-SQ-018", 0.5));
    }
    if keyword_probe(view, lexemes) {
        return Some(("PG-SQ-019", 0.55));
    }
    None
}

/// A value that closes a string and goes on in a numeric or list context (`'>1`, `"*2`,
/// `', 2, 1`, `":60`), or is nothing but quotes (`'`, `"'`): the first probe of an injection
/// point, which watches for a database error. Prose and product codes write a quote before a
/// number, a dash or a slash ("<3", `'1--'`, `'/1x`), so the operator must be one that only
/// continues an expression: a comparison, a product, a separator.
fn quote_probe(value: &str) -> bool {
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
fn keyword_probe(view: &str, lexemes: &[Lexeme]) -> bool {
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
const SQL_OPERATORS: &[&str] = &[
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
fn text_of<'a>(view: &'a str, l: &Lexeme) -> &'a str {
    view.get(l.start..l.end).unwrap_or("")
}

/// A comparison of two literals that is always true, standing alone or after a comma or a
/// boolean (`1=1`, `b,'a'='a'`, `42 like 42`, `11!=1`): a tautology that needs no `or`. A false
/// one (`11=1`) is as likely a typo or a formula.
fn true_comparison(view: &str, lexemes: &[Lexeme]) -> bool {
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
fn bare_comparison(sk: &[Tok]) -> bool {
    matches!(sk, [a, middle @ .., c] if is_literal(*a) && is_literal(*c) && !middle.is_empty() && middle.len() <= 2
        && middle.iter().all(|t| matches!(t, Tok::Cmp | Tok::Word(Kw::CmpWord | Kw::Logic))))
}

/// A literal's value: a string without its quotes, a number as written.
fn literal_value(text: &str) -> &str {
    let t = text.trim_start_matches(['\'', '"']);
    t.trim_end_matches(['\'', '"'])
}

/// Whether `a op c` holds, numerically when both are numbers.
fn holds(a: &str, op: &str, c: &str) -> bool {
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
fn quote_juxtaposition(view: &str) -> bool {
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
fn clause_tail(view: &str, lexemes: &[Lexeme]) -> bool {
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
fn alias_from(view: &str) -> bool {
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
fn subselect(view: &str, lexemes: &[Lexeme]) -> bool {
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

    /// The chunk rules of `is_prose` written plainly, one condition at a time: the one-pass
    /// version must agree with it.
    fn is_prose_plain(view: &str) -> bool {
        let mut chunks = 0usize;
        let mut words = 0usize;
        let counted =
            view.as_bytes().split(|&b| b == b' ').filter(|c| c.iter().any(|b| b.is_ascii_alphanumeric() || *b >= 0x80));
        for chunk in counted.take(MAX_PROSE_CHUNKS) {
            chunks += 1;
            let core = trim_bytes(trim_bytes(chunk, b".,?!:;", b"(\""), b")\"", b"");
            let quoted = core.first() == Some(&b'\'') || core.last() == Some(&b'\'');
            let letters = core.iter().all(|&b| b.is_ascii_alphabetic() || b == b'\'' || b >= 0x80);
            let plain_ascii = core.iter().all(|&b| b.is_ascii_alphabetic());
            if core.len() >= 2 && letters && !quoted && (!plain_ascii || keyword_bytes(core) == Kw::Ident) {
                words += 1;
            }
        }
        words >= 8 && words * 2 > chunks
    }

    proptest::proptest! {
        #[test]
        fn is_prose_agrees_with_its_plain_statement(
            chunks in proptest::collection::vec("[a-z]{1,7}|select|or|[0-9]{1,3}|don't|'x|x'|\\(cnn\\)|--|\\||é[a-z]{0,3}|[a-z]{2,5}[.,?!:;]|\"[a-z]{2,4}\"|[a-z]{1,3}\\)\\.", 0..40)
        ) {
            let view = chunks.join(" ");
            proptest::prop_assert_eq!(is_prose(&view), is_prose_plain(&view), "{:?}", view);
        }
    }

    #[test]
    fn is_prose_reads_at_most_its_chunk_budget() {
        // 400 words, then symbols: the symbols are past the budget and do not count.
        let view =
            format!("{} {}", vec!["word"; MAX_PROSE_CHUNKS].join(" "), vec!["x1=2"; 2 * MAX_PROSE_CHUNKS].join(" "));
        assert!(is_prose(&view));
        assert_eq!(is_prose(&view), is_prose_plain(&view));
        let view =
            format!("{} {}", vec!["x1=2"; MAX_PROSE_CHUNKS].join(" "), vec!["word"; 2 * MAX_PROSE_CHUNKS].join(" "));
        assert!(!is_prose(&view));
    }

    /// The score of `s` as a value (a parameter, a field): the probing families below are values.
    fn score(s: &str) -> f32 {
        let mut r = ThreatReport::default();
        let mut broken = ThreatReport::default();
        scan_sqli(s, false, &mut r, &mut broken);
        r.merge(broken);
        r.score(Category::Sqli)
    }

    /// The score of `s` as a whole text someone sent.
    fn score_as_written(s: &str) -> f32 {
        let mut r = ThreatReport::default();
        let mut broken = ThreatReport::default();
        scan_sqli(s, true, &mut r, &mut broken);
        r.merge(broken);
        r.score(Category::Sqli)
    }

    /// SQL code as a person writes it is not a payload; a value that breaks out of its string,
    /// stacks a statement after a value, cuts the query off with an empty comment, or hides a
    /// keyword in a number still is. Statements written for this test, in the style of the
    /// PostgreSQL and SQLite manuals.
    #[test]
    fn statements_a_person_writes_are_not_payloads() {
        let statements = [
            "select id, name from accounts where created_at > now() - interval '1 day' order by id;",
            "drop table if exists sessions; create table sessions (id bigserial primary key, user_id bigint);",
            "select id from a union select id from b;",
            "insert into cities values ('san francisco', 46); insert into cities values ('berkeley', 12);",
            "with t as (select 1 as x) select x from t -- the common table expression",
            "alter table `t` add c int",
        ];
        for s in statements {
            assert!(score_as_written(s) < 0.5, "statement {s}: {}", score_as_written(s));
        }
        let payloads = [
            "1; drop table users",
            "1' or '1'='1",
            "select 1,2,concat_ws(0x3a,user,password) from users --",
            "select 1; (select 1); update users set password = 99",
            "select 0xunion select 2",
            "select case when (1=1) then 'a' else 'b' end;",
            "drop table if exists album; drop table if exists artist; drop table if exists customer;",
            "select pg_sleep(5)",
        ];
        for p in payloads {
            assert!(score_as_written(p) >= 0.5, "payload {p}: {}", score_as_written(p));
        }
        // The same statement arriving as a value (a parameter) is a payload.
        assert!(score("alter table `t` add c int") >= 0.5);
    }

    #[test]
    fn payloads_score_high() {
        for p in ["1' or '1'='1", "-1 union select 1,2,3--", "1; drop table users", "admin'--", "1 and sleep(5)"] {
            assert!(score(p) >= 0.5, "{p}");
        }
    }

    /// One attack and one look-alike per probing family, written for these tests.
    #[test]
    fn probing_families_and_their_look_alikes() {
        let families: &[(&str, &str)] = &[
            // a tautology needs no `or`; a false comparison is not one
            ("7=7", "7=8"),
            ("x,'q'<>'r'", "'q' is not 'q'"),
            // an operator alone, as a whole value
            ("<=>", "<3"),
            // a boolean squeezed between quotes, an escaped quote turned against its escaping
            ("z'or'z", "bob's or carol's"),
            ("\\' or 2", "it\\'s and that"),
            // the tail of a query: alias and FROM, a FROM clause with another clause, DDL
            ("9 as \"total\" from", "as evidence from the report"),
            ("from `orders` where", "from home where i live"),
            ("alter table `t` add c int", "create table of contents"),
            // sub-selects
            ("(select top 1 name from sysusers)", "(select one option)"),
            // a quote then a numeric or list context; quotes alone
            ("'>42", "'<3'"),
            ("\"'", "''"),
            // stacked statement and commented tail after a break-out
            ("q';--", "women';s wear"),
            ("k'+email--", "k'~email--"),
            // a closing quote, a boolean and one operand
            ("' or k9", "' or a long sentence follows here"),
            // SQL keyword probes
            ("except select 1", "except selecting"),
            ("execute sp_who", "execute the plan now"),
            ("7.e(version)", "7.e2"),
            ("select pg_sleep", "select one"),
            ("x like '", "i like 'x'"),
            // truncated call probes
            ("round/*x*/(", "round about ("),
            ("year](", "year 2020 ("),
            // JSON operators on a quoted JSON literal
            ("or '{\"k\":1}' ? 'k'", "is '{\"k\":1}' valid json?"),
        ];
        for (attack, benign) in families {
            assert!(score(attack) >= 0.5, "attack {attack}: {}", score(attack));
            assert!(score(benign) < 0.5, "benign {benign}: {}", score(benign));
        }
    }

    /// Padding cannot push a payload past the tokens one view reads: the rest is read in
    /// windows for the shapes that count even in prose. Long benign text stays clean.
    #[test]
    fn payloads_after_long_padding_are_still_seen() {
        let padding = "the quarterly report covers revenue, costs and the outlook for next year. ".repeat(120);
        assert!(padding.split(' ').count() > 2 * MAX_TOKENS);
        for payload in ["x'; drop table users; --", "1 union select password from users", "1 and sleep(5)"] {
            let text = format!("{padding}{payload}");
            assert!(score(&text) >= 0.5, "{payload}: {}", score(&text));
        }
        let benign = format!("{padding}see the appendix (table 3); it lists every region. {padding}");
        assert!(score(&benign) < 0.5, "{}", score(&benign));
    }

    #[test]
    fn prose_about_sql_scores_low() {
        for p in ["how do i write a select query?", "select the best answer from the list below", "rock and roll"] {
            assert!(score(p) < 0.5, "{p}");
        }
    }
}
