//! Reminders that arrive: the scheduler that fires due reminders exactly once across
//! instances, and the user's notification tray. Each instance looks for due reminders every
//! `reminder_interval_seconds`, claims them with a lease (so two instances never fire one at
//! once, and a crashed instance's claims run out), and fires each in a transaction of its
//! own: a notification (once per occurrence and reminder, by a unique key), then the next
//! occurrence's due time. What fell due longer ago than `reminder_grace_minutes` (the server
//! was down) is marked missed, never sent late. The same loop then sends the mail due
//! (`crate::mail`).

pub mod routes;

use chrono::{DateTime, Duration, Utc};
use rocket::fairing::AdHoc;

use crate::clock::Clock;
use crate::config::AppConfig;
use crate::error::AppError;
use crate::mail::{Delivered, Mail};
use crate::store::{Fired, Notification, Store};

/// Reminders claimed at once; a claim is held this long.
const BATCH: i64 = 100;
const LEASE: Duration = Duration::minutes(2);

/// What one pass fired.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub notified: usize,
    pub missed: usize,
    /// Fired by another instance first, or changed since the claim.
    pub skipped: usize,
}

/// Fires every reminder due by `now`, batch by batch.
pub async fn tick(store: &Store, now: DateTime<Utc>, grace: Duration) -> Result<Tally, AppError> {
    let mut tally = Tally::default();
    loop {
        let claimed = store.claim_due_reminders(now, now + LEASE, BATCH).await?;
        for due in &claimed {
            match store.fire_reminder(due, now, grace).await? {
                Fired::Notified => tally.notified += 1,
                Fired::Missed => tally.missed += 1,
                Fired::Already | Fired::Stale => tally.skipped += 1,
            }
        }
        if claimed.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(tally);
        }
    }
}

/// When the occurrence is, in the user's zone: its day (`day`), and for a timed one its time.
pub fn when(n: &Notification, zone: chrono_tz::Tz, day: &str, time: &str) -> String {
    if n.all_day {
        // An all-day event's start is its date, kept at 00:00 UTC.
        n.occurrence.date_naive().format(day).to_string()
    } else {
        n.occurrence.with_timezone(&zone).format(&format!("{day}{time}")).to_string()
    }
}

/// The event's page, or the occurrence's of a series.
pub fn event_path(n: &Notification) -> Option<String> {
    let id = n.event_id?;
    Some(match n.repeats {
        true => format!("/events/{}?at={}", id.0, crate::domain::recurrence::compact(n.occurrence)),
        false => format!("/events/{}", id.0),
    })
}

/// Starts the scheduler when Rocket lifts off; it stops with Rocket's shutdown.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Reminders", |rocket| async {
        rocket.mount("/", routes::routes()).attach(AdHoc::on_liftoff("Reminder scheduler", |rocket| {
            Box::pin(async move {
                let (Some(store), Some(config), Some(clock)) = (
                    rocket.state::<Store>().cloned(),
                    rocket.state::<AppConfig>(),
                    rocket.state::<Clock>().cloned(),
                ) else {
                    return;
                };
                let mail = rocket.state::<Mail>().cloned();
                let grace = Duration::minutes(i64::try_from(config.reminder_grace_minutes).unwrap_or(60));
                let every = std::time::Duration::from_secs(config.reminder_interval_seconds.max(1));
                let mut shutdown = rocket.shutdown();
                rocket::tokio::spawn(async move {
                    let mut interval = rocket::tokio::time::interval(every);
                    loop {
                        rocket::tokio::select! {
                            _ = interval.tick() => {}
                            _ = &mut shutdown => return,
                        }
                        match tick(&store, clock.now(), grace).await {
                            Ok(Tally { notified: 0, missed: 0, .. }) => {}
                            Ok(tally) => log::info!(
                                "reminders: {} sent, {} missed (due over {} minutes ago)",
                                tally.notified,
                                tally.missed,
                                grace.num_minutes()
                            ),
                            Err(e) => log::warn!("reminders: a pass failed, the next one retries: {e}"),
                        }
                        // What the pass fired goes out at once, with what earlier passes left.
                        if let Some(mailer) = mail.as_ref().and_then(Mail::mailer) {
                            match crate::mail::deliver(&store, mailer, clock.now(), grace).await {
                                Ok(Delivered { sent: 0, retrying: 0, given_up: 0 }) => {}
                                Ok(done) => log::info!(
                                    "mail: {} sent, {} to retry, {} given up",
                                    done.sent,
                                    done.retrying,
                                    done.given_up
                                ),
                                Err(e) => log::warn!("mail: a pass failed, the next one retries: {e}"),
                            }
                        }
                    }
                });
            })
        }))
    })
}
