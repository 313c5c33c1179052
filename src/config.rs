//! Typed configuration. Sources, weakest first: `Rocket.toml` (the active profile over
//! `[default]`), `ROCKET_*`, the contract's own names (`DATABASE_URL`, `REDIS_URL`,
//! `SESSION_REDIS_URL`, `SECRET_KEY`, `SMTP_URL`) and finally `EVENTIDE_*` (e.g. `EVENTIDE_LOG_FILE`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use rocket::figment::providers::{Env, Format, Toml};
use rocket::figment::{Figment, Profile};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::web::public_url::PublicUrl;

/// Everything that stops a launch before the server binds; each message is meant for the
/// operator who has to fix it, in one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("DATABASE_URL {0:?} is not usable: {1}")]
    DatabaseUrl(String, String),
    #[error(
        "SECRET_KEY is not set; the release profile needs one when serving beyond loopback. \
         Generate one with `openssl rand -base64 48` and set SECRET_KEY"
    )]
    MissingSecretKey,
    #[error("SECRET_KEY is too short: use at least 32 characters of random data")]
    WeakSecretKey,
}

impl From<rocket::figment::Error> for ConfigError {
    fn from(error: rocket::figment::Error) -> Self {
        ConfigError::Invalid(error.to_string())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AppConfig {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub session_redis_url: Option<String>,
    secret_key: Option<String>,
    /// Empty string: log to stdout only.
    pub log_file: String,
    /// Every Redis key Eventide writes starts with this, so instances and tests can share a
    /// server without touching each other's keys.
    pub redis_prefix: String,
    /// How long a Redis round trip may take before the request goes on without it.
    pub redis_timeout_ms: u64,
    /// The same for sessions and rate limits, which fail closed (503) rather than open, so
    /// they get more patience under load.
    pub session_redis_timeout_ms: u64,
    pub session_idle_minutes: u64,
    pub session_absolute_hours: u64,
    pub cache_ttl_seconds: u64,
    /// Off: every fragment is rendered from the database (`X-Cache: BYPASS`); for measuring.
    pub cache_enabled: bool,
    /// Lets a Prometheus scraper read `/metrics` with `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// The app's public base URL for absolute links; default `http://ADDRESS:PORT`.
    pub public_url: Option<String>,
    /// Mark cookies `Secure` and use the `__Host-` prefix; turn on behind TLS.
    pub secure_cookies: bool,
    /// Login attempts allowed per account, and per client address, in each window.
    pub login_attempts_per_account: u64,
    pub login_attempts_per_address: u64,
    pub login_window_minutes: u64,
    /// Calendar change log rows older than this are pruned (by age, never by count).
    pub change_log_days: u64,
    /// The CalDAV server's port on the web server's address, or off.
    pub dav_port: DavPort,
    /// The address calendar apps use for the CalDAV server; default: `public_url`'s scheme
    /// and host with `dav_port`.
    pub dav_public_url: Option<String>,
    /// A reminder that fell due while no instance ran is still sent this long after its time;
    /// older ones are marked missed, never sent late.
    pub reminder_grace_minutes: u64,
    /// How often each instance looks for due reminders.
    pub reminder_interval_seconds: u64,
    /// `smtp://HOST:PORT` or `smtps://USER:PASS@HOST:PORT` (`SMTP_URL`); unset: no email.
    pub smtp_url: Option<String>,
    /// The sender of reminder mail (`EVENTIDE_MAIL_FROM`); default `Eventide <eventide@HOST>`
    /// with `public_url`'s host.
    pub mail_from: Option<String>,
    /// On SIGTERM, how long the instance keeps serving while `/readyz` says it is stopping.
    pub shutdown_drain_seconds: u64,
    /// Then, how long requests in flight have to finish (Rocket's shutdown grace).
    pub shutdown_grace_seconds: u64,
    /// This instance's label on `/metrics`; default: the host's name and the port.
    pub instance_name: Option<String>,
}

/// `dav_port`: a port number, or `off` (no CalDAV server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DavPort(Option<u16>);

impl DavPort {
    pub fn port(self) -> Option<u16> {
        self.0
    }
}

impl<'de> Deserialize<'de> for DavPort {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Setting {
            Number(u16),
            Text(String),
        }
        match Setting::deserialize(deserializer)? {
            Setting::Number(port) => Ok(DavPort(Some(port))),
            Setting::Text(text) if text.trim().eq_ignore_ascii_case("off") => Ok(DavPort(None)),
            Setting::Text(text) => text.trim().parse::<u16>().map(|port| DavPort(Some(port))).map_err(|_| {
                serde::de::Error::custom(format!("dav_port {text:?}: expected a port number or off"))
            }),
        }
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            database_url: "sqlite://data/eventide.db".into(),
            redis_url: None,
            session_redis_url: None,
            secret_key: None,
            log_file: "applogging.log".into(),
            redis_prefix: "eventide:".into(),
            redis_timeout_ms: 100,
            session_redis_timeout_ms: 500,
            session_idle_minutes: 120,
            session_absolute_hours: 24 * 7,
            cache_ttl_seconds: 300,
            cache_enabled: true,
            metrics_token: None,
            public_url: None,
            secure_cookies: false,
            login_attempts_per_account: 5,
            login_attempts_per_address: 20,
            login_window_minutes: 15,
            change_log_days: 90,
            dav_port: DavPort(Some(8001)),
            dav_public_url: None,
            reminder_grace_minutes: 60,
            reminder_interval_seconds: 15,
            smtp_url: None,
            mail_from: None,
            shutdown_drain_seconds: 2,
            shutdown_grace_seconds: 10,
            instance_name: None,
        }
    }
}

