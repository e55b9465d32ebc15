//! Mapping ids. The id's prefix says where its mapping rests, so a restore reads either kind
//! whatever mode the filter issues now (a mode change does not strand the ids already out).
//!
//! - stateless, `pgm1.EXPIRY.TAG.DATA`: DATA is base64url of the mapping sealed by the keyring
//!   (its key id is inside); the expiry (Unix seconds) and TAG (a keyed hash of the caller's
//!   identity, 16 hex digits) are in clear so a refusal can say which check failed, and both are
//!   the seal's associated data, so changing either is tampering.
//! - stateful, `pgs1.` and 32 hex digits of a random 128-bit name (see `stored`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::mapping::Mapping;
use crate::keys::{Keyring, OpenError};

pub const STATELESS_PREFIX: &str = "pgm1.";
pub const STATEFUL_PREFIX: &str = "pgs1.";
/// Longest mapping id read (a stateless id grows with its mapping; the body limit bounds it).
pub const MAX_ID_BYTES: usize = 4 * 1024 * 1024;
/// Bytes of an identity tag.
pub const TAG_BYTES: usize = 8;
/// The keyed-hash domain of identity tags.
const IDENTITY_DOMAIN: &str = "api.identity";

/// Why a mapping id restores nothing. Each says which check failed and nothing of the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingRefusal {
    /// Not a mapping id of this filter's formats.
    Malformed,
    /// Sealed under a key this filter does not hold.
    UnknownKey,
    /// The id (or the stored mapping) was changed.
    Tampered,
    /// Issued to another caller identity.
    OtherIdentity,
    Expired,
    /// A stateful id with no mapping here (never issued here, dropped as the oldest, or swept).
    NotFound,
}

impl From<OpenError> for MappingRefusal {
    fn from(e: OpenError) -> MappingRefusal {
        match e {
            OpenError::UnknownKey => MappingRefusal::UnknownKey,
            OpenError::Tampered | OpenError::Malformed => MappingRefusal::Tampered,
        }
    }
}

fn identity_bytes(identity: Option<&str>) -> Vec<u8> {
    match identity {
        Some(id) => [&[1u8][..], id.as_bytes()].concat(),
        None => vec![0u8],
    }
}

fn truncate(hash: [u8; 32]) -> [u8; TAG_BYTES] {
    let mut tag = [0u8; TAG_BYTES];
    tag.copy_from_slice(&hash[..TAG_BYTES]);
    tag
}

/// The identity tag under the current hash key: a keyed hash, so an id names no caller.
pub fn identity_tag(keys: &Keyring, identity: Option<&str>) -> Option<[u8; TAG_BYTES]> {
    keys.keyed_hash(IDENTITY_DOMAIN, &identity_bytes(identity)).ok().map(truncate)
}

