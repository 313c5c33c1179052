//! The test harness: every test gets its own database (a SQLite file or a PostgreSQL
//! database, dropped afterwards) and its own Redis key prefix, so tests run in parallel
//! without sharing state.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use std::collections::BTreeMap;
use std::sync::Mutex;

use eventide::clock::Clock;
use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};

pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379/0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Redis,
    Memory,
}

pub fn unique(label: &str) -> String {
    format!("{label}_{}", hex::encode(rand::random::<[u8; 6]>()))
}

/// A database of its own; dropped (PostgreSQL) or deleted (SQLite) when the test ends,
/// passing or not.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteDir(PathBuf),
    PostgresDatabase(String),
}

impl TestDb {
    pub async fn new(engine: Engine) -> TestDb {
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(unique("eventide_test"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("test.db").display());
                TestDb { url, cleanup: Cleanup::SqliteDir(dir) }
            }
            Engine::Postgres => {
                let name = unique("eventide_test");
                let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
                admin.close().await;
                let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
                TestDb { url, cleanup: Cleanup::PostgresDatabase(name) }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PostgresDatabase(name) => {
                // Drop runs inside the test's runtime: do the async cleanup on a thread of
                // its own.
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    runtime.block_on(async {
                        let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await?;
                        sqlx::query(&sql).execute(&admin).await?;
                        admin.close().await;
                        Ok::<_, sqlx::Error>(())
                    })?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                })
                .join();
            }
        }
    }
}

/// Removes every Redis key under a test's prefix when the test ends, passing or not (the
/// generation counters, for one, never expire by themselves).
pub struct RedisCleanup(pub String);

impl Drop for RedisCleanup {
    fn drop(&mut self) {
        crate::redis_cleanup::delete_prefix(REDIS_URL, &self.0);
    }
}

pub struct TestApp {
    pub client: Client,
    /// After the client: its connections are gone before the keys are removed.
    _redis: RedisCleanup,
    pub prefix: String,
    pub clock: Clock,
    /// The default browser; `app.browser()` makes more.
    cookies: CookieStore,
    // Declared last: the client (and its pools) must go before the database is dropped.
    pub db: TestDb,
}

pub struct Options {
    pub engine: Engine,
    pub backend: Backend,
    pub redis_url: String,
    pub extra: Vec<(&'static str, rocket::figment::value::Value)>,
}

impl Options {
    pub fn new(engine: Engine, backend: Backend) -> Options {
        Options { engine, backend, redis_url: REDIS_URL.to_string(), extra: Vec::new() }
    }

    pub fn with(mut self, key: &'static str, value: impl serde::Serialize) -> Options {
        self.extra.push((key, rocket::figment::value::Value::serialize(value).unwrap()));
        self
    }
}

pub fn test_figment(db_url: &str, prefix: &str) -> Figment {
    eventide::config::figment()
        .merge(("database_url", db_url))
        .merge(("redis_prefix", prefix))
        .merge(("log_file", ""))
}

pub async fn spawn_with(options: Options) -> TestApp {
    capture_logs();
    let db = TestDb::new(options.engine).await;
    let prefix = format!("{}:", unique("eventide_test"));
    let mut figment = test_figment(&db.url, &prefix);
    if options.backend == Backend::Redis {
        figment = figment.merge(("redis_url", options.redis_url.as_str()));
    }
    for (key, value) in options.extra {
        figment = figment.merge((key, value));
    }
    let clock = Clock::manual();
    let rocket = eventide::build_with_clock(figment, clock.clone()).expect("valid test configuration");
    let client = Client::untracked(rocket).await.expect("the app launches");
    TestApp {
        client,
        _redis: RedisCleanup(prefix.clone()),
        prefix,
        clock,
        cookies: CookieStore::default(),
        db,
    }
}

pub async fn spawn(engine: Engine, backend: Backend) -> TestApp {
    spawn_with(Options::new(engine, backend)).await
}

/// A browser's cookie jar: the client is untracked so that one app can serve several
/// browsers (two devices of one user, an attacker beside a victim).
#[derive(Default)]
pub struct CookieStore(Mutex<BTreeMap<String, String>>);

impl CookieStore {
    fn attach<'c>(&self, request: LocalRequest<'c>) -> LocalRequest<'c> {
        let jar = self.0.lock().unwrap();
        let cookies: Vec<Cookie<'static>> =
            jar.iter().map(|(k, v)| Cookie::new(k.clone(), v.clone())).collect();
        request.cookies(cookies)
    }

    fn record(&self, response: &LocalResponse<'_>) {
        let mut jar = self.0.lock().unwrap();
        for header in response.headers().get("Set-Cookie") {
            let Ok(cookie) = Cookie::parse(header.to_string()) else {
                continue;
            };
            let removed = cookie.value().is_empty()
                || cookie.max_age().is_some_and(|age| age.is_zero() || age.is_negative());
            if removed {
                jar.remove(cookie.name());
            } else {
                let value = rocket::http::RawStr::new(cookie.value()).percent_decode_lossy();
                jar.insert(cookie.name().to_string(), value.into_owned());
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.lock().unwrap().get(name).cloned()
    }

    pub fn set(&self, name: &str, value: &str) {
        self.0.lock().unwrap().insert(name.to_string(), value.to_string());
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

pub struct Browser<'c> {
    pub client: &'c Client,
    pub cookies: CookieStore,
}

/// What a browser can do; implemented by the app's default browser and by extra ones.
#[rocket::async_trait]
pub trait Browse: Sync {
    fn client(&self) -> &Client;
    fn jar(&self) -> &CookieStore;

    async fn send<'c>(&'c self, request: LocalRequest<'c>) -> LocalResponse<'c> {
        let response = self.jar().attach(request).dispatch().await;
        self.jar().record(&response);
        response
    }

    async fn get(&self, uri: &str) -> LocalResponse<'_> {
        self.send(self.client().get(uri.to_string())).await
    }

    async fn get_htmx(&self, uri: &str) -> LocalResponse<'_> {
        self.send(self.client().get(uri.to_string()).header(Header::new("HX-Request", "true"))).await
    }

    async fn post_form(&self, uri: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let request = self.client().post(uri.to_string()).header(ContentType::Form).body(encode_form(fields));
        self.send(request).await
    }

    /// The CSRF token of this browser (from a page's meta tag).
    async fn csrf_token(&self) -> String {
        let page = self.get("/about").await.into_string().await.unwrap();
        meta_csrf(&page).expect("a csrf meta tag")
    }

    async fn post_with_token(&self, uri: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let token = self.csrf_token().await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form(uri, &all).await
    }

    async fn register(&self, username: &str, password: &str) -> LocalResponse<'_> {
        let fields = [("username", username), ("password", password), ("password_confirm", password)];
        self.post_with_token("/register", &fields).await
    }

    async fn login(&self, username: &str, password: &str) -> LocalResponse<'_> {
        self.post_with_token("/login", &[("username", username), ("password", password)]).await
    }

    fn session_cookie(&self) -> Option<String> {
        self.jar().get("eventide_session")
    }
}

