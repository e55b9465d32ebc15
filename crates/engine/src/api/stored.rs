//! Stateful mappings in Envoy shared data, reached through the [`SharedData`] trait.
//!
//! A record's key is a keyed hash of the id's random name (the data dump holds no usable id),
//! its value the sealed mapping beside its key id, expiry and identity tag (all bound to the seal).
//! One index value lists every record with its expiry, oldest first: each save drops the expired
//! records and, beyond `max_mappings`, the oldest, so the store is bounded without a sweep.
//!
//! Record (version 1): `u8 version, u64 expiry, 8 bytes identity tag, the keyring's sealed bytes`
//! (which name their key). Index (version 1): `u8 version, u32 count, { 8 bytes name hash, u64
//! expiry }*`.

use super::ids::{hex, identity_tag, is_identity_tag, MappingRefusal, TAG_BYTES};
use super::mapping::Mapping;
use crate::keys::Keyring;
use crate::store::codec::{Malformed, Reader, Writer};
use crate::store::{SharedData, StoreError, MAX_ATTEMPTS};

const VERSION: u8 = 1;
const RECORD_PREFIX: &str = "prompt-guard/api/";
pub const INDEX_KEY: &str = "prompt-guard/api-index";

/// Why a stateful restore failed: the mapping's own refusal, or the store's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredRefusal {
    Mapping(MappingRefusal),
    Store(StoreError),
}

/// The keyed-hash domain of record names.
const RECORD_DOMAIN: &str = "api.record";

fn truncate(hash: [u8; 32]) -> [u8; TAG_BYTES] {
    let mut out = [0u8; TAG_BYTES];
    out.copy_from_slice(&hash[..TAG_BYTES]);
    out
}

/// The record names a random name can have: under the current hash key, then the previous one.
fn record_hashes(keys: &Keyring, name: &[u8; 16]) -> Vec<[u8; TAG_BYTES]> {
    let current = keys.keyed_hash(RECORD_DOMAIN, name).ok().map(truncate);
    let previous = keys.keyed_hash_previous(RECORD_DOMAIN, name).map(truncate);
    current.into_iter().chain(previous).collect()
}

fn record_key(hash: &[u8; TAG_BYTES]) -> String {
    format!("{RECORD_PREFIX}{}", hex(hash))
}

fn aad(hash: &[u8; TAG_BYTES], expiry: u64, tag: &[u8; TAG_BYTES]) -> Vec<u8> {
    let mut out = b"prompt-guard api stored mapping v1\0".to_vec();
    out.extend_from_slice(hash);
    out.extend_from_slice(&expiry.to_le_bytes());
    out.extend_from_slice(tag);
    out
}

fn decode_index(bytes: &[u8]) -> Result<Vec<([u8; TAG_BYTES], u64)>, Malformed> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader::new(bytes);
    if r.u8()? != VERSION {
        return Err(Malformed);
    }
    let count = usize::try_from(r.u32()?).map_err(|_| Malformed)?;
    let mut out = Vec::with_capacity(count.min(r.remaining() / 16));
    for _ in 0..count {
        let hash: [u8; TAG_BYTES] = r.take(TAG_BYTES)?.try_into().map_err(|_| Malformed)?;
        out.push((hash, r.u64()?));
    }
    r.finish()?;
    Ok(out)
}

fn encode_index(entries: &[([u8; TAG_BYTES], u64)]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(VERSION);
    w.u32(u32::try_from(entries.len()).unwrap_or(0));
    for (hash, expiry) in entries {
        w.raw(hash);
        w.u64(*expiry);
    }
    w.bytes
}

/// The stateful mapping store.
pub struct MappingStore<'a, S: SharedData> {
    pub data: &'a S,
    pub keys: &'a Keyring,
    pub max_mappings: usize,
}

