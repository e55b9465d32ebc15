//! What an anonymize call leaves to restore: the policy it ran under and each masked value with
//! what stands for it (a numbered placeholder, or a synthetic value). Encoded in binary, then
//! sealed (see `ids`); never stored or sent in clear.
//!
//! Encoding (version 1, little-endian): `u8 version, u8 len, policy name, u32 entry count,
//! { u8 kind, u8 len, label, (kind 0: u32 number | kind 1: u32 len, fake), u32 len, original }*`.

use std::cell::Cell;

use crate::placeholder::{is_label, PlaceholderGrammar};
use crate::store::codec::{Malformed, Reader, Writer};
use crate::vault::Vault;

const VERSION: u8 = 1;
const KIND_PLACEHOLDER: u8 = 0;
const KIND_SYNTHETIC: u8 = 1;

/// What stands for one original in the safe text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stand {
    Placeholder(u32),
    Synthetic(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingEntry {
    pub label: String,
    pub stand: Stand,
    pub original: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// The policy the call ran under (its reply policy applies to the restore).
    pub policy: String,
    pub entries: Vec<MappingEntry>,
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Mapping {
    /// What a masked vault can restore.
    pub fn of_vault(policy: &str, vault: &Vault) -> Mapping {
        let mut entries: Vec<MappingEntry> = vault
            .numbered_entries()
            .map(|(e, n)| MappingEntry {
                label: e.label.clone(),
                stand: Stand::Placeholder(n),
                original: e.original.clone(),
            })
            .collect();
        entries.extend(vault.synthetic_entries().iter().map(|e| MappingEntry {
            label: e.label.clone(),
            stand: Stand::Synthetic(e.placeholder.clone()),
            original: e.original.clone(),
        }));
        Mapping { policy: policy.to_owned(), entries }
    }

    /// A vault that restores exactly these entries.
    pub fn to_vault(&self, grammar: &PlaceholderGrammar) -> Vault {
        let mut vault = Vault::with_capacity(self.entries.len());
        for e in &self.entries {
            match &e.stand {
                Stand::Placeholder(n) => {
                    // Capacity is the entry count: it cannot be full.
                    let _ = vault.preload(grammar, &e.label, *n, &e.original);
                }
                Stand::Synthetic(fake) => {
                    // The fake was chosen at anonymize time: offered once, nothing else.
                    let offered = Cell::new(false);
                    let _ =
                        vault.synthetic_for(&e.label, &e.original, |_| (!offered.replace(true)).then(|| fake.clone()));
                }
            }
        }
        vault.seal_synthetic();
        vault
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(VERSION);
        // Policy names are at most 64 bytes and labels 32 (checked at load): the lengths fit.
        w.u8(u8::try_from(self.policy.len()).unwrap_or(0));
        w.raw(self.policy.as_bytes());
        w.u32(len_u32(self.entries.len()));
        for e in &self.entries {
            match &e.stand {
                Stand::Placeholder(n) => {
                    w.u8(KIND_PLACEHOLDER);
                    w.u8(u8::try_from(e.label.len()).unwrap_or(0));
                    w.raw(e.label.as_bytes());
                    w.u32(*n);
                }
                Stand::Synthetic(fake) => {
                    w.u8(KIND_SYNTHETIC);
                    w.u8(u8::try_from(e.label.len()).unwrap_or(0));
                    w.raw(e.label.as_bytes());
                    w.u32(len_u32(fake.len()));
                    w.raw(fake.as_bytes());
                }
            }
            w.u32(len_u32(e.original.len()));
            w.raw(e.original.as_bytes());
        }
        w.bytes
    }

    pub fn decode(bytes: &[u8]) -> Result<Mapping, Malformed> {
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return Err(Malformed);
        }
        let len = usize::from(r.u8()?);
        let policy = r.str(len)?.to_owned();
        let count = usize::try_from(r.u32()?).map_err(|_| Malformed)?;
        // Each entry takes at least 11 bytes: the count never reserves more than the input holds.
        let mut entries = Vec::with_capacity(count.min(r.remaining() / 11));
        for _ in 0..count {
            let kind = r.u8()?;
            let len = usize::from(r.u8()?);
            let label = r.str(len)?;
            if !is_label(label) {
                return Err(Malformed);
            }
            let stand = match kind {
                KIND_PLACEHOLDER => Stand::Placeholder(r.u32()?),
                KIND_SYNTHETIC => {
                    let len = usize::try_from(r.u32()?).map_err(|_| Malformed)?;
                    Stand::Synthetic(r.str(len)?.to_owned())
                }
                _ => return Err(Malformed),
            };
            let len = usize::try_from(r.u32()?).map_err(|_| Malformed)?;
            let original = r.str(len)?.to_owned();
            entries.push(MappingEntry { label: label.to_owned(), stand, original });
        }
        r.finish()?;
        Ok(Mapping { policy, entries })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_mapping_survives_encoding_and_rebuilds_its_vault() {
        let m = Mapping {
            policy: "payments".to_owned(),
            entries: vec![
                MappingEntry { label: "EMAIL".into(), stand: Stand::Placeholder(2), original: "a@b.example".into() },
                MappingEntry {
                    label: "PERSON".into(),
                    stand: Stand::Synthetic("Kim Lee".into()),
                    original: "Ann Example".into(),
                },
            ],
        };
        let bytes = m.encode();
        assert_eq!(Mapping::decode(&bytes).unwrap(), m);
        for cut in 0..bytes.len() {
            assert!(Mapping::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let vault = m.to_vault(&PlaceholderGrammar::default());
        assert_eq!(Mapping::of_vault("payments", &vault), m);
    }
}
