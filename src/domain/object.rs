//! Calendar objects, as CalDAV clients see a calendar: each plain event, and each series with
//! its edited occurrences (the rows sharing a UID), is one resource with a name and an ETag.

use super::{Event, EventId};

/// The name of an object whose client never named it (made on the web, imported, or moved
/// from another calendar).
pub fn default_object_name(uid: &str) -> String {
    format!("{uid}.ics")
}

/// An object's identity in its calendar: its series (or only) row, its UID, its resource name
/// and the calendar change number of its last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub id: EventId,
    pub uid: String,
    pub name: String,
    pub seq: i64,
}

impl ObjectRef {
    /// Strong: it changes with every committed change of the object, and only then. The row
    /// id makes it unique across objects, the change number across versions.
    pub fn etag(&self) -> String {
        format!("\"{}-{}\"", self.id.0, self.seq)
    }
}

/// An object with its rows: the series (or only) event first, then its edited occurrences.
#[derive(Debug, Clone)]
pub struct CalendarObject {
    pub reference: ObjectRef,
    pub events: Vec<Event>,
}

impl CalendarObject {
    pub fn master(&self) -> &Event {
        &self.events[0]
    }

    pub fn overrides(&self) -> &[Event] {
        &self.events[1..]
    }
}
