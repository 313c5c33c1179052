-- Where a user's reminders are mailed. A new address is `pending` until the link mailed to it
-- is followed; `paused` when the mail server refused it for good; `stopped` when its owner
-- unsubscribed from a mail. The token is the secret in the confirm and unsubscribe links.
CREATE TABLE mail_addresses (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    token       TEXT    NOT NULL UNIQUE,
    problem     TEXT,
    changed_at  TIMESTAMPTZ NOT NULL
);
-- Mail waiting to go out, and what became of it. A row is written in the transaction that
-- decides the mail (a reminder's firing, an address change), so nothing decided is lost and
-- nothing is sent for a change that rolled back; `message_key` (the Message-ID's local part)
-- makes it once per reminder whatever instances race. Instances claim due rows with a lease (FOR UPDATE SKIP LOCKED).
CREATE TABLE mail_outbox (
    id               BIGSERIAL   PRIMARY KEY,
    user_id          BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,
    notification_id  BIGINT  REFERENCES notifications (id) ON DELETE CASCADE,
    message_key      TEXT    NOT NULL UNIQUE,
    recipient        TEXT    NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_until      TIMESTAMPTZ,
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    abandoned_at     TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX mail_outbox_user ON mail_outbox (user_id);