/// The repository's `Rocket.toml`, compiled in: the binary has the same defaults wherever it
/// runs; a `Rocket.toml` in the working directory (or at `ROCKET_CONFIG`) overrides them.
const EMBEDDED_ROCKET_TOML: &str = include_str!("../Rocket.toml");

/// The figment every entry point (server, CLI, tests) starts from: Rocket's own sources with
/// the embedded defaults slotted in under the file.
pub fn figment() -> Figment {
    Figment::from(rocket::Config::default())
        .merge(Toml::string(EMBEDDED_ROCKET_TOML).nested())
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or("ROCKET_PROFILE", rocket::Config::DEFAULT_PROFILE))
        .merge(
            Env::raw()
                .only(&["database_url", "redis_url", "session_redis_url", "secret_key", "smtp_url"])
                .global(),
        )
        .merge(Env::prefixed("EVENTIDE_").global())
}

impl AppConfig {
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let config: AppConfig = figment.extract()?;
        if config.redis_prefix.is_empty() {
            return Err(ConfigError::Invalid("redis_prefix must not be empty".into()));
        }
        if config.session_idle_minutes == 0 || config.session_absolute_hours == 0 {
            return Err(ConfigError::Invalid("session timeouts must be positive".into()));
        }
        Ok(config)
    }

    /// The key that signs CSRF tokens. The release profile refuses to start without a
    /// configured one as soon as the server listens beyond loopback: instances behind a load
    /// balancer must agree on it, and tokens must survive a restart. On loopback (the
    /// embedded default of `cargo run --release`) and in debug, a random key per run is safe:
    /// it only means forms left open across a restart must be reloaded.
    pub fn secret(&self, profile: &Profile, address: IpAddr) -> Result<Secret, ConfigError> {
        match self.secret_key.as_deref().map(str::trim) {
            Some(key) if key.len() >= 32 => Ok(Secret(Sha256::digest(key.as_bytes()).into())),
            Some(_) => Err(ConfigError::WeakSecretKey),
            None if profile == rocket::Config::RELEASE_PROFILE && !address.is_loopback() => {
                Err(ConfigError::MissingSecretKey)
            }
            None => {
                log::warn!(
                    "SECRET_KEY is not set: using a random key for this run; \
                     set SECRET_KEY before serving beyond this machine"
                );
                Ok(Secret(rand::random()))
            }
        }
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms.max(1))
    }

    pub fn session_redis_timeout(&self) -> Duration {
        Duration::from_millis(self.session_redis_timeout_ms.max(1))
    }

    pub fn login_window(&self) -> Duration {
        Duration::from_secs(self.login_window_minutes.max(1) * 60)
    }

    pub fn session_idle(&self) -> chrono::Duration {
        chrono::Duration::minutes(self.session_idle_minutes as i64)
    }

    pub fn session_absolute(&self) -> chrono::Duration {
        chrono::Duration::hours(self.session_absolute_hours as i64)
    }

    /// The configured public URL, or the address and port the server listens on.
    pub fn public_url(&self, address: IpAddr, port: u16) -> Result<PublicUrl, ConfigError> {
        match self.public_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => PublicUrl::parse(url).map_err(ConfigError::Invalid),
            None => {
                if address.is_unspecified() {
                    log::warn!(
                        "public_url is not set: links (such as feed addresses) will name {address}; \
                         set EVENTIDE_PUBLIC_URL to the address people use"
                    );
                }
                Ok(PublicUrl::listening_on(address, port))
            }
        }
    }

    /// Where calendar apps reach the CalDAV server (`None`: it is off).
    pub fn dav_public_url(&self, public: &PublicUrl) -> Result<Option<PublicUrl>, ConfigError> {
        let Some(port) = self.dav_port.port() else { return Ok(None) };
        match self.dav_public_url.as_deref().map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => PublicUrl::parse(url).map(Some).map_err(ConfigError::Invalid),
            None => Ok(Some(public.with_port(port))),
        }
    }

    pub fn database(&self) -> Result<DatabaseTarget, ConfigError> {
        DatabaseTarget::parse(&self.database_url)
    }
}

