-- Flows: workflows and their immutable versions (a graph of steps each).
CREATE TABLE workflows (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    input_schema JSONB NOT NULL,
    reenrollment TEXT NOT NULL,
    concurrency_limit BIGINT NOT NULL,
    published_version BIGINT,
    latest_version BIGINT NOT NULL,
    template_slug TEXT,
    source TEXT NOT NULL,
    last_agent_actor_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX workflows_by_workspace ON workflows (workspace_id, id);

CREATE TABLE workflow_versions (
    workflow_id UUID NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    graph JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ,
    archived_at TIMESTAMPTZ,
    PRIMARY KEY (workflow_id, version)
);

-- Runs, each on the version it started on. A worker leases a run
-- (lease_owner, lease_until) to execute its current step; the step's
-- result and the run's next step are written in one transaction.
CREATE TABLE workflow_runs (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    workflow_id UUID NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    trigger_type TEXT NOT NULL,
    trigger_key TEXT,
    input JSONB NOT NULL,
    current_step TEXT,
    next_at TIMESTAMPTZ,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    error TEXT,
    source TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX workflow_runs_once_per_trigger ON workflow_runs (workflow_id, trigger_key);
CREATE INDEX workflow_runs_by_workspace ON workflow_runs (workspace_id, id);
CREATE INDEX workflow_runs_by_workflow ON workflow_runs (workflow_id, status);
CREATE INDEX workflow_runs_due ON workflow_runs (status, next_at);

-- Each attempt of each step: the per-step trace.
CREATE TABLE workflow_run_steps (
    run_id UUID NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    input JSONB NOT NULL,
    output JSONB,
    error TEXT,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (run_id, step_id, attempt)
);
