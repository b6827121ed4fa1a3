-- search_bench_data.sql: 100,000 generated events for bench/search_bench.sh,
-- the same every run: 400 venues of 10 seats in 40 cities, performers and
-- titles made of generated words (about 4,000 distinct words), 8
-- categories, dates spread over two years (5% in the past).
CREATE OR REPLACE FUNCTION pg_temp.bench_word(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT initcap(s[1 + n % 16] || s[1 + (n / 16) % 16] || s[1 + (n / 256) % 16])
    FROM (SELECT ARRAY['ka','ra','mi','lo','ve','zu','ta','ni','so','be','da','fi','go','hu',
                       'ja','ke'] AS s) x
$$;

INSERT INTO venues (name, city, latitude, longitude)
SELECT 'Bench ' || c.city || ' Hall ' || v, c.city, c.lat, c.lon
FROM (VALUES ('Mumbai', 19.07, 72.87), ('Chennai', 13.08, 80.27), ('Kolkata', 22.57, 88.36),
             ('Bengaluru', 12.97, 77.59), ('Pune', 18.52, 73.85), ('New Delhi', 28.61, 77.20),
             ('Hyderabad', 17.38, 78.48), ('Ahmedabad', 23.02, 72.57), ('Jaipur', 26.91, 75.78),
             ('Lucknow', 26.84, 80.94), ('Kanpur', 26.44, 80.33), ('Nagpur', 21.14, 79.08),
             ('Indore', 22.71, 75.85), ('Bhopal', 23.25, 77.41), ('Patna', 25.59, 85.13),
             ('Vadodara', 22.30, 73.18), ('Ludhiana', 30.90, 75.85), ('Agra', 27.17, 78.00),
             ('Nashik', 19.99, 73.78), ('Varanasi', 25.31, 82.97), ('Srinagar', 34.08, 74.79),
             ('Amritsar', 31.63, 74.87), ('Prayagraj', 25.43, 81.84), ('Ranchi', 23.34, 85.30),
             ('Guwahati', 26.14, 91.73), ('Chandigarh', 30.73, 76.77), ('Mysuru', 12.29, 76.63),
             ('Kochi', 9.93, 76.26), ('Thiruvananthapuram', 8.52, 76.93), ('Goa', 15.49, 73.82),
             ('Visakhapatnam', 17.68, 83.21), ('Coimbatore', 11.01, 76.95), ('Madurai', 9.92, 78.11),
             ('Mangaluru', 12.91, 74.85), ('Gurugram', 28.45, 77.02), ('Noida', 28.53, 77.39),
             ('Dehradun', 30.31, 78.03), ('Shimla', 31.10, 77.17), ('Puducherry', 11.94, 79.80),
             ('Udaipur', 24.58, 73.71)) AS c(city, lat, lon),
     generate_series(1, 10) v;

INSERT INTO sections (venue_id, name, default_category, x, y, width, height)
SELECT id, 'Floor', 'A', 0, 0, 5, 2 FROM venues WHERE name LIKE 'Bench %';

INSERT INTO seats (venue_id, section_id, row_label, number, x, y, rank)
SELECT s.venue_id, s.id, r, n, n, 1, n
FROM sections s JOIN venues v ON v.id = s.venue_id AND v.name LIKE 'Bench %',
     unnest(ARRAY['A', 'B']) r, generate_series(1, 5) n;

CREATE TEMP TABLE bench_events AS
SELECT i,
       pg_temp.bench_word(((i::bigint * 7919) % 4096)::int) || ' '
           || pg_temp.bench_word(((i::bigint * 104729) % 4096)::int) AS performer,
       (ARRAY['Live', 'World Tour', 'Unplugged', 'Night', 'Festival', 'Reunion', 'Gala',
              'Sessions', 'in Concert', 'Farewell'])[1 + i % 10] AS suffix,
       (ARRAY['concert', 'comedy', 'theatre', 'dance', 'festival', 'sports', 'classical',
              'family'])[1 + (i * 31) % 8] AS category,
       now() + ((i % 730) - 36) * interval '1 day' + (i % 12) * interval '1 hour' AS starts_at,
       (SELECT array_agg(id ORDER BY id) FROM venues WHERE name LIKE 'Bench %') AS venues
FROM generate_series(1, 100000) i;

INSERT INTO events (venue_id, title, performer, category, starts_at, on_sale_at)
SELECT venues[1 + (i * 13) % array_length(venues, 1)], performer || ' ' || suffix, performer,
       category, starts_at, least(now() - interval '1 day', starts_at)
FROM bench_events ORDER BY i;

INSERT INTO event_prices (event_id, category, amount)
SELECT e.id, 'A', 50000 + (e.id % 40) * 25000
FROM events e JOIN venues v ON v.id = e.venue_id WHERE v.name LIKE 'Bench %';

INSERT INTO event_seats (event_id, seat_id, category, rank)
SELECT e.id, s.id, 'A', s.rank
FROM events e JOIN venues v ON v.id = e.venue_id AND v.name LIKE 'Bench %'
JOIN seats s ON s.venue_id = e.venue_id;

ANALYZE;
