-- Trains: import, runs, search and availability, booking with CNF / RAC /
-- WL, cancellation and promotion, chart preparation, and the inventory
-- hooks holds and checkout call (train_hold_*). Reapplied on every migrate.
--
-- Concurrency: every function that changes the allocations of a run and
-- class first takes train_lock(run, class), a transaction-scoped advisory
-- lock, so that RAC and waitlist numbers are handed out in booking order and
-- promotion sees a stable queue. The exclusion constraint on
-- train_allocations remains the guarantee against double sale. Lock order
-- everywhere: a holds row (when any), then the run-and-class lock.

CREATE OR REPLACE FUNCTION train_lock(p_run bigint, p_class text)
RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext('train'), hashtext(p_run::text || '/' || p_class))
$$;

-- The quota a berth belongs to, from its place in the composition: the
-- last side lowers of the class's last coach are RAC berths (two RAC
-- passengers share one), the first six berths of the first coach are the
-- ladies quota, half of the last coach is Tatkal (never in 1A).
CREATE OR REPLACE FUNCTION train_berth_quota(p_class text, p_seq int, p_coaches int, p_berth int,
                                             p_type text, p_per_coach int, p_pattern_len int,
                                             p_rac int)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_type = 'SL' AND p_seq = p_coaches AND (p_per_coach - p_berth) / p_pattern_len < p_rac
            THEN 'RAC'
        WHEN p_class <> '1A' AND p_seq = 1 AND p_berth <= 6 THEN 'LD'
        WHEN p_class <> '1A' AND p_seq = p_coaches AND p_berth <= p_per_coach / 2 THEN 'TQ'
        ELSE 'GN' END
$$;

DROP FUNCTION IF EXISTS train_berths(text, text);  -- train_run_berths took its place

-- A train's class as one run has it: the run's own composition
-- (train_run_classes) when it has one, otherwise the train's.
CREATE OR REPLACE FUNCTION train_run_class(p_run bigint, p_train text, p_class text)
RETURNS SETOF train_classes LANGUAGE sql STABLE AS $$
    SELECT tc.train_number, tc.class, coalesce(rc.coaches, tc.coaches),
           coalesce(rc.gn_berths, tc.gn_berths), coalesce(rc.tq_berths, tc.tq_berths),
           coalesce(rc.ld_berths, tc.ld_berths), coalesce(rc.rac_berths, tc.rac_berths),
           coalesce(rc.wl_cap, tc.wl_cap)
    FROM train_classes tc
    LEFT JOIN train_run_classes rc ON rc.run_id = p_run AND rc.class = tc.class
    WHERE tc.train_number = p_train AND tc.class = p_class
$$;

-- Every berth of a class on one run, with its type and quota: the train's
-- coaches, or coaches 1..n of the run's own composition when it has one.
-- Two branches rather than one over train_run_class: the booking path
-- runs this for every passenger, and the train's coaches (nearly every
-- run) plan best as they were.
CREATE OR REPLACE FUNCTION train_run_berths(p_run bigint, p_train text, p_class text)
RETURNS TABLE (coach text, seq int, berth int, berth_type text, quota text)
LANGUAGE sql STABLE AS $$
    SELECT c.coach, c.seq, b.n, t.pattern[(b.n - 1) % cardinality(t.pattern) + 1],
           train_berth_quota(c.class, c.seq, tc.coaches, b.n,
                             t.pattern[(b.n - 1) % cardinality(t.pattern) + 1],
                             t.per_coach, cardinality(t.pattern), tc.rac_berths)
    FROM train_coaches c
    JOIN train_class_types t ON t.class = c.class
    JOIN train_classes tc ON tc.train_number = c.train_number AND tc.class = c.class
    CROSS JOIN generate_series(1, t.per_coach) b(n)
    WHERE c.train_number = p_train AND c.class = p_class
      AND NOT EXISTS (SELECT 1 FROM train_run_classes rc
                      WHERE rc.run_id = p_run AND rc.class = p_class)
    UNION ALL
    SELECT t.coach_prefix || c.n, c.n, b.n, t.pattern[(b.n - 1) % cardinality(t.pattern) + 1],
           train_berth_quota(rc.class, c.n, rc.coaches, b.n,
                             t.pattern[(b.n - 1) % cardinality(t.pattern) + 1],
                             t.per_coach, cardinality(t.pattern), rc.rac_berths)
    FROM train_run_classes rc
    JOIN train_class_types t ON t.class = rc.class
    CROSS JOIN generate_series(1, rc.coaches) c(n)
    CROSS JOIN generate_series(1, t.per_coach) b(n)
    WHERE rc.run_id = p_run AND rc.class = p_class
$$;

-- Which berth quotas a passenger of a booking quota may be given.
CREATE OR REPLACE FUNCTION train_pools(p_quota text)
RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_quota WHEN 'LD' THEN '{LD,GN}'::text[] WHEN 'TQ' THEN '{TQ}'::text[]
                        ELSE '{GN}'::text[] END
$$;

-- Fare per passenger in paise: distance rate (with a minimum distance),
-- reservation charge, the Tatkal surcharge; rounded up to 5 rupees.
CREATE OR REPLACE FUNCTION train_fare(p_class text, p_km int, p_quota text)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT (ceil((base + t.reservation
                  + CASE WHEN p_quota = 'TQ'
                         THEN least(greatest(round(base * t.tatkal_pct), t.tatkal_min), t.tatkal_max)
                         ELSE 0 END) / 500.0) * 500)::bigint
    FROM train_class_types t,
         LATERAL (SELECT round(greatest(p_km, t.min_km) * t.rate_per_km * 100) AS base) b
    WHERE t.class = p_class
$$;

-- Marks the expired 'held' allocations of a run and class 'lapsed', which
-- takes them out of the exclusion constraint. Call under train_lock.
CREATE OR REPLACE FUNCTION train_clear_lapsed(p_run bigint, p_class text)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_count int;
BEGIN
    UPDATE train_allocations SET state = 'lapsed'
    WHERE run_id = p_run AND class = p_class AND state = 'held' AND held_until <= now();
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;

-- The best free berth for a stretch: the passenger's preference first,
-- then a berth already used right before or after the stretch (so berths
-- are not fragmented), then the quota pools in order, then the lowest coach
-- and berth. Call under train_lock after train_clear_lapsed.
CREATE OR REPLACE FUNCTION train_pick_cnf(p_run bigint, p_train text, p_class text, p_pools text[],
                                          p_from int, p_to int, p_pref text)
RETURNS TABLE (coach text, berth int, quota text)
LANGUAGE sql STABLE AS $$
    -- One row per berth in use (a hash join below, not a probe per berth).
    WITH live AS (
        SELECT a.coach, a.berth, bool_or(a.span && int4range(p_from, p_to)) AS busy,
               bool_or(upper(a.span) = p_from OR lower(a.span) = p_to) AS adjacent
        FROM train_allocations a
        WHERE a.run_id = p_run AND a.class = p_class AND a.state IN ('held', 'confirmed')
        GROUP BY a.coach, a.berth
    )
    SELECT b.coach, b.berth, b.quota
    FROM train_run_berths(p_run, p_train, p_class) b
    LEFT JOIN live l ON l.coach = b.coach AND l.berth = b.berth
    WHERE b.quota = ANY (p_pools) AND NOT coalesce(l.busy, false)
    ORDER BY coalesce(b.berth_type = p_pref, false) DESC, coalesce(l.adjacent, false) DESC,
             array_position(p_pools, b.quota), b.seq, b.berth
    LIMIT 1
$$;

-- A free RAC place (half a side-lower RAC berth) for a stretch.
CREATE OR REPLACE FUNCTION train_pick_rac(p_run bigint, p_train text, p_class text,
                                          p_from int, p_to int)
RETURNS TABLE (coach text, berth int, slot int)
LANGUAGE sql STABLE AS $$
    WITH busy AS (
        SELECT DISTINCT a.coach, a.berth, s.slot FROM train_allocations a
        CROSS JOIN generate_series(1, 2) s(slot)
        WHERE a.run_id = p_run AND a.class = p_class AND a.berth_quota = 'RAC'
          AND a.state IN ('held', 'confirmed') AND a.span && int4range(p_from, p_to)
          AND a.slots && int4range(s.slot, s.slot + 1)
    )
    SELECT b.coach, b.berth, s.slot
    FROM train_run_berths(p_run, p_train, p_class) b CROSS JOIN generate_series(1, 2) s(slot)
    LEFT JOIN busy x ON x.coach = b.coach AND x.berth = b.berth AND x.slot = s.slot
    WHERE b.quota = 'RAC' AND x.coach IS NULL
    ORDER BY b.seq, b.berth, s.slot
    LIMIT 1
$$;

