-- Times are UTC instants. An all-day event is stored as dates: start_at is the first day at
-- 00:00 UTC and end_at the day after the last one at 00:00 UTC (exclusive), read back as
-- dates in any time zone. is_long marks events spanning more than 7 days, so range queries
-- can use a tight index range for the common case (see store/events.rs).
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    location    TEXT    NOT NULL DEFAULT '',
    all_day     BOOLEAN NOT NULL DEFAULT FALSE,
    start_at    TEXT    NOT NULL,
    end_at      TEXT    NOT NULL,
    is_long     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    CHECK (end_at >= start_at)
);
CREATE INDEX events_user_start ON events (user_id, start_at);
CREATE INDEX events_user_long ON events (user_id, start_at) WHERE is_long;
