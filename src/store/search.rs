//! Full-text search over the events a user can read in full (their own and those shared with
//! them to read or write, never busy-only ones), through each engine's own index.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DbResult, Listed, Pool, Store};
use crate::domain::search_text::Terms;
use crate::domain::{CalendarId, EventId, Sources};

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

const SEARCH_ORDER: &str = "ORDER BY title_hit DESC, (start_at >= $3) DESC, \
     CASE WHEN start_at >= $3 THEN start_at END ASC, \
     CASE WHEN start_at < $3 THEN start_at END DESC, 1 LIMIT $4 OFFSET $5";

impl Store {
    /// The events of `sources` containing every term (the last as a prefix), through the
    /// full-text index of each engine: title matches first, then upcoming events nearest
    /// `now`, then past ones, most recent first. `sources` must be read in full: a busy-only
    /// calendar is never searched (its words would tell what its times are).
    pub async fn search_events(
        &self,
        sources: &Sources,
        terms: &Terms,
        now: DateTime<Utc>,
        limit: u32,
        offset: u32,
    ) -> DbResult<Vec<SearchHit>> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        self.count_query();
        let (limit, offset) = (i64::from(limit), i64::from(offset));
        let (owners, calendars) = (Listed(sources.owners.clone()), Listed(sources.calendars.clone()));
        match &self.pool {
            Pool::Sqlite(pool) => {
                // CROSS JOIN pins the plan: matches from the index first, then their rows by
                // primary key (never a walk over all of the user's events).
                let sql = format!(
                    "SELECT e.id, e.calendar_id, e.title, e.description, e.location, e.all_day, e.start_at, \
                     e.end_at, e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH $2) AS title_hit \
                     FROM events_fts f CROSS JOIN events e ON e.id = f.rowid \
                     WHERE events_fts MATCH $1 AND {} AND {} {SEARCH_ORDER}",
                    self.in_list("e.user_id", 6),
                    self.in_list("e.calendar_id", 7)
                );
                let (everywhere, in_title) = (terms.fts5("title body"), terms.fts5("title"));
                sqlx::query_as::<_, SearchHit>(&sql)
                    .bind(everywhere)
                    .bind(in_title)
                    .bind(now)
                    .bind(limit)
                    .bind(offset)
                    .bind(&owners)
                    .bind(&calendars)
                    .fetch_all(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                let sql = format!(
                    "SELECT id, calendar_id, title, description, location, all_day, start_at, end_at, \
                     search_title_tsv @@ to_tsquery('simple', $2) AS title_hit \
                     FROM events WHERE {} AND search_all @@ to_tsquery('simple', $1) AND {} \
                     {SEARCH_ORDER}",
                    self.in_list("user_id", 6),
                    self.in_list("calendar_id", 7)
                );
                sqlx::query_as::<_, SearchHit>(&sql)
                    .bind(terms.tsquery())
                    .bind(terms.tsquery())
                    .bind(now)
                    .bind(limit)
                    .bind(offset)
                    .bind(&owners)
                    .bind(&calendars)
                    .fetch_all(pool)
                    .await
            }
        }
    }
}
