//! Server-sent events: the byte-level framer (`framer`) and restoring placeholders in streamed
//! replies, event by event.
//!
//! [`SseRestorer`] runs the byte-level [`SseFramer`] and hands each complete event to the
//! protocol's restorer. The rules every protocol follows:
//!
//! - Bytes that are not an event (framing, blank lines, a body that is not an event stream, the
//!   bytes of an unfinished event at the end) are forwarded unchanged.
//! - An event whose text fields did not change is forwarded byte for byte; one whose text changed
//!   is re-serialised with serde_json (key order and numbers are kept by the crate's features) and
//!   only its `data` lines are rewritten (`event:`, `id:`, comments stay as they were).
//! - Each stream position (a chat choice's content, a tool call's arguments, an Anthropic content
//!   block, a Responses output part) has its own [`StreamingTextRestorer`]: every byte that cannot
//!   begin a placeholder goes out with the event it came in; a trailing possible placeholder is
//!   held back and goes out at the front of that position's next text.
//! - When a position ends, its held-back text is released: in the chat finish chunk's delta, or
//!   as one synthetic delta event written just before the event that ends the position (Anthropic
//!   `content_block_stop`/`message_stop`, Responses `*.done`/`response.completed`, chat `[DONE]`,
//!   or the end of the body). A synthetic event copies the shape of that position's last delta.

mod anthropic;
mod events;
mod framer;
pub(crate) use events::restore_tree;
pub use framer::{Block, BodyShape, Frame, FramerStats, Line, Lines, SseFramer, StreamStart};
mod generic;
mod openai_chat;
mod openai_responses;
mod positions;

use crate::restore::leaks::{LeakRules, LeakTally};
use crate::restore::{RestoreCounts, RestoreSpec};
use crate::vault::Vault;

use events::EventCtx;

/// Which wire format the stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamProtocol {
    /// OpenAI chat completions: `choices[].delta.content`, `reasoning_content`, tool call arguments.
    OpenAiChat,
    /// OpenAI Responses API: `response.*.delta` events with typed `event:` lines.
    OpenAiResponses,
    /// OpenAI legacy completions: `choices[].text`.
    OpenAiCompletions,
    /// Anthropic Messages: `content_block_delta` events.
    AnthropicMessages,
    /// Anything else: every JSON string value (or the raw data) of each event, one event at a time.
    Generic,
}

/// What a stream's restore did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamStats {
    /// Placeholders replaced by their originals.
    pub restored: u64,
    /// Placeholder-shaped tokens with a known label that this exchange did not issue.
    pub misses: u64,
    /// The body ended inside an event or with a placeholder candidate still open.
    pub truncated: bool,
    /// The body was declared an event stream but was not one; it was passed through.
    pub not_sse: bool,
    /// Complete event blocks seen (comment-only blocks included).
    pub events: u64,
    /// Events over the buffer cap, forwarded without being read.
    pub oversized: u64,
    /// Events written by the restorer itself to release held-back text.
    pub synthetic_events: u64,
}

/// The per-protocol state.
#[derive(Debug)]
enum ProtocolState {
    Chat(openai_chat::ChatStream),
    Responses(openai_responses::ResponsesStream),
    Anthropic(anthropic::AnthropicStream),
    Generic,
}

/// Restores placeholders in one streamed reply.
#[derive(Debug)]
pub struct SseRestorer {
    framer: SseFramer,
    state: ProtocolState,
    /// Reused buffer for an event's joined data.
    data: Vec<u8>,
    counts: RestoreCounts,
    synthetic_events: u64,
    /// Line end used for synthetic events: the one the stream itself uses.
    eol: &'static [u8],
    open_at_end: bool,
    /// Text of the positions as it arrived since the last `take_text`.
    tap: String,
    /// What the reply policy found and did so far.
    tally: LeakTally,
}

impl SseRestorer {
    pub fn new(protocol: StreamProtocol) -> Self {
        let state = match protocol {
            StreamProtocol::OpenAiChat => ProtocolState::Chat(openai_chat::ChatStream::new(false)),
            StreamProtocol::OpenAiCompletions => ProtocolState::Chat(openai_chat::ChatStream::new(true)),
            StreamProtocol::OpenAiResponses => ProtocolState::Responses(openai_responses::ResponsesStream::default()),
            StreamProtocol::AnthropicMessages => ProtocolState::Anthropic(anthropic::AnthropicStream::default()),
            StreamProtocol::Generic => ProtocolState::Generic,
        };
        SseRestorer {
            framer: SseFramer::default(),
            state,
            data: Vec::new(),
            counts: RestoreCounts::default(),
            synthetic_events: 0,
            eol: b"\n",
            open_at_end: false,
            tap: String::new(),
            tally: LeakTally::default(),
        }
    }

    /// Use a different cap for one buffered incomplete event (default 1 MiB).
    pub fn with_max_event(mut self, max_event: usize) -> Self {
        self.framer = SseFramer::with_max_event(max_event);
        self
    }

