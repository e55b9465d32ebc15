//! Tables whose header names their columns: comma-, semicolon- and tab-separated rows and
//! markdown tables (`name,password` then `Jane,hunter2`). A cell under a column whose name is
//! a label the detector reads (`password`, `api_key`, `ssn`, `phone`, ...) is read with that
//! name, as the value of a JSON key is (`Detector::detect_field`), however many rows down it is:
//! the header is usually far beyond the context window of a word before a value.
//!
//! Linear: every line is split once, as a header candidate or as a row of the table above it.

/// Words in a column's name that make it a label worth reading cells with: secret keywords
/// and the context words of the personal kinds whose values need one (bare SSNs and phone
/// numbers, card numbers outside the issuer ranges).
const LABEL_WORDS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "session",
    "sessid",
    "ip",
    "ssn",
    "social",
    "phone",
    "tel",
    "mobile",
    "cell",
    "fax",
    "card",
    "cc",
    "iban",
    "account",
    "mail",
];

/// Longest column name read as a label.
const MAX_NAME: usize = 40;

/// A cell of a labelled column: the byte ranges of its column's name and of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub label: (usize, usize),
    pub start: usize,
    pub end: usize,
}

/// The separators a table may use; a markdown table is `|`-separated.
const SEPARATORS: [u8; 4] = [b',', b';', b'\t', b'|'];

struct Header {
    separator: u8,
    names: Vec<(usize, usize)>,
    labelled: Vec<bool>,
}

/// The cells of labelled columns in `text` (table rows and SQL `INSERT` rows), in text order,
/// without overlaps.
pub fn labelled_cells(text: &str) -> Vec<Cell> {
    let mut cells = table_cells(text);
    let from = cells.len();
    insert_cells(text.as_bytes(), &mut cells);
    if cells.len() > from && from > 0 {
        cells.sort_by_key(|c| c.start);
        let mut end = 0;
        cells.retain(|c| {
            let keep = c.start >= end;
            if keep {
                end = c.end;
            }
            keep
        });
    }
    cells
}

/// The cells of labelled columns of the tables in `text`, in text order.
fn table_cells(text: &str) -> Vec<Cell> {
    let mut cells = Vec::new();
    let bytes = text.as_bytes();
    if memchr::memchr(b'\n', bytes).is_none() {
        return cells;
    }
    let mut header: Option<Header> = None;
    let mut split = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let line = (at, end);
        at = end + 1;
        if let Some(h) = header.as_ref() {
            split_line(bytes, line, h.separator, &mut split);
            if h.separator == b'|' && is_rule_row(bytes, &split) {
                continue;
            }
            if split.len() == h.names.len() {
                for ((&(s, e), &name), _) in split.iter().zip(&h.names).zip(&h.labelled).filter(|(_, &l)| l) {
                    if e > s {
                        cells.push(Cell { label: name, start: s, end: e });
                    }
                }
                continue;
            }
            // Another shape of line ends the table; it may open the next one.
        }
        header = read_header(bytes, line, &mut split);
    }
    cells
}

/// Longest column list of an `INSERT` read back from its `VALUES` keyword, in bytes.
const MAX_COLUMN_LIST: usize = 1024;

