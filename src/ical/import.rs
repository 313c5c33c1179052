//! Importing an `.ics` file: every VEVENT becomes an event, a series or an edited occurrence,
//! or a reported failure with its reason; the rest of the file still imports. The plan says
//! what will be created, updated (same UID) and left as it is, so importing the same file
//! twice changes nothing.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::parse::{parse, unescape_text, Component, ParseError, Property};
use super::zones::resolve_zone;
use crate::calendars::NAME_MAX;
use crate::domain::color;
use crate::domain::event::EXTRA_MAX;
use crate::domain::recurrence::{format_exdates, Rule, EXDATES_MAX};
use crate::domain::text::strip_controls;
use crate::domain::time;
use crate::domain::{CalendarId, Change, Event, EventDraft, EventId, NewEvent, SeriesRef};
use crate::events::form::{DESCRIPTION_MAX, LOCATION_MAX, TITLE_MAX};

/// One readable VEVENT.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub uid: String,
    pub recurrence_id: Option<DateTime<Utc>>,
    pub draft: EventDraft,
    pub exdates: String,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// The event's title, or where it is in the file.
    pub event: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Create,
    Update,
    Unchanged,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedEvent {
    pub outcome: Outcome,
    pub title: String,
    pub when: String,
}

/// What an import will do, and the changes that do it.
pub struct Plan {
    pub events: Vec<PlannedEvent>,
    pub failures: Vec<Failure>,
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.events.iter().filter(|e| e.outcome == outcome).count()
    }
}

/// What a file says about itself: the name and colour of the calendar it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCalendar {
    pub name: Option<String>,
    /// `#rrggbb`.
    pub color: Option<String>,
}

/// A file read: its events, the ones that could not be read, and what it says about itself.
#[derive(Debug, Clone, Default)]
pub struct ReadFile {
    pub events: Vec<Imported>,
    pub failures: Vec<Failure>,
    pub about: FileCalendar,
}

/// Reads every VEVENT of `text`; times without a zone are in `zone`.
pub fn read(text: &str, zone: Tz) -> Result<ReadFile, ParseError> {
    Ok(read_parsed(&parse(text)?, zone))
}

/// `read` of a file already parsed.
pub fn read_parsed(calendar: &Component, zone: Tz) -> ReadFile {
    let about = about_file(calendar);
    let vevents = calendar.descendants("VEVENT");
    let (mut events, mut failures) = (Vec::new(), Vec::new());
    for (index, vevent) in vevents.into_iter().enumerate() {
        match read_event(vevent, zone) {
            Ok(event) => events.push(event),
            Err(reason) => {
                let title = vevent.property("SUMMARY").map(|p| unescape_text(&p.value)).unwrap_or_default();
                let event =
                    if title.trim().is_empty() { format!("event {} in the file", index + 1) } else { title };
                failures.push(Failure { event, reason });
            }
        }
    }
    ReadFile { events, failures, about }
}

/// RFC 7986 NAME, or the X-WR-CALNAME that Google and Apple write; the exact colour Apple
/// writes, or RFC 7986 COLOR (a CSS colour name).
fn about_file(calendar: &Component) -> FileCalendar {
    let name = ["NAME", "X-WR-CALNAME"]
        .iter()
        .filter_map(|key| calendar.property(key))
        .map(|p| {
            strip_controls(&unescape_text(&p.value), false).trim().chars().take(NAME_MAX).collect::<String>()
        })
        .find(|name| !name.is_empty());
    let color = ["X-APPLE-CALENDAR-COLOR", "COLOR"]
        .iter()
        .filter_map(|key| calendar.property(key))
        .find_map(|p| color::from_css(&p.value));
    FileCalendar { name, color }
}

/// A DATE or DATE-TIME value: the instant, whether it is a date, and the zone it names
/// (`None` for UTC or floating).
fn read_time(property: &Property, zone: Tz) -> Result<(DateTime<Utc>, bool, Option<Tz>), String> {
    read_time_value(property, &property.value, zone)
}

