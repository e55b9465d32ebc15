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
    /// copied. A body that ends early, carries bytes after its end that are not another gzip
    /// member, or whose gzip trailer (CRC-32 and size) does not match what it inflated to, is
    /// [`DecodeError::Corrupt`].
    pub fn decode(self, body: &[u8], limit: usize) -> Result<std::borrow::Cow<'_, [u8]>, DecodeError> {
        if self == ContentEncoding::Identity {
            return Ok(std::borrow::Cow::Borrowed(body));
        }
        let mut out = Vec::new();
        let mut decoder = StreamDecoder::new(self).with_limit(limit);
        decoder.push(body, &mut out)?;
        decoder.finish(|piece| out.extend_from_slice(piece))?;
        Ok(std::borrow::Cow::Owned(out))
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
                // RFC 1952: a fixed header (no name, no time, OS unknown), the deflate data, then
                // the CRC-32 and the input size modulo 2^32.
                let mut crc = flate2::Crc::new();
                crc.update(&body);
                let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
                out.extend_from_slice(&compress_to_vec(&body, LEVEL));
                out.extend_from_slice(&crc.sum().to_le_bytes());
                out.extend_from_slice(&crc.amount().to_le_bytes());
                out
            }
        }
    }
}

/// The inflater behind a [`StreamDecoder`]: flate2's writers, each writing what it inflates into
/// a buffer the decoder empties after every step.
enum Inflater {
    Identity,
    /// Every member of a gzip stream, each checked against its trailer.
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
    /// One zlib stream (HTTP `deflate`); bytes after its end are ignored.
    Zlib(Box<flate2::write::ZlibDecoder<Vec<u8>>>),
}

impl Inflater {
    fn writer(&mut self) -> Option<&mut dyn std::io::Write> {
        match self {
            Inflater::Identity => None,
            Inflater::Gzip(w) => Some(w.as_mut()),
            Inflater::Zlib(w) => Some(w.as_mut()),
        }
    }

    /// The inflated bytes written so far and not yet handed out.
    fn output(&mut self) -> Option<&mut Vec<u8>> {
        match self {
            Inflater::Identity => None,
            Inflater::Gzip(w) => Some(w.get_mut()),
            Inflater::Zlib(w) => Some(w.get_mut()),
        }
    }
}

/// Decodes a body that arrives in chunks (a compressed event stream), producing output as soon
/// as the compressed bytes allow. Output is handed out in steps of at most
/// [`StreamDecoder::STEP`] bytes, and the whole stream may inflate to at most its limit: past it
/// decoding stops with [`DecodeError::TooLarge`], so a small compressed chunk that would inflate
/// to hundreds of megabytes never holds more than a few steps. [`StreamDecoder::finish`] tells a
/// complete stream from a truncated or corrupt one.
pub struct StreamDecoder {
    encoding: ContentEncoding,
    inflater: Inflater,
    /// Most bytes the whole stream may inflate to.
    limit: usize,
    /// Bytes inflated so far.
    produced: usize,
    /// The error that stopped decoding; every later call returns it.
    failed: Option<DecodeError>,
    /// `finish` has run: the inflater takes no more input.
    finished: bool,
}