/// The literals of SQL `INSERT INTO t (c1, c2) VALUES (v1, v2), (w1, w2)` statements: each
/// literal of every row under a labelled column is read with that column's name, as a table
/// cell is. A statement without a column list names nothing and gives nothing; a row whose
/// count of values differs from the columns' is skipped.
///
/// Linear: each `VALUES` keyword reads back at most [`MAX_COLUMN_LIST`] bytes, and the rows
/// after it are read once (a keyword inside rows already read is not read again).
fn insert_cells(bytes: &[u8], cells: &mut Vec<Cell>) {
    let mut hits: Vec<usize> = memchr::memmem::find_iter(bytes, b"alues").collect();
    hits.extend(memchr::memmem::find_iter(bytes, b"ALUES"));
    if hits.is_empty() {
        return;
    }
    hits.sort_unstable();
    let mut resume = 0;
    let word = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    for at in hits {
        let Some(v) = at.checked_sub(1) else { continue };
        if v < resume
            || !matches!(bytes.get(v), Some(b'V' | b'v'))
            || word(v.checked_sub(1).and_then(|i| bytes.get(i)))
            || word(bytes.get(at + 5))
        {
            continue;
        }
        let Some(columns) = column_list(bytes, v) else { continue };
        let labelled: Vec<bool> = columns.iter().map(|&(s, e)| is_label(bytes.get(s..e).unwrap_or(&[]))).collect();
        if !labelled.iter().any(|&l| l) {
            continue;
        }
        let mut row = Vec::new();
        let mut i = at + 5;
        loop {
            i = skip_space(bytes, i);
            if bytes.get(i) != Some(&b'(') {
                break;
            }
            let Some(next) = sql_row(bytes, i + 1, &mut row) else { break };
            if row.len() == columns.len() {
                for ((&(s, e), &name), _) in row.iter().zip(&columns).zip(&labelled).filter(|(_, &l)| l) {
                    if e > s {
                        cells.push(Cell { label: name, start: s, end: e });
                    }
                }
            }
            i = skip_space(bytes, next);
            if bytes.get(i) != Some(&b',') {
                break;
            }
            i += 1;
        }
        resume = i;
    }
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The column names of `INSERT INTO name (c1, c2, ...)` ending before the `VALUES` keyword at
/// `v`: unquoted (`"c"`, `` `c` ``, `[c]`) ranges, each a name.
fn column_list(bytes: &[u8], v: usize) -> Option<Vec<(usize, usize)>> {
    let floor = v.saturating_sub(MAX_COLUMN_LIST);
    let mut close = v;
    while close > floor && bytes.get(close - 1).is_some_and(u8::is_ascii_whitespace) {
        close -= 1;
    }
    close = close.checked_sub(1)?;
    if bytes.get(close) != Some(&b')') {
        return None;
    }
    let open = (floor..close).rev().find(|&i| matches!(bytes.get(i), Some(b'(' | b')' | b';')))?;
    if bytes.get(open) != Some(&b'(') {
        return None;
    }
    // `INTO table` before the list (the table name may be qualified and quoted).
    let mut i = open;
    while i > floor && bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace) {
        i -= 1;
    }
    let table_end = i;
    while i > floor
        && bytes
            .get(i - 1)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'"' | b'`' | b'[' | b']'))
    {
        i -= 1;
    }
    if i == table_end {
        return None;
    }
    let before = bytes.get(floor..i)?.trim_ascii_end();
    let into = before.len().checked_sub(4).and_then(|s| before.get(s..))?;
    let into_word = before.len() == 4 || before.get(before.len() - 5).is_some_and(|c| !c.is_ascii_alphanumeric());
    if !into.eq_ignore_ascii_case(b"into") || !into_word {
        return None;
    }
    let mut columns = Vec::new();
    let mut start = open + 1;
    for j in open + 1..=close {
        if j == close || bytes.get(j) == Some(&b',') {
            let (s, e) = trim(bytes, start, j);
            let (s, e) = match (bytes.get(s), bytes.get(e.wrapping_sub(1))) {
                (Some(b'"'), Some(b'"')) | (Some(b'`'), Some(b'`')) | (Some(b'['), Some(b']')) if e >= s + 2 => {
                    (s + 1, e - 1)
                }
                _ => (s, e),
            };
            if !is_name(bytes.get(s..e).unwrap_or(&[])) {
                return None;
            }
            columns.push((s, e));
            start = j + 1;
        }
    }
    Some(columns)
}

