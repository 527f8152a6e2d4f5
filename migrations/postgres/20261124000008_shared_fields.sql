-- The seed's shared fields on every CRM record: `source`, the way it was
-- created (ui, api, mcp, import, form, flow, system), and
-- `last_agent_actor_id`, the API key that last wrote it. Leads and journal
-- entries already have a `source` of their own (where a lead came from;
-- what wrote an entry), so they get only the second. Older rows take both
-- from the audit trail, except journal entries: posted ones are immutable,
-- so entries written before this keep none.
ALTER TABLE contacts ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE companies ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE deals ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE deal_stages ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE activities ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE tasks ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE invoices ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE payments ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE ledger_accounts ADD COLUMN source TEXT NOT NULL DEFAULT 'ui';
ALTER TABLE contacts ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE companies ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE deals ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE deal_stages ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE activities ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE tasks ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE invoices ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE payments ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE ledger_accounts ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE leads ADD COLUMN last_agent_actor_id UUID;
ALTER TABLE journal_entries ADD COLUMN last_agent_actor_id UUID;
UPDATE contacts SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = contacts.workspace_id AND a.entity_type = 'contact' AND a.entity_id = contacts.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE companies SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = companies.workspace_id AND a.entity_type = 'company' AND a.entity_id = companies.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE deals SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = deals.workspace_id AND a.entity_type = 'deal' AND a.entity_id = deals.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE deal_stages SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = deal_stages.workspace_id AND a.entity_type = 'deal_stage' AND a.entity_id = deal_stages.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE activities SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = activities.workspace_id AND a.entity_type = 'activity' AND a.entity_id = activities.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE tasks SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = tasks.workspace_id AND a.entity_type = 'task' AND a.entity_id = tasks.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE invoices SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = invoices.workspace_id AND a.entity_type = 'invoice' AND a.entity_id = invoices.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE payments SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = payments.workspace_id AND a.entity_type = 'payment' AND a.entity_id = payments.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE ledger_accounts SET source = COALESCE((
    SELECT CASE WHEN a.via IN ('ui', 'api', 'mcp', 'import', 'form', 'flow', 'system') THEN a.via
                WHEN a.actor_api_key_id IS NOT NULL THEN 'api' ELSE 'ui' END
    FROM audit_events a WHERE a.workspace_id = ledger_accounts.workspace_id AND a.entity_type = 'ledger_account' AND a.entity_id = ledger_accounts.id
    ORDER BY a.created_at LIMIT 1), 'ui');
UPDATE contacts SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = contacts.workspace_id AND a.entity_type = 'contact' AND a.entity_id = contacts.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE companies SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = companies.workspace_id AND a.entity_type = 'company' AND a.entity_id = companies.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE deals SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = deals.workspace_id AND a.entity_type = 'deal' AND a.entity_id = deals.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE deal_stages SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = deal_stages.workspace_id AND a.entity_type = 'deal_stage' AND a.entity_id = deal_stages.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE activities SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = activities.workspace_id AND a.entity_type = 'activity' AND a.entity_id = activities.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE tasks SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = tasks.workspace_id AND a.entity_type = 'task' AND a.entity_id = tasks.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE invoices SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = invoices.workspace_id AND a.entity_type = 'invoice' AND a.entity_id = invoices.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE payments SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = payments.workspace_id AND a.entity_type = 'payment' AND a.entity_id = payments.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE ledger_accounts SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = ledger_accounts.workspace_id AND a.entity_type = 'ledger_account' AND a.entity_id = ledger_accounts.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
UPDATE leads SET last_agent_actor_id = (
    SELECT a.actor_api_key_id FROM audit_events a
    WHERE a.workspace_id = leads.workspace_id AND a.entity_type = 'lead' AND a.entity_id = leads.id AND a.actor_api_key_id IS NOT NULL
    ORDER BY a.created_at DESC LIMIT 1);
