CREATE TABLE users (
    id            BIGSERIAL   PRIMARY KEY,
    username      TEXT        NOT NULL,
    -- lower-cased username: uniqueness is case-insensitive on both engines
    username_key  TEXT        NOT NULL UNIQUE,
    password_hash TEXT        NOT NULL,
    is_admin      BOOLEAN     NOT NULL DEFAULT FALSE,
    is_active     BOOLEAN     NOT NULL DEFAULT TRUE,
    time_zone     TEXT        NOT NULL DEFAULT 'UTC',
    -- 0 = Sunday ... 6 = Saturday
    week_start    SMALLINT    NOT NULL DEFAULT 1 CHECK (week_start BETWEEN 0 AND 6),
    -- bumped when every session of the user must end (password change, deactivation)
    session_epoch BIGINT  NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ
);
