-- Leads written by an import's bulk path name the import (its audit row,
-- one per batch, lists their ids): a lead's timeline reads it from here.
ALTER TABLE leads ADD COLUMN import_id BLOB;
