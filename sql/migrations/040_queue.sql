-- 040_queue: the waiting room. Per event: sale settings, the commitment to
-- the pre-queue's random order, and the admission state the worker
-- advances; per user: one place in line.

CREATE EXTENSION IF NOT EXISTS pgcrypto;  -- gen_random_bytes, hmac

CREATE TABLE queue_settings (
    event_id         bigint PRIMARY KEY REFERENCES events ON DELETE CASCADE,
    enabled          boolean NOT NULL DEFAULT false,
    admit_per_minute integer NOT NULL DEFAULT 600 CHECK (admit_per_minute BETWEEN 1 AND 6000000),
    max_active       integer NOT NULL DEFAULT 1000 CHECK (max_active BETWEEN 1 AND 10000000),
    access_ttl_s     integer NOT NULL DEFAULT 600 CHECK (access_ttl_s BETWEEN 10 AND 3600),
    pow_bits         integer NOT NULL DEFAULT 0 CHECK (pow_bits BETWEEN 0 AND 28),
    -- Fairness: the pre-queue's order is drawn from this seed; its SHA-256
    -- is public from the start, the seed itself once the order is drawn.
    seed             bytea NOT NULL DEFAULT gen_random_bytes(32) CHECK (length(seed) = 32),
    committed_at     timestamptz NOT NULL DEFAULT now(),
    drawn_at         timestamptz,
    prequeue_size    integer NOT NULL DEFAULT 0,
    -- Admission: positions 1..last_position are taken, 1..admit_cursor are
    -- admitted. carry is the fraction of an admission owed, in 1/60000ths
    -- (admit_per_minute times milliseconds).
    last_position    bigint NOT NULL DEFAULT 0,
    admit_cursor     bigint NOT NULL DEFAULT 0,
    carry            bigint NOT NULL DEFAULT 0 CHECK (carry BETWEEN 0 AND 59999),
    ticked_at        timestamptz,
    sold_out         boolean NOT NULL DEFAULT false,
    -- Recent cursor steps (cursor after the step, Unix ms), oldest first,
    -- covering the access lifetime: workers derive each admission's time and
    -- the measured rate from them without reading entries.
    history_cursor   bigint[] NOT NULL DEFAULT '{}',
    history_at_ms    bigint[] NOT NULL DEFAULT '{}',
    CHECK (admit_cursor BETWEEN 0 AND last_position)
);

CREATE TABLE queue_entries (
    event_id    bigint NOT NULL REFERENCES events ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    position    bigint CHECK (position > 0),  -- NULL: pre-queue, until the draw
    pre_queue   boolean NOT NULL,
    joined_at   timestamptz NOT NULL DEFAULT now(),
    admitted_at timestamptz,
    used_at     timestamptz,  -- took a hold: no longer counts as active
    PRIMARY KEY (event_id, user_id),
    UNIQUE (event_id, position),
    CHECK (pre_queue OR position IS NOT NULL)
);
-- Active admitted users of an event: a range scan on admission time.
CREATE INDEX queue_entries_active_idx ON queue_entries (event_id, admitted_at)
    WHERE admitted_at IS NOT NULL AND used_at IS NULL;
