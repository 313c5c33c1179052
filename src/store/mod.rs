//! The store layer: all SQL lives here. One `Store` serves SQLite and PostgreSQL with native
//! types on each (see ARCHITECTURE.md for why this beats `AnyPool`): a query is written once
//! and `with_pool!` compiles it against both engines.

pub mod admin;
pub mod app_passwords;
pub mod backup;
pub mod calendars;
pub mod dav;
pub mod events;
pub mod mail;
pub mod migrate;
pub mod reminders;
pub mod search;
pub mod shares;
pub mod users;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;

use crate::config::DatabaseTarget;
use crate::domain::{Reach, UserId};

pub use events::Applied;
pub use reminders::{DueReminder, Fired, Notification};
pub use search::SearchHit;
pub use users::{NewUser, SessionUser, User, UsernameTaken};

#[derive(Database)]
#[database("sqlite")]
pub struct SqliteDb(sqlx::SqlitePool);

#[derive(Database)]
#[database("postgres")]
pub struct PgDb(sqlx::PgPool);

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// The database behind the app, with a count of the queries it ran: tests and the benchmark
/// read it to prove that a cache hit costs no SQL.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    queries: Arc<AtomicU64>,
}

/// Runs the same query text against whichever pool the store holds, and counts it. `$1`
/// placeholders work on both engines.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {{
        $store.count_query();
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    }};
}
pub(crate) use with_pool;

pub type DbResult<T> = Result<T, sqlx::Error>;

/// A SQLite write transaction, begun with `BEGIN IMMEDIATE`. sqlx 0.7 begins every
/// transaction deferred: it starts as a reader and upgrades to a writer at its first write,
/// and in WAL mode an upgrade whose snapshot another writer has since committed past fails at
/// once with "database is locked", busy timeout or not (found by the change-log test with
/// eight writers). An immediate transaction takes the write lock first, waiting its turn
/// within the busy timeout. A transaction dropped before `commit` (an error, or a request
/// that went away) takes its connection out of the pool and closes it, which rolls it back,
/// so no pooled connection is ever left inside a transaction.
pub(crate) struct SqliteWrite {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
}

impl SqliteWrite {
    pub(crate) async fn begin(pool: &sqlx::SqlitePool) -> DbResult<SqliteWrite> {
        let mut conn = pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        Ok(SqliteWrite { conn: Some(conn) })
    }

    pub(crate) async fn commit(mut self) -> DbResult<()> {
        let Some(mut conn) = self.conn.take() else { return Ok(()) };
        match sqlx::query("COMMIT").execute(&mut *conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                drop(conn.detach());
                Err(e)
            }
        }
    }
}

impl std::ops::Deref for SqliteWrite {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        match self.conn.as_deref() {
            Some(conn) => conn,
            None => unreachable!("a SqliteWrite is not used after its commit"),
        }
    }
}

impl std::ops::DerefMut for SqliteWrite {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self.conn.as_deref_mut() {
            Some(conn) => conn,
            None => unreachable!("a SqliteWrite is not used after its commit"),
        }
    }
}

impl Drop for SqliteWrite {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

/// Begins a write transaction on either engine (see `SqliteWrite`); the same statements then
/// run on `&mut *tx`, and `tx.commit()` ends it.
macro_rules! begin_write {
    (Sqlite, $pool:expr) => {
        $crate::store::SqliteWrite::begin($pool).await?
    };
    (Postgres, $pool:expr) => {
        $pool.begin().await?
    };
}
pub(crate) use begin_write;

/// Runs `$body` (its queries on `&mut *$tx`) in a write transaction on whichever engine the
/// store holds, and commits; the body's value is the result.
macro_rules! in_write {
    ($store:expr, $tx:ident => $body:expr) => {{
        $store.count_query();
        match &$store.pool {
            $crate::store::Pool::Sqlite(pool) => {
                let mut $tx = $crate::store::begin_write!(Sqlite, pool);
                let value = $body;
                $tx.commit().await?;
                value
            }
            $crate::store::Pool::Postgres(pool) => {
                let mut $tx = $crate::store::begin_write!(Postgres, pool);
                let value = $body;
                $tx.commit().await?;
                value
            }
        }
    }};
}
pub(crate) use in_write;

/// A committed write of `owner`'s data, handed back by every store method that changes what
/// a user sees. Only the write path (`crate::writes`) should hold one: it settles it once the
/// cache no longer serves what the write changed. Dropping one unsettled is a bug: it is
/// logged, and in debug builds (every test) it panics, so a handler that writes past the
/// write path fails its tests.
#[must_use = "a write must be settled by the write path (crate::writes), which invalidates the cache"]
pub struct Committed<T> {
    owner: UserId,
    /// Other users whose views the write changed: the recipients of a changed calendar.
    audience: Vec<UserId>,
    /// When the changed events happen: everything, unless the write says otherwise.
    reach: Reach,
    value: Option<T>,
}

impl<T> Committed<T> {
    pub(crate) fn new(owner: UserId, value: T) -> Committed<T> {
        Committed { owner, audience: Vec::new(), reach: Reach::everything(), value: Some(value) }
    }

    /// A write of events alone, at the times `reach` holds.
    pub(crate) fn reaching(mut self, reach: Reach) -> Committed<T> {
        self.reach = reach;
        self
    }

    /// When what the write changed happens.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    pub(crate) fn seen_by(mut self, audience: Vec<UserId>) -> Committed<T> {
        self.audience = audience;
        self
    }

    /// Everyone else who sees what changed.
    pub fn audience(&self) -> &[UserId] {
        &self.audience
    }

