//! Shared by the test crates: a test's Redis keys go with it.

use rocket_db_pools::deadpool_redis::redis;

/// Deletes every key under `prefix` (a test's own). Best effort: a test that stopped Redis on
/// purpose has nothing left to clean. `KEYS` is fine here: a test Redis, a handful of keys.
pub fn delete_prefix(url: &str, prefix: &str) {
    let cleanup = || -> redis::RedisResult<()> {
        let mut connection = redis::Client::open(url)?.get_connection()?;
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query(&mut connection)?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(keys).query::<()>(&mut connection)?;
        }
        Ok(())
    };
    let _ = cleanup();
}
