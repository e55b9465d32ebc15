//! The keyring: every secret key the filter holds, read from the host environment (Envoy
//! `vm_config.environment_variables`, Istio `vmConfig.env`), never from the configuration text,
//! which only names the variables. A key never reaches a log line, a `Debug` string or an error.
//!
//! Two keys, each with an optional previous key for rotation:
//!
//! - the **seal key** (`PG_SEAL_KEY`, 32 bytes as 64 hex digits; previous: `PG_SEAL_KEY_PREVIOUS`):
//!   XChaCha20-Poly1305 for values that rest outside one exchange ([`Keyring::seal`],
//!   [`Keyring::open`]) and for the `encrypt` strategy's tokens (`policy::keys`). Each key has a
//!   public id, so sealed bytes name the key that opens them; opening tries the current and the
//!   previous key.
//! - the **hash key** (`PG_HASH_KEY`, at least 32 bytes; previous: `PG_HASH_KEY_PREVIOUS`):
//!   HMAC-SHA-256 for names that must not reveal what they name ([`Keyring::keyed_hash`]: shared-data
//!   record names, identity hashes) and for the `hash` strategy's pseudonyms.
//!
//! The variable of a previous key is the current key's variable with `_PREVIOUS` appended.
//!
//! Sealed bytes: `u8 version (1), 4-byte key id, 24-byte nonce, ciphertext and 16-byte tag`. The
//! version and key id are authenticated with the caller's associated data. The nonce is hedged:
//! an HMAC, under the seal key, of 16 fresh random bytes from the host (WASI `random_get`), the
//! associated data and the plaintext, so it never repeats for two messages even if the host's
//! randomness failed (then the same message under the same associated data seals to the same
//! bytes, revealing only that equality).

#[cfg(test)]
mod tests;

use std::fmt;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::ConfigError;

type HmacSha256 = Hmac<Sha256>;

/// Default names of the environment variables that hold the keys.
pub const DEFAULT_HASH_KEY_VAR: &str = "PG_HASH_KEY";
pub const DEFAULT_SEAL_KEY_VAR: &str = "PG_SEAL_KEY";
/// Appended to a key's variable to name the variable of its previous key.
pub const PREVIOUS_SUFFIX: &str = "_PREVIOUS";
/// Shortest hash key accepted, in bytes (as long as the HMAC's output).
pub const MIN_HASH_KEY_BYTES: usize = 32;
/// Bytes of a key id.
pub const KEY_ID_BYTES: usize = 4;

const SEALED_VERSION: u8 = 1;
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
const HEADER_BYTES: usize = 1 + KEY_ID_BYTES;
/// Shortest sealed value: header, nonce and tag around an empty plaintext.
pub const SEALED_OVERHEAD: usize = HEADER_BYTES + NONCE_BYTES + TAG_BYTES;

/// `keys`: which environment variables hold the keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyNames {
    pub hash: String,
    pub encrypt: String,
}

impl Default for KeyNames {
    fn default() -> Self {
        KeyNames { hash: DEFAULT_HASH_KEY_VAR.to_owned(), encrypt: DEFAULT_SEAL_KEY_VAR.to_owned() }
    }
}

/// Which key an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// The seal key (`keys.encrypt`).
    Seal,
    /// The hash key (`keys.hash`).
    Hash,
}

impl KeyUse {
    /// The configuration field that names the key's variable.
    pub fn field(self) -> &'static str {
        match self {
            KeyUse::Seal => "keys.encrypt",
            KeyUse::Hash => "keys.hash",
        }
    }

    fn variable(self, names: &KeyNames) -> &str {
        match self {
            KeyUse::Seal => &names.encrypt,
            KeyUse::Hash => &names.hash,
        }
    }
}

/// The keyring holds no key for this use (the configuration requires a key for every feature
/// that uses one, so this only happens to a caller that skipped [`Keyring::require`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingKey(pub KeyUse);

