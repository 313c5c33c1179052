//! Events. A range read touches only the visible period: events starting inside it (through
//! `events_user_start`) plus the rare long ones (through the partial `events_user_long`), so a
//! month costs the same for a user with 100 events as for one with 100,000.

use chrono::{DateTime, Utc};

use chrono_tz::Tz;

use super::{begin_write, with_pool, Committed, DbResult, Listed, Pool, Store};
use crate::domain::event::{new_uid, LONG_EVENT};
use crate::domain::object::default_object_name;
use crate::domain::recurrence::{parse_exdates, Rule, Series};
use crate::domain::{
    CalendarId, Change, ChangeKind, Event, EventDraft, EventId, EventSummary, Reach, ReadScope, SeriesRef,
    Sources, UserId,
};

/// A range read's row: an event, or a series to expand (`rrule` set).
#[derive(sqlx::FromRow)]
struct RangeRow {
    #[sqlx(flatten)]
    summary: EventSummary,
    rrule: Option<String>,
    tzid: String,
    exdates: String,
}

/// When a stored event happens, and for an edited occurrence also the occurrence it replaces:
/// its start and its series' start and end (the series' duration is every occurrence's).
type ReachRow = (
    DateTime<Utc>,
    DateTime<Utc>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// Adds to `$reach` when event `$id` and its edited occurrences happen, as they stand now in
/// the transaction: called before a change for where they were, after it for where they are.
macro_rules! reach_of {
    ($self:ident, $tx:ident, $owner:expr, $id:expr, $reach:ident) => {{
        $self.count_query();
        let rows = sqlx::query_as::<_, ReachRow>(
            "SELECT e.start_at, e.end_at, e.rrule, e.repeats_until, e.recurrence_id, s.start_at, s.end_at \
             FROM events e LEFT JOIN events s ON s.id = e.series_id AND s.user_id = e.user_id \
             WHERE e.user_id = $1 AND (e.id = $2 OR e.series_id = $2)",
        )
        .bind($owner)
        .bind($id)
        .fetch_all(&mut *$tx)
        .await?;
        for (start, end, rule, until, replaces, series_start, series_end) in rows {
            $reach.add(start, if rule.is_some() { until } else { Some(end) });
            if let (Some(replaces), Some(series_start), Some(series_end)) =
                (replaces, series_start, series_end)
            {
                $reach.add(replaces, replaces.checked_add_signed(series_end - series_start));
            }
        }
    }};
}

/// Adds to `$reach` the occurrence of series `$series` that starts at `$at` (which an edited
/// occurrence inserted there replaces).
macro_rules! reach_occurrence {
    ($self:ident, $tx:ident, $owner:expr, $series:expr, $at:expr, $reach:ident) => {{
        $self.count_query();
        let series = sqlx::query_as::<_, (DateTime<Utc>, DateTime<Utc>)>(
            "SELECT start_at, end_at FROM events WHERE user_id = $1 AND id = $2",
        )
        .bind($owner)
        .bind($series)
        .fetch_all(&mut *$tx)
        .await?;
        for (start, end) in series {
            $reach.add($at, $at.checked_add_signed(end - start));
        }
    }};
}

/// Binds a draft's columns as `$2`..`$14` (after the owner as `$1`), in the order both the
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
            .bind($draft.rrule())
            .bind(&$draft.tzid)
            .bind($draft.repeats_until())
    };
}

const DRAFT_COLUMNS: &str = "title, description, location, all_day, start_at, end_at, is_long, updated_at, \
                             search_title, search_text, rrule, tzid, repeats_until";
const DRAFT_UPDATE: &str = "title = $2, description = $3, location = $4, all_day = $5, start_at = $6, \
     end_at = $7, is_long = $8, updated_at = $9, search_title = $10, search_text = $11, rrule = $12, \
     tzid = $13, repeats_until = $14";
pub(super) const EVENT_COLUMNS: &str =
    "id, user_id, calendar_id, title, description, location, all_day, start_at, end_at, created_at, \
     updated_at, uid, rrule, tzid, exdates, series_id, recurrence_id, extra, reminders";
const SUMMARY_COLUMNS: &str = "id, calendar_id, title, location, all_day, start_at, end_at";
/// A busy-only reader's columns: when, and nothing of what.
const BUSY_COLUMNS: &str =
    "id, calendar_id, '' AS title, '' AS location, all_day, start_at, end_at, TRUE AS busy";
