//! The vault: placeholder <-> original for one exchange.
//!
//! Placeholders are numbered per label by first occurrence, and the same original always gets
//! the same placeholder. Placeholder-looking text already present in the input is reserved first,
//! so a number it uses is never issued and such text is never given a meaning it did not have.

use std::collections::{HashMap, HashSet};

use super::placeholder::{is_label, PlaceholderGrammar, MAX_NUMBER_DIGITS};
use super::policy::synthetic::FakeIndex;
use super::reply::PromptPrint;
use super::restore::{push_escaped, Escape};

/// Highest number a placeholder can carry (six decimal digits).
const MAX_NUMBER: u32 = 10u32.pow(MAX_NUMBER_DIGITS as u32) - 1;

/// One masked value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultEntry {
    pub label: String,
    pub original: String,
    pub placeholder: String,
}

/// The vault holds at most this many values: a request with more is refused rather than letting
/// one body grow the filter's memory without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaultFull {
    pub capacity: usize,
}

#[derive(Debug, Default, Clone)]
pub struct Vault {
    entries: Vec<VaultEntry>,
    /// The number in each entry's placeholder, parallel to `entries` (kept so a session store can
    /// save (label, number, original) without parsing placeholders back).
    numbers: Vec<u32>,
    by_placeholder: HashMap<String, usize>,
    by_original: HashMap<(String, String), usize>,
    next_number: HashMap<String, u32>,
    reserved: HashSet<(String, u32)>,
    capacity: usize,
    /// Synthetic values (`policy::synthetic`): fake -> original, restored in replies like
    /// placeholders but kept apart from `entries`, so a session record never stores them as
    /// placeholders.
    synthetic: Vec<VaultEntry>,
    synthetic_by_original: HashMap<(String, String), usize>,
    synthetic_next: HashMap<String, u32>,
    /// Labels whose mappings are never written to a session record (card numbers under
    /// `pci_dss`: a card number is never written to shared data unsealed).
    unsaved_labels: Vec<String>,
    /// Finds the fakes in a reply (built once the request is masked, see [`Vault::seal_synthetic`]).
    synthetic_index: Option<FakeIndex>,
    /// The words the request showed the model, so that reply checks can recognise its text in a
    /// link (see `reply`). Kept here because the vault is the exchange's memory of its request.
    prompt: PromptPrint,
}

