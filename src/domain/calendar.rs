//! Calendars: each user has one or more, one of them the default; every event belongs to one,
//! and each calendar logs its changes (what CalDAV's sync tokens will be read from).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CalendarId, UserId};

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Calendar {
    pub id: CalendarId,
    pub user_id: UserId,
    pub name: String,
    /// `#rrggbb`, lower case.
    pub color: String,
    pub position: i32,
    pub shown: bool,
    pub is_default: bool,
    /// The number of the calendar's last change (its sync token).
    pub change_seq: i64,
    /// The key of the calendar's private subscription feed, if it has one. Never serialised:
    /// it must not reach a cache entry or a template by accident.
    #[serde(skip)]
    pub feed_token: Option<String>,
    /// The path segment a CalDAV client chose when it made the calendar (`None`: its id).
    pub dav_name: Option<String>,
    /// The key of its public read-only link, if it has one; never serialised, as `feed_token`.
    #[serde(skip)]
    pub public_token: Option<String>,
    /// The public link shows busy times alone.
    pub public_busy: bool,
    /// What the user reading it may do with it: `Own` unless it was shared with them (then
    /// `color` and `shown` are the recipient's own, and `feed_token` is never read).
    #[sqlx(skip)]
    pub access: Access,
    /// Who shared it, for a calendar shared with the reader.
    #[sqlx(skip)]
    pub owner_name: Option<String>,
}

impl Calendar {
    /// Its path segment under the owner's CalDAV home.
    pub fn dav_segment(&self) -> String {
        self.dav_name.clone().unwrap_or_else(|| self.id.0.to_string())
    }
}

/// A calendar opened by its public link, with what its page needs of its owner: their zone
/// and week start (its times read as the owner's own views show them), and nothing more.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicCalendar {
    #[sqlx(flatten)]
    pub calendar: Calendar,
    pub time_zone: String,
    pub week_start: i16,
}

impl PublicCalendar {
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC)
    }

    /// What the link lets anyone see: everything, or busy times only.
    pub fn access(&self) -> Access {
        if self.calendar.public_busy {
            Access::Busy
        } else {
            Access::Read
        }
    }
}

/// A user's access to a calendar: their own, or one shared with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    #[default]
    Own,
    Write,
    Read,
    /// Free/busy: when, never what.
    Busy,
}

impl Access {
    /// A level a share can give (`read`, `write`, `busy`), as forms and the database name it.
    pub fn parse_shared(text: &str) -> Option<Access> {
        match text {
            "read" => Some(Access::Read),
            "write" => Some(Access::Write),
            "busy" => Some(Access::Busy),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Own => "own",
            Access::Write => "write",
            Access::Read => "read",
            Access::Busy => "busy",
        }
    }

    /// Titles, descriptions, locations and everything else besides the times.
    pub fn sees_details(self) -> bool {
        self != Access::Busy
    }

    pub fn can_write(self) -> bool {
        matches!(self, Access::Own | Access::Write)
    }
}

/// A calendar's share, as its owner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub calendar_id: CalendarId,
    pub user_id: UserId,
    pub username: String,
    pub access: Access,
}

/// What a range read may return to one reader: the rows of these owners in these calendars,
/// all of it (`full`) or the times only (`busy`). Built from the reader's shown calendars, so
/// a calendar can reach a read only through an access the store itself reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadScope {
    pub full: Sources,
    pub busy: Sources,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub owners: Vec<UserId>,
    pub calendars: Vec<CalendarId>,
}

impl Sources {
    pub fn of<'a>(calendars: impl IntoIterator<Item = &'a Calendar>) -> Sources {
        let mut sources = Sources::default();
        for calendar in calendars {
            sources.add(calendar);
        }
        sources
    }

    fn add(&mut self, calendar: &Calendar) {
        if !self.owners.contains(&calendar.user_id) {
            self.owners.push(calendar.user_id);
        }
        self.calendars.push(calendar.id);
    }

    pub fn is_empty(&self) -> bool {
        self.calendars.is_empty()
    }
}

impl ReadScope {
    /// The shown ones of the calendars a user can see.
    pub fn shown(calendars: &[Calendar]) -> ReadScope {
        let mut scope = ReadScope::default();
        for calendar in calendars.iter().filter(|c| c.shown) {
            match calendar.access.sees_details() {
                true => scope.full.add(calendar),
                false => scope.busy.add(calendar),
            }
        }
        scope
    }

    /// One calendar, shown whole or as times only, whatever it is set to (a public link).
    pub fn one(calendar: &Calendar, access: Access) -> ReadScope {
        let mut scope = ReadScope::default();
        match access.sees_details() {
            true => scope.full.add(calendar),
            false => scope.busy.add(calendar),
        }
        scope
    }

    /// With times only, even where the reader sees more (a free/busy lookup).
    pub fn times_only(calendars: &[Calendar]) -> ReadScope {
        let mut scope = ReadScope::default();
        for calendar in calendars.iter().filter(|c| c.shown) {
            scope.busy.add(calendar);
        }
        scope
    }
}

/// What a new calendar (or a changed one) is called and how it looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDraft {
    pub name: String,
    pub color: String,
}

/// The calendar is the user's last: a user always keeps one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastCalendar;

/// What happened to an object (a series with its edited occurrences, or an event) in a
/// calendar, as its change log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
        }
    }

    /// The kind a change log row names (written by `as_str`).
    pub fn parse(text: &str) -> ChangeKind {
        match text {
            "created" => ChangeKind::Created,
            "deleted" => ChangeKind::Deleted,
            _ => ChangeKind::Updated,
        }
    }

    /// Two changes of one object in one transaction, as one.
    pub fn then(self, next: ChangeKind) -> ChangeKind {
        match (self, next) {
            (_, ChangeKind::Deleted) => ChangeKind::Deleted,
            (ChangeKind::Created, _) => ChangeKind::Created,
            (ChangeKind::Deleted, _) => ChangeKind::Updated,
            (ChangeKind::Updated, _) => ChangeKind::Updated,
        }
    }
}

/// One row of a calendar's change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub seq: i64,
    pub uid: String,
    pub kind: ChangeKind,
    pub changed_at: DateTime<Utc>,
    /// For a deletion: the resource name the object had.
    pub deleted_name: Option<String>,
}
