//! Events. A range read touches only the visible period: events starting inside it (through
//! `events_user_start`) plus the rare long ones (through the partial `events_user_long`), so a
//! month costs the same for a user with 100 events as for one with 100,000.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{with_pool, DbResult, Pool, Store, UserId};
use crate::search::text::{fold, Terms};

/// Events longer than this are flagged `is_long` and found through their own small index;
/// shorter ones are found by a start-time window widened by this much.
pub const LONG_EVENT: Duration = Duration::days(7);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(transparent)]
pub struct EventId(pub i64);

impl<'a> rocket::request::FromParam<'a> for EventId {
    type Error = &'a str;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        match param.parse::<i64>() {
            Ok(id) if id > 0 => Ok(EventId(id)),
            _ => Err(param),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Event {
    pub id: EventId,
    pub user_id: UserId,
    pub title: String,
    pub description: String,
    pub location: String,
    pub all_day: bool,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the calendar views and the dashboard need of an event: fewer columns to read and
/// decode than `Event` when a range holds thousands.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct EventSummary {
    pub id: EventId,
    pub title: String,
    pub location: String,
    pub all_day: bool,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
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
}

impl EventDraft {
    fn is_long(&self) -> bool {
        self.end_at - self.start_at > LONG_EVENT
    }

    /// The folded text the search indexes read (title; everything).
    fn search_text(&self) -> (String, String) {
        let title = fold(&self.title);
        let all = format!("{title} {} {}", fold(&self.description), fold(&self.location));
        (title, all)
    }
}

/// One search result.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct SearchHit {
    pub id: EventId,
    pub title: String,
    pub description: String,
    pub location: String,
    pub all_day: bool,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    /// Every word of the query is in the title: these come first.
    pub title_hit: bool,
}

/// Binds a draft's columns as `$2`..`$11` (after the owner as `$1`), in the order both the
/// insert and the update name them.
macro_rules! bind_draft {
    ($query:expr, $draft:expr, $search:expr) => {
        $query
            .bind(&$draft.title)
            .bind(&$draft.description)
            .bind(&$draft.location)
            .bind($draft.all_day)
            .bind($draft.start_at)
            .bind($draft.end_at)
            .bind($draft.is_long())
            .bind(Utc::now())
            .bind(&$search.0)
            .bind(&$search.1)
    };
}

const EVENT_COLUMNS: &str =
    "id, user_id, title, description, location, all_day, start_at, end_at, created_at, updated_at";
const SUMMARY_COLUMNS: &str = "id, title, location, all_day, start_at, end_at";

impl Store {
    pub async fn create_event(&self, owner: UserId, draft: &EventDraft) -> DbResult<EventId> {
        let sql = "INSERT INTO events (user_id, title, description, location, all_day, start_at, \
                   end_at, is_long, updated_at, search_title, search_text, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $9) RETURNING id";
        let search = draft.search_text();
        let ids = with_pool!(self, pool => bind_draft!(sqlx::query_scalar::<_, i64>(sql).bind(owner), draft, search)
            .fetch_all(pool)
            .await)?;
        ids.first().map(|id| EventId(*id)).ok_or(sqlx::Error::RowNotFound)
    }

    /// The event, if it exists and belongs to `owner`: another user's event is as absent as
    /// a deleted one.
    pub async fn event_for(&self, owner: UserId, id: EventId) -> DbResult<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 AND user_id = $2");
        with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql).bind(id).bind(owner).fetch_optional(pool).await)
    }

    /// Returns false when there is no such event of `owner`'s.
    pub async fn update_event(&self, owner: UserId, id: EventId, draft: &EventDraft) -> DbResult<bool> {
        let sql = "UPDATE events SET title = $2, description = $3, location = $4, all_day = $5, \
                   start_at = $6, end_at = $7, is_long = $8, updated_at = $9, search_title = $10, \
                   search_text = $11 WHERE user_id = $1 AND id = $12";
        let search = draft.search_text();
        let updated = with_pool!(self, pool => bind_draft!(sqlx::query(sql).bind(owner), draft, search)
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(updated > 0)
    }

    /// Deletes the event and returns what it was (for the page to go back to), or `None`
    /// when there is no such event of `owner`'s. One statement: no read before the delete.
    pub async fn delete_event(&self, owner: UserId, id: EventId) -> DbResult<Option<EventSummary>> {
        let sql = format!("DELETE FROM events WHERE id = $1 AND user_id = $2 RETURNING {SUMMARY_COLUMNS}");
        let deleted = with_pool!(self, pool => sqlx::query_as::<_, EventSummary>(&sql)
            .bind(id)
            .bind(owner)
            .fetch_all(pool)
            .await)?;
        Ok(deleted.into_iter().next())
    }

    /// `owner`'s events that overlap `[from, until)` (an event ending exactly at `from` is
    /// included; callers place events by local date and drop it), ordered by start.
    pub async fn events_between(
        &self,
        owner: UserId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<EventSummary>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM events \
             WHERE user_id = $1 AND start_at >= $2 AND start_at < $3 AND end_at >= $4 \
             UNION ALL \
             SELECT {SUMMARY_COLUMNS} FROM events \
             WHERE user_id = $1 AND is_long AND start_at < $2 AND end_at >= $4 \
             ORDER BY start_at, id"
        );
        with_pool!(self, pool => sqlx::query_as::<_, EventSummary>(&sql)
            .bind(owner)
            .bind(from - LONG_EVENT)
            .bind(until)
            .bind(from)
            .fetch_all(pool)
            .await)
    }
}