    /// Whose views the write changed.
    pub fn owner(&self) -> UserId {
        self.owner
    }

    /// What the write returned; call only once the cache has been invalidated.
    pub fn settle(mut self) -> T {
        match self.value.take() {
            Some(value) => value,
            None => unreachable!("a Committed is settled once, by value"),
        }
    }
}

impl<T> Drop for Committed<T> {
    fn drop(&mut self) {
        if self.value.is_some() && !std::thread::panicking() {
            log::error!(
                "a write of user {} committed without the write path: the cache may be stale",
                self.owner.0
            );
            debug_assert!(false, "a Committed was dropped unsettled: write through crate::writes");
        }
    }
}

impl Store {
    pub fn new(pool: Pool) -> Store {
        Store { pool, queries: Arc::new(AtomicU64::new(0)) }
    }

    pub fn engine(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    pub(crate) fn count_query(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    /// Queries run since launch.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Closes the pool's connections (at shutdown, so the database sees clean goodbyes).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    pub async fn ping(&self) -> DbResult<()> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    /// Applies the migrations for this engine; called at launch, and by tests on a fresh
    /// database.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                // WAL lets readers run beside the writer; the setting is stored in the file,
                // so running it once per launch covers every pooled connection.
                sqlx::query("PRAGMA journal_mode = WAL").execute(pool).await?;
                sqlx::migrate!("migrations/sqlite").run(pool).await
            }
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        }
    }

    /// Applies the migrations up to `version` only: the schema as an older release left it,
    /// for tests of what a later migration does to old data.
    pub async fn migrate_to(&self, version: i64) -> Result<(), sqlx::migrate::MigrateError> {
        fn upto(mut migrator: sqlx::migrate::Migrator, version: i64) -> sqlx::migrate::Migrator {
            let kept: Vec<_> = migrator.migrations.iter().filter(|m| m.version <= version).cloned().collect();
            migrator.migrations = std::borrow::Cow::Owned(kept);
            migrator
        }
        match &self.pool {
            Pool::Sqlite(pool) => upto(sqlx::migrate!("migrations/sqlite"), version).run(pool).await,
            Pool::Postgres(pool) => upto(sqlx::migrate!("migrations/postgres"), version).run(pool).await,
        }
    }
}

/// Attaches the pool for the configured engine, runs migrations (a failure stops the launch)
/// and manages the resulting `Store`.
pub fn stage(target: DatabaseTarget) -> AdHoc {
    AdHoc::on_ignite("Store", move |rocket| async move {
        if let DatabaseTarget::Sqlite { file: Some(file), .. } = &target {
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    log::error!("cannot create the database directory {dir:?}: {e}");
                }
            }
        }
        let rocket = match target {
            DatabaseTarget::Sqlite { .. } => rocket.attach(SqliteDb::init()),
            DatabaseTarget::Postgres { .. } => rocket.attach(PgDb::init()),
        };
        rocket.attach(AdHoc::try_on_ignite("Migrations", migrate_and_manage))
    })
}

async fn migrate_and_manage(rocket: Rocket<Build>) -> Result<Rocket<Build>, Rocket<Build>> {
    let store = if let Some(db) = rocket.state::<SqliteDb>() {
        Store::new(Pool::Sqlite(db.0.clone()))
    } else if let Some(db) = rocket.state::<PgDb>() {
        Store::new(Pool::Postgres(db.0.clone()))
    } else {
        return Err(rocket);
    };
    if let Err(e) = store.migrate().await {
        log::error!("database migration failed: {e}");
        return Err(rocket);
    }
    if let Err(e) = store.fill_username_skeletons().await {
        log::error!("database migration failed (username skeletons): {e}");
        return Err(rocket);
    }
    Ok(rocket.manage(store))
}

/// A list bound as one parameter: a JSON array on SQLite (read back with `json_each`), a
/// native array on PostgreSQL, where `= ANY($n)` is an index condition the planner sizes
/// from the values. (A JSON array unpacked in SQL hid its size, and PostgreSQL's cached plans
/// then filtered a whole calendar instead.) So 50 names cost one query, not fifty.
pub(crate) struct Listed<T>(pub Vec<T>);

impl<T> sqlx::Type<sqlx::Sqlite> for Listed<T> {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<'q, T: serde::Serialize> sqlx::Encode<'q, sqlx::Sqlite> for Listed<T> {
    fn encode_by_ref(&self, buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>) -> sqlx::encode::IsNull {
        let json = serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".to_string());
        <String as sqlx::Encode<'q, sqlx::Sqlite>>::encode(json, buf)
    }
}

impl<T> sqlx::Type<sqlx::Postgres> for Listed<T>
where
    Vec<T>: sqlx::Type<sqlx::Postgres>,
{
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <Vec<T> as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl<'q, T> sqlx::Encode<'q, sqlx::Postgres> for Listed<T>
where
    Vec<T>: sqlx::Encode<'q, sqlx::Postgres>,
{
    fn encode_by_ref(&self, buf: &mut sqlx::postgres::PgArgumentBuffer) -> sqlx::encode::IsNull {
        self.0.encode_by_ref(buf)
    }
}

impl Store {
    /// `column` is one of the elements of the `Listed` list bound as `$n`.
    fn in_list(&self, column: &str, n: u8) -> String {
        match &self.pool {
            Pool::Sqlite(_) => format!("{column} IN (SELECT value FROM json_each(${n}))"),
            Pool::Postgres(_) => format!("{column} = ANY(${n})"),
        }
    }
}