#[rocket::async_trait]
impl Browse for TestApp {
    fn client(&self) -> &Client {
        &self.client
    }
    fn jar(&self) -> &CookieStore {
        &self.cookies
    }
}

#[rocket::async_trait]
impl Browse for Browser<'_> {
    fn client(&self) -> &Client {
        self.client
    }
    fn jar(&self) -> &CookieStore {
        &self.cookies
    }
}

impl TestApp {
    pub fn browser(&self) -> Browser<'_> {
        Browser { client: &self.client, cookies: CookieStore::default() }
    }

    pub fn backends(&self) -> &eventide::kv::Backends {
        self.client.rocket().state::<eventide::kv::Backends>().unwrap()
    }

    pub fn store(&self) -> &eventide::store::Store {
        self.client.rocket().state::<eventide::store::Store>().unwrap()
    }

    /// What `user`'s views read between two instants: their shown calendars, own and shared.
    pub async fn events_of(
        &self,
        user: i64,
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Vec<eventide::domain::EventSummary> {
        let store = self.store();
        let calendars = store.visible_calendars(eventide::domain::UserId(user)).await.unwrap();
        let scope = eventide::domain::ReadScope::shown(&calendars);
        store.events_between(&scope, from, until).await.unwrap()
    }
}

pub fn meta_csrf(page: &str) -> Option<String> {
    page.split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string)
}

pub const PASSWORD: &str = "glacier-tulip-87";

/// Every log line of this test process, for tests that check what must never be logged.
pub fn captured_logs() -> Vec<String> {
    LOG_LINES.lock().unwrap().clone()
}

static LOG_LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct CapturingLogger;

impl log::Log for CapturingLogger {
    /// What the server's own logger would write at the debug level, nothing more: tests of
    /// what must never reach a log see the real filter.
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= eventide::logging::level_for(metadata.target(), log::LevelFilter::Debug)
    }
    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        LOG_LINES.lock().unwrap().push(format!("{} {}: {}", record.level(), record.target(), record.args()));
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = log::set_boxed_logger(Box::new(CapturingLogger));
        log::set_max_level(log::LevelFilter::Debug);
    });
}

pub fn encode_form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn assert_status(response: &LocalResponse<'_>, status: Status) {
    assert_eq!(response.status(), status, "unexpected status for the response");
}

/// A Redis server of the test's own, for tests that stop it on purpose.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        let mut redis = PrivateRedis { port: free_port(), child: None };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-CONT", &child.id().to_string()]).status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections hang, data stays, as in a stall.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().expect("kill runs");
        assert!(status.success());
    }

    /// (Re)starts the server on the same port; nothing persists, so it comes back empty.
    pub async fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("private redis-server did not start on port {}", self.port);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap()
}

/// Generates one test per engine from an `async fn(Engine)`.
#[macro_export]
macro_rules! on_both_engines {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(#[rocket::async_test] async fn $test() { super::$test($crate::helpers::Engine::Sqlite).await })+
        }
        mod postgres {
            $(#[rocket::async_test] async fn $test() { super::$test($crate::helpers::Engine::Postgres).await })+
        }
    };
}

/// Generates one test per key-value backend from an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        mod redis {
            $(#[rocket::async_test] async fn $test() { super::$test($crate::helpers::Backend::Redis).await })+
        }
        mod memory {
            $(#[rocket::async_test] async fn $test() { super::$test($crate::helpers::Backend::Memory).await })+
        }
    };
}
