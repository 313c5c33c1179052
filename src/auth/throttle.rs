//! Login throttling per account and per client address. Counters live in the sessions
//! backend (Redis: shared by every instance, one atomic script per hit); when that backend
//! fails, an in-process limiter takes over, so an outage never means unlimited guessing.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::kv::Kv;
use crate::store::users::username_key;

fn address_key(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}

pub struct LoginThrottle {
    shared: Kv,
    fallback: Kv,
    per_account: u64,
    per_address: u64,
    window: Duration,
}

/// The caller must wait this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled(pub Duration);

impl LoginThrottle {
    pub fn new(shared: Kv, prefix: &str, per_account: u64, per_address: u64, window: Duration) -> Self {
        LoginThrottle { shared, fallback: Kv::memory(prefix), per_account, per_address, window }
    }

    fn account_key(username: &str) -> String {
        format!("throttle:login:account:{}", hex::encode(Sha256::digest(username_key(username))))
    }

    /// Counts this attempt first, then decides: concurrent guesses cannot slip in between a
    /// check and an increment.
    pub async fn attempt(&self, username: &str, address: Option<IpAddr>) -> Result<(), Throttled> {
        self.count(&Self::account_key(username), self.per_account).await?;
        self.count(&format!("throttle:login:address:{}", address_key(address)), self.per_address).await
    }

    /// Registrations per client address share the address limit: each one costs a password
    /// hash, so unlimited sign-ups would be an easy way to load the server.
    pub async fn registration(&self, address: Option<IpAddr>) -> Result<(), Throttled> {
        self.count(&format!("throttle:register:address:{}", address_key(address)), self.per_address).await
    }

    /// Counts one hit on `key`; refused once the window holds more than `limit`.
    async fn count(&self, key: &str, limit: u64) -> Result<(), Throttled> {
        let (count, left) = self.hit(key).await;
        if count > limit {
            return Err(Throttled(left.max(Duration::from_secs(1))));
        }
        Ok(())
    }

    /// A successful login clears the account's counter (not the address's: one valid account
    /// must not reset the limit on guessing others).
    pub async fn succeeded(&self, username: &str) {
        let key = Self::account_key(username);
        if self.shared.delete(&key).await.is_err() {
            log::warn!("login throttle: shared store unavailable while clearing a counter");
        }
        let _ = self.fallback.delete(&key).await;
    }

    async fn hit(&self, key: &str) -> (u64, Duration) {
        match self.shared.hit(key, self.window).await {
            Ok(result) => result,
            Err(e) => {
                log::warn!("login throttle falls back to in-process limits: {e}");
                self.fallback.hit(key, self.window).await.unwrap_or((u64::MAX, self.window))
            }
        }
    }
}
