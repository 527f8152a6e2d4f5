-- A pipeline column shows its most recently updated deals first. Without
-- this index each column sorted all of its stage's deals: with tens of
-- thousands of won deals a board took most of a second, now it reads the
-- hundred cards it shows.
CREATE INDEX deals_by_stage_updated ON deals (workspace_id, stage_id, updated_at, id);
