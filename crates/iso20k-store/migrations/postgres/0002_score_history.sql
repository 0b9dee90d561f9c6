-- The overall readiness score an organisation had on each day, as of that day, for the trend.
-- Kept apart from the report cache: a report for a past date computed today judges today's
-- records, which is not what the score was then.
CREATE TABLE score_history (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    edition TEXT NOT NULL,
    day TEXT COLLATE "C" NOT NULL,
    revision BIGINT NOT NULL,
    overall DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (org_id, edition, day)
);
