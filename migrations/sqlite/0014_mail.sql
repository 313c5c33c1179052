-- Where a user's reminders are mailed. A new address is `pending` until the link mailed to it
-- is followed; `paused` when the mail server refused it for good; `stopped` when its owner
-- unsubscribed from a mail. The token is the secret in the confirm and unsubscribe links.
CREATE TABLE mail_addresses (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    token       TEXT    NOT NULL UNIQUE,
    problem     TEXT,
    changed_at  TEXT    NOT NULL
);
-- Mail waiting to go out, and what became of it. A row is written in the transaction that
-- decides the mail (a reminder's firing, an address change), so nothing decided is lost and
-- nothing is sent for a change that rolled back; `message_key` (the Message-ID's local part)
-- makes it once per reminder whatever instances race. Instances claim due rows with a lease.
CREATE TABLE mail_outbox (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,
    notification_id  INTEGER REFERENCES notifications (id) ON DELETE CASCADE,
    message_key      TEXT    NOT NULL UNIQUE,
    recipient        TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    next_attempt_at  TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_until      TEXT,
    last_error       TEXT,
    sent_at          TEXT,
    abandoned_at     TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX mail_outbox_user ON mail_outbox (user_id);
