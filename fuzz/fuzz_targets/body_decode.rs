//! Body decoding (gzip, deflate) with limits. Input: `[encoding byte][3-byte limit][8-byte
//! chunking seed][body]`. Asserted: no panic; a whole-body decode never returns more than its
//! limit; the streamed decoder, fed the body cut at arbitrary places and finished, gives the same bytes
//! as the whole-body decode when that succeeds; encode then decode gives the body back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prompt_guard_engine::encoding::{ContentEncoding, DecodeError, StreamDecoder};
use prompt_guard_fuzz::{chunks, seed_and_body};

/// Large enough for anything a fuzz input can inflate to (at most about 1032:1).
const GENEROUS: usize = 64 << 20;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let encoding = match data[0] % 3 {
        0 => ContentEncoding::Identity,
        1 => ContentEncoding::Gzip,
        _ => ContentEncoding::Deflate,
    };
    let limit = usize::from(data[1]) | usize::from(data[2]) << 8 | usize::from(data[3]) << 16;
    let (seed, body) = seed_and_body(&data[4..]);

    match encoding.decode(body, limit) {
        Ok(out) if encoding != ContentEncoding::Identity => assert!(out.len() <= limit, "decoded past the limit"),
        Ok(_) => {}
        Err(DecodeError::TooLarge { limit: l }) => assert_eq!(l, limit),
        Err(_) => {}
    }

    if let Ok(whole) = encoding.decode(body, GENEROUS) {
        let mut streamed = Vec::new();
        let mut dec = StreamDecoder::new(encoding);
        let mut ok = true;
        for piece in chunks(body, seed) {
            if dec.push(piece, &mut streamed).is_err() {
                ok = false;
                break;
            }
        }
        assert!(ok, "the streamed decoder refused a body the whole decode read");
        assert!(dec.finish(|piece| streamed.extend_from_slice(piece)).is_ok(), "finish refused a complete body");
        assert!(streamed == whole.as_ref(), "streamed decoding differs from the whole-body decode");
    }

    let round = encoding.encode(body.to_vec());
    let back = encoding.decode(&round, body.len()).expect("encoded body does not decode");
    assert!(back.as_ref() == body, "encode then decode changed the body");
});