/// The values of one `VALUES` row starting after its `(` at `i`, into `row` (a quoted
/// literal without its quotes, anything else trimmed); the position after its `)`, or `None`
/// when the row does not close.
fn sql_row(bytes: &[u8], mut i: usize, row: &mut Vec<(usize, usize)>) -> Option<usize> {
    row.clear();
    loop {
        i = skip_space(bytes, i);
        let quote = bytes.get(i).copied().filter(|c| matches!(c, b'\'' | b'"'));
        let value = if let Some(q) = quote {
            // A quote is escaped by doubling it or by a backslash (MySQL).
            let s = i + 1;
            let mut j = s;
            loop {
                match bytes.get(j) {
                    None => return None,
                    Some(b'\\') => j += 2,
                    Some(&c) if c == q && bytes.get(j + 1) == Some(&q) => j += 2,
                    Some(&c) if c == q => break,
                    Some(_) => j += 1,
                }
            }
            i = j + 1;
            (s, j)
        } else {
            // A number, `NULL`, or a call (`NOW()`, `md5('x')`): to the `,` or `)` at its depth.
            let s = i;
            let mut depth = 0usize;
            loop {
                match bytes.get(i) {
                    None | Some(b'\n' | b';') => return None,
                    Some(b'(') => depth += 1,
                    Some(b')') if depth == 0 => break,
                    Some(b')') => depth -= 1,
                    Some(b',') if depth == 0 => break,
                    // A literal inside a call: to its closing quote.
                    Some(&q @ (b'\'' | b'"')) => {
                        i += 1 + memchr::memchr(q, bytes.get(i + 1..)?)?;
                    }
                    Some(_) => {}
                }
                i += 1;
            }
            trim(bytes, s, i)
        };
        row.push(value);
        i = skip_space(bytes, i);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b')') => return Some(i + 1),
            _ => return None,
        }
    }
}

/// A header line: two or more cells, each a short name, one of them a label.
fn read_header(bytes: &[u8], line: (usize, usize), split: &mut Vec<(usize, usize)>) -> Option<Header> {
    let raw = bytes.get(line.0..line.1)?;
    for separator in SEPARATORS {
        if memchr::memchr(separator, raw).is_none() {
            continue;
        }
        split_line(bytes, line, separator, split);
        if split.len() < 2 || !split.iter().all(|&(s, e)| is_name(bytes.get(s..e).unwrap_or(&[]))) {
            continue;
        }
        let labelled: Vec<bool> = split.iter().map(|&(s, e)| is_label(bytes.get(s..e).unwrap_or(&[]))).collect();
        if labelled.iter().any(|&l| l) {
            return Some(Header { separator, names: split.clone(), labelled });
        }
    }
    None
}

/// Split `line` at `separator` outside double quotes into trimmed, unquoted cell ranges. A
/// markdown row's outer pipes open and close it rather than separating empty cells.
fn split_line(bytes: &[u8], line: (usize, usize), separator: u8, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let (mut start, mut end) = line;
    if bytes.get(end.wrapping_sub(1)) == Some(&b'\r') && end > start {
        end -= 1;
    }
    if separator == b'|' {
        let trimmed = trim(bytes, start, end);
        if bytes.get(trimmed.0) == Some(&b'|') {
            start = trimmed.0 + 1;
        }
        if trimmed.1 > start && bytes.get(trimmed.1 - 1) == Some(&b'|') {
            end = trimmed.1 - 1;
        }
    }
    let mut quoted = false;
    let mut cell = start;
    for i in start..end {
        match bytes.get(i) {
            Some(b'"') => quoted = !quoted,
            Some(&c) if c == separator && !quoted => {
                out.push(unquote(bytes, trim(bytes, cell, i)));
                cell = i + 1;
            }
            _ => {}
        }
    }
    out.push(unquote(bytes, trim(bytes, cell, end)));
}

fn trim(bytes: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && bytes.get(s).is_some_and(|c| c.is_ascii_whitespace()) {
        s += 1;
    }
    while e > s && bytes.get(e - 1).is_some_and(|c| c.is_ascii_whitespace()) {
        e -= 1;
    }
    (s, e)
}