-- Gives passenger p a confirmed berth or an RAC place (p_want 'CNF' or
-- 'RAC'); true when it found one. Releases the passenger's previous
-- allocation (an RAC place when promoted). Call under train_lock.
CREATE OR REPLACE FUNCTION train_place(p_id bigint, p_want text)
RETURNS boolean LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    p train_passengers%ROWTYPE;
    v_train text;
    v_hold bigint;
    v_coach text;
    v_berth int;
    v_quota text;
    v_slot int;
BEGIN
    SELECT * INTO p FROM train_passengers WHERE id = p_id;
    SELECT r.train_number INTO v_train FROM train_runs r WHERE r.id = p.run_id;
    SELECT b.hold_id INTO v_hold FROM train_bookings b WHERE b.id = p.booking_id;
    IF p_want = 'CNF' THEN
        SELECT c.coach, c.berth, c.quota INTO v_coach, v_berth, v_quota
        FROM train_pick_cnf(p.run_id, v_train, p.class, train_pools(p.quota),
                            p.from_idx, p.to_idx, p.berth_preference) c;
    ELSE
        SELECT c.coach, c.berth, c.slot INTO v_coach, v_berth, v_slot
        FROM train_pick_rac(p.run_id, v_train, p.class, p.from_idx, p.to_idx) c;
        v_quota := 'RAC';
    END IF;
    IF v_coach IS NULL THEN
        RETURN false;
    END IF;
    UPDATE train_allocations SET state = 'released'
    WHERE passenger_id = p_id AND state IN ('held', 'confirmed');
    INSERT INTO train_allocations (run_id, class, coach, berth, berth_quota, span, slots,
                                   passenger_id, hold_id, state, held_until)
    VALUES (p.run_id, p.class, v_coach, v_berth, v_quota, int4range(p.from_idx, p.to_idx),
            CASE WHEN p_want = 'CNF' THEN int4range(1, 3) ELSE int4range(v_slot, v_slot + 1) END,
            p_id, v_hold,
            CASE WHEN p.held_until = 'infinity' THEN 'confirmed' ELSE 'held' END, p.held_until);
    UPDATE train_passengers SET status = p_want, coach = v_coach, berth = v_berth
    WHERE id = p_id;
    RETURN true;
END $$;

-- Moves RAC passengers to freed berths and waitlisted passengers to freed
-- RAC places (or straight to a berth that fits), in booking order, only
-- where the journey fits, until nothing moves. Returns how many moves.
-- Call under train_lock after train_clear_lapsed.
CREATE OR REPLACE FUNCTION train_promote(p_run bigint, p_class text)
RETURNS int LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_total int := 0;
    v_moved int;
    p record;
BEGIN
    IF (SELECT chart_prepared_at FROM train_runs WHERE id = p_run) IS NOT NULL THEN
        RETURN 0;  -- the chart froze every status
    END IF;
    LOOP
        v_moved := 0;
        FOR p IN SELECT id, status FROM train_passengers
                 WHERE run_id = p_run AND class = p_class AND status IN ('RAC', 'WL')
                   AND held_until > now()
                 ORDER BY (status = 'RAC') DESC, id LOOP
            IF train_place(p.id, 'CNF') THEN
                v_moved := v_moved + 1;
            ELSIF p.status = 'WL' AND train_place(p.id, 'RAC') THEN
                v_moved := v_moved + 1;
            END IF;
        END LOOP;
        EXIT WHEN v_moved = 0;
        v_total := v_total + v_moved;
    END LOOP;
    RETURN v_total;
END $$;

-- A passenger's current queue position: RAC n within the class, WL n
-- within the class and quota, counting only live passengers.
DROP FUNCTION IF EXISTS train_position(bigint);
CREATE OR REPLACE FUNCTION train_position(p_id bigint)
RETURNS int LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT CASE p.status
        WHEN 'RAC' THEN (SELECT count(*) FROM train_passengers q
                         WHERE q.run_id = p.run_id AND q.class = p.class AND q.status = 'RAC'
                           AND q.held_until > now() AND q.id <= p.id)::int
        WHEN 'WL' THEN (SELECT count(*) FROM train_passengers q
                        WHERE q.run_id = p.run_id AND q.class = p.class AND q.status = 'WL'
                          AND q.quota = p.quota AND q.held_until > now() AND q.id <= p.id)::int
        END
    FROM train_passengers p WHERE p.id = p_id);
END $$;

