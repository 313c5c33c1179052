//! A busy-only share over CalDAV: its objects are served as times alone, under names and UIDs
//! that tell nothing (a client's UID or file name can hold a meeting's name). Each is a keyed
//! hash of the calendar and the real UID: stable from request to request and from instance to
//! instance (same `SECRET_KEY`), so a sync report can name what changed and what was deleted,
//! and not reversible, so only a lookup over the calendar's objects finds the one a name means.

use sha2::{Digest, Sha256};

use crate::domain::{Calendar, CalendarId, CalendarObject, LoggedChange, ObjectRef};

#[derive(Clone)]
pub struct Masks([u8; 32]);

impl Masks {
    pub fn new(secret: &crate::config::Secret) -> Masks {
        // Its own key, so these names can never be used to test a guess at another secret.
        let mut hasher = Sha256::new();
        hasher.update(b"eventide busy object names\0");
        hasher.update(secret.0);
        Masks(hasher.finalize().into())
    }

    fn stem(&self, calendar: CalendarId, uid: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.0);
        hasher.update(calendar.0.to_be_bytes());
        hasher.update(uid.as_bytes());
        format!("busy-{}", hex::encode(&hasher.finalize()[..16]))
    }

    /// The name a busy reader knows the object with this UID by.
    fn name(&self, calendar: CalendarId, uid: &str) -> String {
        format!("{}.ics", self.stem(calendar, uid))
    }

    /// The object's reference as the calendar's reader may have it.
    pub fn reference(&self, calendar: &Calendar, reference: ObjectRef) -> ObjectRef {
        if calendar.access.sees_details() {
            return reference;
        }
        let stem = self.stem(calendar.id, &reference.uid);
        reference.times_only(format!("{stem}.ics"), format!("{stem}@eventide"))
    }

    /// The object as the calendar's reader may have it.
    pub fn object(&self, calendar: &Calendar, object: CalendarObject) -> CalendarObject {
        if calendar.access.sees_details() {
            return object;
        }
        let stem = self.stem(calendar.id, &object.reference.uid);
        object.times_only(format!("{stem}.ics"), format!("{stem}@eventide"))
    }

    /// The name a deleted object had, for the reader.
    pub fn deleted_name(&self, calendar: &Calendar, change: &LoggedChange) -> Option<String> {
        match calendar.access.sees_details() {
            true => change.deleted_name.clone(),
            false => Some(self.name(calendar.id, &change.uid)),
        }
    }

    /// The stored names of those of `references` (a busy-only calendar's) that a busy
    /// reader's `names` mean.
    pub fn unmask<'a>(
        &self,
        calendar: &Calendar,
        references: &'a [ObjectRef],
        names: &[&str],
    ) -> Vec<&'a str> {
        references
            .iter()
            .filter(|r| names.contains(&self.name(calendar.id, &r.uid).as_str()))
            .map(|r| r.name.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Access, EventId, UserId};

    fn calendar(access: Access) -> Calendar {
        Calendar {
            id: CalendarId(7),
            user_id: UserId(1),
            name: "Work".into(),
            color: "#1a73e8".into(),
            position: 0,
            shown: true,
            is_default: false,
            change_seq: 0,
            feed_token: None,
            dav_name: None,
            public_token: None,
            public_busy: false,
            access,
            owner_name: None,
        }
    }

    #[test]
    fn busy_names_are_stable_and_tell_nothing() {
        let masks = Masks::new(&crate::config::Secret([3; 32]));
        let reference = ObjectRef {
            id: EventId(5),
            uid: "dinner-with-alice@phone".into(),
            name: "dinner-with-alice.ics".into(),
            seq: 2,
            times_only: false,
        };
        let busy = calendar(Access::Busy);
        let masked = masks.reference(&busy, reference.clone());
        assert!(masked.times_only && masked.name.starts_with("busy-") && masked.name.ends_with(".ics"));
        assert!(!masked.name.contains("alice") && !masked.uid.contains("alice"));
        assert_eq!(masked.name, masks.reference(&busy, reference.clone()).name, "stable");
        let other_key = Masks::new(&crate::config::Secret([4; 32]));
        assert_ne!(masked.name, other_key.reference(&busy, reference.clone()).name);
        let references = [reference.clone()];
        assert_eq!(masks.unmask(&busy, &references, &[masked.name.as_str()]), ["dinner-with-alice.ics"]);
        assert!(
            masks.unmask(&busy, &references, &["dinner-with-alice.ics"]).is_empty(),
            "real names are unknown"
        );
        assert_eq!(masks.reference(&calendar(Access::Read), reference.clone()), reference);
    }
}