    /// Feed one network chunk; appends what can be forwarded now to `out`.
    pub fn push(&mut self, chunk: &[u8], vault: &Vault, spec: &RestoreSpec, out: &mut Vec<u8>) {
        self.push_with(chunk, vault, spec, None, out);
    }

    /// [`push`](Self::push), applying the reply policy (`leaks`) to the positions' text before
    /// placeholders are restored.
    pub fn push_with(
        &mut self,
        chunk: &[u8],
        vault: &Vault,
        spec: &RestoreSpec,
        leaks: Option<LeakRules<'_>>,
        out: &mut Vec<u8>,
    ) {
        let SseRestorer { framer, state, data, counts, synthetic_events, eol, tap, tally, .. } = self;
        framer.push(chunk, |frame| match frame {
            Frame::Raw(bytes) => out.extend_from_slice(bytes),
            Frame::Event(block) => {
                data.clear();
                let has_data = block.data_into(data);
                let text = if has_data { std::str::from_utf8(data).ok() } else { None };
                let Some(text) = text else {
                    // No data (comments, retry) or data that is not UTF-8: nothing we can read.
                    out.extend_from_slice(block.raw());
                    return;
                };
                *eol = events::line_end_of(block.raw());
                let mut ctx = EventCtx {
                    vault,
                    spec,
                    counts: &mut *counts,
                    eol,
                    out: &mut *out,
                    synthetic: &mut *synthetic_events,
                    tap: &mut *tap,
                    leaks,
                    tally: &mut *tally,
                };
                match state {
                    ProtocolState::Chat(s) => s.on_event(block, text, &mut ctx),
                    ProtocolState::Responses(s) => s.on_event(block, text, &mut ctx),
                    ProtocolState::Anthropic(s) => s.on_event(block, text, &mut ctx),
                    ProtocolState::Generic => generic::on_event(block, text, &mut ctx),
                }
            }
        });
    }

    /// End of stream: flush everything held back. Held text goes out as synthetic events first,
    /// then the raw bytes of an unfinished last event (so they cannot swallow a synthetic event).
    pub fn finish(&mut self, vault: &Vault, spec: &RestoreSpec, out: &mut Vec<u8>) {
        self.finish_with(vault, spec, None, out);
    }

    /// [`finish`](Self::finish) with the reply policy.
    pub fn finish_with(&mut self, vault: &Vault, spec: &RestoreSpec, leaks: Option<LeakRules<'_>>, out: &mut Vec<u8>) {
        self.release_held(vault, spec, leaks, out);
        self.framer.finish(|frame| match frame {
            Frame::Raw(bytes) => out.extend_from_slice(bytes),
            Frame::Event(block) => out.extend_from_slice(block.raw()),
        });
    }

    /// The stream ends early with an error event the caller writes next: held-back text goes
    /// out as synthetic events (as in [`finish`](Self::finish)), but the bytes of an unfinished
    /// event are dropped, so the error event cannot be read as part of it.
    pub fn abandon(&mut self, vault: &Vault, spec: &RestoreSpec, out: &mut Vec<u8>) {
        self.abandon_with(vault, spec, None, out);
    }

    /// [`abandon`](Self::abandon) with the reply policy.
    pub fn abandon_with(&mut self, vault: &Vault, spec: &RestoreSpec, leaks: Option<LeakRules<'_>>, out: &mut Vec<u8>) {
        self.release_held(vault, spec, leaks, out);
        self.framer.abandon();
    }

    /// Held-back text of every open position goes out as synthetic events.
    fn release_held(&mut self, vault: &Vault, spec: &RestoreSpec, leaks: Option<LeakRules<'_>>, out: &mut Vec<u8>) {
        let SseRestorer { state, counts, synthetic_events, eol, open_at_end, tap, tally, .. } = self;
        let mut ctx = EventCtx { vault, spec, counts, eol, out, synthetic: synthetic_events, tap, leaks, tally };
        let flushed = match state {
            ProtocolState::Chat(s) => s.finish(&mut ctx),
            ProtocolState::Responses(s) => s.finish(&mut ctx),
            ProtocolState::Anthropic(s) => s.finish(&mut ctx),
            ProtocolState::Generic => false,
        };
        *open_at_end |= flushed;
    }

    /// The text of the stream's positions (chat choices, tool arguments, content blocks) as it
    /// arrived since the last call, placeholders not yet restored: what reply scanning reads.
    /// Generic streams have no positions and yield nothing.
    pub fn take_text(&mut self) -> String {
        std::mem::take(&mut self.tap)
    }

    /// What the reply policy found and did in the stream so far.
    pub fn leak_tally(&self) -> &LeakTally {
        &self.tally
    }

    pub fn stats(&self) -> StreamStats {
        let f = self.framer.stats();
        StreamStats {
            restored: self.counts.restored,
            misses: self.counts.misses,
            truncated: f.truncated || self.open_at_end,
            not_sse: f.not_sse,
            events: f.events,
            oversized: f.oversized,
            synthetic_events: self.synthetic_events,
        }
    }
}
