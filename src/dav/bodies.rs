//! Rendered object bodies, by version. An object's body is a function of its rows, and its
//! version (`ObjectRef`: row id and change number) changes whenever a row does, so a body
//! stored under a version can never be stale, on any instance: no invalidation exists or is
//! needed. A month's report then reads the objects' times, not their texts, and copies
//! bodies it already has. Bounded: past the budget the map starts afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::objects;
use crate::domain::{CalendarObject, EventId, ObjectRef};

/// About 45,000 typical events.
const BUDGET_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
struct Stored {
    /// By version and view: a busy-only reader's body (`times_only`) is stored apart from
    /// the whole one of the same version, so neither can ever be served for the other.
    bodies: HashMap<(EventId, i64, bool), Arc<str>>,
    bytes: usize,
}

fn key(reference: &ObjectRef) -> (EventId, i64, bool) {
    (reference.id, reference.seq, reference.times_only)
}

#[derive(Clone, Default)]
pub struct Bodies(Arc<Mutex<Stored>>);

impl Bodies {
    pub fn get(&self, reference: &ObjectRef) -> Option<Arc<str>> {
        let stored = self.0.lock().ok()?;
        stored.bodies.get(&key(reference)).cloned()
    }

    fn put(&self, reference: &ObjectRef, body: Arc<str>) {
        let Ok(mut stored) = self.0.lock() else { return };
        if stored.bytes + body.len() > BUDGET_BYTES {
            stored.bodies.clear();
            stored.bytes = 0;
        }
        stored.bytes += body.len();
        if let Some(old) = stored.bodies.insert(key(reference), body) {
            stored.bytes -= old.len();
        }
    }

    /// The object's body: the stored one for its version, or rendered now and stored.
    pub fn body(&self, object: &CalendarObject) -> Arc<str> {
        if let Some(body) = self.get(&object.reference) {
            return body;
        }
        let body: Arc<str> = objects::body(object).into();
        self.put(&object.reference, body.clone());
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_kept_by_version_within_a_budget() {
        let bodies = Bodies::default();
        let reference =
            |seq| ObjectRef { id: EventId(1), uid: "u".into(), name: "u.ics".into(), seq, times_only: false };
        bodies.put(&reference(1), "one".into());
        assert_eq!(bodies.get(&reference(1)).as_deref(), Some("one"));
        assert_eq!(bodies.get(&reference(2)), None, "another version is another body");
        bodies.put(&reference(2), "x".repeat(BUDGET_BYTES).into());
        assert_eq!(bodies.get(&reference(1)), None, "past the budget the map starts afresh");
        assert!(bodies.0.lock().unwrap().bytes <= BUDGET_BYTES);
    }

    #[test]
    fn a_busy_readers_body_is_never_the_whole_one() {
        let bodies = Bodies::default();
        let whole =
            ObjectRef { id: EventId(1), uid: "u".into(), name: "u.ics".into(), seq: 1, times_only: false };
        bodies.put(&whole, "SUMMARY:Secret".into());
        let busy = whole.clone().times_only("busy-x.ics".into(), "busy-x".into());
        assert_eq!(bodies.get(&busy), None);
    }
}
