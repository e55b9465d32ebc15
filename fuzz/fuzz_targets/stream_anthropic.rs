//! The Anthropic Messages streaming restorer: arbitrary bytes cut at arbitrary places (input:
//! `[8-byte chunking seed][stream]`, seeds from the SSE fixtures). Asserted: no panic; the
//! output and statistics under the chunking equal those of the whole body fed at once.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prompt_guard_engine::sse::StreamProtocol;
use prompt_guard_fuzz::check_stream;

fuzz_target!(|data: &[u8]| {
    check_stream(StreamProtocol::AnthropicMessages, data);
});
