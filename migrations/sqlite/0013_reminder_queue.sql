-- The next time each reminder of each event row falls due: one row per (event, minutes
-- before), written in the transaction of every change to the event, so the scheduler reads
-- only what is due and a repeating event holds one row per reminder, never a list. An
-- instance claims a row by setting its lease; a crashed instance's lease runs out.
CREATE TABLE reminders_due (
    event_id     INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    minutes      INTEGER NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    occurrence   TEXT    NOT NULL,
    due_at       TEXT    NOT NULL,
    lease_until  TEXT,
    PRIMARY KEY (event_id, minutes)
);
CREATE INDEX reminders_due_at ON reminders_due (due_at);
-- What reminded the user in the app. One per occurrence and reminder: an instance that
-- fires one another already fired inserts nothing.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id    INTEGER REFERENCES events (id) ON DELETE SET NULL,
    occurrence  TEXT    NOT NULL,
    minutes     INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    read_at     TEXT,
    UNIQUE (event_id, occurrence, minutes)
);
CREATE INDEX notifications_user ON notifications (user_id, id);
