-- Revenue: chart of accounts, invoices with lines, payments, and a
-- double-entry journal. Money is integer minor units; every journal entry
-- carries one currency.

CREATE TABLE counters (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE ledger_accounts (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    account_type TEXT NOT NULL CHECK (account_type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
    -- The accounts automatic postings use: cash, receivable, product_revenue,
    -- service_revenue, tax_payable, customer_credit.
    system_role TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, code)
);
CREATE UNIQUE INDEX ledger_accounts_by_role ON ledger_accounts (workspace_id, system_role) WHERE system_role IS NOT NULL;

CREATE TABLE invoices (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'partially_paid', 'paid', 'void')),
    company_id BLOB REFERENCES companies(id),
    contact_id BLOB REFERENCES contacts(id),
    deal_id BLOB REFERENCES deals(id),
    lead_id BLOB REFERENCES leads(id),
    currency TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    subtotal_cents INTEGER NOT NULL,
    tax_cents INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    paid_cents INTEGER NOT NULL DEFAULT 0,
    notes TEXT,
    sent_at TEXT,
    voided_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, number),
    CHECK (paid_cents >= 0 AND paid_cents <= total_cents)
);
CREATE INDEX invoices_by_workspace ON invoices (workspace_id, id);
CREATE INDEX invoices_by_status ON invoices (workspace_id, status, due_date);

CREATE TABLE invoice_lines (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    invoice_id BLOB NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('product', 'service')),
    description TEXT NOT NULL,
    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
    unit_amount_cents INTEGER NOT NULL CHECK (unit_amount_cents >= 0),
    tax_rate_bps INTEGER NOT NULL CHECK (tax_rate_bps BETWEEN 0 AND 10000),
    amount_cents INTEGER NOT NULL,
    tax_cents INTEGER NOT NULL
);
CREATE INDEX invoice_lines_by_invoice ON invoice_lines (invoice_id, position);

CREATE TABLE payments (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    invoice_id BLOB REFERENCES invoices(id),
    company_id BLOB REFERENCES companies(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency TEXT NOT NULL,
    provider TEXT NOT NULL,
    reference TEXT,
    paid_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (invoice_id IS NOT NULL OR company_id IS NOT NULL)
);
CREATE INDEX payments_by_workspace ON payments (workspace_id, id);
CREATE INDEX payments_by_invoice ON payments (invoice_id);
-- The same provider payment recorded twice is refused.
CREATE UNIQUE INDEX payments_by_reference ON payments (workspace_id, provider, reference) WHERE reference IS NOT NULL;

CREATE TABLE journal_entries (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    entry_date TEXT NOT NULL,
    memo TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'posted')),
    source TEXT NOT NULL CHECK (source IN ('manual', 'invoice', 'payment', 'reversal')),
    invoice_id BLOB REFERENCES invoices(id),
    payment_id BLOB REFERENCES payments(id),
    reverses_entry_id BLOB REFERENCES journal_entries(id),
    created_by_user_id BLOB REFERENCES users(id),
    posted_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, number)
);
CREATE INDEX journal_entries_by_workspace ON journal_entries (workspace_id, id);
CREATE INDEX journal_entries_by_date ON journal_entries (workspace_id, entry_date, number);
-- An entry is reversed at most once.
CREATE UNIQUE INDEX journal_entries_one_reversal ON journal_entries (reverses_entry_id) WHERE reverses_entry_id IS NOT NULL;

CREATE TABLE journal_lines (
    id BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    entry_id BLOB NOT NULL REFERENCES journal_entries(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    account_id BLOB NOT NULL REFERENCES ledger_accounts(id),
    debit_cents INTEGER NOT NULL CHECK (debit_cents >= 0),
    credit_cents INTEGER NOT NULL CHECK (credit_cents >= 0),
    memo TEXT,
    CHECK ((debit_cents = 0) <> (credit_cents = 0))
);
CREATE INDEX journal_lines_by_entry ON journal_lines (entry_id, position);
CREATE INDEX journal_lines_by_account ON journal_lines (workspace_id, account_id);

-- Posted entries are immutable, whatever code path tries: corrections are
-- reversal entries.
CREATE TRIGGER journal_entries_posted_no_update BEFORE UPDATE ON journal_entries
WHEN OLD.status = 'posted'
BEGIN SELECT RAISE(ABORT, 'posted journal entries are immutable'); END;
CREATE TRIGGER journal_entries_posted_no_delete BEFORE DELETE ON journal_entries
WHEN OLD.status = 'posted'
BEGIN SELECT RAISE(ABORT, 'posted journal entries are immutable'); END;
CREATE TRIGGER journal_lines_posted_no_insert BEFORE INSERT ON journal_lines
WHEN (SELECT status FROM journal_entries WHERE id = NEW.entry_id) = 'posted'
BEGIN SELECT RAISE(ABORT, 'posted journal entries are immutable'); END;
CREATE TRIGGER journal_lines_posted_no_update BEFORE UPDATE ON journal_lines
WHEN (SELECT status FROM journal_entries WHERE id = OLD.entry_id) = 'posted'
BEGIN SELECT RAISE(ABORT, 'posted journal entries are immutable'); END;
CREATE TRIGGER journal_lines_posted_no_delete BEFORE DELETE ON journal_lines
WHEN (SELECT status FROM journal_entries WHERE id = OLD.entry_id) = 'posted'
BEGIN SELECT RAISE(ABORT, 'posted journal entries are immutable'); END;

-- Workspaces created before revenue existed get the default chart.
INSERT INTO ledger_accounts (id, workspace_id, code, name, account_type, system_role, created_at, updated_at)
SELECT randomblob(16), w.id, d.code, d.name, d.account_type, d.system_role,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM workspaces w CROSS JOIN (
    SELECT '1000' AS code, 'Cash' AS name, 'asset' AS account_type, 'cash' AS system_role
    UNION ALL SELECT '1100', 'Accounts receivable', 'asset', 'receivable'
    UNION ALL SELECT '2000', 'Accounts payable', 'liability', NULL
    UNION ALL SELECT '2100', 'Sales tax payable', 'liability', 'tax_payable'
    UNION ALL SELECT '2200', 'Customer credits', 'liability', 'customer_credit'
    UNION ALL SELECT '3000', 'Owner''s equity', 'equity', NULL
    UNION ALL SELECT '4000', 'Product revenue', 'revenue', 'product_revenue'
    UNION ALL SELECT '4100', 'Service revenue', 'revenue', 'service_revenue'
    UNION ALL SELECT '5000', 'Operating expenses', 'expense', NULL
) d;
