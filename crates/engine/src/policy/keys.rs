//! Keys for `hash` and `encrypt`, read from the host environment (Envoy
//! `vm_config.environment_variables`, Istio `vmConfig.env`), never from the configuration text,
//! which only names the variables. A key never reaches a log line or an error message.
//!
//! - `hash`: HMAC-SHA-256 under the hash key of `label`, a zero byte and the value (digits alone
//!   for a number written with separators, an IBAN without spaces in upper case, lower case for
//!   an e-mail address, so one value in any spelling gives one pseudonym), written `LABEL_` and
//!   the first 16 hex digits.
//! - `encrypt`: XChaCha20-Poly1305 under the seal key, the label as associated data, written
//!   `enc.LABEL.KEYID.DATA` (DATA is base64url of the 24-byte nonce and the ciphertext). The
//!   nonce is an HMAC of the value under the seal key (a synthetic IV: the same value gives the
//!   same token, and a nonce never repeats for two values). [`open_tokens`] reverses it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
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
/// Shortest hash key accepted, in bytes (as long as the HMAC's output).
pub const MIN_HASH_KEY_BYTES: usize = 32;
/// Hex digits of a hash pseudonym (64 bits).
pub const HASH_HEX_DIGITS: usize = 16;
/// How a token begins.
pub const TOKEN_PREFIX: &str = "enc.";

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

/// The key for `hash`.
#[derive(Clone)]
pub struct HashKey(Vec<u8>);

/// The key for `encrypt`, and its public id (8 hex digits of a SHA-256 of the key, so a token
/// names the key that opens it without revealing it).
#[derive(Clone)]
pub struct SealKey {
    key: [u8; 32],
    id: String,
}

/// The keys a configuration's policies need; a key no policy uses is not read.
#[derive(Clone, Default)]
pub struct Keys {
    pub hash: Option<HashKey>,
    pub seal: Option<SealKey>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("hash", &self.hash.as_ref().map(|_| "set"))
            .field("seal", &self.seal.as_ref().map(|k| k.id.as_str()))
            .finish()
    }
}

