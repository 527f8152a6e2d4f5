-- Ads: ad accounts per platform, ad campaigns with creatives behind the
-- same approval gate as email sequences, the audience snapshot an approval
-- froze, the jobs that talk to the platforms, and daily metrics.

-- The approval gate serves sequences, ad campaigns and blog posts: a
-- request names its subject and the version it covers.
ALTER TABLE approval_requests ADD COLUMN subject_type TEXT NOT NULL DEFAULT 'email_sequence'
    CHECK (subject_type IN ('email_sequence', 'ad_campaign', 'blog_post'));
ALTER TABLE approval_requests ALTER COLUMN subject_type DROP DEFAULT;
ALTER TABLE approval_requests RENAME COLUMN sequence_id TO subject_id;
ALTER TABLE approval_requests RENAME COLUMN sequence_version TO subject_version;
ALTER TABLE approval_requests DROP CONSTRAINT approval_requests_sequence_id_fkey;
DROP INDEX approval_requests_by_sequence;
CREATE INDEX approval_requests_by_subject ON approval_requests (subject_type, subject_id, id);

CREATE TABLE ad_accounts (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform TEXT NOT NULL CHECK (platform IN ('google', 'linkedin', 'meta')),
    name TEXT NOT NULL,
    -- Google customer id, LinkedIn sponsored account id, Meta ad account id.
    external_account_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    -- The platform's API root; set only to reach a proxy or a test server.
    api_base_url TEXT,
    -- Write-only: access token, developer token, campaign group; never returned.
    credentials JSONB NOT NULL,
    source TEXT NOT NULL,
    last_agent_actor_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX ad_accounts_unique ON ad_accounts (workspace_id, platform, external_account_id);

CREATE TABLE ad_campaigns (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    campaign_id UUID NOT NULL REFERENCES campaigns(id),
    ad_account_id UUID NOT NULL REFERENCES ad_accounts(id),
    platform TEXT NOT NULL CHECK (platform IN ('google', 'linkedin', 'meta')),
    name TEXT NOT NULL,
    objective TEXT NOT NULL CHECK (objective IN ('leads', 'traffic', 'awareness')),
    daily_budget_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    segment_id UUID NOT NULL REFERENCES lists(id),
    brand_id UUID NOT NULL REFERENCES brands(id),
    start_date DATE,
    end_date DATE,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'rejected', 'launching', 'active', 'paused',
        'cancelled', 'completed', 'failed')),
    version BIGINT NOT NULL,
    author_user_id UUID REFERENCES users(id),
    author_api_key_id UUID,
    approved_version BIGINT,
    approved_digest TEXT,
    approved_content JSONB,
    approved_daily_budget_minor BIGINT,
    approved_by_user_id UUID REFERENCES users(id),
    approved_by_api_key_id UUID,
    approved_at TIMESTAMPTZ,
    audience_count BIGINT,
    external_campaign_id TEXT,
    -- Google's campaign budget resource; LinkedIn and Meta keep the budget on the campaign.
    external_budget_id TEXT,
    status_reason TEXT,
    launched_at TIMESTAMPTZ,
    source TEXT NOT NULL,
    last_agent_actor_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ad_campaigns_by_workspace ON ad_campaigns (workspace_id, id);
CREATE INDEX ad_campaigns_by_campaign ON ad_campaigns (campaign_id);

CREATE TABLE ad_creatives (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    ad_campaign_id UUID NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
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
    ad_campaign_id UUID NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    lead_id UUID NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT,
    phone TEXT,
    PRIMARY KEY (ad_campaign_id, lead_id)
);

-- The platform audience of a campaign and how its upload went.
CREATE TABLE ad_audiences (
    ad_campaign_id UUID PRIMARY KEY NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    external_audience_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'uploading', 'uploaded', 'failed')),
    member_count BIGINT NOT NULL,
    uploaded_count BIGINT NOT NULL,
    -- What the platform reported as received or matched, when it does.
    matched_count BIGINT,
    detail TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Work that talks to a platform: launch, status and budget changes,
-- metric syncs. Enqueued in the transaction of the change; leased.
CREATE TABLE ad_jobs (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    ad_campaign_id UUID NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('launch', 'set_status', 'set_budget', 'sync_metrics')),
    payload JSONB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    due_at TIMESTAMPTZ NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX ad_jobs_due ON ad_jobs (status, due_at);
CREATE INDEX ad_jobs_by_campaign ON ad_jobs (ad_campaign_id, id);

CREATE TABLE ad_metrics_daily (
    ad_campaign_id UUID NOT NULL REFERENCES ad_campaigns(id) ON DELETE CASCADE,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    day DATE NOT NULL,
    spend_minor BIGINT NOT NULL,
    impressions BIGINT NOT NULL,
    clicks BIGINT NOT NULL,
    conversions BIGINT NOT NULL,
    synced_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ad_campaign_id, day)
);
CREATE INDEX ad_metrics_by_workspace ON ad_metrics_daily (workspace_id, day);
