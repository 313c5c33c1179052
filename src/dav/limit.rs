//! Heavy requests per user: a REPORT or a PROPFIND can read and write a whole calendar, so each
//! user runs at most a few at once (a client syncing several calendars in parallel fits); more
//! wait their turn, and after a while are answered 503 with `Retry-After`. One account cannot
//! take the server from the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::UserId;

/// At once, per user.
const PER_USER: usize = 4;
/// How long a request waits for its turn before it is told to come back.
const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Default)]
pub struct HeavyLimits(Arc<Mutex<HashMap<UserId, Arc<Semaphore>>>>);

impl HeavyLimits {
    /// A turn for `user`, held until the answer is written (streamed ones included); `None`
    /// when none came free in time.
    pub async fn claim(&self, user: UserId) -> Option<OwnedSemaphorePermit> {
        self.claim_within(user, WAIT).await
    }

    async fn claim_within(&self, user: UserId, wait: Duration) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let mut users = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Users with nothing running or waiting (no permit or waiter holds their semaphore)
            // are forgotten, so the map stays as small as the number of users busy right now.
            users.retain(|_, s| Arc::strong_count(s) > 1);
            Arc::clone(users.entry(user).or_insert_with(|| Arc::new(Semaphore::new(PER_USER))))
        };
        tokio::time::timeout(wait, semaphore.acquire_owned()).await.ok()?.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_few_at_once_per_user_and_others_unaffected() {
        let limits = HeavyLimits::default();
        let short = Duration::from_millis(50);
        let mut held = Vec::new();
        for _ in 0..PER_USER {
            held.push(limits.claim_within(UserId(1), short).await.expect("a turn"));
        }
        assert!(limits.claim_within(UserId(1), short).await.is_none(), "one too many waits, then gives up");
        assert!(limits.claim_within(UserId(2), short).await.is_some(), "another user is not held up");
        held.pop();
        assert!(limits.claim_within(UserId(1), short).await.is_some(), "a turn comes free");
    }
}
