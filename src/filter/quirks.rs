//! Host behaviours the filter has to work around, each in one named type with the reason.

use proxy_wasm::types::Action;

use super::host::{self, Direction, HostError};

/// Envoy forwards the client's `Content-Length` with the headers. Once the filter may change the
/// body, that length would be wrong and the peer would cut the body short or wait for bytes that
/// never come; removing it makes Envoy frame the body itself (chunked on HTTP/1.1, DATA frames on
/// HTTP/2). It must happen in the headers callback, before the headers leave.
pub struct ContentLengthRemoval;

impl ContentLengthRemoval {
    pub fn apply(dir: Direction) -> Result<(), HostError> {
        host::remove_header(dir, "content-length")
    }
}

/// Hold the request for inspection: its body may change size, and the reply must come back
/// readable (the upstream is asked for no compression).
pub fn hold_request() -> Result<(), HostError> {
    ContentLengthRemoval::apply(Direction::Request)?;
    host::remove_header(Direction::Request, "accept-encoding")
}

/// A headers callback that returns `Pause` does not pause only the headers: the host turns it
/// into "stop all iteration" (headers, body and trailers) until the filter resumes the stream, so
/// the body callbacks would never run and the exchange would hang. Headers therefore always go on
/// and the body is held instead (`Pause` from the body callback buffers it). The upstream may see
/// request headers before the filter has decided; when the filter refuses the body, the upstream
/// stream is reset before any body byte is sent, so no request ever completes there. The shipped
/// configurations put Envoy's buffer filter after this one, so the router holds the headers until
/// the filter passed the whole body and a refused request never reaches the upstream at all
/// (docs/deployment.md).
pub struct HeadersGoOn;

impl HeadersGoOn {
    pub const ACTION: Action = Action::Continue;
}

/// The `body_size` a body callback receives means two different things. While the filter
/// returns `Pause` (Envoy's StopIterationAndBuffer), Envoy keeps the chunks and `body_size` is the
/// size of everything buffered so far; after `Continue`, each callback sees only its own chunk.
/// The buffered mode therefore reads and replaces `0..body_size` once, at the end; the streaming
/// mode reads and replaces `0..body_size` of each chunk as it passes.
#[derive(Debug, Default, Clone, Copy)]
pub struct BufferedBodySize {
    /// The latest `body_size` seen while buffering: what a trailers callback must read.
    pub seen: usize,
}

impl BufferedBodySize {
    pub fn record(&mut self, body_size: usize) {
        self.seen = body_size;
    }
}

/// A stream that ends with trailers (gRPC-style requests, some HTTP/2 clients) never delivers a
/// body callback with `end_of_stream = true`: the trailers callback is the end of the body. Both
/// callbacks therefore route to the same "body complete" step, and this guard makes sure it runs
/// once.
#[derive(Debug, Default, Clone, Copy)]
pub struct TrailersEndStream {
    done: bool,
}

impl TrailersEndStream {
    /// True the first time the body is complete, false afterwards.
    pub fn complete_once(&mut self) -> bool {
        !std::mem::replace(&mut self.done, true)
    }
    pub fn is_done(&self) -> bool {
        self.done
    }
}
