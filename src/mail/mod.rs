//! Email: reminders and address confirmations through SMTP (`SMTP_URL`, from
//! `EVENTIDE_MAIL_FROM`). Mail is decided in the database (`store::mail`: the outbox row is
//! written in the transaction that fires a reminder) and sent here, after the scheduler's pass:
//! each instance claims due rows with a lease, sends each, and records what the server said.
//! A refused attempt is retried with backoff; an address the server refuses for good (550,
//! 551, 553: no such mailbox) is paused, its owner told on the account page and the tray.
//!
//! The guarantee: a mail is sent at least once while its row waits, and once in practice: a
//! row is marked sent right after the server accepted it. Only a crash (or a lost database)
//! between the server's accept and that commit sends it again, when the lease runs out, with
//! the same `Message-ID`, so mail clients that deduplicate show it once.

mod letters;
pub mod routes;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rocket::fairing::AdHoc;

use crate::config::{AppConfig, ConfigError};
use crate::error::AppError;
use crate::store::mail::OutgoingMail;
use crate::store::Store;
use crate::web::public_url::PublicUrl;

/// Mails claimed at once; a claim is held this long (longer than an SMTP exchange can take).
const BATCH: i64 = 20;
const LEASE: Duration = Duration::minutes(2);
const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// A mail still failing this long after it was decided is given up: a reminder that late
/// is no reminder.
const GIVE_UP_AFTER: Duration = Duration::hours(24);

/// Whether email is on (`SMTP_URL` is set), and how it goes out.
#[derive(Clone)]
pub struct Mail(Option<Arc<Mailer>>);

impl Mail {
    pub fn mailer(&self) -> Option<&Mailer> {
        self.0.as_deref()
    }

    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    links: PublicUrl,
    letters: letters::Letters,
}

impl Mailer {
    /// The mailer `config` describes, or none without `SMTP_URL`; a setting that cannot work
    /// stops the launch with a message saying which.
    pub fn from_config(config: &AppConfig, links: &PublicUrl) -> Result<Option<Mailer>, ConfigError> {
        let Some(url) = config.smtp_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        // The URL may hold a password: the message never repeats it.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| {
                ConfigError::Invalid(format!(
                    "SMTP_URL is not usable ({e}): expected smtp://HOST:PORT or smtps://USER:PASS@HOST:PORT"
                ))
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let host = links.authority().rsplit_once(':').map_or(links.authority(), |(host, _)| host);
        let from = match config.mail_from.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(from) => from.parse::<Mailbox>().map_err(|e| {
                ConfigError::Invalid(format!("EVENTIDE_MAIL_FROM {from:?} is not a mail address: {e}"))
            })?,
            None => format!("Eventide <eventide@{host}>").parse::<Mailbox>().map_err(|e| {
                ConfigError::Invalid(format!("set EVENTIDE_MAIL_FROM: the default sender is not usable: {e}"))
            })?,
        };
        let letters =
            letters::Letters::load().map_err(|e| ConfigError::Invalid(format!("mail templates: {e}")))?;
        Ok(Some(Mailer { transport, from, links: links.clone(), letters }))
    }

    /// The domain of Message-IDs: the sender's.
    fn id_domain(&self) -> &str {
        self.from.email.domain()
    }
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    /// Failed this time; tried again later.
    pub retrying: usize,
    /// Never to go out: the address was refused, changed or stopped, the event went, or it
    /// kept failing for too long.
    pub given_up: usize,
}

/// Queues the daily agendas due by `now` (skipping those more than `grace` late), then
/// sends every mail due, batch by batch.
pub async fn deliver(
    store: &Store,
    mailer: &Mailer,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<Delivered, AppError> {
    store.queue_due_agendas(now, grace).await?;
    let mut done = Delivered::default();
    loop {
        let claimed = store.claim_mail(now, now + LEASE, BATCH).await?;
        for mail in &claimed {
            deliver_one(store, mailer, mail, now, &mut done).await?;
        }
        if claimed.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(done);
        }
    }
}

async fn deliver_one(
    store: &Store,
    mailer: &Mailer,
    mail: &OutgoingMail,
    now: DateTime<Utc>,
    done: &mut Delivered,
) -> Result<(), AppError> {
    let message = match letters::compose(store, mailer, mail, now).await? {
        Ok(message) => message,
        Err(why) => {
            store.mail_abandoned(mail.id, why, now).await?;
            done.given_up += 1;
            return Ok(());
        }
    };
    match mailer.transport.send(message).await {
        Ok(_) => {
            store.mail_sent(mail.id, now).await?;
            done.sent += 1;
        }
        Err(error) if refuses_mailbox(&error) => {
            let problem = format!("the mail server refused the address: {error}");
            log::warn!("mail: paused the address of user {}: {error}", mail.user_id.0);
            store.pause_mail_address(mail.user_id, &mail.recipient, &problem, now).await?;
            done.given_up += 1;
        }
        Err(error) if now - mail.created_at >= GIVE_UP_AFTER => {
            store.mail_abandoned(mail.id, &format!("gave up after a day of failures: {error}"), now).await?;
            done.given_up += 1;
        }
        Err(error) => {
            let attempts = u32::try_from(mail.attempts).unwrap_or(0) + 1;
            log::warn!("mail: attempt {attempts} of mail {} failed, retrying: {error}", mail.id);
            store.mail_failed(mail.id, &error.to_string(), now + backoff(attempts)).await?;
            done.retrying += 1;
        }
    }
    Ok(())
}

/// A permanent refusal of the mailbox itself (no such user, not local, bad name); other
/// permanent errors (authentication, policy) are the server's setup, which an operator can
/// fix: those are retried like transient ones, and shown on the admin page.
fn refuses_mailbox(error: &lettre::transport::smtp::Error) -> bool {
    error.is_permanent()
        && error.status().is_some_and(|code| matches!(code.to_string().as_str(), "550" | "551" | "553"))
}

/// After the `attempts`-th failure: 1 minute, doubling, at most an hour.
fn backoff(attempts: u32) -> Duration {
    Duration::minutes(1_i64 << attempts.saturating_sub(1).min(6)).min(Duration::hours(1))
}

/// Manages `Mail` and mounts the address routes.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Mail", |rocket| async {
        let (Some(config), Some(links)) = (rocket.state::<AppConfig>(), rocket.state::<PublicUrl>()) else {
            return Err(rocket);
        };
        match Mailer::from_config(config, links) {
            Ok(mailer) => {
                if mailer.is_none() {
                    log::info!("email: off (SMTP_URL is not set)");
                }
                Ok(rocket.manage(Mail(mailer.map(Arc::new))).mount("/", routes::routes()))
            }
            Err(e) => {
                log::error!("{e}");
                Err(rocket)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_to_an_hour() {
        let minutes: Vec<i64> = (1..=9).map(|n| backoff(n).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
