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
--
-- A figure is the SUM of its rows. Statement triggers append one row per
-- figure a statement changed (a thousand-lead INSERT adds a handful), and
-- never update one in place: concurrent writers would queue, and could
-- deadlock, on a shared counter row. The periodic fold
-- (crm::dashboard::fold_counts) sums a figure's rows back into one.
CREATE TABLE dashboard_counts (
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    key_id UUID NOT NULL,
    label TEXT NOT NULL,
    n BIGINT NOT NULL,
    amount_hi BIGINT NOT NULL DEFAULT 0,
    amount_lo BIGINT NOT NULL DEFAULT 0,
    folded BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX dashboard_counts_by_figure ON dashboard_counts (workspace_id, metric, key_id, label);
CREATE INDEX dashboard_counts_to_fold ON dashboard_counts (workspace_id, metric, key_id, label) WHERE NOT folded;

CREATE FUNCTION dashboard_week(at TIMESTAMPTZ) RETURNS TEXT LANGUAGE sql STABLE AS
$$ SELECT to_char(date_trunc('week', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') $$;

INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, folded)
SELECT workspace_id, 'lead_status', '00000000-0000-0000-0000-000000000000', status, COUNT(*), TRUE FROM leads GROUP BY 1, 4;
INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, folded)
SELECT workspace_id, 'lead_source', '00000000-0000-0000-0000-000000000000', source, COUNT(*), TRUE FROM leads GROUP BY 1, 4;
INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, folded)
SELECT workspace_id, 'lead_week', '00000000-0000-0000-0000-000000000000', dashboard_week(created_at), COUNT(*), TRUE
FROM leads GROUP BY 1, 4;
INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo, folded)
SELECT workspace_id, 'deal_stage', stage_id, currency, COUNT(*), SUM(amount_cents / 1000000000), SUM(amount_cents % 1000000000), TRUE
FROM deals GROUP BY 1, 3, 4;
INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, folded)
SELECT workspace_id, 'activity_by', COALESCE(actor_user_id, '00000000-0000-0000-0000-000000000000'), '', COUNT(*), TRUE
FROM activities GROUP BY 1, 3;

-- One function per table. Each changed row counts +1 (new) or -1 (old)
-- towards its figures; an UPDATE that moves no figure adds nothing. Rows
-- of a workspace being deleted (ON DELETE CASCADE) change nothing: its
-- counters go with it.
CREATE FUNCTION dashboard_count_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign)
        FROM (SELECT workspace_id, status, source, created_at, 1 AS sign FROM new_rows) r
        CROSS JOIN LATERAL (VALUES ('lead_status', '00000000-0000-0000-0000-000000000000'::uuid, r.status), ('lead_source', '00000000-0000-0000-0000-000000000000'::uuid, r.source), ('lead_week', '00000000-0000-0000-0000-000000000000'::uuid, dashboard_week(r.created_at))) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign)
        FROM (SELECT workspace_id, status, source, created_at, -1 AS sign FROM old_rows) r
        CROSS JOIN LATERAL (VALUES ('lead_status', '00000000-0000-0000-0000-000000000000'::uuid, r.status), ('lead_source', '00000000-0000-0000-0000-000000000000'::uuid, r.source), ('lead_week', '00000000-0000-0000-0000-000000000000'::uuid, dashboard_week(r.created_at))) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0;
    ELSE
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign)
        FROM (SELECT workspace_id, status, source, created_at, 1 AS sign FROM new_rows UNION ALL SELECT workspace_id, status, source, created_at, -1 AS sign FROM old_rows) r
        CROSS JOIN LATERAL (VALUES ('lead_status', '00000000-0000-0000-0000-000000000000'::uuid, r.status), ('lead_source', '00000000-0000-0000-0000-000000000000'::uuid, r.source), ('lead_week', '00000000-0000-0000-0000-000000000000'::uuid, dashboard_week(r.created_at))) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER leads_count_insert AFTER INSERT ON leads REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_leads();
