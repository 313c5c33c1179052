//! The key-value backends behind sessions, rate limits and the cache: Redis through
//! rocket_db_pools' deadpool-redis pool, or an in-process map when `REDIS_URL` is unset.
//! Every Redis call is bounded by a short timeout so a slow or dead Redis costs a request
//! ~100 ms, never a hang.

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket};
use rocket_db_pools::deadpool_redis::{self, redis};
use rocket_db_pools::Database;

use crate::config::AppConfig;

mod memory;
mod redis_kv;

pub use memory::MemoryKv;
pub use redis_kv::RedisKv;

/// Live entries the in-process cache holds before it starts over.
const MEMORY_CACHE_ENTRIES: usize = 50_000;

#[derive(Database)]
#[database("redis")]
pub struct RedisPool(deadpool_redis::Pool);

#[derive(Database)]
#[database("session_redis")]
pub struct SessionRedisPool(deadpool_redis::Pool);

#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("key-value store unavailable: {0}")]
    Unavailable(String),
}

/// The two roles a backend plays. They are the same backend unless `SESSION_REDIS_URL`
/// separates sessions from the evictable cache.
#[derive(Clone)]
pub struct Backends {
    pub cache: Kv,
    pub sessions: Kv,
}

#[derive(Clone)]
pub enum Kv {
    Redis(RedisKv),
    Memory(Arc<MemoryKv>),
}

/// Version counters and a value read in one round trip: the value is stored under `head`,
/// the versions joined by dots, then `tail`.
pub struct Versioned<'a> {
    pub versions: &'a [String],
    pub head: &'a str,
    pub tail: &'a str,
}

impl Versioned<'_> {
    /// The key the value is stored under, for the versions read.
    pub fn key(&self, versions: &[String]) -> String {
        format!("{}{}{}", self.head, versions.join("."), self.tail)
    }
}

impl Kv {
    /// An in-process store that never drops live entries (sessions, counters).
    pub fn memory(prefix: &str) -> Kv {
        Kv::Memory(Arc::new(MemoryKv::new(prefix, None)))
    }

    /// An in-process cache: past `limit` live entries it starts over, as an evicting
    /// cache may.
    pub fn memory_cache(prefix: &str, limit: usize) -> Kv {
        Kv::Memory(Arc::new(MemoryKv::new(prefix, Some(limit))))
    }

    pub fn redis(pool: deadpool_redis::Pool, prefix: &str, timeout: Duration) -> Kv {
        Kv::Redis(RedisKv::new(pool, prefix, timeout))
    }

    /// Keys under this backend's prefix that start with `head`, counted with a bounded `SCAN`
    /// (never `KEYS`): the count and whether it stopped at `limit`. Admin pages only.
    pub async fn count_keys(&self, head: &str, limit: u64) -> Result<(u64, bool), KvError> {
        match self {
            Kv::Redis(r) => {
                let pattern = format!("{}*", r.key(head));
                let (mut cursor, mut count) = (0u64, 0u64);
                loop {
                    let (next, keys) = r.scan(cursor, &pattern).await?;
                    count += keys.len() as u64;
                    if next == 0 || count >= limit {
                        return Ok((count.min(limit), next != 0));
                    }
                    cursor = next;
                }
            }
            Kv::Memory(m) => Ok((m.count_prefix(head).min(limit), false)),
        }
    }

    /// Deletes the keys under this backend's prefix that start with `head`, found with a
    /// bounded `SCAN` (never `KEYS`); at most `limit` keys. Admin actions only.
    pub async fn delete_matching(&self, head: &str, limit: u64) -> Result<u64, KvError> {
        match self {
            Kv::Redis(r) => {
                let pattern = format!("{}*", r.key(head));
                let (mut cursor, mut deleted) = (0u64, 0u64);
                loop {
                    let (next, keys) = r.scan(cursor, &pattern).await?;
                    if !keys.is_empty() {
                        deleted += r.run::<u64>(redis::cmd("DEL").arg(&keys).to_owned()).await?;
                    }
                    if next == 0 || deleted >= limit {
                        return Ok(deleted);
                    }
                    cursor = next;
                }
            }
            Kv::Memory(m) => Ok(m.delete_prefix(head)),
        }
    }

