-- The waiting room: joining, the pre-queue draw, fairness, and the
-- admission ticks boxoffice-worker runs. Status polls never come here:
-- workers verify signed tokens and read the cursor from a per-process
-- cache (lib/queue_cache.c). Reapplied on every migrate run.

-- Upserts an event's sale settings from validated JSON:
--   {"enabled","admit_per_minute","max_active","access_ttl_s","pow_bits"}
-- (members absent keep their value). The fairness seed is drawn with the
-- row, so its hash is public before anyone can join the pre-queue.
CREATE OR REPLACE FUNCTION queue_configure(p_event_id bigint, p jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO queue_settings AS q (event_id, enabled, admit_per_minute, max_active,
                                     access_ttl_s, pow_bits)
    VALUES (p_event_id, coalesce((p->>'enabled')::boolean, false),
            coalesce((p->>'admit_per_minute')::int, 600), coalesce((p->>'max_active')::int, 1000),
            coalesce((p->>'access_ttl_s')::int, 600), coalesce((p->>'pow_bits')::int, 0))
    ON CONFLICT (event_id) DO UPDATE SET
        enabled = coalesce((p->>'enabled')::boolean, q.enabled),
        admit_per_minute = coalesce((p->>'admit_per_minute')::int, q.admit_per_minute),
        max_active = coalesce((p->>'max_active')::int, q.max_active),
        access_ttl_s = coalesce((p->>'access_ttl_s')::int, q.access_ttl_s),
        pow_bits = coalesce((p->>'pow_bits')::int, q.pow_bits)
$$;

-- Draws the pre-queue's order once the sale has opened: positions 1..n go
-- to the users who joined before, sorted by HMAC-SHA256(key = seed,
-- message = the user id in decimal), ties (never seen) by user id. Later
-- joiners follow in arrival order. Returns true when it drew now.
CREATE OR REPLACE FUNCTION queue_draw(p_event_id bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_seed bytea;
    v_count int;
BEGIN
    SELECT q.seed INTO v_seed FROM queue_settings q JOIN events e ON e.id = q.event_id
    WHERE q.event_id = p_event_id AND q.drawn_at IS NULL AND e.on_sale_at <= now()
    FOR UPDATE OF q;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    WITH ranked AS (
        SELECT x.user_id, row_number() OVER (
                   ORDER BY hmac(convert_to(x.user_id::text, 'UTF8'), v_seed, 'sha256'),
                            x.user_id) AS pos
        FROM queue_entries x WHERE x.event_id = p_event_id AND x.pre_queue)
    UPDATE queue_entries e SET position = r.pos
    FROM ranked r WHERE e.event_id = p_event_id AND e.user_id = r.user_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    UPDATE queue_settings SET drawn_at = now(), prequeue_size = v_count, last_position = v_count
    WHERE event_id = p_event_id;
    RETURN true;
END $$;

-- Puts a user in line, once. p_pow_bits is the proof of work the caller
-- verified (-1: none). Returns one row: outcome (joined, event_not_found,
-- queue_disabled, sale_closed, pow_required), the place in line (NULL while in
-- the pre-queue), whether the user is in the pre-queue, the difficulty.
CREATE OR REPLACE FUNCTION queue_join(p_event_id bigint, p_user_id bigint, p_pow_bits int)
RETURNS TABLE (outcome text, place bigint, pre_queue boolean, pow_bits int)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_event events%ROWTYPE;
    v_q queue_settings%ROWTYPE;
    v_pos bigint;
    v_pre boolean;
BEGIN
    SELECT * INTO v_event FROM events WHERE id = p_event_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'event_not_found', NULL::bigint, NULL::boolean, 0; RETURN;
    END IF;
    SELECT * INTO v_q FROM queue_settings WHERE event_id = p_event_id;
    IF NOT FOUND OR NOT v_q.enabled THEN
        RETURN QUERY SELECT 'queue_disabled', NULL::bigint, NULL::boolean, 0; RETURN;
    END IF;
    IF v_event.starts_at <= now() OR v_event.status <> 'scheduled' THEN
        RETURN QUERY SELECT 'sale_closed', NULL::bigint, NULL::boolean, v_q.pow_bits; RETURN;
    END IF;
    SELECT x.position, x.pre_queue INTO v_pos, v_pre FROM queue_entries x
    WHERE x.event_id = p_event_id AND x.user_id = p_user_id;
    IF FOUND AND (v_pos IS NOT NULL OR v_event.on_sale_at > now()) THEN
        RETURN QUERY SELECT 'joined', v_pos, v_pre, v_q.pow_bits; RETURN;
    END IF;
    IF NOT FOUND AND v_q.pow_bits > 0 AND coalesce(p_pow_bits, -1) < v_q.pow_bits THEN
        RETURN QUERY SELECT 'pow_required', NULL::bigint, NULL::boolean, v_q.pow_bits; RETURN;
    END IF;
    IF v_event.on_sale_at > now() THEN
        INSERT INTO queue_entries (event_id, user_id, pre_queue)
        VALUES (p_event_id, p_user_id, true) ON CONFLICT DO NOTHING;
        RETURN QUERY SELECT 'joined', NULL::bigint, true, v_q.pow_bits; RETURN;
    END IF;
    -- First come, first served: joins of one event take turns on its
    -- settings row, so positions are dense and in commit order. The draw
    -- comes first so that the pre-queue keeps the front of the line.
    -- The row lock is held until commit, so the WAL flush bounds joins per
    -- second; where the operator lets hold-only transactions commit
    -- asynchronously, joins (no money either) do too: a crash may then
    -- forget the last moment's joins, whose places are handed out again.
    IF current_setting('boxoffice.hold_async_commit', true) = 'on' THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    IF v_q.drawn_at IS NULL THEN  -- (once drawn, always drawn)
        PERFORM queue_draw(p_event_id);
    END IF;
    PERFORM 1 FROM queue_settings WHERE event_id = p_event_id FOR UPDATE;
    SELECT x.position, x.pre_queue INTO v_pos, v_pre FROM queue_entries x
    WHERE x.event_id = p_event_id AND x.user_id = p_user_id;
    IF FOUND THEN
        RETURN QUERY SELECT 'joined', v_pos, v_pre, v_q.pow_bits; RETURN;
    END IF;
    UPDATE queue_settings SET last_position = last_position + 1
    WHERE event_id = p_event_id RETURNING last_position INTO v_pos;
    INSERT INTO queue_entries (event_id, user_id, position, pre_queue)
    VALUES (p_event_id, p_user_id, v_pos, false);
    RETURN QUERY SELECT 'joined', v_pos, false, v_q.pow_bits;
END $$;

-- A pre-queue user's drawn position (NULL until the draw).
CREATE OR REPLACE FUNCTION queue_position(p_event_id bigint, p_user_id bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT position FROM queue_entries WHERE event_id = p_event_id AND user_id = p_user_id
$$;

-- What anyone needs to check the pre-queue's order: the commitment from
-- the start; once drawn, the seed and the pre-queue's user ids.
CREATE OR REPLACE FUNCTION queue_fairness_json(p_event_id bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'event_id', q.event_id,
        'seed_sha256', encode(sha256(q.seed), 'hex'),
        'committed_at', q.committed_at,
        'on_sale_at', e.on_sale_at,
        'drawn_at', q.drawn_at,
        'seed', CASE WHEN q.drawn_at IS NOT NULL THEN encode(q.seed, 'hex') END,
        'prequeue_size', CASE WHEN q.drawn_at IS NOT NULL THEN q.prequeue_size END,
        'prequeue_user_ids', CASE WHEN q.drawn_at IS NOT NULL THEN
            (SELECT coalesce(json_agg(x.user_id ORDER BY x.user_id), '[]')
             FROM queue_entries x WHERE x.event_id = q.event_id AND x.pre_queue) END,
        'method', 'pre-queue positions 1..n: its users sorted by HMAC-SHA256 with the seed '
                  '(32 bytes) as key and the user id in decimal ASCII as message, as '
                  'unsigned bytes; later joiners follow in arrival order')
    FROM queue_settings q JOIN events e ON e.id = q.event_id
    WHERE q.event_id = p_event_id
$$;

-- Seats that can never come back to the queue: none unsold (every seat
-- row is sold) and no order still waiting for its payment. Orders live in
-- the orders migration when it has landed; this stays correct without it.
CREATE OR REPLACE FUNCTION queue_stock_gone(p_event_id bigint)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_pending bigint := 0;
BEGIN
    -- In seat order so that the primary key answers at the first unsold
    -- seat (a bare EXISTS may be planned as a scan of every event's seats).
    PERFORM 1 FROM event_seats
    WHERE event_id = p_event_id AND held_until <> 'infinity' ORDER BY seat_id LIMIT 1;
    IF FOUND THEN
        RETURN false;
    END IF;
    IF to_regclass('orders') IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('orders')
                   AND attname = 'event_id' AND NOT attisdropped) THEN
            EXECUTE 'SELECT count(*) FROM orders WHERE event_id = $1 AND status = ''pending_payment'''
                INTO v_pending USING p_event_id;
        ELSIF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('orders')
                      AND attname = 'hold_id' AND NOT attisdropped) THEN
            EXECUTE 'SELECT count(*) FROM orders o JOIN holds h ON h.id = o.hold_id '
                    'WHERE h.event_id = $1 AND o.status = ''pending_payment'''
                INTO v_pending USING p_event_id;
        END IF;
    END IF;
    RETURN v_pending = 0;
END $$;

-- The admission state of every event whose sale is open and uses the
-- waiting room, drawing pre-queues whose sale just opened. The worker
-- computes the next cursor (lib/queue.c) and applies it with
-- queue_tick_apply.
DROP FUNCTION IF EXISTS queue_tick_state();
CREATE OR REPLACE FUNCTION queue_tick_state()
RETURNS TABLE (event_id bigint, admit_cursor bigint, carry bigint, elapsed_ms bigint,
               admit_per_minute int, max_active int, active bigint, last_position bigint,
               stock_gone boolean, sold_out boolean, at_ms bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM queue_draw(q.event_id) FROM queue_settings q JOIN events e ON e.id = q.event_id
    WHERE q.enabled AND q.drawn_at IS NULL AND e.on_sale_at <= now();
    RETURN QUERY
    SELECT q.event_id, q.admit_cursor, q.carry,
           CASE WHEN q.ticked_at IS NULL THEN 1000::bigint
                ELSE (extract(epoch FROM now() - q.ticked_at) * 1000)::bigint END,
           q.admit_per_minute, q.max_active,
           (SELECT count(*) FROM queue_entries x
            WHERE x.event_id = q.event_id AND x.used_at IS NULL
              AND x.admitted_at > now() - make_interval(secs => q.access_ttl_s)),
           q.last_position, queue_stock_gone(q.event_id), q.sold_out,
           (extract(epoch FROM now()) * 1000)::bigint
    FROM queue_settings q JOIN events e ON e.id = q.event_id
    WHERE q.enabled AND e.on_sale_at <= now() AND e.starts_at > now()
      AND e.status = 'scheduled';
END $$;

-- Applies one step if the cursor is still p_old_cursor (another worker
-- may have stepped first: then nothing changes and it returns false).
-- Admits positions p_old_cursor+1..p_new_cursor, records the step in the
-- history, and restarts the tick clock when p_ticked. p_at_ms is the time
-- of the state the step was computed from (queue_tick_state's at_ms), so
-- that the time between reading and applying is never lost.
DROP FUNCTION IF EXISTS queue_tick_apply(bigint, bigint, bigint, bigint, boolean, boolean);
CREATE OR REPLACE FUNCTION queue_tick_apply(p_event_id bigint, p_old_cursor bigint,
                                            p_new_cursor bigint, p_carry bigint,
                                            p_sold_out boolean, p_ticked boolean,
                                            p_at_ms bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_q queue_settings%ROWTYPE;
    v_now_ms bigint := p_at_ms;
    v_cut bigint;
    v_c bigint[];
    v_t bigint[];
    v_first int := 1;
BEGIN
    SELECT * INTO v_q FROM queue_settings
    WHERE event_id = p_event_id AND admit_cursor = p_old_cursor FOR UPDATE;
    IF NOT FOUND OR p_new_cursor < p_old_cursor OR p_new_cursor > v_q.last_position THEN
        RETURN false;
    END IF;
    v_c := v_q.history_cursor;
    v_t := v_q.history_at_ms;
    IF p_new_cursor > p_old_cursor THEN
        v_c := v_c || p_new_cursor;
        v_t := v_t || v_now_ms;
        -- Keep what the access lifetime (and a minute of rate) needs, plus
        -- the newest older step: positions up to it were admitted too long ago.
        v_cut := v_now_ms - (greatest(v_q.access_ttl_s, 60) + 5) * 1000;
        WHILE v_first < cardinality(v_t) AND v_t[v_first + 1] <= v_cut LOOP
            v_first := v_first + 1;
        END LOOP;
        v_c := v_c[v_first:];
        v_t := v_t[v_first:];
        UPDATE queue_entries SET admitted_at = now()
        WHERE event_id = p_event_id AND position > p_old_cursor AND position <= p_new_cursor;
    END IF;
    UPDATE queue_settings SET
        admit_cursor = p_new_cursor, carry = p_carry, sold_out = p_sold_out,
        ticked_at = CASE WHEN p_ticked THEN to_timestamp(p_at_ms / 1000.0) ELSE ticked_at END,
        history_cursor = v_c, history_at_ms = v_t
    WHERE event_id = p_event_id;
    RETURN true;
END $$;

-- What every fcgi worker caches, refreshed at most once a second: one row
-- per event whose waiting room is on and whose event has not passed.
CREATE OR REPLACE FUNCTION queue_cache_rows()
RETURNS TABLE (event_id bigint, on_sale_at_ms bigint, admit_cursor bigint,
               last_position bigint, sold_out boolean, drawn boolean, access_ttl_s int,
               admit_per_minute int, pow_bits int, history_cursor text, history_at_ms text)
LANGUAGE sql STABLE AS $$
    SELECT q.event_id, (extract(epoch FROM e.on_sale_at) * 1000)::bigint, q.admit_cursor,
           q.last_position, q.sold_out, q.drawn_at IS NOT NULL, q.access_ttl_s,
           q.admit_per_minute, q.pow_bits,
           array_to_string(q.history_cursor, ','), array_to_string(q.history_at_ms, ',')
    FROM queue_settings q JOIN events e ON e.id = q.event_id
    WHERE q.enabled AND e.starts_at > now() AND e.status = 'scheduled'
$$;
