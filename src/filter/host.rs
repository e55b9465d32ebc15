//! The one place where host status codes are interpreted. Every host call the filter makes on the
//! data path goes through here and comes back as a `Result` with a typed error.
//!
//! These calls are declared against the proxy-wasm ABI directly instead of going through the
//! SDK's `hostcalls`, because the SDK panics on any status it does not expect (for example when
//! a header map can no longer be changed), and a panic aborts the VM for every later request on
//! the worker. Here an unexpected status is an error the HTTP context can act on.

use prompt_guard_engine::exchange::LocalReply;
use std::fmt;
use std::ptr::{null, null_mut};

/// proxy-wasm ABI status codes (as the host returns them, never trusted to be in range).
const OK: u32 = 0;
const NOT_FOUND: u32 = 1;

/// ABI buffer and map type numbers.
const BUFFER_HTTP_REQUEST_BODY: u32 = 0;
const BUFFER_HTTP_RESPONSE_BODY: u32 = 1;
const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;
const MAP_HTTP_REQUEST_HEADERS: u32 = 0;
const MAP_HTTP_RESPONSE_HEADERS: u32 = 2;
const METRIC_COUNTER: u32 = 0;
const METRIC_GAUGE: u32 = 1;
const METRIC_HISTOGRAM: u32 = 2;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_buffer_bytes(kind: u32, start: usize, max: usize, data: *mut *mut u8, size: *mut usize) -> u32;
    fn proxy_set_buffer_bytes(kind: u32, start: usize, size: usize, data: *const u8, data_size: usize) -> u32;
    fn proxy_get_header_map_value(
        map: u32,
        key: *const u8,
        key_size: usize,
        value: *mut *mut u8,
        value_size: *mut usize,
    ) -> u32;
    fn proxy_replace_header_map_value(
        map: u32,
        key: *const u8,
        key_size: usize,
        value: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map: u32, key: *const u8, key_size: usize) -> u32;
    #[allow(clippy::too_many_arguments)]
    fn proxy_send_local_response(
        status: u32,
        details: *const u8,
        details_size: usize,
        body: *const u8,
        body_size: usize,
        headers: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
    fn proxy_define_metric(kind: u32, name: *const u8, name_size: usize, id: *mut u32) -> u32;
    fn proxy_increment_metric(id: u32, offset: i64) -> u32;
    fn proxy_record_metric(id: u32, value: u64) -> u32;
    fn proxy_get_current_time_nanoseconds(nanos: *mut u64) -> u32;
    fn proxy_set_tick_period_milliseconds(millis: u32) -> u32;
    fn proxy_set_property(path: *const u8, path_size: usize, value: *const u8, value_size: usize) -> u32;
}

/// A host call that did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError {
    pub call: &'static str,
    pub status: u32,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host call {} failed with status {}", self.call, self.status)
    }
}

fn check(call: &'static str, status: u32) -> Result<(), HostError> {
    if status == OK {
        Ok(())
    } else {
        Err(HostError { call, status })
    }
}

/// Which body or header map a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    fn buffer(self) -> u32 {
        match self {
            Direction::Request => BUFFER_HTTP_REQUEST_BODY,
            Direction::Response => BUFFER_HTTP_RESPONSE_BODY,
        }
    }
    fn headers(self) -> u32 {
        match self {
            Direction::Request => MAP_HTTP_REQUEST_HEADERS,
            Direction::Response => MAP_HTTP_RESPONSE_HEADERS,
        }
    }
}

/// Take ownership of bytes the host allocated in this module's memory (through the SDK's
/// exported allocator) and handed back by pointer and size.
fn owned_bytes(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        return Vec::new();
    }
    // SAFETY: the host allocated `size` bytes at `data` with this module's allocator
    // (`proxy_on_memory_allocate`) and gave up ownership; nothing else refers to them.
    unsafe { Vec::from_raw_parts(data, size, size) }
}

