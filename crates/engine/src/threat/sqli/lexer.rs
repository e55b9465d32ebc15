//! The SQL lexer: text to tokens (strings, numbers, operators, keywords by class, comments)
//! with their byte spans, and the skeleton of a token stream that the shape checks read.

/// Tokens examined per text, at most: payloads are short, and this bounds the work.
pub(super) const MAX_TOKENS: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
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
pub(super) enum Kw {
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

pub(super) fn keyword(word: &str) -> Kw {
    keyword_bytes(word.as_bytes())
}

/// The standard catalogues, which enumeration payloads read and which a person querying their
/// own database's structure reads just as often: they mark an attack in a value, not in a
/// statement a person writes. (Aggregates that read them out, such as `group_concat`, stay
/// attack functions: a statement selecting numbered columns around one is a UNION payload.)
pub(super) fn catalogue_word(word: &str) -> bool {
    word.eq_ignore_ascii_case("information_schema")
        || word.eq_ignore_ascii_case("pg_catalog")
        || word.eq_ignore_ascii_case("sqlite_master")
}

/// Whether a lexeme is one dot of an elision (`...`), which documentation writes for the parts
/// of a statement it leaves out (`SELECT ... FROM t WHERE ...`).
pub(super) fn elision_dot(view: &str, l: &Lexeme) -> bool {
    if l.tok != Tok::Op || l.end != l.start + 1 || view.as_bytes().get(l.start) != Some(&b'.') {
        return false;
    }
    let from = l.start.saturating_sub(2);
    view.as_bytes().get(from..(l.start + 3).min(view.len())).is_some_and(|w| w.windows(3).any(|d| d == b"..."))
}

/// Whether a (lower-case) word is a SQL keyword or function name.
pub(in crate::threat) fn is_sql_keyword(word: &str) -> bool {
    keyword(word) != Kw::Ident
}

/// `keyword` of a word given as bytes.
pub(super) fn keyword_bytes(word: &[u8]) -> Kw {
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
pub(super) struct Lexeme {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Split lower-cased `text` into SQL tokens with their places, at most `MAX_TOKENS`.
pub(super) fn lex(text: &str) -> Vec<Lexeme> {
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
pub(super) struct Spans {
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

pub(super) fn is_value(t: Tok) -> bool {
    matches!(t, Tok::Str | Tok::Num | Tok::Var | Tok::Word(Kw::Ident | Kw::SqlFn | Kw::Clause))
}

pub(super) fn is_literal(t: Tok) -> bool {
    matches!(t, Tok::Str | Tok::Num)
}

/// Tokens without comments and parentheses: comment tricks and redundant parentheses
/// (`UNION/**/SELECT`, `or(1)=(1)`) must not hide a shape.
pub(super) fn skeleton(toks: &[Tok]) -> Vec<Tok> {
    toks.iter().copied().filter(|t| !matches!(t, Tok::Comment | Tok::LParen | Tok::RParen)).collect()
}
