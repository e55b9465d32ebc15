//! Root context: parse, validate and compile the configuration once per VM; declare metrics;
//! hand each HTTP stream a context that shares both.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use super::host;
use super::http::GuardedExchange;
use super::metrics::Metrics;
use super::shared_data::EnvoySharedData;
use prompt_guard_engine::store::SessionStore;

/// How often expired sessions and stateful API mappings are cleared from shared data. Every VM
/// ticks; a sweep is bounded work and idempotent, so overlapping sweeps only repeat each other.
const SWEEP_PERIOD_MS: u32 = 60_000;
use prompt_guard_engine::exchange::Guard;

/// Stamped at build time so a log line tells which build is running.
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Default)]
pub struct PromptGuardRoot {
    guard: Option<Rc<Guard>>,
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
        // Keys for `hash` and `encrypt` come from the VM's environment: Envoy passes
        // `vm_config.environment_variables` (Istio `vmConfig.env`) to the module as its WASI
        // environment, which is what `std::env::var` reads.
        let env = |name: &str| std::env::var(name).ok();
        match Guard::from_json_with_env(&raw, &env) {
            Ok(guard) => {
                let cfg = guard.config();
                let metrics = Metrics::define(cfg);
                log::info!(
                    "prompt-guard {VERSION} configured: {} entity types, fail_open={}, max_body_bytes={}",
                    cfg.labels.len(),
                    cfg.fail_open,
                    cfg.max_body_bytes
                );
                if cfg.session.is_some() || cfg.api.is_some() {
                    if let Err(e) = host::set_tick_period(SWEEP_PERIOD_MS) {
                        log::warn!("prompt-guard: expired sessions and API mappings will not be swept: {e}");
                    }
                }
                self.guard = Some(Rc::new(guard));
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

    fn on_tick(&mut self) {
        let Some(cfg) = self.guard.as_ref().map(|g| g.config()) else {
            return;
        };
        let Ok(now) = host::now_secs() else { return };
        if let Some(session) = cfg.session.as_ref() {
            match SessionStore::new(&EnvoySharedData, &session.store, &cfg.keys).sweep(now) {
                Ok(0) => {}
                Ok(n) => log::debug!("prompt-guard: swept {n} expired sessions"),
                Err(e) => log::warn!("prompt-guard: session sweep: {e}"),
            }
        }
        // Stateful API mappings: a save drops expired ones too, but without saves they would
        // stay until the next anonymize call.
        if let Some(api) = cfg.api.as_ref() {
            match prompt_guard_engine::api::sweep_expired(&EnvoySharedData, api, &cfg.keys, now) {
                Ok(0) => {}
                Ok(n) => log::debug!("prompt-guard: swept {n} expired API mappings"),
                Err(e) => log::warn!("prompt-guard: API mapping sweep: {e}"),
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let (Some(guard), Some(metrics)) = (&self.guard, &self.metrics) else {
            return None;
        };
        Some(Box::new(GuardedExchange::new(Rc::clone(guard), Rc::clone(metrics))))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
