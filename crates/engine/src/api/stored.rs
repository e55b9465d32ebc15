//! Stateful mappings in Envoy shared data, reached through the [`SharedData`] trait.
//!
//! A record's key is a keyed hash of the id's random name (the data dump holds no usable id),
//! its value the sealed mapping beside its key id, expiry and identity tag (all bound to the seal).
//! One index value lists every record with its expiry and size, oldest first: each save drops the
//! expired records and, beyond `max_mappings` records or `max_stored_bytes`, the oldest, so the
//! store is bounded without a sweep; the periodic tick also clears expired records
//! ([`MappingStore::sweep`]), so they do not wait for the next save. One record holds at most
//! [`MAX_RECORD_BYTES`].
//!
//! Record (version 1): `u8 version, u64 expiry, 8 bytes identity tag, the keyring's sealed bytes`
//! (which name their key). Index (version 1): `u8 version, u32 count, { 8 bytes name hash, u64
//! expiry, u32 record bytes }*`.

use super::ids::{hex, identity_tag, is_identity_tag, MappingRefusal, TAG_BYTES};
use super::mapping::Mapping;
use super::settings::MAX_RECORD_BYTES;
use crate::keys::Keyring;
use crate::store::codec::{Malformed, Reader, Writer};
use crate::store::{SharedData, StoreError, MAX_ATTEMPTS};

const VERSION: u8 = 1;
const RECORD_PREFIX: &str = "prompt_guard/api/v1/mapping/";
pub const INDEX_KEY: &str = "prompt_guard/api/v1/index";

/// Why a stateful restore failed: the mapping's own refusal, or the store's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredRefusal {
    Mapping(MappingRefusal),
    Store(StoreError),
}

/// Why a mapping was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveFailure {
    /// Over [`MAX_RECORD_BYTES`].
    TooLarge,
    /// A key is missing (the configuration requires both with the API on).
    NoKey,
    Store(StoreError),
}

impl From<StoreError> for SaveFailure {
    fn from(e: StoreError) -> SaveFailure {
        SaveFailure::Store(e)
    }
}

/// Records cleared by one sweep at most, so one tick does bounded work.
pub const SWEEP_BATCH: usize = 64;

/// One index entry: the record's name hash, its expiry, its size.
type Listed = ([u8; TAG_BYTES], u64, u32);

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

fn decode_index(bytes: &[u8]) -> Result<Vec<Listed>, Malformed> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader::new(bytes);
    if r.u8()? != VERSION {
        return Err(Malformed);
    }
    let count = usize::try_from(r.u32()?).map_err(|_| Malformed)?;
    let mut out = Vec::with_capacity(count.min(r.remaining() / 20));
    for _ in 0..count {
        let hash: [u8; TAG_BYTES] = r.take(TAG_BYTES)?.try_into().map_err(|_| Malformed)?;
        out.push((hash, r.u64()?, r.u32()?));
    }
    r.finish()?;
    Ok(out)
}

fn encode_index(entries: &[Listed]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(VERSION);
    w.u32(u32::try_from(entries.len()).unwrap_or(0));
    for (hash, expiry, size) in entries {
        w.raw(hash);
        w.u64(*expiry);
        w.u32(*size);
    }
    w.bytes
}

/// The stateful mapping store.
pub struct MappingStore<'a, S: SharedData> {
    pub data: &'a S,
    pub keys: &'a Keyring,
    pub max_mappings: usize,
    pub max_stored_bytes: u64,
}