fn get_buffer(kind: u32, start: usize, max: usize) -> Result<Vec<u8>, HostError> {
    let mut data = null_mut();
    let mut size = 0;
    // SAFETY: out-pointers are valid for the duration of the call.
    let status = unsafe { proxy_get_buffer_bytes(kind, start, max, &mut data, &mut size) };
    match status {
        OK => Ok(owned_bytes(data, size)),
        // No buffer (for example, no body) reads as empty.
        NOT_FOUND => Ok(Vec::new()),
        status => Err(HostError { call: "get_buffer", status }),
    }
}

/// The first `size` bytes of the body buffer.
pub fn body(dir: Direction, size: usize) -> Result<Vec<u8>, HostError> {
    get_buffer(dir.buffer(), 0, size)
}

/// The first `size` bytes of the body buffer; nothing is asked of the host for none.
pub fn body_or_empty(dir: Direction, size: usize) -> Result<Vec<u8>, HostError> {
    if size == 0 {
        return Ok(Vec::new());
    }
    body(dir, size)
}

/// Replace the first `size` bytes of the body buffer by `bytes`.
pub fn replace_body(dir: Direction, size: usize, bytes: &[u8]) -> Result<(), HostError> {
    // SAFETY: `bytes` is valid for reads of its length during the call.
    let status = unsafe { proxy_set_buffer_bytes(dir.buffer(), 0, size, bytes.as_ptr(), bytes.len()) };
    check("set_buffer", status)
}

pub fn header(dir: Direction, name: &str) -> Result<Option<String>, HostError> {
    let mut data = null_mut();
    let mut size = 0;
    // SAFETY: `name` is valid for reads; out-pointers are valid for the call.
    let status = unsafe { proxy_get_header_map_value(dir.headers(), name.as_ptr(), name.len(), &mut data, &mut size) };
    match status {
        OK => Ok(Some(String::from_utf8_lossy(&owned_bytes(data, size)).into_owned())),
        NOT_FOUND => Ok(None),
        status => Err(HostError { call: "get_header", status }),
    }
}

pub fn set_header(dir: Direction, name: &str, value: &str) -> Result<(), HostError> {
    // SAFETY: both slices are valid for reads during the call.
    let status = unsafe {
        proxy_replace_header_map_value(dir.headers(), name.as_ptr(), name.len(), value.as_ptr(), value.len())
    };
    check("set_header", status)
}

pub fn remove_header(dir: Direction, name: &str) -> Result<(), HostError> {
    // SAFETY: `name` is valid for reads during the call.
    let status = unsafe { proxy_remove_header_map_value(dir.headers(), name.as_ptr(), name.len()) };
    match status {
        OK | NOT_FOUND => Ok(()),
        status => Err(HostError { call: "remove_header", status }),
    }
}

