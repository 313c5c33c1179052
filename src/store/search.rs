//! Full-text search over one user's events, through each engine's own index.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DbResult, Pool, Store};
use crate::domain::search_text::Terms;
use crate::domain::{CalendarId, EventId, UserId};

/// One search result.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct SearchHit {
    pub id: EventId,
    pub calendar_id: CalendarId,
    pub title: String,
    pub description: String,
    pub location: String,
    pub all_day: bool,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    /// Every word of the query is in the title: these come first.
    pub title_hit: bool,
}

/// Hidden calendars are left out of search as of every view.
const SHOWN: &str = "calendar_id IN (SELECT id FROM calendars WHERE user_id = $6 AND shown)";

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
                    "SELECT e.id, e.calendar_id, e.title, e.description, e.location, e.all_day, e.start_at, \
                     e.end_at, e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH $2) AS title_hit \
                     FROM events_fts f CROSS JOIN events e ON e.id = f.rowid \
                     WHERE events_fts MATCH $1 AND e.user_id = $6 AND {SHOWN} {SEARCH_ORDER}"
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
                    "SELECT id, calendar_id, title, description, location, all_day, start_at, end_at, \
                     search_title_tsv @@ to_tsquery('simple', $2) AS title_hit \
                     FROM events WHERE user_id = $6 AND search_all @@ to_tsquery('simple', $1) AND {SHOWN} \
                     {SEARCH_ORDER}"
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
