-- Lead search ("q" on lists, the search box) at a million leads: an FTS5
-- trigram index over name, email and company name answers the substring
-- match from the index instead of scanning every lead. It indexes the
-- leads table's rows by rowid (external content), kept by triggers; the
-- query still rechecks its LIKE conditions, so results are exactly the
-- substring matches they always were. Corral's one VACUUM (converting old
-- files to incremental auto-vacuum) rebuilds it afterwards.
CREATE VIRTUAL TABLE leads_search USING fts5(
    name, email, company_name,
    content = 'leads', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_search (rowid, name, email, company_name) VALUES (new.rowid, new.name, new.email, new.company_name);
END;
CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN
    INSERT INTO leads_search (leads_search, rowid, name, email, company_name)
    VALUES ('delete', old.rowid, old.name, old.email, old.company_name);
END;
CREATE TRIGGER leads_search_update AFTER UPDATE OF name, email, company_name ON leads BEGIN
    INSERT INTO leads_search (leads_search, rowid, name, email, company_name)
    VALUES ('delete', old.rowid, old.name, old.email, old.company_name);
    INSERT INTO leads_search (rowid, name, email, company_name) VALUES (new.rowid, new.name, new.email, new.company_name);
END;
INSERT INTO leads_search (leads_search) VALUES ('rebuild');
