//! Where things are shown: the URLs pages link to.

use crate::domain::recurrence::compact;
use crate::domain::EventSummary;

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