impl<S: SharedData> MappingStore<'_, S> {
    /// Seal and store `mapping` under the random `name`; drops what is expired and, beyond the
    /// bound, the oldest. `None` from the cipher is an internal failure.
    pub fn save(
        &self,
        name: &[u8; 16],
        mapping: &Mapping,
        expiry: u64,
        identity: Option<&str>,
        now: u64,
    ) -> Result<Option<()>, StoreError> {
        let (Some(hash), Some(tag)) =
            (record_hashes(self.keys, name).first().copied(), identity_tag(self.keys, identity))
        else {
            return Ok(None);
        };
        let Ok(sealed) = self.keys.seal(&aad(&hash, expiry, &tag), &mapping.encode()) else {
            return Ok(None);
        };
        let mut w = Writer::default();
        w.u8(VERSION);
        w.u64(expiry);
        w.raw(&tag);
        w.raw(&sealed);
        // The record first: an index entry never names a record that was not written.
        self.data.set(&record_key(&hash), &w.bytes, None)?;
        let dropped = self.register(hash, expiry, now)?;
        for old in dropped {
            self.data.set(&record_key(&old), &[], None)?;
        }
        Ok(Some(()))
    }

    /// List the record; returns the records to clear (expired, or the oldest beyond the bound).
    fn register(&self, hash: [u8; TAG_BYTES], expiry: u64, now: u64) -> Result<Vec<[u8; TAG_BYTES]>, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.data.get(INDEX_KEY)?;
            let (bytes, cas) = match &current {
                Some((b, cas)) => (b.as_slice(), Some(*cas)),
                None => (&[][..], None),
            };
            // A corrupt index starts afresh: the records it listed then expire unlisted, which
            // costs memory until the same names are written again, never a wrong restore.
            let mut entries = decode_index(bytes).unwrap_or_default();
            let mut dropped: Vec<[u8; TAG_BYTES]> = Vec::new();
            entries.retain(|(h, e)| {
                let keep = *e > now && *h != hash;
                if !keep && *h != hash {
                    dropped.push(*h);
                }
                keep
            });
            entries.push((hash, expiry));
            let excess = entries.len().saturating_sub(self.max_mappings);
            dropped.extend(entries.drain(..excess).map(|(h, _)| h));
            match self.data.set(INDEX_KEY, &encode_index(&entries), cas) {
                Ok(()) => return Ok(dropped),
                Err(StoreError::CasMismatch) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Contended { key_hint: "api index", attempts: MAX_ATTEMPTS })
    }

    /// The mapping stored under `name` for `identity` at `now`.
    pub fn load(&self, name: &[u8; 16], identity: Option<&str>, now: u64) -> Result<Mapping, StoredRefusal> {
        for hash in record_hashes(self.keys, name) {
            let Some((bytes, _)) = self.data.get(&record_key(&hash)).map_err(StoredRefusal::Store)? else {
                continue;
            };
            if bytes.is_empty() {
                continue;
            }
            return self.open_record(&hash, &bytes, identity, now).map_err(StoredRefusal::Mapping);
        }
        Err(StoredRefusal::Mapping(MappingRefusal::NotFound))
    }

    fn open_record(
        &self,
        hash: &[u8; TAG_BYTES],
        bytes: &[u8],
        identity: Option<&str>,
        now: u64,
    ) -> Result<Mapping, MappingRefusal> {
        let mut r = Reader::new(bytes);
        let parse = |r: &mut Reader<'_>| -> Result<(u64, [u8; TAG_BYTES]), Malformed> {
            if r.u8()? != VERSION {
                return Err(Malformed);
            }
            let expiry = r.u64()?;
            let tag: [u8; TAG_BYTES] = r.take(TAG_BYTES)?.try_into().map_err(|_| Malformed)?;
            Ok((expiry, tag))
        };
        let (expiry, tag) = parse(&mut r).map_err(|_| MappingRefusal::Tampered)?;
        let sealed = r.take(r.remaining()).map_err(|_| MappingRefusal::Tampered)?;
        let plain = self.keys.open(&aad(hash, expiry, &tag), sealed)?;
        if !is_identity_tag(self.keys, identity, &tag) {
            return Err(MappingRefusal::OtherIdentity);
        }
        if expiry <= now {
            return Err(MappingRefusal::Expired);
        }
        Mapping::decode(&plain).map_err(|_| MappingRefusal::Tampered)
    }
}