impl Store {
    /// Adds many events in one transaction (seeding, imports).
    pub async fn insert_events(&self, owner: UserId, drafts: &[EventDraft]) -> DbResult<()> {
        const COLUMNS: &str =
            "INSERT INTO events (user_id, title, description, location, all_day, start_at, \
                               end_at, is_long, created_at, updated_at, search_title, search_text) ";
        let now = Utc::now();
        // Stay far below both engines' limits on bound parameters per statement.
        for chunk in drafts.chunks(500) {
            macro_rules! push_rows {
                ($db:ty, $pool:expr) => {{
                    let mut tx = $pool.begin().await?;
                    let mut query = sqlx::QueryBuilder::<$db>::new(COLUMNS);
                    query.push_values(chunk, |mut row, draft| {
                        let (search_title, search_text) = draft.search_text();
                        row.push_bind(owner)
                            .push_bind(draft.title.clone())
                            .push_bind(draft.description.clone())
                            .push_bind(draft.location.clone())
                            .push_bind(draft.all_day)
                            .push_bind(draft.start_at)
                            .push_bind(draft.end_at)
                            .push_bind(draft.is_long())
                            .push_bind(now)
                            .push_bind(now)
                            .push_bind(search_title)
                            .push_bind(search_text);
                    });
                    query.build().execute(&mut *tx).await?;
                    tx.commit().await
                }};
            }
            self.count_query();
            match &self.pool {
                Pool::Sqlite(pool) => push_rows!(sqlx::Sqlite, pool)?,
                Pool::Postgres(pool) => push_rows!(sqlx::Postgres, pool)?,
            }
        }
        Ok(())
    }

    /// Refreshes the planner's statistics after a bulk load.
    pub async fn analyze(&self) -> DbResult<()> {
        let sql = match self.pool {
            Pool::Sqlite(_) => "PRAGMA optimize",
            Pool::Postgres(_) => "ANALYZE events",
        };
        with_pool!(self, pool => sqlx::query(sql).execute(pool).await.map(|_| ()))
    }
}

const SEARCH_ORDER: &str = "ORDER BY title_hit DESC, (start_at >= $3) DESC, \
     CASE WHEN start_at >= $3 THEN start_at END ASC, \
     CASE WHEN start_at < $3 THEN start_at END DESC, 1 LIMIT $4 OFFSET $5";

impl Store {
    /// `owner`'s events containing every term (the last as a prefix), through the full-text
    /// index of each engine: title matches first, then upcoming events nearest `now`, then
    /// past ones, most recent first.
    pub async fn search_events(
        &self,
        owner: UserId,
        terms: &Terms,
        now: DateTime<Utc>,
        limit: u32,
        offset: u32,
    ) -> DbResult<Vec<SearchHit>> {
        self.count_query();
        let (limit, offset) = (i64::from(limit), i64::from(offset));
        match &self.pool {
            Pool::Sqlite(pool) => {
                // CROSS JOIN pins the plan: matches from the index first, then their rows by
                // primary key (never a walk over all of the user's events).
                let sql = format!(
                    "SELECT e.id, e.title, e.description, e.location, e.all_day, e.start_at, e.end_at, \
                     e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH $2) AS title_hit \
                     FROM events_fts f CROSS JOIN events e ON e.id = f.rowid \
                     WHERE events_fts MATCH $1 AND e.user_id = $6 {SEARCH_ORDER}"
                );
                let (everywhere, in_title) = (terms.fts5("title body"), terms.fts5("title"));
                sqlx::query_as::<_, SearchHit>(&sql)
                    .bind(everywhere)
                    .bind(in_title)
                    .bind(now)
                    .bind(limit)
                    .bind(offset)
                    .bind(owner)
                    .fetch_all(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                let sql = format!(
                    "SELECT id, title, description, location, all_day, start_at, end_at, \
                     search_title_tsv @@ to_tsquery('simple', $2) AS title_hit \
                     FROM events WHERE user_id = $6 AND search_all @@ to_tsquery('simple', $1) {SEARCH_ORDER}"
                );
                sqlx::query_as::<_, SearchHit>(&sql)
                    .bind(terms.tsquery())
                    .bind(terms.tsquery())
                    .bind(now)
                    .bind(limit)
                    .bind(offset)
                    .bind(owner)
                    .fetch_all(pool)
                    .await
            }
        }
    }
}