/// No series yields more occurrences than this into one range (a daily event in a 6-week
/// month grid yields 42).
const OCCURRENCES_PER_RANGE: usize = 400;

/// What an `apply` did: the ids it inserted, and whether a change found no row of the
/// owner's to change (a concurrent delete, or another user's id).
#[derive(Debug, Default)]
pub struct Applied {
    pub inserted: Vec<EventId>,
    pub missed: bool,
}

impl Applied {
    fn record(&mut self, log: &mut ChangeLog, rows: Vec<(CalendarId, String)>, kind: ChangeKind) {
        self.missed |= rows.is_empty();
        for (calendar, uid) in rows {
            log.record(calendar, &uid, None, kind);
        }
    }
}

/// One object changed by a transaction: where, which, the resource name it had if it was
/// deleted (the row is gone by the time a sync report names it), and how.
struct LoggedObject {
    calendar: CalendarId,
    uid: String,
    deleted_name: Option<String>,
    kind: ChangeKind,
}

/// The objects one transaction changed, one entry per (calendar, UID), in first-change order.
#[derive(Default)]
struct ChangeLog(Vec<LoggedObject>);

impl ChangeLog {
    fn record(&mut self, calendar: CalendarId, uid: &str, deleted_name: Option<String>, kind: ChangeKind) {
        match self.0.iter_mut().find(|o| o.calendar == calendar && o.uid == uid) {
            Some(entry) => {
                entry.kind = entry.kind.then(kind);
                entry.deleted_name = deleted_name.or(entry.deleted_name.take());
            }
            None => self.0.push(LoggedObject { calendar, uid: uid.to_string(), deleted_name, kind }),
        }
    }

    /// Calendars in id order (so concurrent writers lock them in one order), each with its
    /// objects.
    fn by_calendar(&self) -> Vec<(CalendarId, Vec<&LoggedObject>)> {
        let mut calendars: Vec<CalendarId> = self.0.iter().map(|o| o.calendar).collect();
        calendars.sort();
        calendars.dedup();
        calendars
            .into_iter()
            .map(|calendar| (calendar, self.0.iter().filter(|o| o.calendar == calendar).collect()))
            .collect()
    }
}

