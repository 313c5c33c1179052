-- What admins did. Rows are only ever inserted: the UI has no way to change them.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    actor_id   INTEGER,
    actor_name TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at);
