//! `multipart/form-data` bodies (RFC 7578, framing from RFC 2046 section 5.1.1), as file uploads
//! send them: split into parts, each part's content replaceable, and joined again byte for byte
//! where nothing changed. One pass to find the delimiters (memchr's substring search).

/// Why a multipart body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartError {
    /// The content type names no boundary.
    NoBoundary,
    /// No delimiter line, or no closing delimiter.
    Unterminated,
    /// A part without the blank line that ends its headers.
    BadPart,
}

/// One part: its header block as sent, and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub headers: Vec<u8>,
    pub content: Vec<u8>,
}

impl Part {
    /// A header's value (case-insensitive name), if the header block has it and it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        let text = std::str::from_utf8(&self.headers).ok()?;
        text.split("\r\n").find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The part's media type, lower case, without parameters (`text/plain` when absent, as
    /// RFC 7578 section 4.4 says).
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .unwrap_or_else(|| "text/plain".to_owned())
    }
}

/// A parsed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multipart {
    boundary: Vec<u8>,
    preamble: Vec<u8>,
    pub parts: Vec<Part>,
    epilogue: Vec<u8>,
}

/// The boundary parameter of a `multipart/*` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let mut params = content_type.split(';');
    let media = params.next()?.trim();
    if !media.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"')).filter(|b| !b.is_empty())
    })
}

/// Is this content type multipart?
pub fn is_multipart(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/"))
}

impl Multipart {
    pub fn parse(body: &[u8], content_type: &str) -> Result<Multipart, MultipartError> {
        let boundary = boundary(content_type).ok_or(MultipartError::NoBoundary)?;
        let mut delimiter = Vec::with_capacity(boundary.len() + 4);
        delimiter.extend_from_slice(b"--");
        delimiter.extend_from_slice(boundary.as_bytes());
        let finder = memchr::memmem::Finder::new(&delimiter);
        // The first delimiter may open the body; every other one follows a CRLF.
        let first = if body.starts_with(&delimiter) {
            0
        } else {
            let mut crlf_delim = b"\r\n".to_vec();
            crlf_delim.extend_from_slice(&delimiter);
            memchr::memmem::find(body, &crlf_delim).map(|p| p + 2).ok_or(MultipartError::Unterminated)?
        };
        let preamble = body[..first].to_vec();
        let mut parts = Vec::new();
        let mut at = first + delimiter.len();
        loop {
            let rest = body.get(at..).ok_or(MultipartError::Unterminated)?;
            if rest.starts_with(b"--") {
                let epilogue = rest[2..].to_vec();
                return Ok(Multipart { boundary: boundary.as_bytes().to_vec(), preamble, parts, epilogue });
            }
            // Transport padding (spaces, tabs) then CRLF after a delimiter.
            let line_end = memchr::memmem::find(rest, b"\r\n").ok_or(MultipartError::Unterminated)?;
            let start = at + line_end + 2;
            // The next delimiter: CRLF then the delimiter.
            let mut next = None;
            let mut from = start;
            while let Some(p) = body.get(from..).and_then(|b| finder.find(b)) {
                let pos = from + p;
                if pos >= start + 2 && body.get(pos - 2..pos) == Some(b"\r\n") {
                    next = Some(pos);
                    break;
                }
                if pos == start {
                    // An empty part directly followed by a delimiter.
                    next = Some(pos);
                    break;
                }
                from = pos + 1;
            }
            let next = next.ok_or(MultipartError::Unterminated)?;
            let raw = body.get(start..next.saturating_sub(2).max(start)).unwrap_or(&[]);
            let (headers, content) = match memchr::memmem::find(raw, b"\r\n\r\n") {
                Some(h) => (raw[..h].to_vec(), raw[h + 4..].to_vec()),
                None if raw.starts_with(b"\r\n") => (Vec::new(), raw[2..].to_vec()),
                None => return Err(MultipartError::BadPart),
            };
            parts.push(Part { headers, content });
            at = next + delimiter.len();
        }
    }

    /// The body again, with each part's current content.
    pub fn to_bytes(&self) -> Vec<u8> {
        let size = self.preamble.len()
            + self.epilogue.len()
            + self.parts.iter().map(|p| p.headers.len() + p.content.len() + self.boundary.len() + 10).sum::<usize>()
            + self.boundary.len()
            + 4;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&self.preamble);
        for part in &self.parts {
            out.extend_from_slice(b"--");
            out.extend_from_slice(&self.boundary);
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&part.headers);
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(&part.content);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(&self.boundary);
        out.extend_from_slice(b"--");
        out.extend_from_slice(&self.epilogue);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=\"----b0und\"";

    fn body() -> Vec<u8> {
        b"------b0und\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
------b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n\
{\"a\":1}\n{\"b\":2}\n\r\n------b0und--\r\n"
            .to_vec()
    }

    #[test]
    fn parts_are_read_and_written_back_byte_for_byte() {
        let b = body();
        let m = Multipart::parse(&b, CT).unwrap();
        assert_eq!(m.parts.len(), 2);
        assert_eq!(m.parts[0].content, b"batch");
        assert_eq!(m.parts[0].media_type(), "text/plain");
        assert_eq!(m.parts[1].media_type(), "application/jsonl");
        assert_eq!(m.parts[1].content, b"{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(m.to_bytes(), b);
    }

    #[test]
    fn a_changed_part_is_written_with_the_same_framing() {
        let b = body();
        let mut m = Multipart::parse(&b, CT).unwrap();
        m.parts[0].content = b"other".to_vec();
        let again = Multipart::parse(&m.to_bytes(), CT).unwrap();
        assert_eq!(again.parts[0].content, b"other");
        assert_eq!(again.parts[1], m.parts[1]);
    }

    #[test]
    fn broken_bodies_are_errors_not_panics() {
        assert_eq!(Multipart::parse(b"x", "multipart/form-data"), Err(MultipartError::NoBoundary));
        assert_eq!(Multipart::parse(b"no delimiter", CT), Err(MultipartError::Unterminated));
        assert_eq!(Multipart::parse(b"------b0und\r\nA: b\r\n\r\nunterminated", CT), Err(MultipartError::Unterminated));
        for cut in 0..body().len() {
            let _ = Multipart::parse(&body()[..cut], CT);
        }
        assert_eq!(boundary("text/plain; boundary=x"), None);
    }
}