    /// A few lines of `INFO` for the admin page (version, memory, clients, uptime).
    pub async fn info(&self) -> Result<Vec<(String, String)>, KvError> {
        match self {
            Kv::Redis(r) => {
                let text: String = r.run(redis::cmd("INFO").to_owned()).await?;
                const WANTED: [&str; 5] = [
                    "redis_version",
                    "uptime_in_seconds",
                    "connected_clients",
                    "used_memory_human",
                    "maxmemory_policy",
                ];
                Ok(text
                    .lines()
                    .filter_map(|line| line.split_once(':'))
                    .filter(|(name, _)| WANTED.contains(name))
                    .map(|(name, value)| (name.to_string(), value.trim().to_string()))
                    .collect())
            }
            Kv::Memory(_) => Ok(vec![("backend".into(), "in-process".into())]),
        }
    }

    /// Redis round trips since launch (0 for the in-process backend).
    pub fn round_trips(&self) -> u64 {
        match self {
            Kv::Redis(r) => r.round_trips(),
            Kv::Memory(_) => 0,
        }
    }

    /// Sets `key` only if it does not exist; true when it was set.
    pub async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, KvError> {
        match self {
            Kv::Redis(r) => {
                let cmd = redis::cmd("SET")
                    .arg(r.key(key))
                    .arg(value)
                    .arg("PX")
                    .arg(millis(ttl))
                    .arg("NX")
                    .to_owned();
                r.run::<Option<String>>(cmd).await.map(|reply| reply.is_some())
            }
            Kv::Memory(m) => Ok(m.set_if_absent(key, value.to_vec(), ttl)),
        }
    }

    /// Increments a counter that never expires (a generation number).
    pub async fn incr(&self, key: &str) -> Result<u64, KvError> {
        match self {
            Kv::Redis(r) => r.run(redis::cmd("INCR").arg(r.key(key)).to_owned()).await,
            Kv::Memory(m) => Ok(m.incr(key)),
        }
    }

    /// Increments several counters in one round trip, all at once.
    pub async fn incr_all(&self, keys: &[String]) -> Result<(), KvError> {
        match self {
            Kv::Redis(r) => {
                const SCRIPT: &str = "for _, key in ipairs(KEYS) do redis.call('INCR', key) end return #KEYS";
                let mut cmd = redis::cmd("EVAL");
                cmd.arg(SCRIPT).arg(keys.len());
                for key in keys {
                    cmd.arg(r.key(key));
                }
                r.run::<u64>(cmd).await.map(drop)
            }
            Kv::Memory(m) => {
                for key in keys {
                    m.incr(key);
                }
                Ok(())
            }
        }
    }

    /// Reads a value whose key depends on version counters, in one round trip. Returns the
    /// versions ("0" when unset) and the value.
    pub async fn get_versioned(
        &self,
        keys: &Versioned<'_>,
    ) -> Result<(Vec<String>, Option<Vec<u8>>), KvError> {
        match self {
            Kv::Redis(r) => {
                const SCRIPT: &str = "local v = {} \
                    for i, key in ipairs(KEYS) do v[i] = redis.call('GET', key) or '0' end \
                    local value = redis.call('GET', ARGV[1] .. table.concat(v, '.') .. ARGV[2]) \
                    v[#v + 1] = value \
                    return v";
                let mut cmd = redis::cmd("EVAL");
                cmd.arg(SCRIPT).arg(keys.versions.len());
                for version in keys.versions {
                    cmd.arg(r.key(version));
                }
                cmd.arg(r.key(keys.head)).arg(keys.tail);
                let mut reply: Vec<Option<Vec<u8>>> = r.run(cmd).await?;
                let value = if reply.len() > keys.versions.len() { reply.pop().flatten() } else { None };
                let versions: Vec<String> = reply
                    .into_iter()
                    .map(|v| v.and_then(|v| String::from_utf8(v).ok()).unwrap_or_else(|| "0".to_string()))
                    .collect();
                if versions.len() != keys.versions.len() {
                    return Err(KvError::Unavailable("a versioned read came back short".into()));
                }
                Ok((versions, value))
            }
            Kv::Memory(m) => {
                let versions: Vec<String> = keys
                    .versions
                    .iter()
                    .map(|key| {
                        m.get(key).and_then(|v| String::from_utf8(v).ok()).unwrap_or_else(|| "0".to_string())
                    })
                    .collect();
                let value = m.get(&keys.key(&versions));
                Ok((versions, value))
            }
        }
    }

