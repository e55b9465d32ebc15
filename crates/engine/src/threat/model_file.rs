//! The header and fields of the compiled-in model files (the learned model's `weights.bin`, the
//! suffix model's `model.bin`): one reader for the scanner, one writer for the trainers, so the
//! two cannot disagree about the layout.
//!
//! A file is four magic bytes naming the model, a format version, log2 of the model's table
//! size, two reserved zero bytes, then the model's own little-endian fields and tables. A file
//! whose magic, version or table size is not the one the code expects is not read at all: the
//! scanner then has no evidence from that model rather than wrong evidence.

/// The bytes of the header (magic, version, bits, two reserved).
pub const HEADER: usize = 8;

/// What a model's file must start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// The four bytes naming the model.
    pub magic: [u8; 4],
    /// The layout's version.
    pub version: u8,
    /// log2 of the model's table size.
    pub bits: u8,
}

impl Format {
    /// The fields after the header, when `bytes` starts with this format's header.
    pub fn read<'a>(&self, bytes: &'a [u8]) -> Option<Fields<'a>> {
        let header = bytes.get(..HEADER)?;
        if header.get(..4)? != self.magic || header.get(4) != Some(&self.version) || header.get(5) != Some(&self.bits) {
            return None;
        }
        Some(Fields { rest: bytes.get(HEADER..)? })
    }

    /// A file with this format's header, to which the model's fields are appended.
    pub fn writer(&self, capacity: usize) -> Writer {
        let mut out = Vec::with_capacity(HEADER + capacity);
        out.extend_from_slice(&self.magic);
        out.push(self.version);
        out.push(self.bits);
        out.extend_from_slice(&[0, 0]);
        Writer(out)
    }
}

/// The fields of a file after its header, read in order.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// The next little-endian f32.
    pub fn f32(&mut self) -> Option<f32> {
        Some(f32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    /// The next little-endian u16.
    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(2)?.try_into().ok()?))
    }

    /// Everything left, when it is exactly `n` bytes (a table of known size ends the file).
    pub fn rest_of_len(self, n: usize) -> Option<&'a [u8]> {
        (self.rest.len() == n).then_some(self.rest)
    }
}

/// A file being written: the header, then the fields in the order the reader takes them.
#[derive(Debug, Clone)]
pub struct Writer(Vec<u8>);

impl Writer {
    /// Append a little-endian f32.
    pub fn f32(mut self, v: f32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Append a little-endian u16.
    pub fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Append bytes as they are.
    pub fn bytes(mut self, v: &[u8]) -> Self {
        self.0.extend_from_slice(v);
        self
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Format = Format { magic: *b"TEST", version: 3, bits: 5 };

    #[test]
    fn a_file_reads_back_what_was_written() {
        let bytes = F.writer(0).f32(1.5).u16(7).bytes(&[9, 9]).finish();
        assert_eq!(&bytes[..HEADER], b"TEST\x03\x05\x00\x00");
        let mut fields = F.read(&bytes).unwrap_or_else(|| unreachable!());
        assert_eq!(fields.f32(), Some(1.5));
        assert_eq!(fields.u16(), Some(7));
        assert_eq!(fields.rest_of_len(2), Some(&[9u8, 9][..]));
    }

    #[test]
    fn another_magic_version_or_size_is_not_read() {
        let bytes = F.writer(0).u16(1).finish();
        for other in [Format { magic: *b"TESU", ..F }, Format { version: 4, ..F }, Format { bits: 6, ..F }] {
            assert!(other.read(&bytes).is_none(), "{other:?}");
        }
        assert!(F.read(&bytes[..HEADER - 1]).is_none(), "truncated header");
        let mut fields = F.read(&bytes).unwrap_or_else(|| unreachable!());
        assert_eq!(fields.f32(), None, "past the end");
        assert_eq!(fields.rest_of_len(1), None, "a table of the wrong length");
    }
}
