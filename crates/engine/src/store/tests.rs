//! Store tests against a stateful fake of Envoy shared data (same CAS semantics: every write
//! gets a new non-zero token; a write with a stale token fails with `CasMismatch`).
//! All identities and values here were written for this project.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::*;
use crate::keys::{HashKey, SealKey};
use crate::vault::Vault;

const SEAL_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SEAL_B: &str = "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff";
const HASH_A: &str = "store test hash key A, 32 bytes or more";
const HASH_B: &str = "store test hash key B, 32 bytes or more";

fn ring(seal: &str, seal_previous: Option<&str>, hash: &str, hash_previous: Option<&str>) -> Keyring {
    Keyring::new(
        SealKey::from_hex(seal),
        seal_previous.and_then(SealKey::from_hex),
        HashKey::new(hash.as_bytes()),
        hash_previous.and_then(|h| HashKey::new(h.as_bytes())),
    )
}

/// The keyring of these tests: seal key A, hash key A, no previous keys.
fn keys() -> &'static Keyring {
    static KEYS: std::sync::OnceLock<Keyring> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| ring(SEAL_A, None, HASH_A, None))
}

#[derive(Default)]
struct FakeSharedData {
    values: RefCell<HashMap<String, (Vec<u8>, u32)>>,
    next_cas: Cell<u32>,
    /// Fail this many conditional writes with `CasMismatch` without changing anything.
    forced_mismatches: Cell<u32>,
    /// Another VM's write, applied just before the next conditional write to that key.
    interleaved: RefCell<Option<(String, Vec<u8>)>>,
    sets: Cell<u32>,
}

impl FakeSharedData {
    fn write(&self, key: &str, value: &[u8]) {
        let cas = self.next_cas.get() + 1;
        self.next_cas.set(cas);
        self.values.borrow_mut().insert(key.to_owned(), (value.to_vec(), cas));
    }
    fn raw(&self, key: &str) -> Option<Vec<u8>> {
        self.values.borrow().get(key).map(|(v, _)| v.clone())
    }
}

impl SharedData for FakeSharedData {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        Ok(self.values.borrow().get(key).cloned())
    }
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
        self.sets.set(self.sets.get() + 1);
        if cas.is_some() {
            let pending = self.interleaved.borrow_mut().take_if(|(k, _)| k == key);
            if let Some((k, v)) = pending {
                self.write(&k, &v);
            }
            if self.forced_mismatches.get() > 0 {
                self.forced_mismatches.set(self.forced_mismatches.get() - 1);
                return Err(StoreError::CasMismatch);
            }
        }
        let current = self.values.borrow().get(key).map(|(_, c)| *c);
        if let (Some(want), Some(have)) = (cas, current) {
            if want != have {
                return Err(StoreError::CasMismatch);
            }
        }
        self.write(key, value);
        Ok(())
    }
}

fn settings() -> SessionSettings {
    SessionSettings { ttl_seconds: 600, max_entries: 100, max_sessions: 10 }
}

fn g() -> PlaceholderGrammar {
    PlaceholderGrammar::default()
}

/// One exchange of a session: load, mask `values` (label, original), save. Returns the placeholders.
fn exchange(data: &FakeSharedData, s: &SessionSettings, who: &str, now: u64, values: &[(&str, &str)]) -> Vec<String> {
    let store = SessionStore::new(data, s, keys());
    let mut vault = Vault::with_capacity(1000);
    store.load_into(who, now, &g(), &mut vault).unwrap();
    let out = values.iter().map(|(l, o)| vault.placeholder_for(&g(), l, o).unwrap().to_owned()).collect();
    store.save(who, now, &vault).unwrap();
    out
}

fn session_key_of(who: &str) -> String {
    key::session_key(hash_of(who))
}

fn hash_of(who: &str) -> u64 {
    key::session_hash(keys(), who).unwrap()
}

