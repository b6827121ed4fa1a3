-- Holds: the hot path. Each API call is one statement, one round trip.
-- Reapplied on every migrate run.

-- The seats of an event hold as the API lists them, and their total price.
-- PL/pgSQL with a generic plan, so that the plan is made once per
-- connection: as a SQL function (or left to choose custom plans) it was
-- planned on every call, a third of a hold's cost. hold_create calls it
-- too; that measured faster than writing the query out there.
CREATE OR REPLACE FUNCTION event_hold_seats(p_event_id bigint, p_seat_ids bigint[],
                                            OUT amount bigint, OUT seats json)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    SELECT sum(p.amount),
           json_agg(json_build_object(
               'id', s.id, 'section', sc.name, 'row', s.row_label,
               'number', s.number, 'category', es.category, 'price', p.amount)
               ORDER BY s.rank, s.id)
      INTO amount, seats
      FROM event_seats es
      JOIN seats s ON s.id = es.seat_id
      JOIN sections sc ON sc.id = s.section_id
      JOIN event_prices p ON p.event_id = es.event_id AND p.category = es.category
     WHERE es.event_id = p_event_id AND es.seat_id = ANY (p_seat_ids);
END $$;

-- The event hold as the API shows it, from its parts; status reads
-- "expired" as soon as an active hold passes its expiry, whatever the
-- sweeper has done. hold_create draws a new hold with it too.
CREATE OR REPLACE FUNCTION event_hold_object(p_id bigint, p_event_id bigint, p_status text,
                                             p_created_at timestamptz,
                                             p_expires_at timestamptz, p_amount bigint,
                                             p_currency text, p_seats json)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', p_id, 'kind', 'event', 'event_id', p_event_id, 'status', p_status,
        'created_at', p_created_at, 'expires_at', p_expires_at,
        'amount', p_amount, 'currency', p_currency, 'seats', p_seats)
$$;

CREATE OR REPLACE FUNCTION event_hold_json(p_hold_id bigint)
RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    h holds%ROWTYPE;
BEGIN
    SELECT * INTO h FROM holds WHERE id = p_hold_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN event_hold_object(h.id, h.event_id,
        CASE WHEN h.status = 'active' AND h.expires_at <= now() THEN 'expired' ELSE h.status END,
        h.created_at, h.expires_at, h.amount, h.currency,
        (SELECT x.seats FROM event_hold_seats(h.event_id, h.seat_ids) x));
END $$;

-- The hold as the API shows it, whatever its kind. Train holds are drawn
-- by train_hold_json (trains functions); resolved at call time.
CREATE OR REPLACE FUNCTION hold_json(p_hold_id bigint)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF (SELECT kind FROM holds WHERE id = p_hold_id) = 'train' THEN
        RETURN train_hold_json(p_hold_id);
    END IF;
    RETURN event_hold_json(p_hold_id);
END $$;

-- Seats a user holds or has bought for an event, counted for the per-user
-- cap. A converted hold counts while its order may still be paid (pending,
-- before its deadline) or is paid (its tickets are valid); an expired,
-- canceled or refunded order no longer counts.
-- PL/pgSQL, not SQL, so that the plan is kept per connection instead of
-- being parsed and planned on every hold.
CREATE OR REPLACE FUNCTION hold_user_seats(p_user_id bigint, p_event_id bigint)
RETURNS bigint LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN (SELECT coalesce(sum(cardinality(h.seat_ids)), 0)
    FROM holds h
    WHERE h.user_id = p_user_id AND h.event_id = p_event_id
      AND ((h.status = 'active' AND h.expires_at > now())
           OR (h.status = 'converted' AND EXISTS (
                   SELECT 1 FROM orders o WHERE o.hold_id = h.id
                     AND (o.status = 'paid'
                          OR (o.status = 'pending_payment' AND o.expires_at > now()))))));
END $$;