/// `value` read with `property`'s name and parameters: one of an EXDATE's list of values.
fn read_time_value(
    property: &Property,
    value: &str,
    zone: Tz,
) -> Result<(DateTime<Utc>, bool, Option<Tz>), String> {
    let value = value.trim();
    let name = &property.name;
    let is_date = property.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE")) || value.len() == 8;
    if is_date {
        let date =
            NaiveDate::parse_from_str(value, "%Y%m%d").map_err(|_| format!("bad date in {name}: {value}"))?;
        return Ok((Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default()), true, None));
    }
    if let Some(utc) = value.strip_suffix('Z').or_else(|| value.strip_suffix('z')) {
        let time = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
            .map_err(|_| format!("bad date-time in {name}: {value}"))?;
        return Ok((Utc.from_utc_datetime(&time), false, None));
    }
    let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
        .map_err(|_| format!("bad date-time in {name}: {value}"))?;
    let named = match property.param("TZID") {
        Some(tzid) => Some(resolve_zone(tzid).ok_or_else(|| format!("unknown time zone {tzid}"))?),
        None => None,
    };
    let in_zone = named.unwrap_or(zone);
    let instant = in_zone
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            // A time skipped by a spring-forward change: the same wall time an hour later.
            let later = local.checked_add_signed(Duration::hours(1))?;
            in_zone.from_local_datetime(&later).earliest()
        })
        .ok_or_else(|| format!("{name} {value} does not exist in {}", in_zone.name()))?;
    Ok((instant.with_timezone(&Utc), false, named))
}

/// `P1D`, `PT1H30M`, `P1W`, `-PT15M`: RFC 5545 durations.
pub(super) fn read_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let body = text.strip_prefix('P')?;
    let (mut total, mut number, mut in_time) = (Duration::zero(), String::new(), false);
    for c in body.chars() {
        match c {
            'T' => in_time = true,
            '0'..='9' => number.push(c),
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                // Checked all the way: a file may say P999999999999W.
                let part = match (unit, in_time) {
                    ('W', false) => Duration::try_weeks(n),
                    ('D', false) => Duration::try_days(n),
                    ('H', true) => Duration::try_hours(n),
                    ('M', true) => Duration::try_minutes(n),
                    ('S', true) => Duration::try_seconds(n),
                    _ => None,
                }?;
                total = total.checked_add(&part)?;
            }
        }
    }
    if !number.is_empty() {
        return None;
    }
    Some(if negative { -total } else { total })
}

fn text(vevent: &Component, name: &str, max: usize) -> String {
    let value = vevent.property(name).map(|p| unescape_text(&p.value)).unwrap_or_default();
    // Apple writes addresses as several lines: only the title is one line.
    let value = strip_controls(&value, name != "SUMMARY");
    let value = value.trim();
    if value.chars().count() > max {
        let mut cut: String = value.chars().take(max - 1).collect();
        cut.push('…');
        cut
    } else {
        value.to_string()
    }
}

/// The properties an event is read from, or that Eventide writes itself (stamps).
const MODELLED: &[&str] = &[
    "UID",
    "DTSTAMP",
    "CREATED",
    "LAST-MODIFIED",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RRULE",
    "EXDATE",
    "RECURRENCE-ID",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
];

/// Everything else the VEVENT says (alarms that are not reminders, attendees, categories,
/// status, X- properties), as content lines kept with the event and written back: never
/// silently dropped.
fn unmodelled(vevent: &Component, start: DateTime<Utc>) -> Result<String, String> {
    let mut lines: Vec<String> = vevent
        .properties
        .iter()
        .filter(|p| !MODELLED.contains(&p.name.as_str()))
        .map(Property::to_line)
        .collect();
    for child in vevent.children.iter().filter(|c| !super::alarms::is_reminder(c, start)) {
        child.write_lines(&mut lines);
    }
    let text = lines.join("\n");
    if text.len() > EXTRA_MAX {
        return Err(format!(
            "it carries more than {} KiB of properties Eventide does not use (an attachment?)",
            EXTRA_MAX / 1024
        ));
    }
    Ok(text)
}