#[test]
fn round_trip_same_value_same_placeholder_across_exchanges() {
    let data = FakeSharedData::default();
    let s = settings();
    let first = exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com"), ("PHONE", "+4915112345678")]);
    assert_eq!(first, ["[EMAIL_1]", "[PHONE_1]"]);
    // A later exchange sends only the new message: the old value keeps its placeholder, new ones continue.
    let second = exchange(&data, &s, "user-1", 200, &[("EMAIL", "bob@example.com"), ("EMAIL", "ann@example.com")]);
    assert_eq!(second, ["[EMAIL_2]", "[EMAIL_1]"]);
    // A third exchange can restore placeholders issued in both earlier ones.
    let mut vault = Vault::with_capacity(10);
    let store = SessionStore::new(&data, &s, keys());
    assert_eq!(store.load_into("user-1", 300, &g(), &mut vault).unwrap(), 3);
    assert_eq!(vault.lookup("[PHONE_1]").unwrap().original, "+4915112345678");
    assert_eq!(vault.lookup("[EMAIL_2]").unwrap().original, "bob@example.com");
}

#[test]
fn sessions_are_scoped_by_identity_and_keys_hide_it() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com")]);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(SessionStore::new(&data, &s, keys()).load_into("user-2", 100, &g(), &mut vault).unwrap(), 0);
    assert!(vault.lookup("[EMAIL_1]").is_none());
    for (k, v) in data.values.borrow().iter() {
        assert!(!k.contains("user-1"));
        assert!(k == INDEX_KEY || k.starts_with("prompt_guard/v2/session/"));
        assert!(!String::from_utf8_lossy(&v.0).contains("user-1"));
    }
}

#[test]
fn foreign_record_under_the_same_key_does_not_open() {
    // Simulates a key hash collision: the record was sealed for someone else.
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com")]);
    let bytes = data.raw(&session_key_of("user-1")).unwrap();
    data.write(&session_key_of("user-2"), &bytes);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(
        SessionStore::new(&data, &s, keys()).load_into("user-2", 100, &g(), &mut vault),
        Err(StoreError::Unopened { reason: OpenError::Tampered })
    );
    assert!(vault.is_empty());
    // user-2's next save replaces it with a record of its own.
    let store = SessionStore::new(&data, &s, keys());
    assert_eq!(vault.placeholder_for(&g(), "EMAIL", "bob@example.com").unwrap(), "[EMAIL_1]");
    store.save("user-2", 110, &vault).unwrap();
    let mut vault = Vault::with_capacity(10);
    assert_eq!(store.load_into("user-2", 120, &g(), &mut vault).unwrap(), 1);
    assert_eq!(vault.lookup("[EMAIL_1]").unwrap().original, "bob@example.com");
}

#[test]
fn expired_record_counts_as_empty_and_is_replaced() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com")]);
    let later = 100 + s.ttl_seconds;
    let mut vault = Vault::with_capacity(10);
    assert_eq!(SessionStore::new(&data, &s, keys()).load_into("user-1", later, &g(), &mut vault).unwrap(), 0);
    assert_eq!(exchange(&data, &s, "user-1", later, &[("EMAIL", "bob@example.com")]), ["[EMAIL_1]"]);
    let mut vault = Vault::with_capacity(10);
    SessionStore::new(&data, &s, keys()).load_into("user-1", later + 1, &g(), &mut vault).unwrap();
    assert_eq!(vault.lookup("[EMAIL_1]").unwrap().original, "bob@example.com");
    assert_eq!(vault.len(), 1);
}

