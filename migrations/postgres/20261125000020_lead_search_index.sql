-- Lead search ("q" on lists, the search box) at a million leads: a trigram
-- GIN index (pg_trgm, a trusted extension) over name, email and company
-- name answers the substring match from the index instead of scanning
-- every lead. Queries name the same expression and still recheck their
-- LIKE conditions, so results are exactly the substring matches they were.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX leads_search ON leads USING gin (
    (lower(coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(company_name, ''))) gin_trgm_ops
);