    /// Reads the value at `key`, and (when it is JSON with a numeric `link` field) the value
    /// at `target_head` + that number, in one round trip: a session and its user.
    pub async fn get_linked(
        &self,
        key: &str,
        link: &str,
        target_head: &str,
    ) -> Result<Option<(Vec<u8>, Option<Vec<u8>>)>, KvError> {
        match self {
            Kv::Redis(r) => {
                const SCRIPT: &str = "local s = redis.call('GET', KEYS[1]) \
                    if not s then return {} end \
                    local ok, record = pcall(cjson.decode, s) \
                    if not ok or type(record[ARGV[1]]) ~= 'number' then return {s} end \
                    return {s, redis.call('GET', ARGV[2] .. string.format('%d', record[ARGV[1]]))}";
                let cmd = redis::cmd("EVAL")
                    .arg(SCRIPT)
                    .arg(1)
                    .arg(r.key(key))
                    .arg(link)
                    .arg(r.key(target_head))
                    .to_owned();
                let mut reply: Vec<Option<Vec<u8>>> = r.run(cmd).await?;
                let target = if reply.len() > 1 { reply.pop().flatten() } else { None };
                Ok(reply.pop().flatten().map(|value| (value, target)))
            }
            Kv::Memory(m) => {
                let Some(value) = m.get(key) else { return Ok(None) };
                let id =
                    serde_json::from_slice::<serde_json::Value>(&value).ok().and_then(|v| v[link].as_i64());
                let target = id.and_then(|id| m.get(&format!("{target_head}{id}")));
                Ok(Some((value, target)))
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Kv::Redis(_) => "redis",
            Kv::Memory(_) => "memory",
        }
    }

    pub async fn ping(&self) -> Result<(), KvError> {
        match self {
            Kv::Redis(r) => r.run::<String>(redis::cmd("PING")).await.map(|_| ()),
            Kv::Memory(_) => Ok(()),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        match self {
            Kv::Redis(r) => r.run(redis::cmd("GET").arg(r.key(key)).to_owned()).await,
            Kv::Memory(m) => Ok(m.get(key)),
        }
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError> {
        match self {
            Kv::Redis(r) => {
                let cmd = redis::cmd("SET").arg(r.key(key)).arg(value).arg("PX").arg(millis(ttl)).to_owned();
                r.run::<()>(cmd).await
            }
            Kv::Memory(m) => {
                m.set(key, value.to_vec(), ttl);
                Ok(())
            }
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), KvError> {
        match self {
            Kv::Redis(r) => r.run::<()>(redis::cmd("DEL").arg(r.key(key)).to_owned()).await,
            Kv::Memory(m) => {
                m.delete(key);
                Ok(())
            }
        }
    }

    /// Counts a hit in a fixed window that starts with the first hit. Returns the count so
    /// far and the time left in the window. Atomic on Redis (one Lua script), so every
    /// instance sharing the Redis agrees.
    pub async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), KvError> {
        match self {
            Kv::Redis(r) => {
                const SCRIPT: &str = "local n = redis.call('INCR', KEYS[1]) \
                    if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
                    local ttl = redis.call('PTTL', KEYS[1]) \
                    if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end \
                    return {n, ttl}";
                let cmd =
                    redis::cmd("EVAL").arg(SCRIPT).arg(1).arg(r.key(key)).arg(millis(window)).to_owned();
                let (count, left): (u64, u64) = r.run(cmd).await?;
                Ok((count, Duration::from_millis(left)))
            }
            Kv::Memory(m) => Ok(m.hit(key, window)),
        }
    }

    /// The hits counted so far in `key`'s window and the time left in it, without counting
    /// one (a check before a cheap secret comparison).
    pub async fn hits(&self, key: &str) -> Result<(u64, Duration), KvError> {
        match self {
            Kv::Redis(r) => {
                const SCRIPT: &str = "return {tonumber(redis.call('GET', KEYS[1]) or '0'), \
                    redis.call('PTTL', KEYS[1])}";
                let (count, left): (u64, i64) =
                    r.run(redis::cmd("EVAL").arg(SCRIPT).arg(1).arg(r.key(key)).to_owned()).await?;
                Ok((count, Duration::from_millis(u64::try_from(left).unwrap_or(0))))
            }
            Kv::Memory(m) => Ok(m.hits(key)),
        }
    }

    /// Takes back one `hit` (a login that turned out to be right): only failures stay
    /// counted. Never below zero; the window keeps its end.
    pub async fn refund(&self, key: &str) -> Result<(), KvError> {
        match self {
            Kv::Redis(r) => {
                const SCRIPT: &str = "local n = tonumber(redis.call('GET', KEYS[1]) or '0') \
                    if n > 0 then redis.call('DECR', KEYS[1]) end return 0";
                r.run::<()>(redis::cmd("EVAL").arg(SCRIPT).arg(1).arg(r.key(key)).to_owned()).await
            }
            Kv::Memory(m) => {
                m.refund(key);
                Ok(())
            }
        }
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Attaches the Redis pools that are configured and manages `Backends`.
pub fn stage(config: &AppConfig) -> AdHoc {
    let config = config.clone();
    AdHoc::on_ignite("Key-value backends", move |mut rocket| async move {
        if config.redis_url.is_some() {
            rocket = rocket.attach(RedisPool::init());
        }
        if config.session_redis_url.is_some() {
            rocket = rocket.attach(SessionRedisPool::init());
        }
        rocket.attach(AdHoc::try_on_ignite("Backends", move |rocket| async move {
            manage_backends(rocket, &config)
        }))
    })
}

#[expect(clippy::result_large_err, reason = "Rocket's try_on_ignite hands the Rocket back as the error")]
fn manage_backends(rocket: Rocket<Build>, config: &AppConfig) -> Result<Rocket<Build>, Rocket<Build>> {
    let prefix = &config.redis_prefix;
    let cache = match rocket.state::<RedisPool>() {
        Some(pool) => Kv::redis(pool.0.clone(), prefix, config.redis_timeout()),
        None if config.redis_url.is_some() => return Err(rocket),
        None => Kv::memory_cache(prefix, MEMORY_CACHE_ENTRIES),
    };
    let sessions = match (rocket.state::<SessionRedisPool>(), rocket.state::<RedisPool>()) {
        (Some(pool), _) => Kv::redis(pool.0.clone(), prefix, config.session_redis_timeout()),
        (None, _) if config.session_redis_url.is_some() => return Err(rocket),
        // One Redis for both: the same pool, with the sessions' patience.
        (None, Some(pool)) => Kv::redis(pool.0.clone(), prefix, config.session_redis_timeout()),
        // Sessions must never share the in-process cache's eviction.
        (None, None) => Kv::memory(prefix),
    };
    log::info!(
        "backends: cache on {}, sessions and rate limits on {}{}",
        cache.backend(),
        sessions.backend(),
        if config.session_redis_url.is_some() { " (separate Redis)" } else { "" }
    );
    Ok(rocket.manage(Backends { cache, sessions }))
}
