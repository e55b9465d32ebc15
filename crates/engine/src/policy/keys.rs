//! What the `hash` and `encrypt` strategies make of a value, with the keys of the crate's
//! [`Keyring`] (`crate::keys`: read from the host environment, rotation, sealing).
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
use chacha20poly1305::XNonce;
use hmac::Mac;

pub use crate::keys::{
    HashKey, KeyNames, Keyring, SealKey, DEFAULT_HASH_KEY_VAR, DEFAULT_SEAL_KEY_VAR, MIN_HASH_KEY_BYTES,
};

/// Hex digits of a hash pseudonym (64 bits).
pub const HASH_HEX_DIGITS: usize = 16;
/// How a token begins.
pub const TOKEN_PREFIX: &str = "enc.";

impl HashKey {
    /// `LABEL_` and the first [`HASH_HEX_DIGITS`] hex digits of the value's HMAC.
    pub fn pseudonym(&self, label: &str, value: &str) -> String {
        let mut out = String::with_capacity(label.len() + 1 + HASH_HEX_DIGITS);
        out.push_str(label);
        out.push('_');
        let Some(mut mac) = self.mac() else { return out };
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
    /// `enc.LABEL.KEYID.DATA`; `None` only if the cipher fails (it does not for these sizes).
    pub fn token(&self, label: &str, value: &str) -> Option<String> {
        let mut mac = self.mac()?;
        mac.update(b"nonce\0");
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        let nonce = XNonce::from_slice(tag.get(..24)?);
        let sealed = self.cipher()?.encrypt(nonce, Payload { msg: value.as_bytes(), aad: label.as_bytes() }).ok()?;
        let mut data = nonce.to_vec();
        data.extend_from_slice(&sealed);
        Some(format!("{TOKEN_PREFIX}{label}.{}.{}", self.id(), URL_SAFE_NO_PAD.encode(data)))
    }

    /// The value of one token's parts, if this key sealed it.
    fn open_parts(&self, label: &str, id: &str, data: &str) -> Option<String> {
        if id != self.id() {
            return None;
        }
        let data = URL_SAFE_NO_PAD.decode(data).ok()?;
        let (nonce, sealed) = (data.get(..24)?, data.get(24..)?);
        let plain =
            self.cipher()?.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: label.as_bytes() }).ok()?;
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
        let token = k.token("EMAIL", "ann@example.com").unwrap();
        assert!(token.starts_with(&format!("enc.EMAIL.{}.", k.id())), "{token}");
        assert!(!token.contains("ann"));
        assert_eq!(token, k.token("EMAIL", "ann@example.com").unwrap());
        let text = format!("write to {token}, not enc.nothing");
        assert_eq!(open_tokens(&text, &k), ("write to ann@example.com, not enc.nothing".to_owned(), 1));
        let other = SealKey::from_hex(&"ff".repeat(32)).unwrap();
        assert_eq!(open_tokens(&text, &other).1, 0);
        // A token whose label was changed does not open (the label is associated data).
        let forged = token.replacen("EMAIL", "PHONE", 1);
        assert_eq!(open_tokens(&forged, &k).1, 0);
    }
}
