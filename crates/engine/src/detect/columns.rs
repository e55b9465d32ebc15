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

/// The cells of labelled columns in `text`, in text order.
pub fn labelled_cells(text: &str) -> Vec<Cell> {
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
