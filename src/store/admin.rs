//! What the admin pages read and change across users.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{with_pool, DbResult, Pool, Store};
use crate::domain::{Event, EventId, UserId};

pub const ADMIN_PAGE_SIZE: i64 = 25;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub event_count: i64,
    pub is_admin: bool,
    pub is_active: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: EventId,
    pub owner_id: UserId,
    pub owner: String,
    pub title: String,
    pub start_at: DateTime<Utc>,
    pub all_day: bool,
    pub calendar_name: String,
    pub calendar_color: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub created_at: DateTime<Utc>,
}

/// How the user list can be ordered; anything else falls back to the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    Name,
    Created,
    LastLogin,
    Events,
}

impl UserSort {
    pub fn parse(text: Option<&str>) -> UserSort {
        match text {
            Some("created") => UserSort::Created,
            Some("last_login") => UserSort::LastLogin,
            Some("events") => UserSort::Events,
            _ => UserSort::Name,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UserSort::Name => "name",
            UserSort::Created => "created",
            UserSort::LastLogin => "last_login",
            UserSort::Events => "events",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            UserSort::Name => "username_key ASC",
            UserSort::Created => "created_at DESC, id DESC",
            UserSort::LastLogin => "last_login_at IS NULL, last_login_at DESC, id DESC",
            UserSort::Events => "event_count DESC, username_key ASC",
        }
    }
}

/// `%` and `_` typed into the filter are literal characters, not wildcards.
fn like_pattern(filter: &str) -> String {
    let escaped: String = filter
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// Why an admin change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminRefusal {
    NoSuchUser,
    LastAdmin,
}

