//! The cache layer: rendered fragments read through Redis (or the in-process store), one key
//! pattern per kind of page, every key scoped to its owner.
//!
//! Keys: `cache:{user}:v{versions}:{pattern}:{suffix}`, the versions being the counters the
//! entry depends on, joined by dots. After every committed write the counters of what it
//! changed are bumped, so a value loaded before the write lands under a key nobody reads any
//! more (security.md 20-21) and no `KEYS`/`SCAN` is ever needed. Every key holds:
//! - the global epoch (`cache:epoch`), bumped when Redis returns after this process failed to
//!   bump a counter, so nothing from before an outage is served (24);
//! - the user's generation (`cache:gen:{user}`), bumped by any write that may change any view
//!   (a calendar's colour, a share, a series without end, the account's zone);
//! - for a view of dates (day, week, month, free/busy), the counter of each month it shows
//!   (`cache:gen:{user}:{YYYY-MM}`); for any other view (dashboard, event, search, exports),
//!   `cache:gen:{user}:undated`. A write of events alone bumps the undated counter and the
//!   months its events were and are in, so the views of other months stay cached.
//!
//! The versions and the value come back in one round trip.

mod fairing;
pub mod metrics;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

pub use fairing::{CacheFairing, CacheScope};

use crate::domain::reach::months_spanned;
use crate::domain::{Access, CalendarId, Reach, UserId};
use crate::error::AppError;
use crate::kv::{Kv, Versioned};

/// How long Redis is left alone after it failed, before the next request tries it again.
const BREAKER: Duration = Duration::from_secs(1);
const EPOCH_KEY: &str = "cache:epoch";
/// A write of events over more months than this retires all of its user's views instead.
const MONTHS_PER_WRITE: usize = 24;
/// A view of dates over more months than this depends on every write of events instead.
const MONTHS_PER_VIEW: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Upcoming,
    Day,
    Range,
    Event,
    Search,
    Calendar,
    FreeBusy,
    Public,
}

