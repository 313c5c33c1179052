-- Recurrence and iCalendar. A series is one row (its first occurrence in start_at/end_at, the
-- rule in rrule, expanded in tzid for the visible range only); an edited occurrence is its own
-- row pointing at the series (series_id) with the start it replaces (recurrence_id), as
-- RECURRENCE-ID does in RFC 5545. exdates lists cancelled occurrences (UTC, space-separated).
-- repeats_until bounds the series (NULL: endless) so range reads skip finished ones.
ALTER TABLE events ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN rrule TEXT;
ALTER TABLE events ADD COLUMN tzid TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE events ADD COLUMN exdates TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN repeats_until TEXT;
ALTER TABLE events ADD COLUMN series_id INTEGER REFERENCES events (id) ON DELETE CASCADE;
ALTER TABLE events ADD COLUMN recurrence_id TEXT;
UPDATE events SET uid = lower(hex(randomblob(16))) || '@eventide' WHERE uid = '';
CREATE INDEX events_user_series ON events (user_id, start_at) WHERE rrule IS NOT NULL;
CREATE UNIQUE INDEX events_user_uid ON events (user_id, uid) WHERE series_id IS NULL;
CREATE UNIQUE INDEX events_overrides ON events (series_id, recurrence_id) WHERE series_id IS NOT NULL;
CREATE INDEX events_user_overrides ON events (user_id, recurrence_id) WHERE series_id IS NOT NULL;

-- The private subscription feed: the token is the key (no session), NULL until asked for.
ALTER TABLE users ADD COLUMN feed_token TEXT;
CREATE UNIQUE INDEX users_feed_token ON users (feed_token) WHERE feed_token IS NOT NULL;