impl Vault {
    pub fn with_capacity(capacity: usize) -> Self {
        Vault { capacity, ..Vault::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn entries(&self) -> &[VaultEntry] {
        &self.entries
    }

    pub fn prompt_print(&self) -> &PromptPrint {
        &self.prompt
    }

    pub fn set_prompt_print(&mut self, print: PromptPrint) {
        self.prompt = print;
    }

    /// Forget every value (nothing will be restored) but keep what reply checks need.
    pub fn forget_values(&mut self) {
        let prompt = std::mem::take(&mut self.prompt);
        *self = Vault { prompt, ..Vault::with_capacity(0) };
    }

    /// The synthetic value for `original` of kind `label`: `make(n)` gives the `n`-th fake of
    /// the label; a fake equal to a value of the exchange is skipped. `Ok(None)` when `make` has
    /// no fake left.
    pub fn synthetic_for(
        &mut self,
        label: &str,
        original: &str,
        make: impl Fn(u32) -> Option<String>,
    ) -> Result<Option<&str>, VaultFull> {
        let key = (label.to_owned(), original.to_owned());
        if let Some(&i) = self.synthetic_by_original.get(&key) {
            return Ok(Some(&self.synthetic[i].placeholder));
        }
        if self.entries.len() + self.synthetic.len() >= self.capacity {
            return Err(VaultFull { capacity: self.capacity });
        }
        let counter = self.synthetic_next.entry(label.to_owned()).or_insert(0);
        let fake = loop {
            *counter += 1;
            let Some(fake) = make(*counter) else { return Ok(None) };
            let taken = self.synthetic_by_original.contains_key(&(label.to_owned(), fake.clone()))
                || self.by_original.contains_key(&(label.to_owned(), fake.clone()));
            if fake != original && !taken {
                break fake;
            }
        };
        let i = self.synthetic.len();
        self.synthetic_by_original.insert(key, i);
        self.synthetic.push(VaultEntry { label: label.to_owned(), original: original.to_owned(), placeholder: fake });
        self.synthetic_index = None;
        Ok(Some(&self.synthetic[i].placeholder))
    }

    /// Never write mappings of `label` to a session record.
    pub fn never_save(&mut self, label: &str) {
        if !self.unsaved_labels.iter().any(|l| l == label) {
            self.unsaved_labels.push(label.to_owned());
        }
    }

    /// Whether mappings of `label` may be written to a session record.
    pub fn may_save(&self, label: &str) -> bool {
        !self.unsaved_labels.iter().any(|l| l == label)
    }

    /// Whether a reply could hold something to restore: a placeholder or a synthetic value.
    pub fn restores_anything(&self) -> bool {
        !self.entries.is_empty() || !self.synthetic.is_empty()
    }

    /// The synthetic values issued in this exchange (`placeholder` holds the fake).
    pub fn synthetic_entries(&self) -> &[VaultEntry] {
        &self.synthetic
    }

    /// Build the finder of fakes once the request is masked; replies look fakes up with it.
    pub fn seal_synthetic(&mut self) {
        self.synthetic_index = FakeIndex::new(self.synthetic.iter().map(|e| e.placeholder.as_str()));
    }

    /// `text` with every fake of this exchange replaced by its original (escaped as `escape`
    /// says), or `None` when there is none in it; adds to `restored`. Only fakes issued here are
    /// ever replaced, whole and on word boundaries.
    pub fn restore_synthetic(&self, text: &str, escape: Escape, restored: &mut u64) -> Option<String> {
        let index = self.synthetic_index.as_ref()?;
        let before = *restored;
        let mut out = String::with_capacity(text.len());
        index.replace(text, 0, true, |i, out| self.write_original(i, escape, restored, out), &mut out);
        (*restored > before).then_some(out)
    }

    /// The streamed form of [`Vault::restore_synthetic`]: appends what is decided of `pending`
    /// (the text held back so far and the new piece; `prev` is the byte before it) to `out` and
    /// returns how many bytes of `pending` that was; the rest could still become a fake and
    /// must be held until the next piece (or `last`).
    pub fn restore_synthetic_stream(
        &self,
        pending: &str,
        prev: u8,
        last: bool,
        escape: Escape,
        restored: &mut u64,
        out: &mut String,
    ) -> usize {
        match self.synthetic_index.as_ref() {
            Some(index) => {
                index.replace(pending, prev, last, |i, out| self.write_original(i, escape, restored, out), out)
            }
            None => {
                out.push_str(pending);
                pending.len()
            }
        }
    }

    fn write_original(&self, i: usize, escape: Escape, restored: &mut u64, out: &mut String) -> bool {
        match self.synthetic.get(i) {
            Some(entry) => {
                push_escaped(out, &entry.original, escape);
                *restored += 1;
                true
            }
            None => false,
        }
    }

    /// Reserve every placeholder-shaped token in `text` so the numbering skips it.
    pub fn reserve_existing(&mut self, grammar: &PlaceholderGrammar, text: &str) {
        let prefix = grammar.prefix();
        let mut from = 0;
        let find = |rest: &[u8]| match prefix.as_bytes() {
            [one] => memchr::memchr(*one, rest),
            many => memchr::memmem::find(rest, many),
        };
        while let Some(pos) = text.as_bytes().get(from..).and_then(find) {
            let at = from + pos;
            match grammar.recognise(&text[at..]) {
                Some(r) => {
                    self.reserved.insert((r.label.to_owned(), r.number));
                    from = at + r.len;
                }
                None => from = at + prefix.len(),
            }
        }
    }

    /// Never issue `number` for `label` (text in the request that would read as that placeholder).
    pub fn reserve(&mut self, label: &str, number: u32) {
        self.reserved.insert((label.to_owned(), number));
    }

    /// The placeholder for `original` of kind `label`, issuing a new one on first sight.
    pub fn placeholder_for(
        &mut self,
        grammar: &PlaceholderGrammar,
        label: &str,
        original: &str,
    ) -> Result<&str, VaultFull> {
        let key = (label.to_owned(), original.to_owned());
        if let Some(&i) = self.by_original.get(&key) {
            return Ok(&self.entries[i].placeholder);
        }
        if self.entries.len() >= self.capacity {
            return Err(VaultFull { capacity: self.capacity });
        }
        let counter = self.next_number.entry(label.to_owned()).or_insert(0);
        let mut n = *counter + 1;
        while self.reserved.contains(&(label.to_owned(), n)) {
            n += 1;
        }
        *counter = n;
        let placeholder = grammar.render(label, n);
        let i = self.entries.len();
        self.by_placeholder.insert(placeholder.clone(), i);
        self.by_original.insert(key, i);
        self.entries.push(VaultEntry { label: label.to_owned(), original: original.to_owned(), placeholder });
        self.numbers.push(n);
        Ok(&self.entries[i].placeholder)
    }

    /// Put a mapping issued in an earlier exchange of the same session into this vault under
    /// exactly its old placeholder, so the same value keeps its placeholder and replies that
    /// mention it are restored. New values of the label are numbered after it.
    ///
    /// Returns `Ok(false)` (and changes nothing) when the label or number could not come from
    /// this grammar, or when the placeholder is already taken in this vault: a mapping already
    /// here is never replaced. A placeholder-looking token the user typed (`reserve_existing`)
    /// does not block a preload: the session's meaning wins, which only ever gives the same
    /// identity back its own value. Call this before masking.
    pub fn preload(
        &mut self,
        grammar: &PlaceholderGrammar,
        label: &str,
        number: u32,
        original: &str,
    ) -> Result<bool, VaultFull> {
        if !is_label(label) || number == 0 || number > MAX_NUMBER || original.is_empty() {
            return Ok(false);
        }
        let placeholder = grammar.render(label, number);
        if self.by_placeholder.contains_key(&placeholder) {
            return Ok(false);
        }
        if self.entries.len() >= self.capacity {
            return Err(VaultFull { capacity: self.capacity });
        }
        self.continue_numbering_after(label, number);
        let i = self.entries.len();
        self.by_placeholder.insert(placeholder.clone(), i);
        // Two numbers for one value can exist after concurrent exchanges of a session: both are
        // restored, and new text reuses the first one loaded.
        self.by_original.entry((label.to_owned(), original.to_owned())).or_insert(i);
        self.entries.push(VaultEntry { label: label.to_owned(), original: original.to_owned(), placeholder });
        self.numbers.push(number);
        Ok(true)
    }

    /// Never issue `number` or anything below it for `label` again (numbers the session issued
    /// earlier whose mapping is not loaded, e.g. withdrawn or not kept).
    pub fn continue_numbering_after(&mut self, label: &str, number: u32) {
        let counter = self.next_number.entry(label.to_owned()).or_insert(0);
        *counter = (*counter).max(number);
    }

    /// Every entry with the number in its placeholder, in the order they were added.
    pub fn numbered_entries(&self) -> impl Iterator<Item = (&VaultEntry, u32)> + '_ {
        self.entries.iter().zip(self.numbers.iter().copied())
    }

    /// The highest number issued (or preloaded) per label.
    pub fn highest_numbers(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.next_number.iter().map(|(label, &n)| (label.as_str(), n))
    }

    /// The entry a placeholder stands for, if this vault issued it.
    pub fn lookup(&self, placeholder: &str) -> Option<&VaultEntry> {
        self.by_placeholder.get(placeholder).map(|&i| &self.entries[i])
    }

    /// The entry for a label and number, if this vault issued it (used when a reply alters the
    /// placeholder's punctuation or case).
    pub fn lookup_parts(&self, grammar: &PlaceholderGrammar, label: &str, number: u32) -> Option<&VaultEntry> {
        self.lookup(&grammar.render(label, number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_by_first_occurrence_and_stable() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(10);
        assert_eq!(v.placeholder_for(&g, "EMAIL", "a@x.io").unwrap(), "[EMAIL_1]");
        assert_eq!(v.placeholder_for(&g, "EMAIL", "b@x.io").unwrap(), "[EMAIL_2]");
        assert_eq!(v.placeholder_for(&g, "PHONE", "+4915112345678").unwrap(), "[PHONE_1]");
        assert_eq!(v.placeholder_for(&g, "EMAIL", "a@x.io").unwrap(), "[EMAIL_1]");
        assert_eq!(v.lookup("[EMAIL_2]").unwrap().original, "b@x.io");
        assert!(v.lookup("[EMAIL_3]").is_none());
    }

    #[test]
    fn existing_placeholders_are_skipped() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(10);
        v.reserve_existing(&g, "please keep [EMAIL_1] and [EMAIL_3] as they are");
        assert_eq!(v.placeholder_for(&g, "EMAIL", "a@x.io").unwrap(), "[EMAIL_2]");
        assert_eq!(v.placeholder_for(&g, "EMAIL", "b@x.io").unwrap(), "[EMAIL_4]");
        assert!(v.lookup("[EMAIL_1]").is_none());
    }

    #[test]
    fn synthetic_values_are_stable_restored_and_kept_apart() {
        let mut v = Vault::with_capacity(10);
        let make = |n: u32| Some(format!("user{n}@example.com"));
        assert_eq!(v.synthetic_for("EMAIL", "ann@corp.io", make).unwrap(), Some("user1@example.com"));
        // A value that is itself a fake of the range gets the next one, never its own.
        assert_eq!(v.synthetic_for("EMAIL", "user2@example.com", make).unwrap(), Some("user3@example.com"));
        assert_eq!(v.synthetic_for("EMAIL", "ann@corp.io", make).unwrap(), Some("user1@example.com"));
        assert!(v.is_empty(), "no placeholder, so nothing a session record would keep");
        assert_eq!(v.numbered_entries().count(), 0);
        v.seal_synthetic();
        let mut n = 0;
        let back = v.restore_synthetic("to user1@example.com and user9@example.com", Escape::None, &mut n);
        assert_eq!(back.as_deref(), Some("to ann@corp.io and user9@example.com"));
        assert_eq!(n, 1);
        assert_eq!(v.synthetic_for("PHONE", "1", |_| None).unwrap(), None);
    }

    #[test]
    fn capacity_is_enforced() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(1);
        v.placeholder_for(&g, "EMAIL", "a@x.io").unwrap();
        assert_eq!(v.placeholder_for(&g, "EMAIL", "b@x.io"), Err(VaultFull { capacity: 1 }));
        assert!(v.placeholder_for(&g, "EMAIL", "a@x.io").is_ok());
    }

    #[test]
    fn preload_keeps_placeholder_and_numbering_continues() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(10);
        assert_eq!(v.preload(&g, "EMAIL", 3, "a@x.io"), Ok(true));
        assert_eq!(v.placeholder_for(&g, "EMAIL", "a@x.io").unwrap(), "[EMAIL_3]");
        assert_eq!(v.placeholder_for(&g, "EMAIL", "b@x.io").unwrap(), "[EMAIL_4]");
        assert_eq!(v.lookup("[EMAIL_3]").unwrap().original, "a@x.io");
        let numbered: Vec<_> = v.numbered_entries().map(|(e, n)| (e.original.as_str(), n)).collect();
        assert_eq!(numbered, [("a@x.io", 3), ("b@x.io", 4)]);
    }

