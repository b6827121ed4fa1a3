# bench/common.sh: what the flash-sale benchmarks (flash_sale.sh,
# checkout_bench.sh) set up alike: a crowd of signed-in users and a big
# venue, and events on it. Sourced after scripts/common.sh; the caller
# defines psqlq (psql on the bench database, -tA) and WORK.

# bench_crowd USERS SEATS [TOKEN_ORDER]: USERS users with day-long
# sessions whose tokens go to $WORK/tokens (in TOKEN_ORDER, an SQL ORDER BY
# expression, default id), and a venue of SEATS seats in sections of
# 15,000 (150 rows of 100) whose id goes to VENUE.
bench_crowd() {
    say "making $1 users with sessions and a $2-seat venue"
    psqlq <<SQL >/dev/null
INSERT INTO users (email, name, password_hash)
SELECT 'bench' || g || '@example.com', 'Bench ' || g, 'x' FROM generate_series(1, $1) g;
INSERT INTO sessions (token_hash, user_id, expires_at)
SELECT sha256(convert_to('benchtoken' || lpad(id::text, 12, '0'), 'UTF8')), id, now() + interval '1 day'
FROM users;
SELECT venue_create(jsonb_build_object('name', 'Bench Arena', 'city', 'Mumbai', 'sections',
    (SELECT jsonb_agg(jsonb_build_object('name', 'S' || i, 'category', 'A', 'x', i * 110, 'y', 0,
                                         'rows', 150, 'seats_per_row', 100))
     FROM generate_series(1, $(($2 / 15000))) i)));
SQL
    psqlq -c "SELECT 'benchtoken' || lpad(id::text, 12, '0') FROM users ORDER BY ${3:-id}" \
        >"$WORK/tokens"
    VENUE=$(psqlq -c "SELECT max(id) FROM venues")
}

# bench_new_event NAME: an event on VENUE, on sale now, one price
# category; prints its id.
bench_new_event() {
    psqlq -c "SELECT event_create(jsonb_build_object('venue_id', $VENUE, 'title', 'Bench $1',
        'performer', 'Bench', 'category', 'concert', 'starts_at', now() + interval '30 days',
        'on_sale_at', now() - interval '1 hour', 'max_per_user', 100,
        'prices', '[{\"category\":\"A\",\"amount\":5000}]'::jsonb))"
}
