-- Sharing: a calendar's owner gives another user `read`, `write` or `busy` (times only) access.
-- The recipient's own colour and visibility for it live on the share, not on the calendar, so
-- recolouring or hiding it changes nothing for the owner or anyone else. A share ends with the
-- calendar or the recipient (cascade); a deactivation deletes the user's shares in its own
-- statement.
CREATE TABLE calendar_shares (
    calendar_id BIGINT      NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access      TEXT        NOT NULL CHECK (access IN ('read', 'write', 'busy')),
    color       TEXT,
    shown       BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (calendar_id, user_id)
);
CREATE INDEX calendar_shares_recipient ON calendar_shares (user_id);
-- Who made each logged change: the owner, or a recipient with write access.
ALTER TABLE calendar_changes ADD COLUMN author_id BIGINT;
