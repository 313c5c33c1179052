//! VALARMs and reminders, both ways: an alarm a phone or a file sets before an event's start
//! (relative to it, or at a UTC time) becomes one of the event's reminders; each reminder is
//! written back as a VALARM. Alarms Eventide cannot keep as reminders (after the start,
//! relative to the end) stay with the event's other unmodelled lines, untouched.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::parse::Component;
use super::write::Writer;
use crate::domain::reminders::{Reminders, LONGEST_MINUTES};

/// The minutes before `start` the alarm goes off, if it is one Eventide keeps as a reminder.
pub fn minutes_before(alarm: &Component, start: DateTime<Utc>) -> Option<u32> {
    let trigger = alarm.property("TRIGGER")?;
    let absolute = trigger.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE-TIME"));
    let before = if absolute {
        // RFC 5545 3.8.6.3: an absolute trigger is in UTC.
        let at = NaiveDateTime::parse_from_str(trigger.value.trim(), "%Y%m%dT%H%M%SZ").ok()?.and_utc();
        start.signed_duration_since(at)
    } else {
        if trigger.param("RELATED").is_some_and(|r| r.eq_ignore_ascii_case("END")) {
            return None;
        }
        -super::import::read_duration(&trigger.value)?
    };
    let minutes = before.num_minutes();
    u32::try_from(minutes).ok().filter(|m| *m <= LONGEST_MINUTES)
}

/// The VEVENT's alarms that are reminders, as reminders.
pub fn reminders_of(vevent: &Component, start: DateTime<Utc>) -> Reminders {
    Reminders::from_minutes(
        vevent
            .children
            .iter()
            .filter(|c| c.name == "VALARM")
            .filter_map(|alarm| minutes_before(alarm, start)),
    )
}

/// Whether this child of a VEVENT is kept as a reminder (and so not among its other lines).
pub fn is_reminder(child: &Component, start: DateTime<Utc>) -> bool {
    child.name == "VALARM" && minutes_before(child, start).is_some()
}

/// Each reminder as a VALARM that shows `title`.
pub fn write(out: &mut Writer, reminders: &Reminders, title: &str) {
    for minutes in reminders.minutes() {
        out.raw("BEGIN", "VALARM");
        out.raw("ACTION", "DISPLAY");
        out.text("DESCRIPTION", title);
        out.raw("TRIGGER", &trigger(*minutes));
        out.raw("END", "VALARM");
    }
}

/// `-PT10M`, `-PT2H`, `-P1D`, `PT0S` (at the start).
fn trigger(minutes: u32) -> String {
    let before = Duration::minutes(i64::from(minutes));
    match minutes {
        0 => "PT0S".into(),
        m if m % (24 * 60) == 0 => format!("-P{}D", before.num_days()),
        m if m % 60 == 0 => format!("-PT{}H", before.num_hours()),
        m => format!("-PT{m}M"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::parse::parse;

    /// The VEVENT holding `body`.
    fn alarms(body: &str) -> Component {
        let text = format!("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n");
        parse(&text).unwrap().children.remove(0)
    }

    #[test]
    fn relative_and_absolute_triggers_before_the_start_are_reminders() {
        let start: DateTime<Utc> = "2026-06-03T10:00:00Z".parse().unwrap();
        let vevent = alarms(
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n\
             BEGIN:VALARM\r\nACTION:EMAIL\r\nTRIGGER;RELATED=START:-P1D\r\nEND:VALARM\r\n\
             BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER;VALUE=DATE-TIME:20260603T080000Z\r\nEND:VALARM\r\n\
             BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=END:-PT5M\r\nEND:VALARM\r\n\
             BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:PT5M\r\nEND:VALARM\r\n\
             BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-P99999W\r\nEND:VALARM\r\n",
        );
        assert_eq!(reminders_of(&vevent, start).minutes(), [15, 120, 1440]);
        let kept: Vec<bool> = vevent.children.iter().map(|c| is_reminder(c, start)).collect();
        assert_eq!(kept, [true, true, true, false, false, false]);
    }

    #[test]
    fn reminders_are_written_as_triggers_read_back_the_same() {
        let start: DateTime<Utc> = "2026-06-03T10:00:00Z".parse().unwrap();
        let reminders = Reminders::from_minutes([0, 10, 90, 120, 2880]);
        let mut out = Writer::default();
        write(&mut out, &reminders, "Dentist");
        let text = out.finish();
        for trigger in ["TRIGGER:-PT90M", "TRIGGER:-PT2H", "TRIGGER:-P2D", "TRIGGER:PT0S"] {
            assert!(text.contains(trigger), "{trigger} in {text}");
        }
        assert_eq!(reminders_of(&alarms(&text), start), reminders);
    }
}
