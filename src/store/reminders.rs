//! Reminders due, and the notifications they made. `reminders_due` holds the next due time of
//! each reminder of each event row, rewritten by the write path in the transaction of every
//! change (`reschedule!`); the scheduler claims due rows with a lease, fires each in a
//! transaction of its own (one notification per occurrence and reminder, whatever races) and
//! moves it on to the next occurrence.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::events::EVENT_COLUMNS;
use super::mail::queue_reminder_mail;
use super::{begin_write, with_pool, DbResult, Pool, Store};
use crate::domain::recurrence::parse_exdates;
use crate::domain::reminders::next_due;
use crate::domain::{Event, EventId, UserId};

/// A due reminder an instance has claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueReminder {
    pub event_id: EventId,
    pub minutes: i32,
    pub user_id: UserId,
    pub occurrence: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// What firing a claimed reminder did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    /// A notification was made.
    Notified,
    /// Another instance had already made it.
    Already,
    /// It fell due longer ago than the grace window (the server was down): not sent late.
    Missed,
    /// The event changed or went since the claim: its new schedule stands.
    Stale,
}

/// A reminder as the user's tray lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub event_id: Option<EventId>,
    pub occurrence: DateTime<Utc>,
    pub minutes: i32,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// Its event repeats: the occurrence has a page of its own (`?at=`).
    pub repeats: bool,
    /// Its event is all-day: the reminder was a time of day before it.
    pub all_day: bool,
}

/// A notification's columns, with whether its event (if it is still there) repeats.
pub(super) const NOTIFICATION_COLUMNS: &str =
    "n.id, n.event_id, n.occurrence, n.minutes, n.title, n.created_at, n.read_at, \
     CASE WHEN e.rrule IS NULL THEN FALSE ELSE TRUE END AS repeats, COALESCE(e.all_day, FALSE) AS all_day \
     FROM notifications n LEFT JOIN events e ON e.id = n.event_id";

/// The due rows for these event rows (a series with its edited occurrences, or single
/// events), as of `now`: `(event, minutes, occurrence, due)`.
pub(super) fn schedule(
    rows: &[Event],
    zone: Tz,
    now: DateTime<Utc>,
) -> Vec<(EventId, u32, DateTime<Utc>, DateTime<Utc>)> {
    let mut due = Vec::new();
    for event in rows.iter().filter(|e| !e.reminders.is_empty()) {
        let cancelled = cancelled_starts(event, rows);
        for minutes in event.reminders.minutes() {
            if let Some((occurrence, at)) = next_due(event, &cancelled, zone, *minutes, now) {
                due.push((event.id, *minutes, occurrence, at));
            }
        }
    }
    due
}

/// A series' starts that do not remind as part of it: its EXDATEs, and its edited
/// occurrences (rows of their own, with their own reminders).
fn cancelled_starts(event: &Event, rows: &[Event]) -> Vec<DateTime<Utc>> {
    if event.rrule.is_none() {
        return Vec::new();
    }
    let mut starts = parse_exdates(&event.exdates);
    starts.extend(rows.iter().filter(|r| r.series_id == Some(event.id)).filter_map(|r| r.recurrence_id));
    starts
}