impl Pattern {
    pub const ALL: [Pattern; 8] = [
        Pattern::Upcoming,
        Pattern::Day,
        Pattern::Range,
        Pattern::Event,
        Pattern::Search,
        Pattern::Calendar,
        Pattern::FreeBusy,
        Pattern::Public,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pattern::Upcoming => "upcoming",
            Pattern::Day => "day",
            Pattern::Range => "range",
            Pattern::Event => "event",
            Pattern::Search => "search",
            Pattern::Calendar => "ics",
            Pattern::FreeBusy => "free-busy",
            Pattern::Public => "public",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One cacheable thing of one user. The suffix is short and bounded for every pattern
/// (search queries are hashed).
#[derive(Debug, Clone)]
pub struct CacheKey {
    pub pattern: Pattern,
    pub user: UserId,
    /// The first and last date a view of dates shows (`None`: not a view of dates).
    dates: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    suffix: String,
    /// For the log, in the original's words: "events on 2026-06-01".
    description: String,
}

impl CacheKey {
    pub fn upcoming(user: UserId, today: chrono::NaiveDate) -> CacheKey {
        let today = today.format("%Y-%m-%d");
        CacheKey {
            pattern: Pattern::Upcoming,
            user,
            dates: None,
            suffix: format!("{today}"),
            description: format!("upcoming events from {today}"),
        }
    }

    /// Day pages also depend on today (the "today" marker).
    pub fn day(user: UserId, date: chrono::NaiveDate, today: chrono::NaiveDate) -> CacheKey {
        let dates = Some((date, date));
        let date = date.format("%Y-%m-%d");
        CacheKey {
            pattern: Pattern::Day,
            user,
            dates,
            suffix: format!("{date}:{}", today.format("%Y-%m-%d")),
            description: format!("events on {date}"),
        }
    }

    /// A view around `date` that shows the days from `first` to `last`.
    pub fn range(
        user: UserId,
        view: &str,
        date: chrono::NaiveDate,
        (first, last): (chrono::NaiveDate, chrono::NaiveDate),
        today: chrono::NaiveDate,
    ) -> CacheKey {
        let date = date.format("%Y-%m-%d");
        CacheKey {
            pattern: Pattern::Range,
            user,
            dates: Some((first.min(last), first.max(last))),
            suffix: format!("{view}:{date}:{}", today.format("%Y-%m-%d")),
            description: format!("{view} view of {date}"),
        }
    }

    /// One event, or one occurrence of a series (`at`).
    pub fn event(user: UserId, id: i64, at: Option<&str>) -> CacheKey {
        let name = match at {
            Some(at) => format!("{id}@{at}"),
            None => id.to_string(),
        };
        CacheKey {
            pattern: Pattern::Event,
            user,
            dates: None,
            description: format!("event {name}"),
            suffix: name,
        }
    }

    /// The busy times of the people sharing with the user, on one day.
    pub fn free_busy(user: UserId, day: chrono::NaiveDate) -> CacheKey {
        let dates = Some((day, day));
        let day = day.format("%Y-%m-%d");
        CacheKey {
            pattern: Pattern::FreeBusy,
            user,
            dates,
            suffix: day.to_string(),
            description: format!("free/busy on {day}"),
        }
    }

    /// An iCalendar export: `all` (download), `feed` (subscription) or an event id.
    pub fn calendar(user: UserId, which: &str) -> CacheKey {
        CacheKey {
            pattern: Pattern::Calendar,
            user,
            dates: None,
            suffix: which.to_string(),
            description: format!("calendar {which}"),
        }
    }

    /// A page or the feed of a calendar's public link, under its owner's generation (every
    /// change to the calendar, and every new or closed link, retires it). Whole and busy-only
    /// links never share an entry.
    pub fn public(owner: UserId, calendar: CalendarId, access: Access, which: &str) -> CacheKey {
        CacheKey {
            pattern: Pattern::Public,
            user: owner,
            dates: None,
            suffix: format!("{}:{}:{which}", calendar.0, access.as_str()),
            description: format!("public {} calendar {} {which}", access.as_str(), calendar.0),
        }
    }

    /// `normalised` is the query after case folding and whitespace collapsing; it is hashed,
    /// so the key length is fixed whatever was typed.
    pub fn search(user: UserId, normalised: &str, page: u32) -> CacheKey {
        let hash = hex::encode(&Sha256::digest(normalised.as_bytes())[..16]);
        CacheKey {
            pattern: Pattern::Search,
            user,
            dates: None,
            suffix: format!("{hash}:{page}"),
            description: format!("search {} page {page}", &hash[..8]),
        }
    }

    /// The counters the entry depends on, in the order its key names them.
    fn version_keys(&self) -> Vec<String> {
        let mut keys = vec![EPOCH_KEY.to_string(), generation_key(self.user)];
        match self.dates.and_then(|(first, last)| months_spanned(first, last, MONTHS_PER_VIEW)) {
            Some(months) => keys.extend(months.into_iter().map(|month| month_key(self.user, month))),
            None => keys.push(undated_key(self.user)),
        }
        keys
    }

    fn head(&self) -> String {
        format!("cache:{}:v", self.user.0)
    }

    fn tail(&self) -> String {
        format!(":{}:{}", self.pattern.name(), self.suffix)
    }
}

fn generation_key(user: UserId) -> String {
    format!("cache:gen:{}", user.0)
}

fn undated_key(user: UserId) -> String {
    format!("cache:gen:{}:undated", user.0)
}

fn month_key(user: UserId, month: chrono::NaiveDate) -> String {
    format!("cache:gen:{}:{}", user.0, month.format("%Y-%m"))
}

/// A rendered fragment (never containing a CSRF token or anything else per-request) and the
/// title the page shows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub title: String,
    pub html: String,
}

impl Fragment {
    /// `<title length>\n<title><html>`: no JSON escaping of kilobytes of markup on every hit.
    fn encode(&self) -> Vec<u8> {
        let mut bytes = format!("{}\n{}", self.title.len(), self.title).into_bytes();
        bytes.extend_from_slice(self.html.as_bytes());
        bytes
    }

    fn decode(bytes: Vec<u8>) -> Option<Fragment> {
        let text = String::from_utf8(bytes).ok()?;
        let (length, rest) = text.split_once('\n')?;
        let length: usize = length.parse().ok()?;
        let title = rest.get(..length)?.to_string();
        let html = rest.get(length..)?.to_string();
        Some(Fragment { title, html })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
    Bypass,
}

impl Outcome {
    pub fn header(self) -> &'static str {
        match self {
            Outcome::Hit => "HIT",
            Outcome::Miss => "MISS",
            Outcome::Bypass => "BYPASS",
        }
    }
}

#[derive(Default)]
struct Counters([[AtomicU64; 3]; Pattern::ALL.len()]);

impl Counters {
    fn count(&self, pattern: Pattern, outcome: Outcome) {
        self.0[pattern.index()][outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, pattern: Pattern, outcome: Outcome) -> u64 {
        self.0[pattern.index()][outcome as usize].load(Ordering::Relaxed)
    }
}

type Flight = Arc<OnceCell<Fragment>>;
/// An instance loading a missing entry holds its lease this long at most (a crashed one's
/// runs out); the others look for its value every `LOAD_POLL`, for up to `LOAD_WAIT`.
const LOAD_LEASE: Duration = Duration::from_secs(2);
const LOAD_POLL: Duration = Duration::from_millis(15);
const LOAD_WAIT: Duration = Duration::from_secs(1);

fn lease_key(full_key: &str) -> String {
    format!("{full_key}:loading")
}
/// A finished load stays joinable this long: a request whose lookup missed just before the
/// value was stored gets the loaded value instead of running the query again. Short, because
/// a lingering value is served without checking that the store still holds it.
const FLIGHT_LINGER: Duration = Duration::from_millis(250);

/// The cache, shared: the web routes reach it as managed state, the CalDAV server holds a
/// clone (one set of counters and single flights for both).
#[derive(Clone)]
pub struct Cache(Arc<CacheInner>);

impl std::ops::Deref for Cache {
    type Target = CacheInner;

