//! Events to an iCalendar object: one VEVENT per event or series (its RRULE and EXDATEs), one
//! per edited occurrence (same UID, RECURRENCE-ID), zoned times with their VTIMEZONE.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::write::{date_value, utc_stamp, vtimezone, zone_years, zoned, Writer};
use crate::domain::color::nearest_css_name;
use crate::domain::recurrence::parse_exdates;
use crate::domain::Event;

pub const PRODID: &str = "-//Eventide//Eventide Calendar//EN";

/// What goes around the events: a name (none if empty: one CalDAV object), the calendar's colour when the events are one
/// calendar's, and for a subscription feed how often to refresh.
pub struct Calendar<'a> {
    pub name: &'a str,
    pub color: Option<&'a str>,
    pub refresh: Option<Duration>,
}

/// Writes `events` (any order; edited occurrences follow their series) as one VCALENDAR.
pub fn calendar(events: &[Event], about: &Calendar<'_>, now: DateTime<Utc>) -> String {
    let mut out = Writer::default();
    out.raw("BEGIN", "VCALENDAR");
    out.raw("VERSION", "2.0");
    out.raw("PRODID", PRODID);
    out.raw("CALSCALE", "GREGORIAN");
    // RFC 7986's NAME and COLOR, and the older names that Google, Apple and Outlook
    // read (COLOR can only name a CSS colour; the Apple property keeps the exact one).
    if !about.name.is_empty() {
        out.text("NAME", about.name);
        out.text("X-WR-CALNAME", about.name);
    }
    if let Some(color) = about.color {
        out.raw("COLOR", nearest_css_name(color));
        out.raw("X-APPLE-CALENDAR-COLOR", &color.to_ascii_uppercase());
    }
    if let Some(refresh) = about.refresh {
        let value = format!("PT{}M", refresh.num_minutes().max(1));
        out.raw("REFRESH-INTERVAL;VALUE=DURATION", &value);
        out.raw("X-PUBLISHED-TTL", &value);
    }
    let zones: BTreeSet<&str> =
        events.iter().filter(|e| !e.all_day && e.tzid != "UTC").map(|e| e.tzid.as_str()).collect();
    if let Some(first) = events.iter().map(|e| e.start_at).min() {
        let (from, to) = zone_years(first, now);
        for zone in zones.iter().filter_map(|z| z.parse::<Tz>().ok()) {
            vtimezone(&mut out, zone, from, to);
        }
    }
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by_key(|e| (e.series_id.unwrap_or(e.id).0, e.series_id.is_some(), e.recurrence_id, e.id.0));
    for event in ordered {
        vevent(&mut out, event);
    }
    out.raw("END", "VCALENDAR");
    out.finish()
}

fn time_property(out: &mut Writer, name: &str, instant: DateTime<Utc>, event: &Event) {
    if event.all_day {
        out.raw(&format!("{name};VALUE=DATE"), &date_value(instant.date_naive()));
    } else {
        let value = zoned(instant, event.zone());
        let (params, value) = value.split_once(':').unwrap_or(("", &value));
        out.raw(&format!("{name}{params}"), value);
    }
}

fn vevent(out: &mut Writer, event: &Event) {
    out.raw("BEGIN", "VEVENT");
    out.text("UID", &event.uid);
    out.raw("DTSTAMP", &utc_stamp(event.updated_at));
    out.raw("CREATED", &utc_stamp(event.created_at));
    out.raw("LAST-MODIFIED", &utc_stamp(event.updated_at));
    if let Some(original) = event.recurrence_id {
        time_property(out, "RECURRENCE-ID", original, event);
    }
    time_property(out, "DTSTART", event.start_at, event);
    // An all-day DTEND is the day after the last one: the stored end already is.
    time_property(out, "DTEND", event.end_at, event);
    if let Some(rule) = &event.rrule {
        out.raw("RRULE", rule);
        for exdate in parse_exdates(&event.exdates) {
            time_property(out, "EXDATE", exdate, event);
        }
    }
    out.text("SUMMARY", &event.title);
    if !event.description.is_empty() {
        out.text("DESCRIPTION", &event.description);
    }
    if !event.location.is_empty() {
        out.text("LOCATION", &event.location);
    }
    for line in event.extra.lines().filter(|l| !l.is_empty()) {
        out.line(line);
    }
    super::alarms::write(out, &event.reminders, &event.title);
    out.raw("END", "VEVENT");
}
