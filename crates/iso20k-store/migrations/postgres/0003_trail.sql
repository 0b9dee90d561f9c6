-- The audit trail becomes tamper-evident and compact.
--
-- Each entry gets its place in its organisation's trail (seq, 1, 2, 3...) and a SHA-256 hash of
-- its content and of the previous entry's hash; the organisation keeps the last place and hash,
-- so removing entries from the end shows too. An update now stores only the fields that changed
-- (diff) and a create from a bulk import only the body's SHA-256 (digest): the record itself
-- holds the body, and the diffs lead back from it to every earlier version. Entries written
-- before this migration are sealed into the chain when the store is next opened.
ALTER TABLE changes ADD COLUMN seq BIGINT;
ALTER TABLE changes ADD COLUMN diff TEXT;
ALTER TABLE changes ADD COLUMN digest TEXT;
ALTER TABLE changes ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX changes_seq ON changes (org_id, seq);

ALTER TABLE orgs ADD COLUMN trail_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN trail_head TEXT NOT NULL DEFAULT '';
