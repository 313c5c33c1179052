//! Calendar objects in and out: an object's rows as one iCalendar body (whole, or expanded
//! into its occurrences in a range), which objects a time range matches, and a PUT body
//! planned into the changes the write path applies. What the importer cannot represent is
//! refused here, with the reason, before anything is written.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::error::{DavError, Precondition};
use super::request::{MatchedProperty, TextMatch, TimeRange};
use crate::domain::recurrence::parse_exdates;
use crate::domain::{CalendarId, CalendarObject, Change, Event};
use crate::ical::export;
use crate::ical::import::{self, Imported};
use crate::ical::parse::parse;

/// No expansion yields more occurrences of one object than this.
const OCCURRENCES_MAX: usize = 1000;

/// The object as iCalendar. Deterministic: its VTIMEZONE years are reckoned from the object's
/// own last change, not from today, so the same rows always give the same bytes (the ETag
/// promises as much).
pub fn body(object: &CalendarObject) -> String {
    render(&object.events)
}

fn render(events: &[Event]) -> String {
    let stamp = events.iter().map(|e| e.updated_at).max().unwrap_or_default();
    export::calendar(events, &export::Calendar { name: "", color: None, refresh: None }, stamp)
}

/// RFC 4791 9.6.5: every occurrence overlapping `range` as a VEVENT of its own, with its
/// RECURRENCE-ID, in UTC, without rules.
pub fn expanded_body(object: &CalendarObject, range: TimeRange) -> String {
    let occurrences: Vec<Event> = occurrences(object, range)
        .into_iter()
        .map(|mut e| {
            e.rrule = None;
            e.exdates.clear();
            e.series_id = None;
            if !e.all_day {
                e.tzid = "UTC".into();
            }
            e
        })
        .collect();
    render(&occurrences)
}

/// Whether an occurrence of the object overlaps `range` (RFC 4791 9.9: it starts before the
/// range ends and ends after it starts; an instant inside it counts).
pub fn overlaps(object: &CalendarObject, range: TimeRange) -> bool {
    !occurrences(object, range).is_empty()
}

fn overlapping(start: DateTime<Utc>, end: DateTime<Utc>, range: TimeRange) -> bool {
    if start == end {
        start >= range.from && start < range.until
    } else {
        start < range.until && end > range.from
    }
}

/// The object's occurrences in `range`: for a series, the rule's (less cancelled and edited
/// ones) as copies of the series row at their start, and the edited ones as they are.
fn occurrences(object: &CalendarObject, range: TimeRange) -> Vec<Event> {
    let master = object.master();
    let mut found: Vec<Event> = Vec::new();
    match master.rule() {
        None => {
            if overlapping(master.start_at, master.end_at, range) {
                found.push(master.clone());
            }
        }
        Some(rule) => {
            let mut cancelled = parse_exdates(&master.exdates);
            cancelled.extend(object.overrides().iter().filter_map(|o| o.recurrence_id));
            let series = crate::domain::recurrence::Series::stored(
                &rule,
                master.zone(),
                master.all_day,
                master.start_at,
                master.end_at,
                cancelled,
            );
            if let Ok(series) = series {
                let duration = series.duration();
                for start in series.overlapping(range.from, range.until, OCCURRENCES_MAX) {
                    if overlapping(start, start + duration, range) {
                        let mut occurrence = master.clone();
                        occurrence.start_at = start;
                        occurrence.end_at = start + duration;
                        occurrence.recurrence_id = Some(start);
                        found.push(occurrence);
                    }
                }
            }
        }
    }
    found.extend(object.overrides().iter().filter(|o| overlapping(o.start_at, o.end_at, range)).cloned());
    found.sort_by_key(|e| e.start_at);
    found
}