impl fmt::Display for MissingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            KeyUse::Seal => f.write_str("no seal key is configured"),
            KeyUse::Hash => f.write_str("no hash key is configured"),
        }
    }
}

impl std::error::Error for MissingKey {}

/// Why sealed bytes did not open. Carries nothing of the key or the plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// Sealed under a key the keyring does not hold (rotated out, another deployment's, or no
    /// seal key at all).
    UnknownKey,
    /// The key is known but the bytes or the associated data are not what was sealed.
    Tampered,
    /// Not sealed bytes at all (too short, unknown version).
    Malformed,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpenError::UnknownKey => "sealed under a key that is not configured",
            OpenError::Tampered => "sealed data or its associated data was altered",
            OpenError::Malformed => "not sealed data",
        })
    }
}

impl std::error::Error for OpenError {}

/// The key for HMACs (pseudonyms, keyed hashes).
#[derive(Clone)]
pub struct HashKey(Vec<u8>);

impl HashKey {
    pub fn new(bytes: &[u8]) -> Option<HashKey> {
        (bytes.len() >= MIN_HASH_KEY_BYTES).then(|| HashKey(bytes.to_vec()))
    }

    /// A fresh HMAC under this key.
    pub(crate) fn mac(&self) -> Option<HmacSha256> {
        <HmacSha256 as Mac>::new_from_slice(&self.0).ok()
    }

    /// HMAC-SHA-256 of a fixed prefix, the domain (length-prefixed) and the data. The prefix holds
    /// a space, which no entity label (the pseudonyms' first input) can, so the two never meet.
    fn keyed_hash(&self, domain: &str, data: &[u8]) -> [u8; 32] {
        let Some(mut mac) = self.mac() else { return [0; 32] };
        mac.update(b"prompt-guard keyed hash\0");
        mac.update(&u32::try_from(domain.len()).unwrap_or(u32::MAX).to_le_bytes());
        mac.update(domain.as_bytes());
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashKey(..)")
    }
}

/// The key for XChaCha20-Poly1305, and its public id (the first 4 bytes of a SHA-256 of the
/// key, so sealed bytes name the key that opens them without revealing it).
#[derive(Clone)]
pub struct SealKey {
    key: [u8; 32],
    id: [u8; KEY_ID_BYTES],
    hex_id: String,
}

impl SealKey {
    /// 32 bytes as 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(hex: &str) -> Option<SealKey> {
        let hex = hex.trim();
        if hex.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, slot) in key.iter_mut().enumerate() {
            *slot = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        let digest = Sha256::new().chain_update(b"prompt-guard key id\0").chain_update(key).finalize();
        let mut id = [0u8; KEY_ID_BYTES];
        id.copy_from_slice(digest.get(..KEY_ID_BYTES)?);
        let hex_id = id.iter().map(|b| format!("{b:02x}")).collect();
        Some(SealKey { key, id, hex_id })
    }

    /// The public id, 8 hex digits.
    pub fn id(&self) -> &str {
        &self.hex_id
    }

    pub(crate) fn cipher(&self) -> Option<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(&self.key).ok()
    }

    /// A fresh HMAC under the seal key (for synthetic and hedged nonces).
    pub(crate) fn mac(&self) -> Option<HmacSha256> {
        <HmacSha256 as Mac>::new_from_slice(&self.key).ok()
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let mut fresh = [0u8; 16];
        // A failed read leaves zeros: the nonce is then synthetic (see the module doc).
        let _ = getrandom::fill(&mut fresh);
        let mut mac = self.mac()?;
        mac.update(b"prompt-guard sealed nonce\0");
        mac.update(&fresh);
        mac.update(&u64::try_from(aad.len()).unwrap_or(u64::MAX).to_le_bytes());
        mac.update(aad);
        mac.update(plaintext);
        let digest = mac.finalize().into_bytes();
        let nonce = digest.get(..NONCE_BYTES)?;
        let header = [SEALED_VERSION, self.id[0], self.id[1], self.id[2], self.id[3]];
        let full_aad = [header.as_slice(), aad].concat();
        let sealed =
            self.cipher()?.encrypt(XNonce::from_slice(nonce), Payload { msg: plaintext, aad: &full_aad }).ok()?;
        let mut out = Vec::with_capacity(SEALED_OVERHEAD + plaintext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    fn open(&self, header: &[u8], aad: &[u8], nonce: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let full_aad = [header, aad].concat();
        self.cipher()?.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &full_aad }).ok()
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SealKey").field(&self.hex_id).finish()
    }
}