    #[test]
    fn preload_never_replaces_and_rejects_impossible_parts() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(10);
        v.placeholder_for(&g, "EMAIL", "a@x.io").unwrap();
        assert_eq!(v.preload(&g, "EMAIL", 1, "other@x.io"), Ok(false));
        assert_eq!(v.lookup("[EMAIL_1]").unwrap().original, "a@x.io");
        assert_eq!(v.preload(&g, "email", 2, "b@x.io"), Ok(false));
        assert_eq!(v.preload(&g, "EMAIL", 0, "b@x.io"), Ok(false));
        assert_eq!(v.preload(&g, "EMAIL", 1_000_000, "b@x.io"), Ok(false));
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn preload_wins_over_user_typed_placeholder_and_counts_toward_capacity() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(1);
        v.reserve_existing(&g, "see [EMAIL_1]");
        assert_eq!(v.preload(&g, "EMAIL", 1, "a@x.io"), Ok(true));
        assert_eq!(v.preload(&g, "EMAIL", 2, "b@x.io"), Err(VaultFull { capacity: 1 }));
    }

    #[test]
    fn numbering_skips_numbers_issued_earlier_but_not_loaded() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(10);
        v.continue_numbering_after("PHONE", 7);
        assert_eq!(v.placeholder_for(&g, "PHONE", "+4915112345678").unwrap(), "[PHONE_8]");
        assert_eq!(v.highest_numbers().collect::<Vec<_>>(), [("PHONE", 8)]);
    }
}
