-- Revenue: chart of accounts, invoices with lines, payments, and a
-- double-entry journal. Money is integer minor units; every journal entry
-- carries one currency.

CREATE TABLE counters (
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE ledger_accounts (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    account_type TEXT NOT NULL CHECK (account_type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
    -- The accounts automatic postings use: cash, receivable, product_revenue,
    -- service_revenue, tax_payable, customer_credit.
    system_role TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, code)
);
CREATE UNIQUE INDEX ledger_accounts_by_role ON ledger_accounts (workspace_id, system_role) WHERE system_role IS NOT NULL;

CREATE TABLE invoices (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'partially_paid', 'paid', 'void')),
    company_id UUID REFERENCES companies(id),
    contact_id UUID REFERENCES contacts(id),
    deal_id UUID REFERENCES deals(id),
    lead_id UUID REFERENCES leads(id),
    currency TEXT NOT NULL,
    issue_date DATE NOT NULL,
    due_date DATE NOT NULL,
    subtotal_cents BIGINT NOT NULL,
    tax_cents BIGINT NOT NULL,
    total_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL DEFAULT 0,
    notes TEXT,
    sent_at TIMESTAMPTZ,
    voided_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, number),
    CHECK (paid_cents >= 0 AND paid_cents <= total_cents)
);
CREATE INDEX invoices_by_workspace ON invoices (workspace_id, id);
CREATE INDEX invoices_by_status ON invoices (workspace_id, status, due_date);

CREATE TABLE invoice_lines (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    invoice_id UUID NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('product', 'service')),
    description TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL CHECK (quantity_milli > 0),
    unit_amount_cents BIGINT NOT NULL CHECK (unit_amount_cents >= 0),
    tax_rate_bps BIGINT NOT NULL CHECK (tax_rate_bps BETWEEN 0 AND 10000),
    amount_cents BIGINT NOT NULL,
    tax_cents BIGINT NOT NULL
);
CREATE INDEX invoice_lines_by_invoice ON invoice_lines (invoice_id, position);

CREATE TABLE payments (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    invoice_id UUID REFERENCES invoices(id),
    company_id UUID REFERENCES companies(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    currency TEXT NOT NULL,
    provider TEXT NOT NULL,
    reference TEXT,
    paid_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK (invoice_id IS NOT NULL OR company_id IS NOT NULL)
);
CREATE INDEX payments_by_workspace ON payments (workspace_id, id);
CREATE INDEX payments_by_invoice ON payments (invoice_id);
-- The same provider payment recorded twice is refused.
CREATE UNIQUE INDEX payments_by_reference ON payments (workspace_id, provider, reference) WHERE reference IS NOT NULL;

CREATE TABLE journal_entries (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    entry_date DATE NOT NULL,
    memo TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'posted')),
    source TEXT NOT NULL CHECK (source IN ('manual', 'invoice', 'payment', 'reversal')),
    invoice_id UUID REFERENCES invoices(id),
    payment_id UUID REFERENCES payments(id),
    reverses_entry_id UUID REFERENCES journal_entries(id),
    created_by_user_id UUID REFERENCES users(id),
    posted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, number)
);
CREATE INDEX journal_entries_by_workspace ON journal_entries (workspace_id, id);
CREATE INDEX journal_entries_by_date ON journal_entries (workspace_id, entry_date, number);
-- An entry is reversed at most once.
CREATE UNIQUE INDEX journal_entries_one_reversal ON journal_entries (reverses_entry_id) WHERE reverses_entry_id IS NOT NULL;

CREATE TABLE journal_lines (
    id UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    entry_id UUID NOT NULL REFERENCES journal_entries(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    account_id UUID NOT NULL REFERENCES ledger_accounts(id),
    debit_cents BIGINT NOT NULL CHECK (debit_cents >= 0),
    credit_cents BIGINT NOT NULL CHECK (credit_cents >= 0),
    memo TEXT,
    CHECK ((debit_cents = 0) <> (credit_cents = 0))
);
CREATE INDEX journal_lines_by_entry ON journal_lines (entry_id, position);
CREATE INDEX journal_lines_by_account ON journal_lines (workspace_id, account_id);

-- Posted entries are immutable, whatever code path tries: corrections are
-- reversal entries.
CREATE FUNCTION journal_entry_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'posted journal entries are immutable';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER journal_entries_posted_immutable BEFORE UPDATE OR DELETE ON journal_entries
FOR EACH ROW WHEN (OLD.status = 'posted') EXECUTE FUNCTION journal_entry_guard();

CREATE FUNCTION journal_line_guard() RETURNS trigger AS $$
DECLARE
    entry UUID;
BEGIN
    IF TG_OP = 'INSERT' THEN entry := NEW.entry_id; ELSE entry := OLD.entry_id; END IF;
    IF EXISTS (SELECT 1 FROM journal_entries WHERE id = entry AND status = 'posted') THEN
        RAISE EXCEPTION 'posted journal entries are immutable';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER journal_lines_posted_immutable BEFORE INSERT OR UPDATE OR DELETE ON journal_lines
FOR EACH ROW EXECUTE FUNCTION journal_line_guard();

-- Workspaces created before revenue existed get the default chart.
INSERT INTO ledger_accounts (id, workspace_id, code, name, account_type, system_role, created_at, updated_at)
SELECT gen_random_uuid(), w.id, d.code, d.name, d.account_type, d.system_role,
       now(), now()
FROM workspaces w CROSS JOIN (VALUES
    ('1000', 'Cash', 'asset', 'cash'),
    ('1100', 'Accounts receivable', 'asset', 'receivable'),
    ('2000', 'Accounts payable', 'liability', NULL),
    ('2100', 'Sales tax payable', 'liability', 'tax_payable'),
    ('2200', 'Customer credits', 'liability', 'customer_credit'),
    ('3000', 'Owner''s equity', 'equity', NULL),
    ('4000', 'Product revenue', 'revenue', 'product_revenue'),
    ('4100', 'Service revenue', 'revenue', 'service_revenue'),
    ('5000', 'Operating expenses', 'expense', NULL)
) AS d(code, name, account_type, system_role);
