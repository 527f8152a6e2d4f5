-- Audience: lead tags, static lists and rule-based segments with their
-- membership log, streamed imports, capture forms, enrichment connectors.

ALTER TABLE leads ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

-- One table for both kinds: a static list's members are added by hand; a
-- segment's members are the last evaluation of its rules, kept so that a
-- refresh can tell who entered and who left.
CREATE TABLE lists (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('static', 'segment')),
    entity TEXT NOT NULL CHECK (entity IN ('lead', 'company')),
    rules TEXT,
    refreshed_at TEXT,
    created_by BLOB REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((kind = 'segment') = (rules IS NOT NULL))
);
CREATE UNIQUE INDEX lists_name_unique ON lists (workspace_id, name);

CREATE TABLE list_members (
    list_id BLOB NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    member_id BLOB NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (list_id, member_id)
);
CREATE INDEX list_members_by_member ON list_members (workspace_id, member_id);

-- Membership changes, in order, for flows to consume.
CREATE TABLE audience_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    list_id BLOB NOT NULL,
    member_id BLOB NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('added', 'removed')),
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audience_events_by_list ON audience_events (workspace_id, list_id, seq);

CREATE TABLE imports (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by BLOB REFERENCES users(id),
    api_key_id BLOB,
    entity TEXT NOT NULL CHECK (entity IN ('lead', 'company', 'contact')),
    format TEXT NOT NULL CHECK (format IN ('csv', 'json')),
    dedup TEXT NOT NULL CHECK (dedup IN ('skip', 'update', 'create')),
    status TEXT NOT NULL CHECK (status IN ('mapping', 'queued', 'running', 'completed', 'failed', 'cancelled')),
    file_name TEXT,
    file_path TEXT NOT NULL,
    bytes_total INTEGER NOT NULL,
    columns TEXT NOT NULL DEFAULT '[]',
    mapping TEXT NOT NULL DEFAULT '{}',
    list_id BLOB REFERENCES lists(id) ON DELETE SET NULL,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    lines_done INTEGER NOT NULL DEFAULT 0,
    rows_done INTEGER NOT NULL DEFAULT 0,
    rows_created INTEGER NOT NULL DEFAULT 0,
    rows_updated INTEGER NOT NULL DEFAULT 0,
    rows_skipped INTEGER NOT NULL DEFAULT 0,
    rows_failed INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    error TEXT,
    started_at TEXT,
    finished_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX imports_by_workspace ON imports (workspace_id, id);
CREATE INDEX imports_by_status ON imports (status);

CREATE TABLE import_errors (
    import_id BLOB NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);

CREATE TABLE capture_forms (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    fields TEXT NOT NULL,
    list_id BLOB REFERENCES lists(id) ON DELETE SET NULL,
    lead_source TEXT NOT NULL,
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    submissions INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX capture_forms_by_workspace ON capture_forms (workspace_id, id);

CREATE TABLE enrichment_connectors (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('http')),
    url TEXT NOT NULL,
    auth_header TEXT,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX enrichment_connectors_by_workspace ON enrichment_connectors (workspace_id, id);
