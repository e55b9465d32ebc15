//! Where placeholder mappings live beyond one exchange: Envoy shared data, reached only through
//! the [`SharedData`] trait: this module never names the host SDK.
//!
//! Stateful APIs (OpenAI Responses with `previous_response_id`, `conversation`) do not resend
//! history, so a later reply may mention a placeholder issued in an earlier exchange, and a later
//! request must give a value the placeholder it had before. A session, keyed by a hash of a
//! trusted identity, keeps those mappings: [`SessionStore::load_into`] before masking,
//! [`SessionStore::save`] after, [`SessionStore::sweep`] from the periodic tick.
//!
//! Nothing in shared data is readable without the keyring: a record's name is a keyed hash of the
//! identity (`key.rs`), and the record itself is sealed with the identity as associated data
//! (`sealed.rs`). The index holds only those keyed hashes and expiry times. A record that does not
//! open (written under a key that was rotated out, tampered with, or another identity's) is
//! treated as absent: [`StoreError::Unopened`] from `load_into`, replaced by `save`.
//!
//! Every Envoy worker runs its own VM; shared data is common to all VMs of the plugin in one
//! Envoy process. Writers never lose each other's updates: each write carries the CAS token of
//! the value it was merged with and is retried after a mismatch. The one exception is the very
//! first write of a key (there is no token yet): two exchanges creating the same session at the
//! same instant can lose one's mappings, which only means those values get new numbers later.

pub(crate) mod codec;
mod index;
mod key;
mod record;
mod sealed;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::keys::{Keyring, OpenError};
use crate::placeholder::PlaceholderGrammar;
use crate::vault::Vault;
use index::SessionIndex;
pub use key::INDEX_KEY;
use record::SessionRecord;

/// The host's key-value store shared by the plugin's VMs, with compare-and-swap.
pub trait SharedData {
    /// Value and its CAS token, or None when the key is absent.
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError>;
    /// Set with compare-and-swap: `cas` = the token from `get` (None = unconditional / create).
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError>;
}

