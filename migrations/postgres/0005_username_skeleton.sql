-- The confusable skeleton (Unicode TR 39) of the lower-cased name: `аdmin` (Cyrillic а),
-- `ａｄｍｉｎ` and `admin` share one, so the unique index refuses look-alikes of a name.
-- Filled at launch for rows from before this column; NULL where an older look-alike exists.
ALTER TABLE users ADD COLUMN username_skeleton TEXT;
CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton);
