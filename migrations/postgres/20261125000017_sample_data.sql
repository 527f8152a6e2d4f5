-- Sample data: the records "Load sample data" (or `corral demo`) created
-- in a workspace, so "Remove sample data" deletes exactly those.
CREATE TABLE sample_records (
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    record_type TEXT NOT NULL,
    record_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, record_type, record_id)
);

-- Posted entries stay immutable, except the sample data's own entries
-- (its invoices' and payments' postings), which "Remove sample data"
-- deletes with the rest of it.
CREATE OR REPLACE FUNCTION journal_entry_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM sample_records s
        WHERE s.workspace_id = OLD.workspace_id AND s.record_type = 'journal_entry' AND s.record_id = OLD.id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'posted journal entries are immutable';
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION journal_line_guard() RETURNS trigger AS $$
DECLARE
    entry UUID;
BEGIN
    IF TG_OP = 'INSERT' THEN entry := NEW.entry_id; ELSE entry := OLD.entry_id; END IF;
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM sample_records s
        WHERE s.workspace_id = OLD.workspace_id AND s.record_type = 'journal_entry' AND s.record_id = OLD.entry_id) THEN
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM journal_entries WHERE id = entry AND status = 'posted') THEN
        RAISE EXCEPTION 'posted journal entries are immutable';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
