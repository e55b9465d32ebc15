//! What was found in a text, remembered for the next request that carries the same text.
//!
//! A chat client sends the whole conversation with every turn: the tenth request of a
//! conversation repeats the nine turns before it, byte for byte. Scanning them again finds
//! nothing new, and on a long conversation it is almost all of the filter's work (the cost of a
//! conversation grows with the square of its length). The memo keeps, per text, the entity
//! findings (byte offsets and kinds) and the threat report, so a repeated text costs one hash
//! instead of a scan. Masking itself still runs on every request, with that request's vault.
//!
//! What is kept and what is not:
//! - The key is a keyed 64-bit SipHash (a random key per VM, never exposed) of the scope, the
//!   text's source and the text, plus the text's length. Nobody who does not know the key can
//!   make a text collide with another one, and texts themselves are never stored: an entry is
//!   offsets, kinds and rule ids.
//! - Entries are scoped: the glue derives a scope from the caller's credential (or the trusted
//!   session header), so one caller's texts never answer another's, and how fast a request
//!   is answered cannot tell a caller whether somebody else sent a text.
//! - Memory is bounded: two generations of at most `entries` texts and `entries *
//!   BYTES_PER_ENTRY` bytes each; when the current one is full it becomes the previous one and
//!   the oldest is dropped (a text found in the previous generation moves back to the current
//!   one). Texts shorter than `MIN_TEXT_BYTES` are not remembered (scanning them is as cheap as
//!   remembering them).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Mutex;

use super::entity::Finding;
use super::threat::{Source, ThreatReport};

/// Shorter texts are scanned every time.
pub const MIN_TEXT_BYTES: usize = 256;
/// The average size of an entry the byte budget allows (an entry with a few findings takes
/// about 150 bytes; a long document with hundreds of findings takes several KiB).
pub const BYTES_PER_ENTRY: usize = 512;

/// Whose texts a request's texts may be answered from, in which memo; `NONE` turns the memo
/// off for a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoScope<'a>(Option<(&'a ScanMemo, CallerId)>);

impl MemoScope<'_> {
    /// Nothing remembered is used and nothing is remembered.
    pub const NONE: MemoScope<'static> = MemoScope(None);

    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// Where `text` from `source` would be remembered; None when it is not to be.
    pub fn key(&self, source: Source, text: &str) -> Option<MemoKey> {
        let (memo, caller) = self.0?;
        memo.key(caller, source, text)
    }

    /// What was found in the text of `key`, if remembered.
    pub fn get(&self, key: &MemoKey) -> Option<Remembered> {
        self.0.and_then(|(memo, _)| memo.get(key))
    }

    /// Remember what was found in the text of `key`.
    pub fn put(&self, key: MemoKey, found: Remembered) {
        if let Some((memo, _)) = self.0 {
            memo.put(key, found);
        }
    }
}

/// A caller, hashed with the memo's key: what an exchange keeps between its request's headers
/// and its body to find its scope again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerId(u64);

/// A text's place in the memo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoKey {
    hash: u64,
    len: usize,
}

/// What scanning one text found.
#[derive(Debug, Clone, PartialEq)]
pub struct Remembered {
    pub findings: Vec<Finding>,
    pub report: ThreatReport,
}

#[derive(Debug, Default)]
struct Generations {
    current: HashMap<u64, (usize, Remembered)>,
    previous: HashMap<u64, (usize, Remembered)>,
    /// Approximate bytes held by `current`'s entries.
    current_bytes: usize,
}

/// Approximate heap bytes of an entry (map slot, vectors).
fn entry_bytes(found: &Remembered) -> usize {
    96 + found.findings.len() * std::mem::size_of::<Finding>() + found.report.hit_count() * 32
}

/// The memo of one VM. Built once with the configuration; shared by its requests.
#[derive(Debug)]
pub struct ScanMemo {
    /// Texts per generation; 0: the memo is off.
    entries: usize,
    keys: std::collections::hash_map::RandomState,
    state: Mutex<Generations>,
}

impl ScanMemo {
    pub fn new(entries: usize) -> ScanMemo {
        ScanMemo { entries, keys: Default::default(), state: Mutex::new(Generations::default()) }
    }

    pub fn is_on(&self) -> bool {
        self.entries > 0
    }

    /// A caller, from an identity (a credential or session header value; empty when there is
    /// none); None when the memo is off. The identity is hashed, not kept.
    pub fn caller(&self, identity: &[u8]) -> Option<CallerId> {
        if !self.is_on() {
            return None;
        }
        let mut h = self.keys.build_hasher();
        b"scope".hash(&mut h);
        identity.hash(&mut h);
        Some(CallerId(h.finish()))
    }

