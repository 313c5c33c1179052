//! Eventide: a self-hosted, multi-user event calendar. `build` assembles the server from the
//! feature modules; `main.rs` only parses the command line.

pub mod admin;
pub mod auth;
pub mod cache;
pub mod calendar;
pub mod calendars;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod dav;
pub mod domain;
pub mod error;
pub mod events;
pub mod health;
pub mod ical;
pub mod kv;
pub mod logging;
pub mod mail;
pub mod reminders;
pub mod search;
pub mod seed;
pub mod store;
pub mod web;
pub mod writes;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};

use config::{AppConfig, ConfigError, DatabaseTarget};
use store::{NewUser, Store};

/// Builds the server from a figment (see `config::figment`). Configuration mistakes are
/// returned here, before anything binds or connects.
pub fn build(figment: Figment) -> Result<Rocket<Build>, ConfigError> {
    build_with_clock(figment, clock::Clock::System)
}

/// `build` with a chosen clock: tests step a manual clock over session timeouts.
pub fn build_with_clock(figment: Figment, clock: clock::Clock) -> Result<Rocket<Build>, ConfigError> {
    let config = AppConfig::from_figment(&figment)?;
    let address = figment.extract_inner::<std::net::IpAddr>("address").map_err(ConfigError::from)?;
    let port = figment.extract_inner::<u16>("port").map_err(ConfigError::from)?;
    let secret = config.secret(figment.profile(), address)?;
    let public_url = config.public_url(address, port)?;
    let dav_public_url = dav::DavPublicUrl(config.dav_public_url(&public_url)?);
    let database = config.database()?;
    let figment = with_pool_urls(figment, &config, &database)?;
    log::info!("database: {} ({})", database.engine(), database.redacted());

    Ok(rocket::custom(figment)
        .manage(secret)
        .manage(clock.clone())
        .manage(admin::Started(std::time::Instant::now()))
        .manage(config.clone())
        .manage(public_url)
        .manage(dav_public_url)
        .attach(store::stage(database))
        .attach(kv::stage(&config))
        .attach(web::stage())
        .attach(ical::stage())
        .attach(writes::stage())
        .attach(auth::stage(clock))
        .attach(AdHoc::on_ignite("Cache stage", |rocket| async { rocket.attach(cache::CacheFairing) }))
        .attach(dav::stage())
        .attach(mail::stage())
        .attach(reminders::stage())
        .manage(health::Readiness::default())
        .manage(web::timing::RequestTimes::new(&web::timing::instance_name(
            config.instance_name.as_deref(),
            port,
        )))
        .mount(
            "/",
            rocket::routes![health::healthz, health::readyz, cache::metrics::metrics, dav::well_known],
        )
        .mount("/", dashboard::routes())
        .mount("/", calendar::routes::routes())
        .mount("/", calendar::public::routes())
        .mount("/", calendars::routes())
        .mount("/", events::routes())
        .mount("/", search::routes())
        .mount("/", admin::routes()))
}

/// Feeds the URLs to rocket_db_pools under the pool names it expects, and points the
/// template loader at an empty directory: templates are embedded, and the loader insists
/// that its directory exists.
fn with_pool_urls(
    figment: Figment,
    config: &AppConfig,
    database: &DatabaseTarget,
) -> Result<Figment, ConfigError> {
    let template_dir = std::env::temp_dir().join("eventide-embedded-templates");
    std::fs::create_dir_all(&template_dir)
        .map_err(|e| ConfigError::Invalid(format!("cannot create {template_dir:?}: {e}")))?;
    // Signals are ours (`health::stop_on_signals`: not ready first, then stop); Rocket keeps
    // the grace period in-flight requests get once it stops accepting.
    let mut figment = figment
        .merge(("template_dir", template_dir))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.signals", Vec::<String>::new()))
        .merge(("shutdown.grace", config.shutdown_grace_seconds))
        .merge(("shutdown.mercy", 2));
    figment = match database {
        DatabaseTarget::Sqlite { url, .. } => figment.merge(("databases.sqlite.url", url)),
        DatabaseTarget::Postgres { url } => figment.merge(("databases.postgres.url", url)),
    };
    for (name, url) in [("redis", &config.redis_url), ("session_redis", &config.session_redis_url)] {
        if let Some(url) = url {
            figment = figment.merge((format!("databases.{name}.url"), url));
        }
    }
    Ok(figment)
}

/// One line for the operator when the launch fails; the fairing that failed has already
/// logged its cause.
pub fn describe_launch_error(error: &rocket::Error) -> String {
    use rocket::error::ErrorKind;
    match error.kind() {
        ErrorKind::Bind(e) => format!("cannot listen on the configured address: {e}"),
        ErrorKind::Config(e) => format!("invalid configuration: {e}"),
        ErrorKind::FailedFairings(failed) => {
            let names: Vec<&str> = failed.iter().map(|info| info.name).collect();
            format!("startup failed in: {} (the cause is logged above)", names.join(", "))
        }
        other => format!("startup failed: {other}"),
    }
}

