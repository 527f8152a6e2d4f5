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