    /// The scope of a caller found by [`ScanMemo::caller`].
    pub fn scope_of(&self, caller: Option<CallerId>) -> MemoScope<'_> {
        MemoScope(caller.map(|c| (self, c)))
    }

    /// The scope of a caller, from an identity (see [`ScanMemo::caller`]).
    pub fn scope(&self, identity: &[u8]) -> MemoScope<'_> {
        self.scope_of(self.caller(identity))
    }

    /// Where `text` from `caller` and `source` would be remembered; None when it is not to be.
    fn key(&self, caller: CallerId, source: Source, text: &str) -> Option<MemoKey> {
        if !self.is_on() || text.len() < MIN_TEXT_BYTES {
            return None;
        }
        let mut h = self.keys.build_hasher();
        caller.0.hash(&mut h);
        source.hash(&mut h);
        text.hash(&mut h);
        Some(MemoKey { hash: h.finish(), len: text.len() })
    }

    /// What was found in the text of `key`, if remembered.
    fn get(&self, key: &MemoKey) -> Option<Remembered> {
        // A poisoned lock (a panic elsewhere, which the lints rule out) only costs a scan.
        let mut state = self.state.lock().ok()?;
        if let Some((len, found)) = state.current.get(&key.hash) {
            return (*len == key.len).then(|| found.clone());
        }
        let (len, found) = state.previous.remove(&key.hash)?;
        if len != key.len {
            return None;
        }
        let answer = found.clone();
        self.insert(&mut state, key.hash, (len, found));
        Some(answer)
    }

    /// Remember what was found in the text of `key`.
    fn put(&self, key: MemoKey, found: Remembered) {
        // One entry may take at most an eighth of a generation's bytes.
        if entry_bytes(&found) > self.budget() / 8 {
            return;
        }
        if let Ok(mut state) = self.state.lock() {
            self.insert(&mut state, key.hash, (key.len, found));
        }
    }

    fn budget(&self) -> usize {
        self.entries.saturating_mul(BYTES_PER_ENTRY)
    }

    fn insert(&self, state: &mut Generations, hash: u64, entry: (usize, Remembered)) {
        let bytes = entry_bytes(&entry.1);
        if state.current.len() >= self.entries || state.current_bytes + bytes > self.budget() {
            state.previous = std::mem::take(&mut state.current);
            state.current_bytes = 0;
        }
        if let Some((_, old)) = state.current.insert(hash, entry) {
            state.current_bytes = state.current_bytes.saturating_sub(entry_bytes(&old));
        }
        state.current_bytes += bytes;
    }

    /// Texts remembered now (both generations).
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.current.len() + s.previous.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::entity::{BuiltinKind, EntityKind};

    fn text(n: usize) -> String {
        format!("{n:>8} {}", "a benign sentence about the weather. ".repeat(10))
    }

    /// Approximate bytes held (both generations' entries).
    fn heap_bytes(memo: &ScanMemo) -> usize {
        let state = memo.state.lock().unwrap();
        state.current.values().chain(state.previous.values()).map(|(_, f)| entry_bytes(f)).sum()
    }

    fn found(start: usize) -> Remembered {
        Remembered {
            findings: vec![Finding {
                start,
                end: start + 3,
                kind: EntityKind::Builtin(BuiltinKind::Email),
                score: 0.9,
            }],
            report: ThreatReport::default(),
        }
    }

    #[test]
    fn remembers_per_scope_and_source() {
        let memo = ScanMemo::new(8);
        let (alice, bob) = (memo.scope(b"Bearer alice"), memo.scope(b"Bearer bob"));
        let t = text(1);
        memo.put(alice.key(Source::User, &t).unwrap(), found(4));
        assert_eq!(memo.get(&alice.key(Source::User, &t).unwrap()), Some(found(4)));
        assert_eq!(memo.get(&bob.key(Source::User, &t).unwrap()), None, "another caller's text");
        assert_eq!(memo.get(&alice.key(Source::Tool, &t).unwrap()), None, "another source");
        assert_eq!(memo.get(&alice.key(Source::User, &text(2)).unwrap()), None, "another text");
    }

    #[test]
    fn short_texts_no_scope_and_off_are_not_remembered() {
        let memo = ScanMemo::new(8);
        let scope = memo.scope(b"");
        assert!(scope.key(Source::User, "short").is_none());
        assert!(MemoScope::NONE.key(Source::User, &text(1)).is_none());
        let off = ScanMemo::new(0);
        assert!(off.scope(b"x").is_none());
        assert!(off.scope(b"x").key(Source::User, &text(1)).is_none());
    }

    #[test]
    fn memory_is_bounded_by_two_generations() {
        let memo = ScanMemo::new(4);
        let scope = memo.scope(b"k");
        for n in 0..100 {
            memo.put(scope.key(Source::User, &text(n)).unwrap(), found(n));
            assert!(memo.len() <= 8, "{} entries", memo.len());
        }
        // The newest are still there, the oldest are gone.
        assert_eq!(memo.get(&scope.key(Source::User, &text(99)).unwrap()), Some(found(99)));
        assert_eq!(memo.get(&scope.key(Source::User, &text(0)).unwrap()), None);
    }

    #[test]
    fn a_text_read_again_survives_rotation() {
        let memo = ScanMemo::new(2);
        let scope = memo.scope(b"k");
        let hot = scope.key(Source::User, &text(0)).unwrap();
        memo.put(hot, found(0));
        for n in 1..20 {
            memo.put(scope.key(Source::User, &text(n)).unwrap(), found(n));
            assert!(memo.get(&hot).is_some(), "lost after {n} other texts");
        }
    }

    #[test]
    fn bytes_are_bounded_too() {
        let memo = ScanMemo::new(64);
        let scope = memo.scope(b"k");
        let mut many = found(0);
        many.findings = (0..40).map(|i| found(i * 4).findings[0]).collect();
        for n in 0..200 {
            memo.put(scope.key(Source::User, &text(n)).unwrap(), many.clone());
            assert!(heap_bytes(&memo) <= 2 * 64 * BYTES_PER_ENTRY, "{} bytes", heap_bytes(&memo));
        }
        assert!(memo.get(&scope.key(Source::User, &text(199)).unwrap()).is_some());
        // An entry larger than an eighth of a generation is not kept at all.
        let mut huge = found(0);
        huge.findings = (0..400).map(|i| found(i * 4).findings[0]).collect();
        let key = scope.key(Source::User, &text(500)).unwrap();
        memo.put(key, huge);
        assert!(memo.get(&key).is_none());
    }
}
