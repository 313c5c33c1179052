//! Mail: the address each user's reminders go to, and the outbox. A mail is a row written in
//! the transaction that decided it (a reminder firing, an address set), so a decided mail is
//! never lost and a rolled-back one never sent; its `message_key` makes it once per reminder
//! whatever instances race. Senders claim due rows with a lease and record what SMTP said.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{begin_write, in_write, with_pool, DbResult, Pool, Store};
use crate::domain::reminders::next_agenda;
use crate::domain::UserId;

/// Reads an enum stored as one of a few words (the words are the SQL's too).
macro_rules! stored_as_text {
    ($name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(text: String) -> Result<Self, String> {
                match text.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(concat!("unknown ", $what, " {:?}"), text)),
                }
            }
        }
    };
}

/// Where an address stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressState {
    /// Set, its confirmation link not followed yet: only the confirmation goes there.
    Pending,
    Confirmed,
    /// The mail server refused it for good: nothing goes there until it is set again.
    Paused,
    /// Its owner unsubscribed from a reminder mail.
    Stopped,
}

stored_as_text!(AddressState, "address state", {
    Pending => "pending",
    Confirmed => "confirmed",
    Paused => "paused",
    Stopped => "stopped",
});

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MailAddress {
    pub user_id: UserId,
    pub address: String,
    #[sqlx(try_from = "String")]
    pub state: AddressState,
    #[serde(skip)]
    pub token: String,
    /// Why it is paused: the mail server's answer.
    pub problem: Option<String>,
    pub changed_at: DateTime<Utc>,
    /// The daily agenda's time (minutes past midnight in the owner's zone), if it is on.
    pub agenda_minutes: Option<i32>,
}

const ADDRESS_COLUMNS: &str = "user_id, address, state, token, problem, changed_at, agenda_minutes";

/// What a mail in the outbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailKind {
    /// The link that confirms a new address.
    Confirm,
    /// A reminder of an event (its notification).
    Reminder,
    /// The day's events (`agenda_day`), at the time the user chose.
    Agenda,
}

stored_as_text!(MailKind, "mail kind", {
    Confirm => "confirm",
    Reminder => "reminder",
    Agenda => "agenda",
});

/// A mail an instance has claimed to send.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutgoingMail {
    pub id: i64,
    pub user_id: UserId,
    #[sqlx(try_from = "String")]
    pub kind: MailKind,
    pub notification_id: Option<i64>,
    /// The Message-ID's left part: the same on every attempt, from every instance.
    pub message_key: String,
    pub recipient: String,
    /// Attempts before this one.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// An agenda's day.
    pub agenda_day: Option<NaiveDate>,
}

const OUTGOING_COLUMNS: &str =
    "id, user_id, kind, notification_id, message_key, recipient, attempts, created_at, agenda_day";