impl Store {
    /// Applies `changes` in one transaction, in order, and logs each changed object in its
    /// calendar's change log in the same transaction (one row per object, numbered from the
    /// calendar's `change_seq`, which the transaction holds locked until it commits, so the
    /// numbers of concurrent writers are committed in order). Every statement names the
    /// owner, so a change can never touch another user's row. `author` is who made the
    /// change: the owner, or someone they shared a calendar with to write (the log says so).
    pub async fn apply(
        &self,
        author: UserId,
        owner: UserId,
        changes: Vec<Change>,
    ) -> DbResult<Committed<Applied>> {
        macro_rules! run {
            ($engine:ident, $pool:expr) => {{
                let mut tx = begin_write!($engine, $pool);
                let mut applied = Applied::default();
                let mut log = ChangeLog::default();
                let mut reach = Reach::nothing();
                let mut last_series: Option<EventId> = None;
                for change in &changes {
                    self.count_query();
                    let resolve = |series: SeriesRef| match series {
                        SeriesRef::Existing(id) => Ok(id),
                        SeriesRef::Inserted => last_series.ok_or(sqlx::Error::RowNotFound),
                    };
                    match change {
                        Change::Insert(new) => {
                            reach.add_draft(&new.draft);
                            if let Some((SeriesRef::Existing(series), at)) = new.series {
                                reach_occurrence!(self, tx, owner, series, at, reach);
                            }
                            let (series_id, recurrence_id) = match new.series {
                                Some((series, at)) => (Some(resolve(series)?), Some(at)),
                                None => (None, None),
                            };
                            let sql = format!(
                                "INSERT INTO events (user_id, {DRAFT_COLUMNS}, created_at, uid, exdates, \
                                 series_id, recurrence_id, calendar_id, dav_name, extra, reminders) VALUES ($1, $2, $3, $4, \
                                 $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $9, $15, $16, $17, $18, $19, $20, \
                                 COALESCE($21, ''), $22) RETURNING id"
                            );
                            let search = new.draft.search_text();
                            let ids = bind_draft!(sqlx::query_scalar::<_, i64>(&sql).bind(owner), &new.draft, search)
                                .bind(&new.uid)
                                .bind(&new.exdates)
                                .bind(series_id)
                                .bind(recurrence_id)
                                .bind(new.calendar)
                                .bind(series_id.is_none().then_some(new.dav_name.as_deref()).flatten())
                                .bind(new.draft.extra.as_deref())
                                .bind(new.draft.reminders.to_column())
                                .fetch_all(&mut *tx)
                                .await?;
                            let id = ids.first().map(|id| EventId(*id)).ok_or(sqlx::Error::RowNotFound)?;
                            if series_id.is_none() {
                                last_series = Some(id);
                            }
                            let kind = if series_id.is_none() { ChangeKind::Created } else { ChangeKind::Updated };
                            log.record(new.calendar, &new.uid, None, kind);
                            applied.inserted.push(id);
                        }
                        Change::Update { id, draft, exdates } => {
                            reach_of!(self, tx, owner, *id, reach);
                            reach.add_draft(draft);
                            let sql = format!(
                                "UPDATE events SET {DRAFT_UPDATE}, exdates = $15, extra = COALESCE($17, extra), \
                                 reminders = $18 WHERE user_id = $1 AND id = $16 RETURNING calendar_id, uid"
                            );
                            let search = draft.search_text();
                            let rows = bind_draft!(sqlx::query_as::<_, (CalendarId, String)>(&sql).bind(owner), draft, search)
                                .bind(exdates)
                                .bind(*id)
                                .bind(draft.extra.as_deref())
                                .bind(draft.reminders.to_column())
                                .fetch_all(&mut *tx)
                                .await?;
                            applied.record(&mut log, rows, ChangeKind::Updated);
                        }
                        Change::Reparent { id, series, recurrence_id } => {
                            reach_of!(self, tx, owner, *id, reach);
                            if let SeriesRef::Existing(series) = series {
                                reach_occurrence!(self, tx, owner, *series, *recurrence_id, reach);
                            }
                            let rows = sqlx::query_as::<_, (CalendarId, String)>(
                                "UPDATE events SET series_id = $3, recurrence_id = $4 WHERE user_id = $1 AND id = $2 \
                                 RETURNING calendar_id, uid",
                            )
                            .bind(owner)
                            .bind(*id)
                            .bind(resolve(*series)?)
                            .bind(*recurrence_id)
                            .fetch_all(&mut *tx)
                            .await?;
                            applied.record(&mut log, rows, ChangeKind::Updated);
                        }
                        Change::Delete(id) => {
                            // Deleting a series deletes the object; deleting an edited occurrence
                            // changes its series.
                            reach_of!(self, tx, owner, *id, reach);
                            let rows = sqlx::query_as::<_, (CalendarId, String, Option<EventId>, Option<String>)>(
                                "DELETE FROM events WHERE user_id = $1 AND id = $2 \
                                 RETURNING calendar_id, uid, series_id, dav_name",
                            )
                            .bind(owner)
                            .bind(*id)
                            .fetch_all(&mut *tx)
                            .await?;
                            applied.missed |= rows.is_empty();
                            for (calendar, uid, series, name) in rows {
                                if series.is_none() {
                                    let name = name.unwrap_or_else(|| default_object_name(&uid));
                                    log.record(calendar, &uid, Some(name), ChangeKind::Deleted);
                                } else {
                                    log.record(calendar, &uid, None, ChangeKind::Updated);
                                }
                            }
                        }
                        Change::Move { id, calendar } => {
                            reach_of!(self, tx, owner, *id, reach);
                            let rows = sqlx::query_as::<_, (CalendarId, String, Option<String>)>(
                                "SELECT calendar_id, uid, dav_name FROM events WHERE user_id = $1 AND id = $2",
                            )
                            .bind(owner)
                            .bind(*id)
                            .fetch_all(&mut *tx)
                            .await?;
                            // The name was chosen for the old calendar; in the new one the
                            // object is named by its UID.
                            sqlx::query(
                                "UPDATE events SET calendar_id = $3, dav_name = NULL \
                                 WHERE user_id = $1 AND (id = $2 OR series_id = $2)",
                            )
                            .bind(owner)
                            .bind(*id)
                            .bind(*calendar)
                            .execute(&mut *tx)
                            .await?;
                            applied.missed |= rows.is_empty();
                            for (from, uid, name) in rows.into_iter().filter(|(from, _, _)| from != calendar) {
                                let name = name.unwrap_or_else(|| default_object_name(&uid));
                                log.record(from, &uid, Some(name), ChangeKind::Deleted);
                                log.record(*calendar, &uid, None, ChangeKind::Created);
                            }
                        }
                    }
                }
                let now = Utc::now();
                for (calendar, objects) in log.by_calendar() {
                    self.count_query();
                    let count = i64::try_from(objects.len()).unwrap_or(i64::MAX);
                    let last = sqlx::query_scalar::<_, i64>(
                        "UPDATE calendars SET change_seq = change_seq + $3 WHERE id = $1 AND user_id = $2 \
                         RETURNING change_seq",
                    )
                    .bind(calendar)
                    .bind(owner)
                    .bind(count)
                    .fetch_all(&mut *tx)
                    .await?;
                    let last = last.first().copied().ok_or(sqlx::Error::RowNotFound)?;
                    for (offset, object) in objects.iter().enumerate() {
                        let seq = last - count + 1 + i64::try_from(offset).unwrap_or(0);
                        sqlx::query(
                            "INSERT INTO calendar_changes (calendar_id, seq, uid, kind, changed_at, dav_name, \
                             author_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(calendar)
                        .bind(seq)
                        .bind(&object.uid)
                        .bind(object.kind.as_str())
                        .bind(now)
                        .bind(object.deleted_name.as_deref().filter(|_| object.kind == ChangeKind::Deleted))
                        .bind(author)
                        .execute(&mut *tx)
                        .await?;
                        if object.kind != ChangeKind::Deleted {
                            // The object's ETag.
                            sqlx::query(
                                "UPDATE events SET object_seq = $4 \
                                 WHERE user_id = $1 AND calendar_id = $2 AND uid = $3 AND series_id IS NULL",
                            )
                            .bind(owner)
                            .bind(calendar)
                            .bind(&object.uid)
                            .bind(seq)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
                let mut touched: Vec<String> = log.0.iter().map(|o| o.uid.clone()).collect();
                touched.sort();
                touched.dedup();
                super::reminders::reschedule!(self, tx, owner, touched);
                let changed: Vec<CalendarId> = log.by_calendar().into_iter().map(|(c, _)| c).collect();
                let readers = if changed.is_empty() {
                    Vec::new()
                } else {
                    let sql = format!(
                        "SELECT DISTINCT user_id FROM calendar_shares WHERE {}",
                        self.in_list("calendar_id", 1)
                    );
                    sqlx::query_scalar::<_, UserId>(&sql).bind(Listed(changed)).fetch_all(&mut *tx).await?
                };
                tx.commit().await?;
                Ok(Committed::new(owner, applied).seen_by(readers).reaching(reach))
            }};
        }
        match &self.pool {
            Pool::Sqlite(pool) => run!(Sqlite, pool),
            Pool::Postgres(pool) => run!(Postgres, pool),
        }
    }

    /// The event, if it exists and belongs to `owner`: another user's event is as absent as
    /// a deleted one.
    pub async fn event_for(&self, owner: UserId, id: EventId) -> DbResult<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 AND user_id = $2");
        with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql).bind(id).bind(owner).fetch_optional(pool).await)
    }

    /// The events of `scope` that overlap `[from, until)` (an event ending exactly at `from`
    /// is included; callers place events by local date and drop it), ordered by start. Series
    /// are expanded into their occurrences in the range; edited occurrences come as their own
    /// rows and replace the ones they stand for. Busy-only calendars give times and nothing
    /// else: their texts never leave the database.
    pub async fn events_between(
        &self,
        scope: &ReadScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<EventSummary>> {
        let mut events = Vec::new();
        if !scope.full.is_empty() {
            events = self.range(&scope.full, SUMMARY_COLUMNS, from, until).await?;
        }
        if !scope.busy.is_empty() {
            events.extend(self.range(&scope.busy, BUSY_COLUMNS, from, until).await?);
            events.sort_by_key(|e| (e.start_at, e.id.0));
        }
        Ok(events)
    }

    async fn range(
        &self,
        sources: &Sources,
        columns: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<EventSummary>> {
        let (owners, calendars) = (self.in_list("user_id", 1), self.in_list("calendar_id", 5));
        let sql = format!(
            "SELECT {columns}, CAST(NULL AS TEXT) AS rrule, '' AS tzid, '' AS exdates FROM events \
             WHERE {owners} AND start_at >= $2 AND start_at < $3 AND end_at >= $4 AND rrule IS NULL AND {calendars} \
             UNION ALL \
             SELECT {columns}, CAST(NULL AS TEXT), '', '' FROM events \
             WHERE {owners} AND is_long AND start_at < $2 AND end_at >= $4 AND rrule IS NULL AND {calendars} \
             UNION ALL \
             SELECT {columns}, rrule, tzid, exdates FROM events \
             WHERE {owners} AND rrule IS NOT NULL AND start_at < $3 \
             AND (repeats_until IS NULL OR repeats_until >= $4) AND {calendars} \
             ORDER BY start_at, id"
        );
        let (owner_list, calendar_list) = (Listed(sources.owners.clone()), Listed(sources.calendars.clone()));
        let rows = with_pool!(self, pool => sqlx::query_as::<_, RangeRow>(&sql)
            .bind(&owner_list)
            .bind(from - LONG_EVENT)
            .bind(until)
            .bind(from)
            .bind(&calendar_list)
            .fetch_all(pool)
            .await)?;
        let (series, mut events): (Vec<RangeRow>, Vec<RangeRow>) =
            rows.into_iter().partition(|r| r.rrule.is_some());
        if series.is_empty() {
            return Ok(events.into_iter().map(|r| r.summary).collect());
        }
        let longest = series.iter().map(|r| r.summary.end_at - r.summary.start_at).max().unwrap_or_default();
        let replaced = self.replaced_occurrences(&owner_list, from - longest, until).await?;
        for row in series {
            events.extend(expand(row, &replaced, from, until));
        }
        let mut events: Vec<EventSummary> = events.into_iter().map(|r| r.summary).collect();
        events.sort_by_key(|e| (e.start_at, e.id.0));
        Ok(events)
    }

    /// (series, start) of the edited occurrences that stand in for starts in `[from, until)`.
    async fn replaced_occurrences(
        &self,
        owners: &Listed<UserId>,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<(EventId, DateTime<Utc>)>> {
        let sql = format!(
            "SELECT series_id, recurrence_id FROM events \
             WHERE {} AND series_id IS NOT NULL AND recurrence_id >= $2 AND recurrence_id < $3",
            self.in_list("user_id", 1)
        );
        with_pool!(self, pool => sqlx::query_as::<_, (EventId, DateTime<Utc>)>(&sql)
            .bind(owners)
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await)
    }

    /// The edited occurrences of a series.
    pub async fn overrides_of(&self, owner: UserId, series: EventId) -> DbResult<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 AND series_id = $2 ORDER BY recurrence_id"
        );
        with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql).bind(owner).bind(series).fetch_all(pool).await)
    }