    fn deref(&self) -> &CacheInner {
        &self.0
    }
}

pub struct CacheInner {
    /// `None`: caching is switched off (`cache_enabled = false`); every lookup is a BYPASS.
    kv: Option<Kv>,
    ttl: Duration,
    counters: Counters,
    in_flight: Mutex<HashMap<String, (Instant, Flight)>>,
    retry_after_ms: AtomicU64,
    epoch_bump_pending: AtomicBool,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Cache {
    pub fn new(kv: Option<Kv>, ttl: Duration) -> Cache {
        Cache(Arc::new(CacheInner {
            kv,
            ttl,
            counters: Counters::default(),
            in_flight: Mutex::new(HashMap::new()),
            retry_after_ms: AtomicU64::new(0),
            epoch_bump_pending: AtomicBool::new(false),
        }))
    }

    pub fn backend(&self) -> &'static str {
        self.kv.as_ref().map_or("disabled", Kv::backend)
    }

    pub fn round_trips(&self) -> u64 {
        self.kv.as_ref().map_or(0, Kv::round_trips)
    }

    /// (pattern, hits, misses, bypasses)
    pub fn stats(&self) -> Vec<(&'static str, u64, u64, u64)> {
        Pattern::ALL
            .iter()
            .map(|p| {
                let c = &self.counters;
                (p.name(), c.get(*p, Outcome::Hit), c.get(*p, Outcome::Miss), c.get(*p, Outcome::Bypass))
            })
            .collect()
    }

    fn trip(&self, error: &dyn std::fmt::Display) {
        log::warn!("cache unavailable, answering from the database: {error}");
        self.retry_after_ms.store(now_ms() + BREAKER.as_millis() as u64, Ordering::Relaxed);
    }

    /// The backend, unless it is switched off or resting after a failure.
    async fn usable(&self) -> Option<&Kv> {
        let kv = self.kv.as_ref()?;
        if now_ms() < self.retry_after_ms.load(Ordering::Relaxed) {
            return None;
        }
        if self.epoch_bump_pending.load(Ordering::Acquire) {
            match kv.incr(EPOCH_KEY).await {
                Ok(_) => {
                    self.epoch_bump_pending.store(false, Ordering::Release);
                    log::info!("cache is back: every entry from before the outage is retired");
                }
                Err(e) => {
                    self.trip(&e);
                    return None;
                }
            }
        }
        Some(kv)
    }

    fn ttl_with_jitter(&self) -> Duration {
        // ±10 %, so entries written together do not expire together.
        let spread = self.ttl.as_millis() as f64 * 0.1;
        let offset = (rand::random::<f64>() * 2.0 - 1.0) * spread;
        Duration::from_millis((self.ttl.as_millis() as f64 + offset).max(1.0) as u64)
    }

    /// The fragment for `key`: from the cache, or rendered by `load` and stored. Concurrent
    /// misses on one key in this process share one `load`, and across instances a short
    /// lease in Redis lets one of them load while the others wait for its value.
    pub async fn fetch<F, Fut>(&self, key: &CacheKey, load: F) -> Result<(Fragment, Outcome), AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fragment, AppError>>,
    {
        let Some(kv) = self.usable().await else {
            self.counters.count(key.pattern, Outcome::Bypass);
            return Ok((load().await?, Outcome::Bypass));
        };
        let (version_keys, head, tail) = (key.version_keys(), key.head(), key.tail());
        let versioned = Versioned { versions: &version_keys, head: &head, tail: &tail };
        let (versions, cached) = match kv.get_versioned(&versioned).await {
            Ok(found) => found,
            Err(e) => {
                self.trip(&e);
                self.counters.count(key.pattern, Outcome::Bypass);
                return Ok((load().await?, Outcome::Bypass));
            }
        };
        if let Some(fragment) = cached.and_then(Fragment::decode) {
            log::debug!("Cache hit for {} for user {}", key.description, key.user.0);
            self.counters.count(key.pattern, Outcome::Hit);
            return Ok((fragment, Outcome::Hit));
        }
        log::debug!("Cache miss for {} for user {}", key.description, key.user.0);
        self.counters.count(key.pattern, Outcome::Miss);
        let full_key = versioned.key(&versions);
        let flight = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            in_flight.retain(|_, (started, _)| now.duration_since(*started) < FLIGHT_LINGER);
            in_flight.entry(full_key.clone()).or_insert_with(|| (now, Flight::default())).1.clone()
        };
        let result = flight
            .get_or_try_init(|| async {
                if let Some(fragment) = self.loaded_elsewhere(kv, &full_key).await {
                    return Ok(fragment);
                }
                let fragment = load().await?;
                if let Err(e) = kv.set(&full_key, &fragment.encode(), self.ttl_with_jitter()).await {
                    self.trip(&e);
                }
                let _ = kv.delete(&lease_key(&full_key)).await;
                Ok::<_, AppError>(fragment)
            })
            .await
            .cloned();
        Ok((result?, Outcome::Miss))
    }

