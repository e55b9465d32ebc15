//! Scores and decisions. Each rule that fires is independent evidence with a weight in (0,1);
//! a category's score is their noisy-or, 1 - prod(1 - w). The overall score is the noisy-or of
//! the category scores, so attacks that hit several categories at once score higher than any
//! one of them (the co-occurrence boost).

use super::Category;

/// What the scanner found in one or more texts. Holds rule ids and weights, never text.
///
/// A rule counts once per report with the highest weight it fired with, however many texts or
/// decoded views it fired in: repetition is not independent evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreatReport {
    hits: Vec<Hit>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Hit {
    id: &'static str,
    category: Category,
    weight: f32,
}

impl ThreatReport {
    /// Record that rule `id` of `category` fired with `weight` (clamped to [0, 0.999]).
    pub fn add(&mut self, id: &'static str, category: Category, weight: f32) {
        let weight = weight.clamp(0.0, 0.999);
        match self.hits.iter_mut().find(|h| h.id == id) {
            Some(h) => h.weight = h.weight.max(weight),
            None => self.hits.push(Hit { id, category, weight }),
        }
    }

    /// Like `add`, but the category keeps only its strongest rule: for weak evidence that must
    /// not add up (indirect-injection phrasing in a user's own message).
    pub fn add_strongest(&mut self, id: &'static str, category: Category, weight: f32) {
        let weight = weight.clamp(0.0, 0.999);
        match self.hits.iter().position(|h| h.category == category) {
            Some(i) => {
                if let Some(h) = self.hits.get_mut(i) {
                    if weight > h.weight {
                        *h = Hit { id, category, weight };
                    }
                }
            }
            None => self.hits.push(Hit { id, category, weight }),
        }
    }

    /// Each rule that fired: id, category and weight.
    pub(crate) fn hits(&self) -> impl Iterator<Item = (&'static str, Category, f32)> + '_ {
        self.hits.iter().map(|h| (h.id, h.category, h.weight))
    }

    /// Whether rule `id` hit.
    pub fn has(&self, id: &str) -> bool {
        self.hits.iter().any(|h| h.id == id)
    }

    /// The same report without rule `id`.
    pub fn without(&self, id: &str) -> ThreatReport {
        ThreatReport { hits: self.hits.iter().filter(|h| h.id != id).copied().collect() }
    }

    /// How many rules hit.
    pub fn hit_count(&self) -> usize {
        self.hits.len()
    }

    /// Fold another text's report into this one (a request carries many texts).
    pub fn merge(&mut self, other: ThreatReport) {
        for h in other.hits {
            self.add(h.id, h.category, h.weight);
        }
    }

    /// Score of one category in [0,1]: noisy-or of its rules' weights.
    pub fn score(&self, category: Category) -> f32 {
        1.0 - self.hits.iter().filter(|h| h.category == category).map(|h| 1.0 - h.weight).product::<f32>()
    }

    /// Noisy-or of all category scores, in [0,1].
    pub fn overall(&self) -> f32 {
        1.0 - self.hits.iter().map(|h| 1.0 - h.weight).product::<f32>()
    }

    /// Ids of the rules that fired, in first-fired order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.hits.iter().map(|h| h.id)
    }

    pub fn is_clean(&self) -> bool {
        self.hits.is_empty()
    }
}

/// What to do about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Allow,
    Flag,
    Block,
}

impl Action {
    pub const fn name(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Flag => "flag",
            Action::Block => "block",
        }
    }
}

/// How one category is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryAction {
    /// Block at the block threshold, flag at the flag threshold (the default).
    Tiered,
    /// Block as soon as the flag threshold is reached.
    Block,
    /// Flag at the flag threshold, never block.
    Flag,
    /// Ignore this category.
    Off,
}

impl CategoryAction {
    pub const fn name(self) -> &'static str {
        match self {
            CategoryAction::Tiered => "tiered",
            CategoryAction::Block => "block",
            CategoryAction::Flag => "flag",
            CategoryAction::Off => "off",
        }
    }
}

