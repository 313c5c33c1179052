//! The time source for anything that expires. Tests use a manual clock to step over idle
//! and absolute session timeouts without sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A clock that stands still at the current time until `advance` moves it.
    pub fn manual() -> Clock {
        Clock::Manual(Arc::new(Mutex::new(Utc::now())))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Manual(time) => *time.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(time) = self {
            let mut time = time.lock().unwrap_or_else(|p| p.into_inner());
            *time += by;
        }
    }
}
