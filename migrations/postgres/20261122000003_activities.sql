-- Activities (calls, emails, meetings, notes) and tasks on CRM records.

CREATE TABLE activities (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    subject TEXT NOT NULL,
    body TEXT,
    occurred_at TIMESTAMPTZ NOT NULL,
    lead_id UUID REFERENCES leads(id) ON DELETE CASCADE,
    contact_id UUID REFERENCES contacts(id) ON DELETE CASCADE,
    company_id UUID REFERENCES companies(id) ON DELETE CASCADE,
    deal_id UUID REFERENCES deals(id) ON DELETE CASCADE,
    actor_user_id UUID REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX activities_by_workspace ON activities (workspace_id, id);
CREATE INDEX activities_by_lead ON activities (workspace_id, lead_id, id);
CREATE INDEX activities_by_actor ON activities (workspace_id, actor_user_id);

CREATE TABLE tasks (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    due_at TIMESTAMPTZ,
    assignee_id UUID REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    lead_id UUID REFERENCES leads(id) ON DELETE CASCADE,
    contact_id UUID REFERENCES contacts(id) ON DELETE CASCADE,
    company_id UUID REFERENCES companies(id) ON DELETE CASCADE,
    deal_id UUID REFERENCES deals(id) ON DELETE CASCADE,
    completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_by_workspace ON tasks (workspace_id, id);
CREATE INDEX tasks_by_assignee ON tasks (workspace_id, assignee_id, status);
