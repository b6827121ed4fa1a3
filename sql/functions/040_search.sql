-- 040_search: the search tier in SQL: the sources the indexer builds
-- documents from, the outbox triggers, the PostgreSQL backend (storing the
-- documents and answering /api/search and /api/search/suggest), and the
-- availability sweep. Reapplied on every migrate, after all migrations, so
-- the trains part appears as soon as the trains tables exist.

-- Lowercase without accents: how every folded column and query is compared.
CREATE OR REPLACE FUNCTION search_fold(p text)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT lower(unaccent(coalesce(p, '')))
$$;

-- The synonym group key of a folded city name or word (itself when it is
-- in no group).
CREATE OR REPLACE FUNCTION search_city_key(p_folded text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT group_key FROM search_city_synonyms WHERE term = p_folded), p_folded)
$$;

-- The keys a place name answers to: the whole folded name and each of its
-- words, so "Delhi" finds "New Delhi" and "Bombay" finds "Mumbai Central"
-- (the ES backend's match with operator "and" behaves the same).
CREATE OR REPLACE FUNCTION search_place_keys(p_names text[])
RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT coalesce(s.group_key, k.k)), '{}')
    FROM (SELECT search_fold(n) AS f FROM unnest(p_names) n) x
    CROSS JOIN LATERAL unnest(array_append(string_to_array(x.f, ' '), x.f)) AS k(k)
    LEFT JOIN search_city_synonyms s ON s.term = k.k
    WHERE k.k <> ''
$$;

-- Every synonym of the words of the given keys, as text to index, so that
-- a free-text "Bombay" matches a document about Mumbai.
CREATE OR REPLACE FUNCTION search_synonym_text(p_keys text[])
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(term, ' '), '')
    FROM search_city_synonyms WHERE group_key = ANY (p_keys)
$$;

-- ---- sources: the rows lib/search_doc.c builds documents from ----

CREATE OR REPLACE VIEW search_event_source AS
    SELECT e.id, e.title, e.performer, e.category, v.name AS venue, v.city,
           v.latitude, v.longitude,
           to_char(e.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS starts_at,
           p.price_min, p.price_max, e.currency,
           (SELECT count(*) FROM event_seats s
            WHERE s.event_id = e.id AND s.held_until <= now()) AS seats_available,
           e.status
    FROM events e
    JOIN venues v ON v.id = e.venue_id
    LEFT JOIN LATERAL (SELECT min(amount) AS price_min, max(amount) AS price_max
                       FROM event_prices WHERE event_id = e.id) p ON true;

-- Trains, when the trains tables exist: number, name, run_days and classes
-- (JSON arrays of text), the stops in route order as a JSON array of {"code","name","index"}.
-- p_numbers NULL: every train, in number order (the full reindex reads
-- them through a cursor).
DROP FUNCTION IF EXISTS search_train_source(text[], text, int);
DROP FUNCTION IF EXISTS search_train_source(text[]);
CREATE FUNCTION search_train_source(p_numbers text[])
RETURNS TABLE (number text, name text, run_days json, classes json, stops json)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF to_regclass('public.trains') IS NULL OR to_regclass('public.train_stops') IS NULL
       OR to_regclass('public.stations') IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT t.number::text, t.name::text, array_to_json(t.run_days), array_to_json(t.classes),
           (SELECT coalesce(json_agg(json_build_object('code', ts.station_code, 'name', s.name,
                                                       'index', ts.stop_index)
                                     ORDER BY ts.stop_index), '[]')
            FROM train_stops ts JOIN stations s ON s.code = ts.station_code
            WHERE ts.train_number = t.number)
    FROM trains t
    WHERE p_numbers IS NULL OR t.number = ANY (p_numbers)
    ORDER BY t.number;
END $$;

-- ---- the outbox, written in the same transactions as the changes ----
--
-- Statement-level triggers with transition tables: an import of thousands
-- of rows writes one outbox row per document, not per row changed.
-- Nothing here fires on holds or event_seats: the seat-hold path stays free
-- of extra writes; seats_available is refreshed by
-- search_availability_sweep instead.

CREATE OR REPLACE FUNCTION search_outbox_events_new()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (doc_type, doc_id)
    SELECT DISTINCT 'event', id::text FROM search_changed;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_outbox_prices_new()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (doc_type, doc_id)
    SELECT DISTINCT 'event', event_id::text FROM search_changed;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_outbox_venues_new()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (doc_type, doc_id)
    SELECT 'event', e.id::text FROM events e WHERE e.venue_id IN (SELECT id FROM search_changed);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER search_events_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS search_changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_events_new();
CREATE OR REPLACE TRIGGER search_events_update AFTER UPDATE ON events
    REFERENCING NEW TABLE AS search_changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_events_new();
CREATE OR REPLACE TRIGGER search_events_delete AFTER DELETE ON events
    REFERENCING OLD TABLE AS search_changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_events_new();
CREATE OR REPLACE TRIGGER search_prices_insert AFTER INSERT ON event_prices
    REFERENCING NEW TABLE AS search_changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_prices_new();
CREATE OR REPLACE TRIGGER search_prices_update AFTER UPDATE ON event_prices
    REFERENCING NEW TABLE AS search_changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_prices_new();
CREATE OR REPLACE TRIGGER search_prices_delete AFTER DELETE ON event_prices
    REFERENCING OLD TABLE AS search_changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_prices_new();
CREATE OR REPLACE TRIGGER search_venues_update AFTER UPDATE ON venues
    REFERENCING NEW TABLE AS search_changed
    FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_venues_new();

CREATE OR REPLACE FUNCTION search_outbox_trains_new()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (doc_type, doc_id)
    SELECT DISTINCT 'train', number::text FROM search_changed;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_outbox_train_stops_new()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (doc_type, doc_id)
    SELECT DISTINCT 'train', train_number::text FROM search_changed;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_outbox_stations_new()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (doc_type, doc_id)
    SELECT DISTINCT 'train', ts.train_number::text FROM train_stops ts
    WHERE ts.station_code IN (SELECT code FROM search_changed);
    RETURN NULL;
END $$;

-- The trains tables come from a later migration (030_trains): their
-- triggers are created once they exist, and the first time also queue
-- every train so the indexer picks up trains imported before.
DO $$
BEGIN
    IF to_regclass('public.trains') IS NULL OR to_regclass('public.train_stops') IS NULL
       OR to_regclass('public.stations') IS NULL THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'search_trains_insert') THEN
        INSERT INTO search_outbox (doc_type, doc_id) SELECT 'train', number::text FROM trains;
    END IF;
    CREATE OR REPLACE TRIGGER search_trains_insert AFTER INSERT ON trains
        REFERENCING NEW TABLE AS search_changed
        FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_trains_new();
    CREATE OR REPLACE TRIGGER search_trains_update AFTER UPDATE ON trains
        REFERENCING NEW TABLE AS search_changed
        FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_trains_new();
    CREATE OR REPLACE TRIGGER search_trains_delete AFTER DELETE ON trains
        REFERENCING OLD TABLE AS search_changed
        FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_trains_new();
    CREATE OR REPLACE TRIGGER search_train_stops_insert AFTER INSERT ON train_stops
        REFERENCING NEW TABLE AS search_changed
        FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_train_stops_new();
    CREATE OR REPLACE TRIGGER search_train_stops_update AFTER UPDATE ON train_stops
        REFERENCING NEW TABLE AS search_changed
        FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_train_stops_new();
    CREATE OR REPLACE TRIGGER search_train_stops_delete AFTER DELETE ON train_stops
        REFERENCING OLD TABLE AS search_changed
        FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_train_stops_new();
    CREATE OR REPLACE TRIGGER search_stations_update AFTER UPDATE ON stations
        REFERENCING NEW TABLE AS search_changed
        FOR EACH STATEMENT EXECUTE FUNCTION search_outbox_stations_new();
