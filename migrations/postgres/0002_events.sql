-- Times are UTC instants. An all-day event is stored as dates: start_at is the first day at
-- 00:00 UTC and end_at the day after the last one at 00:00 UTC (exclusive), read back as
-- dates in any time zone. is_long marks events spanning more than 7 days, so range queries
-- can use a tight index range for the common case (see store/events.rs).
CREATE TABLE events (
    id          BIGSERIAL   PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    location    TEXT        NOT NULL DEFAULT '',
    all_day     BOOLEAN     NOT NULL DEFAULT FALSE,
    start_at    TIMESTAMPTZ NOT NULL,
    end_at      TIMESTAMPTZ NOT NULL,
    is_long     BOOLEAN     NOT NULL DEFAULT FALSE,
    -- case- and accent-folded text for search, written by the store (search/text.rs)
    search_title TEXT       NOT NULL DEFAULT '',
    search_text  TEXT       NOT NULL DEFAULT '',
    search_title_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_title)) STORED,
    search_all  tsvector    GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CHECK (end_at >= start_at)
);
CREATE INDEX events_user_start ON events (user_id, start_at);
CREATE INDEX events_user_long ON events (user_id, start_at) WHERE is_long;
CREATE INDEX events_search ON events USING GIN (search_all);
