-- 030_trains: the railway network (stations, trains, stops), train runs per
-- date, coach compositions and berth layouts, and the segment inventory:
-- bookings (PNRs), their passengers and the berth allocations that the
-- database refuses to overlap.
--
-- Segment inventory. A passenger travelling from stop index f to stop
-- index t occupies a berth over int4range(f, t) (half-open: a berth freed at
-- stop t can be taken from stop t on). A confirmed passenger occupies both
-- halves of the berth (slots [1,3)); an RAC passenger one half of a
-- side-lower berth (slot [1,2) or [2,3)). The exclusion constraint below
-- refuses two live allocations (held or confirmed) of one berth of one run
-- whose stretches and slots overlap, whatever the C or SQL code does.
--
-- Lazy expiry. An unpaid booking's allocations stay 'held' with held_until
-- = its hold's expiry; they stop counting for availability as soon as
-- held_until passes. The constraint cannot look at the clock, so every
-- booking first turns the expired 'held' allocations of its run and class
-- into 'lapsed' (which leaves the constraint) in the same transaction,
-- under the run-and-class lock; the worker's sweep does the same for runs
-- nobody books, and promotes RAC/WL passengers into what was freed.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Knobs, one row. Times of day are local (Asia/Kolkata).
CREATE TABLE train_config (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    time_zone          text NOT NULL DEFAULT 'Asia/Kolkata',
    hold_ttl_s         integer NOT NULL DEFAULT 600 CHECK (hold_ttl_s BETWEEN 1 AND 3600),
    advance_days       integer NOT NULL DEFAULT 60 CHECK (advance_days BETWEEN 1 AND 365),
    advance_open_time  time NOT NULL DEFAULT '08:00',
    tatkal_ac_time     time NOT NULL DEFAULT '10:00',
    tatkal_nonac_time  time NOT NULL DEFAULT '11:00',
    tatkal_max_passengers integer NOT NULL DEFAULT 4,
    chart_before       interval NOT NULL DEFAULT '8 hours',
    run_days_ahead     integer NOT NULL DEFAULT 65 CHECK (run_days_ahead BETWEEN 1 AND 400),
    runs_extended_on   date
);
INSERT INTO train_config DEFAULT VALUES;

-- Classes and their coach layouts. pattern gives the berth (or seat) type
-- of berth n as pattern[(n - 1) % len + 1]: SL and 3A bays are lower,
-- middle, upper, lower, middle, upper, side lower, side upper.
CREATE TABLE train_class_types (
    class          text PRIMARY KEY,
    name           text NOT NULL,
    ac             boolean NOT NULL,
    coach_prefix   text NOT NULL,
    per_coach      integer NOT NULL CHECK (per_coach > 0),
    pattern        text[] NOT NULL,
    rate_per_km    numeric NOT NULL,    -- paise per km
    reservation    integer NOT NULL,    -- paise
    min_km         integer NOT NULL,
    tatkal_pct     numeric NOT NULL,    -- surcharge, share of the base fare
    tatkal_min     integer NOT NULL,
    tatkal_max     integer NOT NULL,
    rac_berths     integer NOT NULL,    -- side lowers kept for RAC (2 each)
    wl_cap         integer NOT NULL,
    sort           integer NOT NULL
);
INSERT INTO train_class_types VALUES
 ('1A', 'AC First Class',   true,  'H', 24, '{LB,UB}',                   3.20, 6000, 300, 0,    0,     0,     0, 20, 1),
 ('2A', 'AC 2 Tier',        true,  'A', 48, '{LB,UB,LB,UB,SL,SU}',       1.90, 5000, 300, 0.30, 40000, 50000, 4, 100, 2),
 ('3A', 'AC 3 Tier',        true,  'B', 64, '{LB,MB,UB,LB,MB,UB,SL,SU}', 1.30, 4000, 300, 0.30, 30000, 40000, 8, 200, 3),
 ('CC', 'AC Chair Car',     true,  'C', 78, '{WS,MS,AS,AS,WS}',          1.10, 4000, 50,  0.30, 12500, 22500, 0, 200, 4),
 ('SL', 'Sleeper',          false, 'S', 72, '{LB,MB,UB,LB,MB,UB,SL,SU}', 0.50, 2000, 200, 0.30, 10000, 20000, 9, 300, 5),
 ('2S', 'Second Sitting',   false, 'D', 108,'{WS,MS,AS,AS,MS,WS}',       0.30, 1500, 50,  0.10, 1000,  1500,  0, 200, 6);

