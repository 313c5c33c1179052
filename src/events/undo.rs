//! "Undo" for the calendar's quick actions (a drag, a delete): before the change goes through
//! the write path, the rows it touches are kept for a minute under a random token in the
//! sessions' key-value store (never the evictable cache); undoing puts those rows back as they
//! were and removes what the change inserted, again through the write path, in one `apply`.
//! Kept server-side, so whatever the change did to a series (a split, an edited occurrence,
//! exceptions) comes back exactly, and the browser never holds more than the token.

use std::time::Duration;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use serde::{Deserialize, Serialize};

use crate::domain::{CalendarId, Change, Event, EventId, NewEvent, SeriesRef, UserId};
use crate::error::AppError;
use crate::kv::{Backends, Kv};
use crate::store::{Applied, Store};
use crate::writes::Writes;

/// The write path, with somewhere to keep what undoes a change.
pub struct Undoing<'r> {
    pub writes: Writes<'r>,
    pub kv: &'r Kv,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Undoing<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let writes = rocket::outcome::try_outcome!(request.guard::<Writes<'r>>().await);
        match request.rocket().state::<Backends>() {
            Some(backends) => Outcome::Success(Undoing { writes, kv: &backends.sessions }),
            None => Outcome::Error((Status::InternalServerError, ())),
        }
    }
}

/// Long enough for the toast and a slow hand; short enough that undoing never surprises.
const KEEP: Duration = Duration::from_secs(60);

/// Who makes a change, and whose events it changes (the same user, or the owner of a
/// calendar shared with the author to write).
#[derive(Debug, Clone, Copy)]
pub struct By {
    pub author: UserId,
    pub owner: UserId,
}

#[derive(Serialize, Deserialize)]
struct Before {
    /// Whose rows these are.
    owner: UserId,
    /// The touched rows as they were (a series with its edited occurrences).
    events: Vec<Event>,
    /// Rows the change created (a split series' second part, an edited occurrence).
    inserted: Vec<EventId>,
}

fn key(owner: UserId, token: &str) -> String {
    format!("undo:{}:{token}", owner.0)
}

/// The rows `changes` will touch, read before they are applied.
pub async fn before_images(store: &Store, owner: UserId, changes: &[Change]) -> Result<Vec<Event>, AppError> {
    let mut events: Vec<Event> = Vec::new();
    for change in changes {
        let id = match change {
            Change::Update { id, .. }
            | Change::Delete(id)
            | Change::Reparent { id, .. }
            | Change::Move { id, .. } => *id,
            Change::Insert(_) => continue,
        };
        if events.iter().any(|e| e.id == id) {
            continue;
        }
        let Some(event) = store.event_for(owner, id).await? else { continue };
        // A series' edited occurrences go (or move) with it.
        if event.rrule.is_some() {
            let overrides = store.overrides_of(owner, id).await?;
            events.retain(|e| !overrides.iter().any(|o| o.id == e.id));
            events.push(event);
            events.extend(overrides);
        } else {
            events.push(event);
        }
    }
    Ok(events)
}

/// Applies `changes` and keeps what undoes them; the token is `None` when the key-value store
/// is down (the change itself still goes through: undo is a convenience, not a promise).
pub async fn apply_undoably(
    store: &Store,
    writes: &Writes<'_>,
    kv: &Kv,
    by: By,
    changes: Vec<Change>,
) -> Result<(Applied, Option<String>), AppError> {
    let events = before_images(store, by.owner, &changes).await?;
    let applied = writes.apply_as(by.author, by.owner, changes).await?;
    let before = Before { owner: by.owner, events, inserted: applied.inserted.clone() };
    let token = hex::encode(rand::random::<[u8; 16]>());
    let kept = match serde_json::to_vec(&before) {
        Ok(bytes) => kv.set(&key(by.author, &token), &bytes, KEEP).await.is_ok(),
        Err(_) => false,
    };
    Ok((applied, kept.then_some(token)))
}

/// Puts back what the token kept. An unknown, expired or already used token is a 404; an
/// undo in a calendar the author may no longer write to is a 403.
pub async fn undo(
    store: &Store,
    writes: &Writes<'_>,
    kv: &Kv,
    author: UserId,
    token: &str,
) -> Result<(), AppError> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let key = key(author, token);
    let bytes = kv.get(&key).await?.ok_or(AppError::NotFound)?;
    // Used once: a second click finds nothing to undo.
    kv.delete(&key).await?;
    let before: Before = serde_json::from_slice(&bytes).map_err(|_| AppError::NotFound)?;
    let owner = before.owner;
    if owner != author {
        let mut calendars: Vec<CalendarId> = before.events.iter().map(|e| e.calendar_id).collect();
        calendars.dedup();
        for calendar in calendars {
            let seen = store.calendar_seen_by(author, calendar).await?;
            if !seen.is_some_and(|c| c.access.can_write()) {
                return Err(AppError::ReadOnly);
            }
        }
    }
    let mut present = Vec::new();
    for event in &before.events {
        present.push(store.event_for(owner, event.id).await?);
    }
    writes.apply_as(author, owner, restoring(before, &present)).await?;
    Ok(())
}