/// The ABI's header list encoding: a count, then each key and value length, then each key and
/// value followed by a NUL, all little-endian u32.
fn encode_headers(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let count = u32::try_from(headers.len()).unwrap_or(0);
    out.extend_from_slice(&count.to_le_bytes());
    for (k, v) in headers {
        out.extend_from_slice(&u32::try_from(k.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&u32::try_from(v.len()).unwrap_or(0).to_le_bytes());
    }
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

/// Answer the client directly; the request goes no further.
pub fn send_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Result<(), HostError> {
    let encoded = encode_headers(headers);
    // SAFETY: all slices are valid for reads during the call.
    let result = unsafe {
        proxy_send_local_response(
            u32::from(status),
            null(),
            0,
            body.as_ptr(),
            body.len(),
            encoded.as_ptr(),
            encoded.len(),
            -1,
        )
    };
    check("send_local_response", result)
}

/// Answer the client with one of the engine's local replies (a failure is logged: there is
/// nothing else left to do with the request).
pub fn answer(reply: &LocalReply) {
    let headers: Vec<(&str, &str)> = reply.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Err(e) = send_response(reply.status, &headers, &reply.body) {
        log::error!("prompt-guard: {e}");
    }
}

/// Set each of the engine's headers.
pub fn set_headers(dir: Direction, headers: &[(&'static str, String)]) -> Result<(), HostError> {
    headers.iter().try_for_each(|(name, value)| set_header(dir, name, value))
}

/// Put `bytes` in place of the first `size` bytes of the body when they differ from `original`;
/// a failure is logged (the original bytes then go on).
pub fn replace_body_if_changed(dir: Direction, size: usize, original: &[u8], bytes: &[u8]) {
    if bytes != original {
        if let Err(e) = replace_body(dir, size, bytes) {
            log::error!("prompt-guard: {e}");
        }
    }
}

/// Set a property of the stream. Envoy keeps it as the filter state object `wasm.<path>` (a
/// one-element path), which its access log prints with `%FILTER_STATE(wasm.<path>:PLAIN)%`.
pub fn set_property(path: &str, value: &[u8]) -> Result<(), HostError> {
    // SAFETY: both slices are valid for reads during the call.
    let status = unsafe { proxy_set_property(path.as_ptr(), path.len(), value.as_ptr(), value.len()) };
    check("set_property", status)
}

pub fn plugin_configuration() -> Result<Vec<u8>, HostError> {
    get_buffer(BUFFER_PLUGIN_CONFIGURATION, 0, usize::MAX)
}

pub fn define_counter(name: &str) -> Result<u32, HostError> {
    let mut id = 0;
    // SAFETY: `name` is valid for reads; `id` is a valid out-pointer.
    let status = unsafe { proxy_define_metric(METRIC_COUNTER, name.as_ptr(), name.len(), &mut id) };
    check("define_metric", status).map(|()| id)
}

pub fn define_gauge(name: &str) -> Result<u32, HostError> {
    let mut id = 0;
    // SAFETY: `name` is valid for reads; `id` is a valid out-pointer.
    let status = unsafe { proxy_define_metric(METRIC_GAUGE, name.as_ptr(), name.len(), &mut id) };
    check("define_metric", status).map(|()| id)
}

pub fn define_histogram(name: &str) -> Result<u32, HostError> {
    let mut id = 0;
    // SAFETY: `name` is valid for reads; `id` is a valid out-pointer.
    let status = unsafe { proxy_define_metric(METRIC_HISTOGRAM, name.as_ptr(), name.len(), &mut id) };
    check("define_metric", status).map(|()| id)
}

/// Set a gauge or add a value to a histogram; best effort like counting.
pub fn record(id: u32, value: u64) {
    // SAFETY: plain values.
    let _ = unsafe { proxy_record_metric(id, value) };
}

/// The size of this module's linear memory in bytes: what the VM holds, and never gives back
/// (wasm memory grows, it does not shrink).
pub fn wasm_memory_bytes() -> u64 {
    const PAGE: u64 = 65_536;
    core::arch::wasm32::memory_size(0) as u64 * PAGE
}

/// Counting is best effort: a failed increment is not worth failing a request for.
pub fn increment(id: u32, by: u64) {
    if by > 0 {
        // SAFETY: plain values.
        let _ = unsafe { proxy_increment_metric(id, i64::try_from(by).unwrap_or(i64::MAX)) };
    }
}

/// Wall-clock time in nanoseconds since the Unix epoch, as the host sees it.
pub fn now_nanos() -> Result<u64, HostError> {
    let mut nanos = 0u64;
    // SAFETY: `nanos` is a valid out-pointer.
    let status = unsafe { proxy_get_current_time_nanoseconds(&mut nanos) };
    check("get_current_time", status).map(|()| nanos)
}

/// Wall-clock time in whole seconds since the Unix epoch, as the host sees it.
pub fn now_secs() -> Result<u64, HostError> {
    now_nanos().map(|nanos| nanos / 1_000_000_000)
}

/// Ask the host to call the root context's tick every `millis` milliseconds.
pub fn set_tick_period(millis: u32) -> Result<(), HostError> {
    // SAFETY: plain value.
    let status = unsafe { proxy_set_tick_period_milliseconds(millis) };
    check("set_tick_period", status)
}

/// The request's headers as the host holds them, for the engine's exchange to read.
pub struct RequestHeaderMap;

impl prompt_guard_engine::exchange::RequestHeaders for RequestHeaderMap {
    type Error = HostError;
    fn get(&self, name: &str) -> Result<Option<String>, HostError> {
        header(Direction::Request, name)
    }
}