CREATE TABLE stations (
    code      text PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 16),
    name      text NOT NULL,
    state     text,
    zone      text,
    address   text,
    latitude  double precision,
    longitude double precision,
    -- false for codes that trains use but the station list lacks
    listed    boolean NOT NULL DEFAULT true
);
CREATE INDEX stations_name_prefix_idx ON stations (lower(name) text_pattern_ops);

CREATE TABLE trains (
    number        text PRIMARY KEY CHECK (number ~ '^[0-9A-Z]{1,8}$'),
    name          text NOT NULL,
    from_name     text,
    to_name       text,
    pair          text,
    run_days      text[] NOT NULL,      -- of 'mon'..'sun'
    classes       text[] NOT NULL,
    duration_min  integer NOT NULL,
    distance_km   integer NOT NULL,
    departure_min integer NOT NULL CHECK (departure_min BETWEEN 0 AND 1439),
    stations      text[] NOT NULL,      -- the stop list as imported
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Derived timetable (the source has only total duration and distance):
-- arrive_abs_min / depart_abs_min count minutes from midnight of the run
-- date at the origin; arrival_min / departure_min are times of day and
-- day_offset the day of the departure (of the arrival at the last stop).
CREATE TABLE train_stops (
    train_number   text NOT NULL REFERENCES trains ON DELETE CASCADE,
    stop_index     integer NOT NULL CHECK (stop_index >= 0),
    station_code   text NOT NULL REFERENCES stations,
    arrival_min    integer,
    departure_min  integer,
    day_offset     integer NOT NULL,
    distance_km    integer NOT NULL,
    arrive_abs_min integer NOT NULL,
    depart_abs_min integer NOT NULL,
    PRIMARY KEY (train_number, stop_index)
);
-- Search reads stops by station: covering, so that it is an index-only scan.
CREATE INDEX train_stops_station_idx ON train_stops (station_code, train_number, stop_index)
    INCLUDE (depart_abs_min, arrive_abs_min, distance_km);

-- The composition of every run of a train: coaches by class.
CREATE TABLE train_coaches (
    train_number text NOT NULL REFERENCES trains ON DELETE CASCADE,
    class        text NOT NULL REFERENCES train_class_types,
    coach        text NOT NULL,
    seq          integer NOT NULL,    -- 1.. within the class
    PRIMARY KEY (train_number, coach)
);

-- Per train and class: berth counts per quota (derived from the
-- composition by train_berth_quota), RAC and waitlist caps.
CREATE TABLE train_classes (
    train_number text NOT NULL REFERENCES trains ON DELETE CASCADE,
    class        text NOT NULL REFERENCES train_class_types,
    coaches      integer NOT NULL,
    gn_berths    integer NOT NULL,
    tq_berths    integer NOT NULL,
    ld_berths    integer NOT NULL,
    rac_berths   integer NOT NULL,
    wl_cap       integer NOT NULL,
    PRIMARY KEY (train_number, class)
);
CREATE INDEX train_classes_cover_idx ON train_classes (train_number)
    INCLUDE (class, gn_berths, tq_berths, ld_berths, rac_berths, wl_cap);

CREATE TABLE train_runs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    train_number       text NOT NULL REFERENCES trains ON DELETE CASCADE,
    run_date           date NOT NULL,      -- the date it leaves its origin
    departs_at         timestamptz NOT NULL,
    advance_opens_at   timestamptz NOT NULL,
    tatkal_ac_opens_at timestamptz NOT NULL,
    tatkal_nonac_opens_at timestamptz NOT NULL,
    chart_at           timestamptz NOT NULL,
    chart_prepared_at  timestamptz,
    UNIQUE (train_number, run_date)
);
CREATE INDEX train_runs_chart_idx ON train_runs (chart_at) WHERE chart_prepared_at IS NULL;

