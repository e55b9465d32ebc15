//! Host stand-ins that several test files share: request headers from a map, a shared-data
//! store that holds nothing (no session configured), and the host environment with test keys.

use std::collections::HashMap;
use std::convert::Infallible;

use prompt_guard_engine::exchange::RequestHeaders;
use prompt_guard_engine::keys::{KeyNames, Keyring};
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

/// The host environment of the tests: a seal key and a hash key under their default variable
/// names (written for these tests; never a deployment's keys).
pub fn test_env(name: &str) -> Option<String> {
    match name {
        "PG_SEAL_KEY" => Some("5eed5eed000102030405060708090a0b0c0d0e0f101112131415161718191a1b".to_owned()),
        "PG_HASH_KEY" => Some("engine test hash key, at least thirty-two bytes".to_owned()),
        _ => None,
    }
}

/// The keyring [`test_env`] gives.
pub fn test_keys() -> Keyring {
    Keyring::from_env(&KeyNames::default(), &test_env).unwrap_or_default()
}

/// The attack data directory beside the checkout (`make eval`'s default), which the
/// reproducibility tests of the trainers read. Its absence fails the test: a check that
/// passes without its data proves nothing, and CI always has the data.
pub fn attack_data() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = root.join("../shared/eval");
    assert!(
        data.join("injection").is_dir(),
        "no attack data at {}: the trainers' reproducibility tests need the evaluation data beside the checkout \
         (see eval/README.md)",
        data.display()
    );
    data
}
