//! Events: one-off, a series (a rule), or an edited occurrence of a series (its UID and the
//! start it replaces); the drafts forms and imports make; the changes the write path applies.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::recurrence::{parse_exdates, Rule, RuleError, Series};
use super::reminders::Reminders;
use super::search_text::fold;
use super::{CalendarId, EventId, UserId};

/// Events longer than this are flagged `is_long` and found through their own small index;
/// shorter ones are found by a start-time window widened by this much.
pub const LONG_EVENT: Duration = Duration::days(7);

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Event {
    pub id: EventId,
    pub user_id: UserId,
    pub calendar_id: CalendarId,
    pub title: String,
    pub description: String,
    pub location: String,
    pub all_day: bool,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Stable across exports and imports (RFC 5545 UID); an edited occurrence shares its
    /// series' UID.
    pub uid: String,
    pub rrule: Option<String>,
    /// The zone a series repeats in (its wall time stays put across DST).
    pub tzid: String,
    pub exdates: String,
    pub series_id: Option<EventId>,
    /// For an edited occurrence: the start of the occurrence it replaces.
    pub recurrence_id: Option<DateTime<Utc>>,
    /// iCalendar content lines Eventide keeps without modelling them (see `EventDraft::extra`).
    pub extra: String,
    /// Minutes before each occurrence to remind its owner.
    #[sqlx(try_from = "String")]
    pub reminders: Reminders,
}

/// What a busy-only reader sees of an event, in place of its title.
pub const BUSY_TITLE: &str = "Busy";

impl Event {
    /// The event as a busy-only reader may have it: when, and nothing of what (no title,
    /// description, location or kept properties, and a UID that names nothing: a client's
    /// UID can hold a meeting's name).
    pub fn times_only(&self) -> Event {
        let series = self.series_id.unwrap_or(self.id);
        Event {
            title: BUSY_TITLE.to_string(),
            description: String::new(),
            location: String::new(),
            uid: format!("busy-{}@eventide", series.0),
            extra: String::new(),
            reminders: Reminders::none(),
            ..self.clone()
        }
    }

    pub fn rule(&self) -> Option<Rule> {
        self.rrule.as_deref().and_then(|r| r.parse().ok())
    }

    pub fn zone(&self) -> Tz {
        self.tzid.parse().unwrap_or(Tz::UTC)
    }

    /// The zone the event's times and repeats are reckoned in: all-day events are dates, kept
    /// at 00:00 UTC, whatever zone they were made in.
    pub fn repeat_zone(&self) -> Tz {
        if self.all_day {
            Tz::UTC
        } else {
            self.zone()
        }
    }

    /// The series this event is the first occurrence of, if it repeats.
    pub fn series(&self) -> Option<Series> {
        let rule = self.rule()?;
        Series::stored(
            &rule,
            self.zone(),
            self.all_day,
            self.start_at,
            self.end_at,
            parse_exdates(&self.exdates),
        )
        .ok()
    }

    /// This event as a draft (to change part of it), its rule included.
    pub fn draft(&self) -> EventDraft {
        let plain = EventDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            location: self.location.clone(),
            all_day: self.all_day,
            start_at: self.start_at,
            end_at: self.end_at,
            tzid: self.tzid.clone(),
            recurrence: None,
            extra: Some(self.extra.clone()),
            reminders: self.reminders.clone(),
        };
        match self.rule() {
            Some(rule) => plain.clone().repeating(Some(&rule)).unwrap_or(plain),
            None => plain,
        }
    }
}

/// What the calendar views and the dashboard need of an event: fewer columns to read and
/// decode than `Event` when a range holds thousands.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct EventSummary {
    pub id: EventId,
    pub calendar_id: CalendarId,
    pub title: String,
    pub location: String,
    pub all_day: bool,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    /// Set on an occurrence of a series: the start that names it (`?at=` in its URL).
    #[sqlx(default)]
    pub occurrence: Option<DateTime<Utc>>,
    /// From a calendar shared busy-only: the times are all there is (title and location are
    /// empty, and nothing links to the event).
    #[sqlx(default)]
    pub busy: bool,
}

impl EventSummary {
    /// The title a reader is shown: "Busy" for an event of a busy-only share.
    pub fn shown_title(&self) -> &str {
        if self.busy {
            BUSY_TITLE
        } else {
            &self.title
        }
    }
}

