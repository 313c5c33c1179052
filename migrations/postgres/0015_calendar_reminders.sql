-- The reminders a new event in the calendar starts with: for timed events (minutes before)
-- and for all-day ones (minutes before the day's midnight: 900 is 09:00 the day before), in
-- the events' own column format (`10,60`; empty: none).
ALTER TABLE calendars ADD COLUMN default_reminders TEXT NOT NULL DEFAULT '';
ALTER TABLE calendars ADD COLUMN default_all_day_reminders TEXT NOT NULL DEFAULT '';
