-- Flow triggers: what starts a workflow, domain events that start and wake
-- runs, signed webhooks in and out, and run retention.

-- Signs inbound webhooks, outgoing lifecycle webhooks and send_webhook steps.
ALTER TABLE workflows ADD COLUMN signing_secret TEXT;
-- Where run lifecycle events (started, waiting, succeeded, failed) are sent.
ALTER TABLE workflows ADD COLUMN notify_url TEXT;

-- External triggers: an event (with filters) or a signed inbound webhook
-- that starts runs of a workflow's published version.
CREATE TABLE workflow_triggers (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    workflow_id UUID NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('event', 'webhook')),
    -- The event listened for ('webhook.received' for webhooks).
    event TEXT NOT NULL,
    -- segment_id, form_id, stage_id, threshold.
    filters JSONB NOT NULL,
    active BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX workflow_triggers_by_event ON workflow_triggers (workspace_id, event);
CREATE INDEX workflow_triggers_by_workflow ON workflow_triggers (workflow_id);

-- The record a run is about (for re-enrollment and for event waits).
ALTER TABLE workflow_runs ADD COLUMN subject_id TEXT;
-- The event a waiting run waits for, and the event that woke it.
ALTER TABLE workflow_runs ADD COLUMN wait_event TEXT;
ALTER TABLE workflow_runs ADD COLUMN woken_by JSONB;
CREATE INDEX workflow_runs_by_subject ON workflow_runs (workflow_id, subject_id);
CREATE INDEX workflow_runs_waiting_for ON workflow_runs (workspace_id, wait_event, subject_id);
CREATE INDEX workflow_runs_finished ON workflow_runs (workspace_id, finished_at);

-- Events written in the transaction of the change they describe; the flow
-- worker turns each into runs (once per event and workflow) and wakes the
-- runs waiting for it. `dedup_key` makes a redelivered event a no-op.
CREATE TABLE domain_events (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    subject_id TEXT,
    data JSONB NOT NULL,
    dedup_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    dispatched_at TIMESTAMPTZ,
    lease_until TIMESTAMPTZ
);
CREATE UNIQUE INDEX domain_events_dedup ON domain_events (workspace_id, dedup_key);
CREATE INDEX domain_events_pending ON domain_events (dispatched_at, created_at);

-- Signed outgoing webhooks (run lifecycle events and send_webhook steps
-- are not here: steps call directly), retried with backoff.
CREATE TABLE webhook_deliveries (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    workflow_id UUID NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    run_id UUID,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    body JSONB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_at TIMESTAMPTZ NOT NULL,
    lease_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_by_run ON webhook_deliveries (run_id);

-- Finished runs older than this many days are pruned (none when NULL).
ALTER TABLE workspaces ADD COLUMN flow_run_retention_days BIGINT;
