//! Accounts.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{begin_write, with_pool, DbResult, Pool, Store};
use crate::domain::UserId;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub time_zone: String,
    pub week_start: i16,
    pub session_epoch: i64,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// What every request needs to know about its user; kept beside the session so that a
/// cached page costs no SQL.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SessionUser {
    pub id: UserId,
    pub username: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub time_zone: String,
    pub week_start: i16,
    pub session_epoch: i64,
}

impl SessionUser {
    /// The zone the user's calendar is shown in (UTC if the stored name no longer parses).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
}

impl From<&User> for SessionUser {
    fn from(user: &User) -> Self {
        SessionUser {
            id: user.id,
            username: user.username.clone(),
            is_admin: user.is_admin,
            is_active: user.is_active,
            time_zone: user.time_zone.clone(),
            week_start: user.week_start,
            session_epoch: user.session_epoch,
        }
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
}

/// The username (compared case-insensitively), or one that looks like it, already belongs to
/// someone.
#[derive(Debug, PartialEq, Eq)]
pub struct UsernameTaken;

const USER_COLUMNS: &str = "id, username, password_hash, is_admin, is_active, time_zone, \
                            week_start, session_epoch, created_at, last_login_at";

/// A new account's first calendar: its name and colour (the migration gives existing accounts
/// the same).
pub const DEFAULT_CALENDAR: (&str, &str) = ("Personal", "#1a73e8");

pub fn username_key(username: &str) -> String {
    username.to_lowercase()
}

/// What a name looks like: its confusable skeleton (Unicode TR 39), compared without case.
/// Two names with one skeleton are look-alikes (`admin`, `аdmin` with a Cyrillic а, `ᴀdmin`).
pub fn username_skeleton(username: &str) -> String {
    // Twice, because case and confusables interleave: `I` looks like `l` only before lower-
    // casing, and some look-alikes appear only after it.
    let fold = |text: &str| {
        unicode_security::confusable_detection::skeleton(text).collect::<String>().to_lowercase()
    };
    fold(&fold(username))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

// `RETURNING` statements are read with `fetch_all`, never `fetch_one`: on SQLite a statement
// that is not stepped to its end keeps its implicit transaction open, so the next query on
// another pooled connection would not yet see the write.
impl Store {
    /// Inserts the user; the unique indexes (not a prior SELECT) decide a race between two
    /// registrations of one name or of look-alikes.
    pub async fn create_user(&self, new: NewUser<'_>) -> DbResult<Result<UserId, UsernameTaken>> {
        let sql = "INSERT INTO users (username, username_key, username_skeleton, password_hash, is_admin, \
                   created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        // With the account, in the same transaction, its first (default) calendar.
        let calendar = "INSERT INTO calendars (user_id, name, color, position, is_default, created_at) \
                        VALUES ($1, $2, $3, 0, TRUE, $4)";
        macro_rules! run {
            ($engine:ident, $pool:expr) => {{
                let mut tx = begin_write!($engine, $pool);
                let inserted = sqlx::query_scalar::<_, i64>(sql)
                    .bind(new.username)
                    .bind(username_key(new.username))
                    .bind(username_skeleton(new.username))
                    .bind(new.password_hash)
                    .bind(new.is_admin)
                    .bind(Utc::now())
                    .fetch_all(&mut *tx)
                    .await;
                let id = match inserted {
                    Ok(ids) => ids.first().map(|id| UserId(*id)).ok_or(sqlx::Error::RowNotFound)?,
                    Err(e) if is_unique_violation(&e) => return Ok(Err(UsernameTaken)),
                    Err(e) => return Err(e),
                };
                sqlx::query(calendar)
                    .bind(id)
                    .bind(DEFAULT_CALENDAR.0)
                    .bind(DEFAULT_CALENDAR.1)
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Ok(id))
            }};
        }
        self.count_query();
        match &self.pool {
            Pool::Sqlite(pool) => run!(Sqlite, pool),
            Pool::Postgres(pool) => run!(Postgres, pool),
        }
    }

    /// Gives rows from before skeletons were stored theirs. Where two old names look alike,
    /// the later one keeps none (and is logged for an admin to look at): nothing is renamed.
    pub async fn fill_username_skeletons(&self) -> DbResult<()> {
        let sql = "SELECT id, username FROM users WHERE username_skeleton IS NULL ORDER BY id";
        let missing =
            with_pool!(self, pool => sqlx::query_as::<_, (UserId, String)>(sql).fetch_all(pool).await)?;
        for (id, username) in missing {
            let sql = "UPDATE users SET username_skeleton = $1 WHERE id = $2";
            let skeleton = username_skeleton(&username);
            let done = with_pool!(self, pool => sqlx::query(sql).bind(&skeleton).bind(id).execute(pool).await.map(|_| ()));
            match done {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    log::warn!("user {} looks like an older username; it keeps working, but check it", id.0);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub async fn user_by_username(&self, username: &str) -> DbResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = $1");
        with_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(username_key(username))
            .fetch_optional(pool)
            .await)
    }

    /// The active user whose subscription feed `token` opens.
    pub async fn user_by_feed_token(&self, token: &str) -> DbResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE feed_token = $1 AND is_active");
        with_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(token).fetch_optional(pool).await)
    }

