//! What happened in an exchange, as typed events: the host counts them (one metric per event kind,
//! declared up front from these enums), and a later audit record reads the same events. Every
//! label value is an enum with its metric label string, never a free string matched by hand.

use crate::entity::EntityKind;
use crate::keys::OpenError;
use crate::policy::reply::ReplyAction;
use crate::policy::PolicyId;
use crate::threat::{Action, Category};

/// A closed set of label values for one metric: every value is declared up front, and the index
/// of a value is its place in `ALL`, so a host keeps one counter per value in a plain array.
pub trait Label: Copy + Sized + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The label value as it appears in the metric name.
    fn label(self) -> &'static str;
    /// This value's place in `ALL`.
    fn index(self) -> usize;
}

/// Declares a label enum: variants with their label strings, `ALL`, `label()` and `index()`.
macro_rules! labels {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl Label for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)+];
            fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

labels! {
    /// Why a request was refused, or forwarded uninspected under `fail_open`.
    Reason {
        BodyTooLarge => "body_too_large",
        InvalidUtf8 => "invalid_utf8",
        MalformedJson => "malformed_json",
        DuplicateKey => "duplicate_key",
        MalformedMultipart => "malformed_multipart",
        UnsupportedContentType => "unsupported_content_type",
        UnsupportedEncoding => "unsupported_encoding",
        CorruptEncoding => "corrupt_encoding",
        TooManyEntities => "too_many_entities",
        PromptTooLong => "prompt_too_long",
        ControlCharacters => "control_characters",
        Threat => "threat",
        /// The trusted policy header named a policy the configuration does not have.
        UnknownPolicy => "unknown_policy",
        /// The host failed the filter (a header or body could not be read or written).
        Internal => "internal",
    }
}

labels! {
    /// Why a reply went to the client without its placeholders restored.
    Unrestored {
        TooLarge => "too_large",
        UnsupportedEncoding => "unsupported_encoding",
        CorruptEncoding => "corrupt_encoding",
        NotUtf8 => "not_utf8",
    }
}

labels! {
    /// Streams that were not what they declared.
    StreamAnomaly {
        /// Ended mid-event or mid-placeholder, or cut by an upstream reset or a client abort.
        Truncated => "truncated",
        /// Declared as an event stream but was not one.
        NotSse => "not_sse",
        /// An event larger than the framer holds.
        OversizedEvent => "oversized_event",
        /// Compressed and inflating past `max_response_bytes`: ended with an error event.
        InflateLimit => "inflate_limit",
    }
}

labels! {
    /// What a reply may carry that the request did not.
    ReplyFindingKind {
        /// A link or image removed: it carried this conversation's data or went to a denied host.
        ExfiltrationLink => "exfiltration_link",
        /// A data-shaped link to a host that is not allowed: reported, passed.
        LinkReported => "link_reported",
        /// The system-prompt canary.
        CanaryLeak => "canary_leak",
        Secret => "secret",
        Pii => "pii",
    }
}

labels! {
    /// Why a sealed value at rest (a session record) did not open; it was treated as absent.
    Unopened {
        /// Sealed under a key no longer held (rotated out without waiting a TTL).
        UnknownKey => "unknown_key",
        /// Altered, or another identity's.
        Tampered => "tampered",
        Malformed => "malformed",
    }
}

impl From<OpenError> for Unopened {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::UnknownKey => Unopened::UnknownKey,
            OpenError::Tampered => Unopened::Tampered,
            OpenError::Malformed => Unopened::Malformed,
        }
    }
}

labels! {
    /// The operation of a call to the filter's own API.
    ApiOperation {
        Anonymize => "anonymize",
        Restore => "restore",
    }
}

labels! {
    /// How a call to the filter's own API ended: `ok`, or the `type` of its error (docs/api.md).
    ApiOutcome {
        Ok => "ok",
        Blocked => "blocked",
        TooLarge => "too_large",
        UnsupportedMediaType => "unsupported_media_type",
        Policy => "policy",
        InvalidRequest => "invalid_request",
        MethodNotAllowed => "method_not_allowed",
        Mapping => "mapping",
        Unavailable => "unavailable",
        Internal => "internal",
    }
}

/// One thing that happened in an exchange. Counts are how many at once (0 counts nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A request on a guarded route with a body is inspected.
    Inspected,
    /// Something was masked in the request.
    WithFindings,
    /// Texts answered from the scan memo.
    MemoHits(u64),
    /// Values of one entity label masked. Entity labels come from the configuration.
    Masked {
        label: &'a str,
        count: u64,
    },
    Rejected(Reason),
    FailOpen(Reason),
    /// A threat verdict that flagged or blocked the request, per category.
    Verdict {
        category: Category,
        action: Action,
    },
    Restored(u64),
    /// Placeholder-shaped tokens this exchange did not issue.
    Misses(u64),
    Unrestored(Unrestored),
    Stream {
        anomaly: StreamAnomaly,
        count: u64,
    },
    ReplyFinding {
        kind: ReplyFindingKind,
        count: u64,
    },
    /// Values of one type in a reply that the exchange did not mask, and what the reply policy
    /// did with them (`pass` counts them only).
    ReplyEntity {
        kind: EntityKind,
        action: ReplyAction,
        count: u64,
    },
    /// An inspected request runs under this policy (selected by route, trusted header or default).
    UnderPolicy(PolicyId),
    /// Values masked in a request under this policy (all types).
    MaskedUnder {
        policy: PolicyId,
        count: u64,
    },
    /// A sealed record in shared data did not open and was treated as absent.
    SealedUnopened(Unopened),
    /// A call to the filter's own API was answered.
    ApiCall {
        operation: ApiOperation,
        outcome: ApiOutcome,
    },
}

/// The actions a verdict is counted under (an allowed request has no verdict).
pub const VERDICT_ACTIONS: [Action; 2] = [Action::Block, Action::Flag];

#[cfg(test)]
mod tests {
    use super::*;

    fn check<L: Label + std::fmt::Debug>() {
        let mut seen = Vec::new();
        for (i, value) in L::ALL.iter().enumerate() {
            assert_eq!(value.index(), i, "{value:?}");
            let text = value.label();
            assert!(
                !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{text}"
            );
            assert!(!seen.contains(&text), "{text} twice");
            seen.push(text);
        }
    }

    #[test]
    fn label_values_are_distinct_metric_safe_and_indexed_in_order() {
        check::<Reason>();
        check::<Unrestored>();
        check::<StreamAnomaly>();
        check::<ReplyFindingKind>();
        check::<Unopened>();
        check::<ApiOperation>();
        check::<ApiOutcome>();
    }
}
