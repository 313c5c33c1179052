-- The optional daily agenda mail: the minute of the day (in the owner's zone) it goes out
-- at, and the next instant it is due (rewritten when it is queued, and when the zone
-- changes). The outbox row of an agenda names its day.
ALTER TABLE mail_addresses ADD COLUMN agenda_minutes INTEGER;
ALTER TABLE mail_addresses ADD COLUMN agenda_next_at TEXT;
CREATE INDEX mail_addresses_agenda ON mail_addresses (agenda_next_at) WHERE agenda_next_at IS NOT NULL;
ALTER TABLE mail_outbox ADD COLUMN agenda_day TEXT;
