-- Times are fixed-width RFC 3339 UTC text ("2026-11-26T09:35:07.123Z"), so comparing the text
-- compares the times. The PostgreSQL schema mirrors this one column for column.

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE memberships (
    org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- The key is bounded so that the primary key fits a PostgreSQL index entry; both engines enforce
-- the same rule, so an import that passes on one passes on the other.
CREATE TABLE records (
    org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CONSTRAINT record_kind CHECK (length(kind) BETWEEN 1 AND 100),
    key TEXT NOT NULL CONSTRAINT record_key CHECK (length(key) BETWEEN 1 AND 500),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (org_id, kind, key)
);

CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    before_body TEXT,
    after_body TEXT
);
CREATE INDEX changes_org ON changes (org_id, id);
CREATE INDEX changes_record ON changes (org_id, kind, key, id);

-- The file's bytes come last so that listing metadata never reads the blob's overflow pages.
CREATE TABLE evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CONSTRAINT evidence_kind CHECK (length(kind) BETWEEN 1 AND 100),
    key TEXT NOT NULL CONSTRAINT evidence_key CHECK (length(key) BETWEEN 1 AND 500),
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX evidence_record ON evidence (org_id, kind, key, id);

CREATE TABLE readiness (
    org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    edition TEXT NOT NULL,
    as_of TEXT NOT NULL,
    revision INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (org_id, edition, as_of)
);
