//! Content-Encoding: which encodings the filter can read, and decoding them with a size limit
//! (a small compressed body must not expand past the limit: a decompression bomb is refused).

/// An encoding named in a `Content-Encoding` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncoding {
    Identity,
    Gzip,
    /// HTTP `deflate` is the zlib format (RFC 9110 8.4.1.2).
    Deflate,
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The header names an encoding (or a list of them) this filter does not read.
    Unsupported { encoding: String },
    /// The bytes are not valid for the encoding.
    Corrupt { encoding: &'static str },
    /// Decoding would exceed the limit.
    TooLarge { limit: usize },
}

impl ContentEncoding {
    /// Parse a `Content-Encoding` header value. Stacked encodings are not supported.
    pub fn parse(header: Option<&str>) -> Result<ContentEncoding, DecodeError> {
        let Some(value) = header else { return Ok(ContentEncoding::Identity) };
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(ContentEncoding::Identity),
            "gzip" | "x-gzip" => Ok(ContentEncoding::Gzip),
            "deflate" => Ok(ContentEncoding::Deflate),
            other => Err(DecodeError::Unsupported { encoding: other.chars().take(40).collect() }),
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            ContentEncoding::Identity => "identity",
            ContentEncoding::Gzip => "gzip",
            ContentEncoding::Deflate => "deflate",
        }
    }

    /// Decode a whole body, producing at most `limit` bytes. An identity body is borrowed, not
    /// copied.
    pub fn decode(self, body: &[u8], limit: usize) -> Result<std::borrow::Cow<'_, [u8]>, DecodeError> {
        use miniz_oxide::inflate::{decompress_to_vec_with_limit, decompress_to_vec_zlib_with_limit, TINFLStatus};
        let result = match self {
            ContentEncoding::Identity => return Ok(std::borrow::Cow::Borrowed(body)),
            ContentEncoding::Gzip => {
                let start = gzip_payload_start(body).ok_or(DecodeError::Corrupt { encoding: "gzip" })?;
                decompress_to_vec_with_limit(&body[start..], limit)
            }
            ContentEncoding::Deflate => decompress_to_vec_zlib_with_limit(body, limit),
        };
        result.map(std::borrow::Cow::Owned).map_err(|e| match e.status {
            TINFLStatus::HasMoreOutput => DecodeError::TooLarge { limit },
            _ => DecodeError::Corrupt { encoding: self.name() },
        })
    }
}

impl ContentEncoding {
    /// Encode a whole body (the inverse of [`ContentEncoding::decode`]), so a rewritten request
    /// goes on in the encoding its headers, already sent, declare. An identity body is passed
    /// through, not copied.
    pub fn encode(self, body: Vec<u8>) -> Vec<u8> {
        use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};
        const LEVEL: u8 = 6;
        match self {
            ContentEncoding::Identity => body,
            ContentEncoding::Deflate => compress_to_vec_zlib(&body, LEVEL),
            ContentEncoding::Gzip => {
                // RFC 1952: fixed header (no name, no time, OS unknown), deflate data, CRC-32
                // and size of the input modulo 2^32.
                let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
                out.extend_from_slice(&compress_to_vec(&body, LEVEL));
                out.extend_from_slice(&crc32(&body).to_le_bytes());
                // ISIZE is the input size modulo 2^32.
                out.extend_from_slice(&((body.len() as u64 & 0xffff_ffff) as u32).to_le_bytes());
                out
            }
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected), as gzip's trailer needs it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Skip a gzip member header (RFC 1952 section 2.3) and return where the deflate data starts.
fn gzip_payload_start(b: &[u8]) -> Option<usize> {
    match gzip_header(b) {
        GzipHeader::Complete(i) => Some(i),
        GzipHeader::Incomplete | GzipHeader::Invalid => None,
    }
}

enum GzipHeader {
    /// The deflate data starts at this offset.
    Complete(usize),
    /// More bytes are needed to tell.
    Incomplete,
    Invalid,
}

fn gzip_header(b: &[u8]) -> GzipHeader {
    match gzip_header_len(b) {
        Some(i) if i <= b.len() => GzipHeader::Complete(i),
        Some(_) => GzipHeader::Incomplete,
        None if b.len() >= 3 && (b[0] != 0x1f || b[1] != 0x8b || b[2] != 8) => GzipHeader::Invalid,
        None => GzipHeader::Incomplete,
    }
}

/// The header's length, or `None` when `b` is too short to know it (or not gzip).
fn gzip_header_len(b: &[u8]) -> Option<usize> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if b.len() < 10 || b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 {
        return None;
    }
    let flags = b[3];
    let mut i = 10;
    if flags & FEXTRA != 0 {
        let xlen = usize::from(*b.get(i)?) | usize::from(*b.get(i + 1)?) << 8;
        i += 2 + xlen;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            i += b.get(i..)?.iter().position(|&c| c == 0)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        i += 2;
    }
    Some(i)
}

