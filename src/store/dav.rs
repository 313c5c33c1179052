//! Calendar objects for CalDAV: one per plain event or series (with its edited occurrences),
//! named and versioned by the series row (`dav_name`, `object_seq`). Lists of names, UIDs and
//! ids are bound as one parameter (`Listed`), so a report of 50 objects is two queries.
//! Some columns are written `+column`: the unary plus keeps SQLite's planner (which has no
//! statistics, and cannot see that a bound JSON list is short) off an index that would scan
//! every event of the user or calendar, and onto the narrow one (`events_user_uid`,
//! `events_overrides`, `events_override_ends`); PostgreSQL reads the same value.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rocket::futures::stream::BoxStream;
use rocket::futures::{StreamExt, TryStreamExt};

use super::events::EVENT_COLUMNS;
use super::{with_pool, DbResult, Listed, Pool, Store};
use crate::domain::event::LONG_EVENT;
use crate::domain::object::default_object_name;
use crate::domain::{CalendarId, CalendarObject, Event, EventId, ObjectRef, UserId};

#[derive(sqlx::FromRow)]
struct RefRow {
    id: EventId,
    uid: String,
    dav_name: Option<String>,
    object_seq: i64,
}

impl From<RefRow> for ObjectRef {
    fn from(row: RefRow) -> ObjectRef {
        let name = row.dav_name.unwrap_or_else(|| default_object_name(&row.uid));
        ObjectRef { id: row.id, uid: row.uid, name, seq: row.object_seq, times_only: false }
    }
}

#[derive(sqlx::FromRow)]
struct MasterRow {
    #[sqlx(flatten)]
    event: Event,
    dav_name: Option<String>,
    object_seq: i64,
}

/// The columns of a series (or only) row and its object's name and version.
fn master_columns() -> String {
    format!("{EVENT_COLUMNS}, dav_name, object_seq")
}

/// What matching a time range needs of a series (or only) row, read by position: a month of
/// these costs a fraction of the full rows.
const TIMES_COLUMNS: &str = "id, uid, dav_name, object_seq, all_day, start_at, end_at, rrule, tzid, exdates";

type TimesRow = (
    EventId,
    String,
    Option<String>,
    i64,
    bool,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<String>,
    String,
    String,
);

/// A series (or only) row with its times and rule and nothing else: texts are empty and the
/// stamps are the start. Never rendered, only matched.
fn times_only(owner: UserId, calendar: CalendarId, row: TimesRow) -> MasterRow {
    let (id, uid, dav_name, object_seq, all_day, start_at, end_at, rrule, tzid, exdates) = row;
    let event = Event {
        id,
        user_id: owner,
        calendar_id: calendar,
        title: String::new(),
        description: String::new(),
        location: String::new(),
        all_day,
        start_at,
        end_at,
        created_at: start_at,
        updated_at: start_at,
        uid,
        rrule,
        tzid,
        exdates,
        series_id: None,
        recurrence_id: None,
        extra: String::new(),
        reminders: crate::domain::Reminders::none(),
    };
    MasterRow { event, dav_name, object_seq }
}

/// A series (or only) row and its edited occurrences as one object.
fn object_of(master: MasterRow, overrides: Vec<Event>) -> CalendarObject {
    let reference = ObjectRef::from(RefRow {
        id: master.event.id,
        uid: master.event.uid.clone(),
        dav_name: master.dav_name,
        object_seq: master.object_seq,
    });
    let mut events = vec![master.event];
    events.extend(overrides);
    CalendarObject { reference, events }
}

impl Store {
    /// Every object of one of `owner`'s calendars, by name (no bodies).
    pub async fn calendar_objects(&self, owner: UserId, calendar: CalendarId) -> DbResult<Vec<ObjectRef>> {
        self.calendar_objects_stream(owner, calendar).try_collect().await
    }

