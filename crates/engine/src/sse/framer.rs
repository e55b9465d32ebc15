//! A byte-level, incremental framer for `text/event-stream` bodies.
//!
//! Written against the HTML Living Standard, 9.2 "Server-sent events" (numbering as of the
//! June 2025 edition): 9.2.5 "Parsing an event stream" gives the ABNF (a stream is an optional
//! BOM and events; an event is comment or field lines followed by an empty line; a line ends in
//! CRLF, a lone LF or a lone CR), and 9.2.6 "Interpreting an event stream" the meaning (a line
//! starting with `:` is a comment; a field name runs to the first `:` and one space after it is
//! dropped; `data` values are joined with LF; a blank line dispatches the event; data still
//! pending when the stream ends is discarded, so an unfinished last event is no event).
//!
//! The framer never decodes text: it finds line ends with a byte scan, so UTF-8 and CRLF may be
//! split across network chunks anywhere. It hands out each complete event as the exact bytes that
//! carried it ([`Frame::Event`]), so a caller that changes nothing forwards it byte for byte, and
//! everything that is not part of an event (a blank line on its own, the LF completing a CRLF that
//! ended the previous event, a leading BOM, an oversized event, a body that is not an event
//! stream at all) as [`Frame::Raw`], to be forwarded unchanged.
//!
//! Memory: only the one incomplete event is buffered, up to [`SseFramer::DEFAULT_MAX_EVENT`]; an
//! event that grows past it is forwarded as raw bytes from then on and counted.
//!
//! Keep-alives pass as they come: blank lines before the first event (or between events) and
//! comment lines (`: ping`) that open a block are not part of any event's data, so each is
//! forwarded raw as soon as its line ends. What is held before the first event is at most one
//! unfinished line of white space, and it counts against the same cap.

