-- Per-device passwords for CalDAV clients: random, high-entropy secrets, so a SHA-256 of the
-- secret is enough to store (no argon2 per request) and one indexed lookup checks it. Shown
-- once when made; revoking deletes the row.
CREATE TABLE app_passwords (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label         TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX app_passwords_user ON app_passwords (user_id);
