-- Accounts, devices, dreams with their sync state, the per-user event stream, projects.
-- Times are Unix milliseconds (UTC). Every table but `users` is keyed by its user.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    -- Cursor of the user's latest event; writers update this row first, which also
    -- serialises one user's writes.
    last_cursor INTEGER NOT NULL DEFAULT 0
);

-- One row per paired browser or scripted client. Only the SHA-256 of the token is kept.
CREATE TABLE devices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    -- The sync device id ("dev-…") of changes made through REST with this token.
    device_key  TEXT    NOT NULL UNIQUE,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX devices_by_user ON devices (user_id);

-- Short-lived, single-use codes a device exchanges for a token. Only the hash is kept.
CREATE TABLE pairing_codes (
    code_hash   TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

-- The sync crate's StoredDreamState as JSON (the dream, its change marks, the tombstone).
CREATE TABLE dreams (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
);

-- Every processed operation id: a resent operation is answered, not applied again.
CREATE TABLE applied_ops (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    op_id       TEXT    NOT NULL,
    dream_id    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, op_id)
);

-- The user's event stream; devices catch up from their last cursor.
CREATE TABLE events (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cursor      INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, cursor)
);

-- Projects made from dreams by "implement", and what the orchestrator reported.
CREATE TABLE projects (
    id          TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dream_id    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    project     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX projects_by_dream ON projects (user_id, dream_id);
