-- 022_search_browse: browsing without text (sql/functions/040_search.sql,
-- search_browse_json) counts and facets every upcoming event of a city, or
-- of everywhere: these counts keep that from reading thousands of rows.
-- One row per document type, place key, city and category: events
-- starting at or after search_state 'browse_since' (epoch seconds), and
-- every train. city_key '' counts everything (no city filter); city and
-- category are '' where a document has none (trains). Kept in step with
-- search_documents by statement triggers in the same transactions, and
-- rebuilt from it by search_browse_rebuild(), which moves browse_since
-- forward so that the events that have started since (subtracted at query
-- time) stay few.
CREATE TABLE search_browse_counts (
    doc_type text NOT NULL,
    city_key text NOT NULL,
    city     text NOT NULL,
    category text NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (doc_type, city_key, city, category)
);

-- The order of a page without text, so that the first pages are read in
-- order from an index instead of sorting every match.
CREATE INDEX search_documents_browse_idx ON search_documents (starts_at, doc_type, doc_id);
DROP INDEX search_documents_starts_idx;
