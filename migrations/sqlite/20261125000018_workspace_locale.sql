-- How a workspace writes numbers, money and dates (its time zone already
-- says when).
ALTER TABLE workspaces ADD COLUMN locale TEXT NOT NULL DEFAULT 'en-US';
