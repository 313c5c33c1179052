//! Imports are the heaviest thing a user can ask for: parsing and planning a 1 MiB file is
//! CPU work that grows with the file. They run on the blocking pool (so the async workers keep
//! serving everyone else), one at a time per user, and at most one per core at once, so one
//! account sending uploads in parallel cannot take the server from the others.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::UserId;

pub struct ImportLimits {
    busy: Arc<Mutex<HashSet<UserId>>>,
    cpu: Arc<Semaphore>,
}

/// The user's one running import; the slot frees itself when dropped.
pub struct ImportSlot {
    user: UserId,
    busy: Arc<Mutex<HashSet<UserId>>>,
    _cpu: Option<OwnedSemaphorePermit>,
}

impl Default for ImportLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ImportLimits { busy: Arc::default(), cpu: Arc::new(Semaphore::new(cores)) }
    }
}

impl ImportLimits {
    /// A slot for `user`, or `None` while another import of theirs is running. Waits (without
    /// holding a worker) for a free core.
    pub async fn claim(&self, user: UserId) -> Option<ImportSlot> {
        if !lock(&self.busy).insert(user) {
            return None;
        }
        // The slot exists across the wait, so a request dropped while waiting frees the user.
        let mut slot = ImportSlot { user, busy: Arc::clone(&self.busy), _cpu: None };
        slot._cpu = Some(Arc::clone(&self.cpu).acquire_owned().await.ok()?);
        Some(slot)
    }
}

impl Drop for ImportSlot {
    fn drop(&mut self) {
        lock(&self.busy).remove(&self.user);
    }
}

/// The set is only inserted into and removed from; a panic elsewhere cannot leave it invalid.
fn lock(busy: &Mutex<HashSet<UserId>>) -> std::sync::MutexGuard<'_, HashSet<UserId>> {
    busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_import_per_user_at_a_time() {
        let limits = ImportLimits::default();
        let first = limits.claim(UserId(1)).await;
        assert!(first.is_some());
        assert!(limits.claim(UserId(1)).await.is_none(), "a second import of the same user waits");
        assert!(limits.claim(UserId(2)).await.is_some(), "another user is not held up");
        drop(first);
        assert!(limits.claim(UserId(1)).await.is_some(), "the slot is free again");
    }
}