CREATE SEQUENCE train_pnr_seq;

CREATE TABLE train_bookings (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pnr          text NOT NULL UNIQUE CHECK (pnr ~ '^[0-9]{10}$'),
    hold_id      bigint NOT NULL UNIQUE REFERENCES holds,
    user_id      bigint NOT NULL REFERENCES users,
    run_id       bigint NOT NULL REFERENCES train_runs,
    class        text NOT NULL,
    quota        text NOT NULL CHECK (quota IN ('GN', 'TQ', 'LD')),
    from_idx     integer NOT NULL,
    to_idx       integer NOT NULL,
    fare         bigint NOT NULL,   -- per passenger, paise
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (from_idx < to_idx)
);
CREATE INDEX train_bookings_run_idx ON train_bookings (run_id);
CREATE INDEX train_bookings_user_idx ON train_bookings (user_id);

-- status is the current one: CNF, RAC, WL or CAN (cancel_reason says why:
-- cancelled, released, expired, refunded, chart). The booking-time status
-- sits beside it. A passenger counts (holds a place in the queues) while
-- status <> 'CAN' and held_until > now(); paid passengers have 'infinity'.
CREATE TABLE train_passengers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id       bigint NOT NULL REFERENCES train_bookings,
    run_id           bigint NOT NULL,
    class            text NOT NULL,
    quota            text NOT NULL,
    from_idx         integer NOT NULL,
    to_idx           integer NOT NULL,
    seq              integer NOT NULL CHECK (seq BETWEEN 1 AND 6),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    age              integer NOT NULL CHECK (age BETWEEN 1 AND 125),
    gender           text NOT NULL CHECK (gender IN ('M', 'F', 'T')),
    berth_preference text,
    booking_status   text NOT NULL CHECK (booking_status IN ('CNF', 'RAC', 'WL')),
    booking_coach    text,
    booking_berth    integer,
    booking_position integer,
    status           text NOT NULL CHECK (status IN ('CNF', 'RAC', 'WL', 'CAN')),
    coach            text,
    berth            integer,
    cancel_reason    text,
    refund_due       bigint NOT NULL DEFAULT 0,
    held_until       timestamptz NOT NULL,
    UNIQUE (booking_id, seq)
);
CREATE INDEX train_passengers_queue_idx ON train_passengers (run_id, class, status, id)
    WHERE status IN ('RAC', 'WL');

CREATE TABLE train_allocations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES train_runs,
    class        text NOT NULL,
    coach        text NOT NULL,
    berth        integer NOT NULL,
    berth_quota  text NOT NULL,              -- GN, TQ, LD or RAC
    span         int4range NOT NULL CHECK (NOT isempty(span)),
    slots        int4range NOT NULL CHECK (slots <@ int4range(1, 3) AND NOT isempty(slots)),
    passenger_id bigint NOT NULL REFERENCES train_passengers,
    hold_id      bigint NOT NULL REFERENCES holds,
    state        text NOT NULL CHECK (state IN ('held', 'confirmed', 'lapsed', 'released')),
    held_until   timestamptz NOT NULL,
    CONSTRAINT train_allocations_no_overlap EXCLUDE USING gist (
        run_id WITH =, coach WITH =, berth WITH =, span WITH &&, slots WITH &&)
        WHERE (state IN ('held', 'confirmed'))
);
CREATE INDEX train_allocations_passenger_idx ON train_allocations (passenger_id);
CREATE INDEX train_allocations_hold_idx ON train_allocations (hold_id);
CREATE INDEX train_allocations_run_idx ON train_allocations (run_id, class)
    WHERE state IN ('held', 'confirmed');

INSERT INTO job_counters (name) VALUES ('train_holds_expired'), ('train_charts_prepared');