#[test]
fn concurrent_writer_is_merged_after_cas_mismatch() {
    let s = settings();
    // Both exchanges loaded the same record ([EMAIL_1] = ann), then each issued [EMAIL_2]:
    // one for bob, one for carol. Each also issued a distinct phone.
    let data = FakeSharedData::default();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com")]);
    let base = data.raw(&session_key_of("user-1")).unwrap();

    let other = FakeSharedData::default();
    other.write(&session_key_of("user-1"), &base);
    exchange(&other, &s, "user-1", 150, &[("EMAIL", "bob@example.com"), ("PHONE", "+15551230001")]);
    let others_record = other.raw(&session_key_of("user-1")).unwrap();

    let store = SessionStore::new(&data, &s, keys());
    let mut vault = Vault::with_capacity(10);
    store.load_into("user-1", 160, &g(), &mut vault).unwrap();
    vault.placeholder_for(&g(), "EMAIL", "carol@example.com").unwrap();
    vault.placeholder_for(&g(), "IBAN", "DE89370400440532013000").unwrap();
    *data.interleaved.borrow_mut() = Some((session_key_of("user-1"), others_record));
    store.save("user-1", 160, &vault).unwrap();

    let mut merged = Vault::with_capacity(10);
    store.load_into("user-1", 170, &g(), &mut merged).unwrap();
    assert_eq!(merged.lookup("[EMAIL_1]").unwrap().original, "ann@example.com");
    assert_eq!(merged.lookup("[PHONE_1]").unwrap().original, "+15551230001");
    assert_eq!(merged.lookup("[IBAN_1]").unwrap().original, "DE89370400440532013000");
    // [EMAIL_2] meant bob in one exchange and carol in the other: restored for neither,
    // and never issued again.
    assert!(merged.lookup("[EMAIL_2]").is_none());
    assert_eq!(merged.placeholder_for(&g(), "EMAIL", "dan@example.com").unwrap(), "[EMAIL_3]");
}

#[test]
fn forced_cas_mismatch_is_retried_then_gives_up() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com")]);
    let store = SessionStore::new(&data, &s, keys());
    let mut vault = Vault::with_capacity(10);
    store.load_into("user-1", 110, &g(), &mut vault).unwrap();
    vault.placeholder_for(&g(), "EMAIL", "bob@example.com").unwrap();
    data.forced_mismatches.set(1);
    store.save("user-1", 110, &vault).unwrap();
    let mut check = Vault::with_capacity(10);
    assert_eq!(store.load_into("user-1", 120, &g(), &mut check).unwrap(), 2);

    data.forced_mismatches.set(MAX_ATTEMPTS);
    assert_eq!(
        store.save("user-1", 130, &vault),
        Err(StoreError::Contended { key_hint: "session", attempts: MAX_ATTEMPTS })
    );
}

#[test]
fn entries_beyond_max_entries_are_not_stored_oldest_kept_numbers_not_reused() {
    let data = FakeSharedData::default();
    let s = SessionSettings { max_entries: 2, ..settings() };
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com"), ("EMAIL", "b@example.com")]);
    let third = exchange(&data, &s, "user-1", 110, &[("EMAIL", "c@example.com")]);
    assert_eq!(third, ["[EMAIL_3]"]);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(SessionStore::new(&data, &s, keys()).load_into("user-1", 120, &g(), &mut vault).unwrap(), 2);
    assert_eq!(vault.lookup("[EMAIL_1]").unwrap().original, "a@example.com");
    assert!(vault.lookup("[EMAIL_3]").is_none());
    // [EMAIL_3] was issued and may still be mentioned by a reply: it is never given to another value.
    assert_eq!(vault.placeholder_for(&g(), "EMAIL", "d@example.com").unwrap(), "[EMAIL_4]");
}

#[test]
fn preload_beyond_vault_capacity_is_reported() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com"), ("EMAIL", "b@example.com")]);
    let mut vault = Vault::with_capacity(1);
    assert_eq!(
        SessionStore::new(&data, &s, keys()).load_into("user-1", 110, &g(), &mut vault),
        Err(StoreError::VaultFull { capacity: 1 })
    );
}

#[test]
fn max_sessions_evicts_the_soonest_expiring_session() {
    let data = FakeSharedData::default();
    let s = SessionSettings { max_sessions: 2, ..settings() };
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com")]);
    exchange(&data, &s, "user-2", 200, &[("EMAIL", "b@example.com")]);
    // Refreshed more than half a TTL after it was listed, so the index learns: user-2 now expires first.
    exchange(&data, &s, "user-1", 401, &[("EMAIL", "a@example.com")]);
    exchange(&data, &s, "user-3", 450, &[("EMAIL", "c@example.com")]);
    let index = SessionIndex::decode(&data.raw(INDEX_KEY).unwrap()).unwrap();
    assert_eq!(index.sessions.len(), 2);
    assert_eq!(data.raw(&session_key_of("user-2")).unwrap(), Vec::<u8>::new());
    let store = SessionStore::new(&data, &s, keys());
    for (who, expect) in [("user-1", 1), ("user-2", 0), ("user-3", 1)] {
        let mut vault = Vault::with_capacity(10);
        assert_eq!(store.load_into(who, 460, &g(), &mut vault).unwrap(), expect, "{who}");
    }
}