    /// Every event of `owner`'s, series first-occurrence rows and edited occurrences included
    /// (exports).
    pub async fn all_events(&self, owner: UserId) -> DbResult<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 ORDER BY start_at, id");
        with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql).bind(owner).fetch_all(pool).await)
    }

    /// Every event of these calendars (of these owners), whole: for an export or a feed.
    pub async fn events_of(&self, sources: &Sources) -> DbResult<Vec<Event>> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE {} AND {} ORDER BY start_at, id",
            self.in_list("user_id", 1),
            self.in_list("calendar_id", 2)
        );
        let (owners, calendars) = (Listed(sources.owners.clone()), Listed(sources.calendars.clone()));
        with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql).bind(&owners).bind(&calendars).fetch_all(pool).await)
    }

    /// Every event of one of `owner`'s calendars (none for another user's calendar).
    pub async fn calendar_events(&self, owner: UserId, calendar: CalendarId) -> DbResult<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 AND calendar_id = $2 ORDER BY start_at, id"
        );
        with_pool!(self, pool => sqlx::query_as::<_, Event>(&sql).bind(owner).bind(calendar).fetch_all(pool).await)
    }
}

/// A series row's occurrences in the range, less those edited or cancelled.
fn expand(
    row: RangeRow,
    replaced: &[(EventId, DateTime<Utc>)],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<RangeRow> {
    let summary = &row.summary;
    let Some(rule) = row.rrule.as_deref().and_then(|r| r.parse::<Rule>().ok()) else {
        log::warn!("event {} has an unreadable rule; shown once", summary.id.0);
        return vec![RangeRow { rrule: None, ..row }];
    };
    let zone: Tz = row.tzid.parse().unwrap_or(Tz::UTC);
    let mut exdates = parse_exdates(&row.exdates);
    exdates.extend(replaced.iter().filter(|(series, _)| *series == summary.id).map(|(_, at)| *at));
    let Ok(series) = Series::stored(&rule, zone, summary.all_day, summary.start_at, summary.end_at, exdates)
    else {
        return Vec::new();
    };
    let duration = series.duration();
    series
        .overlapping(from, until, OCCURRENCES_PER_RANGE)
        .into_iter()
        .map(|start| RangeRow {
            summary: EventSummary {
                start_at: start,
                end_at: start + duration,
                occurrence: Some(start),
                ..summary.clone()
            },
            rrule: None,
            tzid: String::new(),
            exdates: String::new(),
        })
        .collect()
}

impl Store {
    /// Adds many events at once (seeding), bypassing the change log: they fill a new calendar
    /// before anyone syncs it, and the sync tokens of the calendar are retired all the same.
    pub async fn insert_events(
        &self,
        owner: UserId,
        calendar: CalendarId,
        drafts: &[EventDraft],
    ) -> DbResult<Committed<()>> {
        const COLUMNS: &str =
            "INSERT INTO events (user_id, calendar_id, title, description, location, all_day, start_at, \
                               end_at, is_long, created_at, updated_at, search_title, search_text, uid, tzid, \
                               rrule, repeats_until) ";
        let now = Utc::now();
        // Stay far below both engines' limits on bound parameters per statement.
        for chunk in drafts.chunks(500) {
            macro_rules! push_rows {
                ($engine:ident, $db:ty, $pool:expr) => {{
                    let mut tx = begin_write!($engine, $pool);
                    let mut query = sqlx::QueryBuilder::<$db>::new(COLUMNS);
                    query.push_values(chunk, |mut row, draft| {
                        let (search_title, search_text) = draft.search_text();
                        row.push_bind(owner)
                            .push_bind(calendar)
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
                            .push_bind(search_text)
                            .push_bind(new_uid())
                            .push_bind(draft.tzid.clone())
                            .push_bind(draft.rrule().map(str::to_string))
                            .push_bind(draft.repeats_until());
                    });
                    query.build().execute(&mut *tx).await?;
                    // Unlogged changes: every sync token of the calendar goes stale, so a
                    // client that synced before is told to sync afresh, never left short.
                    sqlx::query(
                        "UPDATE calendars SET change_seq = change_seq + 1 WHERE id = $1 AND user_id = $2",
                    )
                    .bind(calendar)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await
                }};
            }
            self.count_query();
            match &self.pool {
                Pool::Sqlite(pool) => push_rows!(Sqlite, sqlx::Sqlite, pool)?,
                Pool::Postgres(pool) => push_rows!(Postgres, sqlx::Postgres, pool)?,
            }
        }
        Ok(Committed::new(owner, ()))
    }

    /// Refreshes the planner's statistics after a bulk load. On SQLite, the index statistics
    /// only (`sqlite_stat1`): the bundled SQLite is built with STAT4, whose samples make it
    /// re-plan every statement with a range parameter each time the parameter is bound
    /// (callgrind: half a million instructions per execution of a view's query, two thirds
    /// of its SQL time); `sqlite_stat1` alone picks the same indexes.
    pub async fn analyze(&self) -> DbResult<()> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for sql in ["ANALYZE", "DELETE FROM sqlite_stat4", "ANALYZE sqlite_schema"] {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
                tx.commit().await
            }
            Pool::Postgres(pool) => sqlx::query("ANALYZE events").execute(pool).await.map(|_| ()),
        }
    }
}
