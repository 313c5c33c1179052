//! The embedded backend: an in-process map with expiry, for `cargo run` without Redis.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a counter (`incr`) lives: for good.
const COUNTER_LIFE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A map with expiry, for a single process without Redis.
pub struct MemoryKv {
    entries: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
    prefix: String,
    limit: Option<usize>,
}

impl MemoryKv {
    const SWEEP_AT: usize = 10_000;

    pub(super) fn new(prefix: &str, limit: Option<usize>) -> Self {
        MemoryKv { entries: Mutex::new(HashMap::new()), prefix: prefix.to_string(), limit }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Vec<u8>, Instant)>> {
        // A panic while holding the lock cannot leave the map inconsistent (every update is
        // a single insert/remove), so a poisoned lock is safe to keep using.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn get(&self, key: &str) -> Option<Vec<u8>> {
        let key = format!("{}{key}", self.prefix);
        let mut entries = self.lock();
        match entries.get(&key) {
            Some((value, expires)) if *expires > Instant::now() => Some(value.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    pub(super) fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= Self::SWEEP_AT && entries.len() % Self::SWEEP_AT == 0 {
            entries.retain(|_, (_, expires)| *expires > now);
        }
        if self.limit.is_some_and(|limit| entries.len() >= limit) {
            // Counters stay: one reset to a number it held before would bring back the value a
            // slow reader stored under that number after a write had retired it.
            entries.retain(|_, (_, expires)| expires.saturating_duration_since(now) > COUNTER_LIFE / 2);
        }
        entries.insert(format!("{}{key}", self.prefix), (value, now + ttl));
    }

    pub(super) fn delete(&self, key: &str) {
        self.lock().remove(&format!("{}{key}", self.prefix));
    }

    pub(super) fn delete_prefix(&self, head: &str) -> u64 {
        let head = format!("{}{head}", self.prefix);
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|key, _| !key.starts_with(&head));
        (before - entries.len()) as u64
    }

    pub(super) fn count_prefix(&self, head: &str) -> u64 {
        let now = Instant::now();
        let head = format!("{}{head}", self.prefix);
        self.lock().iter().filter(|(key, (_, expires))| key.starts_with(&head) && *expires > now).count()
            as u64
    }

    pub(super) fn set_if_absent(&self, key: &str, value: Vec<u8>, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut entries = self.lock();
        let key = format!("{}{key}", self.prefix);
        if entries.get(&key).is_some_and(|(_, expires)| *expires > now) {
            return false;
        }
        entries.insert(key, (value, now + ttl));
        true
    }

    pub(super) fn incr(&self, key: &str) -> u64 {
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = entries
            .entry(format!("{}{key}", self.prefix))
            .or_insert_with(|| (b"0".to_vec(), now + COUNTER_LIFE));
        let next = std::str::from_utf8(&entry.0).ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
        entry.0 = next.to_string().into_bytes();
        next
    }

    pub(super) fn hit(&self, key: &str, window: Duration) -> (u64, Duration) {
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = entries
            .entry(format!("{}{key}", self.prefix))
            .or_insert_with(|| (0u64.to_be_bytes().to_vec(), now + window));
        if entry.1 <= now {
            *entry = (0u64.to_be_bytes().to_vec(), now + window);
        }
        let count = entry.0.as_slice().try_into().map(u64::from_be_bytes).unwrap_or(0) + 1;
        entry.0 = count.to_be_bytes().to_vec();
        (count, entry.1.saturating_duration_since(now))
    }

    /// The hits of a live window and the time left in it, without counting one.
    pub(super) fn hits(&self, key: &str) -> (u64, Duration) {
        let now = Instant::now();
        let entries = self.lock();
        match entries.get(&format!("{}{key}", self.prefix)).filter(|e| e.1 > now) {
            Some(entry) => (
                entry.0.as_slice().try_into().map(u64::from_be_bytes).unwrap_or(0),
                entry.1.saturating_duration_since(now),
            ),
            None => (0, Duration::ZERO),
        }
    }

    /// Takes back one hit of a live window (never below zero); the window keeps its end.
    pub(super) fn refund(&self, key: &str) {
        let now = Instant::now();
        let mut entries = self.lock();
        if let Some(entry) = entries.get_mut(&format!("{}{key}", self.prefix)).filter(|e| e.1 > now) {
            let count = entry.0.as_slice().try_into().map(u64::from_be_bytes).unwrap_or(0);
            entry.0 = count.saturating_sub(1).to_be_bytes().to_vec();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_entries_expire() {
        let kv = MemoryKv::new("t:", None);
        kv.set("a", b"1".to_vec(), Duration::from_millis(0));
        assert_eq!(kv.get("a"), None);
        kv.set("b", b"2".to_vec(), Duration::from_secs(60));
        assert_eq!(kv.get("b"), Some(b"2".to_vec()));
        kv.delete("b");
        assert_eq!(kv.get("b"), None);
    }

    #[test]
    fn memory_window_counts_and_resets() {
        let kv = MemoryKv::new("t:", None);
        assert_eq!(kv.hit("w", Duration::from_secs(60)).0, 1);
        assert_eq!(kv.hit("w", Duration::from_secs(60)).0, 2);
        assert_eq!(kv.hit("z", Duration::from_millis(0)).0, 1);
        assert_eq!(kv.hit("z", Duration::from_millis(0)).0, 1);
    }

    #[test]
    fn a_memory_cache_starts_over_at_its_limit_but_keeps_its_counters() {
        let kv = MemoryKv::new("t:", Some(3));
        assert_eq!(kv.incr("generation"), 1);
        for key in ["a", "b", "c", "d"] {
            kv.set(key, b"x".to_vec(), Duration::from_secs(60));
        }
        assert_eq!(kv.get("a"), None);
        assert_eq!(kv.get("d"), Some(b"x".to_vec()));
        assert_eq!(kv.incr("generation"), 2);
    }
}
