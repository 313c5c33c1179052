-- CalDAV. An object (a plain event, or a series with its edited occurrences: the rows sharing
-- a UID) is one resource, named as its client named it when it was PUT (`dav_name`; NULL: its
-- UID followed by ".ics"). Its strong ETag is the calendar's change number of the object's
-- last change (`object_seq`, set on the series row by the write path), so listing ETags reads
-- one narrow row per object and never renders a body.
ALTER TABLE events ADD COLUMN dav_name TEXT;
ALTER TABLE events ADD COLUMN object_seq BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX events_dav_name ON events (calendar_id, dav_name) WHERE dav_name IS NOT NULL AND series_id IS NULL;
-- Edited occurrences by their end: which series have one in a queried range.
CREATE INDEX events_override_ends ON events (user_id, end_at) WHERE series_id IS NOT NULL;
-- A calendar made by MKCALENDAR keeps the path segment its client chose (NULL: its id).
ALTER TABLE calendars ADD COLUMN dav_name TEXT;
CREATE UNIQUE INDEX calendars_dav_name ON calendars (user_id, dav_name) WHERE dav_name IS NOT NULL;
-- A deleted object's name, for the sync report that announces the deletion (the row is gone).
ALTER TABLE calendar_changes ADD COLUMN dav_name TEXT;
-- What an event's iCalendar says that Eventide does not model (alarms, attendees, categories,
-- X- properties...), as content lines, written back on every export and GET: a phone's data
-- survives a round trip through Eventide instead of being dropped.
ALTER TABLE events ADD COLUMN extra TEXT NOT NULL DEFAULT '';
