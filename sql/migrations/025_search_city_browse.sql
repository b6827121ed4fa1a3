-- 025_search_city_browse: browsing a city without text (search_browse_json
-- in sql/functions/040_search.sql) reads that city's upcoming events in
-- date order from here, instead of walking every city's events in date
-- order and keeping one in forty. Carries the category so that a category
-- filter is answered from the index too.
CREATE INDEX search_documents_city_browse_idx
    ON search_documents (city, starts_at, doc_type, doc_id) INCLUDE (category)
    WHERE doc_type = 'event';

-- The counts of one place key: browsing read all of search_browse_counts
-- (thousands of rows, most of them the place keys of train stops) to find
-- one key's rows, since its primary key starts with the document type.
CREATE INDEX search_browse_counts_key_idx ON search_browse_counts (city_key);