-- A booking as the API shows it (PNR enquiry, the booking answer, the
-- hold). Each passenger carries the status at booking and the current one;
-- a passenger of an unpaid booking past its expiry reads as CAN (expired).
DROP FUNCTION IF EXISTS train_booking_json(bigint);
CREATE OR REPLACE FUNCTION train_booking_json(p_booking_id bigint)
RETURNS json LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- plpgsql: its plan is cached per connection (a SQL function's is not).
    RETURN (SELECT json_build_object(
        'pnr', b.pnr, 'id', h.id, 'hold_id', h.id, 'kind', 'train',
        'status', CASE WHEN h.status = 'active' AND h.expires_at <= now() THEN 'expired'
                       ELSE h.status END,
        'train', json_build_object('number', t.number, 'name', t.name),
        'date', r.run_date,
        'from', json_build_object('code', fs.station_code, 'name', fst.name, 'index', b.from_idx,
                                  'departs_at', r.departs_at + make_interval(
                                      mins => fs.depart_abs_min - t.departure_min)),
        'to', json_build_object('code', ts.station_code, 'name', tst.name, 'index', b.to_idx,
                                'arrives_at', r.departs_at + make_interval(
                                    mins => ts.arrive_abs_min - t.departure_min)),
        'class', b.class, 'quota', b.quota, 'fare', b.fare,
        'amount', h.amount, 'currency', h.currency,
        'created_at', h.created_at, 'expires_at', h.expires_at,
        'chart_prepared', r.chart_prepared_at IS NOT NULL,
        'passengers', (SELECT json_agg(json_build_object(
            'seq', p.seq, 'name', p.name, 'age', p.age, 'gender', p.gender,
            'berth_preference', p.berth_preference,
            'booking_status', json_build_object(
                'status', p.booking_status, 'coach', p.booking_coach,
                'berth', p.booking_berth, 'position', p.booking_position),
            'status', CASE WHEN p.status <> 'CAN' AND p.held_until <= now() THEN 'CAN'
                           ELSE p.status END,
            'coach', CASE WHEN p.status IN ('CNF', 'RAC') AND p.held_until > now() THEN p.coach END,
            'berth', CASE WHEN p.status IN ('CNF', 'RAC') AND p.held_until > now() THEN p.berth END,
            'berth_type', CASE WHEN p.status IN ('CNF', 'RAC') AND p.held_until > now() THEN
                (SELECT ct.pattern[(p.berth - 1) % cardinality(ct.pattern) + 1]
                 FROM train_class_types ct WHERE ct.class = p.class) END,
            'position', CASE WHEN p.held_until > now() THEN train_position(p.id) END,
            'cancel_reason', CASE WHEN p.status <> 'CAN' AND p.held_until <= now() THEN 'expired'
                                  ELSE p.cancel_reason END,
            'refund_due', p.refund_due) ORDER BY p.seq)
            FROM train_passengers p WHERE p.booking_id = b.id))
    FROM train_bookings b
    JOIN holds h ON h.id = b.hold_id
    JOIN train_runs r ON r.id = b.run_id
    JOIN trains t ON t.number = r.train_number
    JOIN train_stops fs ON fs.train_number = t.number AND fs.stop_index = b.from_idx
    JOIN train_stops ts ON ts.train_number = t.number AND ts.stop_index = b.to_idx
    JOIN stations fst ON fst.code = fs.station_code
    JOIN stations tst ON tst.code = ts.station_code
    WHERE b.id = p_booking_id);
END $$;

-- Inventory hooks (see 020_holds.sql).
CREATE OR REPLACE FUNCTION train_hold_json(p_hold_id bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT train_booking_json(id) FROM train_bookings WHERE hold_id = p_hold_id
$$;

-- Cancels every passenger of a hold still travelling (reason given),
-- frees their allocations and promotes others into the space.
CREATE OR REPLACE FUNCTION train_cancel_hold(p_hold_id bigint, p_reason text)
RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    b train_bookings%ROWTYPE;
BEGIN
    SELECT * INTO b FROM train_bookings WHERE hold_id = p_hold_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM train_lock(b.run_id, b.class);
    PERFORM train_clear_lapsed(b.run_id, b.class);
    UPDATE train_passengers SET status = 'CAN', cancel_reason = p_reason,
                                refund_due = CASE WHEN p_reason IN ('cancelled', 'refunded')
                                                  THEN b.fare ELSE 0 END
    WHERE booking_id = b.id AND status <> 'CAN';
    UPDATE train_allocations SET state = 'released'
    WHERE hold_id = p_hold_id AND state IN ('held', 'confirmed', 'lapsed');
    PERFORM train_promote(b.run_id, b.class);
END $$;

CREATE OR REPLACE FUNCTION train_hold_release(p_hold_id bigint)
RETURNS void LANGUAGE sql AS $$
    SELECT train_cancel_hold(p_hold_id, 'released')
$$;

CREATE OR REPLACE FUNCTION train_hold_unfulfil(p_hold_id bigint)
RETURNS void LANGUAGE sql AS $$
    SELECT train_cancel_hold(p_hold_id, 'refunded')
$$;

-- Payment succeeded: the hold's passengers keep their places for good
-- (held allocations become confirmed, held_until infinity). A hold that
-- expired meanwhile completes when its berths are still free (the lapsed
-- allocations come back); false, changing nothing, when someone else has
-- one of them now or the booking was cancelled.
CREATE OR REPLACE FUNCTION train_hold_fulfil(p_hold_id bigint)
RETURNS boolean LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    b train_bookings%ROWTYPE;
BEGIN
    SELECT * INTO b FROM train_bookings WHERE hold_id = p_hold_id;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM train_lock(b.run_id, b.class);
    PERFORM train_clear_lapsed(b.run_id, b.class);
    IF EXISTS (SELECT 1 FROM train_passengers WHERE booking_id = b.id AND status = 'CAN') THEN
        RETURN false;
    END IF;
    BEGIN
        UPDATE train_allocations a SET state = 'confirmed', held_until = 'infinity'
        WHERE a.id IN (SELECT max(x.id) FROM train_allocations x
                       JOIN train_passengers p ON p.id = x.passenger_id
                       WHERE x.hold_id = p_hold_id AND p.status IN ('CNF', 'RAC')
                       GROUP BY x.passenger_id)
          AND a.state IN ('held', 'lapsed');
        UPDATE train_passengers SET held_until = 'infinity' WHERE booking_id = b.id;
    EXCEPTION WHEN exclusion_violation THEN
        RETURN false;
    END;
    RETURN true;
END $$;

-- Booking: one transaction, all or nothing. p_passengers is a JSON array
-- of {"name","age","gender","berth_preference"} checked by the caller.
-- Outcomes: created, train_not_found, run_not_found, unknown_station,
-- station_not_on_route, wrong_direction, unknown_class, no_quota,
-- booking_not_open, tatkal_not_open, booking_closed, tatkal_limit,
-- ladies_only, regret.
CREATE OR REPLACE FUNCTION train_book(p_user bigint, p_train text, p_date date, p_from text,
                                      p_to text, p_class text, p_quota text, p_passengers jsonb)
RETURNS TABLE (outcome text, booking json)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    cfg train_config%ROWTYPE;
    v_run train_runs%ROWTYPE;
    v_class train_classes%ROWTYPE;
    v_ac boolean;
    v_from int;
    v_to int;
    v_km int;
    v_board timestamptz;
    v_fare bigint;
    v_hold bigint;
    v_booking bigint;
    v_count int := jsonb_array_length(p_passengers);
    v_pid bigint;
    v_wl int;
    v_status text;
    p jsonb;
    i int := 0;
BEGIN
    SELECT * INTO cfg FROM train_config;
    IF NOT EXISTS (SELECT 1 FROM trains WHERE number = p_train) THEN
        RETURN QUERY SELECT 'train_not_found', NULL::json; RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM stations WHERE code = p_from)
       OR NOT EXISTS (SELECT 1 FROM stations WHERE code = p_to) THEN
        RETURN QUERY SELECT 'unknown_station', NULL::json; RETURN;
    END IF;
    SELECT min(stop_index) INTO v_from FROM train_stops
    WHERE train_number = p_train AND station_code = p_from;
    IF v_from IS NULL OR NOT EXISTS (SELECT 1 FROM train_stops
                                     WHERE train_number = p_train AND station_code = p_to) THEN
        RETURN QUERY SELECT 'station_not_on_route', NULL::json; RETURN;
    END IF;
    SELECT min(stop_index) INTO v_to FROM train_stops
    WHERE train_number = p_train AND station_code = p_to AND stop_index > v_from;
    IF v_to IS NULL THEN
        RETURN QUERY SELECT 'wrong_direction', NULL::json; RETURN;
    END IF;
    SELECT * INTO v_run FROM train_runs WHERE train_number = p_train AND run_date = p_date;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'run_not_found', NULL::json; RETURN;
    END IF;
    SELECT * INTO v_class FROM train_run_class(v_run.id, p_train, p_class);
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown_class', NULL::json; RETURN;
    END IF;
    IF (p_quota = 'TQ' AND v_class.tq_berths = 0) OR (p_quota = 'LD' AND v_class.ld_berths = 0) THEN
        RETURN QUERY SELECT 'no_quota', NULL::json; RETURN;
    END IF;
    SELECT ac INTO v_ac FROM train_class_types WHERE class = p_class;
    SELECT r.departs_at + make_interval(mins => s.depart_abs_min - t.departure_min)
      INTO v_board
      FROM train_runs r JOIN trains t ON t.number = r.train_number
      JOIN train_stops s ON s.train_number = t.number AND s.stop_index = v_from
     WHERE r.id = v_run.id;
    IF v_run.chart_prepared_at IS NOT NULL OR v_board <= now() THEN
        RETURN QUERY SELECT 'booking_closed', NULL::json; RETURN;
    END IF;
    IF p_quota = 'TQ' THEN
        IF now() < (CASE WHEN v_ac THEN v_run.tatkal_ac_opens_at
                          ELSE v_run.tatkal_nonac_opens_at END) THEN
            RETURN QUERY SELECT 'tatkal_not_open', NULL::json; RETURN;
        END IF;
        IF v_count > cfg.tatkal_max_passengers THEN
            RETURN QUERY SELECT 'tatkal_limit', NULL::json; RETURN;
        END IF;
    ELSIF now() < v_run.advance_opens_at THEN
        RETURN QUERY SELECT 'booking_not_open', NULL::json; RETURN;
    END IF;
    -- Ladies quota: women, and boys under 12 travelling with them.
    IF p_quota = 'LD' AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(p_passengers) x
        WHERE x->>'gender' <> 'F' AND (x->>'age')::int >= 12) THEN
        RETURN QUERY SELECT 'ladies_only', NULL::json; RETURN;
    END IF;

    SELECT s2.distance_km - s1.distance_km INTO v_km
      FROM train_stops s1, train_stops s2
     WHERE s1.train_number = p_train AND s1.stop_index = v_from
       AND s2.train_number = p_train AND s2.stop_index = v_to;
    v_fare := train_fare(p_class, v_km, p_quota);

    -- A full class answers "regret" from a snapshot, without queueing for
    -- the run's lock behind everyone else (the Tatkal rush): no berth of
    -- the quota's pools and no RAC place free over the stretch, and the
    -- waitlist full. Anything less certain takes the exact path below.
    IF NOT EXISTS (SELECT 1 FROM train_allocations a
                   WHERE a.run_id = v_run.id AND a.class = p_class
                     AND a.state = 'held' AND a.held_until <= now())
       AND (SELECT count(*) FROM train_passengers q
            WHERE q.run_id = v_run.id AND q.class = p_class AND q.quota = p_quota
              AND q.status = 'WL' AND q.held_until > now()) + v_count > v_class.wl_cap
       AND (SELECT count(DISTINCT (a.coach, a.berth)) FROM train_allocations a
            WHERE a.run_id = v_run.id AND a.class = p_class
              AND a.berth_quota = ANY (train_pools(p_quota))
              AND a.state IN ('held', 'confirmed') AND a.held_until > now()
              AND a.span && int4range(v_from, v_to))
           >= (CASE p_quota WHEN 'TQ' THEN v_class.tq_berths
                            WHEN 'LD' THEN v_class.ld_berths + v_class.gn_berths
                            ELSE v_class.gn_berths END)
       AND (SELECT count(DISTINCT (a.coach, a.berth, lower(a.slots))) FROM train_allocations a
            WHERE a.run_id = v_run.id AND a.class = p_class AND a.berth_quota = 'RAC'
              AND a.state IN ('held', 'confirmed') AND a.held_until > now()
              AND a.span && int4range(v_from, v_to)) >= 2 * v_class.rac_berths THEN
        RETURN QUERY SELECT 'regret', NULL::json; RETURN;
    END IF;

    -- Bookings carry no money until paid: like holds, they may skip the
    -- wait for the WAL flush when the operator allows it.
    IF current_setting('boxoffice.hold_async_commit', true) = 'on' THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    PERFORM train_lock(v_run.id, p_class);
    IF train_clear_lapsed(v_run.id, p_class) > 0 THEN
        PERFORM train_promote(v_run.id, p_class);  -- the queue first
    END IF;

    BEGIN
        INSERT INTO holds (kind, user_id, amount, currency, expires_at)
        VALUES ('train', p_user, v_fare * v_count, 'INR',
                now() + make_interval(secs => cfg.hold_ttl_s))
        RETURNING id INTO v_hold;
        INSERT INTO train_bookings (pnr, hold_id, user_id, run_id, class, quota, from_idx, to_idx, fare)
        VALUES ((1000000000 + (nextval('train_pnr_seq')::numeric * 7919 + 4242424) % 9000000000)::bigint::text,
                v_hold, p_user, v_run.id, p_class, p_quota, v_from, v_to, v_fare)
        RETURNING id INTO v_booking;
        FOR p IN SELECT value FROM jsonb_array_elements(p_passengers) LOOP
            i := i + 1;
            INSERT INTO train_passengers (booking_id, run_id, class, quota, from_idx, to_idx, seq,
                                          name, age, gender, berth_preference, booking_status,
                                          status, held_until)
            VALUES (v_booking, v_run.id, p_class, p_quota, v_from, v_to, i, p->>'name',
                    (p->>'age')::int, p->>'gender', nullif(p->>'berth_preference', ''), 'WL',
                    'WL', now() + make_interval(secs => cfg.hold_ttl_s))
            RETURNING id INTO v_pid;
            -- Every writer ends with promotion, so nobody waiting fits a
            -- free place now: a new passenger may take any.
            IF train_place(v_pid, 'CNF') THEN
                v_status := 'CNF';
            ELSIF train_place(v_pid, 'RAC') THEN
                v_status := 'RAC';
            ELSE
                SELECT count(*) INTO v_wl FROM train_passengers q
                WHERE q.run_id = v_run.id AND q.class = p_class AND q.quota = p_quota
                  AND q.status = 'WL' AND q.held_until > now();
                IF v_wl > v_class.wl_cap THEN
                    RAISE EXCEPTION 'regret' USING ERRCODE = 'BXT01';
                END IF;
                v_status := 'WL';
            END IF;
            UPDATE train_passengers SET booking_status = status, booking_coach = coach,
                                        booking_berth = berth,
                                        booking_position = train_position(v_pid)
            WHERE id = v_pid;
        END LOOP;
    EXCEPTION WHEN SQLSTATE 'BXT01' THEN
        RETURN QUERY SELECT 'regret', NULL::json; RETURN;
    END;
    RETURN QUERY SELECT 'created', train_booking_json(v_booking);
