-- A workspace declares its lead custom fields: a type that writes are
-- checked against and rules compare by, and whether the field is indexed
-- (an expression index over leads.custom_fields, made when declared).
-- Undeclared keys stay free-form JSON.
CREATE TABLE custom_field_definitions (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    field_key TEXT NOT NULL,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL CHECK (field_type IN ('text', 'number', 'date', 'boolean', 'choice')),
    options TEXT NOT NULL DEFAULT '[]',
    indexed BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, field_key)
);

-- "Hot leads" (a score at least N, often of one status) are the most
-- common segments; with this their count reads an index range (status
-- included, so no lead row is read) instead of every lead.
CREATE INDEX leads_by_score ON leads (workspace_id, score, status);

-- The periodic segment sweep re-evaluates only leads changed since its last
-- pass (by updated_at); a full pass is recorded apart, for rules relative
-- to today that need one now and then.
CREATE INDEX leads_by_updated ON leads (workspace_id, updated_at);
ALTER TABLE lists ADD COLUMN fully_refreshed_at TEXT;
