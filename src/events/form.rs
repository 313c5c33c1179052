//! The event form: what the browser sends, and its validation into an `EventDraft`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rocket::form::FromForm;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::domain::recurrence::compact;
use crate::domain::reminders::{reminder_choices, ReminderChoice};
use crate::domain::text::strip_controls;
use crate::domain::time::{self, LocalTimeError};
use crate::domain::{Event, EventDraft, Reminders};

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const LOCATION_MAX: usize = 200;

/// The fields exactly as typed, kept for re-rendering the form.
#[derive(Debug, Clone, Default, FromForm, Serialize)]
pub struct EventForm {
    #[field(default = String::new())]
    pub title: String,
    #[field(default = String::new())]
    pub description: String,
    #[field(default = String::new())]
    pub location: String,
    #[field(default = String::new())]
    pub start: String,
    #[field(default = String::new())]
    pub end: String,
    #[field(default = false)]
    pub all_day: bool,
    /// `none`, `daily`, `weekly`, `monthly`, `yearly`, or `custom` (a rule from an import,
    /// kept as written in `rule`).
    #[field(default = String::new())]
    pub repeat: String,
    #[field(default = String::new())]
    pub interval: String,
    /// Two-letter days (`MO`...) for weekly.
    #[field(default = Vec::new())]
    pub weekdays: Vec<String>,
    /// Monthly by `day` of the month, by `weekday` ("second Tuesday") or `last_weekday`.
    #[field(default = String::new())]
    pub monthly: String,
    /// `never`, `count` or `until`.
    #[field(default = String::new())]
    pub ends: String,
    #[field(default = String::new())]
    pub count: String,
    #[field(default = String::new())]
    pub until: String,
    #[field(default = String::new())]
    pub rule: String,
    /// For an occurrence of a series: `this`, `following` or `all`.
    #[field(default = String::new())]
    pub scope: String,
    /// The occurrence being edited (`20260601T070000Z`), empty for a whole event.
    #[field(default = String::new())]
    pub occurrence: String,
    /// The calendar (its id); empty: the default calendar for a new event, the event's own
    /// for a change.
    #[field(default = String::new())]
    pub calendar_id: String,
    /// A new event's page to return to (a local path; checked again on use).
    #[field(default = String::new())]
    pub next: String,
    /// Minutes before the start, one value per reminder (the field repeated).
    #[field(default = Vec::new())]
    pub reminders: Vec<String>,
    /// An all-day event's reminder at a time of one's own: this many days before (1 to 7)…
    #[field(default = String::new())]
    pub reminder_days: String,
    /// … at this time (`HH:MM`); empty: none.
    #[field(default = String::new())]
    pub reminder_time: String,
    /// The quick-create popover has no reminder boxes: an event it makes (without
    /// `reminders`) gets the calendar's default reminders.
    #[field(default = false)]
    pub calendar_reminders: bool,
}

pub type FieldErrors = Map<String, Value>;

/// Days before an all-day event (1 to 7) at a time of day (`HH:MM`), as minutes before its
/// midnight: the day before at 07:30 is 990.
fn all_day_reminder_at(days: &str, time: &str) -> Option<u32> {
    let days: u32 = days.trim().parse().ok().filter(|d| (1..=7).contains(d))?;
    Some(days * 24 * 60 - time::minutes_of_day(time)?)
}