/// A piece of the stream handed to the caller, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Bytes to forward as they are.
    Raw(&'a [u8]),
    /// One complete event: its lines and the blank line that ended it.
    Event(Block<'a>),
}

/// What the framer saw, for the stream's statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FramerStats {
    /// Complete events handed out.
    pub events: u64,
    /// Events larger than the buffer cap, forwarded raw without being read.
    pub oversized: u64,
    /// The stream ended inside an event; its bytes were forwarded as they were.
    pub truncated: bool,
    /// The body did not look like an event stream (it began like JSON or HTML) and was passed through.
    pub not_sse: bool,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The incremental framer. Feed chunks with [`push`](Self::push), then call [`finish`](Self::finish).
#[derive(Debug, Clone)]
pub struct SseFramer {
    /// Bytes of the incomplete event (from `block_start`) plus bytes not yet scanned.
    pending: Vec<u8>,
    block_start: usize,
    line_start: usize,
    scanned: usize,
    /// The last byte scanned was a CR ending a line: an LF right after it belongs to that line end.
    after_cr: bool,
    /// Still at the very beginning of the body (BOM and the not-an-event-stream check pending).
    at_start: bool,
    /// The leading BOM was handled (passed on, or known absent).
    bom_done: bool,
    /// The current event outgrew the cap; forward its bytes raw until it ends.
    oversized: bool,
    /// Everything is passed through: the body is not an event stream.
    passthrough: bool,
    /// While `at_start`: bytes after `block_start` already known to be white space.
    start_seen: usize,
    max_event: usize,
    stats: FramerStats,
}

impl Default for SseFramer {
    fn default() -> Self {
        SseFramer::with_max_event(SseFramer::DEFAULT_MAX_EVENT)
    }
}

impl SseFramer {
    /// Largest incomplete event buffered (1 MiB).
    pub const DEFAULT_MAX_EVENT: usize = 1 << 20;

    pub fn with_max_event(max_event: usize) -> Self {
        SseFramer {
            pending: Vec::new(),
            block_start: 0,
            line_start: 0,
            scanned: 0,
            after_cr: false,
            at_start: true,
            bom_done: false,
            oversized: false,
            passthrough: false,
            start_seen: 0,
            max_event: max_event.max(1),
            stats: FramerStats::default(),
        }
    }

    pub fn stats(&self) -> FramerStats {
        self.stats
    }

    /// Bytes currently buffered (at most one incomplete event).
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Feed one network chunk; `emit` receives every frame completed by it, in order.
    pub fn push(&mut self, chunk: &[u8], mut emit: impl FnMut(Frame<'_>)) {
        if self.passthrough {
            if !chunk.is_empty() {
                emit(Frame::Raw(chunk));
            }
            return;
        }
        self.pending.extend_from_slice(chunk);
        if self.at_start {
            match self.check_start(&mut emit) {
                Start::Events => {}
                Start::Undecided => {
                    self.compact();
                    return;
                }
                Start::PassThrough => return,
            }
        }
        self.scan(&mut emit);
        if self.oversized {
            // Forward what the oversized event has so far; keep scanning for its end.
            self.emit_raw_upto(self.scanned, &mut emit);
        } else if self.pending.len().saturating_sub(self.block_start) > self.max_event {
            self.oversized = true;
            self.stats.oversized += 1;
            self.emit_raw_upto(self.scanned, &mut emit);
        }
        self.compact();
    }

    /// End of the body: whatever is buffered is an unfinished event; forward it unchanged.
    pub fn finish(&mut self, mut emit: impl FnMut(Frame<'_>)) {
        if self.at_start && !self.pending.is_empty() && !self.passthrough {
            // Too short to decide (a lone partial BOM, say): it is not an event either way.
            self.stats.not_sse = true;
        }
        let rest = self.pending.get(self.block_start..).unwrap_or(&[]);
        if !rest.is_empty() {
            if !self.oversized && rest.iter().any(|b| !matches!(b, b'\r' | b'\n')) {
                self.stats.truncated = true;
            }
            emit(Frame::Raw(rest));
        }
        if self.stats.events == 0 && !self.passthrough && self.stats.truncated {
            // A body with no complete event at all, e.g. a JSON error sent as an event stream.
            self.stats.not_sse = true;
        }
        self.pending.clear();
        self.block_start = 0;
        self.line_start = 0;
        self.scanned = 0;
    }

    /// The stream is being ended early (by the caller's own error event): drop the unfinished
    /// event instead of forwarding its half, so what follows is read as an event of its own.
    /// Counted as truncated when it held more than white space.
    pub fn abandon(&mut self) {
        let rest = self.pending.get(self.block_start..).unwrap_or(&[]);
        if rest.iter().any(|b| !b.is_ascii_whitespace()) {
            self.stats.truncated = true;
        }
        self.pending.clear();
        self.block_start = 0;
        self.line_start = 0;
        self.scanned = 0;
        self.passthrough = true;
        self.at_start = false;
    }

    /// At the start of the body: pass a BOM through, pass leading keep-alive lines (white space)
    /// as they come, and give up on bodies that begin like JSON or HTML (a line starting with `{`
    /// would be a field named `{...`, which no event stream sends).
    fn check_start(&mut self, emit: &mut impl FnMut(Frame<'_>)) -> Start {
        if !self.bom_done {
            let head = self.pending.as_slice();
            if head.len() < UTF8_BOM.len() && UTF8_BOM.starts_with(head) {
                return Start::Undecided;
            }
            self.bom_done = true;
            if head.starts_with(UTF8_BOM) {
                emit(Frame::Raw(UTF8_BOM));
                self.block_start = UTF8_BOM.len();
                self.line_start = UTF8_BOM.len();
                self.scanned = UTF8_BOM.len();
            }
        }
        let body = self.pending.get(self.block_start..).unwrap_or(&[]);
        // Resume after the white space already seen and held; looking from the start again on
        // every chunk was quadratic in a long run of white space.
        let seen = self.start_seen.min(body.len());
        let fresh = body.get(seen..).unwrap_or(&[]);
        match fresh.iter().find(|b| !b.is_ascii_whitespace()) {
            None => {
                // Only white space so far. Blank lines (CR and LF alone) are keep-alives, forwarded
                // now. A line holding spaces, tabs or form feeds is a field line of the first event
                // when the stream goes on with events, so from its first byte everything is held
                // (within the cap like any event) until a byte that is not white space decides:
                // forwarding it raw would frame the body differently under another chunking.
                let done = if seen == 0 {
                    fresh.iter().position(|&b| b != b'\n' && b != b'\r').unwrap_or(fresh.len())
                } else {
                    0
                };
                let rest = body.len() - done;
                let cut = if rest > self.max_event {
                    // A line of white space longer than any event: forwarded raw to its end, like
                    // an oversized event (the stream's framing is read again after it).
                    self.stats.oversized += 1;
                    self.oversized = true;
                    self.at_start = false;
                    body.len()
                } else {
                    done
                };
                self.start_seen = body.len() - cut;
                if cut > 0 {
                    emit(Frame::Raw(body.get(..cut).unwrap_or(&[])));
                    // A CR just forwarded may be the first half of a CRLF.
                    self.after_cr = body.get(cut - 1) == Some(&b'\r');
                    self.block_start += cut;
                    self.line_start = self.block_start;
                    self.scanned = self.block_start;
                }
                Start::Undecided
            }
            Some(b'{' | b'[' | b'<') => {
                self.at_start = false;
                self.passthrough = true;
                self.stats.not_sse = true;
                emit(Frame::Raw(body));
                self.pending.clear();
                self.block_start = 0;
                Start::PassThrough
            }
            Some(_) => {
                self.at_start = false;
                Start::Events
            }
        }
    }

    /// Scan new bytes for line ends; hand out each event that a blank line completes.
    fn scan(&mut self, emit: &mut impl FnMut(Frame<'_>)) {
        let mut i = self.scanned;
        while let Some(&b) = self.pending.get(i) {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    if self.block_start == i {
                        // The LF of a CRLF that ended the previous event (or blank line).
                        emit(Frame::Raw(self.pending.get(i..=i).unwrap_or(&[])));
                        self.block_start = i + 1;
                    }
                    self.line_start = i + 1;
                    i += 1;
                    continue;
                }
            }
            if b != b'\n' && b != b'\r' {
                // Jump to the next line end in one scan rather than byte by byte.
                let rest = self.pending.get(i..).unwrap_or(&[]);
                match rest.iter().position(|&c| c == b'\n' || c == b'\r') {
                    Some(at) => i += at,
                    None => {
                        i = self.pending.len();
                        break;
                    }
                }
                continue;
            }
            if i == self.line_start {
                self.end_block(i + 1, emit);
            } else if self.line_start == self.block_start && self.pending.get(self.line_start) == Some(&b':') {
                // A comment opening a block (a `: ping` keep-alive): no part of any event's
                // data, so it goes on now instead of waiting for the event it may precede.
                emit(Frame::Raw(self.pending.get(self.block_start..=i).unwrap_or(&[])));
                self.block_start = i + 1;
            }
            self.line_start = i + 1;
            self.after_cr = b == b'\r';
            i += 1;
        }
        self.scanned = i;
    }

    /// A blank line ended at `end`: everything from `block_start` is one event.
    fn end_block(&mut self, end: usize, emit: &mut impl FnMut(Frame<'_>)) {
        let bytes = self.pending.get(self.block_start..end).unwrap_or(&[]);
        let is_blank_only = bytes.len() <= 1;
        if self.oversized || is_blank_only {
            if !bytes.is_empty() {
                emit(Frame::Raw(bytes));
            }
            self.oversized = false;
        } else {
            self.stats.events += 1;
            emit(Frame::Event(Block { raw: bytes }));
        }
        self.block_start = end;
    }

    fn emit_raw_upto(&mut self, upto: usize, emit: &mut impl FnMut(Frame<'_>)) {
        let bytes = self.pending.get(self.block_start..upto).unwrap_or(&[]);
        if !bytes.is_empty() {
            emit(Frame::Raw(bytes));
        }
        self.block_start = upto;
    }

    /// Drop handed-out bytes so the buffer holds only the incomplete event.
    fn compact(&mut self) {
        let done = self.block_start.min(self.pending.len());
        if done == 0 {
            return;
        }
        self.pending.drain(..done);
        self.block_start = 0;
        self.line_start = self.line_start.saturating_sub(done);
        self.scanned = self.scanned.saturating_sub(done);
    }
}

/// What a body declared as an event stream turned out to be, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// Events (or anything else that is not a JSON document): framed event by event.
    EventStream,
    /// A JSON document (typically an error body sent with the stream's content type): restored
    /// whole like a buffered reply.
    JsonDocument,
}

/// Decides a declared event stream's [`BodyShape`] from the first byte of its body that is not
/// white space, whichever network chunk it arrives in: never from where a later chunk starts
/// (a chunk inside the first event may well start with `{`).
#[derive(Debug, Default, Clone, Copy)]
pub struct StreamStart {
    decided: bool,
}

impl StreamStart {
    /// Look at the next chunk of the body; the shape the first time it can be told, then `None`.
    pub fn observe(&mut self, chunk: &[u8]) -> Option<BodyShape> {
        if self.decided {
            return None;
        }
        let first = chunk.iter().find(|b| !b.is_ascii_whitespace())?;
        self.decided = true;
        Some(if matches!(first, b'{' | b'[') { BodyShape::JsonDocument } else { BodyShape::EventStream })
    }

    /// Has the shape been told?
    pub fn is_decided(&self) -> bool {
        self.decided
    }
}

/// Where the start-of-body check left the framer.
enum Start {
    /// Only a BOM or white space so far.
    Undecided,
    /// An event stream: scan it.
    Events,
    /// Not an event stream: everything is passed through.
    PassThrough,
}

/// One complete event as it was on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    raw: &'a [u8],
}

/// One line of an event: its content and the line end that followed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    pub content: &'a [u8],
    pub end: &'a [u8],
}

impl<'a> Line<'a> {
    /// `(name, value)` for a field line, `None` for a comment or the blank line.
    pub fn field(&self) -> Option<(&'a [u8], &'a [u8])> {
        let c = self.content;
        if c.is_empty() || c.first() == Some(&b':') {
            return None;
        }
        match c.iter().position(|&b| b == b':') {
            None => Some((c, &[])),
            Some(at) => {
                let name = c.get(..at).unwrap_or(&[]);
                let value = c.get(at + 1..).unwrap_or(&[]);
                Some((name, value.strip_prefix(b" ").unwrap_or(value)))
            }
        }
    }
}

impl<'a> Block<'a> {
    /// Wrap bytes that form one complete event (used by tests and by callers that frame elsewhere).
    pub fn new(raw: &'a [u8]) -> Self {
        Block { raw }
    }

    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn lines(&self) -> Lines<'a> {
        Lines { rest: self.raw }
    }

    /// The event type (`event:` field, last one wins), if any.
    pub fn event_type(&self) -> Option<&'a [u8]> {
        self.lines().filter_map(|l| l.field()).filter(|(n, _)| *n == b"event").map(|(_, v)| v).last()
    }

    /// Append the event's data (its `data` lines joined with LF) to `buf`; false if it has none.
    pub fn data_into(&self, buf: &mut Vec<u8>) -> bool {
        let mut any = false;
        for (name, value) in self.lines().filter_map(|l| l.field()) {
            if name == b"data" {
                if any {
                    buf.push(b'\n');
                }
                buf.extend_from_slice(value);
                any = true;
            }
        }
        any
    }

    /// Write the event with its data replaced by `data`: every other line (event, id, retry,
    /// comments, unknown fields) is kept as it was; the new data goes where the first `data` line
    /// was, with that line's line end, one `data:` line per line of `data`.
    pub fn write_with_data(&self, data: &str, out: &mut Vec<u8>) {
        // A CR cannot be carried inside a data line (it would end the line); as a line break it
        // reaches the client as LF, like every other line break in event data.
        let normalised;
        let data = if data.contains('\r') {
            normalised = data.replace("\r\n", "\n").replace('\r', "\n");
            normalised.as_str()
        } else {
            data
        };
        let mut written = false;
        for line in self.lines() {
            match line.field() {
                Some((b"data", _)) => {
                    if written {
                        continue;
                    }
                    written = true;
                    for part in data.split('\n') {
                        out.extend_from_slice(b"data: ");
                        out.extend_from_slice(part.as_bytes());
                        out.extend_from_slice(line.end);
                    }
                }
                _ => {
                    out.extend_from_slice(line.content);
                    out.extend_from_slice(line.end);
                }
            }
        }
    }
}

