//! The real `SharedData`: Envoy's shared data through the proxy-wasm ABI. This is glue; the
//! store's logic lives in `prompt_guard_engine::store`, where native tests reach it through a fake.
//!
//! The ABI is called directly, as in `host.rs`, because the SDK's wrappers panic on statuses they
//! do not expect, and a panic aborts the VM for every later request on the worker. Keys and
//! values are never logged: keys are hashes, but values hold originals.

use std::ptr::null_mut;

use prompt_guard_engine::store::{SharedData, StoreError};

/// proxy-wasm ABI status codes (as the host returns them, never trusted to be in range).
const OK: u32 = 0;
const NOT_FOUND: u32 = 1;
const CAS_MISMATCH: u32 = 8;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_shared_data(
        key: *const u8,
        key_size: usize,
        value: *mut *mut u8,
        value_size: *mut usize,
        cas: *mut u32,
    ) -> u32;
    fn proxy_set_shared_data(key: *const u8, key_size: usize, value: *const u8, value_size: usize, cas: u32) -> u32;
}

/// Envoy's shared data for this plugin's VM id (common to every worker's VM in the process).
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvoySharedData;

/// Take ownership of bytes the host allocated in this module's memory (through the SDK's
/// exported allocator) and handed back by pointer and size.
fn owned_bytes(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() || size == 0 {
        return Vec::new();
    }
    // SAFETY: the host allocated `size` bytes at `data` with this module's allocator
    // (`proxy_on_memory_allocate`) and gave up ownership; nothing else refers to them.
    unsafe { Vec::from_raw_parts(data, size, size) }
}

impl SharedData for EnvoySharedData {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        let mut data = null_mut();
        let mut size = 0;
        let mut cas = 0;
        // SAFETY: `key` is valid for reads; out-pointers are valid for the duration of the call.
        let status = unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) };
        match status {
            OK => Ok(Some((owned_bytes(data, size), cas))),
            NOT_FOUND => Ok(None),
            status => Err(StoreError::Host { status }),
        }
    }

    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
        // The ABI spells "no check" as token 0; Envoy never hands out 0 as a token.
        let token = cas.unwrap_or(0);
        // SAFETY: both slices are valid for reads during the call.
        let status = unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), token) };
        match status {
            OK => Ok(()),
            CAS_MISMATCH => Err(StoreError::CasMismatch),
            status => Err(StoreError::Host { status }),
        }
    }
}