/// Anything placed in time like an event.
pub trait Scheduled {
    fn all_day(&self) -> bool;
    fn start_at(&self) -> DateTime<Utc>;
    fn end_at(&self) -> DateTime<Utc>;
}

macro_rules! scheduled {
    ($type:ty) => {
        impl Scheduled for $type {
            fn all_day(&self) -> bool {
                self.all_day
            }
            fn start_at(&self) -> DateTime<Utc> {
                self.start_at
            }
            fn end_at(&self) -> DateTime<Utc> {
                self.end_at
            }
        }
    };
}
scheduled!(Event);
scheduled!(EventSummary);

/// A validated event, ready to store (see `events::form`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    pub title: String,
    pub description: String,
    pub location: String,
    pub all_day: bool,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    /// IANA zone name: where a series repeats, and how an export names its times.
    pub tzid: String,
    pub recurrence: Option<Recurrence>,
    /// What the event's iCalendar said that Eventide does not model (alarms, attendees,
    /// categories, X- properties), as unfolded content lines, one per line, written back on
    /// export. `None`: keep what is stored (a form edit knows nothing of them).
    pub extra: Option<String>,
    /// Minutes before each occurrence to remind its owner.
    pub reminders: Reminders,
}

/// The most unmodelled iCalendar an event may carry: alarms and attendees take a few hundred
/// bytes; anything near this is an inline attachment, refused rather than stored.
pub const EXTRA_MAX: usize = 32 * 1024;

/// A checked rule and when its last occurrence ends (`None`: never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub rule: String,
    pub ends_at: Option<DateTime<Utc>>,
}

impl EventDraft {
    /// The draft repeating by `rule` (or not repeating, for `None`), checked against its start.
    pub fn repeating(mut self, rule: Option<&Rule>) -> Result<EventDraft, RuleError> {
        self.recurrence = match rule {
            None => None,
            Some(rule) => {
                let zone: Tz = self.tzid.parse().unwrap_or(Tz::UTC);
                let series = Series::new(rule, zone, self.all_day, self.start_at, self.end_at, Vec::new())?;
                Some(Recurrence { rule: rule.to_string(), ends_at: series.ends_at() })
            }
        };
        Ok(self)
    }

    pub fn rrule(&self) -> Option<&str> {
        self.recurrence.as_ref().map(|r| r.rule.as_str())
    }

    pub fn repeats_until(&self) -> Option<DateTime<Utc>> {
        self.recurrence.as_ref().and_then(|r| r.ends_at)
    }

    pub fn is_long(&self) -> bool {
        self.end_at - self.start_at > LONG_EVENT
    }

    /// The folded text the search indexes read (title; everything).
    pub fn search_text(&self) -> (String, String) {
        let title = fold(&self.title);
        let all = format!("{title} {} {}", fold(&self.description), fold(&self.location));
        (title, all)
    }
}

/// A row to insert: a draft with its identity, and for an edited occurrence, its series.
#[derive(Debug)]
pub struct NewEvent {
    pub calendar: CalendarId,
    pub draft: EventDraft,
    pub uid: String,
    pub exdates: String,
    pub series: Option<(SeriesRef, DateTime<Utc>)>,
    /// The resource name a CalDAV client gave a new series or event (`None`: its UID + ".ics").
    pub dav_name: Option<String>,
}

/// A series by id, or the series (an event that is not an edited occurrence) inserted last
/// in the same `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesRef {
    Existing(EventId),
    Inserted,
}

/// One step of a change that must happen all at once (splitting a series, an import).
#[derive(Debug)]
pub enum Change {
    Insert(NewEvent),
    Update {
        id: EventId,
        draft: EventDraft,
        exdates: String,
    },
    /// Moves an edited occurrence to another series, or to another start in its own.
    Reparent {
        id: EventId,
        series: SeriesRef,
        recurrence_id: DateTime<Utc>,
    },
    Delete(EventId),
    /// Moves an event, or a series with its edited occurrences, to another calendar.
    Move {
        id: EventId,
        calendar: CalendarId,
    },
}

/// A new RFC 5545 UID.
pub fn new_uid() -> String {
    let bytes: [u8; 16] = rand::random();
    format!("{}@eventide", hex::encode(bytes))
}
