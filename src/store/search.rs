//! Full-text search over the events a user can read in full (their own and those shared with
//! them to read or write, never busy-only ones), through each engine's own index.
//!
//! Results come in four runs, each read in time order from the index and only as far as the
//! page needs: events with every word in the title (upcoming ones from the nearest, then past
//! ones from the most recent), then the other matches in the same two orders. No request
//! reads or sorts all the matches of a common word.

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
    #[sqlx(default)]
    pub title_hit: bool,
}

/// One of the four runs of results, in the order they are shown.
#[derive(Clone, Copy)]
struct Run {
    in_title: bool,
    upcoming: bool,
}

const RUNS: [Run; 4] = [
    Run { in_title: true, upcoming: true },
    Run { in_title: true, upcoming: false },
    Run { in_title: false, upcoming: true },
    Run { in_title: false, upcoming: false },
];

/// The SQLite index's rowid for an event starting at `start` (migration 0017 writes the same
/// from the row): its start in minutes above its id, so rowid order is time order.
const ID_BITS: u32 = 35;
const MINUTE_OFFSET: i64 = 1 << 26;
const MINUTE_MAX: i64 = (1 << 28) - 1;

fn index_key(start: DateTime<Utc>) -> i64 {
    (start.timestamp().div_euclid(60) + MINUTE_OFFSET).clamp(0, MINUTE_MAX) << ID_BITS
}

fn event_of_key(key: i64) -> i64 {
    key & ((1 << ID_BITS) - 1)
}

/// The FTS5 query for one run, within the calendars that may be read.
fn fts5_query(terms: &Terms, calendars: &[CalendarId], run: Run) -> String {
    let names: Vec<String> = calendars.iter().map(|c| format!("c{}", c.0)).collect();
    let within = format!("{{calendar}} : ({})", names.join(" OR "));
    if run.in_title {
        format!("{within} AND ({})", terms.fts5("title"))
    } else {
        format!("{within} AND (({}) NOT ({}))", terms.fts5("title body"), terms.fts5("title"))
    }
}

/// The PostgreSQL condition for one run (`$1` is the query).
fn tsquery_matches(run: Run) -> &'static str {
    if run.in_title {
        "search_title_tsv @@ to_tsquery('simple', $1)"
    } else {
        "search_all @@ to_tsquery('simple', $1) AND NOT search_title_tsv @@ to_tsquery('simple', $1)"
    }
}

impl Store {
    /// The events of `sources` containing every term (the last as a prefix): title matches
    /// first, then upcoming events nearest `now`, then past ones, most recent first.
    /// `sources` must be read in full: a busy-only calendar is never searched (its words
    /// would tell what its times are).
    pub async fn search_events(
        &self,
        sources: &Sources,
        terms: &Terms,
        now: DateTime<Utc>,
        limit: u32,
        offset: u32,
    ) -> DbResult<Vec<SearchHit>> {
        if sources.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let (mut skip, mut hits) = (i64::from(offset), Vec::new());
        let mut runs = &RUNS[..];
        // Title matches are few for any real query: read them all from the index in one query
        // and order them by their keys, rather than walking the index twice.
        if let Some(keys) = self.title_keys(sources, terms, now).await? {
            let skipped = usize::try_from(skip).unwrap_or(usize::MAX);
            let page: Vec<i64> = keys.iter().skip(skipped).take(limit as usize).copied().collect();
            skip = (skip - keys.len() as i64).max(0);
            hits = self.hits_by_key(sources, &page).await?;
            hits.iter_mut().for_each(|hit| hit.title_hit = true);
            runs = &RUNS[2..];
        }
        for run in runs.iter().copied() {
            let need = i64::from(limit) - hits.len() as i64;
            if need <= 0 {
                break;
            }
            let found = self.search_run(sources, terms, now, run, need, skip).await?;
            // Skipping past a run's end leaves the rest of the offset to the runs after it.
            skip = if found.is_empty() && skip > 0 {
                skip - self.search_run_count(sources, terms, now, run).await?.min(skip)
            } else {
                0
            };
            hits.extend(found);
        }
        Ok(hits)
    }

    /// Up to `limit` matches of one run after `offset`, in its order.
    async fn search_run(
        &self,
        sources: &Sources,
        terms: &Terms,
        now: DateTime<Utc>,
        run: Run,
        limit: i64,
        offset: i64,
    ) -> DbResult<Vec<SearchHit>> {
        self.count_query();
        let (compare, order) = if run.upcoming { (">=", "ASC") } else { ("<", "DESC") };
        let mut hits = match &self.pool {
            Pool::Sqlite(pool) => {
                let sql = format!(
                    "SELECT rowid FROM events_fts WHERE events_fts MATCH $1 AND rowid {compare} $2 \
                     ORDER BY rowid {order} LIMIT $3 OFFSET $4"
                );
                let keys: Vec<i64> = sqlx::query_scalar(&sql)
                    .bind(fts5_query(terms, &sources.calendars, run))
                    .bind(index_key(now))
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?;
                self.hits_by_key(sources, &keys).await?
            }
            Pool::Postgres(pool) => {
                let sql = format!(
                    "SELECT id, calendar_id, title, description, location, all_day, start_at, end_at \
                     FROM events WHERE {} AND {} AND {} AND start_at {compare} $2 \
                     ORDER BY start_at {order}, id {order} LIMIT $3 OFFSET $4",
                    self.in_list("user_id", 5),
                    self.in_list("calendar_id", 6),
                    tsquery_matches(run)
                );
                sqlx::query_as::<_, SearchHit>(&sql)
                    .bind(terms.tsquery())
                    .bind(now)
                    .bind(limit)
                    .bind(offset)
                    .bind(Listed(sources.owners.clone()))
                    .bind(Listed(sources.calendars.clone()))
                    .fetch_all(pool)
                    .await?
            }
        };
        hits.iter_mut().for_each(|hit| hit.title_hit = run.in_title);
        Ok(hits)
    }

