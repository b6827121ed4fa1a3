-- Events, venues and seat maps: the JSON the API serves and the admin
-- functions that create them. Reapplied on every migrate run.

-- Seat status as the API names it, from the inventory row.
CREATE OR REPLACE FUNCTION seat_status(p_held_until timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_held_until = 'infinity' THEN 'sold'
                WHEN p_held_until > now() THEN 'held'
                ELSE 'available' END
$$;

-- Free seats: untouched ones plus those whose hold lapsed (two index scans).
-- PL/pgSQL so that the plan is kept per connection (a SQL function with
-- subqueries is planned on every call).
CREATE OR REPLACE FUNCTION event_available(p_event_id bigint)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*) FROM event_seats
            WHERE event_id = p_event_id AND hold_id IS NULL)
         + (SELECT count(*) FROM event_seats
            WHERE event_id = p_event_id AND hold_id IS NOT NULL
              AND held_until <> 'infinity' AND held_until <= now());
END $$;

-- Whether any seat (of a category, or any when NULL) is free: two index
-- probes, whatever the size of the event. PL/pgSQL, one statement per case,
-- so that each plan is kept per connection; the "ORDER BY rank LIMIT 1"
-- form (not EXISTS) keeps the planner on the partial indexes, where EXISTS
-- invited a sequential scan that reads a sold-out event's every seat.
CREATE OR REPLACE FUNCTION event_has_free_seat(p_event_id bigint, p_category text)
RETURNS boolean LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF p_category IS NULL THEN
        PERFORM 1 FROM event_seats
         WHERE event_id = p_event_id AND hold_id IS NULL
         ORDER BY rank LIMIT 1;
    ELSE
        PERFORM 1 FROM event_seats
         WHERE event_id = p_event_id AND category = p_category AND hold_id IS NULL
         ORDER BY rank LIMIT 1;
    END IF;
    IF FOUND THEN
        RETURN true;
    END IF;
    PERFORM 1 FROM event_seats
     WHERE event_id = p_event_id AND hold_id IS NOT NULL
       AND held_until <> 'infinity' AND held_until <= now()
       AND (p_category IS NULL OR category = p_category)
     ORDER BY held_until LIMIT 1;
    RETURN FOUND;
END $$;

-- PL/pgSQL so that the plan is kept per connection: lists call it per event.
CREATE OR REPLACE FUNCTION event_json(p_event_id bigint)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT json_build_object(
        'id', e.id, 'title', e.title, 'performer', e.performer,
        'category', e.category, 'description', e.description,
        'venue', json_build_object('id', v.id, 'name', v.name, 'city', v.city),
        'starts_at', e.starts_at, 'on_sale_at', e.on_sale_at,
        'hold_ttl_s', e.hold_ttl_s, 'max_per_user', e.max_per_user,
        'status', e.status, 'currency', e.currency,
        'on_sale', e.on_sale_at <= now() AND e.starts_at > now() AND e.status = 'scheduled',
        'prices', (SELECT coalesce(json_agg(json_build_object(
                        'category', p.category, 'amount', p.amount,
                        'currency', e.currency) ORDER BY p.amount DESC, p.category), '[]')
                   FROM event_prices p WHERE p.event_id = e.id),
        'available', event_available(e.id),
        'waiting_room', coalesce(
            (SELECT json_build_object('enabled', q.enabled, 'admit_per_minute', q.admit_per_minute,
                                      'max_active', q.max_active, 'access_ttl_s', q.access_ttl_s,
                                      'pow_bits', q.pow_bits)
             FROM queue_settings q WHERE q.event_id = e.id),
            json_build_object('enabled', false)))
    FROM events e JOIN venues v ON v.id = e.venue_id
    WHERE e.id = p_event_id);
END $$;

-- Upcoming events, soonest first, one page.
CREATE OR REPLACE FUNCTION event_list_json(p_limit int, p_offset int)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'total', (SELECT count(*) FROM events WHERE starts_at > now() AND status = 'scheduled'),
        'page_size', p_limit,
        'events', coalesce((SELECT json_agg(event_json(x.id) ORDER BY x.starts_at, x.id)
                            FROM (SELECT id, starts_at FROM events
                                  WHERE starts_at > now() AND status = 'scheduled'
                                  ORDER BY starts_at, id LIMIT p_limit OFFSET p_offset) x),
                           '[]'))
$$;

