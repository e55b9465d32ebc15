//! One session's record: when it expires, the highest number issued per label, and the (label,
//! number, original) mappings kept so far. Whose it is is not written in it: the record is sealed
//! with the identity as associated data (`sealed.rs`), so only that identity's exchanges open it.
//!
//! Encoding (version 2, little-endian): `u8 version, u64 expiry, u64 listed expiry,
//! u16 label count, { u8 len, label, u32 highest }*, u32 entry count,
//! { u8 kind, u8 len, label, u32 number, [u32 len, original if kind = 0] }*`. Binary rather than
//! JSON because originals may hold any text and the record is read on every request of a session.

use std::collections::HashMap;

use super::codec::{Malformed, Reader, Writer};
use crate::placeholder::{is_label, MAX_NUMBER_DIGITS};
use crate::vault::Vault;

const VERSION: u8 = 2;
const KIND_MAPPING: u8 = 0;
const KIND_WITHDRAWN: u8 = 1;
const MAX_NUMBER: u32 = 10u32.pow(MAX_NUMBER_DIGITS as u32) - 1;

/// A record larger than this is refused when read and never written: shared data lives in
/// Envoy's memory, outside any one VM's limits.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Distinct labels a record remembers numbering for (built-in kinds plus configured patterns).
pub const MAX_LABELS: usize = 1024;
/// Room kept for the header and the counters when deciding how many entries fit.
const RESERVED_BYTES: usize = 1 + 2 * 8 + 2 + MAX_LABELS * (1 + 32 + 4) + 4;

/// One stored mapping. `original` is `None` once the mapping was withdrawn: concurrent exchanges
/// of the session issued the same placeholder for different values, so it is restored for
/// neither and its number is never issued again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub label: String,
    pub number: u32,
    pub original: Option<String>,
}

impl StoredEntry {
    fn encoded_len(&self) -> usize {
        1 + 1 + self.label.len() + 4 + self.original.as_ref().map_or(0, |o| 4 + o.len())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRecord {
    pub expiry: u64,
    /// The expiry the session index last recorded for this session (0: not listed). The index is
    /// rewritten only when this falls behind by half a TTL, not on every exchange.
    pub listed_expiry: u64,
    /// Highest number issued per label, kept even for mappings that were not stored, so a number
    /// a reply may still mention is never given to another value.
    pub counters: Vec<(String, u32)>,
    pub entries: Vec<StoredEntry>,
}

fn valid_number(n: u32) -> bool {
    (1..=MAX_NUMBER).contains(&n)
}

fn read_label<'a>(r: &mut Reader<'a>) -> Result<&'a str, Malformed> {
    let len = usize::from(r.u8()?);
    let label = r.str(len)?;
    if is_label(label) {
        Ok(label)
    } else {
        Err(Malformed)
    }
}