fn read_event(vevent: &Component, zone: Tz) -> Result<Imported, String> {
    let start = vevent.property("DTSTART").ok_or("it has no start (DTSTART)")?;
    let (start_at, all_day, named_zone) = read_time(start, zone)?;
    // Checked before any arithmetic on the start: chrono panics on overflow.
    let plausible = |t: DateTime<Utc>| time::within_years(t.date_naive());
    let implausible =
        || format!("its dates are outside the years {}-{}", time::YEARS.start(), time::YEARS.end());
    if !plausible(start_at) {
        return Err(implausible());
    }
    let end_at = match (vevent.property("DTEND"), vevent.property("DURATION")) {
        (Some(end), _) => read_time(end, named_zone.unwrap_or(zone))?.0,
        (None, Some(duration)) => {
            let length =
                read_duration(&duration.value).ok_or_else(|| format!("bad duration {}", duration.value))?;
            start_at.checked_add_signed(length).ok_or_else(implausible)?
        }
        (None, None) if all_day => start_at + Duration::days(1),
        (None, None) => start_at,
    };
    let end_at = if all_day && end_at <= start_at { start_at + Duration::days(1) } else { end_at };
    if end_at < start_at {
        return Err("it ends before it starts".into());
    }
    if !plausible(end_at) {
        return Err(implausible());
    }
    if vevent.property("RDATE").is_some() {
        return Err("extra dates (RDATE) are not supported".into());
    }
    let rules: Vec<&Property> = vevent.all("RRULE").collect();
    if rules.len() > 1 {
        return Err("more than one repeat rule (RRULE) is not supported".into());
    }
    // A series repeats in the zone its start names; UTC and floating starts repeat in UTC and
    // in the importing user's zone.
    let series_zone = match (named_zone, start.value.trim().ends_with(['Z', 'z'])) {
        (Some(named), _) => named,
        (None, true) => Tz::UTC,
        (None, false) => zone,
    };
    let title = text(vevent, "SUMMARY", TITLE_MAX);
    let draft = EventDraft {
        title: if title.is_empty() { "(no title)".into() } else { title },
        description: text(vevent, "DESCRIPTION", DESCRIPTION_MAX),
        location: text(vevent, "LOCATION", LOCATION_MAX),
        all_day,
        start_at,
        end_at,
        tzid: series_zone.name().to_string(),
        recurrence: None,
        extra: Some(unmodelled(vevent, start_at)?),
        reminders: super::alarms::reminders_of(vevent, start_at),
    };
    let recurrence_id = match vevent.property("RECURRENCE-ID") {
        Some(original) => Some(read_time(original, series_zone)?.0),
        None => None,
    };
    let rule = match (rules.first(), recurrence_id) {
        (Some(rule), None) => {
            Some(rule.value.parse::<Rule>().map_err(|e| format!("unsupported repeat rule: {e}"))?)
        }
        _ => None,
    };
    let draft = draft.repeating(rule.as_ref()).map_err(|e| format!("unsupported repeat rule: {e}"))?;
    let mut exdates = Vec::new();
    for exdate in vevent.all("EXDATE") {
        for value in exdate.value.split(',') {
            if exdates.len() == EXDATES_MAX {
                return Err(format!("it has more than {EXDATES_MAX} cancelled dates (EXDATE)"));
            }
            exdates.push(read_time_value(exdate, value, series_zone)?.0);
        }
    }
    let uid = match vevent.property("UID").map(|p| unescape_text(&p.value)) {
        Some(uid) if !uid.trim().is_empty() && uid.len() <= 255 => uid.trim().to_string(),
        // Derived from the content, so importing the same file again finds the same event.
        _ => {
            let digest = Sha256::digest(format!("{}|{}|{}", draft.title, start.value, draft.location));
            format!("{}@import.eventide", hex::encode(&digest[..16]))
        }
    };
    let cancelled =
        vevent.property("STATUS").is_some_and(|s| s.value.trim().eq_ignore_ascii_case("CANCELLED"));
    Ok(Imported { uid, recurrence_id, draft, exdates: format_exdates(&exdates), cancelled })
}

fn describe(draft: &EventDraft, zone: Tz) -> String {
    if draft.all_day {
        draft.start_at.format("%a %-d %b %Y, all day").to_string()
    } else {
        draft.start_at.with_timezone(&zone).format("%a %-d %b %Y %H:%M").to_string()
    }
}

/// Whether `existing` already says what `imported` says.
fn same(existing: &Event, imported: &EventDraft, exdates: &str) -> bool {
    let stored = existing.draft();
    stored.title == imported.title
        && stored.description == imported.description
        && stored.location == imported.location
        && stored.all_day == imported.all_day
        && stored.start_at == imported.start_at
        && stored.end_at == imported.end_at
        && stored.recurrence.as_ref().map(|r| &r.rule) == imported.recurrence.as_ref().map(|r| &r.rule)
        && (existing.tzid == imported.tzid || imported.recurrence.is_none())
        && existing.exdates == exdates
        && imported.extra.as_ref().is_none_or(|extra| *extra == existing.extra)
        && stored.reminders == imported.reminders
}

