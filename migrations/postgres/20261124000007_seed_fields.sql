-- Fields the product documents (the seeds) give these records: custom
-- fields on revenue records and deal stages, an account's description, a
-- journal entry's own number as the client writes it, notes on contacts
-- and companies; and the way each audited write came in.
ALTER TABLE invoices ADD COLUMN custom_fields JSONB NOT NULL DEFAULT '{}';
ALTER TABLE payments ADD COLUMN custom_fields JSONB NOT NULL DEFAULT '{}';
ALTER TABLE ledger_accounts ADD COLUMN description TEXT;
ALTER TABLE ledger_accounts ADD COLUMN custom_fields JSONB NOT NULL DEFAULT '{}';
ALTER TABLE journal_entries ADD COLUMN custom_fields JSONB NOT NULL DEFAULT '{}';
ALTER TABLE journal_entries ADD COLUMN entry_number TEXT;
CREATE UNIQUE INDEX journal_entries_entry_number ON journal_entries (workspace_id, entry_number) WHERE entry_number IS NOT NULL;
ALTER TABLE deal_stages ADD COLUMN custom_fields JSONB NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN notes TEXT;
ALTER TABLE companies ADD COLUMN notes TEXT;
ALTER TABLE audit_events ADD COLUMN via TEXT;
