-- 020_search: the PostgreSQL backend of the search tier and the outbox that
-- feeds both backends.
--
-- search_documents holds exactly the documents the ElasticSearch backend
-- indexes (doc, built in C by lib/search_doc.c) plus the columns that
-- PostgreSQL searches with, derived from doc by search_document_put() in
-- sql/functions/040_search.sql. search_outbox is written by triggers in the
-- same transactions as the changes (events, prices, venues, trains) and
-- drained by boxoffice-indexer.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- City synonyms: the same equivalence groups as the city_synonyms filter in
-- es-mappings/events.json. term is lowercase without accents; group_key is
-- the group's first term. A city matches a query city iff their group keys
-- are equal (a city in no group is its own key).
CREATE TABLE search_city_synonyms (
    term      text PRIMARY KEY CHECK (term = lower(term)),
    group_key text NOT NULL
);
INSERT INTO search_city_synonyms (term, group_key) VALUES
    ('bombay', 'bombay'), ('mumbai', 'bombay'),
    ('madras', 'madras'), ('chennai', 'madras'),
    ('calcutta', 'calcutta'), ('kolkata', 'calcutta'),
    ('bangalore', 'bangalore'), ('bengaluru', 'bangalore'),
    ('poona', 'poona'), ('pune', 'poona'),
    ('trivandrum', 'trivandrum'), ('thiruvananthapuram', 'trivandrum'),
    ('baroda', 'baroda'), ('vadodara', 'baroda'),
    ('gurgaon', 'gurgaon'), ('gurugram', 'gurgaon'),
    ('mysore', 'mysore'), ('mysuru', 'mysore'),
    ('benares', 'benares'), ('banaras', 'benares'), ('varanasi', 'benares'),
    ('cochin', 'cochin'), ('kochi', 'cochin'),
    ('calicut', 'calicut'), ('kozhikode', 'calicut'),
    ('mangalore', 'mangalore'), ('mangaluru', 'mangalore'),
    ('belgaum', 'belgaum'), ('belagavi', 'belgaum'),
    ('hubli', 'hubli'), ('hubballi', 'hubli'),
    ('pondicherry', 'pondicherry'), ('puducherry', 'pondicherry'),
    ('simla', 'simla'), ('shimla', 'simla'),
    ('cawnpore', 'cawnpore'), ('kanpur', 'cawnpore'),
    ('allahabad', 'allahabad'), ('prayagraj', 'allahabad'),
    ('gauhati', 'gauhati'), ('guwahati', 'gauhati'),
    ('trichy', 'trichy'), ('tiruchirappalli', 'trichy'),
    ('vizag', 'vizag'), ('visakhapatnam', 'vizag'),
    ('tanjore', 'tanjore'), ('thanjavur', 'tanjore'),
    ('quilon', 'quilon'), ('kollam', 'quilon'),
    ('alleppey', 'alleppey'), ('alappuzha', 'alleppey'),
    ('panjim', 'panjim'), ('panaji', 'panjim'),
    ('ooty', 'ooty'), ('udhagamandalam', 'ooty');

CREATE TABLE search_documents (
    doc_type        text NOT NULL CHECK (doc_type IN ('event', 'train')),
    doc_id          text NOT NULL CHECK (length(doc_id) BETWEEN 1 AND 64),
    doc             jsonb NOT NULL,   -- the document, as ElasticSearch gets it
    city            text,             -- facet value (events)
    category        text,             -- facet value and exact filter (events)
    city_keys       text[] NOT NULL,  -- synonym group keys of its city / its stops' cities
    starts_at       timestamptz,      -- events; NULL for trains
    seats_available integer,          -- events: as last indexed
    names           text NOT NULL,    -- folded title, performer / number, name: typo tolerance
    tsv             tsvector NOT NULL,
    suggest         tsvector NOT NULL, -- folded words of title + performer / number + name
    suggest_text    text NOT NULL,
    indexed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (doc_type, doc_id)
);
CREATE INDEX search_documents_tsv_idx ON search_documents USING gin (tsv);
CREATE INDEX search_documents_names_trgm_idx ON search_documents USING gin (names gin_trgm_ops);
CREATE INDEX search_documents_suggest_idx ON search_documents USING gin (suggest);
CREATE INDEX search_documents_city_idx ON search_documents USING gin (city_keys);
CREATE INDEX search_documents_starts_idx ON search_documents (starts_at, doc_id);

-- Changed documents waiting for the indexer. A row says "rebuild this
-- document from the current rows", so duplicates are harmless and order
-- between documents does not matter.
CREATE TABLE search_outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc_type   text NOT NULL CHECK (doc_type IN ('event', 'train')),
    doc_id     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Events whose seat availability the indexer is watching (see
-- search_availability_sweep), and its cursor over holds.
CREATE TABLE search_watch (
    event_id bigint PRIMARY KEY,
    until    timestamptz NOT NULL
);
CREATE TABLE search_state (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO search_state (name, value)
SELECT 'holds_seen', coalesce(max(id), 0) FROM holds;

-- Whatever exists already gets indexed by the first indexer run.
INSERT INTO search_outbox (doc_type, doc_id)
SELECT 'event', id::text FROM events ORDER BY id;