END $$;

-- The booking of a PNR when it is the user's (NULL otherwise).
CREATE OR REPLACE FUNCTION train_pnr_json(p_user bigint, p_pnr text)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT train_booking_json(id) FROM train_bookings WHERE pnr = p_pnr AND user_id = p_user
$$;

-- Cancels a PNR of the user. Outcomes: cancelled (an unpaid booking: its
-- hold is released), paid (the hold became an order: the caller cancels and
-- refunds the order, whose hold_unfulfil frees the places), already_done,
-- chart_prepared, not_found. hold_id is returned for 'paid'.
CREATE OR REPLACE FUNCTION train_cancel(p_user bigint, p_pnr text)
RETURNS TABLE (outcome text, booking json, hold_id bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    b train_bookings%ROWTYPE;
    h holds%ROWTYPE;
BEGIN
    SELECT * INTO b FROM train_bookings WHERE pnr = p_pnr AND user_id = p_user;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found', NULL::json, NULL::bigint; RETURN;
    END IF;
    SELECT * INTO h FROM holds WHERE id = b.hold_id FOR UPDATE;
    IF (SELECT chart_prepared_at FROM train_runs WHERE id = b.run_id) IS NOT NULL THEN
        RETURN QUERY SELECT 'chart_prepared', NULL::json, NULL::bigint; RETURN;
    END IF;
    IF h.status = 'converted' THEN
        RETURN QUERY SELECT 'paid', NULL::json, h.id; RETURN;
    END IF;
    IF h.status = 'active' AND h.expires_at > now() THEN
        UPDATE holds SET status = 'released' WHERE id = h.id;
        PERFORM train_cancel_hold(h.id, 'cancelled');
        RETURN QUERY SELECT 'cancelled', train_booking_json(b.id), h.id; RETURN;
    END IF;
    RETURN QUERY SELECT 'already_done', train_booking_json(b.id), h.id;
END $$;

-- The worker's sweep: expires up to p_limit unpaid train holds past their
-- time, lapses their allocations and promotes the queues behind them.
CREATE OR REPLACE FUNCTION train_sweep(p_limit int)
RETURNS int LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_hold bigint;
    v_count int := 0;
    b record;
BEGIN
    FOR v_hold IN SELECT id FROM holds
                  WHERE kind = 'train' AND status = 'active' AND expires_at <= now()
                  ORDER BY expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
        UPDATE holds SET status = 'expired' WHERE id = v_hold;
        SELECT run_id, class INTO b FROM train_bookings WHERE hold_id = v_hold;
        IF FOUND THEN
            PERFORM train_lock(b.run_id, b.class);
            PERFORM train_clear_lapsed(b.run_id, b.class);
            PERFORM train_promote(b.run_id, b.class);
        END IF;
        v_count := v_count + 1;
    END LOOP;
    IF v_count > 0 THEN
        UPDATE job_counters SET value = value + v_count WHERE name = 'train_holds_expired';
    END IF;
    RETURN v_count;
END $$;

-- Chart preparation for up to p_limit runs whose chart time has come:
-- statuses freeze (no promotion afterwards, no booking or cancellation),
-- passengers still waitlisted are cancelled, and their fares are owed back
-- in the same transaction. A paid booking with some passengers travelling
-- keeps its order paid and its travellers ticketed, and is owed a partial
-- refund of the waitlisted passengers' fares (idempotency key
-- order-<id>-refund-chart: at most once); a paid booking left with nobody
-- travelling has its order cancelled and refunded in full. The worker's
-- reconciler sends what is owed to the provider. An unpaid booking left
-- with nobody travelling is released. Returns, per run charted, one row
-- with hold_id NULL, and one per paid booking with passengers cancelled:
-- how many, the fares owed back, its order and what became of it
-- (partial, whole, no_order: paid without an order, nothing to refund).
DROP FUNCTION IF EXISTS train_prepare_charts(int);
CREATE OR REPLACE FUNCTION train_prepare_charts(p_limit int)
RETURNS TABLE (run_id bigint, hold_id bigint, refunded int, amount bigint, order_id bigint,
               outcome text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    r record;
    x record;
    c text;
    v_order bigint;
    v_outcome text;
BEGIN
    FOR r IN SELECT tr.id, tr.train_number FROM train_runs tr
             WHERE tr.chart_prepared_at IS NULL AND tr.chart_at <= now()
             ORDER BY tr.chart_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
        -- The lock order of every writer: holds rows first, then orders
        -- rows, then the run-and-class locks.
        PERFORM 1 FROM holds h JOIN train_bookings b ON b.hold_id = h.id
        WHERE b.run_id = r.id AND h.status = 'active' ORDER BY h.id FOR UPDATE OF h;
        PERFORM 1 FROM orders o JOIN train_bookings b ON b.hold_id = o.hold_id
        WHERE b.run_id = r.id AND o.status IN ('paid', 'pending_payment')
        ORDER BY o.id FOR UPDATE OF o;
        FOR c IN SELECT tc.class FROM train_classes tc WHERE tc.train_number = r.train_number
                 ORDER BY tc.class LOOP
            PERFORM train_lock(r.id, c);
            PERFORM train_clear_lapsed(r.id, c);
        END LOOP;
        UPDATE train_runs SET chart_prepared_at = now() WHERE id = r.id;
        UPDATE train_passengers p SET status = 'CAN', cancel_reason = 'chart',
                                      refund_due = CASE WHEN p.held_until = 'infinity'
                                                        THEN b.fare ELSE 0 END
        FROM train_bookings b
        WHERE p.run_id = r.id AND p.status = 'WL' AND p.held_until > now()
          AND b.id = p.booking_id;
        FOR x IN SELECT b.id AS booking_id, b.hold_id AS hold, count(*)::int AS n,
                        sum(p.refund_due)::bigint AS due
                 FROM train_passengers p JOIN train_bookings b ON b.id = p.booking_id
                 WHERE p.run_id = r.id AND p.cancel_reason = 'chart' AND p.refund_due > 0
                 GROUP BY b.id, b.hold_id ORDER BY b.hold_id LOOP
            v_order := order_of_hold(x.hold);  -- orders functions
            IF v_order IS NULL THEN
                v_outcome := 'no_order';
            ELSIF NOT EXISTS (SELECT 1 FROM train_passengers p
                              WHERE p.booking_id = x.booking_id AND p.status <> 'CAN') THEN
                PERFORM * FROM order_cancel(NULL, v_order);
                v_outcome := 'whole';
            ELSE
                v_outcome := order_refund_part(v_order, x.due,
                                               'order-' || v_order || '-refund-chart');
                IF v_outcome IN ('owed', 'existing') THEN
                    v_outcome := 'partial';
                END IF;
            END IF;
            RETURN QUERY SELECT r.id, x.hold, x.n, x.due, v_order, v_outcome;
        END LOOP;
        RETURN QUERY SELECT r.id, NULL::bigint, 0, 0::bigint, NULL::bigint, NULL::text;
        UPDATE holds h SET status = 'released'
        FROM train_bookings b
        WHERE b.run_id = r.id AND h.id = b.hold_id AND h.status = 'active'
          AND NOT EXISTS (SELECT 1 FROM train_passengers p
                          WHERE p.booking_id = b.id AND p.status <> 'CAN');
        UPDATE job_counters SET value = value + 1 WHERE name = 'train_charts_prepared';
    END LOOP;
END $$;

-- Gives one run of a train p_coaches coaches of class p_class (its own
-- composition; p_coaches equal to the train's makes it the train's again),
-- with the berth counts per quota the usual rule derives. Only while no
-- passenger of that run and class holds a place or a waitlist number
-- (their berths' quotas could change under them), and before the chart.
-- Outcomes: changed (run is the run's JSON), invalid_coaches (not
-- 1..24), train_not_found, run_not_found, unknown_class, chart_prepared,
-- in_use.
CREATE OR REPLACE FUNCTION train_set_run_coaches(p_train text, p_date date, p_class text,
                                                 p_coaches int)
RETURNS TABLE (outcome text, run json)
LANGUAGE plpgsql AS $$
DECLARE
    v_run train_runs%ROWTYPE;
    v_class train_classes%ROWTYPE;
    t train_class_types%ROWTYPE;
BEGIN
    IF p_coaches IS NULL OR p_coaches NOT BETWEEN 1 AND 24 THEN
        RETURN QUERY SELECT 'invalid_coaches', NULL::json; RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM trains WHERE number = p_train) THEN
        RETURN QUERY SELECT 'train_not_found', NULL::json; RETURN;
    END IF;
    SELECT * INTO v_run FROM train_runs WHERE train_number = p_train AND run_date = p_date
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'run_not_found', NULL::json; RETURN;
    END IF;
    SELECT * INTO v_class FROM train_classes WHERE train_number = p_train AND class = p_class;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown_class', NULL::json; RETURN;
    END IF;
    IF v_run.chart_prepared_at IS NOT NULL THEN
        RETURN QUERY SELECT 'chart_prepared', NULL::json; RETURN;
    END IF;
    PERFORM train_lock(v_run.id, p_class);
    PERFORM train_clear_lapsed(v_run.id, p_class);
    IF EXISTS (SELECT 1 FROM train_passengers p
               WHERE p.run_id = v_run.id AND p.class = p_class AND p.status <> 'CAN'
                 AND p.held_until > now()) THEN
        RETURN QUERY SELECT 'in_use', NULL::json; RETURN;
    END IF;
    SELECT * INTO t FROM train_class_types WHERE class = p_class;
    IF p_coaches = v_class.coaches THEN
        DELETE FROM train_run_classes WHERE run_id = v_run.id AND class = p_class;
    ELSE
        INSERT INTO train_run_classes (run_id, class, coaches, gn_berths, tq_berths, ld_berths,
                                       rac_berths, wl_cap)
        SELECT v_run.id, p_class, p_coaches,
               count(*) FILTER (WHERE q = 'GN'), count(*) FILTER (WHERE q = 'TQ'),
               count(*) FILTER (WHERE q = 'LD'), v_class.rac_berths, v_class.wl_cap
        FROM generate_series(1, p_coaches) c(n)
        CROSS JOIN generate_series(1, t.per_coach) b(n)
        CROSS JOIN LATERAL train_berth_quota(p_class, c.n, p_coaches, b.n,
                       t.pattern[(b.n - 1) % cardinality(t.pattern) + 1], t.per_coach,
                       cardinality(t.pattern), v_class.rac_berths) q
        ON CONFLICT (run_id, class) DO UPDATE
        SET coaches = EXCLUDED.coaches, gn_berths = EXCLUDED.gn_berths,
            tq_berths = EXCLUDED.tq_berths, ld_berths = EXCLUDED.ld_berths,
            rac_berths = EXCLUDED.rac_berths, wl_cap = EXCLUDED.wl_cap;
    END IF;
    RETURN QUERY SELECT 'changed', train_run_json(p_train, p_date);
END $$;

-- Creates the runs of the given trains (all when NULL) for every date from
-- today (local) to train_config.run_days_ahead days ahead on which they
-- run, with their sale windows and chart time. Idempotent; returns how many
-- runs it created.
CREATE OR REPLACE FUNCTION train_generate_runs(p_trains text[])
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    cfg train_config%ROWTYPE;
    v_today date;
    v_count int;
BEGIN
    SELECT * INTO cfg FROM train_config;
    v_today := (now() AT TIME ZONE cfg.time_zone)::date;
    INSERT INTO train_runs (train_number, run_date, departs_at, advance_opens_at,
                            tatkal_ac_opens_at, tatkal_nonac_opens_at, chart_at)
    SELECT t.number, d::date,
           (d::date + make_interval(mins => t.departure_min)) AT TIME ZONE cfg.time_zone,
           ((d::date - cfg.advance_days) + cfg.advance_open_time) AT TIME ZONE cfg.time_zone,
           ((d::date - 1) + cfg.tatkal_ac_time) AT TIME ZONE cfg.time_zone,
           ((d::date - 1) + cfg.tatkal_nonac_time) AT TIME ZONE cfg.time_zone,
           ((d::date + make_interval(mins => t.departure_min)) AT TIME ZONE cfg.time_zone)
               - cfg.chart_before
    FROM trains t
    CROSS JOIN generate_series(v_today, v_today + cfg.run_days_ahead, interval '1 day') d
    WHERE (p_trains IS NULL OR t.number = ANY (p_trains))
      AND to_char(d, 'dy') = ANY (t.run_days)
    ON CONFLICT (train_number, run_date) DO NOTHING;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;

-- The worker's daily job: keeps runs generated run_days_ahead ahead.
CREATE OR REPLACE FUNCTION train_extend_runs()
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_today date;
    v_count int;
BEGIN
    SELECT (now() AT TIME ZONE time_zone)::date INTO v_today FROM train_config;
    UPDATE train_config SET runs_extended_on = v_today
    WHERE runs_extended_on IS DISTINCT FROM v_today;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    v_count := train_generate_runs(NULL);
    RETURN v_count;
END $$;

-- The classes a train carries, guessed from its name and length (the
-- source data has none): Rajdhani and Duronto are all-AC sleepers,
-- Shatabdi and Vande Bharat chair cars, short and local trains second
-- sitting, other long-distance trains SL/3A/2A (and 1A beyond 1000 km).
CREATE OR REPLACE FUNCTION train_guess_classes(p_name text, p_km int)
RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN upper(p_name) LIKE '%RAJDHANI%' THEN '{1A,2A,3A}'::text[]
        WHEN upper(p_name) LIKE '%DURONTO%' THEN '{1A,2A,3A,SL}'::text[]
        WHEN upper(p_name) LIKE '%JAN SHATABDI%' THEN '{CC,2S}'::text[]
        WHEN upper(p_name) LIKE '%SHATABDI%' OR upper(p_name) LIKE '%VANDE%' THEN '{CC}'::text[]
        WHEN upper(p_name) ~ '(PASSENGER|MEMU|DEMU|LOCAL|SHUTTLE)' OR p_km < 150 THEN '{2S}'::text[]
        WHEN p_km < 400 THEN '{CC,2S}'::text[]
        WHEN p_km >= 1000 THEN '{1A,2A,3A,SL}'::text[]
        ELSE '{2A,3A,SL}'::text[] END
$$;

-- Coaches per class in a composition.
CREATE OR REPLACE FUNCTION train_class_coaches(p_class text)
RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_class WHEN 'SL' THEN 8 WHEN '3A' THEN 4 WHEN '2A' THEN 2 WHEN '1A' THEN 1
                        WHEN 'CC' THEN 5 WHEN '2S' THEN 4 END
$$;

-- Imports stations (a GeoJSON FeatureCollection) and trains (the
-- dictionary format of trains_dict.json: number -> {Train_name,
-- From_station, To_station, Pair, Duration "HH:MM", Distance, Runs_on,
-- Stations}) in the caller's transaction. Idempotent: a second import of
-- the same data changes nothing. Either document may be NULL.
--
-- The timetable is derived, the source having only total duration and
-- distance: the origin departure time is spread over the day from the
-- train number; each leg's share of Distance and Duration is its
-- great-circle length (legs without coordinates get the mean known leg);
-- intermediate stops dwell 2 minutes. Returns a report with counts and the
-- odd cases.
CREATE OR REPLACE FUNCTION train_import(p_stations jsonb, p_trains jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_st_created int := 0; v_st_updated int := 0; v_st_seen int := 0; v_st_nocode int := 0;
    v_tr_created int := 0; v_tr_updated int := 0; v_tr_seen int := 0;
    v_unknown text[];
    v_noday text[];
    v_invalid text[];
    v_stops int := 0;
    v_runs int;
    v_changed text[];
BEGIN
    PERFORM set_config('client_min_messages', 'warning', true);
    DROP TABLE IF EXISTS import_stations, import_trains;
    CREATE TEMP TABLE import_stations ON COMMIT DROP AS
        SELECT DISTINCT ON (code) * FROM (
            SELECT upper(btrim(f->'properties'->>'code')) AS code,
                   coalesce(nullif(btrim(f->'properties'->>'name'), ''),
                            upper(btrim(f->'properties'->>'code'))) AS name,
                   nullif(btrim(f->'properties'->>'state'), '') AS state,
                   nullif(btrim(f->'properties'->>'zone'), '') AS zone,
                   nullif(btrim(f->'properties'->>'address'), '') AS address,
                   CASE WHEN jsonb_typeof(f->'geometry'->'coordinates') = 'array'
                        THEN (f->'geometry'->'coordinates'->>1)::double precision END AS latitude,
                   CASE WHEN jsonb_typeof(f->'geometry'->'coordinates') = 'array'
                        THEN (f->'geometry'->'coordinates'->>0)::double precision END AS longitude
            FROM jsonb_array_elements(coalesce(p_stations->'features', '[]')) f) x
        WHERE code IS NOT NULL AND code <> '' AND length(code) <= 16
        ORDER BY code;
    ALTER TABLE import_stations ADD PRIMARY KEY (code);
    ANALYZE import_stations;
    IF p_stations IS NOT NULL THEN
        SELECT count(*) INTO v_st_seen FROM import_stations;
        SELECT count(*) INTO v_st_nocode
        FROM jsonb_array_elements(coalesce(p_stations->'features', '[]')) f
        WHERE coalesce(btrim(f->'properties'->>'code'), '') = ''
           OR length(btrim(f->'properties'->>'code')) > 16;
        WITH up AS (
            INSERT INTO stations AS s (code, name, state, zone, address, latitude, longitude, listed)
            SELECT code, name, state, zone, address, latitude, longitude, true FROM import_stations
            ON CONFLICT (code) DO UPDATE
               SET name = EXCLUDED.name, state = EXCLUDED.state, zone = EXCLUDED.zone,
                   address = EXCLUDED.address, latitude = EXCLUDED.latitude,
                   longitude = EXCLUDED.longitude, listed = true
             WHERE (s.name, s.state, s.zone, s.address, s.latitude, s.longitude, s.listed)
                   IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.state, EXCLUDED.zone,
                                     EXCLUDED.address, EXCLUDED.latitude, EXCLUDED.longitude, true)
            RETURNING (xmax = 0) AS created)
        SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created)
          INTO v_st_created, v_st_updated FROM up;
    END IF;

    IF p_trains IS NOT NULL THEN
        CREATE TEMP TABLE import_trains ON COMMIT DROP AS
        SELECT upper(btrim(e.key)) AS number,
               coalesce(nullif(btrim(e.value->>'Train_name'), ''), e.key) AS name,
               e.value->>'From_station' AS from_name, e.value->>'To_station' AS to_name,
               nullif(e.value->>'Pair', '') AS pair,
               CASE WHEN coalesce(e.value->>'Duration', '') ~ '^[0-9]{1,3}:[0-9]{1,2}$'
                    THEN split_part(e.value->>'Duration', ':', 1)::int * 60
                         + split_part(e.value->>'Duration', ':', 2)::int END AS duration_min,
               CASE WHEN coalesce(e.value->>'Distance', '') ~ '^[0-9]{1,6}$'
                    THEN (e.value->>'Distance')::int END AS distance_km,
               ARRAY(SELECT d FROM unnest('{mon,tue,wed,thu,fri,sat,sun}'::text[])
                                   WITH ORDINALITY u(d, n)
                     WHERE coalesce(e.value->'Runs_on'->>d, '0') IN ('1', 'true')
                     ORDER BY n) AS run_days,
               ARRAY(SELECT upper(btrim(s)) FROM jsonb_array_elements_text(
                         CASE WHEN jsonb_typeof(e.value->'Stations') = 'array'
                              THEN e.value->'Stations' ELSE '[]' END)
                         WITH ORDINALITY a(s, n) ORDER BY n) AS stations
        FROM jsonb_each(p_trains) e;
        ANALYZE import_trains;
        SELECT array_agg(number ORDER BY number) INTO v_invalid FROM import_trains
        WHERE number !~ '^[0-9A-Z]{1,8}$' OR duration_min IS NULL OR distance_km IS NULL
           OR cardinality(stations) < 2 OR cardinality(stations) > 200
           OR EXISTS (SELECT 1 FROM unnest(stations) s WHERE s = '' OR length(s) > 16);
        DELETE FROM import_trains WHERE number = ANY (coalesce(v_invalid, '{}'));
        SELECT count(*) INTO v_tr_seen FROM import_trains;
        SELECT array_agg(number ORDER BY number) INTO v_noday FROM import_trains
        WHERE cardinality(run_days) = 0;

        -- Codes the trains use that the station list (of this import, or
        -- else of the database) lacks: kept, with the code as their name
        -- and no coordinates.
        SELECT array_agg(DISTINCT s ORDER BY s) INTO v_unknown
        FROM import_trains t, unnest(t.stations) s
        WHERE CASE WHEN p_stations IS NOT NULL
                   THEN NOT EXISTS (SELECT 1 FROM import_stations x WHERE x.code = s)
                   ELSE NOT EXISTS (SELECT 1 FROM stations x WHERE x.code = s AND x.listed) END;
        INSERT INTO stations (code, name, listed)
        SELECT s, s, false FROM unnest(coalesce(v_unknown, '{}')) s
        ON CONFLICT (code) DO NOTHING;

        WITH up AS (
            INSERT INTO trains AS t (number, name, from_name, to_name, pair, run_days, classes,
                                     duration_min, distance_km, departure_min, stations)
            SELECT number, name, from_name, to_name, pair, run_days,
                   train_guess_classes(name, distance_km), duration_min, distance_km,
                   CASE WHEN number ~ '^[0-9]{1,8}$' THEN (number::bigint * 37) % 288 * 5
                        ELSE abs(hashtext(number)) % 288 * 5 END,
                   stations
            FROM import_trains
            ON CONFLICT (number) DO UPDATE
               SET name = EXCLUDED.name, from_name = EXCLUDED.from_name,
                   to_name = EXCLUDED.to_name, pair = EXCLUDED.pair,
                   run_days = EXCLUDED.run_days, classes = EXCLUDED.classes,
                   duration_min = EXCLUDED.duration_min, distance_km = EXCLUDED.distance_km,
                   stations = EXCLUDED.stations, updated_at = now()
             WHERE (t.name, t.from_name, t.to_name, t.pair, t.run_days, t.classes,
                    t.duration_min, t.distance_km, t.stations)
                   IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.from_name, EXCLUDED.to_name,
                                     EXCLUDED.pair, EXCLUDED.run_days, EXCLUDED.classes,
                                     EXCLUDED.duration_min, EXCLUDED.distance_km,
                                     EXCLUDED.stations)
            RETURNING t.number, (xmax = 0) AS created)
        SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created),
               array_agg(number)
          INTO v_tr_created, v_tr_updated, v_changed FROM up;
        v_changed := coalesce(v_changed, '{}');

        -- Timetables and compositions of new and changed trains. A changed
        -- train keeps its runs and bookings; its stops are rebuilt.
        DELETE FROM train_stops WHERE train_number = ANY (v_changed);
        DELETE FROM train_classes WHERE train_number = ANY (v_changed);
        DELETE FROM train_coaches WHERE train_number = ANY (v_changed);
        WITH stops AS (
            SELECT t.number, t.duration_min, t.distance_km, t.departure_min,
                   cardinality(t.stations) AS n, u.code, (u.i - 1)::int AS idx,
                   s.latitude AS lat, s.longitude AS lon
            FROM trains t
            CROSS JOIN LATERAL unnest(t.stations) WITH ORDINALITY u(code, i)
            JOIN stations s ON s.code = u.code
            WHERE t.number = ANY (v_changed)
        ), legs AS (
            SELECT *, CASE WHEN idx = 0 THEN 0
                           ELSE 12742 * asin(least(1, sqrt(
                                power(sin(radians(lat - lag(lat) OVER w) / 2), 2)
                                + cos(radians(lat)) * cos(radians(lag(lat) OVER w))
                                  * power(sin(radians(lon - lag(lon) OVER w) / 2), 2)))) END AS leg
            FROM stops WINDOW w AS (PARTITION BY number ORDER BY idx)
        ), filled AS (
            SELECT *, CASE WHEN idx = 0 THEN 0
                           ELSE coalesce(leg, avg(leg) FILTER (WHERE idx > 0) OVER (PARTITION BY number), 1)
                      END AS leg2
            FROM legs
        ), shares AS (
            SELECT *, sum(leg2) OVER (PARTITION BY number ORDER BY idx) AS cum,
                      sum(leg2) OVER (PARTITION BY number) AS total,
                      CASE WHEN 2 * (n - 2) <= duration_min / 4 THEN 2 ELSE 0 END AS dwell
            FROM filled
        ), times AS (
            SELECT number, idx, n, code, dwell, departure_min,
                   round(distance_km * CASE WHEN total > 0 THEN cum / total ELSE idx::numeric / (n - 1) END)::int AS km,
                   departure_min + round((duration_min - dwell * (n - 2))
                        * CASE WHEN total > 0 THEN cum / total ELSE idx::numeric / (n - 1) END)::int
                        + dwell * greatest(idx - 1, 0) AS arrive_abs
            FROM shares
        ), ins AS (
            INSERT INTO train_stops (train_number, stop_index, station_code, arrival_min,
                                     departure_min, day_offset, distance_km, arrive_abs_min,
                                     depart_abs_min)
            SELECT number, idx, code,
                   CASE WHEN idx > 0 THEN arrive_abs % 1440 END,
                   CASE WHEN idx < n - 1 THEN (arrive_abs + CASE WHEN idx > 0 THEN dwell ELSE 0 END) % 1440 END,
                   CASE WHEN idx < n - 1 THEN (arrive_abs + CASE WHEN idx > 0 THEN dwell ELSE 0 END) / 1440
                        ELSE arrive_abs / 1440 END,
                   km, arrive_abs,
                   CASE WHEN idx > 0 AND idx < n - 1 THEN arrive_abs + dwell ELSE arrive_abs END
            FROM times
            RETURNING 1)
        SELECT count(*) INTO v_stops FROM ins;

        INSERT INTO train_coaches (train_number, class, coach, seq)
        SELECT t.number, c.class, ct.coach_prefix || s.n, s.n
        FROM trains t CROSS JOIN LATERAL unnest(t.classes) c(class)
        JOIN train_class_types ct ON ct.class = c.class
        CROSS JOIN LATERAL generate_series(1, train_class_coaches(c.class)) s(n)
        WHERE t.number = ANY (v_changed);
        INSERT INTO train_classes (train_number, class, coaches, gn_berths, tq_berths, ld_berths,
                                   rac_berths, wl_cap)
        SELECT t.number, ct.class, train_class_coaches(ct.class), 0, 0, 0, ct.rac_berths, ct.wl_cap
        FROM trains t CROSS JOIN LATERAL unnest(t.classes) c(class)
        JOIN train_class_types ct ON ct.class = c.class
        WHERE t.number = ANY (v_changed);
        -- Berth counts per quota, from the same rule the booking uses.
        UPDATE train_classes tc SET gn_berths = q.gn, tq_berths = q.tq, ld_berths = q.ld
        FROM (SELECT c.train_number, c.class,
                     count(*) FILTER (WHERE qq = 'GN') AS gn,
                     count(*) FILTER (WHERE qq = 'TQ') AS tq,
                     count(*) FILTER (WHERE qq = 'LD') AS ld
              FROM train_coaches c
              JOIN train_class_types t ON t.class = c.class
              JOIN train_classes x ON x.train_number = c.train_number AND x.class = c.class
              CROSS JOIN LATERAL generate_series(1, t.per_coach) b(n)
              CROSS JOIN LATERAL train_berth_quota(c.class, c.seq, x.coaches, b.n,
                        t.pattern[(b.n - 1) % cardinality(t.pattern) + 1], t.per_coach,
                        cardinality(t.pattern), x.rac_berths) qq
              WHERE c.train_number = ANY (v_changed)
              GROUP BY c.train_number, c.class) q
        WHERE tc.train_number = q.train_number AND tc.class = q.class;
    END IF;

    v_runs := train_generate_runs(NULL);
    RETURN json_build_object(
        'stations', json_build_object('in_file', v_st_seen, 'created', v_st_created,
                                      'updated', v_st_updated,
                                      'unchanged', v_st_seen - v_st_created - v_st_updated,
                                      'without_code', v_st_nocode),
        'trains', json_build_object('in_file', v_tr_seen, 'created', v_tr_created,
                                    'updated', v_tr_updated,
                                    'unchanged', v_tr_seen - v_tr_created - v_tr_updated,
                                    'invalid', coalesce(v_invalid, '{}')),
        'stops_written', v_stops,
        'runs_created', v_runs,
        'unknown_station_codes', json_build_object(
            'count', coalesce(cardinality(v_unknown), 0),
            'codes', coalesce(v_unknown, '{}')),
        'trains_running_on_no_day', json_build_object(
            'count', coalesce(cardinality(v_noday), 0), 'numbers', coalesce(v_noday, '{}')),
        'timetable', 'derived: origin departure spread over the day from the train number; '
                     'Duration and Distance spread over the stops by great-circle leg length; '
                     '2-minute halts',
        'totals', json_build_object('stations', (SELECT count(*) FROM stations),
                                    'trains', (SELECT count(*) FROM trains),
                                    'stops', (SELECT count(*) FROM train_stops),
                                    'runs', (SELECT count(*) FROM train_runs)));
