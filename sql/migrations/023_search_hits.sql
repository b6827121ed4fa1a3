-- 023_search_hits: each document's hit as the API shows it (without its
-- score), kept as JSON text next to the document, so that an answer of
-- sql/functions/040_search.sql is put together by concatenating text:
-- rendering the page's documents from jsonb on every search cost more
-- than finding and ranking them. hit_tail is the hit's JSON object text
-- without its opening brace, so that the score is put first with one
-- concatenation ('{"score": 1.5, ' || hit_tail); cutting the brace off at
-- query time counted every character of every hit. search_document_row()
-- fills it from then on; existing rows get it here, rendered as
-- search_hit() rendered them when this migration was written (an event's
-- document as it is; a train's number, name, run days, classes and first
-- and last stops).
ALTER TABLE search_documents ADD COLUMN hit_tail text;
UPDATE search_documents SET hit_tail = substr((CASE WHEN doc_type = 'train' THEN
    jsonb_strip_nulls(jsonb_build_object(
        'type', 'train', 'id', doc->'id', 'title', doc->'name', 'number', doc->'number',
        'name', doc->'name', 'run_days', doc->'run_days', 'classes', doc->'classes',
        'from', CASE WHEN jsonb_array_length(coalesce(doc->'stops', '[]')) > 0 THEN
                     jsonb_build_object('code', doc->'stops'->0->'code',
                                        'name', doc->'stops'->0->'name') END,
        'to', CASE WHEN jsonb_array_length(coalesce(doc->'stops', '[]')) > 0 THEN
                   jsonb_build_object('code', doc->'stops'->-1->'code',
                                      'name', doc->'stops'->-1->'name') END))
    ELSE doc END)::text, 2);
ALTER TABLE search_documents ALTER COLUMN hit_tail SET NOT NULL,
    ADD CONSTRAINT search_documents_hit_tail_object CHECK (right(hit_tail, 1) = '}');