impl StreamDecoder {
    pub fn new(encoding: ContentEncoding) -> StreamDecoder {
        let inflater = match encoding {
            ContentEncoding::Identity => Inflater::Identity,
            ContentEncoding::Gzip => Inflater::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Vec::new()))),
            ContentEncoding::Deflate => Inflater::Zlib(Box::new(flate2::write::ZlibDecoder::new(Vec::new()))),
        };
        StreamDecoder { encoding, inflater, limit: usize::MAX, produced: 0, failed: None, finished: false }
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
    /// ever being held whole. Pieces handed out before an error stand. Input after
    /// [`StreamDecoder::finish`] is ignored.
    pub fn push_each(&mut self, chunk: &[u8], mut each: impl FnMut(&[u8])) -> Result<(), DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.encoding == ContentEncoding::Identity {
            for piece in chunk.chunks(Self::STEP) {
                self.count(piece.len())?;
                each(piece);
            }
            return Ok(());
        }
        if self.finished {
            return Ok(());
        }
        let result = self.inflate(chunk, &mut each);
        self.settle(result)
    }

    /// End of the stream: hand out what is still held and check that the stream was complete
    /// (for gzip, that the last member's CRC-32 and size match what it inflated to). A stream
    /// cut short or with a bad trailer is [`DecodeError::Corrupt`]; pieces handed out before
    /// stand. Later calls return the same result.
    pub fn finish(&mut self, mut each: impl FnMut(&[u8])) -> Result<(), DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        let done = match &mut self.inflater {
            Inflater::Identity => return Ok(()),
            Inflater::Gzip(w) => w.try_finish(),
            Inflater::Zlib(w) => w.try_finish(),
        };
        let mut result = self.hand_out(&mut each);
        if result.is_ok() && done.is_err() {
            result = Err(self.corrupt());
        }
        self.settle(result)
    }

    /// Remember an error so that later calls return it (the inflater is not driven again).
    fn settle(&mut self, result: Result<(), DecodeError>) -> Result<(), DecodeError> {
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn corrupt(&self) -> DecodeError {
        DecodeError::Corrupt { encoding: self.encoding.name() }
    }

    /// Account for `n` more output bytes; an error once past the limit.
    fn count(&mut self, n: usize) -> Result<(), DecodeError> {
        self.produced = self.produced.saturating_add(n);
        if self.produced > self.limit {
            return Err(DecodeError::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    /// Feed `input` to the inflater one step at a time; each step inflates at most one of
    /// flate2's buffers (32 KiB), which is handed out before the next step.
    fn inflate(&mut self, mut input: &[u8], each: &mut impl FnMut(&[u8])) -> Result<(), DecodeError> {
        while !input.is_empty() {
            let Some(writer) = self.inflater.writer() else { return Ok(()) };
            let taken = writer.write(input).map_err(|_| self.corrupt())?;
            self.hand_out(each)?;
            if taken == 0 {
                // A zlib stream has ended: what follows it is not read.
                break;
            }
            input = input.get(taken..).unwrap_or(&[]);
        }
        // The last step's output is still inside the inflater until flushed.
        if let Some(writer) = self.inflater.writer() {
            writer.flush().map_err(|_| self.corrupt())?;
        }
        self.hand_out(each)
    }

    /// Hand out the inflated bytes held, in pieces of at most [`StreamDecoder::STEP`].
    fn hand_out(&mut self, each: &mut impl FnMut(&[u8])) -> Result<(), DecodeError> {
        let held = match self.inflater.output() {
            Some(out) if !out.is_empty() => std::mem::take(out),
            _ => return Ok(()),
        };
        for piece in held.chunks(Self::STEP) {
            self.count(piece.len())?;
            each(piece);
        }
        // Give the buffer back so its allocation is reused.
        if let Some(out) = self.inflater.output() {
            if out.is_empty() {
                let mut held = held;
                held.clear();
                *out = held;
            }
        }
        Ok(())
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
    fn encode_round_trips_and_writes_the_gzip_trailer() {
        // Our gzip encoder and Python's agree on the trailer: CRC-32 then size.
        let ours = ContentEncoding::Gzip.encode(b"hello hello hello".to_vec());
        assert_eq!(ours[ours.len() - 8..], HELLO_GZ[HELLO_GZ.len() - 8..]);
        let body = "masked [EMAIL_1] body ".repeat(50);
        for enc in [ContentEncoding::Gzip, ContentEncoding::Deflate, ContentEncoding::Identity] {
            let wire = enc.encode(body.as_bytes().to_vec());
            assert_eq!(enc.decode(&wire, 1 << 20).unwrap(), body.as_bytes(), "{enc:?}");
        }
    }

    /// Decode `wire` streamed, cut at every `cut` bytes, then finish.
    fn streamed(enc: ContentEncoding, wire: &[u8], cut: usize) -> Result<Vec<u8>, DecodeError> {
        let mut d = StreamDecoder::new(enc);
        let mut out = Vec::new();
        for chunk in wire.chunks(cut.max(1)) {
            d.push(chunk, &mut out)?;
        }
        d.finish(|piece| out.extend_from_slice(piece))?;
        Ok(out)
    }

    #[test]
    fn multi_member_gzip_reads_every_member() {
        let mut wire = HELLO_GZ.to_vec();
        wire.extend_from_slice(&ContentEncoding::Gzip.encode(b" and more".to_vec()));
        assert_eq!(ContentEncoding::Gzip.decode(&wire, 1024).unwrap().as_ref(), b"hello hello hello and more");
        for cut in 1..=wire.len() {
            assert_eq!(
                streamed(ContentEncoding::Gzip, &wire, cut).unwrap(),
                b"hello hello hello and more",
                "cut {cut}"
            );
        }
    }

    #[test]
    fn a_bad_trailer_a_cut_end_or_trailing_bytes_are_corrupt() {
        let corrupt = DecodeError::Corrupt { encoding: "gzip" };
        let mut bad_crc = HELLO_GZ;
        bad_crc[HELLO_GZ.len() - 8] ^= 1;
        let mut bad_size = HELLO_GZ;
        bad_size[HELLO_GZ.len() - 4] ^= 1;
        let mut trailing = HELLO_GZ.to_vec();
        trailing.extend_from_slice(b"junk");
        for wire in [&bad_crc[..], &bad_size[..], &HELLO_GZ[..HELLO_GZ.len() - 3], &HELLO_GZ[..15], &trailing[..], &[]]
        {
            assert_eq!(ContentEncoding::Gzip.decode(wire, 1024).map(|b| b.len()), Err(corrupt.clone()), "{wire:?}");
            for cut in 1..=wire.len().max(1) {
                assert_eq!(streamed(ContentEncoding::Gzip, wire, cut), Err(corrupt.clone()), "{wire:?} cut {cut}");
            }
        }
        // Pushing alone cannot know the end has come: a cut stream is only found out by `finish`.
        let mut d = StreamDecoder::new(ContentEncoding::Gzip);
        let mut out = Vec::new();
        d.push(&HELLO_GZ[..HELLO_GZ.len() - 3], &mut out).unwrap();
        assert_eq!(out, b"hello hello hello");
        assert_eq!(d.finish(|_| {}), Err(corrupt.clone()));
        assert_eq!(d.push(b"more", &mut out), Err(corrupt), "an error stays");
        // A zlib stream cut short or with a bad checksum is corrupt too.
        let zlib = ContentEncoding::Deflate.encode(b"hello hello hello".to_vec());
        let mut bad_adler = zlib.clone();
        let last = bad_adler.len() - 1;
        bad_adler[last] ^= 1;
        for wire in [&zlib[..zlib.len() - 2], &bad_adler[..]] {
            assert_eq!(
                ContentEncoding::Deflate.decode(wire, 1024).map(|b| b.len()),
                Err(DecodeError::Corrupt { encoding: "deflate" })
            );
        }
        assert_eq!(streamed(ContentEncoding::Deflate, &zlib, 3).unwrap(), b"hello hello hello");
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