    pub async fn feed_token(&self, id: UserId) -> DbResult<Option<String>> {
        let sql = "SELECT feed_token FROM users WHERE id = $1";
        let token = with_pool!(self, pool => sqlx::query_scalar::<_, Option<String>>(sql).bind(id).fetch_optional(pool).await)?;
        Ok(token.flatten())
    }

    /// Replaces the feed token: the old feed URL stops working at once.
    pub async fn set_feed_token(&self, id: UserId, token: &str) -> DbResult<()> {
        let sql = "UPDATE users SET feed_token = $2 WHERE id = $1";
        with_pool!(self, pool => sqlx::query(sql).bind(id).bind(token).execute(pool).await.map(|_| ()))
    }

    pub async fn user_by_id(&self, id: UserId) -> DbResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        with_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)
    }

    /// Changes the password and ends every session of the user (by bumping the epoch that
    /// each session record must match). Returns the new epoch for the caller's fresh session.
    pub async fn change_password(&self, id: UserId, password_hash: &str) -> DbResult<i64> {
        let sql = "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1 \
                   WHERE id = $2 RETURNING session_epoch";
        with_pool!(self, pool => sqlx::query_scalar::<_, i64>(sql)
            .bind(password_hash)
            .bind(id)
            .fetch_all(pool)
            .await)?
        .first()
        .copied()
        .ok_or(sqlx::Error::RowNotFound)
    }

    /// Returns false when no such user exists.
    pub async fn set_admin(&self, username: &str, is_admin: bool) -> DbResult<bool> {
        let sql = "UPDATE users SET is_admin = $1 WHERE username_key = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(is_admin)
            .bind(username_key(username))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Sets the user's zone and week start. All-day events remind from the owner's midnight,
    /// so their reminders move with the zone, in the same transaction.
    pub async fn set_preferences(&self, id: UserId, time_zone: &str, week_start: i16) -> DbResult<()> {
        macro_rules! run {
            ($engine:ident, $pool:expr) => {{
                let mut tx = super::begin_write!($engine, $pool);
                sqlx::query("UPDATE users SET time_zone = $1, week_start = $2 WHERE id = $3")
                    .bind(time_zone)
                    .bind(week_start)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let all_day: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT uid FROM events WHERE user_id = $1 AND all_day AND reminders <> ''",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
                super::reminders::reschedule!(self, tx, id, all_day);
                // The daily agenda keeps its local time in the new zone.
                let agenda: Option<Option<i32>> =
                    sqlx::query_scalar("SELECT agenda_minutes FROM mail_addresses WHERE user_id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(Some(minutes)) = agenda {
                    let zone: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
                    let minutes = u32::try_from(minutes).unwrap_or(0);
                    let (_, next) = crate::domain::reminders::next_agenda(minutes, zone, chrono::Utc::now());
                    sqlx::query("UPDATE mail_addresses SET agenda_next_at = $2 WHERE user_id = $1")
                        .bind(id)
                        .bind(next)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }};
        }
        match &self.pool {
            super::Pool::Sqlite(pool) => run!(Sqlite, pool),
            super::Pool::Postgres(pool) => run!(Postgres, pool),
        }
    }

    pub async fn count_users(&self) -> DbResult<i64> {
        with_pool!(self, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(pool).await)
    }

    pub async fn record_login(&self, id: UserId) -> DbResult<()> {
        let sql = "UPDATE users SET last_login_at = $1 WHERE id = $2";
        with_pool!(self, pool => sqlx::query(sql).bind(Utc::now()).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