END $$;

-- Takes up to p_limit outbox rows (skipping rows another indexer holds),
-- deletes them and returns their documents, each once, after taking a
-- transaction-level advisory lock per document in a fixed order. The caller
-- rebuilds each document from the current rows and pushes it before
-- committing: a concurrent indexer that claimed a later change of the same
-- document waits for the lock, then builds from rows at least as new, so a
-- document is never overwritten by an older version. A crash or kill
-- before the commit puts the rows back.
CREATE OR REPLACE FUNCTION search_outbox_claim(p_limit int)
RETURNS TABLE (doc_type text, doc_id text)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF to_regclass('pg_temp.search_claimed') IS NULL THEN
        CREATE TEMP TABLE search_claimed (doc_type text, doc_id text) ON COMMIT DELETE ROWS;
    END IF;
    DELETE FROM search_claimed;
    WITH taken AS (
        DELETE FROM search_outbox o
        WHERE o.id IN (SELECT id FROM search_outbox ORDER BY id LIMIT p_limit
                       FOR UPDATE SKIP LOCKED)
        RETURNING o.doc_type, o.doc_id)
    INSERT INTO search_claimed SELECT DISTINCT t.doc_type, t.doc_id FROM taken t;
    FOR r IN SELECT c.doc_type, c.doc_id FROM search_claimed c
             ORDER BY hashtextextended(c.doc_type || ':' || c.doc_id, 0) LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended(r.doc_type || ':' || r.doc_id, 0));
    END LOOP;
    RETURN QUERY SELECT c.doc_type, c.doc_id FROM search_claimed c ORDER BY 1, 2;
END $$;

-- ---- the PostgreSQL backend: storing documents ----

-- The API's hit for a document (without its score), as
-- es_map_search_response makes it: an event's fields as they are; a
-- train's number, name (also as title), run_days, classes, and its first
-- and last stops as "from" and "to". Stored as text in
-- search_documents.hit_tail when the document is put. STABLE, as
-- jsonb_build_object is: declared IMMUTABLE, it was never inlined.
CREATE OR REPLACE FUNCTION search_hit(p_type text, p jsonb)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_type = 'train' THEN
        jsonb_strip_nulls(jsonb_build_object(
            'type', 'train', 'id', p->'id', 'title', p->'name', 'number', p->'number',
            'name', p->'name', 'run_days', p->'run_days', 'classes', p->'classes',
            'from', CASE WHEN jsonb_array_length(coalesce(p->'stops', '[]')) > 0 THEN
                         jsonb_build_object('code', p->'stops'->0->'code',
                                            'name', p->'stops'->0->'name') END,
            'to', CASE WHEN jsonb_array_length(coalesce(p->'stops', '[]')) > 0 THEN
                       jsonb_build_object('code', p->'stops'->-1->'code',
                                          'name', p->'stops'->-1->'name') END))
        ELSE p END