#[test]
fn index_is_rewritten_only_when_its_expiry_falls_half_a_ttl_behind() {
    let data = FakeSharedData::default();
    let s = settings();
    let index_writes = || data.values.borrow().get(INDEX_KEY).map_or(0, |(_, cas)| *cas);
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com")]);
    let first = index_writes();
    exchange(&data, &s, "user-1", 200, &[("EMAIL", "b@example.com")]);
    exchange(&data, &s, "user-1", 400, &[("EMAIL", "c@example.com")]);
    assert_eq!(index_writes(), first);
    exchange(&data, &s, "user-1", 401, &[("EMAIL", "d@example.com")]);
    assert_ne!(index_writes(), first);
    let index = SessionIndex::decode(&data.raw(INDEX_KEY).unwrap()).unwrap();
    assert_eq!(index.sessions, [(hash_of("user-1"), 1001)]);
    // An unlisted refresh is not swept: the record's own expiry is checked and the index corrected.
    exchange(&data, &s, "user-1", 1000, &[("EMAIL", "e@example.com")]);
    let store = SessionStore::new(&data, &s, keys());
    assert_eq!(store.sweep(1100).unwrap(), 0);
    let index = SessionIndex::decode(&data.raw(INDEX_KEY).unwrap()).unwrap();
    assert_eq!(index.sessions, [(hash_of("user-1"), 1600)]);
}

#[test]
fn exchange_without_sensitive_values_creates_no_session_but_refreshes_one() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[]);
    assert!(data.values.borrow().is_empty());
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com")]);
    exchange(&data, &s, "user-1", 650, &[]);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(SessionStore::new(&data, &s, keys()).load_into("user-1", 1000, &g(), &mut vault).unwrap(), 1);
}

#[test]
fn zero_max_sessions_disables_saving() {
    let data = FakeSharedData::default();
    let s = SessionSettings { max_sessions: 0, ..settings() };
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com")]);
    assert!(data.values.borrow().is_empty());
}

#[test]
fn sweep_clears_expired_sessions_only() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com")]);
    exchange(&data, &s, "user-2", 500, &[("EMAIL", "b@example.com")]);
    let store = SessionStore::new(&data, &s, keys());
    assert_eq!(store.sweep(650).unwrap(), 0);
    assert_eq!(store.sweep(700).unwrap(), 1);
    assert_eq!(data.raw(&session_key_of("user-1")).unwrap(), Vec::<u8>::new());
    assert!(!data.raw(&session_key_of("user-2")).unwrap().is_empty());
    let index = SessionIndex::decode(&data.raw(INDEX_KEY).unwrap()).unwrap();
    assert_eq!(index.sessions, [(hash_of("user-2"), 1100)]);
    assert_eq!(store.sweep(700).unwrap(), 0);
    // A cleared session starts afresh.
    assert_eq!(exchange(&data, &s, "user-1", 800, &[("PHONE", "+15551230001")]), ["[PHONE_1]"]);
}

#[test]
fn sweep_keeps_a_session_saved_again_after_its_index_entry() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com")]);
    // The record was refreshed but the index still lists the old expiry (its update was lost).
    let stale_index = data.raw(INDEX_KEY).unwrap();
    exchange(&data, &s, "user-1", 650, &[("EMAIL", "a@example.com")]);
    data.write(INDEX_KEY, &stale_index);
    let store = SessionStore::new(&data, &s, keys());
    assert_eq!(store.sweep(700).unwrap(), 0);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(store.load_into("user-1", 700, &g(), &mut vault).unwrap(), 1);
    let index = SessionIndex::decode(&data.raw(INDEX_KEY).unwrap()).unwrap();
    assert_eq!(index.sessions, [(hash_of("user-1"), 1250)]);
}