    /// `calendar_objects`, as the rows arrive: a listing of a whole calendar never holds it.
    pub fn calendar_objects_stream(
        &self,
        owner: UserId,
        calendar: CalendarId,
    ) -> BoxStream<'_, DbResult<ObjectRef>> {
        const SQL: &str = "SELECT id, uid, dav_name, object_seq FROM events \
                           WHERE user_id = $1 AND calendar_id = $2 AND series_id IS NULL ORDER BY id";
        self.count_query();
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as::<_, RefRow>(SQL)
                .bind(owner)
                .bind(calendar)
                .fetch(pool)
                .map_ok(ObjectRef::from)
                .boxed(),
            Pool::Postgres(pool) => sqlx::query_as::<_, RefRow>(SQL)
                .bind(owner)
                .bind(calendar)
                .fetch(pool)
                .map_ok(ObjectRef::from)
                .boxed(),
        }
    }

    /// Every object of the calendar with its rows, as the rows arrive. The edited occurrences
    /// (few: one per changed date) are read first; the series and events then stream.
    pub async fn all_objects_stream(
        &self,
        owner: UserId,
        calendar: CalendarId,
    ) -> DbResult<BoxStream<'_, DbResult<CalendarObject>>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 AND calendar_id = $2 AND series_id IS NOT NULL \
             ORDER BY series_id, recurrence_id"
        );
        let overrides = with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql)
            .bind(owner)
            .bind(calendar)
            .fetch_all(pool)
            .await)?;
        let mut by_series: HashMap<EventId, Vec<Event>> = HashMap::new();
        for event in overrides {
            if let Some(series) = event.series_id {
                by_series.entry(series).or_default().push(event);
            }
        }
        // The stream outlives this call, so its query text must too.
        static MASTERS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql: &'static str = MASTERS.get_or_init(|| {
            format!(
                "SELECT {} FROM events WHERE user_id = $1 AND calendar_id = $2 AND series_id IS NULL ORDER BY id",
                master_columns()
            )
        });
        self.count_query();
        let masters = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as::<_, MasterRow>(sql).bind(owner).bind(calendar).fetch(pool).boxed()
            }
            Pool::Postgres(pool) => {
                sqlx::query_as::<_, MasterRow>(sql).bind(owner).bind(calendar).fetch(pool).boxed()
            }
        };
        Ok(masters
            .map_ok(move |master| {
                let own = by_series.remove(&master.event.id).unwrap_or_default();
                object_of(master, own)
            })
            .boxed())
    }

    /// The objects of the calendar with these UIDs (no bodies); missing ones are left out.
    pub async fn object_refs_by_uid(
        &self,
        owner: UserId,
        calendar: CalendarId,
        uids: &[&str],
    ) -> DbResult<Vec<ObjectRef>> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, uid, dav_name, object_seq FROM events \
             WHERE user_id = $1 AND +calendar_id = $2 AND series_id IS NULL AND {}",
            self.in_list("uid", 3)
        );
        let uids = Listed(uids.iter().map(|u| u.to_string()).collect());
        let rows = with_pool!(self, pool => sqlx::query_as::<_, RefRow>(&sql)
            .bind(owner)
            .bind(calendar)
            .bind(&uids)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(ObjectRef::from).collect())
    }

    /// Where `owner` already has an object with this UID, in any calendar.
    pub async fn object_with_uid(
        &self,
        owner: UserId,
        uid: &str,
    ) -> DbResult<Option<(CalendarId, ObjectRef)>> {
        let sql = "SELECT calendar_id, id, uid, dav_name, object_seq FROM events \
                   WHERE user_id = $1 AND uid = $2 AND series_id IS NULL";
        #[derive(sqlx::FromRow)]
        struct Row {
            calendar_id: CalendarId,
            #[sqlx(flatten)]
            reference: RefRow,
        }
        let row = with_pool!(self, pool => sqlx::query_as::<_, Row>(sql)
            .bind(owner)
            .bind(uid)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|row| (row.calendar_id, ObjectRef::from(row.reference))))
    }

    /// The calendar's objects with these resource names, with their rows; missing ones are
    /// left out.
    pub async fn objects_named(
        &self,
        owner: UserId,
        calendar: CalendarId,
        names: &[&str],
    ) -> DbResult<Vec<CalendarObject>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let columns = master_columns();
        let sql = format!(
            "SELECT {columns} FROM events WHERE user_id = $1 AND calendar_id = $2 AND series_id IS NULL \
             AND {names} \
             UNION ALL \
             SELECT {columns} FROM events WHERE user_id = $1 AND +calendar_id = $2 AND series_id IS NULL \
             AND dav_name IS NULL AND {uids}",
            names = self.in_list("dav_name", 3),
            uids = self.in_list("uid", 4),
        );
        let uids = Listed(names.iter().filter_map(|n| n.strip_suffix(".ics")).map(str::to_string).collect());
        let names = Listed(names.iter().map(|n| n.to_string()).collect());
        let masters = with_pool!(self, pool => sqlx::query_as::<_, MasterRow>(&sql)
            .bind(owner)
            .bind(calendar)
            .bind(&names)
            .bind(&uids)
            .fetch_all(pool)
            .await)?;
        self.with_overrides(owner, masters).await
    }

    /// Every object of the calendar, with its rows.
    pub async fn all_objects(&self, owner: UserId, calendar: CalendarId) -> DbResult<Vec<CalendarObject>> {
        self.all_objects_stream(owner, calendar).await?.try_collect().await
    }

    /// The calendar's objects that may have an occurrence overlapping `[from, until)`: plain
    /// events that do, series that have not ended by `from` nor start after `until` (their
    /// occurrences are for the caller to check), and series with an edited occurrence that
    /// does.
    /// Their series rows carry times only (empty texts): match them, then read the bodies of
    /// the ones that match (`objects_by_id`) or take them from a cache of rendered versions.
    pub async fn objects_overlapping(
        &self,
        owner: UserId,
        calendar: CalendarId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<CalendarObject>> {
        let columns = TIMES_COLUMNS;
        let object = "user_id = $1 AND calendar_id = $2 AND series_id IS NULL";
        let sql = format!(
            "SELECT {columns} FROM events WHERE {object} AND rrule IS NULL \
             AND start_at >= $3 AND start_at < $4 AND (end_at > $5 OR start_at >= $5) \
             UNION ALL \
             SELECT {columns} FROM events WHERE {object} AND rrule IS NULL AND is_long \
             AND start_at < $3 AND end_at > $5 \
             UNION ALL \
             SELECT {columns} FROM events WHERE {object} AND rrule IS NOT NULL AND start_at < $4 \
             AND (repeats_until IS NULL OR repeats_until > $5) \
             UNION ALL \
             SELECT {columns} FROM events WHERE {object} AND id IN (SELECT series_id FROM events \
             WHERE user_id = $1 AND +calendar_id = $2 AND series_id IS NOT NULL AND start_at < $4 AND end_at > $5)"
        );
        let rows = with_pool!(self, pool => sqlx::query_as::<_, TimesRow>(&sql)
            .bind(owner)
            .bind(calendar)
            .bind(from - LONG_EVENT)
            .bind(until)
            .bind(from)
            .fetch_all(pool)
            .await)?;
        let masters = rows.into_iter().map(|row| times_only(owner, calendar, row)).collect();
        self.with_overrides(owner, masters).await
    }

    /// The calendar's objects whose series (or only) rows have these ids, with their rows.
    pub async fn objects_by_id(
        &self,
        owner: UserId,
        calendar: CalendarId,
        ids: &[EventId],
    ) -> DbResult<Vec<CalendarObject>> {
        let ids = Listed(ids.iter().map(|id| id.0).collect::<Vec<i64>>());
        let condition = format!("calendar_id = $2 AND {}", self.in_list("id", 3));
        self.objects_where(owner, calendar, &condition, ids).await
    }

    /// The calendar's objects with these UIDs, with their rows; missing ones are left out.
    pub async fn objects_by_uid(
        &self,
        owner: UserId,
        calendar: CalendarId,
        uids: &[&str],
    ) -> DbResult<Vec<CalendarObject>> {
        let uids = Listed(uids.iter().map(|u| u.to_string()).collect::<Vec<String>>());
        let condition = format!("+calendar_id = $2 AND {}", self.in_list("uid", 3));
        self.objects_where(owner, calendar, &condition, uids).await
    }

    /// The calendar's objects whose series rows meet `condition` (ours, never a client's: it
    /// names the calendar as `$2`, with or without the planner hint, and the list as `$3`).
    async fn objects_where<T>(
        &self,
        owner: UserId,
        calendar: CalendarId,
        condition: &str,
        list: Listed<T>,
    ) -> DbResult<Vec<CalendarObject>>
    where
        T: serde::Serialize + Send + Sync,
        Vec<T>: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        if list.0.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM events WHERE user_id = $1 AND series_id IS NULL AND {condition}",
            master_columns()
        );
        let masters = with_pool!(self, pool => sqlx::query_as::<_, MasterRow>(&sql)
            .bind(owner)
            .bind(calendar)
            .bind(&list)
            .fetch_all(pool)
            .await)?;
        self.with_overrides(owner, masters).await
    }

    /// Each series row with its edited occurrences (one query for all of them); a row read
    /// twice (by two branches of a range read) counts once.
    async fn with_overrides(
        &self,
        owner: UserId,
        mut masters: Vec<MasterRow>,
    ) -> DbResult<Vec<CalendarObject>> {
        let mut seen = std::collections::HashSet::with_capacity(masters.len());
        masters.retain(|m| seen.insert(m.event.id));
        let series: Vec<i64> =
            masters.iter().filter(|m| m.event.rrule.is_some()).map(|m| m.event.id.0).collect();
        let overrides: Vec<Event> = if series.is_empty() {
            Vec::new()
        } else {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE +user_id = $1 AND {} \
                 ORDER BY series_id, recurrence_id",
                self.in_list("series_id", 2)
            );
            let ids = Listed(series);
            with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql).bind(owner).bind(&ids).fetch_all(pool).await)?
        };
        let mut by_series: HashMap<EventId, Vec<Event>> = HashMap::new();
        for event in overrides {
            if let Some(series) = event.series_id {
                by_series.entry(series).or_default().push(event);
            }
        }
        Ok(masters
            .into_iter()
            .map(|master| {
                let own = by_series.remove(&master.event.id).unwrap_or_default();
                object_of(master, own)
            })
            .collect())
    }
}
