//! Host stand-ins that several test files share: request headers from a map, and a shared-data
//! store that holds nothing (no session configured).

use std::collections::HashMap;
use std::convert::Infallible;

use prompt_guard_engine::exchange::RequestHeaders;
use prompt_guard_engine::store::{SharedData, StoreError};

/// Request headers as a map (`:path`, `content-type`, ...).
pub struct Headers(pub HashMap<&'static str, String>);

impl RequestHeaders for Headers {
    type Error = Infallible;
    fn get(&self, name: &str) -> Result<Option<String>, Infallible> {
        Ok(self.0.get(name).cloned())
    }
}

/// Shared data that holds nothing and keeps nothing.
pub struct NoStore;

impl SharedData for NoStore {
    fn get(&self, _key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        Ok(None)
    }
    fn set(&self, _key: &str, _value: &[u8], _cas: Option<u32>) -> Result<(), StoreError> {
        Ok(())
    }
}
