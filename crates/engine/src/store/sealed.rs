//! A session record at rest: `u64 expiry (little-endian), sealed record` ([`Keyring::seal`]).
//!
//! The record (originals and all) is sealed; the expiry stays readable so the periodic sweep can
//! clear expired records without opening them (the sweep has no identity). The associated data
//! is a purpose string, the expiry and the identity: a record opens only for the identity it was
//! written for (another identity, even one whose key name collides, gets `Tampered`), and an
//! expiry moved forward by someone who can write shared data makes the record unopenable.

use super::record::SessionRecord;
use super::StoreError;
use crate::keys::Keyring;

const PURPOSE: &[u8] = b"prompt_guard session record v2\0";

fn aad(identity: &str, expiry: u64) -> Vec<u8> {
    [PURPOSE, &expiry.to_le_bytes(), identity.as_bytes()].concat()
}

/// The readable expiry of stored bytes, or None when they are too short to hold one.
pub fn stored_expiry(bytes: &[u8]) -> Option<u64> {
    let head: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some(u64::from_le_bytes(head))
}

/// The bytes to store for `identity`'s record.
pub fn seal(keys: &Keyring, identity: &str, record: &SessionRecord) -> Result<Vec<u8>, StoreError> {
    let sealed = keys.seal(&aad(identity, record.expiry), &record.encode()).map_err(|_| StoreError::MissingKey)?;
    Ok([record.expiry.to_le_bytes().as_slice(), &sealed].concat())
}

/// `identity`'s record from stored bytes: `Unopened` when they do not open (another identity's,
/// a key no longer held, tampered), `Corrupt` when they open but do not decode.
pub fn open(keys: &Keyring, identity: &str, bytes: &[u8]) -> Result<SessionRecord, StoreError> {
    let (Some(expiry), Some(sealed)) = (stored_expiry(bytes), bytes.get(8..)) else {
        return Err(StoreError::Corrupt { key_hint: "session" });
    };
    let plain = keys.open(&aad(identity, expiry), sealed).map_err(|reason| StoreError::Unopened { reason })?;
    let record = SessionRecord::decode(&plain).map_err(|_| StoreError::Corrupt { key_hint: "session" })?;
    if record.expiry != expiry {
        return Err(StoreError::Corrupt { key_hint: "session" });
    }
    Ok(record)
}