/// The admin page's view of the outbox.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutboxSummary {
    /// Waiting to go out (retries included).
    pub waiting: i64,
    pub sent_today: i64,
    /// Mails with a failed attempt, newest first: waiting to be retried or given up.
    pub troubles: Vec<MailTrouble>,
    pub paused: Vec<PausedAddress>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MailTrouble {
    pub username: String,
    pub recipient: String,
    pub kind: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub abandoned_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PausedAddress {
    pub username: String,
    pub address: String,
    pub problem: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// Gives up a user's mails not sent yet, saying why (inside a transaction).
macro_rules! abandon_unsent {
    ($tx:expr, $user:expr, $why:expr, $now:expr) => {
        sqlx::query(
            "UPDATE mail_outbox SET abandoned_at = $3, last_error = COALESCE(last_error, $2), lease_until = NULL \
             WHERE user_id = $1 AND sent_at IS NULL AND abandoned_at IS NULL",
        )
        .bind($user)
        .bind($why)
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}

/// Queues a reminder's mail to its owner's confirmed address, if there is one, inside the
/// transaction that made the notification (`$tx`). Once per reminder: the key is unique.
macro_rules! queue_reminder_mail {
    ($tx:expr, $user:expr, $notification:expr, $key:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO mail_outbox (user_id, kind, notification_id, message_key, recipient, created_at, next_attempt_at) \
             SELECT user_id, 'reminder', $2, $3, address, $4, $4 FROM mail_addresses \
             WHERE user_id = $1 AND state = 'confirmed' ON CONFLICT (message_key) DO NOTHING",
        )
        .bind($user)
        .bind($notification)
        .bind($key)
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use queue_reminder_mail;

impl Store {
    pub async fn mail_address_of(&self, user: UserId) -> DbResult<Option<MailAddress>> {
        let sql = format!("SELECT {ADDRESS_COLUMNS} FROM mail_addresses WHERE user_id = $1");
        with_pool!(self, pool => sqlx::query_as::<_, MailAddress>(&sql).bind(user).fetch_optional(pool).await)
    }

    pub async fn mail_address_by_token(&self, token: &str) -> DbResult<Option<MailAddress>> {
        let sql = format!("SELECT {ADDRESS_COLUMNS} FROM mail_addresses WHERE token = $1");
        with_pool!(self, pool => sqlx::query_as::<_, MailAddress>(&sql).bind(token).fetch_optional(pool).await)
    }

    /// Sets `user`'s address, pending, and queues its confirmation (`confirm_key`), in one
    /// transaction; mails still waiting for the old address are given up.
    pub async fn set_mail_address(
        &self,
        user: UserId,
        address: &str,
        token: &str,
        confirm_key: &str,
        now: DateTime<Utc>,
    ) -> DbResult<()> {
        in_write!(self, tx => {
            abandon_unsent!(tx, user, "the address changed", now);
            sqlx::query(
                "INSERT INTO mail_addresses (user_id, address, state, token, problem, changed_at) \
                 VALUES ($1, $2, 'pending', $3, NULL, $4) ON CONFLICT (user_id) DO UPDATE SET \
                 address = excluded.address, state = 'pending', token = excluded.token, problem = NULL, \
                 changed_at = excluded.changed_at",
            )
            .bind(user)
            .bind(address)
            .bind(token)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO mail_outbox (user_id, kind, message_key, recipient, created_at, next_attempt_at) \
                 VALUES ($1, 'confirm', $2, $3, $4, $4)",
            )
            .bind(user)
            .bind(confirm_key)
            .bind(address)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Forgets `user`'s address (no more mail), giving up what was waiting.
    pub async fn remove_mail_address(&self, user: UserId, now: DateTime<Utc>) -> DbResult<()> {
        in_write!(self, tx => {
            abandon_unsent!(tx, user, "the address was removed", now);
            sqlx::query("DELETE FROM mail_addresses WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Confirms the pending address whose link carried `token`; the address as it now stands.
    pub async fn confirm_mail_address(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> DbResult<Option<MailAddress>> {
        let sql = "UPDATE mail_addresses SET state = 'confirmed', changed_at = $2 WHERE token = $1 AND state = 'pending'";
        with_pool!(self, pool => sqlx::query(sql).bind(token).bind(now).execute(pool).await.map(|_| ()))?;
        self.mail_address_by_token(token).await
    }

    /// Stops mail to the address whose link carried `token` (an unsubscribe), giving up
    /// what was waiting; the address as it now stands.
    pub async fn stop_mail_address(&self, token: &str, now: DateTime<Utc>) -> DbResult<Option<MailAddress>> {
        in_write!(self, tx => {
            let user: Option<UserId> = sqlx::query_scalar(
                "UPDATE mail_addresses SET state = 'stopped', problem = NULL, changed_at = $2 \
                 WHERE token = $1 RETURNING user_id",
            )
            .bind(token)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(user) = user {
                abandon_unsent!(tx, user, "unsubscribed", now);
            }
        });
        self.mail_address_by_token(token).await
    }

    /// Pauses `user`'s address if it is still `recipient` (the mail server refused it for
    /// good), giving up every mail waiting for it, this one included.
    pub async fn pause_mail_address(
        &self,
        user: UserId,
        recipient: &str,
        problem: &str,
        now: DateTime<Utc>,
    ) -> DbResult<()> {
        in_write!(self, tx => {
            sqlx::query(
                "UPDATE mail_addresses SET state = 'paused', problem = $3, changed_at = $4 \
                 WHERE user_id = $1 AND address = $2 AND state IN ('pending', 'confirmed')",
            )
            .bind(user)
            .bind(recipient)
            .bind(problem)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // Only what waits for that address: a new one's confirmation may be waiting too.
            sqlx::query(
                "UPDATE mail_outbox SET abandoned_at = $4, last_error = $3, lease_until = NULL \
                 WHERE user_id = $1 AND recipient = $2 AND sent_at IS NULL AND abandoned_at IS NULL",
            )
            .bind(user)
            .bind(recipient)
            .bind(problem)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Turns `user`'s daily agenda on at `minutes` past midnight (their zone), next due at
    /// `next`, or off (`None`); false when they have no address.
    pub async fn set_agenda(&self, user: UserId, agenda: Option<(u32, DateTime<Utc>)>) -> DbResult<bool> {
        let minutes = agenda.map(|(m, _)| i32::try_from(m).unwrap_or(0));
        let sql = "UPDATE mail_addresses SET agenda_minutes = $2, agenda_next_at = $3 WHERE user_id = $1";
        with_pool!(self, pool => sqlx::query(sql)
            .bind(user)
            .bind(minutes)
            .bind(agenda.map(|(_, next)| next))
            .execute(pool)
            .await
            .map(|r| r.rows_affected() > 0))
    }

    /// Queues each daily agenda due by `now` (to a confirmed address; one later than `grace`
    /// is skipped, as a missed reminder is) and moves it on to its next day. Instances may
    /// race: the key (user and day) queues it once, and the move is the same from any of them.
    pub async fn queue_due_agendas(&self, now: DateTime<Utc>, grace: chrono::Duration) -> DbResult<usize> {
        let due = "SELECT a.user_id, a.agenda_minutes, a.agenda_next_at, u.time_zone FROM mail_addresses a \
                   JOIN users u ON u.id = a.user_id WHERE a.agenda_next_at <= $1 AND a.agenda_minutes IS NOT NULL";
        let rows = with_pool!(self, pool => sqlx::query_as::<_, (UserId, i32, DateTime<Utc>, String)>(due)
            .bind(now)
            .fetch_all(pool)
            .await)?;
        let mut queued = 0;
        for (user, minutes, due_at, zone) in rows {
            let zone: Tz = zone.parse().unwrap_or(chrono_tz::UTC);
            let minutes = u32::try_from(minutes).unwrap_or(0);
            let day = due_at.with_timezone(&zone).date_naive();
            let (_, next) = next_agenda(minutes, zone, now);
            queued += in_write!(self, tx => {
                let made = if due_at >= now - grace {
                    let key = format!("agenda.{}.{}", user.0, day.format("%Y%m%d"));
                    sqlx::query(
                        "INSERT INTO mail_outbox (user_id, kind, message_key, recipient, created_at, next_attempt_at, agenda_day) \
                         SELECT user_id, 'agenda', $2, address, $3, $3, $4 FROM mail_addresses \
                         WHERE user_id = $1 AND state = 'confirmed' ON CONFLICT (message_key) DO NOTHING",
                    )
                    .bind(user)
                    .bind(key)
                    .bind(now)
                    .bind(day)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                } else {
                    0
                };
                sqlx::query("UPDATE mail_addresses SET agenda_next_at = $3 WHERE user_id = $1 AND agenda_next_at = $2")
                    .bind(user)
                    .bind(due_at)
                    .bind(next)
                    .execute(&mut *tx)
                    .await?;
                usize::try_from(made).unwrap_or(0)
            });
        }
        Ok(queued)
    }

    /// Claims up to `limit` mails due by `now` that no live lease holds, until `lease`.
    pub async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<OutgoingMail>> {
        let free = "sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $1 \
                    AND (lease_until IS NULL OR lease_until <= $1)";
        self.count_query();
        match &self.pool {
            Pool::Sqlite(pool) => {
                let sql = format!(
                    "UPDATE mail_outbox SET lease_until = $2 WHERE id IN \
                     (SELECT id FROM mail_outbox WHERE {free} ORDER BY next_attempt_at LIMIT $3) \
                     RETURNING {OUTGOING_COLUMNS}"
                );
                let mut tx = begin_write!(Sqlite, pool);
                let claimed = sqlx::query_as::<_, OutgoingMail>(&sql)
                    .bind(now)
                    .bind(lease)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(claimed)
            }
            Pool::Postgres(pool) => {
                let sql = format!(
                    "UPDATE mail_outbox SET lease_until = $2 WHERE id IN \
                     (SELECT id FROM mail_outbox WHERE {free} ORDER BY next_attempt_at LIMIT $3 \
                      FOR UPDATE SKIP LOCKED) RETURNING {OUTGOING_COLUMNS}"
                );
                sqlx::query_as::<_, OutgoingMail>(&sql)
                    .bind(now)
                    .bind(lease)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
            }
        }
    }

    /// The SMTP server took it.
    pub async fn mail_sent(&self, id: i64, now: DateTime<Utc>) -> DbResult<()> {
        let sql =
            "UPDATE mail_outbox SET sent_at = $2, lease_until = NULL, attempts = attempts + 1 WHERE id = $1";
        with_pool!(self, pool => sqlx::query(sql).bind(id).bind(now).execute(pool).await.map(|_| ()))
    }

    /// An attempt failed; the next is at `retry_at`.
    pub async fn mail_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> DbResult<()> {
        let sql = "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, \
                   lease_until = NULL WHERE id = $1";
        with_pool!(self, pool => sqlx::query(sql).bind(id).bind(error).bind(retry_at).execute(pool).await.map(|_| ()))
    }

    /// It will never go out, for this reason.
    pub async fn mail_abandoned(&self, id: i64, why: &str, now: DateTime<Utc>) -> DbResult<()> {
        let sql =
            "UPDATE mail_outbox SET abandoned_at = $3, last_error = $2, lease_until = NULL WHERE id = $1";
        with_pool!(self, pool => sqlx::query(sql).bind(id).bind(why).bind(now).execute(pool).await.map(|_| ()))
    }

    /// One of `user`'s notifications (what a reminder mail tells).
    pub async fn notification_of(&self, user: UserId, id: i64) -> DbResult<Option<super::Notification>> {
        let sql =
            format!("SELECT {} WHERE n.user_id = $1 AND n.id = $2", super::reminders::NOTIFICATION_COLUMNS);
        with_pool!(self, pool => sqlx::query_as::<_, super::Notification>(&sql).bind(user).bind(id).fetch_optional(pool).await)
    }

    /// What the admin page shows of mail as of `now`.
    pub async fn outbox_summary(&self, now: DateTime<Utc>) -> DbResult<OutboxSummary> {
        let waiting = "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND abandoned_at IS NULL";
        let waiting = with_pool!(self, pool => sqlx::query_scalar::<_, i64>(waiting).fetch_one(pool).await)?;
        let sent = "SELECT COUNT(*) FROM mail_outbox WHERE sent_at >= $1";
        let day_ago = now - chrono::Duration::days(1);
        let sent_today =
            with_pool!(self, pool => sqlx::query_scalar::<_, i64>(sent).bind(day_ago).fetch_one(pool).await)?;
        let troubles =
            "SELECT u.username, m.recipient, m.kind, m.attempts, m.last_error, m.next_attempt_at, \
                        m.abandoned_at, m.sent_at FROM mail_outbox m JOIN users u ON u.id = m.user_id \
                        WHERE m.last_error IS NOT NULL ORDER BY m.id DESC LIMIT 25";
        let troubles =
            with_pool!(self, pool => sqlx::query_as::<_, MailTrouble>(troubles).fetch_all(pool).await)?;
        let paused = "SELECT u.username, a.address, a.problem, a.changed_at FROM mail_addresses a \
                      JOIN users u ON u.id = a.user_id WHERE a.state = 'paused' ORDER BY a.changed_at DESC LIMIT 25";
        let paused =
            with_pool!(self, pool => sqlx::query_as::<_, PausedAddress>(paused).fetch_all(pool).await)?;
        Ok(OutboxSummary { waiting, sent_today, troubles, paused })
    }
}