impl<S: SharedData> MappingStore<'_, S> {
    /// Seal and store `mapping` under the random `name`; drops what is expired and, beyond the
    /// bounds, the oldest.
    pub fn save(
        &self,
        name: &[u8; 16],
        mapping: &Mapping,
        expiry: u64,
        identity: Option<&str>,
        now: u64,
    ) -> Result<(), SaveFailure> {
        let (Some(hash), Some(tag)) =
            (record_hashes(self.keys, name).first().copied(), identity_tag(self.keys, identity))
        else {
            return Err(SaveFailure::NoKey);
        };
        let sealed = self.keys.seal(&aad(&hash, expiry, &tag), &mapping.encode()).map_err(|_| SaveFailure::NoKey)?;
        if sealed.len() + 1 + 8 + TAG_BYTES > MAX_RECORD_BYTES {
            return Err(SaveFailure::TooLarge);
        }
        let mut w = Writer::default();
        w.u8(VERSION);
        w.u64(expiry);
        w.raw(&tag);
        w.raw(&sealed);
        // The record first: an index entry never names a record that was not written.
        self.data.set(&record_key(&hash), &w.bytes, None)?;
        let size = u32::try_from(w.bytes.len()).unwrap_or(u32::MAX);
        let dropped = self.register((hash, expiry, size), now)?;
        for old in dropped {
            self.data.set(&record_key(&old), &[], None)?;
        }
        Ok(())
    }

    /// List the record; returns the records to clear (expired, or the oldest beyond the bound).
    fn register(&self, new: Listed, now: u64) -> Result<Vec<[u8; TAG_BYTES]>, StoreError> {
        let hash = new.0;
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
            entries.retain(|(h, e, _)| {
                let keep = *e > now && *h != hash;
                if !keep && *h != hash {
                    dropped.push(*h);
                }
                keep
            });
            entries.push(new);
            // The oldest go until both bounds hold (the new record, last, always stays).
            let mut total: u64 = entries.iter().map(|(_, _, size)| u64::from(*size)).sum();
            let mut cut = 0;
            while cut + 1 < entries.len() && (total > self.max_stored_bytes || entries.len() - cut > self.max_mappings)
            {
                total = total.saturating_sub(entries.get(cut).map_or(0, |(_, _, size)| u64::from(*size)));
                cut += 1;
            }
            dropped.extend(entries.drain(..cut).map(|(h, _, _)| h));
            match self.data.set(INDEX_KEY, &encode_index(&entries), cas) {
                Ok(()) => return Ok(dropped),
                Err(StoreError::CasMismatch) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Contended { key_hint: "api index", attempts: MAX_ATTEMPTS })
    }

    /// Clear expired records (the periodic tick): at most [`SWEEP_BATCH`] of them, oldest listed
    /// first; the rest go on the next sweep. The index loses their entries first, then the records
    /// are emptied: a record is never listed without being there. Returns how many were cleared.
    /// A corrupt index is left for the next save, which starts it afresh.
    pub fn sweep(&self, now: u64) -> Result<usize, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some((bytes, cas)) = self.data.get(INDEX_KEY)? else {
                return Ok(0);
            };
            let Ok(mut entries) = decode_index(&bytes) else {
                return Ok(0);
            };
            let mut expired: Vec<[u8; TAG_BYTES]> = Vec::new();
            entries.retain(|(h, e, _)| {
                let clear = *e <= now && expired.len() < SWEEP_BATCH;
                if clear {
                    expired.push(*h);
                }
                !clear
            });
            if expired.is_empty() {
                return Ok(0);
            }
            match self.data.set(INDEX_KEY, &encode_index(&entries), Some(cas)) {
                Ok(()) => {
                    for hash in &expired {
                        self.data.set(&record_key(hash), &[], None)?;
                    }
                    return Ok(expired.len());
                }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;
    use crate::api::mapping::{MappingEntry, Stand};
    use crate::keys::KeyNames;

    #[derive(Default)]
    struct Memory(RefCell<HashMap<String, (Vec<u8>, u32)>>);

    impl SharedData for Memory {
        fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
            Ok(self.0.borrow().get(key).cloned())
        }
        fn set(&self, key: &str, value: &[u8], _cas: Option<u32>) -> Result<(), StoreError> {
            let mut map = self.0.borrow_mut();
            let token = map.get(key).map_or(1, |(_, t)| t + 1);
            map.insert(key.to_owned(), (value.to_vec(), token));
            Ok(())
        }
    }

    fn ring() -> Keyring {
        let env = |name: &str| match name {
            "PG_SEAL_KEY" => Some("ab".repeat(32)),
            "PG_HASH_KEY" => Some("a hash key of at least thirty-two bytes".to_owned()),
            _ => None,
        };
        Keyring::from_env(&KeyNames::default(), &env).unwrap()
    }

    fn mapping(original: String) -> Mapping {
        Mapping {
            policy: "default".into(),
            entries: vec![MappingEntry { label: "SECRET".into(), stand: Stand::Placeholder(1), original }],
        }
    }

    fn listed(data: &Memory) -> Vec<Listed> {
        decode_index(&data.get(INDEX_KEY).unwrap().unwrap().0).unwrap()
    }

    #[test]
    fn the_oldest_records_go_beyond_the_byte_bound() {
        let (data, keys) = (Memory::default(), ring());
        let store = MappingStore { data: &data, keys: &keys, max_mappings: 100, max_stored_bytes: 10_000 };
        for i in 0u8..6 {
            store.save(&[i; 16], &mapping("x".repeat(3000)), 500, None, 100).unwrap();
        }
        // Each record is a little over 3000 bytes: three fit in 10000, the three oldest went.
        let kept = listed(&data);
        assert_eq!(kept.len(), 3);
        assert!(kept.iter().map(|e| u64::from(e.2)).sum::<u64>() <= 10_000);
        for i in 0u8..6 {
            let found = store.load(&[i; 16], None, 100);
            assert_eq!(found.is_ok(), i >= 3, "record {i}: {found:?}");
        }
        // Expired records are dropped by the next save.
        store.save(&[9; 16], &mapping("y".into()), 900, None, 600).unwrap();
        assert_eq!(listed(&data).len(), 1);
    }

    #[test]
    fn a_sweep_clears_expired_records_only_and_a_batch_at_a_time() {
        let (data, keys) = (Memory::default(), ring());
        let store = MappingStore { data: &data, keys: &keys, max_mappings: 1000, max_stored_bytes: 1 << 30 };
        assert_eq!(store.sweep(100).unwrap(), 0, "no index yet");
        let expiring = SWEEP_BATCH + 3;
        for i in 0..expiring {
            let name = [u8::try_from(i).unwrap(); 16];
            store.save(&name, &mapping("old".into()), 200, None, 100).unwrap();
        }
        store.save(&[0xff; 16], &mapping("new".into()), 900, None, 100).unwrap();
        assert_eq!(store.sweep(150).unwrap(), 0, "nothing expired yet");
        assert_eq!(store.sweep(200).unwrap(), SWEEP_BATCH, "one batch");
        assert_eq!(store.sweep(200).unwrap(), 3, "the rest on the next sweep");
        assert_eq!(store.sweep(200).unwrap(), 0);
        // Only the live record is listed and stored; every expired record is emptied.
        assert_eq!(listed(&data).len(), 1);
        let stored = data.0.borrow().iter().filter(|(k, v)| k.starts_with(RECORD_PREFIX) && !v.0.is_empty()).count();
        assert_eq!(stored, 1);
        assert!(store.load(&[0xff; 16], None, 200).is_ok());
        assert_eq!(
            store.load(&[0; 16], None, 100).unwrap_err(),
            StoredRefusal::Mapping(MappingRefusal::NotFound),
            "a swept record is gone"
        );
    }

    #[test]
    fn a_record_over_the_largest_is_refused() {
        let (data, keys) = (Memory::default(), ring());
        let store = MappingStore { data: &data, keys: &keys, max_mappings: 100, max_stored_bytes: 1 << 30 };
        let big = mapping("z".repeat(MAX_RECORD_BYTES));
        assert_eq!(store.save(&[1; 16], &big, 500, None, 100), Err(SaveFailure::TooLarge));
        assert!(data.0.borrow().is_empty());
    }
}
