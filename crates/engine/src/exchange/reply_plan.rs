//! What the filter does with a reply, decided when its headers arrive (see `plan` for when a
//! reply is held at all).

use super::refusal::LocalReply;
use crate::config::FilterConfig;
use crate::encoding::ContentEncoding;
use crate::event::{Event, Label, Reason, Unrestored};
use crate::plan::{reply_handling, ReplyHandling};
use crate::policy::ReplyPolicy;
use crate::protocol::Api;
use crate::vault::Vault;

/// The reply's headers, as the host gives them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplyHead<'a> {
    /// The reply has no body.
    pub end_of_stream: bool,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
}

/// What the filter does with a reply's body.
#[derive(Debug, PartialEq)]
pub enum ReplyPlan {
    /// Forwarded as it comes, never held.
    Pass,
    /// Held whole, decoded, restored and checked. Decoded bytes go on uncompressed, so a
    /// `content-encoding` other than identity is removed with `content-length`.
    Buffer { encoding: ContentEncoding },
    /// Server-sent events, restored as they flow; decoded in bounded steps when compressed (the
    /// `content-encoding` header is then removed).
    Stream { encoding: ContentEncoding },
    /// A reply the filter cannot read although it must: our own 502 instead.
    Answer(LocalReply),
}

/// Does the content type declare server-sent events?
pub fn is_event_stream(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("text/event-stream"))
}

/// Plan the reply of a request to `api` whose placeholders are in `vault`. When nothing of ours
/// can be in the reply, the vault forgets its values so only inspection remains.
pub fn plan_reply(
    cfg: &FilterConfig,
    reply: &ReplyPolicy,
    api: Api,
    vault: &mut Vault,
    head: ReplyHead<'_>,
    emit: &mut dyn FnMut(Event<'_>),
) -> ReplyPlan {
    let restores = vault.restores_anything() && cfg.restore_responses;
    if !restores {
        vault.forget_values();
    }
    // Held only when something needs the text: an embeddings reply, or any reply with nothing to
    // restore and no reply check, passes whatever its size.
    // The reply policy acting on values the exchange did not mask needs the text too.
    let checks = cfg.threats.enabled || reply.acts();
    if head.end_of_stream || reply_handling(api, restores, checks) == ReplyHandling::PassThrough {
        return ReplyPlan::Pass;
    }
    let Ok(encoding) = ContentEncoding::parse(head.content_encoding) else {
        emit(Event::Unrestored(Unrestored::UnsupportedEncoding));
        return ReplyPlan::Answer(LocalReply::error(
            api,
            502,
            Unrestored::UnsupportedEncoding.label(),
            "the upstream reply uses a content encoding the gateway cannot read",
        ));
    };
    if is_event_stream(head.content_type) {
        ReplyPlan::Stream { encoding }
    } else {
        ReplyPlan::Buffer { encoding }
    }
}

/// A buffered reply that grew past `max_response_bytes`: a plain one goes on as it is
/// (placeholders stay visible, nothing leaks); a compressed one cannot go on, since its
/// `content-encoding` header was already removed, so it becomes our own 502.
pub fn buffered_over_limit(api: Api, encoding: ContentEncoding, emit: &mut dyn FnMut(Event<'_>)) -> Option<LocalReply> {
    emit(Event::Unrestored(Unrestored::TooLarge));
    (encoding != ContentEncoding::Identity).then(|| {
        LocalReply::error(api, 502, Reason::BodyTooLarge.label(), "the upstream reply is too large to inspect")
    })
}
