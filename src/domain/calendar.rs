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
}

impl Calendar {
    /// Its path segment under the owner's CalDAV home.
    pub fn dav_segment(&self) -> String {
        self.dav_name.clone().unwrap_or_else(|| self.id.0.to_string())
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