/// Decodes a body that arrives in chunks (a compressed event stream), producing output as soon
/// as the compressed bytes allow. Output is handed out in steps of at most
/// [`StreamDecoder::STEP`] bytes, and the whole stream may inflate to at most its limit: past it
/// decoding stops with [`DecodeError::TooLarge`], so a small compressed chunk that would inflate
/// to hundreds of megabytes never allocates more than one step.
pub struct StreamDecoder {
    encoding: ContentEncoding,
    state: Box<miniz_oxide::inflate::stream::InflateState>,
    /// Bytes of a gzip header not yet complete.
    header: Vec<u8>,
    in_payload: bool,
    ended: bool,
    /// Most bytes the whole stream may inflate to.
    limit: usize,
    /// Bytes inflated so far.
    produced: usize,
}

impl StreamDecoder {
    pub fn new(encoding: ContentEncoding) -> StreamDecoder {
        use miniz_oxide::DataFormat;
        let format = match encoding {
            ContentEncoding::Deflate => DataFormat::Zlib,
            _ => DataFormat::Raw,
        };
        StreamDecoder {
            encoding,
            state: miniz_oxide::inflate::stream::InflateState::new_boxed(format),
            header: Vec::new(),
            in_payload: encoding != ContentEncoding::Gzip,
            ended: false,
            limit: usize::MAX,
            produced: 0,
        }
    }

    /// Largest piece of output handed out at once.
    pub const STEP: usize = 16 * 1024;

    /// Stop with [`DecodeError::TooLarge`] once the stream inflates past `limit` bytes.
    pub fn with_limit(mut self, limit: usize) -> StreamDecoder {
        self.limit = limit;
        self
    }

    /// Bytes inflated so far.
    pub fn produced(&self) -> usize {
        self.produced
    }

