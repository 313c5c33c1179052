-- A private subscription feed per calendar (the user's own feed, of all calendars, stays on
-- users.feed_token). Unguessable: the token is the only key, so it is unique.
ALTER TABLE calendars ADD COLUMN feed_token TEXT;
CREATE UNIQUE INDEX calendars_feed_token ON calendars (feed_token) WHERE feed_token IS NOT NULL;