#[test]
fn sweep_work_is_bounded_per_call() {
    let data = FakeSharedData::default();
    let s = SessionSettings { max_sessions: 1000, ..settings() };
    for i in 0..(SWEEP_BATCH + 6) {
        exchange(&data, &s, &format!("user-{i}"), 100, &[("EMAIL", "a@example.com")]);
    }
    let store = SessionStore::new(&data, &s, keys());
    assert_eq!(store.sweep(10_000).unwrap(), SWEEP_BATCH);
    assert_eq!(store.sweep(10_000).unwrap(), 6);
    assert_eq!(store.sweep(10_000).unwrap(), 0);
}

#[test]
fn corrupt_record_is_reported_on_load_and_replaced_on_save() {
    let data = FakeSharedData::default();
    let s = settings();
    let store = SessionStore::new(&data, &s, keys());
    let mut vault = Vault::with_capacity(10);
    data.write(&session_key_of("user-1"), b"\x01gar");
    assert_eq!(store.load_into("user-1", 100, &g(), &mut vault), Err(StoreError::Corrupt { key_hint: "session" }));
    data.write(&session_key_of("user-1"), b"\x01garbage, not sealed");
    assert_eq!(
        store.load_into("user-1", 100, &g(), &mut vault),
        Err(StoreError::Unopened { reason: OpenError::Malformed })
    );
    assert!(vault.is_empty());
    vault.placeholder_for(&g(), "EMAIL", "a@example.com").unwrap();
    store.save("user-1", 100, &vault).unwrap();
    let mut again = Vault::with_capacity(10);
    assert_eq!(store.load_into("user-1", 110, &g(), &mut again).unwrap(), 1);
}

#[test]
fn corrupt_index_is_reported_by_sweep_and_reset() {
    let data = FakeSharedData::default();
    let s = settings();
    data.write(INDEX_KEY, b"\x01\xff\xff\xff\xff");
    let store = SessionStore::new(&data, &s, keys());
    assert_eq!(store.sweep(100), Err(StoreError::Corrupt { key_hint: "index" }));
    assert_eq!(store.sweep(100), Ok(0));
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "a@example.com")]);
    assert_eq!(store.sweep(10_000), Ok(1));
}

#[test]
fn host_errors_pass_through() {
    struct Refusing;
    impl SharedData for Refusing {
        fn get(&self, _: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
            Ok(None)
        }
        fn set(&self, _: &str, _: &[u8], _: Option<u32>) -> Result<(), StoreError> {
            Err(StoreError::Host { status: 2 })
        }
    }
    let s = settings();
    let mut vault = Vault::with_capacity(1);
    vault.placeholder_for(&g(), "EMAIL", "a@example.com").unwrap();
    assert_eq!(SessionStore::new(&Refusing, &s, keys()).save("user-1", 1, &vault), Err(StoreError::Host { status: 2 }));
    assert_eq!(StoreError::Host { status: 2 }.to_string(), "shared data call failed with host status 2");
}

mod hostile_bytes {
    use super::super::codec::Malformed;
    use super::super::record::{SessionRecord, MAX_RECORD_BYTES};
    use super::*;
    use proptest::prelude::*;

    fn sample() -> SessionRecord {
        let mut vault = Vault::with_capacity(10);
        vault.placeholder_for(&g(), "EMAIL", "ann@example.com").unwrap();
        vault.placeholder_for(&g(), "SECRET", "p\"w\\d ü").unwrap();
        let mut r = SessionRecord::empty();
        r.expiry = 99;
        r.absorb(&vault, 10);
        r
    }

    #[test]
    fn record_round_trips() {
        let r = sample();
        assert_eq!(SessionRecord::decode(&r.encode()), Ok(r));
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_refused() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert_eq!(SessionRecord::decode(&bytes[..n]), Err(Malformed), "{n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(SessionRecord::decode(&longer), Err(Malformed));
    }

    #[test]
    fn huge_counts_and_lengths_are_refused_without_allocating() {
        // version, expiry, listed expiry, no labels, then an entry count of u32::MAX with no entries.
        let mut b = vec![2u8];
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(SessionRecord::decode(&b), Err(Malformed));
        // One mapping whose original claims u32::MAX bytes.
        let mut b = vec![2u8];
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&[0, 5]);
        b.extend_from_slice(b"EMAIL");
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(SessionRecord::decode(&b), Err(Malformed));
        assert_eq!(SessionRecord::decode(&vec![1u8; MAX_RECORD_BYTES + 1]), Err(Malformed));
        assert_eq!(SessionIndex::decode(&[1, 0xff, 0xff, 0xff, 0xff]), Err(Malformed));
    }