/// Lines of a block, each with its own line end (CRLF, LF or CR).
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let at = self.rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(self.rest.len());
        let (content, tail) = self.rest.split_at(at);
        let end_len = if tail.starts_with(b"\r\n") { 2 } else { tail.len().min(1) };
        let (end, rest) = tail.split_at(end_len);
        self.rest = rest;
        Some(Line { content, end })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// Frame `input` cut into `parts` and return (concatenated output, event data list).
    fn frame(parts: &[&[u8]]) -> (Vec<u8>, Vec<String>, FramerStats) {
        let mut f = SseFramer::default();
        let mut out = Vec::new();
        let mut data = Vec::new();
        let mut on = |fr: Frame<'_>| match fr {
            Frame::Raw(b) => out.extend_from_slice(b),
            Frame::Event(block) => {
                out.extend_from_slice(block.raw());
                let mut d = Vec::new();
                if block.data_into(&mut d) {
                    data.push(String::from_utf8(d).unwrap());
                }
            }
        };
        for p in parts {
            f.push(p, &mut on);
        }
        f.finish(&mut on);
        (out, data, f.stats())
    }

    #[test]
    fn line_ends_comments_and_multiline_data() {
        // Cases written for this project after the standard's "Interpreting an event stream" rules.
        let input = b"\xEF\xBB\xBF: hello\r\ndata: a\r\ndata:b\r\n\r\nevent: x\rdata:  c\r\rdata\n\n";
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            let (out, data, stats) = frame(&[a, b]);
            assert_eq!(out, input, "cut {cut}");
            assert_eq!(data, vec!["a\nb".to_owned(), " c".to_owned(), String::new()], "cut {cut}");
            assert_eq!(stats.events, 3);
            assert!(!stats.truncated && !stats.not_sse);
        }
    }

    #[test]
    fn unfinished_event_is_forwarded_and_counted() {
        let (out, data, stats) = frame(&[b"data: 1\n\ndata: {\"a\":"]);
        assert_eq!(out, b"data: 1\n\ndata: {\"a\":");
        assert_eq!(data, vec!["1"]);
        assert!(stats.truncated && !stats.not_sse);
    }

    #[test]
    fn json_body_is_passed_through() {
        let body = b"{\"error\":{\"message\":\"bad\"}}\n\n";
        let (out, data, stats) = frame(&[&body[..3], &body[3..]]);
        assert_eq!(out, body);
        assert!(data.is_empty());
        assert!(stats.not_sse);
    }

    #[test]
    fn oversized_event_passes_raw() {
        let mut f = SseFramer::with_max_event(16);
        let mut out = Vec::new();
        let mut events = 0;
        let input = b"data: 0123456789abcdefghij\n\ndata: ok\n\n";
        for b in input.chunks(5) {
            f.push(b, |fr| match fr {
                Frame::Raw(b) => out.extend_from_slice(b),
                Frame::Event(e) => {
                    events += 1;
                    out.extend_from_slice(e.raw());
                }
            });
            assert!(f.buffered() <= 16 + 5);
        }
        assert_eq!(out, input);
        assert_eq!(events, 1);
        assert_eq!(f.stats().oversized, 1);
    }

    /// Push `chunk` and return the bytes the framer let go of at once.
    fn push_now(f: &mut SseFramer, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        f.push(chunk, |fr| match fr {
            Frame::Raw(b) => out.extend_from_slice(b),
            Frame::Event(e) => out.extend_from_slice(e.raw()),
        });
        out
    }

    #[test]
    fn keep_alives_before_the_first_event_pass_as_they_come() {
        let mut f = SseFramer::default();
        for beat in [&b"\n"[..], b"\r\n", b"\r", b"\n", b": ping\n", b"\n", b": ping\r\n\r\n", b":\n"] {
            assert_eq!(push_now(&mut f, beat), beat, "{:?}", String::from_utf8_lossy(beat));
            assert_eq!(f.buffered(), 0);
        }
        // A comment opening an event goes on at once; the event follows when complete.
        assert_eq!(push_now(&mut f, b": note\ndata: 1"), b": note\n");
        assert_eq!(push_now(&mut f, b"\n\n"), b"data: 1\n\n");
        assert_eq!(f.stats().events, 1);
        // An unfinished line of spaces is held (it may be part of a line), the newline before it is not.
        let mut f = SseFramer::default();
        assert_eq!(push_now(&mut f, b"\n\n  "), b"\n\n");
        assert_eq!(f.buffered(), 2);
    }

    #[test]
    fn a_flood_of_newlines_is_not_held_and_leading_space_counts_against_the_cap() {
        let mut f = SseFramer::default();
        let flood = vec![b'\n'; 2 << 20];
        assert_eq!(push_now(&mut f, &flood).len(), flood.len());
        assert_eq!(f.buffered(), 0);
        let mut f = SseFramer::with_max_event(16);
        let spaces = [b' '; 40];
        let mut out = Vec::new();
        for piece in spaces.chunks(7) {
            out.extend(push_now(&mut f, piece));
            assert!(f.buffered() <= 16 + 7);
        }
        out.extend(push_now(&mut f, b"\n\ndata: ok\n\n"));
        assert_eq!(out, [&spaces[..], b"\n\ndata: ok\n\n"].concat());
        assert_eq!(f.stats().oversized, 1);
        assert_eq!(f.stats().events, 1);
    }

    #[test]
    fn keep_alives_keep_every_cut_byte_exact() {
        let input = b"\xEF\xBB\xBF\n\r\n: ping\r\n\r\n: hi\ndata: a\n\n\n: ping\n\ndata: b\r\n\r\n";
        for cut in 0..=input.len() {
            for cut2 in cut..=input.len() {
                let (out, data, stats) = frame(&[&input[..cut], &input[cut..cut2], &input[cut2..]]);
                assert_eq!(out, input, "cuts {cut} {cut2}");
                assert_eq!(data, vec!["a".to_owned(), "b".to_owned()], "cuts {cut} {cut2}");
                assert!(!stats.truncated && !stats.not_sse, "cuts {cut} {cut2}");
            }
        }
    }

    #[test]
    fn white_space_lines_before_the_first_event_frame_alike_under_every_cut() {
        // Found by fuzzing: a line of spaces or tabs before the first event was forwarded as a
        // keep-alive under one chunking and read as a field line of the first event under another.
        for input in [&b"\n \t\n\ndata: a\n\n"[..], b"\r\n\x0c\r\ndata: a\n\n", b" \n  {\"a\":1}"] {
            let (_, whole, whole_stats) = frame(&[input]);
            for cut in 0..=input.len() {
                let (out, data, stats) = frame(&[&input[..cut], &input[cut..]]);
                assert_eq!(out, input, "cut {cut}");
                assert_eq!((data, stats), (whole.clone(), whole_stats), "cut {cut}");
            }
        }
    }

    #[test]
    fn abandon_drops_the_unfinished_event() {
        let mut f = SseFramer::default();
        assert_eq!(push_now(&mut f, b"data: 1\n\ndata: {\"a\""), b"data: 1\n\n");
        f.abandon();
        let mut out = Vec::new();
        f.finish(|fr| match fr {
            Frame::Raw(b) => out.extend_from_slice(b),
            Frame::Event(e) => out.extend_from_slice(e.raw()),
        });
        assert!(out.is_empty());
        assert!(f.stats().truncated);
    }

    #[test]
    fn rewrite_keeps_other_lines() {
        let block = Block::new(b"event: e\r\nid: 7\r\ndata: old\r\n: note\r\ndata: more\r\n\r\n");
        let mut out = Vec::new();
        block.write_with_data("new", &mut out);
        assert_eq!(out, b"event: e\r\nid: 7\r\ndata: new\r\n: note\r\n\r\n");
    }
}