/// Start and end instants of a valid event.
type Span = (DateTime<Utc>, DateTime<Utc>);
/// The field to blame, and why.
type FieldError = (&'static str, String);

impl EventForm {
    /// A new event on `day` (or today), 09:00 to 10:00.
    pub fn new_on(day: NaiveDate) -> EventForm {
        EventForm {
            start: format!("{}T09:00", day.format("%Y-%m-%d")),
            end: format!("{}T10:00", day.format("%Y-%m-%d")),
            ..<EventForm as Default>::default()
        }
    }

    /// The form for editing `event` (or one occurrence of it, `at`), in the user's zone
    /// (all-day end date inclusive).
    pub fn from_event(event: &Event, zone: Tz, at: Option<DateTime<Utc>>) -> EventForm {
        let mut shown = event.clone();
        if let Some(at) = at {
            shown.end_at = at + (event.end_at - event.start_at);
            shown.start_at = at;
        }
        let event = &shown;
        let (start, end) = if event.all_day {
            let (first, last) = time::local_days(event, zone);
            (first.format("%Y-%m-%d").to_string(), last.format("%Y-%m-%d").to_string())
        } else {
            let local = |t: DateTime<Utc>| t.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string();
            (local(event.start_at), local(event.end_at))
        };
        EventForm {
            title: event.title.clone(),
            description: event.description.clone(),
            location: event.location.clone(),
            start,
            end,
            all_day: event.all_day,
            occurrence: at.map(compact).unwrap_or_default(),
            calendar_id: event.calendar_id.0.to_string(),
            scope: if at.is_some() { "this".into() } else { String::new() },
            reminders: event.reminders.minutes().iter().map(u32::to_string).collect(),
            ..<EventForm as Default>::default()
        }
        .with_rule(event.rule().as_ref(), first_day(event, zone), zone)
    }

    /// The reminder checkboxes for a timed event (`all_day` false) or an all-day one, ticked
    /// as typed.
    pub fn reminder_choices(&self, all_day: bool) -> Vec<ReminderChoice> {
        reminder_choices(&self.reminders, all_day)
    }

    pub fn validate(&self, zone: Tz) -> Result<EventDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut error = |field: &str, message: String| {
            errors.entry(field.to_string()).or_insert(json!(message));
        };
        // What is stored is what shows: no control or text-reordering characters.
        let title = strip_controls(&self.title, false);
        let title = title.trim();
        let description = strip_controls(&self.description, true);
        let location = strip_controls(&self.location, false);
        let location = location.trim();
        if title.is_empty() {
            error("title", "Give the event a title.".into());
        } else if title.chars().count() > TITLE_MAX {
            error("title", format!("Use at most {TITLE_MAX} characters."));
        }
        if description.chars().count() > DESCRIPTION_MAX {
            error("description", format!("Use at most {DESCRIPTION_MAX} characters."));
        }
        if location.chars().count() > LOCATION_MAX {
            error("location", format!("Use at most {LOCATION_MAX} characters."));
        }
        let mut typed = self.reminders.clone();
        if self.all_day && !self.reminder_time.trim().is_empty() {
            match all_day_reminder_at(&self.reminder_days, &self.reminder_time) {
                Some(minutes) => typed.push(minutes.to_string()),
                None => error("reminders", "Choose the days before and a time of day, such as 07:30.".into()),
            }
        }
        let reminders = Reminders::parse_form(&typed).unwrap_or_else(|e| {
            error("reminders", e.to_string());
            Reminders::none()
        });
        let times = if self.all_day { self.all_day_range() } else { self.timed_range(zone) };
        let range = match times {
            Ok(range) => Some(range),
            Err((field, message)) => {
                error(field, message);
                None
            }
        };
        let rule = match range {
            Some((start_at, _)) => {
                let first = if self.all_day {
                    start_at.date_naive()
                } else {
                    start_at.with_timezone(&zone).date_naive()
                };
                match self.to_rule(first, zone) {
                    Ok(rule) => rule,
                    Err((field, message)) => {
                        error(field, message);
                        None
                    }
                }
            }
            None => None,
        };
        let draft = match range {
            Some((start_at, end_at)) if errors.is_empty() => EventDraft {
                title: title.to_string(),
                description,
                location: location.to_string(),
                all_day: self.all_day,
                start_at,
                end_at,
                tzid: zone.name().to_string(),
                recurrence: None,
                extra: None,
                reminders,
            },
            _ => return Err(errors),
        };
        draft.repeating(rule.as_ref()).map_err(|e| {
            let mut errors = FieldErrors::new();
            errors.insert("repeat".into(), json!(format!("This cannot repeat: {e}.")));
            errors
        })
    }

    fn all_day_range(&self) -> Result<Span, FieldError> {
        let first =
            time::parse_date(&self.start).ok_or(("start", "Enter a date as YYYY-MM-DD.".to_string()))?;
        let last = time::parse_date(&self.end).ok_or(("end", "Enter a date as YYYY-MM-DD.".to_string()))?;
        within_years("start", first)?;
        within_years("end", last)?;
        if last < first {
            return Err(("end", "The event cannot end before it starts.".into()));
        }
        Ok((time::date_instant(first), time::date_instant(last) + Duration::days(1)))
    }

    fn timed_range(&self, zone: Tz) -> Result<Span, FieldError> {
        let parse = |field: &'static str, text: &str| {
            time::parse_local(zone, text).map_err(|e| match e {
                LocalTimeError::Malformed => (field, "Enter a date and time as YYYY-MM-DDTHH:MM.".to_string()),
                LocalTimeError::DoesNotExist => (
                    field,
                    format!(
                        "{} does not exist in {}: the clocks move forward then. Choose a time after the change.",
                        text.trim().replace('T', " "),
                        zone.name()
                    ),
                ),
            })
        };
        let start = parse("start", &self.start)?;
        within_years("start", start.with_timezone(&zone).date_naive())?;
        let end = parse("end", &self.end)?;
        within_years("end", end.with_timezone(&zone).date_naive())?;
        if end < start {
            return Err(("end", "The event cannot end before it starts.".into()));
        }
        Ok((start, end))
    }
}

/// Dates outside `time::YEARS` are refused with the window in the message.
pub(crate) fn within_years(field: &'static str, date: NaiveDate) -> Result<(), FieldError> {
    if time::within_years(date) {
        return Ok(());
    }
    let (first, last) = (time::YEARS.start(), time::YEARS.end());
    Err((field, format!("Choose a date between the years {first} and {last}.")))
}

/// The local date an event starts on (an all-day event's date in any zone).
fn first_day(event: &Event, zone: Tz) -> NaiveDate {
    time::local_days(event, zone).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn form(start: &str, end: &str, all_day: bool) -> EventForm {
        EventForm {
            title: "Standup".into(),
            start: start.into(),
            end: end.into(),
            all_day,
            ..<EventForm as Default>::default()
        }
    }

    #[test]
    fn all_day_end_date_is_inclusive() {
        let draft = form("2028-02-28", "2028-02-29", true).validate(Berlin).unwrap();
        assert_eq!(draft.start_at.to_rfc3339(), "2028-02-28T00:00:00+00:00");
        assert_eq!(draft.end_at.to_rfc3339(), "2028-03-01T00:00:00+00:00");
    }

    #[test]
    fn field_errors_are_reported_by_field() {
        let errors = form("2026-03-29T02:30", "2026-03-29T01:00", false).validate(Berlin).unwrap_err();
        assert!(errors["start"].as_str().unwrap().contains("does not exist"));
        let errors = form("2026-05-02T10:00", "2026-05-01T10:00", false).validate(Berlin).unwrap_err();
        assert!(errors.contains_key("end"));
        let mut long = form("2026-05-01T10:00", "2026-05-01T11:00", false);
        long.title = "x".repeat(201);
        long.location = "y".repeat(201);
        long.description = "z".repeat(10_001);
        let errors = long.validate(Berlin).unwrap_err();
        assert_eq!(errors.len(), 3);
        let mut blank = long.clone();
        blank.title = "   ".into();
        assert!(blank.validate(Berlin).unwrap_err()["title"].as_str().unwrap().contains("title"));
    }
}