CREATE OR REPLACE FUNCTION event_seats_json(p_event_id bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'event_id', p_event_id,
        'seats', coalesce(json_agg(json_build_object(
            'id', s.id, 'section', sc.name, 'row', s.row_label, 'number', s.number,
            'category', es.category, 'status', seat_status(es.held_until),
            'x', s.x, 'y', s.y) ORDER BY s.id), '[]'))
    FROM event_seats es
    JOIN seats s ON s.id = es.seat_id
    JOIN sections sc ON sc.id = s.section_id
    WHERE es.event_id = p_event_id
$$;

CREATE OR REPLACE FUNCTION venue_json(p_venue_id bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', v.id, 'name', v.name, 'city', v.city, 'country', v.country,
        'latitude', v.latitude, 'longitude', v.longitude,
        'width', v.width, 'height', v.height,
        'seat_count', (SELECT count(*) FROM seats WHERE venue_id = v.id),
        'sections', coalesce((SELECT json_agg(json_build_object(
                'id', sc.id, 'name', sc.name, 'category', sc.default_category,
                'x', sc.x, 'y', sc.y, 'width', sc.width, 'height', sc.height,
                'seat_count', (SELECT count(*) FROM seats WHERE section_id = sc.id))
                ORDER BY sc.id) FROM sections sc WHERE sc.venue_id = v.id), '[]'))
    FROM venues v WHERE v.id = p_venue_id
$$;