    /// Across instances, one loads a missing entry: this one takes a short lease on the key,
    /// or, when another instance holds it, waits a moment for that instance's value. None:
    /// load it here (the lease is ours, Redis failed, or the value did not come in time).
    async fn loaded_elsewhere(&self, kv: &Kv, full_key: &str) -> Option<Fragment> {
        match kv.set_if_absent(&lease_key(full_key), b"1", LOAD_LEASE).await {
            Ok(false) => {}
            Ok(true) | Err(_) => return None,
        }
        let deadline = Instant::now() + LOAD_WAIT;
        while Instant::now() < deadline {
            tokio::time::sleep(LOAD_POLL).await;
            match kv.get(full_key).await {
                Ok(Some(value)) => return Fragment::decode(value),
                Ok(None) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// Retires every cached page of every user at once (an admin's "flush"): the epoch is part
    /// of every key. Returns false when the backend could not be reached (the flush then
    /// happens when it is back).
    pub async fn flush_all(&self) -> bool {
        let Some(kv) = self.kv.as_ref() else { return true };
        match kv.incr(EPOCH_KEY).await {
            Ok(_) => true,
            Err(e) => {
                self.epoch_bump_pending.store(true, Ordering::Release);
                self.trip(&e);
                false
            }
        }
    }

    /// Entries under the cache's keys (bounded count) and the backend's own figures.
    pub async fn usage(&self) -> Option<((u64, bool), Vec<(String, String)>)> {
        let kv = self.kv.as_ref()?;
        let keys = kv.count_keys("cache:", 100_000).await.ok()?;
        let info = kv.info().await.unwrap_or_default();
        Some((keys, info))
    }

    /// Retires `user`'s pages and also removes their stored entries (a bounded `SCAN`), for
    /// admin actions such as deleting the user: nothing of theirs is left behind.
    pub async fn purge_user(&self, user: UserId) {
        self.invalidate_user(user).await;
        let Some(kv) = self.kv.as_ref() else { return };
        if let Err(e) = kv.delete_matching(&format!("cache:{}:", user.0), 1_000_000).await {
            log::warn!("could not remove the cache entries of user {}: {e}", user.0);
        }
    }

    /// Retires every cached page of `user`. Call after the write has committed.
    pub async fn invalidate_user(&self, user: UserId) {
        self.invalidate(&[user], &Reach::everything()).await;
    }

    /// Retires the cached pages of `users` that may show what a write changed at the times
    /// `reach` holds, in one round trip. Call after the write has committed.
    pub async fn invalidate(&self, users: &[UserId], reach: &Reach) {
        if self.kv.is_none() || users.is_empty() {
            return;
        }
        let keys: Vec<String> = match reach.months(MONTHS_PER_WRITE) {
            None => users.iter().map(|user| generation_key(*user)).collect(),
            Some(months) => users
                .iter()
                .flat_map(|user| {
                    std::iter::once(undated_key(*user))
                        .chain(months.iter().map(|month| month_key(*user, *month)))
                })
                .collect(),
        };
        let failed = match self.usable().await {
            Some(kv) => kv.incr_all(&keys).await.err(),
            None => Some(crate::kv::KvError::Unavailable("resting after a failure".into())),
        };
        if let Some(e) = failed {
            // The old entries may still be in Redis: retire the whole epoch once it is back.
            self.epoch_bump_pending.store(true, Ordering::Release);
            self.trip(&e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Fragment;

    #[test]
    fn fragments_round_trip() {
        let fragment = Fragment { title: "Tea\n<b>12</b>".into(), html: "<p>5\nx</p>".into() };
        assert_eq!(Fragment::decode(fragment.encode()), Some(fragment));
        assert_eq!(Fragment::decode(b"9\nshort".to_vec()), None);
        assert_eq!(Fragment::decode(b"x\n".to_vec()), None);
    }
}