/// Why the store could not do its work. Never carries identities or originals, so it can be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The value changed since it was read (another VM wrote it).
    CasMismatch,
    /// The host refused the call with this proxy-wasm status.
    Host { status: u32 },
    /// Stored bytes could not be decoded; `key_hint` says which kind of key ("session", "index").
    Corrupt { key_hint: &'static str },
    /// Other writers kept changing the key; gave up after this many attempts.
    Contended { key_hint: &'static str, attempts: u32 },
    /// The session holds more mappings than the vault may hold (`max_entries` above the vault's
    /// capacity); the mappings loaded so far stay in the vault.
    VaultFull { capacity: usize },
    /// A stored record did not open and was treated as absent.
    Unopened { reason: OpenError },
    /// The keyring holds no seal or hash key (the configuration requires both for sessions).
    MissingKey,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::CasMismatch => f.write_str("shared data changed since it was read"),
            StoreError::Host { status } => write!(f, "shared data call failed with host status {status}"),
            StoreError::Corrupt { key_hint } => write!(f, "stored {key_hint} data is corrupt"),
            StoreError::Contended { key_hint, attempts } => {
                write!(f, "{key_hint} data kept changing; gave up after {attempts} attempts")
            }
            StoreError::VaultFull { capacity } => {
                write!(f, "session holds more mappings than the vault's capacity of {capacity}")
            }
            StoreError::Unopened { reason } => write!(f, "stored session did not open ({reason}); treated as absent"),
            StoreError::MissingKey => f.write_str("no seal or hash key is configured for sessions"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Limits of the session store (from the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    /// A session is forgotten this long after its last saved exchange.
    pub ttl_seconds: u64,
    /// Mappings kept per session; beyond it the oldest are kept (see `SessionRecord::absorb`).
    pub max_entries: usize,
    /// Sessions kept in the process; beyond it the one listed as expiring soonest is cleared (a
    /// listed expiry lags the real one by at most half a TTL). 0 disables saving.
    pub max_sessions: usize,
}

/// Writes retried after a CAS mismatch before giving up: enough for a few workers writing the
/// same key at once, bounded so a request never spins.
pub const MAX_ATTEMPTS: u32 = 4;
/// Records cleared by one sweep, so one tick does bounded work.
pub const SWEEP_BATCH: usize = 64;

pub struct SessionStore<'a, S: SharedData> {
    data: &'a S,
    settings: &'a SessionSettings,
    keys: &'a Keyring,
}

impl<'a, S: SharedData> SessionStore<'a, S> {
    pub fn new(data: &'a S, settings: &'a SessionSettings, keys: &'a Keyring) -> Self {
        SessionStore { data, settings, keys }
    }

    /// The session's live record, or None when it is absent, cleared or expired (an expired
    /// record is not opened). `Unopened` when it is another identity's or under a key no longer held.
    fn live_record(&self, bytes: &[u8], identity: &str, now_secs: u64) -> Result<Option<SessionRecord>, StoreError> {
        if bytes.is_empty() || sealed::stored_expiry(bytes).is_some_and(|e| e <= now_secs) {
            return Ok(None);
        }
        sealed::open(self.keys, identity, bytes).map(Some)
    }

    /// The stored bytes of `identity`'s session: under its current name, or, after a rotation of
    /// the hash key, under the name the previous key gave it (`save` then moves it).
    fn find(&self, identity: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let current = key::session_hash(self.keys, identity).map_err(|_| StoreError::MissingKey)?;
        let found = self.data.get(&key::session_key(current))?.map(|(b, _)| b).filter(|b| !b.is_empty());
        match (found, key::previous_session_hash(self.keys, identity)) {
            (None, Some(previous)) if previous != current => {
                Ok(self.data.get(&key::session_key(previous))?.map(|(b, _)| b).filter(|b| !b.is_empty()))
            }
            (found, _) => Ok(found),
        }
    }

    /// Put the session's earlier mappings into a fresh vault before masking, so the same value gets the
    /// same placeholder and numbering continues. Expired records count as empty.
    ///
    /// Call it before `Vault::reserve_existing` and masking. Returns how many mappings were
    /// loaded. A placeholder the user typed that the session issued earlier keeps the session's
    /// meaning (it can only ever restore this identity's own value).
    pub fn load_into(
        &self,
        identity: &str,
        now_secs: u64,
        grammar: &PlaceholderGrammar,
        vault: &mut Vault,
    ) -> Result<usize, StoreError> {
        let Some(bytes) = self.find(identity)? else {
            return Ok(0);
        };
        let Some(record) = self.live_record(&bytes, identity, now_secs)? else {
            return Ok(0);
        };
        for (label, n) in &record.counters {
            vault.continue_numbering_after(label, *n);
        }
        let mut loaded = 0;
        for entry in &record.entries {
            match &entry.original {
                Some(original) => {
                    let added = vault
                        .preload(grammar, &entry.label, entry.number, original)
                        .map_err(|full| StoreError::VaultFull { capacity: full.capacity })?;
                    loaded += usize::from(added);
                }
                None => vault.continue_numbering_after(&entry.label, entry.number),
            }
        }
        Ok(loaded)
    }

    /// After masking: store the vault's entries for the session (merge with concurrent writers by CAS retry, a
    /// bounded number of times; entries beyond max_entries are not stored — oldest kept), refresh the expiry,
    /// and register the session in an index so sweep() can find it.
    ///
    /// An empty vault creates no session; it only refreshes an existing one. A corrupt, expired
    /// or unopenable record under the key is replaced by a fresh one. The record is sealed for
    /// `identity` under the current seal key. The index
    /// (one key read and written whole) is only rewritten when the session is new or its listed
    /// expiry is more than half a TTL behind, so a busy session costs one record read and write
    /// per exchange; `sweep` corrects listed expiries that fell behind.
    pub fn save(&self, identity: &str, now_secs: u64, vault: &Vault) -> Result<(), StoreError> {
        if self.settings.max_sessions == 0 {
            return Ok(());
        }
        let hash = key::session_hash(self.keys, identity).map_err(|_| StoreError::MissingKey)?;
        let key = key::session_key(hash);
        let ttl = self.settings.ttl_seconds;
        let expiry = now_secs.saturating_add(ttl);
        let mut list = false;
        let mut sealing = Ok(());
        self.with_cas_retry(&key, "session", |current| {
            let live = match current {
                Some(bytes) => self.live_record(bytes, identity, now_secs).ok().flatten(),
                None => None,
            };
            // Nothing masked and nothing stored: an exchange without sensitive values costs no write.
            if live.is_none() && vault.is_empty() {
                list = false;
                return None;
            }
            let mut record = live.unwrap_or_else(SessionRecord::empty);
            record.absorb(vault, self.settings.max_entries);
            record.expiry = expiry;
            list = record.listed_expiry == 0 || record.listed_expiry.saturating_add(ttl / 2) < expiry;
            if list {
                record.listed_expiry = expiry;
            }
            match sealed::seal(self.keys, identity, &record) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    sealing = Err(e);
                    list = false;
                    None
                }
            }
        })?;
        sealing?;
        if list {
            self.register(hash, expiry)?;
        }
        Ok(())
    }

    /// Add or refresh the session in the index, then clear the records of sessions it evicted.
    /// Eviction clears unconditionally: bounding memory matters more than a session that was
    /// being written at that instant, which then only starts its numbering afresh.
    fn register(&self, hash: u64, expiry: u64) -> Result<(), StoreError> {
        let mut evicted = Vec::new();
        self.with_cas_retry(INDEX_KEY, "index", |current| {
            // A corrupt index is rebuilt from this session alone; the sessions it listed then
            // expire unswept, bounded by their own size, and are overwritten when they return.
            let mut index = current.and_then(|b| SessionIndex::decode(b).ok()).unwrap_or_default();
            evicted = index.upsert(hash, expiry, self.settings.max_sessions);
            Some(index.encode())
        })?;
        for gone in evicted {
            self.data.set(&key::session_key(gone), &[], None)?;
        }
        Ok(())
    }

    /// Remove (overwrite with an empty value) sessions whose expiry passed; called from the root context's
    /// periodic tick. Returns how many were removed. Bounded work per call (at most [`SWEEP_BATCH`]
    /// records).
    pub fn sweep(&self, now_secs: u64) -> Result<usize, StoreError> {
        let Some((bytes, cas)) = self.data.get(INDEX_KEY)? else {
            return Ok(0);
        };
        let Ok(index) = SessionIndex::decode(&bytes) else {
            // Start a clean index so later sweeps work again; say so once.
            match self.data.set(INDEX_KEY, &SessionIndex::default().encode(), Some(cas)) {
                Ok(()) | Err(StoreError::CasMismatch) => {}
                Err(e) => return Err(e),
            }
            return Err(StoreError::Corrupt { key_hint: "index" });
        };
        let due: Vec<(u64, u64)> =
            index.sessions.iter().copied().filter(|&(_, e)| e <= now_secs).take(SWEEP_BATCH).collect();
        if due.is_empty() {
            return Ok(0);
        }
        let mut removed = 0;
        // Index entries to drop (cleared or already gone) and ones to refresh (the record was
        // saved again but its index update was lost).
        let mut drop = Vec::new();
        let mut refresh = Vec::new();
        for (hash, listed_expiry) in due {
            let key = key::session_key(hash);
            match self.data.get(&key)? {
                None => drop.push((hash, listed_expiry)),
                Some((bytes, _)) if bytes.is_empty() => drop.push((hash, listed_expiry)),
                Some((bytes, cas)) => {
                    // The readable expiry (the sweep cannot open records; a record that does not
                    // hold one is cleared).
                    let expiry = sealed::stored_expiry(&bytes).unwrap_or(0);
                    if expiry > now_secs {
                        refresh.push((hash, expiry));
                        continue;
                    }
                    match self.data.set(&key, &[], Some(cas)) {
                        Ok(()) => {
                            removed += 1;
                            drop.push((hash, listed_expiry));
                        }
                        // Written just now by an exchange: it re-registers itself; next sweep.
                        Err(StoreError::CasMismatch) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        self.with_cas_retry(INDEX_KEY, "index", |current| {
            let mut index = current.and_then(|b| SessionIndex::decode(b).ok()).unwrap_or_default();
            // Only entries still listed with the expiry we saw: a session saved meanwhile has a
            // later expiry and stays.
            index.sessions.retain(|entry| !drop.contains(entry));
            for &(hash, expiry) in &refresh {
                if let Some((_, e)) = index.sessions.iter_mut().find(|(h, _)| *h == hash) {
                    *e = (*e).max(expiry);
                }
            }
            Some(index.encode())
        })?;
        Ok(removed)
    }

    /// Read `key`, let `update` compute the new value from the current one (None when absent),
    /// and write it with the read's CAS token; on a mismatch, read and merge again, at most
    /// [`MAX_ATTEMPTS`] times. `update` returning None skips the write.
    fn with_cas_retry(
        &self,
        key: &str,
        key_hint: &'static str,
        mut update: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.data.get(key)?;
            let (bytes, cas) = match &current {
                Some((bytes, cas)) => (Some(bytes.as_slice()), Some(*cas)),
                None => (None, None),
            };
            let Some(new) = update(bytes) else {
                return Ok(());
            };
            match self.data.set(key, &new, cas) {
                Ok(()) => return Ok(()),
                Err(StoreError::CasMismatch) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Contended { key_hint, attempts: MAX_ATTEMPTS })
    }
}
