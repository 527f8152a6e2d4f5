-- Ads: ad accounts per platform, ad campaigns with creatives behind the
-- same approval gate as email sequences, the audience snapshot an approval
-- froze, the jobs that talk to the platforms, and daily metrics.

-- The approval gate serves sequences, ad campaigns and blog posts: a
-- request names its subject and the version it covers.
CREATE TABLE approval_requests_new (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('email_sequence', 'ad_campaign', 'blog_post')),
    subject_id BLOB NOT NULL,
    subject_version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'void')),
    requested_by_user_id BLOB REFERENCES users(id),
    requested_by_api_key_id BLOB,
    decided_by_user_id BLOB REFERENCES users(id),
    decided_by_api_key_id BLOB,
    reason TEXT,
    created_at TEXT NOT NULL,
    decided_at TEXT
);
INSERT INTO approval_requests_new (id, workspace_id, subject_type, subject_id, subject_version, status, requested_by_user_id,
    requested_by_api_key_id, decided_by_user_id, decided_by_api_key_id, reason, created_at, decided_at)
SELECT id, workspace_id, 'email_sequence', sequence_id, sequence_version, status, requested_by_user_id, requested_by_api_key_id,
    decided_by_user_id, decided_by_api_key_id, reason, created_at, decided_at FROM approval_requests;
DROP TABLE approval_requests;
ALTER TABLE approval_requests_new RENAME TO approval_requests;
CREATE INDEX approval_requests_by_status ON approval_requests (workspace_id, status, id);
CREATE INDEX approval_requests_by_subject ON approval_requests (subject_type, subject_id, id);

CREATE TABLE ad_accounts (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform TEXT NOT NULL CHECK (platform IN ('google', 'linkedin', 'meta')),
    name TEXT NOT NULL,
    -- Google customer id, LinkedIn sponsored account id, Meta ad account id.
    external_account_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    -- The platform's API root; set only to reach a proxy or a test server.
    api_base_url TEXT,
    -- Write-only: access token, developer token, campaign group; never returned.
    credentials TEXT NOT NULL,
    source TEXT NOT NULL,
    last_agent_actor_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX ad_accounts_unique ON ad_accounts (workspace_id, platform, external_account_id);

CREATE TABLE ad_campaigns (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    campaign_id BLOB NOT NULL REFERENCES campaigns(id),
    ad_account_id BLOB NOT NULL REFERENCES ad_accounts(id),
    platform TEXT NOT NULL CHECK (platform IN ('google', 'linkedin', 'meta')),
    name TEXT NOT NULL,
    objective TEXT NOT NULL CHECK (objective IN ('leads', 'traffic', 'awareness')),
    daily_budget_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    segment_id BLOB NOT NULL REFERENCES lists(id),
    brand_id BLOB NOT NULL REFERENCES brands(id),
    start_date TEXT,
    end_date TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'rejected', 'launching', 'active', 'paused',
        'cancelled', 'completed', 'failed')),
    version INTEGER NOT NULL,
    author_user_id BLOB REFERENCES users(id),
    author_api_key_id BLOB,
    approved_version INTEGER,
    approved_digest TEXT,
    approved_content TEXT,
    approved_daily_budget_minor INTEGER,
    approved_by_user_id BLOB REFERENCES users(id),
    approved_by_api_key_id BLOB,
    approved_at TEXT,
    audience_count INTEGER,
    external_campaign_id TEXT,
    -- Google's campaign budget resource; LinkedIn and Meta keep the budget on the campaign.
    external_budget_id TEXT,
    status_reason TEXT,
    launched_at TEXT,
    source TEXT NOT NULL,
    last_agent_actor_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ad_campaigns_by_workspace ON ad_campaigns (workspace_id, id);
CREATE INDEX ad_campaigns_by_campaign ON ad_campaigns (campaign_id);

CREATE TABLE ad_creatives (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    ad_campaign_id BLOB NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    headline TEXT NOT NULL,
    description TEXT NOT NULL,
    call_to_action TEXT NOT NULL,
    final_url TEXT NOT NULL,
    image_url TEXT,
    UNIQUE (ad_campaign_id, position)
);

-- The audience an approval froze: normalised identifiers, hashed per
-- platform only when they leave.
CREATE TABLE ad_audience_members (
    ad_campaign_id BLOB NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    lead_id BLOB NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT,
    phone TEXT,
    PRIMARY KEY (ad_campaign_id, lead_id)
);

-- The platform audience of a campaign and how its upload went.
CREATE TABLE ad_audiences (
    ad_campaign_id BLOB PRIMARY KEY NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    external_audience_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'uploading', 'uploaded', 'failed')),
    member_count INTEGER NOT NULL,
    uploaded_count INTEGER NOT NULL,
    -- What the platform reported as received or matched, when it does.
    matched_count INTEGER,
    detail TEXT,
    updated_at TEXT NOT NULL
);

-- Work that talks to a platform: launch, status and budget changes,
-- metric syncs. Enqueued in the transaction of the change; leased.
CREATE TABLE ad_jobs (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    ad_campaign_id BLOB NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('launch', 'set_status', 'set_budget', 'sync_metrics')),
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX ad_jobs_due ON ad_jobs (status, due_at);
CREATE INDEX ad_jobs_by_campaign ON ad_jobs (ad_campaign_id, id);

CREATE TABLE ad_metrics_daily (
    ad_campaign_id BLOB NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    spend_minor INTEGER NOT NULL,
    impressions INTEGER NOT NULL,
    clicks INTEGER NOT NULL,
    conversions INTEGER NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (ad_campaign_id, day)
);
CREATE INDEX ad_metrics_by_workspace ON ad_metrics_daily (workspace_id, day);