/// Every key the filter holds: current and previous, of each use. Built once per VM from the
/// environment ([`Keyring::from_env`]); a feature that needs a key checks it at configuration
/// time ([`Keyring::require`]).
#[derive(Clone, Default)]
pub struct Keyring {
    seal: Option<SealKey>,
    seal_previous: Option<SealKey>,
    hash: Option<HashKey>,
    hash_previous: Option<HashKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |k: &Option<HashKey>| k.as_ref().map(|_| "set");
        f.debug_struct("Keyring")
            .field("seal", &self.seal.as_ref().map(SealKey::id))
            .field("seal_previous", &self.seal_previous.as_ref().map(SealKey::id))
            .field("hash", &set(&self.hash))
            .field("hash_previous", &set(&self.hash_previous))
            .finish()
    }
}

fn valid_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Read one key's variable; `parse` turns its value into a key. A value that is set but not a key
/// is an error naming the variable (never the value).
fn read_key<K>(
    field: &str,
    var: &str,
    what: &str,
    env: &dyn Fn(&str) -> Option<String>,
    parse: impl Fn(&str) -> Option<K>,
) -> Result<Option<K>, ConfigError> {
    match env(var) {
        None => Ok(None),
        Some(value) => match parse(&value) {
            Some(key) => Ok(Some(key)),
            None => Err(ConfigError::new(field, format!("the environment variable {var} must hold {what}"))),
        },
    }
}

impl Keyring {
    /// A keyring of the given keys (tests and tools; the filter uses [`Keyring::from_env`]).
    pub fn new(
        seal: Option<SealKey>,
        seal_previous: Option<SealKey>,
        hash: Option<HashKey>,
        hash_previous: Option<HashKey>,
    ) -> Keyring {
        Keyring { seal, seal_previous, hash, hash_previous }
    }

    /// Read every key `names` points at (and the `_PREVIOUS` variables) through `env`, the host's
    /// environment. A key that is absent is not an error here (see [`Keyring::require`]); a key
    /// that is set but malformed is, and so is a previous key without a current one.
    pub fn from_env(names: &KeyNames, env: &dyn Fn(&str) -> Option<String>) -> Result<Keyring, ConfigError> {
        for use_ in [KeyUse::Hash, KeyUse::Seal] {
            if !valid_var_name(use_.variable(names)) {
                return Err(ConfigError::new(
                    use_.field(),
                    "must be an environment variable name (letters, digits, '_')",
                ));
            }
        }
        let seal_what = "32 bytes as 64 hex digits";
        let hash_what = "at least 32 bytes";
        let hash_var = names.hash.as_str();
        let seal_var = names.encrypt.as_str();
        let hash_previous_var = format!("{hash_var}{PREVIOUS_SUFFIX}");
        let seal_previous_var = format!("{seal_var}{PREVIOUS_SUFFIX}");
        let hash_key = |v: &str| HashKey::new(v.as_bytes());
        let keyring = Keyring {
            seal: read_key("keys.encrypt", seal_var, seal_what, env, SealKey::from_hex)?,
            seal_previous: read_key("keys.encrypt", &seal_previous_var, seal_what, env, SealKey::from_hex)?,
            hash: read_key("keys.hash", hash_var, hash_what, env, hash_key)?,
            hash_previous: read_key("keys.hash", &hash_previous_var, hash_what, env, hash_key)?,
        };
        for (field, var, current, previous) in [
            ("keys.encrypt", seal_var, keyring.seal.is_some(), keyring.seal_previous.is_some()),
            ("keys.hash", hash_var, keyring.hash.is_some(), keyring.hash_previous.is_some()),
        ] {
            if previous && !current {
                return Err(ConfigError::new(
                    field,
                    format!("{var}{PREVIOUS_SUFFIX} is set but {var} is not: a previous key needs a current one"),
                ));
            }
        }
        Ok(keyring)
    }