/// Rewrites the due rows of `owner`'s events with these UIDs, inside a write's transaction
/// (`$tx`), so a reminder can never fire for what the write changed or removed.
macro_rules! reschedule {
    ($store:expr, $tx:expr, $owner:expr, $uids:expr) => {{
        let uids: Vec<String> = $uids;
        if !uids.is_empty() {
            let sql = format!(
                "SELECT {} FROM events WHERE user_id = $1 AND {}",
                $crate::store::events::EVENT_COLUMNS,
                $store.in_list("uid", 2)
            );
            let rows: Vec<$crate::domain::Event> = sqlx::query_as(&sql)
                .bind($owner)
                .bind($crate::store::Listed(uids))
                .fetch_all(&mut *$tx)
                .await?;
            let ids: Vec<$crate::domain::EventId> = rows.iter().map(|e| e.id).collect();
            if !ids.is_empty() {
                let sql = format!("DELETE FROM reminders_due WHERE {}", $store.in_list("event_id", 1));
                sqlx::query(&sql).bind($crate::store::Listed(ids)).execute(&mut *$tx).await?;
            }
            // The owner's zone matters only to reminders (all-day ones): most writes have none.
            let zone: chrono_tz::Tz = if rows.iter().any(|e| !e.reminders.is_empty()) {
                let zone: Option<String> = sqlx::query_scalar("SELECT time_zone FROM users WHERE id = $1")
                    .bind($owner)
                    .fetch_optional(&mut *$tx)
                    .await?;
                zone.and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC)
            } else {
                chrono_tz::UTC
            };
            for (event, minutes, occurrence, due) in
                $crate::store::reminders::schedule(&rows, zone, chrono::Utc::now())
            {
                sqlx::query(
                    "INSERT INTO reminders_due (event_id, minutes, user_id, occurrence, due_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(event)
                .bind(i32::try_from(minutes).unwrap_or(i32::MAX))
                .bind($owner)
                .bind(occurrence)
                .bind(due)
                .execute(&mut *$tx)
                .await?;
            }
        }
    }};
}
pub(crate) use reschedule;

/// A reminder mail's Message-ID left part: one per event, occurrence and reminder, so every
/// attempt and every instance sends the same.
fn reminder_mail_key(due: &DueReminder) -> String {
    format!(
        "reminder.{}.{}.{}",
        due.event_id.0,
        crate::domain::recurrence::compact(due.occurrence),
        due.minutes
    )
}

const DUE_COLUMNS: &str = "event_id, minutes, user_id, occurrence, due_at";

