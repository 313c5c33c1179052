-- A public read-only link per calendar: anyone with the token sees the calendar's page and
-- feed, without an account. `public_busy` gives times alone ("Busy"), never what. The token
-- is the only key (so it is unique); resetting it retires the old address at once.
ALTER TABLE calendars ADD COLUMN public_token TEXT;
ALTER TABLE calendars ADD COLUMN public_busy BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX calendars_public_token ON calendars (public_token) WHERE public_token IS NOT NULL;
