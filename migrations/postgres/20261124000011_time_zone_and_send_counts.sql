-- A workspace has one time zone: send windows (and, later, dates in the UI)
-- are read in it. Senders had their own; a workspace takes its first SMTP
-- sender's, so no window moves on upgrade.
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
UPDATE workspaces SET time_zone = COALESCE(
    (SELECT s.time_zone FROM email_senders s WHERE s.workspace_id = workspaces.id AND s.kind = 'smtp' ORDER BY s.created_at LIMIT 1),
    'UTC');
ALTER TABLE email_senders DROP COLUMN time_zone;

-- The outbox's claim reads a sender's due rows in order, and a sequence's
-- open rows, without scanning the whole queue.
CREATE INDEX email_outbox_by_sender_due ON email_outbox (sender_id, status, due_at, id);
CREATE INDEX email_outbox_open_by_sequence ON email_outbox (sequence_id, status);

-- Messages handed to each sender per minute (minutes since the Unix epoch,
-- UTC): the caps read at most a day of these instead of counting the
-- outbox. Filled from the last day's sends on upgrade.
CREATE TABLE email_send_counts (
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    sender_id UUID NOT NULL REFERENCES email_senders(id) ON DELETE CASCADE,
    minute BIGINT NOT NULL,
    sent BIGINT NOT NULL,
    PRIMARY KEY (sender_id, minute)
);
INSERT INTO email_send_counts (workspace_id, sender_id, minute, sent)
SELECT workspace_id, sender_id, FLOOR(EXTRACT(EPOCH FROM sent_at) / 60)::BIGINT, COUNT(*) FROM email_outbox
WHERE status IN ('sending', 'sent', 'unknown') AND sent_at >= NOW() - INTERVAL '1 day'
GROUP BY workspace_id, sender_id, FLOOR(EXTRACT(EPOCH FROM sent_at) / 60)::BIGINT;
