-- 021_search_speed: the row type of a page of matches, handed from the
-- static matching queries of sql/functions/040_search.sql to the one that
-- renders the answer.
CREATE TYPE search_page_row AS (doc_type text, doc_id text, score real);
