//! Threat scanning: prompt injection, jailbreaks, extraction, exfiltration, and web payloads
//! (SQL, script, command, path and server-side code injection).
//!
//! A text is normalised into views (`normalise`), its encoded segments are decoded (`decode`),
//! the rule tables (`rules`, plus `shell`, `path` and `code` for machine payloads, whose rules
//! count for half in text that reads as sentences) run over the views, the SQL token checks
//! (`sqli`) look for SQL injection, and the hits add up to scores (`score`) that a
//! `ThreatPolicy` turns into a `Verdict`. Payload hits in text about code (`markup` tells
//! conventional script includes, `minified` minified JavaScript) count for less. Replies are
//! checked by `reply`, raw input by `hygiene`.

/// A 256-entry table of byte classes, computed at compile time: `byte_table!(|c| class of c)`.
macro_rules! byte_table {
    (|$c:ident| $class:expr) => {{
        let mut table = [0; 256];
        let mut b = 0;
        while b < 256 {
            let $c = b as u8;
            table[b] = $class;
            b += 1;
        }
        table
    }};
}

pub mod catalogue;
mod code;
pub mod decode;
mod gate;
pub mod hygiene;
mod languages;
mod markup;
mod minified;
pub mod model;
pub mod model_file;
pub mod normalise;
pub mod operator;
mod path;
pub mod reply;
mod rules;
mod scanner;
pub mod score;
mod shell;
mod sqli;
pub mod suffix;

pub use hygiene::{check_hygiene, ControlChars, HygieneSettings, HygieneViolation};
pub use reply::{ReplyFinding, ReplyScanner, ReplySettings};
pub use scanner::{ThreatScanner, ThreatSettings};
pub use score::{Action, CategoryAction, ThreatPolicy, ThreatReport, Verdict};

/// Where a text came from; decides which rules apply and whether it is scanned at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    System,
    User,
    Assistant,
    /// Tool results and function outputs.
    Tool,
    /// Retrieved documents and other context the application inserted.
    Document,
}

impl Source {
    pub const ALL: [Source; 5] = [Source::System, Source::User, Source::Assistant, Source::Tool, Source::Document];

    pub const fn name(self) -> &'static str {
        match self {
            Source::System => "system",
            Source::User => "user",
            Source::Assistant => "assistant",
            Source::Tool => "tool",
            Source::Document => "document",
        }
    }

    /// Text the application took from elsewhere: instructions inside it are not the user's.
    pub const fn is_data(self) -> bool {
        matches!(self, Source::Tool | Source::Document)
    }
}

/// A family of attack. `name()` is used in metric labels and response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// "Ignore previous instructions" and its relatives.
    InstructionOverride,
    /// Persona and role-play jailbreaks (DAN, developer mode, "no restrictions").
    Jailbreak,
    /// Attempts to make the model reveal its system prompt.
    SystemPromptExtraction,
    /// Requests to send credentials or data somewhere.
    Exfiltration,
    /// Fake role or delimiter tags (chat-template tokens, `</system>`, `[INST]`).
    DelimiterInjection,
    /// Instructions addressed to the model inside tool results or documents.
    IndirectInjection,
    /// SQL injection payloads and destructive database requests.
    Sqli,
    /// Script injection payloads.
    Xss,
    /// Hidden characters and encoded payloads.
    Obfuscation,
    /// Shell commands chained onto a value: `;cat /etc/passwd`, `$(...)`, `| nc`, PowerShell.
    CommandInjection,
    /// Reaching files outside the intended place: `../` in any encoding, `/etc/passwd`,
    /// `php://` and `file://` wrappers, null bytes that cut an extension off.
    PathTraversal,
    /// Template, expression-language and server-side code injection: `{{7*7}}`, `${jndi:`,
    /// `<?php`, Java runtime and Node.js process access.
    CodeInjection,
}

impl Category {
    pub const COUNT: usize = 12;
    pub const ALL: [Category; Category::COUNT] = [
        Category::InstructionOverride,
        Category::Jailbreak,
        Category::SystemPromptExtraction,
        Category::Exfiltration,
        Category::DelimiterInjection,
        Category::IndirectInjection,
        Category::Sqli,
        Category::Xss,
        Category::Obfuscation,
        Category::CommandInjection,
        Category::PathTraversal,
        Category::CodeInjection,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Category::InstructionOverride => "instruction_override",
            Category::Jailbreak => "jailbreak",
            Category::SystemPromptExtraction => "system_prompt_extraction",
            Category::Exfiltration => "exfiltration",
            Category::DelimiterInjection => "delimiter_injection",
            Category::IndirectInjection => "indirect_injection",
            Category::Sqli => "sqli",
            Category::Xss => "xss",
            Category::Obfuscation => "obfuscation",
            Category::CommandInjection => "command_injection",
            Category::PathTraversal => "path_traversal",
            Category::CodeInjection => "code_injection",
        }
    }

    /// Machine payloads aimed at the application behind the model (SQL, markup, shell, paths,
    /// server-side code) rather than at the model: in a prompt they are flagged by default,
    /// not blocked, and in text about code they count for less (see the scanner).
    pub const fn is_payload(self) -> bool {
        matches!(
            self,
            Category::Sqli
                | Category::Xss
                | Category::CommandInjection
                | Category::PathTraversal
                | Category::CodeInjection
        )
    }

    /// Attacks on the model itself: neither a machine payload nor obfuscation. Naming a model
    /// (`PG-JB-017`) is context only for these, and the learned model corroborates only these.
    pub fn is_about_the_model(self) -> bool {
        !self.is_payload() && self != Category::Obfuscation
    }

    /// The two letters that follow `PG-` in the ids of this category's rules.
    pub const fn rule_prefix(self) -> &'static str {
        match self {
            Category::InstructionOverride => "IO",
            Category::Jailbreak => "JB",
            Category::SystemPromptExtraction => "PE",
            Category::Exfiltration => "EX",
            Category::DelimiterInjection => "DL",
            Category::IndirectInjection => "II",
            Category::Sqli => "SQ",
            Category::Xss => "XS",
            Category::Obfuscation => "OB",
            Category::CommandInjection => "CI",
            Category::PathTraversal => "PT",
            Category::CodeInjection => "CO",
        }
    }

    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The category a rule id belongs to (`PG-SQ-003` -> `Sqli`).
    pub fn of_rule(id: &str) -> Option<Category> {
        let prefix = id.strip_prefix("PG-")?.get(..2)?;
        Category::ALL.into_iter().find(|c| c.rule_prefix() == prefix)
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}
