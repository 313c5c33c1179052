//! The store layer: all SQL lives here. One `Store` serves SQLite and PostgreSQL with native
//! types on each (see ARCHITECTURE.md for why this beats `AnyPool`): a query is written once
//! and `with_pool!` compiles it against both engines.

pub mod admin;
pub mod events;
pub mod search;
pub mod users;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;

use crate::config::DatabaseTarget;

pub use events::{Change, Event, EventDraft, EventId, EventSummary, NewEvent, Scheduled, SeriesRef};
pub use search::SearchHit;
pub use users::{NewUser, SessionUser, User, UserId, UsernameTaken};

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