fn valid_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl Keys {
    /// Read the keys `need_hash` and `need_seal` ask for through `env` (the host's environment).
    pub fn load(
        names: &KeyNames,
        need_hash: bool,
        need_seal: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Keys, ConfigError> {
        for (field, name) in [("keys.hash", &names.hash), ("keys.encrypt", &names.encrypt)] {
            if !valid_var_name(name) {
                return Err(ConfigError::new(field, "must be an environment variable name (letters, digits, '_')"));
            }
        }
        let mut keys = Keys::default();
        if need_hash {
            let value = env(&names.hash).ok_or_else(|| {
                ConfigError::new(
                    "keys.hash",
                    format!("a policy hashes values but the environment variable {} is not set", names.hash),
                )
            })?;
            keys.hash = Some(HashKey::new(value.as_bytes()).ok_or_else(|| {
                ConfigError::new(
                    "keys.hash",
                    format!("the environment variable {} must hold at least {MIN_HASH_KEY_BYTES} bytes", names.hash),
                )
            })?);
        }
        if need_seal {
            let value = env(&names.encrypt).ok_or_else(|| {
                ConfigError::new(
                    "keys.encrypt",
                    format!("a policy encrypts values but the environment variable {} is not set", names.encrypt),
                )
            })?;
            keys.seal = Some(SealKey::from_hex(&value).ok_or_else(|| {
                ConfigError::new(
                    "keys.encrypt",
                    format!("the environment variable {} must hold 32 bytes as 64 hex digits", names.encrypt),
                )
            })?);
        }
        Ok(keys)
    }
}

impl HashKey {
    pub fn new(bytes: &[u8]) -> Option<HashKey> {
        (bytes.len() >= MIN_HASH_KEY_BYTES).then(|| HashKey(bytes.to_vec()))
    }

    /// `LABEL_` and the first [`HASH_HEX_DIGITS`] hex digits of the value's HMAC.
    pub fn pseudonym(&self, label: &str, value: &str) -> String {
        let mut out = String::with_capacity(label.len() + 1 + HASH_HEX_DIGITS);
        out.push_str(label);
        out.push('_');
        let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(&self.0) else { return out };
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(canonical(label, value).as_bytes());
        for b in mac.finalize().into_bytes().iter().take(HASH_HEX_DIGITS / 2) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// One value in any spelling: the digits of a number written with separators, an IBAN without
/// its spaces in upper case, an e-mail address in lower case, anything else as written.
fn canonical(label: &str, value: &str) -> String {
    let numeric = value.chars().all(|c| c.is_ascii_digit() || " -./()+".contains(c));
    if numeric && value.chars().any(|c| c.is_ascii_digit()) && label != "IP_ADDRESS" {
        value.chars().filter(char::is_ascii_digit).collect()
    } else if label == "IBAN" {
        value.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect()
    } else if label == "EMAIL" {
        value.to_lowercase()
    } else {
        value.to_owned()
    }
}

impl SealKey {
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
        let id = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        Some(SealKey { key, id })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// `enc.LABEL.KEYID.DATA`; `None` only if the cipher fails (it does not for these sizes).
    pub fn seal(&self, label: &str, value: &str) -> Option<String> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key).ok()?;
        mac.update(b"nonce\0");
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        let nonce = XNonce::from_slice(tag.get(..24)?);
        let cipher = XChaCha20Poly1305::new_from_slice(&self.key).ok()?;
        let sealed = cipher.encrypt(nonce, Payload { msg: value.as_bytes(), aad: label.as_bytes() }).ok()?;
        let mut data = nonce.to_vec();
        data.extend_from_slice(&sealed);
        Some(format!("{TOKEN_PREFIX}{label}.{}.{}", self.id, URL_SAFE_NO_PAD.encode(data)))
    }

    /// The value of one token's parts, if this key sealed it.
    fn open_parts(&self, label: &str, id: &str, data: &str) -> Option<String> {
        if id != self.id {
            return None;
        }
        let data = URL_SAFE_NO_PAD.decode(data).ok()?;
        let (nonce, sealed) = (data.get(..24)?, data.get(24..)?);
        let cipher = XChaCha20Poly1305::new_from_slice(&self.key).ok()?;
        let plain = cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: label.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// `text` with every token this key sealed replaced by its value; other tokens stay. Also
/// returns how many were opened. One pass over the text.
pub fn open_tokens(text: &str, key: &SealKey) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut opened = 0;
    let mut rest = text;
    while let Some(at) = rest.find(TOKEN_PREFIX) {
        out.push_str(&rest[..at]);
        let after = &rest[at + TOKEN_PREFIX.len()..];
        let label_len =
            after.bytes().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_').count();
        let label = &after[..label_len];
        let id = after.get(label_len + 1..label_len + 9).filter(|_| after.as_bytes().get(label_len) == Some(&b'.'));
        let data_at = label_len + 10;
        let data_len = match (id, after.as_bytes().get(label_len + 9)) {
            (Some(_), Some(b'.')) => after
                .get(data_at..)
                .map_or(0, |d| d.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_').count()),
            _ => 0,
        };
        let value = match (id, data_len) {
            (Some(id), 1..) => key.open_parts(label, id, &after[data_at..data_at + data_len]),
            _ => None,
        };
        match value {
            Some(v) => {
                out.push_str(&v);
                opened += 1;
                rest = &after[data_at + data_len..];
            }
            None => {
                out.push_str(TOKEN_PREFIX);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, opened)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const SEAL_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn pseudonyms_are_stable_per_key_and_spelling() {
        let k = HashKey::new(&[7u8; 32]).unwrap();
        let a = k.pseudonym("CREDIT_CARD", "4111 1111 1111 1111");
        assert_eq!(a, k.pseudonym("CREDIT_CARD", "4111-1111-1111-1111"));
        assert_eq!(a.len(), "CREDIT_CARD_".len() + HASH_HEX_DIGITS);
        assert_eq!(k.pseudonym("EMAIL", "Ann@Example.com"), k.pseudonym("EMAIL", "ann@example.com"));
        assert_eq!(k.pseudonym("IBAN", "gb82 west 1234 5698 7654 32"), k.pseudonym("IBAN", "GB82WEST12345698765432"));
        assert_ne!(k.pseudonym("EMAIL", "ann@example.com"), k.pseudonym("EMAIL", "bob@example.com"));
        let other = HashKey::new(&[8u8; 32]).unwrap();
        assert_ne!(other.pseudonym("EMAIL", "ann@example.com"), k.pseudonym("EMAIL", "ann@example.com"));
        assert!(HashKey::new(b"short").is_none());
    }

    #[test]
    fn sealed_tokens_open_with_their_key_only() {
        let k = SealKey::from_hex(SEAL_HEX).unwrap();
        let token = k.seal("EMAIL", "ann@example.com").unwrap();
        assert!(token.starts_with(&format!("enc.EMAIL.{}.", k.id())), "{token}");
        assert!(!token.contains("ann"));
        assert_eq!(token, k.seal("EMAIL", "ann@example.com").unwrap());
        let text = format!("write to {token}, not enc.nothing");
        assert_eq!(open_tokens(&text, &k), ("write to ann@example.com, not enc.nothing".to_owned(), 1));
        let other = SealKey::from_hex(&"ff".repeat(32)).unwrap();
        assert_eq!(open_tokens(&text, &other).1, 0);
        // A token whose label was changed does not open (the label is associated data).
        let forged = token.replacen("EMAIL", "PHONE", 1);
        assert_eq!(open_tokens(&forged, &k).1, 0);
    }

    #[test]
    fn missing_or_bad_keys_name_the_variable_not_the_value() {
        let names = KeyNames::default();
        let none = |_: &str| None;
        let e = Keys::load(&names, true, false, &none).unwrap_err();
        assert_eq!(e.field, "keys.hash");
        assert!(e.problem.contains("PG_HASH_KEY"), "{e}");
        let bad = |_: &str| Some("not-hex-secret-value".to_owned());
        let e = Keys::load(&names, false, true, &bad).unwrap_err();
        assert!(e.problem.contains("PG_SEAL_KEY") && !e.problem.contains("not-hex"), "{e}");
        assert!(Keys::load(&names, false, false, &none).is_ok());
        let bad_name = KeyNames { hash: "PG HASH".to_owned(), ..KeyNames::default() };
        assert_eq!(Keys::load(&bad_name, false, false, &none).unwrap_err().field, "keys.hash");
    }
}