fn unquote(bytes: &[u8], (s, e): (usize, usize)) -> (usize, usize) {
    let quote = bytes.get(s).filter(|c| matches!(c, b'"' | b'\'' | b'`'));
    if e >= s + 2 && quote.is_some() && bytes.get(e - 1) == quote {
        (s + 1, e - 1)
    } else {
        (s, e)
    }
}

/// A markdown table's rule under its header: `|---|:---:|`.
fn is_rule_row(bytes: &[u8], cells: &[(usize, usize)]) -> bool {
    cells.iter().all(|&(s, e)| {
        let c = bytes.get(s..e).unwrap_or(&[]);
        c.contains(&b'-') && c.iter().all(|b| matches!(b, b'-' | b':' | b' '))
    })
}

/// A column name: a short run of letters, digits, spaces and `_-.`, starting with a letter.
fn is_name(cell: &[u8]) -> bool {
    !cell.is_empty()
        && cell.len() <= MAX_NAME
        && cell.first().is_some_and(u8::is_ascii_alphabetic)
        && cell.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b' ' | b'_' | b'-' | b'.'))
}

fn is_label(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    LABEL_WORDS.iter().any(|w| lower.windows(w.len()).any(|win| win == w.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(&str, &str)> {
        labelled_cells(text).into_iter().map(|c| (&text[c.label.0..c.label.1], &text[c.start..c.end])).collect()
    }

    #[test]
    fn cells_of_labelled_columns_on_every_row() {
        let csv = "name,password,city\nJane,hunter2x,Paris\n\"Roe, J\",\"s3cr,et\",Lyon\n";
        assert_eq!(values(csv), [("password", "hunter2x"), ("password", "s3cr,et")]);
        let md = "| user | API Key |\n|---|:---:|\n| jane | abc123xyz |\n";
        assert_eq!(values(md), [("API Key", "abc123xyz")]);
        let tsv = "id\tssn\n1\t536904411\r\n2\t536904412";
        assert_eq!(values(tsv), [("ssn", "536904411"), ("ssn", "536904412")]);
    }

    #[test]
    fn insert_rows_are_read_with_their_column_names() {
        let sql = "INSERT INTO users (id, email, \"phone\") VALUES (1, 'jane@example.com', '555-0134'),\n  (2, 'o''brien@example.com', NULL);";
        assert_eq!(
            values(sql),
            [
                ("email", "jane@example.com"),
                ("phone", "555-0134"),
                ("email", "o''brien@example.com"),
                ("phone", "NULL")
            ]
        );
        let one_line = "insert into app.accounts(`api_key`,name) values ('k\\'ey', lower('X')) then";
        assert_eq!(values(one_line), [("api_key", "k\\'ey")]);
        // A row with another count of values is skipped, the next is read.
        let uneven = "INSERT INTO t (ssn, note) VALUES ('536-90-4411'), ('536-90-4412', 'x')";
        assert_eq!(values(uneven), [("ssn", "536-90-4412")]);
    }

    #[test]
    fn values_without_a_labelled_column_list_give_nothing() {
        for text in [
            "INSERT INTO users VALUES (1, 'jane@example.com')",
            "INSERT INTO users (id, name) VALUES (1, 'Jane')",
            "The values (email, phone) were checked.",
            "SELECT * FROM t WHERE (email) IN (VALUES ('x'))",
            "insert into t (email) values ('never closed",
        ] {
            assert!(values(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn prose_lists_and_unlabelled_tables_give_nothing() {
        for text in [
            "name,city\nJane,Paris\n",
            "We met, talked about passwords, and left.\nThen we went home, tired.\n",
            "password,x\n",
            "a,b\n1,2,3\n",
        ] {
            assert!(values(text).is_empty(), "{text}");
        }
        // A row with another number of cells ends the table.
        assert_eq!(
            values("user,token\nu1,t0k3nABCD\nand then, something else, entirely\nu2,zzz9\n"),
            [("token", "t0k3nABCD")]
        );
    }
}