    #[test]
    fn impossible_labels_and_numbers_are_refused() {
        let bytes = sample().encode();
        let text_at = |needle: &[u8]| bytes.windows(needle.len()).position(|w| w == needle).unwrap();
        let mut lower = bytes.clone();
        let at = text_at(b"EMAIL");
        lower[at] = b'e';
        assert_eq!(SessionRecord::decode(&lower), Err(Malformed));
        // The plain records of version 1 are never read.
        let mut version = bytes.clone();
        version[0] = 1;
        assert_eq!(SessionRecord::decode(&version), Err(Malformed));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SessionRecord::decode(&bytes);
            let _ = SessionIndex::decode(&bytes);
        }

        #[test]
        fn mutated_records_never_panic_and_never_load(at in 0usize..200, byte in any::<u8>()) {
            let data = FakeSharedData::default();
            let s = settings();
            exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com"), ("SECRET", "p\"w\\d ü")]);
            let stored = data.raw(&session_key_of("user-1")).unwrap();
            let mut bytes = stored.clone();
            if let Some(b) = bytes.get_mut(at) {
                *b = byte;
            }
            data.write(&session_key_of("user-1"), &bytes);
            let mut vault = Vault::with_capacity(10);
            match SessionStore::new(&data, &s, keys()).load_into("user-1", 200, &g(), &mut vault) {
                // Unchanged, or an expiry moved into the past (expired records are not opened).
                Ok(n) => prop_assert!((bytes == stored && n == 2) || n == 0),
                Err(e) => prop_assert!(matches!(e, StoreError::Unopened { .. }), "{e:?}"),
            }
        }
    }
}

/// What shared data holds after exchanges with planted values: every key and value, as Envoy's
/// shared data would hold them (the same bytes the wasm build writes through `EnvoySharedData`).
fn dump(data: &FakeSharedData) -> Vec<u8> {
    let mut all = Vec::new();
    for (k, (v, _)) in data.values.borrow().iter() {
        all.extend_from_slice(k.as_bytes());
        all.push(0);
        all.extend_from_slice(v);
        all.push(0);
    }
    all
}

/// `needle` in the spellings a leak could take: as written, JSON-escaped, base64 (standard and
/// URL-safe, at each of the three alignments), hex.
fn spellings(needle: &str) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let mut out = vec![needle.as_bytes().to_vec(), serde_json::to_string(needle).unwrap().into_bytes()];
    for skip in 0..3 {
        // The part of the encoding that does not depend on the bytes around the needle.
        let padded = [vec![0u8; skip], needle.as_bytes().to_vec()].concat();
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            let text = engine.encode(&padded);
            let start = (skip * 4).div_ceil(3) + 1;
            if let Some(core) = text.get(start..text.len().saturating_sub(2)) {
                if core.len() >= 8 {
                    out.push(core.as_bytes().to_vec());
                }
            }
        }
    }
    out.push(needle.bytes().map(|b| format!("{b:02x}")).collect::<String>().into_bytes());
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn shared_data_holds_no_original_identity_or_placeholder() {
    let data = FakeSharedData::default();
    let s = settings();
    let who = "alice.mueller@corp.example";
    let values =
        [("EMAIL", "jonas.keller@posteo.de"), ("IBAN", "DE89370400440532013000"), ("SECRET", "hunter2-Sup3r-s3cret")];
    let placeholders = exchange(&data, &s, who, 100, &values);
    exchange(&data, &s, who, 200, &[("PHONE", "+4915112345678")]);
    let all = dump(&data);
    assert!(!all.is_empty());
    let mut needles: Vec<&str> = values.iter().map(|(_, v)| *v).collect();
    needles.extend(["+4915112345678", who, "alice.mueller", "EMAIL_1", "IBAN_1", "SECRET_1", "PHONE_1"]);
    needles.extend(placeholders.iter().map(String::as_str));
    for needle in needles {
        for form in spellings(needle) {
            assert!(!contains(&all, &form), "{needle} is in shared data as {}", String::from_utf8_lossy(&form));
        }
    }
    // The labels are sealed too: nothing says what kinds of values a session holds.
    for label in ["EMAIL", "IBAN", "SECRET", "PHONE"] {
        assert!(!contains(&all, label.as_bytes()), "{label}");
    }
    // And the values do load back.
    let mut vault = Vault::with_capacity(10);
    assert_eq!(SessionStore::new(&data, &s, keys()).load_into(who, 300, &g(), &mut vault).unwrap(), 4);
}