    /// The configuration error for a feature (`why`: "a policy hashes values", "session is
    /// configured") that needs a key this keyring does not hold.
    pub fn require(&self, names: &KeyNames, use_: KeyUse, why: &str) -> Result<(), ConfigError> {
        if self.has(use_) {
            return Ok(());
        }
        Err(ConfigError::new(
            use_.field(),
            format!("{why} but the environment variable {} is not set", use_.variable(names)),
        ))
    }

    /// Whether a current key for `use_` is held.
    pub fn has(&self, use_: KeyUse) -> bool {
        match use_ {
            KeyUse::Seal => self.seal.is_some(),
            KeyUse::Hash => self.hash.is_some(),
        }
    }

    /// The current seal key (the `encrypt` strategy's tokens).
    pub fn seal_key(&self) -> Option<&SealKey> {
        self.seal.as_ref()
    }

    /// The current and the previous seal key, those that are set.
    pub fn seal_keys(&self) -> impl Iterator<Item = &SealKey> {
        self.seal.iter().chain(self.seal_previous.iter())
    }

    /// The current hash key (the `hash` strategy's pseudonyms).
    pub fn hash_key(&self) -> Option<&HashKey> {
        self.hash.as_ref()
    }

    /// Seal `plaintext` under the current seal key with `aad` as associated data: the same `aad`
    /// must be given to [`Keyring::open`]. Put in `aad` what the sealed value is for and whose it
    /// is (a purpose string, an identity), so it cannot be replayed in another place.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, MissingKey> {
        let key = self.seal.as_ref().ok_or(MissingKey(KeyUse::Seal))?;
        // The cipher accepts every size this process can hold: `None` cannot happen.
        key.seal(aad, plaintext).ok_or(MissingKey(KeyUse::Seal))
    }

    /// The plaintext of bytes [`Keyring::seal`] made with the same `aad`, under the current or the
    /// previous seal key.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < SEALED_OVERHEAD {
            return Err(OpenError::Malformed);
        }
        let (header, rest) = sealed.split_at(HEADER_BYTES);
        if header.first() != Some(&SEALED_VERSION) {
            return Err(OpenError::Malformed);
        }
        let (nonce, body) = rest.split_at(NONCE_BYTES);
        let id = header.get(1..).unwrap_or_default();
        let mut known = false;
        for key in self.seal_keys().filter(|k| k.id.as_slice() == id) {
            known = true;
            if let Some(plain) = key.open(header, aad, nonce, body) {
                return Ok(plain);
            }
        }
        Err(if known { OpenError::Tampered } else { OpenError::UnknownKey })
    }

    /// HMAC-SHA-256 under the current hash key of `data`, separated by `domain` (what the hash
    /// names: "session", "audit.identity"), so one input hashed for two purposes gives two
    /// unrelated hashes.
    pub fn keyed_hash(&self, domain: &str, data: &[u8]) -> Result<[u8; 32], MissingKey> {
        self.hash.as_ref().map(|k| k.keyed_hash(domain, data)).ok_or(MissingKey(KeyUse::Hash))
    }

    /// The same hash under the previous hash key, if one is set: a name made before a rotation
    /// is found with it until the previous key is removed.
    pub fn keyed_hash_previous(&self, domain: &str, data: &[u8]) -> Option<[u8; 32]> {
        self.hash_previous.as_ref().map(|k| k.keyed_hash(domain, data))
    }
}