$$;

-- The row of search_documents for one document (as lib/search_doc.c
-- builds it); NULL for a document of an unknown type.
CREATE OR REPLACE FUNCTION search_document_row(p jsonb)
RETURNS search_documents LANGUAGE plpgsql STABLE AS $$
DECLARE
    d search_documents;
    v_stop_names text[];
    v_stops jsonb;
BEGIN
    d.doc_type := p->>'type';
    d.doc_id := p->>'id';
    d.doc := p;
    d.indexed_at := now();
    IF d.doc_type = 'event' THEN
        d.city := p->>'city';
        d.category := p->>'category';
        d.city_keys := search_place_keys(ARRAY[p->>'city']);
        d.starts_at := (p->>'starts_at')::timestamptz;
        d.seats_available := (p->>'seats_available')::int;
        d.names := search_fold((p->>'title') || ' ' || (p->>'performer'));
        d.suggest_text := p->>'title';
        d.tsv := setweight(to_tsvector('simple', search_fold(p->>'title')), 'A')
              || setweight(to_tsvector('simple', search_fold(p->>'performer')), 'A')
              || setweight(to_tsvector('simple', search_fold(p->>'category')), 'B')
              || setweight(to_tsvector('simple', search_fold((p->>'venue') || ' ' || (p->>'city')
                                         || ' ' || search_synonym_text(d.city_keys))), 'C');
    ELSIF d.doc_type = 'train' THEN
        v_stops := coalesce(p->'stops', '[]');
        SELECT coalesce(array_agg(x->>'name' ORDER BY o), '{}') INTO v_stop_names
        FROM jsonb_array_elements(v_stops) WITH ORDINALITY AS s(x, o);
        d.city_keys := search_place_keys(v_stop_names);
        d.names := search_fold((p->>'number') || ' ' || (p->>'name'));
        d.suggest_text := (p->>'number') || ' ' || (p->>'name');
        d.tsv := setweight(to_tsvector('simple', search_fold(p->>'number')), 'A')
              || setweight(to_tsvector('simple', search_fold(p->>'name')), 'A')
              || setweight(to_tsvector('simple', search_fold(
                     array_to_string(v_stop_names, ' ') || ' '
                     || coalesce((SELECT string_agg(c, ' ')
                                  FROM jsonb_array_elements_text(p->'station_codes') c), '')
                     || ' ' || search_synonym_text(d.city_keys))), 'C');
    ELSE
        RETURN NULL;
    END IF;
    d.suggest := to_tsvector('simple', d.names);
    d.hit_tail := substr(search_hit(d.doc_type, p)::text, 2);
    RETURN d;
END $$;

-- Stores the documents of a JSON array (insert or replace); returns how
-- many. Documents of unknown types are skipped (and not counted).
CREATE OR REPLACE FUNCTION search_documents_put(p_docs jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    -- In FROM, the row function runs once per document; as (f(x)).* in
    -- the select list it would run once per column.
    INSERT INTO search_documents
    SELECT r.* FROM jsonb_array_elements(p_docs) x, LATERAL search_document_row(x) r
    WHERE r.doc_type IS NOT NULL
    ON CONFLICT (doc_type, doc_id) DO UPDATE SET
        doc = excluded.doc, city = excluded.city,
        category = excluded.category, city_keys = excluded.city_keys,
        starts_at = excluded.starts_at, seats_available = excluded.seats_available,
        names = excluded.names, tsv = excluded.tsv, suggest = excluded.suggest,
        suggest_text = excluded.suggest_text, indexed_at = excluded.indexed_at,
        hit_tail = excluded.hit_tail;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;

-- Removes documents: p_ids is a JSON array of ids of type p_type.
CREATE OR REPLACE FUNCTION search_documents_delete(p_type text, p_ids text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    DELETE FROM search_documents WHERE doc_type = p_type AND doc_id = ANY (p_ids);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;

-- A full reindex of the PostgreSQL backend runs in one transaction that
-- starts with this: readers keep seeing the old documents until it commits.
CREATE OR REPLACE FUNCTION search_documents_clear()
RETURNS void LANGUAGE sql AS $$
    DELETE FROM search_documents
$$;

-- ---- counts for browsing without text (search_browse_counts) ----

-- Events starting at or after this time are in search_browse_counts;
-- 'infinity' (none) before the first rebuild.
CREATE OR REPLACE FUNCTION search_browse_since()
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT to_timestamp(value) FROM search_state WHERE name = 'browse_since'),
                    'infinity')
$$;