/// Whether one of the object's events (the series, or an edited occurrence) satisfies every
/// text match.
pub fn text_matches(object: &CalendarObject, matches: &[TextMatch]) -> bool {
    matches.is_empty()
        || object.events.iter().any(|event| {
            matches.iter().all(|m| {
                let value = match m.property {
                    MatchedProperty::Uid => &event.uid,
                    MatchedProperty::Summary => &event.title,
                    MatchedProperty::Description => &event.description,
                    MatchedProperty::Location => &event.location,
                };
                let found = if m.case_sensitive {
                    value.contains(&m.text)
                } else {
                    value.to_lowercase().contains(&m.text.to_lowercase())
                };
                found != m.negate
            })
        })
}

/// A PUT body, read and checked: the object's UID and the changes that make the stored
/// object say what the body says.
pub struct PlannedPut {
    pub uid: String,
    pub changes: Vec<Change>,
}

/// Plans a PUT of `text` as the object `name` in `calendar`, over `existing` (the object at
/// that name, if any). Times without a zone are in `zone` (the user's).
pub fn plan_put(
    text: &str,
    zone: Tz,
    calendar: CalendarId,
    name: &str,
    existing: Option<&CalendarObject>,
) -> Result<PlannedPut, DavError> {
    let invalid = |why: String| DavError::Forbidden(Precondition::ValidCalendarObjectResource(why));
    let parsed =
        parse(text).map_err(|e| DavError::Forbidden(Precondition::ValidCalendarData(e.to_string())))?;
    if !parsed.name.eq_ignore_ascii_case("VCALENDAR") {
        return Err(DavError::Forbidden(Precondition::ValidCalendarData("not a VCALENDAR".into())));
    }
    if parsed.children.iter().any(|c| !matches!(c.name.as_str(), "VEVENT" | "VTIMEZONE")) {
        return Err(DavError::Forbidden(Precondition::SupportedCalendarComponent));
    }
    let read = import::read_parsed(&parsed, zone);
    if let Some(failure) = read.failures.first() {
        return Err(invalid(format!("{}: {}", failure.event, failure.reason)));
    }
    let uid = match read.events.first() {
        Some(first) => first.uid.clone(),
        None => return Err(invalid("it holds no event (VEVENT)".into())),
    };
    if read.events.iter().any(|e| e.uid != uid) {
        return Err(invalid("a resource holds one event or series: one UID".into()));
    }
    if read.events.iter().any(|e| e.recurrence_id.is_none() && e.cancelled) {
        return Err(invalid(
            "cancelled events (STATUS:CANCELLED) are not kept; delete the event instead".into(),
        ));
    }
    if let Some(existing) = existing {
        if existing.reference.uid != uid {
            return Err(invalid("the UID of a stored event cannot change".into()));
        }
    }
    let kept: HashSet<DateTime<Utc>> = kept_occurrences(&read.events);
    let rows: &[Event] = existing.map_or(&[], |o| &o.events);
    let plan = import::plan(read.events, Vec::new(), rows, zone, calendar);
    if let Some(failure) = plan.failures.first() {
        return Err(invalid(format!("{}: {}", failure.event, failure.reason)));
    }
    let mut changes = plan.changes;
    for change in &mut changes {
        if let Change::Insert(new) = change {
            if new.series.is_none() {
                new.dav_name = Some(name.to_string());
            }
        }
    }
    // The body is the whole object: edited occurrences it no longer has are gone.
    if let Some(existing) = existing {
        let dropped =
            existing.overrides().iter().filter(|o| o.recurrence_id.is_none_or(|at| !kept.contains(&at)));
        changes.extend(dropped.map(|o| Change::Delete(o.id)));
    }
    Ok(PlannedPut { uid, changes })
}

/// The edited occurrences a body keeps (not cancelled ones: those are cancelled dates).
fn kept_occurrences(events: &[Imported]) -> HashSet<DateTime<Utc>> {
    events.iter().filter(|e| !e.cancelled).filter_map(|e| e.recurrence_id).collect()
}