/// Whether `tag` is `identity`'s, under the current or the previous hash key.
pub fn is_identity_tag(keys: &Keyring, identity: Option<&str>, tag: &[u8; TAG_BYTES]) -> bool {
    let data = identity_bytes(identity);
    let current = keys.keyed_hash(IDENTITY_DOMAIN, &data).ok().map(truncate);
    let previous = keys.keyed_hash_previous(IDENTITY_DOMAIN, &data).map(truncate);
    current.as_ref() == Some(tag) || previous.as_ref() == Some(tag)
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn stateless_aad(expiry: u64, tag: &str) -> Vec<u8> {
    format!("prompt-guard api mapping v1\0{expiry}\0{tag}").into_bytes()
}

/// A stateless id carrying `mapping`, or `None` when a key is missing (the configuration
/// requires both when the API is on).
pub fn seal_stateless(keys: &Keyring, mapping: &Mapping, expiry: u64, identity: Option<&str>) -> Option<String> {
    let tag = hex(&identity_tag(keys, identity)?);
    let sealed = keys.seal(&stateless_aad(expiry, &tag), &mapping.encode()).ok()?;
    Some(format!("{STATELESS_PREFIX}{expiry}.{tag}.{}", URL_SAFE_NO_PAD.encode(sealed)))
}

/// The mapping a stateless id carries, for `identity` at `now`.
pub fn open_stateless(keys: &Keyring, id: &str, identity: Option<&str>, now: u64) -> Result<Mapping, MappingRefusal> {
    let rest = id.strip_prefix(STATELESS_PREFIX).ok_or(MappingRefusal::Malformed)?;
    let mut parts = rest.splitn(3, '.');
    let (Some(expiry), Some(tag), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(MappingRefusal::Malformed);
    };
    let expiry_n: u64 = expiry.parse().map_err(|_| MappingRefusal::Malformed)?;
    let tag_bytes = unhex::<TAG_BYTES>(tag).ok_or(MappingRefusal::Malformed)?;
    if expiry_n.to_string() != expiry {
        return Err(MappingRefusal::Malformed);
    }
    let data = URL_SAFE_NO_PAD.decode(data).map_err(|_| MappingRefusal::Malformed)?;
    let plain = keys.open(&stateless_aad(expiry_n, tag), &data)?;
    // Authentic from here on: the tag and the expiry are the ones the filter wrote.
    if !is_identity_tag(keys, identity, &tag_bytes) {
        return Err(MappingRefusal::OtherIdentity);
    }
    if expiry_n <= now {
        return Err(MappingRefusal::Expired);
    }
    Mapping::decode(&plain).map_err(|_| MappingRefusal::Tampered)
}

/// A stateful id from 16 random bytes.
pub fn stateful_id(random: &[u8; 16]) -> String {
    format!("{STATEFUL_PREFIX}{}", hex(random))
}

/// The random name of a stateful id, if it is one.
pub fn stateful_name(id: &str) -> Option<[u8; 16]> {
    unhex::<16>(id.strip_prefix(STATEFUL_PREFIX)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::api::mapping::{MappingEntry, Stand};
    use crate::keys::KeyNames;

    const A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const B: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
    const HASH: &str = "a hash key of at least thirty-two bytes, for tests";

    fn ring(seal: &'static str, previous: Option<&'static str>) -> Keyring {
        let env = move |name: &str| match name {
            "PG_SEAL_KEY" => Some(seal.to_owned()),
            "PG_SEAL_KEY_PREVIOUS" => previous.map(str::to_owned),
            "PG_HASH_KEY" => Some(HASH.to_owned()),
            _ => None,
        };
        Keyring::from_env(&KeyNames::default(), &env).unwrap()
    }

    fn mapping() -> Mapping {
        Mapping {
            policy: "default".into(),
            entries: vec![MappingEntry {
                label: "EMAIL".into(),
                stand: Stand::Placeholder(1),
                original: "ann@example.com".into(),
            }],
        }
    }

    #[test]
    fn a_stateless_id_restores_for_its_identity_key_and_time_only() {
        let keys = ring(A, None);
        let id = seal_stateless(&keys, &mapping(), 1000, Some("team-a")).unwrap();
        assert!(id.starts_with(STATELESS_PREFIX) && !id.contains("ann") && !id.contains("team-a"), "{id}");
        assert_eq!(open_stateless(&keys, &id, Some("team-a"), 999).unwrap(), mapping());
        assert_eq!(open_stateless(&keys, &id, Some("team-b"), 999), Err(MappingRefusal::OtherIdentity));
        assert_eq!(open_stateless(&keys, &id, None, 999), Err(MappingRefusal::OtherIdentity));
        assert_eq!(open_stateless(&keys, &id, Some("team-a"), 1000), Err(MappingRefusal::Expired));
        assert_eq!(open_stateless(&ring(B, None), &id, Some("team-a"), 999), Err(MappingRefusal::UnknownKey));
        assert_eq!(open_stateless(&ring(B, Some(A)), &id, Some("team-a"), 999).unwrap(), mapping());
        // A later expiry written into the id, another caller's tag: tampering.
        let later = id.replacen(".1000.", ".9000.", 1);
        assert_eq!(open_stateless(&keys, &later, Some("team-a"), 999), Err(MappingRefusal::Tampered));
        let a_tag = hex(&identity_tag(&keys, Some("team-a")).unwrap());
        let b_tag = hex(&identity_tag(&keys, Some("team-b")).unwrap());
        let moved = id.replacen(&a_tag, &b_tag, 1);
        assert_eq!(open_stateless(&keys, &moved, Some("team-b"), 999), Err(MappingRefusal::Tampered));
        for bad in ["", "pgm1.", "pgm1.x.y.z", "pgm1.01.00.aa", "pgs1.00", "hello"] {
            assert_eq!(open_stateless(&keys, bad, None, 0), Err(MappingRefusal::Malformed), "{bad}");
        }
    }

    #[test]
    fn stateful_ids_carry_their_random_name() {
        let id = stateful_id(&[0xab; 16]);
        assert_eq!(id.len(), STATEFUL_PREFIX.len() + 32);
        assert_eq!(stateful_name(&id), Some([0xab; 16]));
        assert_eq!(stateful_name("pgs1.zz"), None);
    }
}