impl Store {
    pub async fn admin_users(
        &self,
        filter: &str,
        sort: UserSort,
        page: i64,
    ) -> DbResult<(Vec<UserRow>, i64)> {
        let pattern = like_pattern(filter);
        let sql = format!(
            "SELECT id, username, created_at, last_login_at, is_admin, is_active, \
             (SELECT COUNT(*) FROM events e WHERE e.user_id = users.id) AS event_count \
             FROM users WHERE username_key LIKE $1 ESCAPE '\\' ORDER BY {} LIMIT $2 OFFSET $3",
            sort.order_by()
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, UserRow>(&sql)
            .bind(&pattern)
            .bind(ADMIN_PAGE_SIZE)
            .bind(page.saturating_sub(1).max(0).saturating_mul(ADMIN_PAGE_SIZE))
            .fetch_all(pool)
            .await)?;
        let total = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users WHERE username_key LIKE $1 ESCAPE '\\'")
            .bind(&pattern)
            .fetch_one(pool)
            .await)?;
        Ok((rows, total))
    }

    /// Changes a user's admin or active flag, refusing to leave the instance without an
    /// active admin. Deactivating also ends the user's sessions.
    pub async fn set_user_flags(
        &self,
        id: UserId,
        is_admin: bool,
        is_active: bool,
    ) -> DbResult<Result<(), AdminRefusal>> {
        self.last_admin_guarded(id, Some((is_admin, is_active))).await
    }

    /// Deletes the user and (by cascade) their events, unless they are the last active admin.
    pub async fn delete_user(&self, id: UserId) -> DbResult<Result<(), AdminRefusal>> {
        self.last_admin_guarded(id, None).await
    }

    /// Runs a change (new flags, or deletion when `None`) only if afterwards some other user,
    /// or this one, is still an active admin. The check and the change are one atomic step:
    /// SQLite runs one writer at a time; on PostgreSQL the admins' rows are locked first, so
    /// two demotions cannot both count the other one.
    async fn last_admin_guarded(
        &self,
        id: UserId,
        flags: Option<(bool, bool)>,
    ) -> DbResult<Result<(), AdminRefusal>> {
        const SOME_ADMIN_REMAINS: &str =
            "(SELECT COUNT(*) FROM users o WHERE o.is_admin AND o.is_active AND o.id <> $1) > 0";
        let (is_admin, is_active) = flags.unwrap_or((false, false));
        let sql = match flags {
            Some(_) => format!(
                "UPDATE users SET is_admin = $2, is_active = $3, \
                 session_epoch = session_epoch + CASE WHEN $3 THEN 0 ELSE 1 END \
                 WHERE id = $1 AND ($2 AND $3 OR NOT (is_admin AND is_active) OR {SOME_ADMIN_REMAINS})"
            ),
            None => format!(
                "DELETE FROM users WHERE id = $1 AND (NOT (is_admin AND is_active) OR {SOME_ADMIN_REMAINS})"
            ),
        };
        macro_rules! change {
            ($executor:expr) => {{
                let query = sqlx::query(&sql).bind(id);
                let query = if flags.is_some() { query.bind(is_admin).bind(is_active) } else { query };
                query.execute($executor).await?.rows_affected()
            }};
        }
        self.count_query();
        let changed = match &self.pool {
            Pool::Sqlite(pool) => change!(pool),
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT id FROM users WHERE is_admin AND is_active FOR UPDATE")
                    .execute(&mut *tx)
                    .await?;
                let changed = change!(&mut *tx);
                tx.commit().await?;
                changed
            }
        };
        if changed > 0 {
            return Ok(Ok(()));
        }
        let exists = self.user_by_id(id).await?.is_some();
        Ok(Err(if exists { AdminRefusal::LastAdmin } else { AdminRefusal::NoSuchUser }))
    }

    /// Ends every session of the user (their records no longer match the user's epoch).
    pub async fn end_sessions_of(&self, id: UserId) -> DbResult<bool> {
        let sql = "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1";
        let done = with_pool!(self, pool => sqlx::query(sql).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    pub async fn admin_events(&self, filter: &str, page: i64) -> DbResult<(Vec<EventRow>, i64)> {
        let pattern = like_pattern(filter);
        let sql = "SELECT e.id, e.user_id AS owner_id, u.username AS owner, e.title, e.start_at, e.all_day, \
                   c.name AS calendar_name, c.color AS calendar_color \
                   FROM events e JOIN users u ON u.id = e.user_id JOIN calendars c ON c.id = e.calendar_id \
                   WHERE LOWER(e.title) LIKE $1 ESCAPE '\\' OR u.username_key LIKE $1 ESCAPE '\\' \
                   ORDER BY e.start_at DESC, e.id DESC LIMIT $2 OFFSET $3";
        let rows = with_pool!(self, pool => sqlx::query_as::<_, EventRow>(sql)
            .bind(&pattern)
            .bind(ADMIN_PAGE_SIZE)
            .bind(page.saturating_sub(1).max(0).saturating_mul(ADMIN_PAGE_SIZE))
            .fetch_all(pool)
            .await)?;
        let total = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM events e JOIN users u ON u.id = e.user_id \
             WHERE LOWER(e.title) LIKE $1 ESCAPE '\\' OR u.username_key LIKE $1 ESCAPE '\\'")
            .bind(&pattern)
            .fetch_one(pool)
            .await)?;
        Ok((rows, total))
    }

    /// Any user's event (admins only): the event and its owner's id.
    pub async fn event_by_id(&self, id: EventId) -> DbResult<Option<Event>> {
        let sql = format!("SELECT {} FROM events WHERE id = $1", super::events::EVENT_COLUMNS);
        with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql).bind(id).fetch_optional(pool).await)
    }

    pub async fn record_audit(
        &self,
        actor: Option<UserId>,
        actor_name: &str,
        action: &str,
        target: &str,
    ) -> DbResult<()> {
        let sql = "INSERT INTO audit_log (actor_id, actor_name, action, target, created_at) VALUES ($1, $2, $3, $4, $5)";
        with_pool!(self, pool => sqlx::query(sql)
            .bind(actor)
            .bind(actor_name)
            .bind(action)
            .bind(target)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|_| ()))
    }

    pub async fn audit_log(&self, page: i64) -> DbResult<(Vec<AuditRow>, i64)> {
        let sql = "SELECT actor_name, action, target, created_at FROM audit_log \
                   ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2";
        let rows = with_pool!(self, pool => sqlx::query_as::<_, AuditRow>(sql)
            .bind(ADMIN_PAGE_SIZE)
            .bind(page.saturating_sub(1).max(0).saturating_mul(ADMIN_PAGE_SIZE))
            .fetch_all(pool)
            .await)?;
        let total = with_pool!(self, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log").fetch_one(pool).await)?;
        Ok((rows, total))
    }

    /// Bytes the database takes on disk.
    pub async fn database_size(&self) -> DbResult<i64> {
        let sql = match self.pool {
            Pool::Sqlite(_) => "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            Pool::Postgres(_) => "SELECT pg_database_size(current_database())",
        };
        with_pool!(self, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
    }
}