-- Creates a venue from a validated JSON description:
--   {"name","city","country"?,"latitude"?,"longitude"?,
--    "sections":[{"name","category","x","y","rows","seats_per_row",
--                 "seat_spacing"?, "row_spacing"?, "rank_base"?}]}
-- Rows are labelled A, B, ..., Z, AA, AB, ...; seats are numbered from 1.
-- A section's seats are ranked front row first, centre seats first in a row,
-- offset by rank_base so the caller can say which sections are better;
-- sections of equal rank_base rank in the order given, so that best
-- available fills one section's rows before the next (seats together).
CREATE OR REPLACE FUNCTION venue_create(p jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_venue bigint;
    v_section bigint;
    s jsonb;
    v_rows int; v_per_row int; v_seat_dx real; v_row_dy real;
    v_width real := 0; v_height real := 0;
    v_index int := 0;
BEGIN
    INSERT INTO venues (name, city, country, latitude, longitude)
    VALUES (p->>'name', p->>'city', coalesce(p->>'country', 'IN'),
            (p->>'latitude')::double precision, (p->>'longitude')::double precision)
    RETURNING id INTO v_venue;

    FOR s IN SELECT * FROM jsonb_array_elements(p->'sections') LOOP
        v_rows := (s->>'rows')::int;
        v_per_row := (s->>'seats_per_row')::int;
        v_seat_dx := coalesce((s->>'seat_spacing')::real, 1);
        v_row_dy := coalesce((s->>'row_spacing')::real, 1);
        INSERT INTO sections (venue_id, name, default_category, x, y, width, height)
        VALUES (v_venue, s->>'name', s->>'category', (s->>'x')::real, (s->>'y')::real,
                v_per_row * v_seat_dx, v_rows * v_row_dy)
        RETURNING id INTO v_section;
        INSERT INTO seats (venue_id, section_id, row_label, number, x, y, rank)
        SELECT v_venue, v_section, row_label(r), n,
               (s->>'x')::real + (n - 0.5) * v_seat_dx,
               (s->>'y')::real + (r + 0.5) * v_row_dy,
               coalesce((s->>'rank_base')::int, 0) + v_index * 100000 + r * v_per_row
                 + abs(2 * n - v_per_row - 1)  -- centre first
        FROM generate_series(0, v_rows - 1) r, generate_series(1, v_per_row) n;
        v_index := v_index + 1;
        v_width := greatest(v_width, (s->>'x')::real + v_per_row * v_seat_dx);
        v_height := greatest(v_height, (s->>'y')::real + v_rows * v_row_dy);
    END LOOP;
    UPDATE venues SET width = greatest(v_width, 1), height = greatest(v_height, 1)
    WHERE id = v_venue;
    RETURN v_venue;
END $$;

-- Row label of a zero-based row index: A..Z, AA..AZ, BA...
CREATE OR REPLACE FUNCTION row_label(p_index int)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_index < 26 THEN chr(65 + p_index)
                ELSE chr(64 + p_index / 26) || chr(65 + p_index % 26) END
$$;

-- Creates an event with its prices and inventory from validated JSON:
--   {"venue_id","title","performer","category","description"?,"starts_at",
--    "on_sale_at"?,"hold_ttl_s"?,"max_per_user"?,"currency"?,
--    "prices":[{"category","amount"}]}
-- Every section's category must have a price (the foreign key says so).
-- Returns NULL when the venue does not exist.
CREATE OR REPLACE FUNCTION event_create(p jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_event bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM venues WHERE id = (p->>'venue_id')::bigint) THEN
        RETURN NULL;
    END IF;
    INSERT INTO events (venue_id, title, performer, category, description, starts_at,
                        on_sale_at, hold_ttl_s, max_per_user, currency)
    VALUES ((p->>'venue_id')::bigint, p->>'title', p->>'performer', p->>'category',
            coalesce(p->>'description', ''), (p->>'starts_at')::timestamptz,
            coalesce((p->>'on_sale_at')::timestamptz, now()),
            coalesce((p->>'hold_ttl_s')::int, 600), coalesce((p->>'max_per_user')::int, 8),
            coalesce(p->>'currency', 'INR'))
    RETURNING id INTO v_event;
    INSERT INTO event_prices (event_id, category, amount)
    SELECT v_event, x->>'category', (x->>'amount')::bigint
    FROM jsonb_array_elements(p->'prices') x;
    INSERT INTO event_seats (event_id, seat_id, category, rank)
    SELECT v_event, s.id, sc.default_category, s.rank
    FROM seats s JOIN sections sc ON sc.id = s.section_id
    WHERE s.venue_id = (p->>'venue_id')::bigint;
    IF p ? 'waiting_room' THEN
        PERFORM queue_configure(v_event, p->'waiting_room');  -- queue functions
    END IF;
    -- A new event is unknown to the planner's statistics, which then guesses
    -- it has one seat and looks seats up by event alone, reading every seat
    -- of the event per hold. Fresh statistics before its first sale keep
    -- every lookup on the (event_id, seat_id) key. (Autovacuum would not
    -- analyse soon: one event is a small share of a large table.)
    ANALYZE event_seats;
    RETURN v_event;
END $$;

-- Applies the members present in p to an event; prices present are
-- upserted by category. Returns false when the event does not exist.
CREATE OR REPLACE FUNCTION event_update(p_event_id bigint, p jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    UPDATE events SET
        title = coalesce(p->>'title', title),
        performer = coalesce(p->>'performer', performer),
        category = coalesce(p->>'category', category),
        description = coalesce(p->>'description', description),
        starts_at = coalesce((p->>'starts_at')::timestamptz, starts_at),
        on_sale_at = coalesce((p->>'on_sale_at')::timestamptz, on_sale_at),
        hold_ttl_s = coalesce((p->>'hold_ttl_s')::int, hold_ttl_s),
        max_per_user = coalesce((p->>'max_per_user')::int, max_per_user),
        status = coalesce(p->>'status', status),
        updated_at = now()
    WHERE id = p_event_id;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF p ? 'prices' THEN
        INSERT INTO event_prices (event_id, category, amount)
        SELECT p_event_id, x->>'category', (x->>'amount')::bigint
        FROM jsonb_array_elements(p->'prices') x
        ON CONFLICT (event_id, category) DO UPDATE SET amount = excluded.amount;
    END IF;
    IF p ? 'waiting_room' THEN
        PERFORM queue_configure(p_event_id, p->'waiting_room');  -- queue functions
    END IF;
    RETURN true;
END $$;

-- Live counts for the admin view.
CREATE OR REPLACE FUNCTION event_stats_json(p_event_id bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'event_id', p_event_id, 'at', now(),
        'sold', count(*) FILTER (WHERE held_until = 'infinity'),
        'held', count(*) FILTER (WHERE held_until > now() AND held_until <> 'infinity'),
        'available', count(*) FILTER (WHERE held_until <= now()),
        'total', count(*))
    FROM event_seats WHERE event_id = p_event_id
    HAVING EXISTS (SELECT 1 FROM events WHERE id = p_event_id)
$$;

-- The admin writes as one call each, answering with the JSON of what they
-- made. (A STABLE function called in the same statement as the insert would
-- not see the new rows; a PL/pgSQL statement after it does.)
CREATE OR REPLACE FUNCTION venue_create_json(p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint := venue_create(p);
BEGIN
    RETURN venue_json(v_id);
END $$;

CREATE OR REPLACE FUNCTION event_create_json(p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint := event_create(p);
BEGIN
    IF v_id IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN event_json(v_id);
END $$;

CREATE OR REPLACE FUNCTION event_update_json(p_event_id bigint, p jsonb)
RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    IF NOT event_update(p_event_id, p) THEN
        RETURN NULL;
    END IF;
    RETURN event_json(p_event_id);
END $$;
