-- Reminders: a member may opt out of the daily digest e-mail; a member's calendar feed is
-- opened by a secret whose SHA-256 alone is kept (one feed per membership, a new one replaces
-- the old); and the digests sent are remembered per member and day, so that a restart, or a
-- second server on the database, does not send the same day's digest twice.
ALTER TABLE memberships ADD COLUMN digest_opt_out BIGINT NOT NULL DEFAULT 0;

CREATE TABLE calendars (
    hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (org_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);

CREATE TABLE digests_sent (
    org_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    day TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, user_id, day),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