/// `eventide app-password USERNAME [LABEL]`: a new app password for an existing, active
/// user, returned (to print) and never stored in clear.
pub async fn create_app_password(figment: Figment, username: &str, label: &str) -> Result<String, String> {
    let username = auth::validate::normalise_username(username);
    let label = auth::app_passwords::validate_label(label).map_err(|e| format!("invalid label: {e}"))?;
    let rocket = build(figment).map_err(|e| e.to_string())?;
    let rocket = rocket.ignite().await.map_err(|e| describe_launch_error(&e))?;
    let store = rocket.state::<Store>().ok_or("the database did not start")?.clone();
    let user = store.user_by_username(&username).await.map_err(|e| format!("database error: {e}"))?;
    let user = user.filter(|u| u.is_active).ok_or_else(|| format!("no active user {username:?}"))?;
    auth::app_passwords::create(&store, user.id, &label).await.map_err(|e| e.to_string())
}

/// `eventide create-admin USERNAME`: promotes an existing user (password unchanged), or
/// creates an admin with the password on the first line of `input` (standard input).
pub async fn create_admin<R>(figment: Figment, username: &str, input: R) -> Result<String, String>
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    let username = &auth::validate::normalise_username(username);
    auth::validate::username(username).map_err(|e| format!("invalid username: {e}"))?;
    let rocket = build(figment).map_err(|e| e.to_string())?;
    let rocket = rocket.ignite().await.map_err(|e| describe_launch_error(&e))?;
    let store = rocket.state::<Store>().ok_or("the database did not start")?.clone();
    let database_error = |e: sqlx::Error| format!("database error: {e}");

    let promoted = format!("promoted existing user {username:?} to admin (password unchanged)");
    if store.set_admin(username, true).await.map_err(database_error)? {
        refresh_session_user(&rocket, &store, username).await;
        return Ok(promoted);
    }
    let password = read_first_line(input).await?;
    auth::validate::password(&password).map_err(|e| format!("password refused: {e}"))?;
    let password_hash = auth::password::hash(password).await.map_err(|e| e.to_string())?;
    let new = NewUser { username, password_hash: &password_hash, is_admin: true };
    match store.create_user(new).await.map_err(database_error)? {
        Ok(_) => Ok(format!("created admin {username:?}")),
        Err(store::UsernameTaken) => {
            store.set_admin(username, true).await.map_err(database_error)?;
            refresh_session_user(&rocket, &store, username).await;
            Ok(promoted)
        }
    }
}

/// Logged-in sessions see the change on their next request, not when the snapshot expires.
async fn refresh_session_user(rocket: &Rocket<rocket::Ignite>, store: &Store, username: &str) {
    let (Some(sessions), Ok(Some(user))) =
        (rocket.state::<auth::session::Sessions>(), store.user_by_username(username).await)
    else {
        return;
    };
    let snapshot = store::SessionUser::from(&user);
    if let Err(e) = sessions.remember_user(&snapshot, auth::session::Snapshot::Changed).await {
        eprintln!("warning: the session store was not updated ({e}); logged-in sessions see the change within 5 minutes");
    }
}

async fn read_first_line<R: tokio::io::AsyncBufRead + Unpin>(mut input: R) -> Result<String, String> {
    use tokio::io::AsyncBufReadExt;
    let mut line = String::new();
    input
        .read_line(&mut line)
        .await
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `eventide seed`: see `seed::run`.
/// `eventide backup PATH`: a consistent copy of a running (or stopped) SQLite database.
pub async fn backup(figment: Figment, path: &std::path::Path) -> Result<String, String> {
    let rocket = build(figment).map_err(|e| e.to_string())?;
    let rocket = rocket.ignite().await.map_err(|e| describe_launch_error(&e))?;
    let store = rocket.state::<Store>().ok_or("the database did not start")?;
    store.backup_to(path).await.map_err(|e| e.to_string())?;
    Ok(format!("backed up to {}", path.display()))
}

/// `eventide migrate-db --to URL`: copies the SQLite database into an empty PostgreSQL one
/// and verifies it; one line per table (rows, checksum), then the total.
pub async fn migrate_db(figment: Figment, target: &str) -> Result<Vec<String>, String> {
    let rocket = build(figment).map_err(|e| e.to_string())?;
    let rocket = rocket.ignite().await.map_err(|e| describe_launch_error(&e))?;
    let store = rocket.state::<Store>().ok_or("the database did not start")?;
    let copied = store.migrate_to_postgres(target).await.map_err(|e| e.to_string())?;
    let mut lines: Vec<String> =
        copied.iter().map(|c| format!("{:<24} {:>9} rows  {}", c.table, c.rows, c.checksum)).collect();
    let total: usize = copied.iter().map(|c| c.rows).sum();
    lines.push(format!(
        "copied and verified {total} rows in {} tables: point DATABASE_URL at the new database",
        copied.len()
    ));
    Ok(lines)
}

pub async fn seed(figment: Figment, plan: &seed::SeedPlan) -> Result<Vec<String>, String> {
    let rocket = build(figment).map_err(|e| e.to_string())?;
    let rocket = rocket.ignite().await.map_err(|e| describe_launch_error(&e))?;
    let store = rocket.state::<Store>().ok_or("the database did not start")?;
    let cache = rocket.state::<cache::Cache>().ok_or("the cache did not start")?;
    seed::run(store, &writes::Writes::new(store, cache), plan).await
}
