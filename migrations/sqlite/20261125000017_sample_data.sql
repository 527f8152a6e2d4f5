-- Sample data: the records "Load sample data" (or `corral demo`) created
-- in a workspace, so "Remove sample data" deletes exactly those.
CREATE TABLE sample_records (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    record_type TEXT NOT NULL,
    record_id BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, record_type, record_id)
);

-- Posted entries stay immutable, except the sample data's own entries
-- (its invoices' and payments' postings), which "Remove sample data"
-- deletes with the rest of it.
DROP TRIGGER journal_entries_posted_no_delete;
CREATE TRIGGER journal_entries_posted_no_delete BEFORE DELETE ON journal_entries
WHEN OLD.status = 'posted' AND NOT EXISTS (
    SELECT 1 FROM sample_records s
    WHERE s.workspace_id = OLD.workspace_id AND s.record_type = 'journal_entry' AND s.record_id = OLD.id)
BEGIN SELECT RAISE(ABORT, 'posted journal entries are immutable'); END;
DROP TRIGGER journal_lines_posted_no_delete;
CREATE TRIGGER journal_lines_posted_no_delete BEFORE DELETE ON journal_lines
WHEN (SELECT status FROM journal_entries WHERE id = OLD.entry_id) = 'posted' AND NOT EXISTS (
    SELECT 1 FROM sample_records s
    WHERE s.workspace_id = OLD.workspace_id AND s.record_type = 'journal_entry' AND s.record_id = OLD.entry_id)
BEGIN SELECT RAISE(ABORT, 'posted journal entries are immutable'); END;
