//! Mapping ids. The id's prefix says where its mapping rests, so a restore reads either kind
//! whatever mode the filter issues now (a mode change does not strand the ids already out).
//!
//! - stateless, `pgm1.KEYID.EXPIRY.TAG.DATA`: DATA is base64url of the nonce and the sealed
//!   mapping; the key id, the expiry (Unix seconds) and TAG (a keyed hash of the caller's
//!   identity, 16 hex digits) are in clear so a refusal can say which check failed, and all
//!   three are the seal's associated data, so changing any of them is tampering.
//! - stateful, `pgs1.` and 32 hex digits of a random 128-bit name (see `stored`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::mapping::Mapping;
use super::seal::{MappingKeys, OpenFailure, NONCE_BYTES, TAG_BYTES};

pub const STATELESS_PREFIX: &str = "pgm1.";
pub const STATEFUL_PREFIX: &str = "pgs1.";
/// Longest mapping id read (a stateless id grows with its mapping; the body limit bounds it).
pub const MAX_ID_BYTES: usize = 4 * 1024 * 1024;

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

/// The identity tag: a keyed hash, so the id names no caller and another key gives another tag.
pub fn identity_tag(keys: &MappingKeys, key_id: Option<&str>, identity: Option<&str>) -> Option<[u8; TAG_BYTES]> {
    let data = match identity {
        Some(id) => [&[1u8][..], id.as_bytes()].concat(),
        None => vec![0u8],
    };
    keys.tag(key_id, b"caller identity", &data)
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

fn stateless_aad(key_id: &str, expiry: u64, tag: &str) -> Vec<u8> {
    format!("prompt-guard mapping v1\0{key_id}\0{expiry}\0{tag}").into_bytes()
}

/// A stateless id carrying `mapping`, or `None` if the key could not seal.
pub fn seal_stateless(
    keys: &MappingKeys,
    mapping: &Mapping,
    expiry: u64,
    identity: Option<&str>,
    nonce: &[u8; NONCE_BYTES],
) -> Option<String> {
    let key_id = keys.current_id();
    let tag = hex(&identity_tag(keys, None, identity)?);
    let sealed = keys.seal(&stateless_aad(key_id, expiry, &tag), nonce, &mapping.encode())?;
    Some(format!("{STATELESS_PREFIX}{key_id}.{expiry}.{tag}.{}", URL_SAFE_NO_PAD.encode(sealed)))
}

/// The mapping a stateless id carries, for `identity` at `now`.
pub fn open_stateless(
    keys: &MappingKeys,
    id: &str,
    identity: Option<&str>,
    now: u64,
) -> Result<Mapping, MappingRefusal> {
    let rest = id.strip_prefix(STATELESS_PREFIX).ok_or(MappingRefusal::Malformed)?;
    let mut parts = rest.splitn(4, '.');
    let (Some(key_id), Some(expiry), Some(tag), Some(data)) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(MappingRefusal::Malformed);
    };
    let expiry_n: u64 = expiry.parse().map_err(|_| MappingRefusal::Malformed)?;
    let tag_bytes = unhex::<TAG_BYTES>(tag).ok_or(MappingRefusal::Malformed)?;
    if key_id.len() != 8 || expiry_n.to_string() != expiry {
        return Err(MappingRefusal::Malformed);
    }
    let data = URL_SAFE_NO_PAD.decode(data).map_err(|_| MappingRefusal::Malformed)?;
    let plain = keys.open(key_id, &stateless_aad(key_id, expiry_n, tag), &data).map_err(|e| match e {
        OpenFailure::UnknownKey => MappingRefusal::UnknownKey,
        OpenFailure::Tampered => MappingRefusal::Tampered,
    })?;
    // Authentic from here on: the tag and expiry are the ones the filter wrote.
    if identity_tag(keys, Some(key_id), identity) != Some(tag_bytes) {
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

    const A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const B: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

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
        let keys = MappingKeys::from_hex(A, None).unwrap();
        let id = seal_stateless(&keys, &mapping(), 1000, Some("team-a"), &[3; NONCE_BYTES]).unwrap();
        assert!(id.starts_with(STATELESS_PREFIX) && !id.contains("ann") && !id.contains("team-a"), "{id}");
        assert_eq!(open_stateless(&keys, &id, Some("team-a"), 999).unwrap(), mapping());
        assert_eq!(open_stateless(&keys, &id, Some("team-b"), 999), Err(MappingRefusal::OtherIdentity));
        assert_eq!(open_stateless(&keys, &id, None, 999), Err(MappingRefusal::OtherIdentity));
        assert_eq!(open_stateless(&keys, &id, Some("team-a"), 1000), Err(MappingRefusal::Expired));
        let other = MappingKeys::from_hex(B, None).unwrap();
        assert_eq!(open_stateless(&other, &id, Some("team-a"), 999), Err(MappingRefusal::UnknownKey));
        let rotated = MappingKeys::from_hex(B, Some(A)).unwrap();
        assert_eq!(open_stateless(&rotated, &id, Some("team-a"), 999).unwrap(), mapping());
        // A later expiry written into the id, another tag, or a changed byte: tampering.
        let later = id.replacen(".1000.", ".9000.", 1);
        assert_eq!(open_stateless(&keys, &later, Some("team-a"), 999), Err(MappingRefusal::Tampered));
        let b_tag = hex(&identity_tag(&keys, None, Some("team-b")).unwrap());
        let a_tag = hex(&identity_tag(&keys, None, Some("team-a")).unwrap());
        let moved = id.replacen(&a_tag, &b_tag, 1);
        assert_eq!(open_stateless(&keys, &moved, Some("team-b"), 999), Err(MappingRefusal::Tampered));
        let mut bytes = id.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(bytes).unwrap();
        assert_eq!(open_stateless(&keys, &flipped, Some("team-a"), 999), Err(MappingRefusal::Tampered));
        for bad in ["", "pgm1.", "pgm1.x.y.z.w", "pgs1.00", "hello"] {
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