/// Plans the import of `events` into an account holding `existing`: new events go to
/// `calendar`; events the account has already (same UID) are updated where they are.
pub fn plan(
    events: Vec<Imported>,
    mut failures: Vec<Failure>,
    existing: &[Event],
    zone: Tz,
    calendar: CalendarId,
) -> Plan {
    let masters: HashMap<&str, &Event> =
        existing.iter().filter(|e| e.series_id.is_none()).map(|e| (e.uid.as_str(), e)).collect();
    let overrides: HashMap<(EventId, DateTime<Utc>), &Event> =
        existing.iter().filter_map(|e| Some(((e.series_id?, e.recurrence_id?), e))).collect();
    let (series, occurrences): (Vec<Imported>, Vec<Imported>) =
        events.into_iter().partition(|e| e.recurrence_id.is_none());
    let mut edited_by_uid: HashMap<&str, Vec<&Imported>> = HashMap::new();
    for occurrence in &occurrences {
        edited_by_uid.entry(occurrence.uid.as_str()).or_default().push(occurrence);
    }
    let mut planned = Vec::new();
    let mut changes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for master in series {
        if !seen.insert(master.uid.clone()) {
            failures.push(Failure {
                event: master.draft.title,
                reason: "its UID appears twice in the file".into(),
            });
            continue;
        }
        if master.cancelled {
            continue;
        }
        // Cancelled occurrences in the file become cancelled dates of their series.
        let mut exdates = crate::domain::recurrence::parse_exdates(&master.exdates);
        let edited = edited_by_uid.remove(master.uid.as_str()).unwrap_or_default();
        exdates.extend(edited.iter().filter(|o| o.cancelled).filter_map(|o| o.recurrence_id));
        let exdates =
            if master.draft.recurrence.is_some() { format_exdates(&exdates) } else { String::new() };
        let when = describe(&master.draft, zone);
        // Edited occurrences belong where their series is.
        let series_calendar = masters.get(master.uid.as_str()).map_or(calendar, |event| event.calendar_id);
        let (outcome, series_ref) = match masters.get(master.uid.as_str()) {
            Some(event) if same(event, &master.draft, &exdates) => {
                (Outcome::Unchanged, SeriesRef::Existing(event.id))
            }
            Some(event) => {
                changes.push(Change::Update { id: event.id, draft: master.draft.clone(), exdates });
                (Outcome::Update, SeriesRef::Existing(event.id))
            }
            None => {
                let new = NewEvent {
                    calendar,
                    draft: master.draft.clone(),
                    uid: master.uid.clone(),
                    exdates,
                    series: None,
                    dav_name: None,
                };
                changes.push(Change::Insert(new));
                (Outcome::Create, SeriesRef::Inserted)
            }
        };
        planned.push(PlannedEvent { outcome, title: master.draft.title.clone(), when });
        for occurrence in edited.into_iter().filter(|o| !o.cancelled) {
            let Some(at) = occurrence.recurrence_id else { continue };
            let draft = occurrence.draft.clone();
            let existing = match series_ref {
                SeriesRef::Existing(id) => overrides.get(&(id, at)).copied(),
                SeriesRef::Inserted => None,
            };
            let outcome = match existing {
                Some(event) if same(event, &draft, "") => Outcome::Unchanged,
                Some(event) => {
                    changes.push(Change::Update {
                        id: event.id,
                        draft: draft.clone(),
                        exdates: String::new(),
                    });
                    Outcome::Update
                }
                None => {
                    let new = NewEvent {
                        calendar: series_calendar,
                        draft: draft.clone(),
                        uid: master.uid.clone(),
                        exdates: String::new(),
                        series: Some((series_ref, at)),
                        dav_name: None,
                    };
                    changes.push(Change::Insert(new));
                    Outcome::Create
                }
            };
            planned.push(PlannedEvent { outcome, title: draft.title.clone(), when: describe(&draft, zone) });
        }
    }
    for orphan in occurrences.iter().filter(|o| !seen.contains(&o.uid)) {
        failures.push(Failure {
            event: orphan.draft.title.clone(),
            reason: "a changed occurrence (RECURRENCE-ID) whose series is not in the file".into(),
        });
    }
    Plan { events: planned, failures, changes }
}

#[cfg(test)]
mod tests;
