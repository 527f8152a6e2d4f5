-- Activities (calls, emails, meetings, notes) and tasks on CRM records.

CREATE TABLE activities (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    subject TEXT NOT NULL,
    body TEXT,
    occurred_at TEXT NOT NULL,
    lead_id BLOB REFERENCES leads(id) ON DELETE CASCADE,
    contact_id BLOB REFERENCES contacts(id) ON DELETE CASCADE,
    company_id BLOB REFERENCES companies(id) ON DELETE CASCADE,
    deal_id BLOB REFERENCES deals(id) ON DELETE CASCADE,
    actor_user_id BLOB REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX activities_by_workspace ON activities (workspace_id, id);
CREATE INDEX activities_by_lead ON activities (workspace_id, lead_id, id);
CREATE INDEX activities_by_actor ON activities (workspace_id, actor_user_id);

CREATE TABLE tasks (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    due_at TEXT,
    assignee_id BLOB REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    lead_id BLOB REFERENCES leads(id) ON DELETE CASCADE,
    contact_id BLOB REFERENCES contacts(id) ON DELETE CASCADE,
    company_id BLOB REFERENCES companies(id) ON DELETE CASCADE,
    deal_id BLOB REFERENCES deals(id) ON DELETE CASCADE,
    completed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tasks_by_workspace ON tasks (workspace_id, id);
CREATE INDEX tasks_by_assignee ON tasks (workspace_id, assignee_id, status);