-- Takes seats for a signed-in user, all or nothing, checking the sale
-- window and the per-user cap in the same transaction.
--   p_seat_ids: the seats asked for, or NULL for best available
--   p_quantity, p_category: best available (category NULL: any)
-- Returns one row: outcome, the hold as JSON when created, and the seat ids
-- that were unavailable or unknown. Outcomes: created, unauthorized,
-- event_not_found, not_on_sale, sale_closed, unknown_category,
-- unknown_seats, limit_exceeded, seats_unavailable, sold_out, not_admitted.
--   p_access_user: the user a valid access token for this event (checked
--   by the caller's HMAC) was issued to, or NULL; when the event's sale
--   uses the waiting room, only that user, signed in, may hold.
DROP FUNCTION IF EXISTS hold_create(bytea, bigint, bigint[], int, text);
CREATE OR REPLACE FUNCTION hold_create(p_token_hash bytea, p_event_id bigint,
                                       p_seat_ids bigint[], p_quantity int, p_category text,
                                       p_access_user bigint)
RETURNS TABLE (outcome text, hold json, seat_ids bigint[])
-- Every statement here looks rows up by key, so one generic plan per
-- statement serves all events; left to itself, PostgreSQL kept planning
-- custom plans on every call (a third of the CPU of a hold).
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_user bigint;
    v_event events%ROWTYPE;
    v_want int := coalesce(cardinality(p_seat_ids), p_quantity);
    v_seats bigint[];
    v_taken bigint[];
    v_hold bigint;
    v_amount bigint;
    v_expires timestamptz;
    v_created timestamptz;
    v_seats_json json;
    v_gated boolean;
BEGIN
    SELECT s.user_id INTO v_user FROM sessions s
    WHERE s.token_hash = p_token_hash AND s.expires_at > now();
    IF v_user IS NULL THEN
        RETURN QUERY SELECT 'unauthorized', NULL::json, NULL::bigint[]; RETURN;
    END IF;
    SELECT * INTO v_event FROM events WHERE id = p_event_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'event_not_found', NULL::json, NULL::bigint[]; RETURN;
    END IF;
    IF v_event.on_sale_at > now() THEN
        RETURN QUERY SELECT 'not_on_sale', NULL::json, NULL::bigint[]; RETURN;
    END IF;
    IF v_event.starts_at <= now() OR v_event.status <> 'scheduled' THEN
        RETURN QUERY SELECT 'sale_closed', NULL::json, NULL::bigint[]; RETURN;
    END IF;
    IF p_category IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM event_prices WHERE event_id = p_event_id AND category = p_category) THEN
        RETURN QUERY SELECT 'unknown_category', NULL::json, NULL::bigint[]; RETURN;
    END IF;
    v_gated := EXISTS (SELECT 1 FROM queue_settings q WHERE q.event_id = p_event_id AND q.enabled);
    IF v_gated AND p_access_user IS DISTINCT FROM v_user THEN
        RETURN QUERY SELECT 'not_admitted', NULL::json, NULL::bigint[]; RETURN;
    END IF;

    -- One user's concurrent requests for one event take turns, so the cap
    -- cannot be passed by racing; different users never wait on this.
    PERFORM pg_advisory_xact_lock((p_event_id << 32) # v_user);
    IF hold_user_seats(v_user, p_event_id) + v_want > v_event.max_per_user THEN
        RETURN QUERY SELECT 'limit_exceeded', NULL::json, NULL::bigint[]; RETURN;
    END IF;

    -- Hold-only transactions carry no money; when the operator allows it,
    -- they skip the wait for the WAL flush (a crash may forget a hold,
    -- never sell a seat twice).
    IF current_setting('boxoffice.hold_async_commit', true) = 'on' THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;

    IF p_seat_ids IS NOT NULL THEN
        -- Lock in seat order so overlapping requests cannot deadlock.
        SELECT array_agg(x.seat_id) FILTER (WHERE x.held_until > now()),
               array_agg(x.seat_id)
          INTO v_taken, v_seats
          FROM (SELECT es.seat_id, es.held_until FROM event_seats es
                WHERE es.event_id = p_event_id AND es.seat_id = ANY (p_seat_ids)
                ORDER BY es.seat_id FOR UPDATE) x;
        IF coalesce(cardinality(v_seats), 0) < v_want THEN
            RETURN QUERY SELECT 'unknown_seats', NULL::json,
                (SELECT array_agg(u) FROM unnest(p_seat_ids) u
                 WHERE u <> ALL (coalesce(v_seats, '{}'))); RETURN;
        END IF;
        IF v_taken IS NOT NULL THEN
            RETURN QUERY SELECT
                CASE WHEN event_has_free_seat(p_event_id, NULL)
                     THEN 'seats_unavailable' ELSE 'sold_out' END,
                NULL::json, v_taken; RETURN;
        END IF;
    ELSE
        -- Best available: seats no hold has touched since the last release
        -- or sweep come from an index of only those (rank order), then seats
        -- whose hold lapsed before the sweep came. Seats another buyer is
        -- taking right now are skipped, not waited for. Two statements so
        -- that each uses its own index.
        IF p_category IS NULL THEN
            SELECT array_agg(x.seat_id) INTO v_seats
              FROM (SELECT es.seat_id FROM event_seats es
                    WHERE es.event_id = p_event_id AND es.hold_id IS NULL
                    ORDER BY es.rank LIMIT p_quantity
                    FOR UPDATE SKIP LOCKED) x;
        ELSE
            SELECT array_agg(x.seat_id) INTO v_seats
              FROM (SELECT es.seat_id FROM event_seats es
                    WHERE es.event_id = p_event_id AND es.category = p_category
                      AND es.hold_id IS NULL
                    ORDER BY es.rank LIMIT p_quantity
                    FOR UPDATE SKIP LOCKED) x;
        END IF;
        -- Lapsed seats come from the index of held seats (whose predicate
        -- the "<> 'infinity'" matches); without it a generic plan reads
        -- every seat of the event.
        IF coalesce(cardinality(v_seats), 0) < p_quantity AND p_category IS NULL THEN
            SELECT coalesce(v_seats, '{}') || coalesce(array_agg(x.seat_id), '{}') INTO v_seats
              FROM (SELECT es.seat_id FROM event_seats es
                    WHERE es.event_id = p_event_id AND es.hold_id IS NOT NULL
                      AND es.held_until <> 'infinity' AND es.held_until <= now()
                    ORDER BY es.rank
                    LIMIT p_quantity - coalesce(cardinality(v_seats), 0)
                    FOR UPDATE SKIP LOCKED) x;
        ELSIF coalesce(cardinality(v_seats), 0) < p_quantity THEN
            SELECT coalesce(v_seats, '{}') || coalesce(array_agg(x.seat_id), '{}') INTO v_seats
              FROM (SELECT es.seat_id FROM event_seats es
                    WHERE es.event_id = p_event_id AND es.hold_id IS NOT NULL
                      AND es.held_until <> 'infinity' AND es.held_until <= now()
                      AND es.category = p_category
                    ORDER BY es.rank
                    LIMIT p_quantity - coalesce(cardinality(v_seats), 0)
                    FOR UPDATE SKIP LOCKED) x;
        END IF;
        IF cardinality(v_seats) = 0 THEN
            v_seats := NULL;
        END IF;
        IF coalesce(cardinality(v_seats), 0) < p_quantity THEN
            RETURN QUERY SELECT
                CASE WHEN v_seats IS NULL AND NOT event_has_free_seat(p_event_id, p_category)
                     THEN 'sold_out' ELSE 'seats_unavailable' END,
                NULL::json, NULL::bigint[]; RETURN;
        END IF;
    END IF;

    v_expires := now() + make_interval(secs => v_event.hold_ttl_s);
    SELECT x.amount, x.seats INTO v_amount, v_seats_json
      FROM event_hold_seats(p_event_id, v_seats) x;
    INSERT INTO holds (event_id, user_id, seat_ids, amount, currency, expires_at)
    VALUES (p_event_id, v_user, v_seats, v_amount, v_event.currency, v_expires)
    RETURNING id, created_at INTO v_hold, v_created;
    UPDATE event_seats es SET hold_id = v_hold, held_until = v_expires
    WHERE es.event_id = p_event_id AND es.seat_id = ANY (v_seats);
    IF v_gated THEN
        -- Admitted and served: no longer counts against max_active.
        UPDATE queue_entries SET used_at = now()
        WHERE event_id = p_event_id AND user_id = v_user AND used_at IS NULL;
    END IF;
    RETURN QUERY SELECT 'created',
        event_hold_object(v_hold, p_event_id, 'active', v_created, v_expires, v_amount,
                          v_event.currency, v_seats_json),
        v_seats;
END $$;

-- Releases a user's hold. Outcomes: released (seats free at once),
-- not_found (no such hold of this user), already_done (it had expired, was
-- released, or became an order: nothing to free).
CREATE OR REPLACE FUNCTION hold_release(p_user_id bigint, p_hold_id bigint)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_hold holds%ROWTYPE;
BEGIN
    SELECT * INTO v_hold FROM holds WHERE id = p_hold_id AND user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF v_hold.status <> 'active' OR v_hold.expires_at <= now() THEN
        RETURN 'already_done';
    END IF;
    UPDATE holds SET status = 'released' WHERE id = p_hold_id;
    IF v_hold.kind = 'train' THEN
        PERFORM train_hold_release(p_hold_id);  -- trains functions
        RETURN 'released';
    END IF;
    UPDATE event_seats SET hold_id = NULL, held_until = '-infinity'
    WHERE event_id = v_hold.event_id AND seat_id = ANY (v_hold.seat_ids)
      AND hold_id = p_hold_id AND held_until <> 'infinity';
    RETURN 'released';
END $$;

-- The worker's sweep: marks up to p_limit expired holds and tidies their
-- seat rows. Correctness never depends on it (expiry is lazy); concurrent
-- sweepers skip each other's rows. Returns how many holds it expired.
CREATE OR REPLACE FUNCTION hold_sweep(p_limit int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_count int;
BEGIN
    WITH expired AS (
        UPDATE holds h SET status = 'expired'
        WHERE h.id IN (SELECT id FROM holds
                       WHERE status = 'active' AND expires_at <= now() AND kind = 'event'
                       ORDER BY expires_at LIMIT p_limit
                       FOR UPDATE SKIP LOCKED)
        RETURNING h.id, h.event_id, h.seat_ids
    ), tidied AS (
        UPDATE event_seats es SET hold_id = NULL, held_until = '-infinity'
        FROM expired e
        WHERE es.event_id = e.event_id AND es.seat_id = ANY (e.seat_ids)
          AND es.hold_id = e.id AND es.held_until <= now()
          AND es.held_until <> '-infinity'
        RETURNING 1
    )
    SELECT count(*) INTO v_count FROM expired;
    IF v_count > 0 THEN
        UPDATE job_counters SET value = value + v_count WHERE name = 'holds_expired';
    END IF;
    RETURN v_count;
END $$;

-- Inventory hooks for checkout (orders), the same for every kind of hold:
--
-- hold_fulfil(hold): inside the transaction that records a successful
-- payment, makes the hold's inventory sold for good. Succeeds when every
-- seat is still this hold's or free again (an expired hold whose seats
-- nobody took may still complete); returns false, changing nothing, when
-- any seat was taken by someone else (the payment must then be refunded).
--
-- hold_unfulfil(hold): when a paid order is cancelled and refunded, frees
-- its inventory at once.
--
-- Train holds delegate to train_hold_fulfil / train_hold_unfulfil (trains
-- functions), resolved at call time.
-- Generic plans: its statements are key lookups, and with custom plans
-- both event_seats statements were planned anew on every payment.
CREATE OR REPLACE FUNCTION hold_fulfil(p_hold_id bigint)
RETURNS boolean LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_hold holds%ROWTYPE;
    v_ok int;
BEGIN
    SELECT * INTO v_hold FROM holds WHERE id = p_hold_id;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF v_hold.kind = 'train' THEN
        RETURN train_hold_fulfil(p_hold_id);
    END IF;
    -- Lock the seats in seat order (as hold_create does) and count those
    -- that are this hold's or free.
    SELECT count(*) FILTER (WHERE (x.hold_id = p_hold_id AND x.held_until <> 'infinity')
                                  OR x.held_until <= now())
      INTO v_ok
      FROM (SELECT es.hold_id, es.held_until FROM event_seats es
            WHERE es.event_id = v_hold.event_id AND es.seat_id = ANY (v_hold.seat_ids)
            ORDER BY es.seat_id FOR UPDATE) x;
    IF v_ok <> cardinality(v_hold.seat_ids) THEN
        RETURN false;
    END IF;
    UPDATE event_seats SET hold_id = p_hold_id, held_until = 'infinity'
    WHERE event_id = v_hold.event_id AND seat_id = ANY (v_hold.seat_ids);
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION hold_unfulfil(p_hold_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_hold holds%ROWTYPE;
BEGIN
    SELECT * INTO v_hold FROM holds WHERE id = p_hold_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_hold.kind = 'train' THEN
        PERFORM train_hold_unfulfil(p_hold_id);
        RETURN;
    END IF;
    UPDATE event_seats SET hold_id = NULL, held_until = '-infinity'
    WHERE event_id = v_hold.event_id AND seat_id = ANY (v_hold.seat_ids)
      AND hold_id = p_hold_id AND held_until = 'infinity';
END $$;
