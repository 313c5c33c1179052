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
    /// Shown as times alone (a busy-only share): its name and UID name nothing of the real
    /// ones, its body holds no text, and a body rendered for it is never the whole one's.
    pub times_only: bool,
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

impl ObjectRef {
    /// This object as a busy-only reader has it, under `name` and `uid`.
    pub fn times_only(self, name: String, uid: String) -> ObjectRef {
        ObjectRef { name, uid, times_only: true, ..self }
    }
}

impl CalendarObject {
    /// The object as a busy-only reader has it: every row times alone, under `name` and
    /// `uid` (see `Event::times_only`).
    pub fn times_only(self, name: String, uid: String) -> CalendarObject {
        let events = self.events.iter().map(|e| Event { uid: uid.clone(), ..e.times_only() }).collect();
        CalendarObject { reference: self.reference.times_only(name, uid), events }
    }

    pub fn master(&self) -> &Event {
        &self.events[0]
    }

    pub fn overrides(&self) -> &[Event] {
        &self.events[1..]
    }
}
