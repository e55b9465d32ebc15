//! The host's randomness, for the API's nonces and stateful mapping names: WASI `random_get`,
//! which Envoy's Wasm runtimes provide (from the operating system's generator). Glue only.

use prompt_guard_engine::api::Randomness;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn random_get(buf: *mut u8, len: usize) -> u16;
}

/// WASI's `random_get`; a call that fails leaves the caller to refuse, never to go on with
/// predictable bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostRandom;

impl Randomness for HostRandom {
    fn fill(&self, buf: &mut [u8]) -> bool {
        if buf.is_empty() {
            return true;
        }
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call.
        let errno = unsafe { random_get(buf.as_mut_ptr(), buf.len()) };
        errno == 0
    }
}
