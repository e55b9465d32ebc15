//! The proxy-wasm glue. This module is glue and nothing else: it gathers input from the host,
//! calls the engine, writes the engine's output back and returns an action. Every decision
//! lives in `prompt_guard_engine`, where native tests reach it.

mod host;
mod http;
mod metrics;
mod quirks;
mod random;
mod root;
mod shared_data;
mod timing;

use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
        Box::new(root::PromptGuardRoot::default())
    });
}}
