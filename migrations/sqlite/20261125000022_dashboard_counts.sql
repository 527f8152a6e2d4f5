-- The dashboard's figures as counters kept by the database itself: at a
-- million leads a GROUP BY over them takes hundreds of milliseconds, a
-- read of these rows well under one. Triggers keep them exact through
-- every write, whatever path it takes (operations, imports, cascades).
--
-- metric       key_id              label          n, amount_hi/lo
-- lead_status  nil                 status         leads
-- lead_source  nil                 source         leads
-- lead_week    nil                 Monday (UTC)   leads created that week
-- deal_stage   stage id            currency       deals, amount in two parts (÷ and % 10^9, as wide sums)
-- activity_by  actor user or nil   ''             activities
CREATE TABLE dashboard_counts (
    workspace_id BLOB NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    key_id BLOB NOT NULL,
    label TEXT NOT NULL,
    n INTEGER NOT NULL,
    amount_hi INTEGER NOT NULL DEFAULT 0,
    amount_lo INTEGER NOT NULL DEFAULT 0,
    -- Always true here (one row per figure); PostgreSQL appends rows and
    -- folds them (see its migration).
    folded INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (workspace_id, metric, key_id, label)
) WITHOUT ROWID;

INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
SELECT workspace_id, 'lead_status', zeroblob(16), status, COUNT(*) FROM leads GROUP BY workspace_id, status;
INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
SELECT workspace_id, 'lead_source', zeroblob(16), source, COUNT(*) FROM leads GROUP BY workspace_id, source;
INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
SELECT workspace_id, 'lead_week', zeroblob(16), date(created_at, '-6 days', 'weekday 1') AS week, COUNT(*)
FROM leads GROUP BY workspace_id, week;
INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo)
SELECT workspace_id, 'deal_stage', stage_id, currency, COUNT(*), SUM(amount_cents / 1000000000), SUM(amount_cents % 1000000000)
FROM deals GROUP BY workspace_id, stage_id, currency;
INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
SELECT workspace_id, 'activity_by', COALESCE(actor_user_id, zeroblob(16)) AS actor, '', COUNT(*)
FROM activities GROUP BY workspace_id, actor;

-- Row triggers (SQLite has no other kind); upserts, as SQLite has one
-- writer at a time and two of them never wait on each other's counters.
-- A row deleted because its workspace is (ON DELETE CASCADE) changes no
-- counter: the workspace's counters go with it.
CREATE TRIGGER leads_count_insert AFTER INSERT ON leads BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n) VALUES
        (NEW.workspace_id, 'lead_status', zeroblob(16), NEW.status, 1),
        (NEW.workspace_id, 'lead_source', zeroblob(16), NEW.source, 1),
        (NEW.workspace_id, 'lead_week', zeroblob(16), date(NEW.created_at, '-6 days', 'weekday 1'), 1)
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER leads_count_update AFTER UPDATE OF workspace_id, status, source, created_at ON leads
WHEN OLD.workspace_id IS NOT NEW.workspace_id OR OLD.status IS NOT NEW.status OR OLD.source IS NOT NEW.source
    OR date(OLD.created_at, '-6 days', 'weekday 1') IS NOT date(NEW.created_at, '-6 days', 'weekday 1')
BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n) VALUES
        (OLD.workspace_id, 'lead_status', zeroblob(16), OLD.status, -1),
        (OLD.workspace_id, 'lead_source', zeroblob(16), OLD.source, -1),
        (OLD.workspace_id, 'lead_week', zeroblob(16), date(OLD.created_at, '-6 days', 'weekday 1'), -1),
        (NEW.workspace_id, 'lead_status', zeroblob(16), NEW.status, 1),
        (NEW.workspace_id, 'lead_source', zeroblob(16), NEW.source, 1),
        (NEW.workspace_id, 'lead_week', zeroblob(16), date(NEW.created_at, '-6 days', 'weekday 1'), 1)
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER leads_count_delete AFTER DELETE ON leads
WHEN EXISTS (SELECT 1 FROM workspaces WHERE id = OLD.workspace_id)
BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n) VALUES
        (OLD.workspace_id, 'lead_status', zeroblob(16), OLD.status, -1),
        (OLD.workspace_id, 'lead_source', zeroblob(16), OLD.source, -1),
        (OLD.workspace_id, 'lead_week', zeroblob(16), date(OLD.created_at, '-6 days', 'weekday 1'), -1)
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER deals_count_insert AFTER INSERT ON deals BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo) VALUES
        (NEW.workspace_id, 'deal_stage', NEW.stage_id, NEW.currency, 1, NEW.amount_cents / 1000000000, NEW.amount_cents % 1000000000)
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE
    SET n = n + excluded.n, amount_hi = amount_hi + excluded.amount_hi, amount_lo = amount_lo + excluded.amount_lo;
END;
CREATE TRIGGER deals_count_update AFTER UPDATE OF workspace_id, stage_id, currency, amount_cents ON deals
WHEN OLD.workspace_id IS NOT NEW.workspace_id OR OLD.stage_id IS NOT NEW.stage_id OR OLD.currency IS NOT NEW.currency
    OR OLD.amount_cents IS NOT NEW.amount_cents
BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo) VALUES
        (OLD.workspace_id, 'deal_stage', OLD.stage_id, OLD.currency, -1, -(OLD.amount_cents / 1000000000), -(OLD.amount_cents % 1000000000)),
        (NEW.workspace_id, 'deal_stage', NEW.stage_id, NEW.currency, 1, NEW.amount_cents / 1000000000, NEW.amount_cents % 1000000000)
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE
    SET n = n + excluded.n, amount_hi = amount_hi + excluded.amount_hi, amount_lo = amount_lo + excluded.amount_lo;
END;
CREATE TRIGGER deals_count_delete AFTER DELETE ON deals
WHEN EXISTS (SELECT 1 FROM workspaces WHERE id = OLD.workspace_id)
BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo) VALUES
        (OLD.workspace_id, 'deal_stage', OLD.stage_id, OLD.currency, -1, -(OLD.amount_cents / 1000000000), -(OLD.amount_cents % 1000000000))
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE
    SET n = n + excluded.n, amount_hi = amount_hi + excluded.amount_hi, amount_lo = amount_lo + excluded.amount_lo;
END;

CREATE TRIGGER activities_count_insert AFTER INSERT ON activities BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n) VALUES
        (NEW.workspace_id, 'activity_by', COALESCE(NEW.actor_user_id, zeroblob(16)), '', 1)
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER activities_count_update AFTER UPDATE OF workspace_id, actor_user_id ON activities
WHEN OLD.workspace_id IS NOT NEW.workspace_id OR OLD.actor_user_id IS NOT NEW.actor_user_id
BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n) VALUES
        (OLD.workspace_id, 'activity_by', COALESCE(OLD.actor_user_id, zeroblob(16)), '', -1),
        (NEW.workspace_id, 'activity_by', COALESCE(NEW.actor_user_id, zeroblob(16)), '', 1)
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER activities_count_delete AFTER DELETE ON activities
WHEN EXISTS (SELECT 1 FROM workspaces WHERE id = OLD.workspace_id)
BEGIN
    INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n) VALUES
        (OLD.workspace_id, 'activity_by', COALESCE(OLD.actor_user_id, zeroblob(16)), '', -1)
    ON CONFLICT (workspace_id, metric, key_id, label) DO UPDATE SET n = n + excluded.n;
END;