    /// Decode one chunk, appending what it yields to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
        self.push_each(chunk, |piece| out.extend_from_slice(piece))
    }

    /// Decode one chunk, handing what it yields to `each` in pieces of at most
    /// [`StreamDecoder::STEP`] bytes, so the caller can consume them without the decoded chunk
    /// ever being held whole. Pieces handed out before an error stand.
    pub fn push_each(&mut self, chunk: &[u8], mut each: impl FnMut(&[u8])) -> Result<(), DecodeError> {
        if self.encoding == ContentEncoding::Identity {
            for piece in chunk.chunks(Self::STEP) {
                self.count(piece.len())?;
                each(piece);
            }
            return Ok(());
        }
        if self.ended {
            // The gzip trailer (CRC-32 and size) and anything after the stream's end.
            return Ok(());
        }
        let mut input = chunk;
        let joined;
        if !self.in_payload {
            self.header.extend_from_slice(chunk);
            match gzip_header(&self.header) {
                GzipHeader::Complete(start) => {
                    joined = std::mem::take(&mut self.header);
                    input = joined.get(start..).unwrap_or(&[]);
                    self.in_payload = true;
                }
                GzipHeader::Incomplete => return Ok(()),
                GzipHeader::Invalid => return Err(DecodeError::Corrupt { encoding: self.encoding.name() }),
            }
        }
        self.inflate(input, &mut each)
    }

    /// Account for `n` more output bytes; an error once past the limit.
    fn count(&mut self, n: usize) -> Result<(), DecodeError> {
        self.produced = self.produced.saturating_add(n);
        if self.produced > self.limit {
            return Err(DecodeError::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    fn inflate(&mut self, mut input: &[u8], each: &mut impl FnMut(&[u8])) -> Result<(), DecodeError> {
        use miniz_oxide::inflate::stream::inflate;
        use miniz_oxide::{MZFlush, MZStatus};
        let mut buf = vec![0u8; Self::STEP];
        loop {
            let r = inflate(&mut self.state, input, &mut buf, MZFlush::None);
            self.count(r.bytes_written)?;
            if r.bytes_written > 0 {
                each(buf.get(..r.bytes_written).unwrap_or(&[]));
            }
            input = input.get(r.bytes_consumed..).unwrap_or(&[]);
            match r.status {
                Ok(MZStatus::StreamEnd) => {
                    self.ended = true;
                    return Ok(());
                }
                Ok(_) => {
                    if input.is_empty() && r.bytes_written < buf.len() {
                        return Ok(());
                    }
                }
                // No progress possible without more input.
                Err(miniz_oxide::MZError::Buf) => return Ok(()),
                Err(_) => return Err(DecodeError::Corrupt { encoding: self.encoding.name() }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // Python: gzip.compress(b'hello hello hello', mtime=0)
    #[rustfmt::skip]
    const HELLO_GZ: [u8; 28] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x90, 0x00, 0x80, 0x88, 0xf9, 0xe5, 0x11, 0x00, 0x00, 0x00];

    #[test]
    fn stream_decoder_gives_the_same_bytes_for_every_cut() {
        for cut in 0..=HELLO_GZ.len() {
            for cut2 in cut..=HELLO_GZ.len() {
                let mut d = StreamDecoder::new(ContentEncoding::Gzip);
                let mut out = Vec::new();
                d.push(&HELLO_GZ[..cut], &mut out).unwrap();
                d.push(&HELLO_GZ[cut..cut2], &mut out).unwrap();
                d.push(&HELLO_GZ[cut2..], &mut out).unwrap();
                assert_eq!(out, b"hello hello hello", "cuts at {cut} and {cut2}");
            }
        }
        let mut d = StreamDecoder::new(ContentEncoding::Gzip);
        assert!(d.push(b"plain text, not gzip", &mut Vec::new()).is_err());
    }

    #[test]
    fn a_stream_that_inflates_past_its_limit_stops_in_bounded_steps() {
        // 64 MiB of one byte, gzip-compressed by our own encoder: about 64 KiB on the wire.
        let bomb = ContentEncoding::Gzip.encode(vec![b'a'; 64 << 20]);
        assert!(bomb.len() < 256 << 10, "{}", bomb.len());
        let limit = 1 << 20;
        let mut d = StreamDecoder::new(ContentEncoding::Gzip).with_limit(limit);
        let mut seen = 0;
        let mut largest = 0;
        let mut result = Ok(());
        for chunk in bomb.chunks(16 << 10) {
            result = d.push_each(chunk, |piece| {
                seen += piece.len();
                largest = largest.max(piece.len());
            });
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(DecodeError::TooLarge { limit }));
        assert!(seen <= limit, "{seen}");
        assert!(largest <= StreamDecoder::STEP);
        // Under the limit the same stream decodes whole, in the same steps.
        let mut d = StreamDecoder::new(ContentEncoding::Gzip).with_limit(64 << 20);
        let mut total = 0;
        for chunk in bomb.chunks(16 << 10) {
            d.push_each(chunk, |piece| {
                assert!(piece.len() <= StreamDecoder::STEP);
                total += piece.len();
            })
            .unwrap();
        }
        assert_eq!(total, 64 << 20);
        assert_eq!(d.produced(), 64 << 20);
        // An identity stream counts against the limit too.
        let mut d = StreamDecoder::new(ContentEncoding::Identity).with_limit(10);
        assert!(d.push(b"0123456789", &mut Vec::new()).is_ok());
        assert!(d.push(b"x", &mut Vec::new()).is_err());
    }

    #[test]
    fn encode_round_trips_and_matches_gzip_crc() {
        assert_eq!(
            crc32(b"hello hello hello"),
            u32::from_le_bytes([
                HELLO_GZ[HELLO_GZ.len() - 8],
                HELLO_GZ[HELLO_GZ.len() - 7],
                HELLO_GZ[HELLO_GZ.len() - 6],
                HELLO_GZ[HELLO_GZ.len() - 5]
            ])
        );
        let body = "masked [EMAIL_1] body ".repeat(50);
        for enc in [ContentEncoding::Gzip, ContentEncoding::Deflate, ContentEncoding::Identity] {
            let wire = enc.encode(body.as_bytes().to_vec());
            assert_eq!(enc.decode(&wire, 1 << 20).unwrap(), body.as_bytes(), "{enc:?}");
        }
    }

    #[test]
    fn parses_headers() {
        assert_eq!(ContentEncoding::parse(None).unwrap(), ContentEncoding::Identity);
        assert_eq!(ContentEncoding::parse(Some("GZIP")).unwrap(), ContentEncoding::Gzip);
        assert!(matches!(ContentEncoding::parse(Some("br")), Err(DecodeError::Unsupported { .. })));
        assert!(matches!(ContentEncoding::parse(Some("gzip, br")), Err(DecodeError::Unsupported { .. })));
    }

    #[test]
    fn gzip_decodes_within_limit_only() {
        let out = ContentEncoding::Gzip.decode(&HELLO_GZ, 1024);
        assert_eq!(out.unwrap().as_ref(), b"hello hello hello");
        assert_eq!(ContentEncoding::Gzip.decode(&HELLO_GZ, 5), Err(DecodeError::TooLarge { limit: 5 }));
        assert_eq!(
            ContentEncoding::Gzip.decode(b"not gzip at all, no", 1024),
            Err(DecodeError::Corrupt { encoding: "gzip" })
        );
    }
}
