-- Search reads its matches in time order from the index itself, a page at a time, instead of
-- reading every match's row to sort them: each entry's rowid is its event's start (in minutes,
-- clamped to 1842-2353, beyond time::YEARS) above its event id (35 bits), so FTS5 walks a
-- query's matches by start from any instant, forwards or backwards, and stops at the page's
-- end. The `calendar` column holds `c{calendar_id}`, so a query names the calendars it may
-- read and never walks another user's matches. store/search.rs computes the same key.
DROP TRIGGER events_fts_insert;
DROP TRIGGER events_fts_delete;
DROP TRIGGER events_fts_update;
DROP TABLE events_fts;

CREATE VIRTUAL TABLE events_fts USING fts5 (
    calendar, title, body,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO events_fts (rowid, calendar, title, body)
SELECT (max(0, min(coalesce(CAST(strftime('%s', start_at) AS INTEGER), 0) / 60 + 67108864, 268435455)) << 35) | id,
       'c' || calendar_id, search_title, search_text
FROM events;

CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_fts (rowid, calendar, title, body)
    VALUES ((max(0, min(coalesce(CAST(strftime('%s', new.start_at) AS INTEGER), 0) / 60 + 67108864, 268435455)) << 35) | new.id,
            'c' || new.calendar_id, new.search_title, new.search_text);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, calendar, title, body)
    VALUES ('delete', (max(0, min(coalesce(CAST(strftime('%s', old.start_at) AS INTEGER), 0) / 60 + 67108864, 268435455)) << 35) | old.id,
            'c' || old.calendar_id, old.search_title, old.search_text);
END;
-- Only what the index holds: the rest of an update (times stamped, reminders) leaves it be.
CREATE TRIGGER events_fts_update AFTER UPDATE OF start_at, calendar_id, search_title, search_text ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, calendar, title, body)
    VALUES ('delete', (max(0, min(coalesce(CAST(strftime('%s', old.start_at) AS INTEGER), 0) / 60 + 67108864, 268435455)) << 35) | old.id,
            'c' || old.calendar_id, old.search_title, old.search_text);
    INSERT INTO events_fts (rowid, calendar, title, body)
    VALUES ((max(0, min(coalesce(CAST(strftime('%s', new.start_at) AS INTEGER), 0) / 60 + 67108864, 268435455)) << 35) | new.id,
            'c' || new.calendar_id, new.search_title, new.search_text);
END;