CREATE TRIGGER leads_count_update AFTER UPDATE ON leads REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_leads();
CREATE TRIGGER leads_count_delete AFTER DELETE ON leads REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_leads();

CREATE FUNCTION dashboard_count_deals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign), SUM(r.sign * r.amount_hi), SUM(r.sign * r.amount_lo)
        FROM (SELECT workspace_id, stage_id, currency, amount_cents / 1000000000 AS amount_hi, amount_cents % 1000000000 AS amount_lo, 1 AS sign FROM new_rows) r
        CROSS JOIN LATERAL (VALUES ('deal_stage', r.stage_id, r.currency)) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0 OR SUM(r.sign * r.amount_hi) <> 0 OR SUM(r.sign * r.amount_lo) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign), SUM(r.sign * r.amount_hi), SUM(r.sign * r.amount_lo)
        FROM (SELECT workspace_id, stage_id, currency, amount_cents / 1000000000 AS amount_hi, amount_cents % 1000000000 AS amount_lo, -1 AS sign FROM old_rows) r
        CROSS JOIN LATERAL (VALUES ('deal_stage', r.stage_id, r.currency)) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0 OR SUM(r.sign * r.amount_hi) <> 0 OR SUM(r.sign * r.amount_lo) <> 0;
    ELSE
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n, amount_hi, amount_lo)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign), SUM(r.sign * r.amount_hi), SUM(r.sign * r.amount_lo)
        FROM (SELECT workspace_id, stage_id, currency, amount_cents / 1000000000 AS amount_hi, amount_cents % 1000000000 AS amount_lo, 1 AS sign FROM new_rows UNION ALL SELECT workspace_id, stage_id, currency, amount_cents / 1000000000 AS amount_hi, amount_cents % 1000000000 AS amount_lo, -1 AS sign FROM old_rows) r
        CROSS JOIN LATERAL (VALUES ('deal_stage', r.stage_id, r.currency)) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0 OR SUM(r.sign * r.amount_hi) <> 0 OR SUM(r.sign * r.amount_lo) <> 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER deals_count_insert AFTER INSERT ON deals REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_deals();
CREATE TRIGGER deals_count_update AFTER UPDATE ON deals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_deals();
CREATE TRIGGER deals_count_delete AFTER DELETE ON deals REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_deals();

CREATE FUNCTION dashboard_count_activities() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign)
        FROM (SELECT workspace_id, actor_user_id, 1 AS sign FROM new_rows) r
        CROSS JOIN LATERAL (VALUES ('activity_by', COALESCE(r.actor_user_id, '00000000-0000-0000-0000-000000000000'::uuid), '')) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign)
        FROM (SELECT workspace_id, actor_user_id, -1 AS sign FROM old_rows) r
        CROSS JOIN LATERAL (VALUES ('activity_by', COALESCE(r.actor_user_id, '00000000-0000-0000-0000-000000000000'::uuid), '')) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0;
    ELSE
        INSERT INTO dashboard_counts (workspace_id, metric, key_id, label, n)
        SELECT r.workspace_id, f.metric, f.key_id, f.label, SUM(r.sign)
        FROM (SELECT workspace_id, actor_user_id, 1 AS sign FROM new_rows UNION ALL SELECT workspace_id, actor_user_id, -1 AS sign FROM old_rows) r
        CROSS JOIN LATERAL (VALUES ('activity_by', COALESCE(r.actor_user_id, '00000000-0000-0000-0000-000000000000'::uuid), '')) f(metric, key_id, label)
        WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
        GROUP BY r.workspace_id, f.metric, f.key_id, f.label
        HAVING SUM(r.sign) <> 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER activities_count_insert AFTER INSERT ON activities REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_activities();
CREATE TRIGGER activities_count_update AFTER UPDATE ON activities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_activities();
CREATE TRIGGER activities_count_delete AFTER DELETE ON activities REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_count_activities();
