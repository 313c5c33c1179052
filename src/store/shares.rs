//! Shares: which calendars a user can see besides their own, and with what access. Every read
//! that crosses users starts here, so "what may this reader see" is answered by the database
//! in one place: an owner who is deactivated takes their shared calendars with them.

use chrono::Utc;

use super::events::EVENT_COLUMNS;
use super::{with_pool, Committed, DbResult, Listed, Store};
use crate::domain::{Access, Calendar, CalendarId, Event, EventId, Share, UserId};

#[derive(sqlx::FromRow)]
struct VisibleRow {
    #[sqlx(flatten)]
    calendar: Calendar,
    access: String,
    owner_name: String,
}

impl VisibleRow {
    fn into_calendar(self) -> Calendar {
        let access = Access::parse_shared(&self.access).unwrap_or(Access::Own);
        if access == Access::Own {
            return Calendar { access, ..self.calendar };
        }
        // A recipient's CalDAV home names it apart from their own calendars.
        let dav_name = Some(format!("shared-{}", self.calendar.id.0));
        Calendar { access, owner_name: Some(self.owner_name), dav_name, ..self.calendar }
    }
}

/// The reader's own calendars, then those shared with them: the recipient's colour and
/// visibility, never the owner's feed token or public link.
const VISIBLE: &str =
    "SELECT id, user_id, name, color, position, shown, is_default, change_seq, feed_token, \
            dav_name, public_token, public_busy, 'own' AS access, '' AS owner_name, 0 AS part \
     FROM calendars WHERE user_id = $1 \
     UNION ALL \
     SELECT c.id, c.user_id, c.name, COALESCE(s.color, c.color), c.position, s.shown, FALSE, c.change_seq, \
            CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), FALSE, s.access, u.username, 1 \
     FROM calendar_shares s JOIN calendars c ON c.id = s.calendar_id JOIN users u ON u.id = c.user_id \
     WHERE s.user_id = $1 AND u.is_active";

#[derive(sqlx::FromRow)]
struct SeenEvent {
    #[sqlx(flatten)]
    event: Event,
    access: String,
}

#[derive(sqlx::FromRow)]
struct ShareRow {
    calendar_id: CalendarId,
    user_id: UserId,
    username: String,
    access: String,
}

impl From<ShareRow> for Share {
    fn from(row: ShareRow) -> Share {
        Share {
            calendar_id: row.calendar_id,
            user_id: row.user_id,
            username: row.username,
            access: Access::parse_shared(&row.access).unwrap_or(Access::Busy),
        }
    }
}

impl Store {
    /// Every calendar `reader` can see: their own in their order, then the ones shared with
    /// them, by owner and the owner's order.
    pub async fn visible_calendars(&self, reader: UserId) -> DbResult<Vec<Calendar>> {
        let sql = format!("{VISIBLE} ORDER BY part, owner_name, position, id");
        let rows = with_pool!(self, pool => sqlx::query_as::<_, VisibleRow>(&sql).bind(reader).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(VisibleRow::into_calendar).collect())
    }

    /// One calendar `reader` can see (their own, or shared with them); `None` for any other,
    /// as for one that does not exist.
    pub async fn calendar_seen_by(&self, reader: UserId, id: CalendarId) -> DbResult<Option<Calendar>> {
        let sql = format!("SELECT * FROM ({VISIBLE}) visible WHERE id = $2");
        let row = with_pool!(self, pool => sqlx::query_as::<_, VisibleRow>(&sql)
            .bind(reader)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(VisibleRow::into_calendar))
    }

