-- Attribution: the campaign that brought a lead (first touch) and how —
-- a capture form, UTM parameters, an ad click id, a sequence reply — so
-- its conversion, deals, invoices and payments count for that campaign.
ALTER TABLE leads ADD COLUMN campaign_id BLOB REFERENCES campaigns(id) ON DELETE SET NULL;
ALTER TABLE leads ADD COLUMN attribution TEXT;
CREATE INDEX leads_by_campaign ON leads (workspace_id, campaign_id) WHERE campaign_id IS NOT NULL;
-- The campaign a capture form's leads are attributed to.
ALTER TABLE capture_forms ADD COLUMN campaign_id BLOB REFERENCES campaigns(id) ON DELETE SET NULL;
