-- CRM core: firmographics, contacts and their companies, leads, deal stages, deals.

ALTER TABLE companies ADD COLUMN industry TEXT;
ALTER TABLE companies ADD COLUMN employee_count BIGINT;
ALTER TABLE companies ADD COLUMN annual_revenue_cents BIGINT;
ALTER TABLE companies ADD COLUMN country TEXT;
ALTER TABLE companies ADD COLUMN city TEXT;
ALTER TABLE companies ADD COLUMN phone TEXT;
ALTER TABLE companies ADD COLUMN description TEXT;
CREATE INDEX companies_by_owner ON companies (workspace_id, owner_id, id);

CREATE TABLE contacts (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    title TEXT,
    company_id UUID REFERENCES companies(id),
    company_name TEXT,
    owner_id UUID REFERENCES users(id),
    custom_fields JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX contacts_by_workspace ON contacts (workspace_id, id);
CREATE UNIQUE INDEX contacts_email_unique ON contacts (workspace_id, email) WHERE email IS NOT NULL;

CREATE TABLE contact_companies (
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id UUID NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    role TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (contact_id, company_id)
);
CREATE INDEX contact_companies_by_company ON contact_companies (company_id, contact_id);

CREATE TABLE leads (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    company_name TEXT,
    title TEXT,
    source TEXT NOT NULL CHECK (source IN ('manual', 'website', 'referral', 'campaign', 'import', 'api', 'mcp', 'other')),
    status TEXT NOT NULL CHECK (status IN ('new', 'working', 'qualified', 'disqualified', 'converted')),
    score BIGINT NOT NULL DEFAULT 0,
    owner_id UUID REFERENCES users(id),
    custom_fields JSONB NOT NULL DEFAULT '{}',
    last_activity_at TIMESTAMPTZ,
    converted_at TIMESTAMPTZ,
    converted_contact_id UUID REFERENCES contacts(id),
    converted_company_id UUID REFERENCES companies(id),
    converted_deal_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX leads_by_workspace ON leads (workspace_id, id);
CREATE INDEX leads_by_status ON leads (workspace_id, status, id);
CREATE INDEX leads_by_email ON leads (workspace_id, email);

CREATE TABLE deal_stages (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    stage_key TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    probability BIGINT NOT NULL CHECK (probability BETWEEN 0 AND 100),
    color TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, stage_key)
);

CREATE TABLE deals (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    company_id UUID REFERENCES companies(id),
    contact_id UUID REFERENCES contacts(id),
    lead_id UUID REFERENCES leads(id),
    stage_id UUID NOT NULL REFERENCES deal_stages(id),
    amount_cents BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    expected_close_date DATE,
    owner_id UUID REFERENCES users(id),
    custom_fields JSONB NOT NULL DEFAULT '{}',
    closed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX deals_by_workspace ON deals (workspace_id, id);
CREATE INDEX deals_by_stage ON deals (workspace_id, stage_id, id);

-- Workspaces created before stages existed get the default pipeline.
INSERT INTO deal_stages (id, workspace_id, stage_key, name, position, kind, probability, color, created_at, updated_at)
SELECT gen_random_uuid(), w.id, d.stage_key, d.name, d.position, d.kind, d.probability, d.color, now(), now()
FROM workspaces w CROSS JOIN (VALUES
    ('new', 'New', 0, 'open', 10, '#94a3b8'),
    ('qualified', 'Qualified', 1, 'open', 25, '#60a5fa'),
    ('proposal', 'Proposal', 2, 'open', 50, '#a78bfa'),
    ('negotiation', 'Negotiation', 3, 'open', 75, '#f59e0b'),
    ('won', 'Closed won', 4, 'won', 100, '#10b981'),
    ('lost', 'Closed lost', 5, 'lost', 0, '#ef4444')
) AS d(stage_key, name, position, kind, probability, color);
