//! The one place where host status codes are interpreted. Every host call the filter makes goes
//! through here and comes back as a `Result` with a typed error, so the HTTP context never sees a
//! raw status (and never relies on the SDK's trait defaults, which panic on unexpected ones).

use std::fmt;

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, MapType, MetricType, Status};

/// A host call that did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError {
    pub call: &'static str,
    pub status: Status,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host call {} failed with status {:?}", self.call, self.status)
    }
}

fn check<T>(call: &'static str, r: Result<T, Status>) -> Result<T, HostError> {
    r.map_err(|status| HostError { call, status })
}

/// Which body a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    fn buffer(self) -> BufferType {
        match self {
            Direction::Request => BufferType::HttpRequestBody,
            Direction::Response => BufferType::HttpResponseBody,
        }
    }
    fn headers(self) -> MapType {
        match self {
            Direction::Request => MapType::HttpRequestHeaders,
            Direction::Response => MapType::HttpResponseHeaders,
        }
    }
}

/// The first `size` bytes of the body buffer; an absent buffer reads as empty.
pub fn body(dir: Direction, size: usize) -> Result<Vec<u8>, HostError> {
    Ok(check("get_buffer", hostcalls::get_buffer(dir.buffer(), 0, size))?.unwrap_or_default())
}

/// Replace the first `size` bytes of the body buffer by `bytes`.
pub fn replace_body(dir: Direction, size: usize, bytes: &[u8]) -> Result<(), HostError> {
    check("set_buffer", hostcalls::set_buffer(dir.buffer(), 0, size, bytes))
}

pub fn header(dir: Direction, name: &str) -> Result<Option<String>, HostError> {
    check("get_map_value", hostcalls::get_map_value(dir.headers(), name))
}

pub fn set_header(dir: Direction, name: &str, value: &str) -> Result<(), HostError> {
    check("set_map_value", hostcalls::set_map_value(dir.headers(), name, Some(value)))
}

pub fn remove_header(dir: Direction, name: &str) -> Result<(), HostError> {
    check("remove_map_value", hostcalls::remove_map_value(dir.headers(), name))
}

/// Answer the client directly; the upstream never sees the request.
pub fn send_response(status: u16, headers: Vec<(&str, &str)>, body: &[u8]) -> Result<(), HostError> {
    check("send_http_response", hostcalls::send_http_response(u32::from(status), headers, Some(body)))
}

pub fn plugin_configuration() -> Result<Vec<u8>, HostError> {
    Ok(check("get_buffer", hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX))?.unwrap_or_default())
}

pub fn define_counter(name: &str) -> Result<u32, HostError> {
    check("define_metric", hostcalls::define_metric(MetricType::Counter, name))
}

/// Counting is best effort: a failed increment is not worth failing a request for.
pub fn increment(id: u32, by: u64) {
    if by > 0 {
        let _ = hostcalls::increment_metric(id, i64::try_from(by).unwrap_or(i64::MAX));
    }
}