/// The changes that bring `before` back, given what each of its rows is now (`None`: gone).
/// Rows still there are restored first (an edited occurrence goes back to its series before
/// a split-off part is deleted, which would take it along), then what the change inserted is
/// deleted, then deleted rows come back (a series first, its edited occurrences after it).
fn restoring(before: Before, present: &[Option<Event>]) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut gone = Vec::new();
    for (was, now) in before.events.into_iter().zip(present) {
        let Some(now) = now else {
            gone.push(was);
            continue;
        };
        if let (Some(series), Some(at)) = (was.series_id, was.recurrence_id) {
            if now.series_id != was.series_id || now.recurrence_id != was.recurrence_id {
                changes.push(Change::Reparent {
                    id: was.id,
                    series: SeriesRef::Existing(series),
                    recurrence_id: at,
                });
            }
        }
        if now.calendar_id != was.calendar_id {
            changes.push(Change::Move { id: was.id, calendar: was.calendar_id });
        }
        changes.push(Change::Update { id: was.id, draft: was.draft(), exdates: was.exdates.clone() });
    }
    changes.extend(before.inserted.into_iter().map(Change::Delete));
    let (series, occurrences): (Vec<Event>, Vec<Event>) =
        gone.into_iter().partition(|e| e.series_id.is_none());
    let mut orphans = occurrences;
    for master in series {
        let (own, rest): (Vec<Event>, Vec<Event>) =
            orphans.into_iter().partition(|o| o.series_id == Some(master.id));
        orphans = rest;
        changes.push(reinsert(master, None));
        changes.extend(own.into_iter().map(|o| reinsert(o, Some(SeriesRef::Inserted))));
    }
    changes.extend(orphans.into_iter().map(|o| {
        let series = o.series_id.map(SeriesRef::Existing);
        reinsert(o, series)
    }));
    changes
}

/// A deleted row again, under its own UID (so calendar clients see the same event back).
fn reinsert(event: Event, series: Option<SeriesRef>) -> Change {
    let series = series.zip(event.recurrence_id);
    Change::Insert(NewEvent {
        calendar: event.calendar_id,
        draft: event.draft(),
        uid: event.uid.clone(),
        exdates: event.exdates.clone(),
        series,
        dav_name: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CalendarId, EventId};
    use chrono::{TimeZone, Utc};

    fn event(id: i64, series: Option<i64>) -> Event {
        let start = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).single().unwrap_or_default();
        Event {
            id: EventId(id),
            user_id: UserId(1),
            calendar_id: CalendarId(1),
            title: format!("e{id}"),
            description: String::new(),
            location: String::new(),
            all_day: false,
            start_at: start,
            end_at: start + chrono::Duration::hours(1),
            created_at: start,
            updated_at: start,
            uid: format!("u{id}"),
            rrule: series.is_none().then(|| "FREQ=DAILY".to_string()),
            tzid: "UTC".into(),
            exdates: String::new(),
            series_id: series.map(EventId),
            recurrence_id: series.map(|_| start),
            extra: String::new(),
            reminders: crate::domain::Reminders::none(),
        }
    }

    #[test]
    fn a_deleted_series_comes_back_before_its_edited_occurrences() {
        let before =
            Before { owner: UserId(1), events: vec![event(1, None), event(2, Some(1))], inserted: vec![] };
        let changes = restoring(before, &[None, None]);
        assert!(matches!(&changes[0], Change::Insert(n) if n.series.is_none() && n.uid == "u1"));
        assert!(
            matches!(&changes[1], Change::Insert(n) if n.series.map(|s| s.0) == Some(SeriesRef::Inserted))
        );
    }

    #[test]
    fn an_occurrence_goes_back_to_its_series_before_the_split_off_part_is_deleted() {
        let before = Before {
            owner: UserId(1),
            events: vec![event(1, None), event(2, Some(1))],
            inserted: vec![EventId(9)],
        };
        let mut moved = event(2, Some(9));
        moved.start_at += chrono::Duration::hours(2);
        let changes = restoring(before, &[Some(event(1, None)), Some(moved)]);
        let reparent = changes.iter().position(|c| matches!(c, Change::Reparent { id: EventId(2), .. }));
        let delete = changes.iter().position(|c| matches!(c, Change::Delete(EventId(9))));
        assert!(reparent.is_some() && delete.is_some() && reparent < delete);
    }
}
