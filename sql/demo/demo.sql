-- demo.sql: the demo data the run command loads once: six venues (a
-- 20,000-seat arena, 2,000-seat theatres, 500-seat clubs) in six cities
-- and 30 upcoming events with prices. Deterministic: the same venues,
-- seats, events and prices every time; event dates count from the day it
-- is loaded so that they are always upcoming.
BEGIN;
CREATE TABLE IF NOT EXISTS demo_data_loaded (loaded_at timestamptz NOT NULL DEFAULT now());

DO $$
DECLARE
    v_arena bigint;
    v_venues jsonb := '{}';
    v_layout jsonb;
    v record;
    v_base timestamptz := date_trunc('day', now() AT TIME ZONE 'Asia/Kolkata')
                          AT TIME ZONE 'Asia/Kolkata';
    e record;
    v_venue bigint;
    v_prices jsonb;
BEGIN
    IF EXISTS (SELECT 1 FROM demo_data_loaded) THEN
        RETURN;
    END IF;

    -- Arena: floor (A), lower bowl (B), upper bowl (C): 2,000 + 7,200 + 10,800.
    SELECT venue_create(jsonb_build_object(
        'name', 'Harbour Arena', 'city', 'Mumbai', 'latitude', 19.0176, 'longitude', 72.8562,
        'sections',
          (SELECT jsonb_agg(jsonb_build_object('name', 'Floor ' || i, 'category', 'A',
                   'x', 300 + (i - 1) * 26, 'y', 120, 'rows', 20, 'seats_per_row', 25,
                   'rank_base', 0) ORDER BY i) FROM generate_series(1, 4) i)
          || (SELECT jsonb_agg(jsonb_build_object('name', 'Lower ' || (100 + i), 'category', 'B',
                   'x', 20 + ((i - 1) % 6) * 120, 'y', CASE WHEN i <= 6 THEN 150 + 0 ELSE 360 END,
                   'rows', 20, 'seats_per_row', 30) ORDER BY i)
              FROM generate_series(1, 12) i)
          || (SELECT jsonb_agg(jsonb_build_object('name', 'Upper ' || (200 + i), 'category', 'C',
                   'x', 20 + ((i - 1) % 6) * 120, 'y', CASE WHEN i <= 6 THEN 400 ELSE 440 END + 200,
                   'rows', 30, 'seats_per_row', 30) ORDER BY i)
              FROM generate_series(1, 12) i)))
      INTO v_arena;
    -- Theatres: orchestra (A), mezzanine (B), balcony (C): 800 + 600 + 600.
    -- Clubs: main floor (A) and balcony (B): 400 + 100.
    FOR v IN SELECT * FROM (VALUES
        ('theatre_del', 'Capital Playhouse', 'New Delhi', 28.6315, 77.2167, 'theatre'),
        ('theatre_maa', 'Marina Theatre', 'Chennai', 13.0500, 80.2824, 'theatre'),
        ('club_blr', 'Blue Note Club', 'Bengaluru', 12.9716, 77.5946, 'club'),
        ('club_ccu', 'Park Street Club', 'Kolkata', 22.5530, 88.3520, 'club'),
        ('club_pnq', 'Deccan Social', 'Pune', 18.5204, 73.8567, 'club')
    ) AS t(key, name, city, lat, lon, kind)
    LOOP
        v_layout := CASE v.kind
            WHEN 'theatre' THEN jsonb_build_array(
                jsonb_build_object('name', 'Orchestra', 'category', 'A', 'x', 0, 'y', 10,
                                   'rows', 20, 'seats_per_row', 40),
                jsonb_build_object('name', 'Mezzanine', 'category', 'B', 'x', 0, 'y', 33,
                                   'rows', 15, 'seats_per_row', 40),
                jsonb_build_object('name', 'Balcony', 'category', 'C', 'x', 0, 'y', 51,
                                   'rows', 15, 'seats_per_row', 40))
            ELSE jsonb_build_array(
                jsonb_build_object('name', 'Main', 'category', 'A', 'x', 0, 'y', 5,
                                   'rows', 20, 'seats_per_row', 20),
                jsonb_build_object('name', 'Balcony', 'category', 'B', 'x', 0, 'y', 27,
                                   'rows', 5, 'seats_per_row', 20)) END;
        v_venues := v_venues || jsonb_build_object(v.key, venue_create(jsonb_build_object(
            'name', v.name, 'city', v.city, 'latitude', v.lat, 'longitude', v.lon,
            'sections', v_layout)));
    END LOOP;

    FOR e IN SELECT * FROM (VALUES
        -- venue, day, title, performer, category, A, B, C (rupees), on sale in days
        ('arena',   5, 'Monsoon Nights Live', 'Aria Kapoor', 'concert', 9500, 4500, 1500, 0),
        ('arena',  12, 'The Midnight Tour', 'The Midnight Owls', 'concert', 12000, 6000, 2500, 0),
        ('arena',  19, 'Stadium Anthems', 'Rohan & The Rivers', 'concert', 8000, 4000, 1200, 0),
        ('arena',  26, 'Cricket Legends Gala', 'Legends XI', 'sports', 15000, 7500, 3000, 0),
        ('arena',  33, 'Electric Skies Festival', 'DJ Nova', 'festival', 7000, 3500, 1800, 0),
        ('arena',  40, 'World Tour 2027', 'Luna Vega', 'concert', 18000, 9000, 3500, 3),
        ('theatre_del',  3, 'Hamlet', 'National Repertory Company', 'theatre', 3500, 2200, 900, 0),
        ('theatre_del', 10, 'The Sitar and the Sea', 'Anoushka Rao', 'classical', 4000, 2500, 1000, 0),
        ('theatre_del', 17, 'Comedy Central Stage', 'Vir Malhotra', 'comedy', 2500, 1500, 800, 0),
        ('theatre_del', 24, 'Swan Lake', 'Moscow City Ballet', 'dance', 6000, 3500, 1500, 0),
        ('theatre_del', 31, 'Mughal-e-Azam: The Musical', 'Stagecraft India', 'theatre', 5000, 3000, 1200, 0),
        ('theatre_del', 45, 'Jazz at the Capital', 'Deepak Menon Quartet', 'jazz', 3000, 2000, 900, 5),
        ('theatre_maa',  4, 'Carnatic Evening', 'T. M. Lakshmi', 'classical', 2500, 1500, 600, 0),
        ('theatre_maa', 11, 'Bharatanatyam Margam', 'Kalakshetra Ensemble', 'dance', 2000, 1200, 500, 0),
        ('theatre_maa', 18, 'Stand-up Saturday', 'Karthik Kumar', 'comedy', 1800, 1200, 600, 0),
        ('theatre_maa', 25, 'The Merchant of Venice', 'Madras Players', 'theatre', 1500, 1000, 500, 0),
        ('theatre_maa', 32, 'Film Symphony', 'Chennai Film Orchestra', 'classical', 3500, 2000, 800, 0),
        ('theatre_maa', 39, 'Magic of Illusions', 'The Great Sameer', 'family', 1200, 800, 400, 0),
        ('club_blr',  2, 'Indie Fridays', 'The Local Train', 'indie', 1500, 900, NULL, 0),
        ('club_blr',  9, 'Blues Night', 'Soulmate', 'blues', 1200, 800, NULL, 0),
        ('club_blr', 16, 'Techno Warehouse', 'Kohra', 'electronic', 1800, 1000, NULL, 0),
        ('club_blr', 23, 'Open Mic Comedy', 'Kanan Gill', 'comedy', 900, 600, NULL, 0),
        ('club_ccu',  6, 'Rock Reunion', 'Fossils Tribute', 'rock', 1200, 700, NULL, 0),
        ('club_ccu', 13, 'Jazz by the Park', 'Calcutta Jazz Collective', 'jazz', 1500, 900, NULL, 0),
        ('club_ccu', 20, 'Baul Fusion', 'Bangla Beats', 'folk', 1000, 600, NULL, 0),
        ('club_ccu', 27, 'Poetry and Strings', 'Anjan Sen', 'folk', 800, 500, NULL, 0),
        ('club_pnq',  7, 'Sunburn Club Edition', 'DJ Nucleya', 'electronic', 2500, 1500, NULL, 0),
        ('club_pnq', 14, 'Acoustic Sundays', 'Prateek Kuhad', 'indie', 2000, 1200, NULL, 0),
        ('club_pnq', 21, 'Metal Mayhem', 'Demonic Resurrection', 'rock', 1200, 800, NULL, 0),
        ('club_pnq', 28, 'Qawwali Night', 'Nizami Brothers', 'folk', 1500, 900, NULL, 0)
    ) AS t(venue, day, title, performer, category, price_a, price_b, price_c, on_sale_in)
    LOOP
        v_venue := CASE e.venue WHEN 'arena' THEN v_arena
                                ELSE (v_venues->>e.venue)::bigint END;
        v_prices := jsonb_build_array(
            jsonb_build_object('category', 'A', 'amount', e.price_a * 100),
            jsonb_build_object('category', 'B', 'amount', e.price_b * 100));
        IF e.price_c IS NOT NULL THEN
            v_prices := v_prices || jsonb_build_object('category', 'C', 'amount', e.price_c * 100);
        END IF;
        PERFORM event_create(jsonb_build_object(
            'venue_id', v_venue, 'title', e.title, 'performer', e.performer,
            'category', e.category,
            'description', e.title || ' with ' || e.performer || '.',
            'starts_at', v_base + make_interval(days => e.day, hours => 19, mins => 30),
            'on_sale_at', CASE WHEN e.on_sale_in = 0 THEN v_base - interval '1 day'
                               ELSE v_base + make_interval(days => e.on_sale_in, hours => 10) END,
            'currency', 'INR', 'prices', v_prices));
    END LOOP;
    INSERT INTO demo_data_loaded DEFAULT VALUES;
END $$;
COMMIT;
