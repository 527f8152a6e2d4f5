-- Flows: workflows and their immutable versions (a graph of steps each).
CREATE TABLE workflows (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    input_schema TEXT NOT NULL,
    reenrollment TEXT NOT NULL,
    concurrency_limit INTEGER NOT NULL,
    published_version INTEGER,
    latest_version INTEGER NOT NULL,
    template_slug TEXT,
    source TEXT NOT NULL,
    last_agent_actor_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX workflows_by_workspace ON workflows (workspace_id, id);

CREATE TABLE workflow_versions (
    workflow_id BLOB NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    graph TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT,
    archived_at TEXT,
    PRIMARY KEY (workflow_id, version)
);
