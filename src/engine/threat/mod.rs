//! Threat scanning: prompt injection, jailbreaks, extraction, exfiltration, SQL/XSS payloads.

/// Where a text came from; decides which rules apply and whether it is scanned at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    pub const fn name(self) -> &'static str {
        match self {
            Source::System => "system",
            Source::User => "user",
            Source::Assistant => "assistant",
            Source::Tool => "tool",
            Source::Document => "document",
        }
    }
}