impl SessionRecord {
    pub fn empty() -> Self {
        SessionRecord::default()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, Malformed> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(Malformed);
        }
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return Err(Malformed);
        }
        let expiry = r.u64()?;
        let listed_expiry = r.u64()?;
        let label_count = usize::from(r.u16()?);
        if label_count > MAX_LABELS {
            return Err(Malformed);
        }
        let mut counters = Vec::with_capacity(label_count.min(r.remaining() / 6));
        for _ in 0..label_count {
            let label = read_label(&mut r)?;
            let n = r.u32()?;
            if !valid_number(n) {
                return Err(Malformed);
            }
            counters.push((label.to_owned(), n));
        }
        let entry_count = usize::try_from(r.u32()?).map_err(|_| Malformed)?;
        // Each entry takes at least 7 bytes: the count can never make us reserve more than that.
        let mut entries = Vec::with_capacity(entry_count.min(r.remaining() / 7));
        for _ in 0..entry_count {
            let kind = r.u8()?;
            let label = read_label(&mut r)?.to_owned();
            let number = r.u32()?;
            if !valid_number(number) {
                return Err(Malformed);
            }
            let original = match kind {
                KIND_MAPPING => {
                    let len = usize::try_from(r.u32()?).map_err(|_| Malformed)?;
                    let text = r.str(len)?;
                    if text.is_empty() {
                        return Err(Malformed);
                    }
                    Some(text.to_owned())
                }
                KIND_WITHDRAWN => None,
                _ => return Err(Malformed),
            };
            entries.push(StoredEntry { label, number, original });
        }
        r.finish()?;
        Ok(SessionRecord { expiry, listed_expiry, counters, entries })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(VERSION);
        w.u64(self.expiry);
        w.u64(self.listed_expiry);
        // Labels are at most 32 bytes, at most MAX_LABELS of them, and entries fit in
        // MAX_RECORD_BYTES (`decode` and `absorb` both enforce it): the conversions cannot fail.
        w.u16(u16::try_from(self.counters.len()).unwrap_or(0));
        for (label, n) in &self.counters {
            w.u8(u8::try_from(label.len()).unwrap_or(0));
            w.raw(label.as_bytes());
            w.u32(*n);
        }
        w.u32(u32::try_from(self.entries.len()).unwrap_or(0));
        for e in &self.entries {
            w.u8(if e.original.is_some() { KIND_MAPPING } else { KIND_WITHDRAWN });
            w.u8(u8::try_from(e.label.len()).unwrap_or(0));
            w.raw(e.label.as_bytes());
            w.u32(e.number);
            if let Some(o) = &e.original {
                w.u32(u32::try_from(o.len()).unwrap_or(0));
                w.raw(o.as_bytes());
            }
        }
        w.bytes
    }

    fn raise_counter(&mut self, label: &str, number: u32) {
        if let Some((_, n)) = self.counters.iter_mut().find(|(l, _)| l == label) {
            *n = (*n).max(number);
        } else if self.counters.len() < MAX_LABELS {
            self.counters.push((label.to_owned(), number));
        }
    }

    /// Merge a vault's mappings into this record. Entries already stored come first and are
    /// kept; new ones are appended in the vault's order while there is room (`max_entries`,
    /// and [`MAX_RECORD_BYTES`]), so when a session is full its oldest mappings are the ones
    /// kept: the placeholders the conversation has carried longest stay restorable, and the
    /// newest values, which the current reply still restores from its own vault, are not
    /// remembered. Their numbers still raise the counters.
    pub fn absorb(&mut self, vault: &Vault, max_entries: usize) {
        self.entries.truncate(max_entries);
        let mut at: HashMap<(String, u32), usize> = HashMap::with_capacity(self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            at.entry((e.label.clone(), e.number)).or_insert(i);
        }
        // Entries are budgeted as if every label had a counter, so the record always fits.
        let mut size = RESERVED_BYTES + self.entries.iter().map(StoredEntry::encoded_len).sum::<usize>();
        for (entry, number) in vault.numbered_entries() {
            if !is_label(&entry.label) || !valid_number(number) || entry.original.is_empty() {
                continue;
            }
            if !vault.may_save(&entry.label) {
                // Still never reissued to another value of the session.
                self.raise_counter(&entry.label, number);
                continue;
            }
            match at.get(&(entry.label.clone(), number)) {
                Some(&i) => {
                    if let Some(stored) = self.entries.get_mut(i) {
                        if stored.original.as_deref() != Some(entry.original.as_str()) {
                            stored.original = None;
                        }
                    }
                }
                None => {
                    let new =
                        StoredEntry { label: entry.label.clone(), number, original: Some(entry.original.clone()) };
                    if self.entries.len() < max_entries && size + new.encoded_len() <= MAX_RECORD_BYTES {
                        size += new.encoded_len();
                        at.insert((new.label.clone(), number), self.entries.len());
                        self.entries.push(new);
                    }
                }
            }
            self.raise_counter(&entry.label, number);
        }
        for (label, n) in vault.highest_numbers() {
            if is_label(label) && valid_number(n) {
                self.raise_counter(label, n);
            }
        }
    }
}
