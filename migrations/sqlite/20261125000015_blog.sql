-- Blog: posts written in Markdown, approved through the marketing gate,
-- published by jobs to a CMS connector (WordPress, Ghost, Webflow, Sanity).

CREATE TABLE blog_connectors (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('wordpress', 'ghost', 'webflow', 'sanity')),
    name TEXT NOT NULL,
    -- The site (WordPress, Ghost), the API root (Webflow, Sanity).
    base_url TEXT NOT NULL,
    -- Kind-specific, not secret: username, collection id, project, dataset, URL pattern.
    settings TEXT NOT NULL,
    -- Write-only: application password, Admin API key, API token.
    credentials TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX blog_connectors_by_workspace ON blog_connectors (workspace_id, id);

CREATE TABLE blog_posts (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    campaign_id BLOB REFERENCES campaigns(id) ON DELETE SET NULL,
    connector_id BLOB REFERENCES blog_connectors(id),
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    excerpt TEXT NOT NULL,
    tags TEXT NOT NULL,
    cover_image_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'rejected', 'scheduled', 'publishing', 'published',
        'failed', 'cancelled')),
    version INTEGER NOT NULL,
    author_user_id BLOB REFERENCES users(id),
    author_api_key_id BLOB,
    approved_version INTEGER,
    approved_digest TEXT,
    approved_content TEXT,
    approved_by_user_id BLOB REFERENCES users(id),
    approved_by_api_key_id BLOB,
    approved_at TEXT,
    publish_at TEXT,
    external_id TEXT,
    published_url TEXT,
    published_at TEXT,
    status_reason TEXT,
    source TEXT NOT NULL,
    last_agent_actor_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX blog_posts_slug ON blog_posts (workspace_id, slug);
CREATE INDEX blog_posts_by_workspace ON blog_posts (workspace_id, id);

CREATE TABLE blog_publish_jobs (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id BLOB NOT NULL REFERENCES blog_posts(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX blog_publish_jobs_due ON blog_publish_jobs (status, due_at);
CREATE INDEX blog_publish_jobs_by_post ON blog_publish_jobs (post_id, id);
