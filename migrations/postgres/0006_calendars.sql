-- Several calendars per user. Every event belongs to one; each user has exactly one default
-- calendar (where events go when none is named). change_seq is the calendar's last change
-- number: the write path takes the next one inside the transaction that makes the change,
-- under the calendar row's write lock, so numbers are committed in order (sync tokens).
CREATE TABLE calendars (
    id          BIGSERIAL   PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL,
    color       TEXT        NOT NULL,
    position    INTEGER     NOT NULL DEFAULT 0,
    shown       BOOLEAN     NOT NULL DEFAULT TRUE,
    is_default  BOOLEAN     NOT NULL DEFAULT FALSE,
    change_seq  BIGINT      NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX calendars_user ON calendars (user_id, position);
CREATE UNIQUE INDEX calendars_one_default ON calendars (user_id) WHERE is_default;

-- One row per created, updated or deleted object (a series with its edited occurrences is one
-- object, named by its UID), numbered per calendar. Pruned by age, never by count.
CREATE TABLE calendar_changes (
    calendar_id BIGINT      NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    seq         BIGINT      NOT NULL,
    uid         TEXT        NOT NULL,
    kind        TEXT        NOT NULL CHECK (kind IN ('created', 'updated', 'deleted')),
    changed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (calendar_id, seq)
);
CREATE INDEX calendar_changes_age ON calendar_changes (changed_at);

-- Every existing user's events move into a default calendar of their own.
INSERT INTO calendars (user_id, name, color, position, shown, is_default, created_at)
SELECT id, 'Personal', '#1a73e8', 0, TRUE, TRUE, now() FROM users;
ALTER TABLE events ADD COLUMN calendar_id BIGINT REFERENCES calendars (id) ON DELETE CASCADE;
UPDATE events SET calendar_id = (SELECT c.id FROM calendars c WHERE c.user_id = events.user_id AND c.is_default);
ALTER TABLE events ALTER COLUMN calendar_id SET NOT NULL;
CREATE INDEX events_calendar ON events (calendar_id);