/// The decision for a request: safe to put in headers and metrics (no text).
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub action: Action,
    /// Overall score over the categories that are not off.
    pub score: f32,
    /// Categories at or above the flag threshold, strongest first.
    pub categories: Vec<Category>,
    pub rule_ids: Vec<&'static str>,
}

/// Thresholds and per-category actions, validated by the config.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreatPolicy {
    pub block_threshold: f32,
    pub flag_threshold: f32,
    pub actions: [CategoryAction; Category::COUNT],
}

impl Default for ThreatPolicy {
    /// Flag at 0.5, block at 0.85; payload categories (SQL, markup, shell, paths, server-side
    /// code) are flagged, never blocked: in a prompt such text is far more often code a person
    /// asks about than an attack on the model, and the application behind the model is what
    /// must not execute it. An operator who passes prompts to a database or a shell (a
    /// text-to-SQL agent) sets those categories to `tiered` or `block`.
    fn default() -> Self {
        let mut actions = [CategoryAction::Tiered; Category::COUNT];
        for category in Category::ALL.into_iter().filter(|c| c.is_payload()) {
            if let Some(slot) = actions.get_mut(category.index()) {
                *slot = CategoryAction::Flag;
            }
        }
        ThreatPolicy { block_threshold: 0.85, flag_threshold: 0.5, actions }
    }
}

impl ThreatPolicy {
    pub fn action_for(&self, category: Category) -> CategoryAction {
        self.actions.get(category.index()).copied().unwrap_or(CategoryAction::Tiered)
    }

    pub fn decide(&self, report: &ThreatReport) -> Verdict {
        let mut action = Action::Allow;
        let mut miss = 1.0f32;
        let mut hits: Vec<(Category, f32)> = Vec::new();
        for category in Category::ALL {
            let handling = self.action_for(category);
            if handling == CategoryAction::Off {
                continue;
            }
            let s = report.score(category);
            miss *= 1.0 - s;
            if s < self.flag_threshold {
                continue;
            }
            hits.push((category, s));
            let here = match handling {
                CategoryAction::Block => Action::Block,
                CategoryAction::Flag => Action::Flag,
                CategoryAction::Tiered if s >= self.block_threshold => Action::Block,
                _ => Action::Flag,
            };
            action = action.max(here);
        }
        let score = 1.0 - miss;
        // Weak evidence in several categories can add up to a flag (or a block) on its own.
        let tiered_only = hits.iter().all(|(c, _)| self.action_for(*c) == CategoryAction::Tiered);
        if score >= self.block_threshold && tiered_only && !hits.is_empty() {
            action = action.max(Action::Block);
        } else if score >= self.flag_threshold && action == Action::Allow {
            action = Action::Flag;
        }
        // The learned model corroborates: its evidence may raise a verdict to a flag, never to a
        // block, which stays the rules' decision (a false block costs a person their request; a
        // flag is a header). The score still counts the model.
        if action == Action::Block
            && report.has(super::model::ID)
            && self.decide(&report.without(super::model::ID)).action != Action::Block
        {
            action = Action::Flag;
        }
        if action != Action::Allow && hits.is_empty() {
            // Flagged on evidence that added up across categories, none of them at the flag
            // threshold alone: the verdict names every category that contributed.
            hits = Category::ALL
                .into_iter()
                .filter(|c| self.action_for(*c) != CategoryAction::Off)
                .map(|c| (c, report.score(c)))
                .filter(|(_, s)| *s > 0.0)
                .collect();
        }
        hits.sort_by(|a, b| b.1.total_cmp(&a.1));
        let off = |id: &&'static str| Category::of_rule(id).is_some_and(|c| self.action_for(c) == CategoryAction::Off);
        Verdict {
            action,
            score,
            categories: hits.into_iter().map(|(c, _)| c).collect(),
            rule_ids: report.rule_ids().filter(|id| !off(id)).collect(),
        }
    }
}
