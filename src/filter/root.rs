//! Root context: parse, validate and compile the configuration once per VM; declare metrics;
//! hand each HTTP stream a context that shares both.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use super::host;
use super::http::GuardedExchange;
use super::metrics::Metrics;
use crate::config::FilterConfig;

/// Stamped at build time so a log line tells which build is running.
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Default)]
pub struct PromptGuardRoot {
    config: Option<Rc<FilterConfig>>,
    metrics: Option<Rc<Metrics>>,
}

impl Context for PromptGuardRoot {}

impl RootContext for PromptGuardRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let raw = match host::plugin_configuration() {
            Ok(raw) => raw,
            Err(e) => {
                log::error!("prompt-guard: cannot read the plugin configuration: {e}");
                return false;
            }
        };
        match FilterConfig::from_json(&raw) {
            Ok(cfg) => {
                let metrics = Metrics::define(&cfg);
                log::info!(
                    "prompt-guard {VERSION} configured: {} entity types, fail_open={}, max_body_bytes={}",
                    cfg.labels.len(),
                    cfg.fail_open,
                    cfg.max_body_bytes
                );
                self.config = Some(Rc::new(cfg));
                self.metrics = Some(Rc::new(metrics));
                true
            }
            Err(e) => {
                // The error names the field and the problem, never a value from a request.
                log::error!("prompt-guard: {e}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let (Some(cfg), Some(metrics)) = (&self.config, &self.metrics) else {
            return None;
        };
        Some(Box::new(GuardedExchange::new(Rc::clone(cfg), Rc::clone(metrics))))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