/// 32 bytes derived from `SECRET_KEY`.
#[derive(Clone)]
pub struct Secret(pub [u8; 32]);

/// Which engine `DATABASE_URL` names, checked before any pool is built so a typo gets a
/// clear message instead of a driver error.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    Sqlite { url: String, file: Option<PathBuf> },
    Postgres { url: String },
}

impl DatabaseTarget {
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let invalid = |why: String| ConfigError::DatabaseUrl(url.to_string(), why);
        if url.starts_with("sqlite:") {
            sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(|e| invalid(e.to_string()))?;
            let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = rest.split('?').next().unwrap_or_default();
            let file = (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path));
            Ok(DatabaseTarget::Sqlite { url: url.to_string(), file })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            sqlx::postgres::PgConnectOptions::from_str(url).map_err(|e| invalid(e.to_string()))?;
            Ok(DatabaseTarget::Postgres { url: url.to_string() })
        } else {
            Err(invalid("expected sqlite://PATH or postgres://...".into()))
        }
    }

    pub fn engine(&self) -> &'static str {
        match self {
            DatabaseTarget::Sqlite { .. } => "sqlite",
            DatabaseTarget::Postgres { .. } => "postgres",
        }
    }

    /// Log-safe form of the URL: PostgreSQL passwords never reach the log.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseTarget::Sqlite { url, .. } => url.clone(),
            DatabaseTarget::Postgres { url } => match url.split_once('@') {
                Some((credentials, host)) => match credentials.rsplit_once(':') {
                    Some((user, _)) if !user.ends_with('/') => format!("{user}:***@{host}"),
                    _ => url.clone(),
                },
                None => url.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_classified_or_rejected() {
        assert!(matches!(
            DatabaseTarget::parse("sqlite://data/x.db"),
            Ok(DatabaseTarget::Sqlite { file: Some(_), .. })
        ));
        assert!(matches!(
            DatabaseTarget::parse("postgres://u:p@localhost/db"),
            Ok(DatabaseTarget::Postgres { .. })
        ));
        assert!(DatabaseTarget::parse("mysql://localhost/db").is_err());
        assert!(DatabaseTarget::parse("postgres://u:p@[::1/db").is_err());
    }

    #[test]
    fn postgres_password_is_redacted() {
        let target = DatabaseTarget::parse("postgres://app:hunter2@db:5432/eventide").unwrap();
        assert_eq!(target.redacted(), "postgres://app:***@db:5432/eventide");
    }

    #[test]
    fn the_dav_port_is_a_number_or_off() {
        let read = |value: &str| {
            rocket::figment::Figment::new()
                .merge(("dav_port", value))
                .extract_inner::<DavPort>("dav_port")
                .ok()
        };
        assert_eq!(read("off"), Some(DavPort(None)));
        assert_eq!(read("8123"), Some(DavPort(Some(8123))));
        assert_eq!(read("eight"), None);
        let public = PublicUrl::parse("https://cal.example.org:8443").unwrap();
        let dav = AppConfig::default().dav_public_url(&public).unwrap().unwrap();
        assert_eq!(dav.origin(), "https://cal.example.org:8001");
    }

    #[test]
    fn release_needs_a_secret_key() {
        let config = AppConfig::default();
        let release = Profile::new("release");
        let public: IpAddr = "0.0.0.0".parse().unwrap();
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(matches!(config.secret(&release, public), Err(ConfigError::MissingSecretKey)));
        assert!(config.secret(&release, loopback).is_ok());
        assert!(config.secret(&Profile::new("debug"), public).is_ok());
    }
}
