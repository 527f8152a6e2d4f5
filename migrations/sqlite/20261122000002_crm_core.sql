-- CRM core: firmographics, contacts and their companies, leads, deal stages, deals.

ALTER TABLE companies ADD COLUMN industry TEXT;
ALTER TABLE companies ADD COLUMN employee_count INTEGER;
ALTER TABLE companies ADD COLUMN annual_revenue_cents INTEGER;
ALTER TABLE companies ADD COLUMN country TEXT;
ALTER TABLE companies ADD COLUMN city TEXT;
ALTER TABLE companies ADD COLUMN phone TEXT;
ALTER TABLE companies ADD COLUMN description TEXT;
CREATE INDEX companies_by_owner ON companies (workspace_id, owner_id, id);

CREATE TABLE contacts (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    title TEXT,
    company_id BLOB REFERENCES companies(id),
    company_name TEXT,
    owner_id BLOB REFERENCES users(id),
    custom_fields TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX contacts_by_workspace ON contacts (workspace_id, id);
CREATE UNIQUE INDEX contacts_email_unique ON contacts (workspace_id, email) WHERE email IS NOT NULL;

CREATE TABLE contact_companies (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id BLOB NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    company_id BLOB NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    role TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (contact_id, company_id)
);
CREATE INDEX contact_companies_by_company ON contact_companies (company_id, contact_id);

CREATE TABLE leads (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    company_name TEXT,
    title TEXT,
    source TEXT NOT NULL CHECK (source IN ('manual', 'website', 'referral', 'campaign', 'import', 'api', 'mcp', 'other')),
    status TEXT NOT NULL CHECK (status IN ('new', 'working', 'qualified', 'disqualified', 'converted')),
    score INTEGER NOT NULL DEFAULT 0,
    owner_id BLOB REFERENCES users(id),
    custom_fields TEXT NOT NULL DEFAULT '{}',
    last_activity_at TEXT,
    converted_at TEXT,
    converted_contact_id BLOB REFERENCES contacts(id),
    converted_company_id BLOB REFERENCES companies(id),
    converted_deal_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX leads_by_workspace ON leads (workspace_id, id);
CREATE INDEX leads_by_status ON leads (workspace_id, status, id);
CREATE INDEX leads_by_email ON leads (workspace_id, email);

CREATE TABLE deal_stages (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    stage_key TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    color TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, stage_key)
);

CREATE TABLE deals (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    company_id BLOB REFERENCES companies(id),
    contact_id BLOB REFERENCES contacts(id),
    lead_id BLOB REFERENCES leads(id),
    stage_id BLOB NOT NULL REFERENCES deal_stages(id),
    amount_cents INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    expected_close_date TEXT,
    owner_id BLOB REFERENCES users(id),
    custom_fields TEXT NOT NULL DEFAULT '{}',
    closed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX deals_by_workspace ON deals (workspace_id, id);
CREATE INDEX deals_by_stage ON deals (workspace_id, stage_id, id);

-- Workspaces created before stages existed get the default pipeline.
INSERT INTO deal_stages (id, workspace_id, stage_key, name, position, kind, probability, color, created_at, updated_at)
SELECT randomblob(16), w.id, d.stage_key, d.name, d.position, d.kind, d.probability, d.color,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM workspaces w CROSS JOIN (
    SELECT 'new' AS stage_key, 'New' AS name, 0 AS position, 'open' AS kind, 10 AS probability, '#94a3b8' AS color
    UNION ALL SELECT 'qualified', 'Qualified', 1, 'open', 25, '#60a5fa'
    UNION ALL SELECT 'proposal', 'Proposal', 2, 'open', 50, '#a78bfa'
    UNION ALL SELECT 'negotiation', 'Negotiation', 3, 'open', 75, '#f59e0b'
    UNION ALL SELECT 'won', 'Closed won', 4, 'won', 100, '#10b981'
    UNION ALL SELECT 'lost', 'Closed lost', 5, 'lost', 0, '#ef4444'
) d;
