//! Where things are shown: the URLs pages link to.

use crate::domain::recurrence::compact;
use crate::domain::EventSummary;
use crate::web::markup::Markup;

/// The event's page, or this occurrence's of a series (`?at=` names it by its start); empty
/// for an event of a busy-only share, which has no page its reader may open.
pub fn event_href(event: &EventSummary) -> String {
    if event.busy {
        return String::new();
    }
    match event.occurrence {
        Some(at) => format!("/events/{}?at={}", event.id.0, compact(at)),
        None => format!("/events/{}", event.id.0),
    }
}

/// `event_href` written into markup.
pub fn push_event_href(out: &mut Markup, event: &EventSummary) {
    out.html("/events/").number_i64(event.id.0);
    if let Some(at) = event.occurrence {
        out.html("?at=").compact_instant(at);
    }
}
