//! Shared-data keys for sessions. A key never contains the identity, only a keyed hash of it
//! (HMAC-SHA-256 under the hash key, [`Keyring::keyed_hash`]): shared data is visible to every VM
//! of the plugin and to admin tooling, and without the hash key no one can tell which identity a
//! key belongs to, or test a guess (an unkeyed hash could be recomputed from a list of user names).

use crate::keys::{Keyring, MissingKey};

/// The one key holding the index of stored sessions. `v2`: records are sealed and named by keyed
/// hashes; records of `v1` (plain, unkeyed names) are never read.
pub const INDEX_KEY: &str = "prompt_guard/v2/sessions";

const SESSION_PREFIX: &str = "prompt_guard/v2/session/";

/// What [`Keyring::keyed_hash`] is told a session name is for.
const SESSION_DOMAIN: &str = "session";

fn first_u64(hash: [u8; 32]) -> u64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(head)
}

/// The hash naming a session's key (64 bits of the keyed hash: the index holds it, and a
/// collision only makes two identities share a key whose record neither can open for the other).
pub fn session_hash(keys: &Keyring, identity: &str) -> Result<u64, MissingKey> {
    keys.keyed_hash(SESSION_DOMAIN, identity.as_bytes()).map(first_u64)
}

/// The same under the previous hash key, if one is set (sessions named before a rotation).
pub fn previous_session_hash(keys: &Keyring, identity: &str) -> Option<u64> {
    keys.keyed_hash_previous(SESSION_DOMAIN, identity.as_bytes()).map(first_u64)
}

/// `prompt_guard/v2/session/<16 hex digits>`.
pub fn session_key(hash: u64) -> String {
    format!("{SESSION_PREFIX}{hash:016x}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::keys::HashKey;

    fn ring(key: &str) -> Keyring {
        Keyring::new(None, None, HashKey::new(key.as_bytes()), None)
    }

    #[test]
    fn key_hides_identity_and_differs_by_identity_and_hash_key() {
        let a = ring("hash key A, thirty-two bytes or more");
        let k = session_key(session_hash(&a, "alice@example.com").unwrap());
        assert!(k.starts_with("prompt_guard/v2/session/"));
        assert_eq!(k.len(), SESSION_PREFIX.len() + 16);
        assert!(!k.contains("alice"));
        assert_ne!(k, session_key(session_hash(&a, "bob@example.com").unwrap()));
        let b = ring("hash key B, thirty-two bytes or more");
        assert_ne!(session_hash(&a, "alice").unwrap(), session_hash(&b, "alice").unwrap());
        assert!(session_hash(&Keyring::default(), "alice").is_err());
    }
}
