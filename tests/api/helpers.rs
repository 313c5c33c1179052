//! The test harness: every test gets its own database (a SQLite file or a PostgreSQL
//! database, dropped afterwards) and its own Redis key prefix, so tests run in parallel
//! without sharing state.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

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
                TestDb {
                    url,
                    cleanup: Cleanup::SqliteDir(dir),
                }
            }
            Engine::Postgres => {
                let name = unique("eventide_test");
                let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
                let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
                TestDb {
                    url,
                    cleanup: Cleanup::PostgresDatabase(name),
                }
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
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
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

pub struct TestApp {
    pub client: Client,
    pub prefix: String,
    // Declared last: the client (and its pools) must go before the database is dropped.
    pub db: TestDb,
}

pub struct Options {
    pub engine: Engine,
    pub backend: Backend,
    pub redis_url: String,
    pub extra: Vec<(&'static str, String)>,
}

impl Options {
    pub fn new(engine: Engine, backend: Backend) -> Options {
        Options {
            engine,
            backend,
            redis_url: REDIS_URL.to_string(),
            extra: Vec::new(),
        }
    }

    pub fn with(mut self, key: &'static str, value: impl ToString) -> Options {
        self.extra.push((key, value.to_string()));
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
    let db = TestDb::new(options.engine).await;
    let prefix = format!("{}:", unique("eventide_test"));
    let mut figment = test_figment(&db.url, &prefix);
    if options.backend == Backend::Redis {
        figment = figment.merge(("redis_url", options.redis_url.as_str()));
    }
    for (key, value) in options.extra {
        figment = figment.merge((key, value));
    }
    let rocket = eventide::build(figment).expect("valid test configuration");
    let client = Client::tracked(rocket).await.expect("the app launches");
    TestApp { client, prefix, db }
}

pub async fn spawn(engine: Engine, backend: Backend) -> TestApp {
    spawn_with(Options::new(engine, backend)).await
}

impl TestApp {
    pub async fn get(&self, uri: &str) -> LocalResponse<'_> {
        self.client.get(uri.to_string()).dispatch().await
    }

    pub async fn get_htmx(&self, uri: &str) -> LocalResponse<'_> {
        self.client
            .get(uri.to_string())
            .header(Header::new("HX-Request", "true"))
            .dispatch()
            .await
    }

    pub async fn post_form(&self, uri: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        self.client
            .post(uri.to_string())
            .header(ContentType::Form)
            .body(encode_form(fields))
            .dispatch()
            .await
    }
}

pub fn encode_form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn assert_status(response: &LocalResponse<'_>, status: Status) {
    assert_eq!(
        response.status(),
        status,
        "unexpected status for the response"
    );
}

/// A Redis server of the test's own, for tests that stop it on purpose.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        let mut redis = PrivateRedis {
            port: free_port(),
            child: None,
        };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the server on the same port; nothing persists, so it comes back empty.
    pub async fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
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
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
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
