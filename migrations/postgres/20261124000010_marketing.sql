-- Marketing: brands, email senders, campaigns, email sequences behind an
-- approval gate, the outbox they send through, the suppression list, the
-- built-in mailbox, and what happened to each message.

CREATE TABLE brands (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    from_name TEXT NOT NULL,
    from_email TEXT NOT NULL,
    reply_to TEXT,
    -- Appended to every message; carries the sender's postal address.
    footer TEXT NOT NULL,
    source TEXT NOT NULL,
    last_agent_actor_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX brands_name_unique ON brands (workspace_id, name);

-- How mail leaves: an SMTP server, or the built-in mailbox (one per
-- workspace) that keeps messages for the Mailbox page.
CREATE TABLE email_senders (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('smtp', 'mailbox')),
    host TEXT,
    port BIGINT,
    security TEXT CHECK (security IN ('starttls', 'tls', 'none')),
    username TEXT,
    -- Write-only: never returned by any read.
    password TEXT,
    per_minute_cap BIGINT NOT NULL,
    per_day_cap BIGINT NOT NULL,
    window_start_hour BIGINT NOT NULL,
    window_end_hour BIGINT NOT NULL,
    window_days JSONB NOT NULL,
    time_zone TEXT NOT NULL,
    -- Signs the bounce and complaint webhook of this sender.
    webhook_secret TEXT NOT NULL,
    source TEXT NOT NULL,
    last_agent_actor_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK ((kind = 'smtp') = (host IS NOT NULL AND port IS NOT NULL AND security IS NOT NULL))
);
CREATE UNIQUE INDEX email_senders_one_mailbox ON email_senders (workspace_id) WHERE kind = 'mailbox';

CREATE TABLE campaigns (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'ads', 'blog')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'completed', 'archived')),
    segment_id UUID REFERENCES lists(id) ON DELETE SET NULL,
    brand_id UUID REFERENCES brands(id) ON DELETE SET NULL,
    owner_id UUID REFERENCES users(id),
    source TEXT NOT NULL,
    last_agent_actor_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX campaigns_by_workspace ON campaigns (workspace_id, id);

CREATE TABLE email_sequences (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    campaign_id UUID NOT NULL REFERENCES campaigns(id),
    name TEXT NOT NULL,
    objective TEXT NOT NULL,
    segment_id UUID NOT NULL REFERENCES lists(id),
    brand_id UUID NOT NULL REFERENCES brands(id),
    sender_id UUID NOT NULL REFERENCES email_senders(id),
    -- [{"subject", "body"}], in order, and the day each goes out.
    steps JSONB NOT NULL,
    cadence_days JSONB NOT NULL,
    copy_source TEXT NOT NULL,
    track_opens BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'rejected', 'sending', 'completed', 'paused', 'cancelled')),
    -- Every change of what would be sent makes a new version.
    version BIGINT NOT NULL,
    start_at TIMESTAMPTZ,
    author_user_id UUID REFERENCES users(id),
    author_api_key_id UUID,
    -- What the last approval froze (the digest is re-checked before sends).
    approved_version BIGINT,
    approved_digest TEXT,
    approved_content JSONB,
    approved_by_user_id UUID REFERENCES users(id),
    approved_by_api_key_id UUID,
    approved_at TIMESTAMPTZ,
    recipient_count BIGINT,
    status_reason TEXT,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    source TEXT NOT NULL,
    last_agent_actor_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX email_sequences_by_workspace ON email_sequences (workspace_id, id);
CREATE INDEX email_sequences_by_status ON email_sequences (status);

-- The recipient snapshot an approval froze.
CREATE TABLE sequence_recipients (
    sequence_id UUID NOT NULL REFERENCES email_sequences(id) ON DELETE CASCADE,
    lead_id UUID NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- Set when the recipient's sequence stopped: replied, unsubscribed, bounced, complained.
    stopped_reason TEXT,
    PRIMARY KEY (sequence_id, lead_id)
);

CREATE TABLE approval_requests (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    sequence_id UUID NOT NULL REFERENCES email_sequences(id) ON DELETE CASCADE,
    sequence_version BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'void')),
    requested_by_user_id UUID REFERENCES users(id),
    requested_by_api_key_id UUID,
    decided_by_user_id UUID REFERENCES users(id),
    decided_by_api_key_id UUID,
    reason TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    decided_at TIMESTAMPTZ
);
CREATE INDEX approval_requests_by_status ON approval_requests (workspace_id, status, id);
CREATE INDEX approval_requests_by_sequence ON approval_requests (sequence_id, id);

-- One row per message: (sequence version, step, recipient) for sequences,
-- or a single email to a lead. A row is claimed ('sending') and committed
-- before the message is handed to the sender, so a crash leaves it
-- 'sending' and it becomes 'unknown', never sent twice.
CREATE TABLE email_outbox (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    sequence_id UUID REFERENCES email_sequences(id) ON DELETE CASCADE,
    sequence_version BIGINT,
    step_index BIGINT,
    lead_id UUID,
    sender_id UUID NOT NULL REFERENCES email_senders(id),
    to_email TEXT NOT NULL,
    -- Single emails carry their content; sequence rows render their step.
    subject TEXT,
    html_body TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unknown', 'skipped', 'cancelled')),
    due_at TIMESTAMPTZ NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    attempts BIGINT NOT NULL DEFAULT 0,
    sent_at TIMESTAMPTZ,
    message_id TEXT,
    detail TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (sequence_id, sequence_version, step_index, lead_id)
);
CREATE INDEX email_outbox_due ON email_outbox (status, due_at);
CREATE INDEX email_outbox_by_sequence ON email_outbox (sequence_id, step_index, status);
CREATE INDEX email_outbox_by_sender ON email_outbox (sender_id, sent_at);
CREATE INDEX email_outbox_by_lead ON email_outbox (workspace_id, lead_id);

-- Addresses nothing is sent to; imports and lead edits never touch it.
CREATE TABLE suppressions (
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('unsubscribed', 'hard_bounce', 'complaint', 'manual')),
    source TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, email)
);

CREATE TABLE mailbox_messages (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    outbox_id UUID,
    to_email TEXT NOT NULL,
    from_header TEXT NOT NULL,
    subject TEXT NOT NULL,
    html_body TEXT NOT NULL,
    -- The whole message as an SMTP server would have received it.
    raw TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX mailbox_messages_by_workspace ON mailbox_messages (workspace_id, id);

CREATE TABLE email_events (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    outbox_id UUID,
    sequence_id UUID,
    step_index BIGINT,
    lead_id UUID,
    kind TEXT NOT NULL CHECK (kind IN ('sent', 'delivered', 'bounced', 'opened', 'clicked', 'replied', 'unsubscribed', 'complained')),
    detail TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX email_events_by_sequence ON email_events (sequence_id, kind, step_index);
CREATE INDEX email_events_by_outbox ON email_events (outbox_id, kind);

-- Secrets the server signs links with, shared by every process.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- The workspace's OpenAI-compatible chat-completions endpoint, for copy.
CREATE TABLE chat_completion_settings (
    workspace_id UUID PRIMARY KEY NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    base_url TEXT NOT NULL,
    model TEXT NOT NULL,
    -- Write-only.
    api_key TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);