    /// All title matches' index keys (SQLite) in the order they are shown: upcoming from
    /// `now`, then past from the most recent. `None` when there are too many to read at once.
    async fn title_keys(
        &self,
        sources: &Sources,
        terms: &Terms,
        now: DateTime<Utc>,
    ) -> DbResult<Option<Vec<i64>>> {
        const READ_AT_ONCE: usize = 500;
        let Pool::Sqlite(pool) = &self.pool else { return Ok(None) };
        self.count_query();
        let mut keys: Vec<i64> =
            sqlx::query_scalar("SELECT rowid FROM events_fts WHERE events_fts MATCH $1 LIMIT $2")
                .bind(fts5_query(terms, &sources.calendars, RUNS[0]))
                .bind(READ_AT_ONCE as i64 + 1)
                .fetch_all(pool)
                .await?;
        if keys.len() > READ_AT_ONCE {
            return Ok(None);
        }
        let now = index_key(now);
        keys.sort_unstable_by_key(|key| if *key >= now { (false, *key) } else { (true, -*key) });
        Ok(Some(keys))
    }

    /// The rows behind SQLite index keys, in the keys' order, still checked against who may
    /// read them.
    async fn hits_by_key(&self, sources: &Sources, keys: &[i64]) -> DbResult<Vec<SearchHit>> {
        let Pool::Sqlite(pool) = &self.pool else { return Ok(Vec::new()) };
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.count_query();
        let ids = Listed(keys.iter().map(|k| event_of_key(*k)).collect());
        let sql = format!(
            "SELECT id, calendar_id, title, description, location, all_day, start_at, end_at FROM events \
             WHERE id IN (SELECT value FROM json_each($1)) AND {} AND {}",
            self.in_list("user_id", 2),
            self.in_list("calendar_id", 3)
        );
        let mut rows: Vec<SearchHit> = sqlx::query_as(&sql)
            .bind(&ids)
            .bind(Listed(sources.owners.clone()))
            .bind(Listed(sources.calendars.clone()))
            .fetch_all(pool)
            .await?;
        let position = |id: EventId| ids.0.iter().position(|i| *i == id.0);
        rows.sort_by_key(|row| position(row.id));
        Ok(rows)
    }

    /// Merges the SQLite full-text index's segments: FTS5 leaves many after a bulk load and
    /// after a stream of small writes, and a search steps through each segment's part of a
    /// calendar's entries, so fewer segments make every search cheaper. `pages` bounds one
    /// call's work (the hourly upkeep: SQLite's writer waits meanwhile); `None` merges all
    /// (after a seed). PostgreSQL's GIN indexes are kept by its own vacuum.
    pub async fn compact_search_index(&self, pages: Option<u32>) -> DbResult<()> {
        let Pool::Sqlite(pool) = &self.pool else { return Ok(()) };
        match pages {
            None => {
                sqlx::query("INSERT INTO events_fts (events_fts) VALUES ('optimize')").execute(pool).await?
            }
            // A negative budget merges every segment, level by level, a bounded step at a time.
            Some(pages) => {
                sqlx::query("INSERT INTO events_fts (events_fts, rank) VALUES ('merge', $1)")
                    .bind(-i64::from(pages))
                    .execute(pool)
                    .await?
            }
        };
        Ok(())
    }

    /// How many matches one run has (only asked for when a later page skips past it).
    async fn search_run_count(
        &self,
        sources: &Sources,
        terms: &Terms,
        now: DateTime<Utc>,
        run: Run,
    ) -> DbResult<i64> {
        self.count_query();
        let compare = if run.upcoming { ">=" } else { "<" };
        match &self.pool {
            Pool::Sqlite(pool) => {
                let sql = format!(
                    "SELECT count(*) FROM events_fts WHERE events_fts MATCH $1 AND rowid {compare} $2"
                );
                sqlx::query_scalar(&sql)
                    .bind(fts5_query(terms, &sources.calendars, run))
                    .bind(index_key(now))
                    .fetch_one(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                let sql = format!(
                    "SELECT count(*) FROM events WHERE {} AND {} AND {} AND start_at {compare} $2",
                    self.in_list("user_id", 3),
                    self.in_list("calendar_id", 4),
                    tsquery_matches(run)
                );
                sqlx::query_scalar(&sql)
                    .bind(terms.tsquery())
                    .bind(now)
                    .bind(Listed(sources.owners.clone()))
                    .bind(Listed(sources.calendars.clone()))
                    .fetch_one(pool)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn index_keys_order_by_start_then_id() {
        let at = |y, h| Utc.with_ymd_and_hms(y, 6, 11, h, 0, 0).unwrap();
        let key = |start, id| index_key(start) | id;
        assert!(key(at(2025, 9), 900) < key(at(2025, 10), 1));
        assert!(key(at(2025, 9), 1) < key(at(2025, 9), 2));
        assert!(key(at(1900, 0), 1) > 0 && key(at(2200, 23), (1 << ID_BITS) - 1) > key(at(2200, 22), 5));
        assert_eq!(event_of_key(key(at(2025, 9), 123_456)), 123_456);
        // The migration's SQL divides toward zero; both agree from 1970 on, where `now` is.
        assert_eq!(index_key(Utc.timestamp_opt(0, 0).unwrap()), MINUTE_OFFSET << ID_BITS);
    }
}