    /// The event, with the reader's access to it: theirs, or in a calendar shared with them
    /// by an active owner. `None` for any other, as for one that does not exist.
    pub async fn event_seen_by(&self, reader: UserId, id: EventId) -> DbResult<Option<(Event, Access)>> {
        let sql = format!(
            "SELECT {}, CASE WHEN e.user_id = $2 THEN 'own' ELSE s.access END AS access \
             FROM events e LEFT JOIN calendar_shares s ON s.calendar_id = e.calendar_id AND s.user_id = $2 \
             WHERE e.id = $1 AND (e.user_id = $2 OR s.user_id IS NOT NULL \
                   AND EXISTS (SELECT 1 FROM users u WHERE u.id = e.user_id AND u.is_active))",
            super::calendars::prefixed("e", EVENT_COLUMNS)
        );
        let row = with_pool!(self, pool => sqlx::query_as::<_, SeenEvent>(&sql)
            .bind(id)
            .bind(reader)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|row| (row.event, Access::parse_shared(&row.access).unwrap_or(Access::Own))))
    }

    /// The shares of `owner`'s calendars, by calendar and recipient.
    pub async fn shares_by(&self, owner: UserId) -> DbResult<Vec<Share>> {
        let sql = "SELECT s.calendar_id, s.user_id, u.username, s.access \
                   FROM calendar_shares s JOIN calendars c ON c.id = s.calendar_id JOIN users u ON u.id = s.user_id \
                   WHERE c.user_id = $1 ORDER BY s.calendar_id, u.username_key";
        let rows =
            with_pool!(self, pool => sqlx::query_as::<_, ShareRow>(sql).bind(owner).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Share::from).collect())
    }

    /// Shares `owner`'s calendar with `recipient` (or changes the access of an existing
    /// share); false when the calendar is not `owner`'s.
    pub async fn share_calendar(
        &self,
        owner: UserId,
        calendar: CalendarId,
        recipient: UserId,
        access: Access,
    ) -> DbResult<Committed<bool>> {
        let sql = "INSERT INTO calendar_shares (calendar_id, user_id, access, created_at) \
                   SELECT id, $3, $4, $5 FROM calendars WHERE id = $1 AND user_id = $2 AND user_id <> $3 \
                   ON CONFLICT (calendar_id, user_id) DO UPDATE SET access = excluded.access";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(calendar)
            .bind(owner)
            .bind(recipient)
            .bind(access.as_str())
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(owner, done > 0).seen_by(vec![recipient]))
    }

    /// Ends the share of `owner`'s calendar with `recipient`; false when there was none.
    pub async fn end_share(
        &self,
        owner: UserId,
        calendar: CalendarId,
        recipient: UserId,
    ) -> DbResult<Committed<bool>> {
        let sql = "DELETE FROM calendar_shares WHERE calendar_id = $1 AND user_id = $3 \
                   AND calendar_id IN (SELECT id FROM calendars WHERE user_id = $2)";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(calendar)
            .bind(owner)
            .bind(recipient)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(owner, done > 0).seen_by(vec![recipient]))
    }

    /// The recipient leaves a calendar shared with them; false when it was not.
    pub async fn leave_share(&self, recipient: UserId, calendar: CalendarId) -> DbResult<Committed<bool>> {
        let sql = "DELETE FROM calendar_shares WHERE calendar_id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(calendar)
            .bind(recipient)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(recipient, done > 0))
    }

    /// The recipient's own colour for a calendar shared with them; false when it is not.
    pub async fn set_share_color(
        &self,
        recipient: UserId,
        calendar: CalendarId,
        color: &str,
    ) -> DbResult<Committed<bool>> {
        let sql = "UPDATE calendar_shares SET color = $3 WHERE calendar_id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(calendar)
            .bind(recipient)
            .bind(color)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(recipient, done > 0))
    }

    /// Shows or hides a calendar shared with the recipient, for them alone.
    pub async fn set_share_shown(
        &self,
        recipient: UserId,
        calendar: CalendarId,
        shown: bool,
    ) -> DbResult<Committed<bool>> {
        let sql = "UPDATE calendar_shares SET shown = $3 WHERE calendar_id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(calendar)
            .bind(recipient)
            .bind(shown)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(Committed::new(recipient, done > 0))
    }

    /// Everyone `owner` shares a calendar with: whose views change with the owner's account
    /// (a deactivation takes the shared calendars away).
    pub async fn readers_of_owner(&self, owner: UserId) -> DbResult<Vec<UserId>> {
        let sql =
            "SELECT DISTINCT s.user_id FROM calendar_shares s JOIN calendars c ON c.id = s.calendar_id \
                   WHERE c.user_id = $1";
        with_pool!(self, pool => sqlx::query_scalar::<_, UserId>(sql).bind(owner).fetch_all(pool).await)
    }

    /// The recipients of these calendars.
    pub async fn readers_of(&self, calendars: &[CalendarId]) -> DbResult<Vec<UserId>> {
        if calendars.is_empty() {
            return Ok(Vec::new());
        }
        let sql =
            format!("SELECT DISTINCT user_id FROM calendar_shares WHERE {}", self.in_list("calendar_id", 1));
        let listed = Listed(calendars.to_vec());
        with_pool!(self, pool => sqlx::query_scalar::<_, UserId>(&sql).bind(&listed).fetch_all(pool).await)
    }

    /// The user's account was deactivated, reactivated or deleted (`readers`: those who saw
    /// their shared calendars, read before a deletion cascaded). A closed account's shares to
    /// it end with it; an owner's shared calendars vanish (or return) for every reader.
    pub async fn account_changed(
        &self,
        user: UserId,
        readers: Vec<UserId>,
        closed: bool,
    ) -> DbResult<Committed<()>> {
        if closed {
            let sql = "DELETE FROM calendar_shares WHERE user_id = $1";
            with_pool!(self, pool => sqlx::query(sql).bind(user).execute(pool).await.map(|_| ()))?;
        }
        Ok(Committed::new(user, ()).seen_by(readers))
    }
}

/// Keeps the column list in step with `calendars.rs`: `VISIBLE` names them by hand.
#[cfg(test)]
#[test]
fn visible_names_every_calendar_column() {
    for column in super::calendars::CALENDAR_COLUMNS.split(',') {
        assert!(VISIBLE.contains(column.trim()), "{column}");
    }
}
