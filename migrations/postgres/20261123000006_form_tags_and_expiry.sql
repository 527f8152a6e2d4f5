-- Capture forms tag the leads they capture, so that rule-based segments
-- (tags contains "webinar") can pick submissions up.
ALTER TABLE capture_forms ADD COLUMN tags JSONB NOT NULL DEFAULT '[]';

-- Housekeeping deletes idempotency keys past their 24-hour replay window.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
CREATE INDEX imports_waiting ON imports (status, created_at);