END $$;

-- Availability of one class and quota of a run over a stretch.
CREATE OR REPLACE FUNCTION train_class_availability(p_run bigint, p_train text, p_class text,
                                                   p_from int, p_to int, p_km int)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'class', tc.class, 'quota', q.quota, 'available', a.available,
               'rac', k.rac, 'waitlist', k.wl,
               'status', CASE WHEN a.available > 0 THEN 'AVAILABLE-' || a.available
                              WHEN r.chart_prepared_at IS NOT NULL THEN 'CHART PREPARED'
                              WHEN k.wl = 0 AND k.rac < 2 * tc.rac_berths THEN 'RAC ' || (k.rac + 1)
                              WHEN k.wl < tc.wl_cap THEN 'WL ' || (k.wl + 1)
                              ELSE 'REGRET' END,
               'fare', train_fare(tc.class, p_km, q.quota), 'currency', 'INR')
             ORDER BY q.sort), '[]')
    FROM train_run_class(p_run, p_train, p_class) tc
    JOIN train_runs r ON r.id = p_run
    CROSS JOIN LATERAL (VALUES ('GN', 1, tc.gn_berths), ('TQ', 2, tc.tq_berths),
                               ('LD', 3, tc.ld_berths)) q(quota, sort, berths)
    CROSS JOIN LATERAL (
        SELECT (q.berths - count(DISTINCT (al.coach, al.berth)))::int AS available
        FROM train_allocations al
        WHERE al.run_id = p_run AND al.class = tc.class AND al.berth_quota = q.quota
          AND al.state IN ('held', 'confirmed') AND al.held_until > now()
          AND al.span && int4range(p_from, p_to)) a
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE p.status = 'RAC')::int AS rac,
               count(*) FILTER (WHERE p.status = 'WL' AND p.quota = q.quota)::int AS wl
        FROM train_passengers p
        WHERE p.run_id = p_run AND p.class = tc.class AND p.status IN ('RAC', 'WL')
          AND p.held_until > now()) k
    WHERE q.berths > 0
