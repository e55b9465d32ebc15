//! The key that seals mappings: XChaCha20-Poly1305 with a random nonce, and a keyed hash (HMAC-
//! SHA-256) for the names and identity tags that travel beside a sealed value. The key comes
//! from the host environment (`keys.encrypt`, the same variable as the `encrypt` strategy);
//! its id (8 hex digits of a hash of the key, as in `enc.` tokens) travels with every sealed
//! value so a key that rotated away is told apart from a forgery.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the random nonce in front of every sealed value.
pub const NONCE_BYTES: usize = 24;
/// Bytes of an identity tag or a record name's hash.
pub const TAG_BYTES: usize = 8;

/// Why a sealed value did not open. Says which, never anything of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFailure {
    /// Sealed under a key this filter does not hold (another deployment's, or rotated away).
    UnknownKey,
    /// The bytes or what they are bound to were changed.
    Tampered,
}

/// One key and its public id.
#[derive(Clone)]
struct MappingKey {
    key: [u8; 32],
    id: String,
}

/// The key mappings are sealed with, and the one before it (read-only, for rotation).
#[derive(Clone)]
pub struct MappingKeys {
    current: MappingKey,
    previous: Option<MappingKey>,
}

impl std::fmt::Debug for MappingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappingKeys")
            .field("current", &self.current.id)
            .field("previous", &self.previous.as_ref().map(|k| k.id.as_str()))
            .finish()
    }
}

fn parse_key(hex: &str) -> Option<MappingKey> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, slot) in key.iter_mut().enumerate() {
        *slot = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    // The same id an `enc.` token of this key carries.
    let digest = Sha256::new().chain_update(b"prompt-guard key id\0").chain_update(key).finalize();
    let id = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Some(MappingKey { key, id })
}

impl MappingKeys {
    /// Keys from 64 hex digits each; `None` when one is not a key.
    pub fn from_hex(current: &str, previous: Option<&str>) -> Option<MappingKeys> {
        let current = parse_key(current)?;
        let previous = match previous {
            Some(p) => Some(parse_key(p)?),
            None => None,
        };
        Some(MappingKeys { current, previous })
    }

    /// The id of the key new values are sealed with.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Every key id held, the current first.
    pub fn key_ids(&self) -> Vec<&str> {
        std::iter::once(&self.current).chain(self.previous.as_ref()).map(|k| k.id.as_str()).collect()
    }

    fn by_id(&self, id: &str) -> Option<&MappingKey> {
        std::iter::once(&self.current).chain(self.previous.as_ref()).find(|k| k.id == id)
    }

    /// `nonce` then the ciphertext of `plaintext` bound to `aad`, under the current key.
    pub fn seal(&self, aad: &[u8], nonce: &[u8; NONCE_BYTES], plaintext: &[u8]) -> Option<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new_from_slice(&self.current.key).ok()?;
        let sealed = cipher.encrypt(XNonce::from_slice(nonce), Payload { msg: plaintext, aad }).ok()?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The plaintext of what [`MappingKeys::seal`] wrote under key `id`, bound to `aad`.
    pub fn open(&self, id: &str, aad: &[u8], data: &[u8]) -> Result<Vec<u8>, OpenFailure> {
        let key = self.by_id(id).ok_or(OpenFailure::UnknownKey)?;
        let (Some(nonce), Some(sealed)) = (data.get(..NONCE_BYTES), data.get(NONCE_BYTES..)) else {
            return Err(OpenFailure::Tampered);
        };
        let cipher = XChaCha20Poly1305::new_from_slice(&key.key).map_err(|_| OpenFailure::Tampered)?;
        cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad }).map_err(|_| OpenFailure::Tampered)
    }

    /// A keyed hash of `data` for `purpose` under key `id` (the current key when `None`).
    pub fn tag(&self, id: Option<&str>, purpose: &[u8], data: &[u8]) -> Option<[u8; TAG_BYTES]> {
        let key = match id {
            Some(id) => self.by_id(id)?,
            None => &self.current,
        };
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&key.key).ok()?;
        mac.update(purpose);
        mac.update(&[0]);
        mac.update(data);
        let digest = mac.finalize().into_bytes();
        digest.get(..TAG_BYTES)?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const B: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

    #[test]
    fn sealed_values_open_under_their_key_and_binding_only() {
        let keys = MappingKeys::from_hex(A, None).unwrap();
        let sealed = keys.seal(b"aad", &[7; NONCE_BYTES], b"secret").unwrap();
        assert_eq!(keys.open(keys.current_id(), b"aad", &sealed).unwrap(), b"secret");
        assert_eq!(keys.open(keys.current_id(), b"other", &sealed), Err(OpenFailure::Tampered));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(keys.open(keys.current_id(), b"aad", &flipped), Err(OpenFailure::Tampered));
        assert_eq!(keys.open("00000000", b"aad", &sealed), Err(OpenFailure::UnknownKey));
        let other = MappingKeys::from_hex(B, None).unwrap();
        assert_eq!(other.open(keys.current_id(), b"aad", &sealed), Err(OpenFailure::UnknownKey));
        // After rotation the old key still opens what it sealed; new values use the new key.
        let rotated = MappingKeys::from_hex(B, Some(A)).unwrap();
        assert_eq!(rotated.open(keys.current_id(), b"aad", &sealed).unwrap(), b"secret");
        assert_ne!(rotated.current_id(), keys.current_id());
        assert_eq!(rotated.tag(Some(keys.current_id()), b"p", b"x"), keys.tag(None, b"p", b"x"));
        assert_ne!(other.tag(None, b"p", b"x"), keys.tag(None, b"p", b"x"));
        assert!(MappingKeys::from_hex("zz", None).is_none());
    }
}
