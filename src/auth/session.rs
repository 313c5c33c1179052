//! Server-side sessions. The cookie carries 256 random bits; the store key is their SHA-256,
//! so neither a store dump nor a log line holds a usable id. Expiry (idle and absolute) is
//! decided here against the injectable clock; the backend TTL only cleans up.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rocket::http::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::config::AppConfig;
use crate::domain::UserId;
use crate::kv::{Kv, KvError};
use crate::store::{SessionUser, User};

const ID_BYTES: usize = 32;
/// `last_seen` is written back at most this often, so a busy user costs one session write a
/// minute rather than one per request.
const TOUCH_EVERY: Duration = Duration::seconds(60);
/// How long a user's snapshot lives beside the sessions. Every change rewrites it after the
/// commit; the TTL bounds how stale it could get if a process died in between.
const USER_SNAPSHOT_TTL: std::time::Duration = std::time::Duration::from_secs(300);
const USER_KEY: &str = "user:";

/// Who writes a user snapshot: `Changed` right after committing a change (overwrites),
/// `Loaded` after reading the row on a miss (only fills a gap, so a slow reader can never
/// put back a version older than a concurrent change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshot {
    Changed,
    Loaded,
}

/// A session id as the cookie carries it. `Debug` is redacted: ids never reach the log.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId(..)")
    }
}

impl SessionId {
    fn generate() -> SessionId {
        let mut bytes = [0u8; ID_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SessionId(base64_url(&bytes))
    }

    /// Accepts only what `generate` can produce; anything else is treated as no session.
    pub fn parse(value: &str) -> Option<SessionId> {
        let well_formed =
            value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| SessionId(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn store_key(&self) -> String {
        format!("session:{}", hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

pub fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user_id: UserId,
    /// Must equal the user's `session_epoch`; a password change bumps it.
    pub epoch: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

pub struct Sessions {
    kv: Kv,
    clock: Clock,
    idle: Duration,
    absolute: Duration,
    pub cookie_name: &'static str,
    secure: bool,
}

impl Sessions {
    pub fn new(kv: Kv, clock: Clock, config: &AppConfig) -> Sessions {
        Sessions {
            kv,
            clock,
            idle: config.session_idle(),
            absolute: config.session_absolute(),
            cookie_name: if config.secure_cookies { "__Host-eventide_session" } else { "eventide_session" },
            secure: config.secure_cookies,
        }
    }

    pub fn backend(&self) -> &Kv {
        &self.kv
    }

    /// A fresh session for `user`; the caller sets the cookie.
    pub async fn create(&self, user: &User) -> Result<SessionId, KvError> {
        let now = self.clock.now();
        let record =
            SessionRecord { user_id: user.id, epoch: user.session_epoch, created_at: now, last_seen: now };
        let id = SessionId::generate();
        self.save(&id, &record).await?;
        Ok(id)
    }

    /// The live record for `id` and the snapshot of its user (if one is stored), in one round
    /// trip; `None` when the session is unknown or has expired (an expired record is deleted
    /// on the spot).
    pub async fn load(
        &self,
        id: &SessionId,
    ) -> Result<Option<(SessionRecord, Option<SessionUser>)>, KvError> {
        let Some((bytes, user)) = self.kv.get_linked(&id.store_key(), "user_id", USER_KEY).await? else {
            return Ok(None);
        };
        let Ok(mut record) = serde_json::from_slice::<SessionRecord>(&bytes) else {
            self.kv.delete(&id.store_key()).await?;
            return Ok(None);
        };
        let now = self.clock.now();
        if now - record.last_seen > self.idle || now - record.created_at > self.absolute {
            self.kv.delete(&id.store_key()).await?;
            return Ok(None);
        }
        if now - record.last_seen > TOUCH_EVERY {
            record.last_seen = now;
            self.save(id, &record).await?;
        }
        let owner = record.user_id;
        let user = user.and_then(|bytes| serde_json::from_slice::<SessionUser>(&bytes).ok());
        Ok(Some((record, user.filter(|u| u.id == owner))))
    }

    /// Forgets a deleted user's snapshot (their sessions then find no user and end).
    pub async fn forget_user(&self, id: UserId) -> Result<(), KvError> {
        self.kv.delete(&format!("{USER_KEY}{}", id.0)).await
    }

    /// Live sessions (a bounded count, for the admin page).
    pub async fn count(&self) -> Result<(u64, bool), KvError> {
        self.kv.count_keys("session:", 100_000).await
    }

    /// Stores the snapshot of `user` that sessions are checked against.
    pub async fn remember_user(&self, user: &SessionUser, source: Snapshot) -> Result<(), KvError> {
        let key = format!("{USER_KEY}{}", user.id.0);
        let bytes = serde_json::to_vec(user).map_err(|e| KvError::Unavailable(e.to_string()))?;
        match source {
            Snapshot::Changed => self.kv.set(&key, &bytes, USER_SNAPSHOT_TTL).await,
            Snapshot::Loaded => self.kv.set_if_absent(&key, &bytes, USER_SNAPSHOT_TTL).await.map(|_| ()),
        }
    }

    pub async fn destroy(&self, id: &SessionId) -> Result<(), KvError> {
        self.kv.delete(&id.store_key()).await
    }

    async fn save(&self, id: &SessionId, record: &SessionRecord) -> Result<(), KvError> {
        let absolute_left = record.created_at + self.absolute - self.clock.now();
        let ttl = self.idle.min(absolute_left).to_std().unwrap_or_default();
        let bytes = serde_json::to_vec(record).map_err(|e| KvError::Unavailable(e.to_string()))?;
        self.kv.set(&id.store_key(), &bytes, ttl).await
    }

    /// A browser-session cookie (no `Expires`): closing the browser ends it client-side, the
    /// server's idle and absolute limits end it server-side.
    pub fn set_cookie(&self, cookies: &CookieJar<'_>, id: &SessionId) {
        cookies.add(
            Cookie::build((self.cookie_name, id.as_str().to_string()))
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(self.secure)
                .path("/"),
        );
    }

    pub fn remove_cookie(&self, cookies: &CookieJar<'_>) {
        cookies.remove(Cookie::build(self.cookie_name).path("/"));
    }

    pub fn id_from(&self, cookies: &CookieJar<'_>) -> Option<SessionId> {
        cookies.get(self.cookie_name).and_then(|cookie| SessionId::parse(cookie.value()))
    }

    #[cfg(test)]
    fn store_key_for(id: &SessionId) -> String {
        id.store_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_long_random_and_strictly_parsed() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(SessionId::parse("short"), None);
        assert_eq!(SessionId::parse(&"a".repeat(42)), None);
        assert_eq!(SessionId::parse(&format!("{}=", &a.as_str()[..42])), None);
        assert_eq!(format!("{a:?}"), "SessionId(..)");
        let key = Sessions::store_key_for(&a);
        assert!(!key.contains(a.as_str()) && key.len() == "session:".len() + 64);
    }
}