-- Statement trigger on search_documents: adds what the statement inserted
-- and takes away what it deleted or replaced, in a fixed row order so
-- that concurrent writers lock count rows in the same order.
CREATE OR REPLACE FUNCTION search_browse_count_change()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_since timestamptz := search_browse_since();
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO search_browse_counts AS c (doc_type, city_key, city, category, n)
        SELECT o.doc_type, k, coalesce(o.city, ''), coalesce(o.category, ''), -count(*)
        FROM search_old_rows o, unnest(array_append(o.city_keys, '')) AS k
        WHERE o.doc_type = 'train' OR o.starts_at >= v_since
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (doc_type, city_key, city, category) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO search_browse_counts AS c (doc_type, city_key, city, category, n)
        SELECT o.doc_type, k, coalesce(o.city, ''), coalesce(o.category, ''), count(*)
        FROM search_new_rows o, unnest(array_append(o.city_keys, '')) AS k
        WHERE o.doc_type = 'train' OR o.starts_at >= v_since
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (doc_type, city_key, city, category) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER search_browse_insert AFTER INSERT ON search_documents
    REFERENCING NEW TABLE AS search_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_browse_count_change();
CREATE OR REPLACE TRIGGER search_browse_update AFTER UPDATE ON search_documents
    REFERENCING OLD TABLE AS search_old_rows NEW TABLE AS search_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_browse_count_change();
CREATE OR REPLACE TRIGGER search_browse_delete AFTER DELETE ON search_documents
    REFERENCING OLD TABLE AS search_old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_browse_count_change();

-- Recounts search_browse_counts from search_documents with browse_since
-- moved to p_since (now when NULL; tests move it back). Writers of
-- search_documents wait for it (SHARE lock), so no change is counted twice
-- or missed; with p_nowait it gives up at once (returning false) when a
-- writer is busy instead of waiting.
CREATE OR REPLACE FUNCTION search_browse_rebuild(p_nowait boolean DEFAULT false,
                                                 p_since timestamptz DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_since timestamptz := date_trunc('second', least(coalesce(p_since, now()), now()));
BEGIN
    IF p_nowait THEN
        BEGIN
            LOCK TABLE search_documents IN SHARE MODE NOWAIT;
        EXCEPTION WHEN lock_not_available THEN
            RETURN false;
        END;
    ELSE
        LOCK TABLE search_documents IN SHARE MODE;
    END IF;
    DELETE FROM search_browse_counts;
    INSERT INTO search_browse_counts (doc_type, city_key, city, category, n)
    SELECT d.doc_type, k, coalesce(d.city, ''), coalesce(d.category, ''), count(*)
    FROM search_documents d, unnest(array_append(d.city_keys, '')) AS k
    WHERE d.doc_type = 'train' OR d.starts_at >= v_since
    GROUP BY 1, 2, 3, 4;
    INSERT INTO search_state (name, value)
    VALUES ('browse_since', extract(epoch FROM v_since)::bigint)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value;
    RETURN true;
END $$;

-- The first migrate that has the counts fills them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM search_state WHERE name = 'browse_since') THEN
        PERFORM search_browse_rebuild();
    END IF;
END $$;

-- ---- seats_available without touching the hold path ----
--
-- hold_create runs thousands of times a second, so no trigger sits on holds
-- or event_seats. Instead the indexer's --follow loop calls this every few
-- seconds. It reads the holds made since its last call (by id, on the
-- primary key: no new index on holds either) and keeps the events they
-- touch on a watch list until a minute after their last hold could expire
-- (a released, expired or converted hold changes availability only within
-- its lifetime). For every watched event whose current availability
-- differs from the indexed document it queues an outbox row, so only
-- documents that changed are pushed. Ids are handed out before commit, so
-- a hold may become visible after a higher id was seen: each call looks
-- again at the last 10,000 ids. A refund after the watch
-- window (rare) is caught by the next --full or by any change of the event.
-- Returns how many documents it queued.
CREATE OR REPLACE FUNCTION search_availability_sweep()
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_seen bigint;
    v_max bigint;
    v_count integer;
BEGIN
    SELECT coalesce(value, 0) INTO v_seen FROM search_state WHERE name = 'holds_seen' FOR UPDATE;
    SELECT max(id) INTO v_max FROM holds WHERE id > greatest(v_seen - 10000, 0);
    IF v_max IS NOT NULL THEN
        -- new ids, and older ones that are still live (late commits)
        INSERT INTO search_watch (event_id, until)
        SELECT event_id, max(expires_at) + interval '1 minute'
        FROM holds
        WHERE id > greatest(v_seen - 10000, 0) AND id <= v_max AND event_id IS NOT NULL
          AND (id > v_seen OR expires_at > now())
        GROUP BY event_id
        ON CONFLICT (event_id) DO UPDATE SET until = greatest(search_watch.until, excluded.until);
        UPDATE search_state SET value = greatest(value, v_max) WHERE name = 'holds_seen';
    END IF;
    INSERT INTO search_outbox (doc_type, doc_id)
    SELECT 'event', d.doc_id
    FROM search_watch w
    JOIN search_documents d ON d.doc_type = 'event' AND d.doc_id = w.event_id::text
    WHERE d.seats_available IS DISTINCT FROM
          (SELECT count(*) FROM event_seats s
           WHERE s.event_id = w.event_id AND s.held_until <= now());
    GET DIAGNOSTICS v_count = ROW_COUNT;
    DELETE FROM search_watch WHERE until < now();
    -- Keep the events started since browse_since (subtracted by every
    -- browse) to about an hour's worth.
    IF search_browse_since() < now() - interval '1 hour' THEN
        PERFORM search_browse_rebuild(true);
    END IF;
    RETURN v_count;
