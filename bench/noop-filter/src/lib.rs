//! A no-op buffering filter for the Envoy benchmark (root id `noop`): it holds the request body
//! to the end of the stream and reads it, does the same with the response body, and lets both go
//! on unchanged. Its cost over bare Envoy is the price of a Rust wasm filter that sees whole
//! bodies; prompt-guard's cost over it is the price of inspecting them.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(NoopRoot) });
}}

struct NoopRoot;

impl Context for NoopRoot {}

impl RootContext for NoopRoot {
    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(NoopExchange::default()))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

#[derive(Default)]
struct NoopExchange {
    /// Bytes of each body read, kept so the reads cannot be optimised away.
    request_bytes: usize,
    response_bytes: usize,
}

impl Context for NoopExchange {}

impl HttpContext for NoopExchange {
    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        // Pausing until the end makes Envoy buffer the whole body, as prompt-guard does; body_size
        // is then the size of everything buffered so far.
        if !end_of_stream {
            return Action::Pause;
        }
        if let Some(body) = self.get_http_request_body(0, body_size) {
            self.request_bytes = body.len();
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            return Action::Pause;
        }
        if let Some(body) = self.get_http_response_body(0, body_size) {
            self.response_bytes = body.len();
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        // A cheap use of what was read (debug level is below the configured Warn, so no I/O).
        log::debug!("noop: request {} bytes, response {} bytes", self.request_bytes, self.response_bytes);
    }
}
