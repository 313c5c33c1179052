//! The Redis backend: one shared multiplexed connection taken from the pool, every command
//! bounded by a timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rocket_db_pools::deadpool_redis::redis::aio::MultiplexedConnection;
use rocket_db_pools::deadpool_redis::{self, redis};
use tokio::time::timeout;

use super::KvError;

#[derive(Clone)]
pub struct RedisKv {
    pool: deadpool_redis::Pool,
    prefix: String,
    timeout: Duration,
    round_trips: Arc<AtomicU64>,
    /// One multiplexed connection taken from the pool and shared by every request: it
    /// pipelines concurrent commands itself, and a pool checkout per command would cost a
    /// hidden `PING` round trip (deadpool-redis checks each connection it hands out).
    shared: Arc<Mutex<Option<MultiplexedConnection>>>,
}

impl RedisKv {
    pub(super) fn new(pool: deadpool_redis::Pool, prefix: &str, timeout: Duration) -> RedisKv {
        RedisKv {
            pool,
            prefix: prefix.to_string(),
            timeout,
            round_trips: Arc::default(),
            shared: Arc::default(),
        }
    }

    pub(super) fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    pub(super) fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// One `SCAN` step over keys matching `pattern`.
    pub(super) async fn scan(&self, cursor: u64, pattern: &str) -> Result<(u64, Vec<String>), KvError> {
        self.run(redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(1000).to_owned())
            .await
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        // The slot holds a clonable handle; a panic elsewhere cannot leave it half-written.
        self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn connection(&self) -> Result<MultiplexedConnection, KvError> {
        if let Some(connection) = self.shared().clone() {
            return Ok(connection);
        }
        let pooled = match timeout(self.timeout, self.pool.get()).await {
            Ok(Ok(pooled)) => pooled,
            Ok(Err(e)) => return Err(KvError::Unavailable(e.to_string())),
            Err(_) => return Err(KvError::Unavailable("no connection within the timeout".into())),
        };
        let connection = deadpool_redis::Connection::take(pooled);
        *self.shared() = Some(connection.clone());
        Ok(connection)
    }

    pub(super) async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, KvError> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let mut connection = self.connection().await?;
        match timeout(self.timeout, cmd.query_async::<_, T>(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() {
                    self.shared().take();
                }
                Err(KvError::Unavailable(e.to_string()))
            }
            Err(_) => {
                // The reply may still come. The multiplexed connection hands each reply to
                // the request that is waiting for it (a dropped one is discarded), but a
                // server this slow is better reached again on a fresh connection.
                self.shared().take();
                Err(KvError::Unavailable("command timed out".into()))
            }
        }
    }
}