$$;

-- GET /api/trains/search: trains that stop at p_from and later at p_to
-- and leave p_from on p_date (the day offset at p_from counts), with
-- availability per class and quota for exactly that stretch. NULL when a
-- station is unknown. Set-based (one pass over the allocations and queues
-- of every run found) because it is the hottest read: the same figures as
-- train_class_availability.
DROP FUNCTION IF EXISTS train_search_json(text, text, date);
CREATE OR REPLACE FUNCTION train_search_json(p_from text, p_to text, p_date date)
RETURNS json LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- plpgsql: its plan is cached per connection (a SQL function's is not).
    RETURN (WITH cand AS (
        SELECT DISTINCT ON (a.train_number) a.train_number, a.stop_index AS fi,
               a.depart_abs_min, b.stop_index AS ti, b.arrive_abs_min,
               b.distance_km - a.distance_km AS km
        FROM train_stops a
        JOIN train_stops b ON b.train_number = a.train_number AND b.stop_index > a.stop_index
                          AND b.station_code = p_to
        WHERE a.station_code = p_from
        ORDER BY a.train_number, a.stop_index, b.stop_index
    ), found AS MATERIALIZED (
        SELECT c.*, t.name, t.departure_min, r.id AS run_id, r.run_date, r.departs_at,
               r.chart_prepared_at
        FROM cand c
        JOIN trains t ON t.number = c.train_number
        JOIN train_runs r ON r.train_number = c.train_number
                         AND r.run_date = p_date - (c.depart_abs_min / 1440)
    ), used AS (
        SELECT a.run_id, a.class, a.berth_quota, count(DISTINCT (a.coach, a.berth))::int AS n
        FROM found f
        JOIN train_allocations a ON a.run_id = f.run_id AND a.span && int4range(f.fi, f.ti)
        WHERE a.state IN ('held', 'confirmed') AND a.held_until > now()
        GROUP BY 1, 2, 3
    ), waiting AS MATERIALIZED (
        SELECT p.run_id, p.class, p.status, p.quota, count(*)::int AS n
        FROM found f
        JOIN train_passengers p ON p.run_id = f.run_id AND p.status IN ('RAC', 'WL')
        WHERE p.held_until > now()
        GROUP BY 1, 2, 3, 4
    ), rac AS (
        SELECT run_id, class, sum(n)::int AS n FROM waiting WHERE status = 'RAC' GROUP BY 1, 2
    ), quotas AS MATERIALIZED (
        SELECT f.run_id, f.km, f.chart_prepared_at, tc.class, ct.sort, q.quota, q.qsort,
               q.berths - coalesce(u.n, 0) AS available,
               coalesce(rc.rac_berths, tc.rac_berths) AS rac_berths,
               coalesce(rc.wl_cap, tc.wl_cap) AS wl_cap,
               coalesce(ra.n, 0) AS rac, coalesce(wl.n, 0) AS wl,
               (ceil((b.base + ct.reservation
                      + CASE WHEN q.quota = 'TQ'
                             THEN least(greatest(round(b.base * ct.tatkal_pct), ct.tatkal_min),
                                        ct.tatkal_max)
                             ELSE 0 END) / 500.0) * 500)::bigint AS fare
        FROM found f
        JOIN train_classes tc ON tc.train_number = f.train_number
        JOIN train_class_types ct ON ct.class = tc.class
        -- A run with its own composition (rare: an index probe finds none).
        LEFT JOIN train_run_classes rc ON rc.run_id = f.run_id AND rc.class = tc.class
        CROSS JOIN LATERAL (SELECT round(greatest(f.km, ct.min_km) * ct.rate_per_km * 100) AS base) b
        CROSS JOIN LATERAL (VALUES ('GN', 1, coalesce(rc.gn_berths, tc.gn_berths)),
                                   ('TQ', 2, coalesce(rc.tq_berths, tc.tq_berths)),
                                   ('LD', 3, coalesce(rc.ld_berths, tc.ld_berths)))
                           q(quota, qsort, berths)
        LEFT JOIN used u ON u.run_id = f.run_id AND u.class = tc.class AND u.berth_quota = q.quota
        LEFT JOIN rac ra ON ra.run_id = f.run_id AND ra.class = tc.class
        LEFT JOIN waiting wl ON wl.run_id = f.run_id AND wl.class = tc.class
                            AND wl.status = 'WL' AND wl.quota = q.quota
        WHERE q.berths > 0
    ), classes AS MATERIALIZED (
        -- Rendered as text: json_build_object looks up the output function
        -- of every value on every row, which cost a third of the search.
        -- Codes and numbers need no escaping; names go through to_json.
        SELECT run_id, string_agg(
                   '{"class":"' || class || '","quota":"' || quota || '","available":'
                   || available || ',"rac":' || rac || ',"waitlist":' || wl || ',"status":"'
                   || CASE WHEN available > 0 THEN 'AVAILABLE-' || available
                           WHEN chart_prepared_at IS NOT NULL THEN 'CHART PREPARED'
                           WHEN wl = 0 AND rac < 2 * rac_berths THEN 'RAC ' || (rac + 1)
                           WHEN wl < wl_cap THEN 'WL ' || (wl + 1)
                           ELSE 'REGRET' END
                   || '","fare":' || fare || ',"currency":"INR"}', ',' ORDER BY sort, qsort)
               AS classes
        FROM quotas GROUP BY run_id
    )
    SELECT CASE WHEN EXISTS (SELECT 1 FROM stations WHERE code = p_from)
                 AND EXISTS (SELECT 1 FROM stations WHERE code = p_to) THEN (
        '{"from":' || to_json(p_from) || ',"to":' || to_json(p_to) || ',"date":'
        || to_json(p_date) || ',"trains":[' || coalesce(string_agg(
            '{"number":' || to_json(f.train_number) || ',"name":' || to_json(f.name)
            || ',"run_date":' || to_json(f.run_date) || ',"from_index":' || f.fi
            || ',"to_index":' || f.ti
            || ',"departs_at":' || to_json(f.departs_at + make_interval(
                                      mins => f.depart_abs_min - f.departure_min))
            || ',"arrives_at":' || to_json(f.departs_at + make_interval(
                                      mins => f.arrive_abs_min - f.departure_min))
            || ',"duration_min":' || (f.arrive_abs_min - f.depart_abs_min)
            || ',"distance_km":' || f.km
            || ',"classes":[' || coalesce(c.classes, '') || ']}',
            ',' ORDER BY f.depart_abs_min % 1440, f.train_number), '') || ']}')::json END
    FROM found f LEFT JOIN classes c ON c.run_id = f.run_id);
END $$;

-- GET /api/stations?q=: codes first (exact, then prefix), then names
-- starting with q, then names containing a word starting with q.
CREATE OR REPLACE FUNCTION train_stations_json(p_q text, p_limit int)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('stations', coalesce(json_agg(json_build_object(
               'code', s.code, 'name', s.name, 'state', s.state) ORDER BY s.rank, s.name), '[]'))
    FROM (SELECT x.*, CASE WHEN x.code = upper(p_q) THEN 0
                           WHEN x.code LIKE upper(p_q) || '%' THEN 1
                           WHEN lower(x.name) LIKE lower(p_q) || '%' THEN 2 ELSE 3 END AS rank
          FROM stations x
          WHERE x.code LIKE upper(p_q) || '%'
             OR lower(x.name) LIKE lower(p_q) || '%'
             OR lower(x.name) LIKE '% ' || lower(p_q) || '%'
          ORDER BY rank, x.name LIMIT p_limit) s
$$;

-- GET /api/trains/{number}/runs/{date}: the run with its stops (times of
-- this run) and classes (coaches, availability and fare over the whole
-- route). NULL when the train does not run that day.
CREATE OR REPLACE FUNCTION train_run_json(p_train text, p_date date)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'number', t.number, 'name', t.name, 'date', r.run_date, 'run_days', t.run_days,
        'departs_at', r.departs_at, 'chart_prepared', r.chart_prepared_at IS NOT NULL,
        'chart_at', r.chart_at, 'advance_opens_at', r.advance_opens_at,
        'tatkal_opens_at', json_build_object('ac', r.tatkal_ac_opens_at,
                                             'non_ac', r.tatkal_nonac_opens_at),
        'stops', (SELECT json_agg(json_build_object(
                      'index', s.stop_index, 'code', s.station_code, 'name', st.name,
                      'arrives_at', CASE WHEN s.stop_index > 0 THEN
                          r.departs_at + make_interval(mins => s.arrive_abs_min - t.departure_min) END,
                      'departs_at', CASE WHEN s.departure_min IS NOT NULL THEN
                          r.departs_at + make_interval(mins => s.depart_abs_min - t.departure_min) END,
                      'day_offset', s.day_offset, 'distance_km', s.distance_km)
                      ORDER BY s.stop_index)
                  FROM train_stops s JOIN stations st ON st.code = s.station_code
                  WHERE s.train_number = t.number),
        'classes', (SELECT json_agg(json_build_object(
                        'class', tc.class, 'name', ct.name,
                        'coaches', (SELECT json_agg(ct.coach_prefix || n ORDER BY n)
                                    FROM generate_series(1, tc.coaches) n),
                        'berths_per_coach', ct.per_coach, 'layout', ct.pattern,
                        'rac_berths', tc.rac_berths, 'waitlist_cap', tc.wl_cap,
                        'quotas', train_class_availability(r.id, t.number, tc.class, 0,
                                      (SELECT max(stop_index) FROM train_stops
                                       WHERE train_number = t.number), t.distance_km))
                        ORDER BY ct.sort)
                    FROM train_classes x
                    CROSS JOIN LATERAL train_run_class(r.id, t.number, x.class) tc
                    JOIN train_class_types ct ON ct.class = tc.class
                    WHERE x.train_number = t.number))
    FROM trains t JOIN train_runs r ON r.train_number = t.number AND r.run_date = p_date
    WHERE t.number = p_train
$$;