impl Store {
    /// Claims up to `limit` reminders due by `now` that no live lease holds, until `lease`.
    /// PostgreSQL skips rows another instance is claiming; SQLite has one writer at a time.
    pub async fn claim_due_reminders(
        &self,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<DueReminder>> {
        let free = "due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)";
        match &self.pool {
            Pool::Sqlite(pool) => {
                let sql = format!(
                    "UPDATE reminders_due SET lease_until = $2 WHERE rowid IN \
                     (SELECT rowid FROM reminders_due WHERE {free} ORDER BY due_at LIMIT $3) RETURNING {DUE_COLUMNS}"
                );
                let mut tx = begin_write!(Sqlite, pool);
                let claimed = sqlx::query_as::<_, DueReminder>(&sql)
                    .bind(now)
                    .bind(lease)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(claimed)
            }
            Pool::Postgres(pool) => {
                let sql = format!(
                    "UPDATE reminders_due r SET lease_until = $2 FROM \
                     (SELECT event_id, minutes FROM reminders_due WHERE {free} ORDER BY due_at LIMIT $3 \
                      FOR UPDATE SKIP LOCKED) c \
                     WHERE r.event_id = c.event_id AND r.minutes = c.minutes \
                     RETURNING r.event_id, r.minutes, r.user_id, r.occurrence, r.due_at"
                );
                sqlx::query_as::<_, DueReminder>(&sql).bind(now).bind(lease).bind(limit).fetch_all(pool).await
            }
        }
    }

    /// Fires one claimed reminder in a transaction of its own: a notification if it fell due
    /// within `grace` of `now` (once, whoever else fires it), then its next occurrence's due
    /// time, or its row removed when there is none.
    pub async fn fire_reminder(
        &self,
        due: &DueReminder,
        now: DateTime<Utc>,
        grace: Duration,
    ) -> DbResult<Fired> {
        macro_rules! run {
            ($engine:ident, $pool:expr) => {{
                let mut tx = begin_write!($engine, $pool);
                let current: Option<DateTime<Utc>> =
                    sqlx::query_scalar("SELECT due_at FROM reminders_due WHERE event_id = $1 AND minutes = $2")
                        .bind(due.event_id)
                        .bind(due.minutes)
                        .fetch_optional(&mut *tx)
                        .await?;
                // (Committed, not dropped: a dropped SQLite write closes its connection.)
                if current != Some(due.due_at) {
                    tx.commit().await?;
                    return Ok(Fired::Stale);
                }
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 AND (id = $2 OR series_id = $2)"
                );
                let rows: Vec<Event> =
                    sqlx::query_as(&sql).bind(due.user_id).bind(due.event_id).fetch_all(&mut *tx).await?;
                let Some(event) = rows.iter().find(|e| e.id == due.event_id) else {
                    tx.commit().await?;
                    return Ok(Fired::Stale);
                };
                let fired = if due.due_at >= now - grace {
                    let made: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO notifications (user_id, event_id, occurrence, minutes, title, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id, occurrence, minutes) DO NOTHING \
                         RETURNING id",
                    )
                    .bind(due.user_id)
                    .bind(due.event_id)
                    .bind(due.occurrence)
                    .bind(due.minutes)
                    .bind(&event.title)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    match made {
                        Some(notification) => {
                            let key = reminder_mail_key(due);
                            queue_reminder_mail!(tx, due.user_id, notification, key, now);
                            Fired::Notified
                        }
                        None => Fired::Already,
                    }
                } else {
                    Fired::Missed
                };
                let zone: Option<String> = sqlx::query_scalar("SELECT time_zone FROM users WHERE id = $1")
                    .bind(due.user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let zone: Tz = zone.and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC);
                let minutes = u32::try_from(due.minutes).unwrap_or(0);
                let after = due.due_at.max(now - grace);
                match next_due(event, &cancelled_starts(event, &rows), zone, minutes, after) {
                    Some((occurrence, at)) => {
                        sqlx::query(
                            "UPDATE reminders_due SET occurrence = $3, due_at = $4, lease_until = NULL \
                             WHERE event_id = $1 AND minutes = $2",
                        )
                        .bind(due.event_id)
                        .bind(due.minutes)
                        .bind(occurrence)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM reminders_due WHERE event_id = $1 AND minutes = $2")
                            .bind(due.event_id)
                            .bind(due.minutes)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(fired)
            }};
        }
        match &self.pool {
            Pool::Sqlite(pool) => run!(Sqlite, pool),
            Pool::Postgres(pool) => run!(Postgres, pool),
        }
    }

    /// The user's notifications, newest first.
    pub async fn notifications_of(&self, user: UserId, limit: i64) -> DbResult<Vec<Notification>> {
        let sql = format!("SELECT {NOTIFICATION_COLUMNS} WHERE n.user_id = $1 ORDER BY n.id DESC LIMIT $2");
        with_pool!(self, pool => sqlx::query_as::<_, Notification>(&sql).bind(user).bind(limit).fetch_all(pool).await)
    }

    /// The user's unread notifications newer than `after` (an id), oldest first.
    pub async fn unread_notifications_after(&self, user: UserId, after: i64) -> DbResult<Vec<Notification>> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} WHERE n.user_id = $1 AND n.id > $2 AND n.read_at IS NULL ORDER BY n.id LIMIT 20"
        );
        with_pool!(self, pool => sqlx::query_as::<_, Notification>(&sql).bind(user).bind(after).fetch_all(pool).await)
    }

    pub async fn unread_notifications(&self, user: UserId) -> DbResult<i64> {
        let sql = "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL";
        with_pool!(self, pool => sqlx::query_scalar::<_, i64>(sql).bind(user).fetch_one(pool).await)
    }

    pub async fn mark_notifications_read(&self, user: UserId, now: DateTime<Utc>) -> DbResult<u64> {
        let sql = "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL";
        with_pool!(self, pool => sqlx::query(sql).bind(user).bind(now).execute(pool).await.map(|r| r.rows_affected()))
    }
}
