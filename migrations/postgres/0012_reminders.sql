-- An event's reminders: minutes before each occurrence (`10,60`; empty: none), written by the
-- event form and read from (and written back as) iCalendar VALARMs.
ALTER TABLE events ADD COLUMN reminders TEXT NOT NULL DEFAULT '';
