//! The SSE framer: arbitrary bytes cut at arbitrary places (input: `[8-byte chunking seed]
//! [stream]`). Asserted: no panic; the frames put back together are exactly the input (the
//! framer forwards every byte); the same events come out under the chunking as from the whole
//! body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prompt_guard_engine::sse::{Frame, FramerStats, SseFramer};
use prompt_guard_fuzz::{chunks, seed_and_body};

struct Framed {
    bytes: Vec<u8>,
    events: Vec<Vec<u8>>,
    stats: FramerStats,
}

fn frame(pieces: &[&[u8]], cap: usize) -> Framed {
    let mut f = SseFramer::with_max_event(cap);
    let mut bytes = Vec::new();
    let mut events = Vec::new();
    let mut take = |frame: Frame<'_>| match frame {
        Frame::Raw(b) => bytes.extend_from_slice(b),
        Frame::Event(block) => {
            bytes.extend_from_slice(block.raw());
            events.push(block.raw().to_vec());
            // Exercise the event's readers too.
            let mut data = Vec::new();
            let _ = block.data_into(&mut data);
            let _ = block.event_type();
            for line in block.lines() {
                let _ = line.field();
            }
        }
    };
    for piece in pieces {
        f.push(piece, &mut take);
    }
    f.finish(&mut take);
    let stats = f.stats();
    Framed { bytes, events, stats }
}

fuzz_target!(|data: &[u8]| {
    let (seed, body) = seed_and_body(data);
    let pieces = chunks(body, seed);
    let cap = SseFramer::DEFAULT_MAX_EVENT;
    let whole = frame(&[body], cap);
    let cut = frame(&pieces, cap);
    assert!(whole.bytes == body, "the framer changed or lost bytes");
    assert!(cut.bytes == body, "the framer changed or lost bytes under chunking");
    assert_eq!(whole.events, cut.events, "events depend on the chunking");
    assert_eq!(whole.stats, cut.stats);
    // A small cap: oversized events are forwarded raw, still byte for byte.
    let small = frame(&pieces, 1 + (seed >> 54) as usize);
    assert!(small.bytes == body, "the framer changed bytes of an oversized event");
});
