//! Calendars: each user has one or more, one of them the default; every event belongs to
//! one. Each calendar numbers its changes (`change_seq`), and `calendar_changes` holds a row
//! per changed object, written by `Store::apply` in the transaction that makes the change.

use chrono::{DateTime, Utc};

use super::{begin_write, with_pool, Committed, DbResult, Pool, Store};
use crate::domain::{
    Calendar, CalendarDraft, CalendarId, ChangeKind, LastCalendar, LoggedChange, PublicCalendar, Reminders,
    UserId,
};

/// `columns` (a list like `CALENDAR_COLUMNS`) each qualified by `table`.
pub(super) fn prefixed(table: &str, columns: &str) -> String {
    columns.split(',').map(|c| format!("{table}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

pub(super) const CALENDAR_COLUMNS: &str =
    "id, user_id, name, color, position, shown, is_default, change_seq, feed_token, dav_name, \
     public_token, public_busy";

impl Store {
    /// The user's calendars in their order.
    pub async fn calendars_of(&self, owner: UserId) -> DbResult<Vec<Calendar>> {
        let sql =
            format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE user_id = $1 ORDER BY position, id");
        with_pool!(self, pool => sqlx::query_as::<_, Calendar>(&sql).bind(owner).fetch_all(pool).await)
    }

    /// The calendar, if it is `owner`'s: another user's calendar is as absent as a missing one.
    pub async fn calendar_for(&self, owner: UserId, id: CalendarId) -> DbResult<Option<Calendar>> {
        let sql = format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE id = $1 AND user_id = $2");
        with_pool!(self, pool => sqlx::query_as::<_, Calendar>(&sql).bind(id).bind(owner).fetch_optional(pool).await)
    }

    pub async fn default_calendar(&self, owner: UserId) -> DbResult<Calendar> {
        let sql = format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE user_id = $1 AND is_default");
        let found = with_pool!(self, pool => sqlx::query_as::<_, Calendar>(&sql).bind(owner).fetch_optional(pool).await)?;
        found.ok_or(sqlx::Error::RowNotFound)
    }

    /// Adds a calendar after the user's others; the first one becomes the default.
    /// `dav_name`: the path segment a CalDAV client chose for it.
    pub async fn insert_calendar(
        &self,
        owner: UserId,
        draft: &CalendarDraft,
        dav_name: Option<&str>,
    ) -> DbResult<Committed<CalendarId>> {
        let sql = "INSERT INTO calendars (user_id, name, color, position, is_default, created_at, dav_name) \
                   SELECT $1, $2, $3, COALESCE(MAX(position) + 1, 0), COUNT(*) = 0, $4, $5 \
                   FROM calendars WHERE user_id = $1 RETURNING id";
        let ids = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(sql)
            .bind(owner)
            .bind(&draft.name)
            .bind(&draft.color)
            .bind(Utc::now())
            .bind(dav_name)
            .fetch_all(pool)
            .await)?;
        let id = ids.first().map(|id| CalendarId(*id)).ok_or(sqlx::Error::RowNotFound)?;
        Ok(Committed::new(owner, id))
    }

    /// The calendar whose feed `token` opens, if its owner's account is active.
    pub async fn calendar_by_feed_token(&self, token: &str) -> DbResult<Option<Calendar>> {
        let sql = format!(
            "SELECT {CALENDAR_COLUMNS} FROM calendars WHERE feed_token = $1 \
             AND EXISTS (SELECT 1 FROM users u WHERE u.id = calendars.user_id AND u.is_active)"
        );
        with_pool!(self, pool => sqlx::query_as::<_, Calendar>(&sql).bind(token).fetch_optional(pool).await)
    }

    /// The calendar a public link opens, with its owner's zone and week start (the page
    /// shows times as its owner does), if the owner's account is active.
    pub async fn calendar_by_public_token(&self, token: &str) -> DbResult<Option<PublicCalendar>> {
        let sql = format!(
            "SELECT {}, u.time_zone, u.week_start FROM calendars c JOIN users u ON u.id = c.user_id \
             WHERE c.public_token = $1 AND u.is_active",
            prefixed("c", CALENDAR_COLUMNS)
        );
        with_pool!(self, pool => sqlx::query_as::<_, PublicCalendar>(&sql).bind(token).fetch_optional(pool).await)
    }

    /// Opens the calendar at a new public address (`Some`: the token, and whether it shows
    /// busy times only), or closes it (`None`); the old address stops working at once. False
    /// when there is no such calendar of `owner`'s.
    pub async fn set_public_link(
        &self,
        owner: UserId,
        id: CalendarId,
        link: Option<(&str, bool)>,
    ) -> DbResult<Committed<bool>> {
        let (token, busy) = link.map_or((None, false), |(token, busy)| (Some(token), busy));
        let sql = "UPDATE calendars SET public_token = $3, public_busy = $4 WHERE id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(owner)
            .bind(token)
            .bind(busy)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(owner, done > 0))
    }

    /// Gives the calendar a new feed token (the old one stops opening it); false when there
    /// is no such calendar of `owner`'s.
    pub async fn set_calendar_feed_token(
        &self,
        owner: UserId,
        id: CalendarId,
        token: &str,
    ) -> DbResult<Committed<bool>> {
        let sql = "UPDATE calendars SET feed_token = $3 WHERE id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(owner)
            .bind(token)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(owner, done > 0))
    }

    /// Renames and recolours; false when there is no such calendar of `owner`'s.
    pub async fn update_calendar(
        &self,
        owner: UserId,
        id: CalendarId,
        draft: &CalendarDraft,
    ) -> DbResult<Committed<bool>> {
        let sql = "UPDATE calendars SET name = $3, color = $4 WHERE id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(owner)
            .bind(&draft.name)
            .bind(&draft.color)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        // Recipients see the new name (and the colour, unless they chose their own).
        let readers = if done > 0 { self.readers_of(&[id]).await? } else { Vec::new() };
        Ok(Committed::new(owner, done > 0).seen_by(readers))
    }

    /// Moves the calendar to `position` in the user's order; false when there is no such
    /// calendar of `owner`'s.
    pub async fn set_calendar_position(
        &self,
        owner: UserId,
        id: CalendarId,
        position: i32,
    ) -> DbResult<Committed<bool>> {
        let sql = "UPDATE calendars SET position = $3 WHERE id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(owner)
            .bind(position)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(owner, done > 0))
    }

    /// Shows or hides the calendar in the user's views; false when there is no such calendar.
    pub async fn set_calendar_shown(
        &self,
        owner: UserId,
        id: CalendarId,
        shown: bool,
    ) -> DbResult<Committed<bool>> {
        let sql = "UPDATE calendars SET shown = $3 WHERE id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(owner)
            .bind(shown)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(owner, done > 0))
    }

    /// Deletes the calendar with its events and change log, unless it is the user's last; the
    /// default passes to the first remaining calendar. `Ok(None)`: no such calendar.
    pub async fn delete_calendar(
        &self,
        owner: UserId,
        id: CalendarId,
    ) -> DbResult<Committed<Result<Option<Calendar>, LastCalendar>>> {
        macro_rules! run {
            ($engine:ident, $pool:expr) => {{
                let mut tx = begin_write!($engine, $pool);
                // Locks the user's calendars (PostgreSQL), so two deletions cannot both see
                // the other's calendar still there.
                let sql = format!(
                    "SELECT {CALENDAR_COLUMNS} FROM calendars WHERE user_id = $1 ORDER BY position, id{}",
                    if matches!(self.pool, Pool::Postgres(_)) { " FOR UPDATE" } else { "" }
                );
                let calendars = sqlx::query_as::<_, Calendar>(&sql).bind(owner).fetch_all(&mut *tx).await?;
                let Some(doomed) = calendars.iter().find(|c| c.id == id).cloned() else {
                    return Ok(Committed::new(owner, Ok(None)));
                };
                if calendars.len() == 1 {
                    return Ok(Committed::new(owner, Err(LastCalendar)));
                }
                // Read before the cascade takes the shares with the calendar.
                let readers = sqlx::query_scalar::<_, UserId>(
                    "SELECT user_id FROM calendar_shares WHERE calendar_id = $1",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM events WHERE calendar_id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM calendars WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                if doomed.is_default {
                    if let Some(heir) = calendars.iter().find(|c| c.id != id) {
                        sqlx::query("UPDATE calendars SET is_default = TRUE WHERE id = $1")
                            .bind(heir.id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(Committed::new(owner, Ok(Some(doomed))).seen_by(readers))
            }};
        }
        self.count_query();
        match &self.pool {
            Pool::Sqlite(pool) => run!(Sqlite, pool),
            Pool::Postgres(pool) => run!(Postgres, pool),
        }
    }

    /// The calendar's changes after `seq`, oldest first (what a sync token has not seen).
    pub async fn changes_since(&self, calendar: CalendarId, seq: i64) -> DbResult<Vec<LoggedChange>> {
        let sql = "SELECT seq, uid, kind, changed_at, dav_name FROM calendar_changes \
                   WHERE calendar_id = $1 AND seq > $2 ORDER BY seq";
        let rows = with_pool!(self, pool => sqlx::query_as::<_, (i64, String, String, DateTime<Utc>, Option<String>)>(sql)
            .bind(calendar)
            .bind(seq)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(seq, uid, kind, changed_at, deleted_name)| LoggedChange {
                seq,
                uid,
                kind: ChangeKind::parse(&kind),
                changed_at,
                deleted_name,
            })
            .collect())
    }

    /// Forgets change log rows older than `before` (by age, never by count: a client that
    /// synced within the window always gets an exact answer).
    pub async fn prune_changes(&self, before: DateTime<Utc>) -> DbResult<u64> {
        let sql = "DELETE FROM calendar_changes WHERE changed_at < $1";
        with_pool!(self, pool => sqlx::query(sql).bind(before).execute(pool).await.map(|r| r.rows_affected()))
    }

    /// The reminders new events in each of `owner`'s calendars start with.
    pub async fn default_reminders_of(&self, owner: UserId) -> DbResult<Vec<CalendarReminders>> {
        let sql = "SELECT id AS calendar_id, default_reminders, default_all_day_reminders FROM calendars \
                   WHERE user_id = $1";
        with_pool!(self, pool => sqlx::query_as::<_, CalendarReminders>(sql).bind(owner).fetch_all(pool).await)
    }

    /// Sets them for one of `owner`'s calendars; false when there is no such calendar. (Not
    /// a write of the write path: nothing a view, a feed or a sync shows changes.)
    pub async fn set_default_reminders(
        &self,
        owner: UserId,
        id: CalendarId,
        timed: &Reminders,
        all_day: &Reminders,
    ) -> DbResult<bool> {
        let sql = "UPDATE calendars SET default_reminders = $3, default_all_day_reminders = $4 \
                   WHERE id = $1 AND user_id = $2";
        with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(owner)
            .bind(timed.to_column())
            .bind(all_day.to_column())
            .execute(pool)
            .await
            .map(|r| r.rows_affected() > 0))
    }
}

/// The reminders a calendar gives a new event: timed and all-day.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CalendarReminders {
    pub calendar_id: CalendarId,
    #[sqlx(try_from = "String")]
    pub default_reminders: Reminders,
    #[sqlx(try_from = "String")]
    pub default_all_day_reminders: Reminders,
}
