//! Masking: replace each finding in a text by its placeholder from the exchange's vault.

use super::detect::Detector;
use super::entity::Finding;
use super::placeholder::PlaceholderGrammar;
use super::vault::{Vault, VaultFull};

/// How many values of each label were masked (occurrences, not distinct values).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MaskReport {
    counts: Vec<(String, u32)>,
}

impl MaskReport {
    pub fn add(&mut self, label: &str) {
        match self.counts.iter_mut().find(|(l, _)| l == label) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((label.to_owned(), 1)),
        }
    }
    pub fn total(&self) -> u32 {
        self.counts.iter().map(|(_, n)| n).sum()
    }
    pub fn by_label(&self) -> impl Iterator<Item = (&str, u32)> {
        self.counts.iter().map(|(l, n)| (l.as_str(), *n))
    }
}

/// The working state for masking the texts of one request.
pub struct Masker<'a> {
    pub detector: &'a Detector,
    pub grammar: &'a PlaceholderGrammar,
    /// Reused across the texts of one request to avoid an allocation per text.
    findings: Vec<Finding>,
    pub report: MaskReport,
}

impl<'a> Masker<'a> {
    pub fn new(detector: &'a Detector, grammar: &'a PlaceholderGrammar) -> Self {
        Masker { detector, grammar, findings: Vec::new(), report: MaskReport::default() }
    }

    /// Mask `text` in place; returns whether it changed.
    pub fn mask(&mut self, text: &mut String, vault: &mut Vault) -> Result<bool, VaultFull> {
        self.findings.clear();
        self.detector.detect(text, &mut self.findings);
        self.apply(text, vault)
    }

    /// Mask `text` in place with findings made earlier for the same text (remembered from an
    /// earlier request); returns whether it changed.
    pub fn mask_found(&mut self, text: &mut String, found: Vec<Finding>, vault: &mut Vault) -> Result<bool, VaultFull> {
        self.findings = found;
        self.apply(text, vault)
    }

    /// The findings of the text masked last.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    fn apply(&mut self, text: &mut String, vault: &mut Vault) -> Result<bool, VaultFull> {
        if self.findings.is_empty() {
            return Ok(false);
        }
        let mut out = String::with_capacity(text.len() + 16 * self.findings.len());
        let mut last = 0;
        for f in &self.findings {
            // Findings are sorted and disjoint; one that is not (or not on char boundaries)
            // is skipped rather than trusted.
            let (Some(before), Some(value)) = (text.get(last..f.start), text.get(f.start..f.end)) else {
                continue;
            };
            let label = self.detector.label(f.kind);
            let placeholder = vault.placeholder_for(self.grammar, label, value)?;
            out.push_str(before);
            out.push_str(placeholder);
            self.report.add(label);
            last = f.end;
        }
        if last == 0 {
            return Ok(false);
        }
        out.push_str(text.get(last..).unwrap_or(""));
        *text = out;
        Ok(true)
    }
}
