//! Throttling of every secret check: logins per account and per client address, and the
//! current-password check of the account page per account. Counters live in the sessions
//! backend (Redis: shared by every instance, one atomic script per hit); when that backend
//! fails, an in-process limiter takes over, so an outage never means unlimited guessing.
//!
//! Only failures count. An attempt is counted before the password is checked (so concurrent
//! guesses cannot slip in between a check and an increment) and handed back when it was right.
//!
//! A stranger who knows a name can use up its account limit, but not for its owner: an
//! address that has logged into the account before (in the last 30 days) counts its attempts
//! on a counter of its own, with the same limit. So guessing from anywhere else locks out only
//! the guessers, and the owner's own typos lock out only the owner, for one window at most.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::domain::UserId;
use crate::kv::Kv;
use crate::store::users::username_key;

/// How long an address that logged into an account stays known to it.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

fn address_key(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}

#[derive(Clone)]
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

/// The counters one login attempt was counted on, to settle once the password is checked.
#[must_use = "a right password must be settled with `succeeded`, or it stays counted as a failure"]
pub struct LoginAttempt {
    account: String,
    address: String,
    known: String,
}

impl LoginThrottle {
    pub fn new(shared: Kv, prefix: &str, per_account: u64, per_address: u64, window: Duration) -> Self {
        LoginThrottle { shared, fallback: Kv::memory(prefix), per_account, per_address, window }
    }

    fn account_hash(username: &str) -> String {
        hex::encode(Sha256::digest(username_key(username)))
    }

    /// Counts a login attempt for `username` from `address`; refused over either limit.
    pub async fn attempt(&self, username: &str, address: Option<IpAddr>) -> Result<LoginAttempt, Throttled> {
        let account = Self::account_hash(username);
        let from = address_key(address);
        let known = format!("throttle:login:known:{account}:{from}");
        let is_known = address.is_some() && matches!(self.shared.get(&known).await, Ok(Some(_)));
        let account = if is_known {
            format!("throttle:login:account:{account}:from:{from}")
        } else {
            format!("throttle:login:account:{account}")
        };
        let address = format!("throttle:login:address:{from}");
        self.count(&account, self.per_account).await?;
        self.count(&address, self.per_address).await?;
        Ok(LoginAttempt { account, address, known })
    }

    /// The password was right: the attempt is handed back, the account's failures are
    /// forgotten (not the address's: one valid account must not reset the limit on guessing
    /// others), and the address is known to the account from now on.
    pub async fn succeeded(&self, attempt: LoginAttempt) {
        let results = [
            self.shared.delete(&attempt.account).await,
            self.shared.refund(&attempt.address).await,
            self.shared.set(&attempt.known, b"1", KNOWN_FOR).await,
        ];
        if results.iter().any(Result::is_err) {
            log::warn!("login throttle: shared store unavailable while settling a login");
        }
        let _ = self.fallback.delete(&attempt.account).await;
        let _ = self.fallback.refund(&attempt.address).await;
    }

    /// Whether `address` may present a password now: under its limit of failed logins. For
    /// app passwords (HTTP Basic, every CalDAV request), which are checked by one lookup: a
    /// read here, and a count only when the password was wrong, so a syncing phone costs no
    /// write. Guessing ~119 random bits cannot win a race between read and count.
    pub async fn address_allowed(&self, address: Option<IpAddr>) -> Result<(), Throttled> {
        let key = format!("throttle:login:address:{}", address_key(address));
        let (count, left) = match self.shared.hits(&key).await {
            Ok(result) => result,
            Err(e) => {
                log::warn!("login throttle falls back to in-process limits: {e}");
                self.fallback.hits(&key).await.unwrap_or((u64::MAX, self.window))
            }
        };
        if count >= self.per_address {
            return Err(Throttled(left.max(Duration::from_secs(1))));
        }
        Ok(())
    }

    /// A wrong app password from `address`: counted with the address's failed logins.
    pub async fn address_failed(&self, address: Option<IpAddr>) {
        let _ = self.hit(&format!("throttle:login:address:{}", address_key(address))).await;
    }

    /// Registrations per client address share the address limit: each one costs a password
    /// hash, so unlimited sign-ups would be an easy way to load the server.
    pub async fn registration(&self, address: Option<IpAddr>) -> Result<(), Throttled> {
        self.count(&format!("throttle:register:address:{}", address_key(address)), self.per_address).await
    }

    /// Counts a check of the current password on the account page (a stolen session must
    /// not be a way to guess the password): the account limit, per account.
    pub async fn password_check(&self, user: UserId) -> Result<PasswordCheck, Throttled> {
        let key = format!("throttle:password:{}", user.0);
        self.count(&key, self.per_account).await?;
        Ok(PasswordCheck(key))
    }

    /// The current password was right: its failures are forgotten.
    pub async fn password_verified(&self, check: PasswordCheck) {
        if self.shared.delete(&check.0).await.is_err() {
            log::warn!("login throttle: shared store unavailable while clearing a counter");
        }
        let _ = self.fallback.delete(&check.0).await;
    }

    /// Forgets every failed login of `username` (an admin's unlock for an owner who is
    /// locked out from a new address).
    pub async fn unlock(&self, username: &str) {
        let key = format!("throttle:login:account:{}", Self::account_hash(username));
        if self.shared.delete(&key).await.is_err() {
            log::warn!("login throttle: shared store unavailable while unlocking an account");
        }
        let _ = self.fallback.delete(&key).await;
    }

    /// Counts one hit on `key`; refused once the window holds more than `limit`.
    async fn count(&self, key: &str, limit: u64) -> Result<(), Throttled> {
        let (count, left) = self.hit(key).await;
        if count > limit {
            return Err(Throttled(left.max(Duration::from_secs(1))));
        }
        Ok(())
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

/// A counted current-password check, settled with `password_verified` when it was right.
#[must_use = "a right password must be settled with `password_verified`"]
pub struct PasswordCheck(String);