END $$;

-- ---- the PostgreSQL backend: answering ----

-- Whether a document passes the filters of a search other than text and
-- city: its type is wanted; an event starts in [p_lo, p_hi) and has the
-- category asked for; a train passes date filters but no category filter.
-- A plain SQL expression, so PostgreSQL inlines it into the queries below.
CREATE OR REPLACE FUNCTION search_passes(p_type text, p_starts timestamptz, p_category text,
                                         p_event boolean, p_train boolean, p_lo timestamptz,
                                         p_hi timestamptz, p_want_category text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_type = 'train' THEN p_train AND p_want_category IS NULL
                ELSE p_event AND p_starts >= p_lo AND p_starts < p_hi
                     AND (p_want_category IS NULL OR p_category = p_want_category) END
$$;

-- The JSON text of one hit: "score" first, then the fields of its stored
-- hit (search_documents.hit_tail). Every operator here is immutable (text
-- || text, not text || numeric), so that PostgreSQL inlines the function
-- instead of parsing and planning it on every search.
CREATE OR REPLACE FUNCTION search_hit_text(p_score real, p_hit_tail text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '{"score": ' || round(p_score::numeric, 4)::text || ', ' || p_hit_tail
$$;

-- The answer of a search from its parts, as JSON text: the total, the
-- page's hits (search_hit_text joined by ", ", NULL for none) and the
-- facets (JSON arrays of {"value","count"}, NULL for none). Text, not
-- json: a json result would be parsed once more only to be checked.
CREATE OR REPLACE FUNCTION search_answer_text(p_total bigint, p_hits text, p_city json,
                                              p_category json)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '{"total": ' || p_total::text || ', "hits": [' || coalesce(p_hits, '')
           || '], "facets": {"city": ' || coalesce(p_city::text, '[]')
           || ', "category": ' || coalesce(p_category::text, '[]') || '}}'
$$;

-- The hits of a page of matches in order, read by primary key (for the
-- answers that do not carry each match's hit along). It and
-- search_answer_text replace search_answer_json, which rendered jsonb.
DROP FUNCTION IF EXISTS search_answer_json(bigint, search_page_row[], json, json);
CREATE OR REPLACE FUNCTION search_page_hits(p_page search_page_row[])
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT string_agg(search_hit_text(x.score, d.hit_tail), ', ' ORDER BY x.o)
            FROM unnest(p_page) WITH ORDINALITY AS x(doc_type, doc_id, score, o)
            JOIN search_documents d ON d.doc_type = x.doc_type AND d.doc_id = x.doc_id);
END $$;

-- /api/search without text for the usual question: what is on from now on
-- (p_lo is now), perhaps in a city or a category; upcoming events soonest
-- first, then trains (score 0). The total and the facets come from
-- search_browse_counts minus the events that have started since it was
-- counted; the page is read in order from an index: each city's own for a
-- place key, else the browse index. Every statement here is
-- an index probe or an ordered index scan whatever the parameters, so the
-- plans are generic: planned on every call, as they were when this was a
-- branch of search_browse_json, they cost more than running them.
CREATE OR REPLACE FUNCTION search_browse_upcoming_json(p_event boolean, p_train boolean,
                                                       p_city_key text, p_category text,
                                                       p_lo timestamptz, p_limit int,
                                                       p_offset int)
RETURNS text LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_since timestamptz := search_browse_since();
    v_cities text[];
    v_events bigint;
    v_total bigint;
    v_page search_page_row[];
    v_city json;
    v_category json;
BEGIN
    WITH c AS (
        SELECT x.doc_type, x.city, x.category, sum(x.n) AS n
        FROM (SELECT b.doc_type, b.city, b.category, b.n
              FROM search_browse_counts b
              WHERE b.city_key = coalesce(p_city_key, '')
                AND CASE WHEN b.doc_type = 'train' THEN p_train AND p_category IS NULL
                         ELSE p_event AND (p_category IS NULL OR b.category = p_category) END
              UNION ALL
              SELECT 'event', coalesce(d.city, ''), coalesce(d.category, ''), -count(*)
              FROM search_documents d
              WHERE p_event AND d.doc_type = 'event'
                AND d.starts_at >= v_since AND d.starts_at < p_lo
                AND (p_city_key IS NULL OR d.city_keys @> ARRAY[p_city_key])
                AND (p_category IS NULL OR d.category = p_category)
              GROUP BY 1, 2, 3) x
        GROUP BY 1, 2, 3)
    SELECT (SELECT coalesce(sum(n), 0)::bigint FROM c WHERE doc_type = 'event'),
           (SELECT coalesce(sum(n), 0)::bigint FROM c),
           (SELECT json_agg(json_build_object('value', city, 'count', n)
                            ORDER BY n DESC, city)
            FROM (SELECT city, sum(n) AS n FROM c
                  WHERE doc_type = 'event' AND city <> ''
                  GROUP BY city HAVING sum(n) > 0 ORDER BY 2 DESC, city LIMIT 20) f),
           (SELECT json_agg(json_build_object('value', category, 'count', n)
                            ORDER BY n DESC, category)
            FROM (SELECT category, sum(n) AS n FROM c
                  WHERE doc_type = 'event' AND category <> ''
                  GROUP BY category HAVING sum(n) > 0 ORDER BY 2 DESC, category
                  LIMIT 20) f)
    INTO v_events, v_total, v_city, v_category;
    -- With a place key, the events are read city by city, each in date
    -- order from its own index (migration 025), a page's worth at most
    -- from each: the cities a key stands for are those the counts have
    -- for it (every event from now on is in them; "Bombay" names Mumbai,
    -- "mumbai" also Navi Mumbai). Reading the date-ordered browse index
    -- instead visits every city's events to find this one's (about forty
    -- heap rows a hit), and all of them when the place has none.
    IF p_city_key IS NOT NULL THEN
        SELECT coalesce(array_agg(DISTINCT b.city), '{}') INTO v_cities
        FROM search_browse_counts b
        WHERE b.doc_type = 'event' AND b.city_key = p_city_key AND b.n > 0;
    END IF;
    -- The page: events (from now on), then trains in number order only
    -- when the page reaches past the events and the counts have trains;
    -- each part stops after the rows the page needs.
    SELECT array_agg(row(p.doc_type, p.doc_id, 0)::search_page_row
                     ORDER BY p.starts_at NULLS LAST, p.doc_type, p.doc_id)
    INTO v_page
    FROM (SELECT * FROM (
              (SELECT d.doc_type, d.doc_id, d.starts_at
               FROM search_documents d
               WHERE p_event AND p_city_key IS NULL AND v_events > 0 AND d.doc_type = 'event'
                 AND d.starts_at >= p_lo
                 AND (p_category IS NULL OR d.category = p_category)
               ORDER BY d.starts_at, d.doc_type, d.doc_id
               LIMIT p_limit + p_offset)
              UNION ALL
              (SELECT x.doc_type, x.doc_id, x.starts_at
               FROM unnest(v_cities) AS c(city)
               CROSS JOIN LATERAL (
                   SELECT d.doc_type, d.doc_id, d.starts_at
                   FROM search_documents d
                   WHERE p_event AND v_events > 0 AND d.doc_type = 'event'
                     AND d.city = c.city AND d.starts_at >= p_lo
                     -- (= ANY, not @>: a check on the rows read in order,
                     -- which the GIN index of city_keys cannot answer; with
                     -- @> the plan combined both indexes and sorted every
                     -- event of the city)
                     AND p_city_key = ANY (d.city_keys)
                     AND (p_category IS NULL OR d.category = p_category)
                   ORDER BY d.city, d.starts_at, d.doc_type, d.doc_id
                   LIMIT p_limit + p_offset) x
               ORDER BY x.starts_at, x.doc_type, x.doc_id
               LIMIT p_limit + p_offset)
              UNION ALL
              (SELECT d.doc_type, d.doc_id, d.starts_at
               FROM search_documents d
               WHERE v_events < p_limit + p_offset AND v_total > v_events
                 AND p_train AND p_category IS NULL AND d.doc_type = 'train'
                 AND (p_city_key IS NULL OR d.city_keys @> ARRAY[p_city_key])
               ORDER BY d.doc_type, d.doc_id
               LIMIT p_limit + p_offset)) u
          ORDER BY u.starts_at NULLS LAST, u.doc_type, u.doc_id
          LIMIT p_limit OFFSET p_offset) p;
    RETURN search_answer_text(v_total, search_page_hits(v_page), v_city, v_category);
END $$;

-- /api/search without text: upcoming events soonest first, then trains
-- (score 0), with the filters of search_json (p_city_key is a synonym
-- group key or NULL). The usual question (from now on) is answered by
-- search_browse_upcoming_json; other date ranges count the matches here,
-- planned per call (custom plans): how selective a city, a category and
-- the dates are decides between the indexes.
DROP FUNCTION IF EXISTS search_browse_json(boolean, boolean, text, text, timestamptz, timestamptz,
                                            int, int);
CREATE FUNCTION search_browse_json(p_event boolean, p_train boolean, p_city_key text,
                                   p_category text, p_lo timestamptz, p_hi timestamptz,
                                   p_limit int, p_offset int)
RETURNS text LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_result text;
BEGIN
    IF p_lo = now() AND p_hi = 'infinity' AND search_browse_since() <= now() THEN
        RETURN search_browse_upcoming_json(p_event, p_train, p_city_key, p_category, p_lo,
                                           p_limit, p_offset);
    END IF;
    WITH m AS MATERIALIZED (
        SELECT d.doc_type, d.doc_id, d.city, d.category, d.starts_at
        FROM search_documents d
        WHERE search_passes(d.doc_type, d.starts_at, d.category, p_event, p_train, p_lo, p_hi,
                            p_category)
          AND (p_city_key IS NULL OR d.city_keys @> ARRAY[p_city_key]))
    SELECT search_answer_text(
               (SELECT count(*) FROM m),
               search_page_hits(
                   (SELECT array_agg(row(p.doc_type, p.doc_id, 0)::search_page_row
                                     ORDER BY p.starts_at NULLS LAST, p.doc_type, p.doc_id)
                    FROM (SELECT * FROM m ORDER BY starts_at NULLS LAST, doc_type, doc_id
                          LIMIT p_limit OFFSET p_offset) p)),
               (SELECT json_agg(json_build_object('value', city, 'count', c) ORDER BY c DESC, city)
                FROM (SELECT city, count(*) AS c FROM m WHERE city IS NOT NULL
                      GROUP BY city ORDER BY c DESC, city LIMIT 20) f),
               (SELECT json_agg(json_build_object('value', category, 'count', c)
                                ORDER BY c DESC, category)
                FROM (SELECT category, count(*) AS c FROM m WHERE category IS NOT NULL
                      GROUP BY category ORDER BY c DESC, category LIMIT 20) f))
    INTO v_result;
    RETURN v_result;
END $$;

-- /api/search: the same answer shape as es_map_search_response, as JSON
-- text: {"total", "hits": [{"score", ...document fields...}],
--  "facets": {"city": [{"value","count"}], "category": [...]}}.
-- p_types: NULL for both, or {'event'} / {'train'}. Text matches any of
-- its words through the tsvector (title and performer weigh most). When no
-- document matches a word of it, typos are tolerated instead through
-- trigram word similarity of the query to title + performer (a trigram
-- scan is far costlier than a word lookup, so it only runs when needed).
--
-- Every query here is static SQL, so plpgsql prepares each once per
-- connection and reuses its plan (generic: the GIN index of the text
-- match drives the text shapes whatever the filters; absent filters are
-- parameters that make their condition true). Building the query as text
-- and EXECUTE-ing it cost a parse and a plan of the whole CTE on every
-- search. The matches carry their stored hit text along: the heap row is
-- read for the match anyway, so the page needs no second lookup by
-- primary key, and the answer is put together by concatenation. Without
-- text the answer comes from search_browse_json.
DROP FUNCTION IF EXISTS search_json(text, text[], text, text, date, date, boolean, int, int);
CREATE FUNCTION search_json(p_q text, p_types text[], p_city text, p_category text,
                            p_from date, p_to date, p_past boolean, p_limit int, p_offset int)
RETURNS text LANGUAGE plpgsql STABLE
SET pg_trgm.word_similarity_threshold = 0.5
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_q text := nullif(btrim(search_fold(p_q)), '');
    v_tsq tsquery;
    v_city text := nullif(btrim(search_fold(p_city)), '');
    v_event boolean := p_types IS NULL OR 'event' = ANY (p_types);
    v_train boolean := p_types IS NULL OR 'train' = ANY (p_types);
    v_lo timestamptz := '-infinity';
    v_hi timestamptz := 'infinity';
    v_total bigint;
    v_hits text;
    v_city_facet json;
    v_category_facet json;
BEGIN
    IF NOT p_past THEN
        v_lo := now();
    END IF;
    IF p_from IS NOT NULL THEN
        v_lo := greatest(v_lo, p_from::timestamp AT TIME ZONE 'UTC');
    END IF;
    IF p_to IS NOT NULL THEN
        v_hi := (p_to + 1)::timestamp AT TIME ZONE 'UTC';
    END IF;
    IF v_city IS NOT NULL THEN
        v_city := search_city_key(v_city);
    END IF;
    IF v_q IS NULL THEN
        RETURN search_browse_json(v_event, v_train, v_city, p_category, v_lo, v_hi,
                                  p_limit, p_offset);
    END IF;
    v_tsq := replace(plainto_tsquery('simple', v_q)::text, ' & ', ' | ')::tsquery;
    -- Typos are tolerated only when no document at all (whatever the
    -- filters) has a word of the query. Searching the words first and
    -- asking that only when nothing passed the filters spares the common
    -- case a second index scan.
    IF numnode(v_tsq) > 0 THEN
        WITH m AS MATERIALIZED (
            SELECT d.doc_type, d.doc_id, d.city, d.category, d.starts_at, d.hit_tail,
                   ts_rank(d.tsv, v_tsq) AS score
            FROM search_documents d
            WHERE d.tsv @@ v_tsq
              AND search_passes(d.doc_type, d.starts_at, d.category, v_event, v_train, v_lo,
                                v_hi, p_category)
              AND (v_city IS NULL OR d.city_keys @> ARRAY[v_city]))
        SELECT (SELECT count(*) FROM m),
               (SELECT string_agg(search_hit_text(p.score, p.hit_tail), ', '
                                  ORDER BY p.score DESC, p.starts_at NULLS LAST, p.doc_type,
                                           p.doc_id)
                FROM (SELECT * FROM m ORDER BY score DESC, starts_at NULLS LAST, doc_type, doc_id
                      LIMIT p_limit OFFSET p_offset) p),
               (SELECT json_agg(json_build_object('value', city, 'count', c)
                                ORDER BY c DESC, city)
                FROM (SELECT city, count(*) AS c FROM m WHERE city IS NOT NULL
                      GROUP BY city ORDER BY c DESC, city LIMIT 20) f),
               (SELECT json_agg(json_build_object('value', category, 'count', c)
                                ORDER BY c DESC, category)
                FROM (SELECT category, count(*) AS c FROM m WHERE category IS NOT NULL
                      GROUP BY category ORDER BY c DESC, category LIMIT 20) f)
        INTO v_total, v_hits, v_city_facet, v_category_facet;
        -- Two IFs, not one OR: "v_total > 0" alone is a simple expression
        -- that plpgsql evaluates without starting an executor, whereas an
        -- OR with EXISTS started the plan of the EXISTS on every search.
        IF v_total > 0 THEN
            RETURN search_answer_text(v_total, v_hits, v_city_facet, v_category_facet);
        END IF;
        IF EXISTS (SELECT 1 FROM search_documents WHERE tsv @@ v_tsq) THEN
            RETURN search_answer_text(v_total, v_hits, v_city_facet, v_category_facet);
        END IF;
    END IF;
    -- The typo path: the same answer as above over trigram matches. It is
    -- written out again, not shared through dynamic SQL or a set-returning
    -- helper, so that each of the two is a static query with its own plan
    -- kept per connection (dynamic SQL was planned on every search).
    -- Trigram matches are many (hundreds for a word of six letters), so
    -- they stay narrow and the page's hits are read by primary key.
    WITH m AS MATERIALIZED (
        SELECT d.doc_type, d.doc_id, d.city, d.category, d.starts_at,
               word_similarity(v_q, d.names) AS score
        FROM search_documents d
        WHERE v_q <% d.names
          AND search_passes(d.doc_type, d.starts_at, d.category, v_event, v_train, v_lo,
                            v_hi, p_category)
          AND (v_city IS NULL OR d.city_keys @> ARRAY[v_city]))
    SELECT (SELECT count(*) FROM m),
           search_page_hits(
               (SELECT array_agg(row(p.doc_type, p.doc_id, p.score)::search_page_row
                                 ORDER BY p.score DESC, p.starts_at NULLS LAST, p.doc_type,
                                          p.doc_id)
                FROM (SELECT * FROM m ORDER BY score DESC, starts_at NULLS LAST, doc_type,
                                               doc_id
                      LIMIT p_limit OFFSET p_offset) p)),
           (SELECT json_agg(json_build_object('value', city, 'count', c) ORDER BY c DESC, city)
            FROM (SELECT city, count(*) AS c FROM m WHERE city IS NOT NULL
                  GROUP BY city ORDER BY c DESC, city LIMIT 20) f),
           (SELECT json_agg(json_build_object('value', category, 'count', c)
                            ORDER BY c DESC, category)
            FROM (SELECT category, count(*) AS c FROM m WHERE category IS NOT NULL
                  GROUP BY category ORDER BY c DESC, category LIMIT 20) f)
    INTO v_total, v_hits, v_city_facet, v_category_facet;
    RETURN search_answer_text(v_total, v_hits, v_city_facet, v_category_facet);
END $$;

-- /api/search/suggest: {"suggestions": [{"type","id","text"}]}: upcoming
-- events and trains whose title / performer / number / name have words
-- starting with each word of the prefix, best match first. A prefix of
-- three letters matches hundreds of documents, so the ranked rows carry
-- only narrow columns: a document's "id" is its doc_id as a JSON string
-- (search_doc_id in lib/search_doc.c), and carrying the whole document
-- through the sort to take its id cost more. The plan is generic (the GIN
-- index of the prefix drives it whatever the prefix): left to choose,
-- PostgreSQL planned the query again on every call.
CREATE OR REPLACE FUNCTION search_suggest_json(p_prefix text, p_size int)
RETURNS json LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_query text;
    v_tsq tsquery;
BEGIN
    SELECT string_agg(quote_literal(w) || ':*', ' & ') INTO v_query
    FROM regexp_split_to_table(search_fold(p_prefix), '[^[:alnum:]]+') w WHERE w <> '';
    IF v_query IS NULL THEN
        RETURN json_build_object('suggestions', '[]'::json);
    END IF;
    v_tsq := to_tsquery('simple', v_query);
    RETURN json_build_object('suggestions', coalesce((
        SELECT json_agg(json_build_object('type', x.doc_type, 'id', to_json(x.doc_id),
                                          'text', x.suggest_text)
                        ORDER BY x.rank DESC, x.starts_at NULLS LAST, x.doc_type, x.doc_id)
        FROM (SELECT d.doc_type, d.doc_id, d.suggest_text, d.starts_at,
                     ts_rank(d.suggest, v_tsq) AS rank
              FROM search_documents d
              WHERE d.suggest @@ v_tsq AND (d.starts_at >= now() OR d.doc_type = 'train')
              ORDER BY rank DESC, d.starts_at NULLS LAST, d.doc_type, d.doc_id
              LIMIT p_size) x), '[]'));
END $$;

-- How many documents a full reindex builds (for its progress line).
CREATE OR REPLACE FUNCTION search_source_count()
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_trains bigint := 0;
BEGIN
    IF to_regclass('public.trains') IS NOT NULL THEN
        EXECUTE 'SELECT count(*) FROM trains' INTO v_trains;
    END IF;
    RETURN (SELECT count(*) FROM events WHERE status = 'scheduled') + v_trains;
END $$;
