-- 024_search_fillfactor: room on every page of search_documents for the
-- next version of its documents. The follower rewrites a document whenever
-- its availability changes; nothing it indexes changes then, so with room
-- on the page the new version is a heap-only tuple: it stays next to the
-- documents stored with it (a full reindex stores a performer's events
-- together, so that a text search reads a dozen pages, not one a match)
-- and adds no entries to the four GIN indexes. Applies to pages written
-- from now on; the next full reindex rewrites them all.
ALTER TABLE search_documents SET (fillfactor = 85);