#[test]
fn records_sealed_under_a_rotated_seal_key_open_with_it_as_previous_only() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com")]);
    // Rotated: B is current, A previous. The record opens and the next save seals it under B.
    let rotated = ring(SEAL_B, Some(SEAL_A), HASH_A, None);
    let store = SessionStore::new(&data, &s, &rotated);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(store.load_into("user-1", 110, &g(), &mut vault).unwrap(), 1);
    assert_eq!(vault.lookup("[EMAIL_1]").unwrap().original, "ann@example.com");
    // Without A the old record is under an unknown key: absent, and replaced on save.
    let only_b = ring(SEAL_B, None, HASH_A, None);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(
        SessionStore::new(&data, &s, &only_b).load_into("user-1", 110, &g(), &mut vault),
        Err(StoreError::Unopened { reason: OpenError::UnknownKey })
    );
    // A save under the rotated keyring re-seals the record under B: B alone then reads it.
    let mut vault = Vault::with_capacity(10);
    store.load_into("user-1", 120, &g(), &mut vault).unwrap();
    vault.placeholder_for(&g(), "PHONE", "+15551230001").unwrap();
    store.save("user-1", 120, &vault).unwrap();
    let mut vault = Vault::with_capacity(10);
    assert_eq!(SessionStore::new(&data, &s, &only_b).load_into("user-1", 130, &g(), &mut vault).unwrap(), 2);
    // And A alone no longer does.
    assert_eq!(
        SessionStore::new(&data, &s, keys()).load_into("user-1", 130, &g(), &mut vault),
        Err(StoreError::Unopened { reason: OpenError::UnknownKey })
    );
}

#[test]
fn records_named_under_a_rotated_hash_key_are_found_with_it_as_previous() {
    let data = FakeSharedData::default();
    let s = settings();
    exchange(&data, &s, "user-1", 100, &[("EMAIL", "ann@example.com")]);
    let rotated = ring(SEAL_A, None, HASH_B, Some(HASH_A));
    let store = SessionStore::new(&data, &s, &rotated);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(store.load_into("user-1", 110, &g(), &mut vault).unwrap(), 1);
    vault.placeholder_for(&g(), "EMAIL", "bob@example.com").unwrap();
    store.save("user-1", 110, &vault).unwrap();
    // Saved under the new name: the new hash key alone finds both mappings.
    let only_b = ring(SEAL_A, None, HASH_B, None);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(SessionStore::new(&data, &s, &only_b).load_into("user-1", 120, &g(), &mut vault).unwrap(), 2);
    // Without the previous hash key a session saved only under the old name is not found.
    let old = FakeSharedData::default();
    exchange(&old, &s, "user-1", 100, &[("EMAIL", "ann@example.com")]);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(SessionStore::new(&old, &s, &only_b).load_into("user-1", 110, &g(), &mut vault).unwrap(), 0);
}

#[test]
fn a_keyring_without_keys_stores_nothing() {
    let data = FakeSharedData::default();
    let s = settings();
    let none = Keyring::default();
    let store = SessionStore::new(&data, &s, &none);
    let mut vault = Vault::with_capacity(10);
    assert_eq!(store.load_into("user-1", 100, &g(), &mut vault), Err(StoreError::MissingKey));
    vault.placeholder_for(&g(), "EMAIL", "a@example.com").unwrap();
    assert_eq!(store.save("user-1", 100, &vault), Err(StoreError::MissingKey));
    let hash_only = ring("", None, HASH_A, None);
    assert_eq!(SessionStore::new(&data, &s, &hash_only).save("user-1", 100, &vault), Err(StoreError::MissingKey));
    assert!(data.values.borrow().is_empty());
}
