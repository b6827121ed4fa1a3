#!/bin/sh
# flash_sale.sh: the flash-sale benchmark, run by hand:
#   bench/flash_sale.sh [SECONDS] [REPEATS]
# In one run on this machine, side by side:
#   1. the raw PostgreSQL ceiling for our hold statement (pgbench, one
#      SELECT hold_create(...) per transaction, 32 clients);
#   2. the seed design's transaction (BEGIN; SELECT ... FOR UPDATE SKIP
#      LOCKED; UPDATE; COMMIT: four round trips) under pgbench;
#   3. the whole stack (wrk -> nginx -> boxoffice-fcgi -> PostgreSQL),
#      best-available holds of one seat, 64 connections, with synchronous
#      and with asynchronous commit of hold-only transactions;
#   4. sold-out answers through the whole stack against a minimal libfcgi
#      program answering a constant behind the same nginx configuration.
# Each figure is the median of REPEATS runs of SECONDS each. Afterwards it
# checks in the database that no seat is in two live holds (oversold = 0).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/stack.sh"
. "$ROOT/bench/common.sh"

DURATION=${1:-8}
REPEATS=${2:-3}
SEATS_PER_EVENT=150000
USERS=5000
CLIENTS_PG=32
CONNS=${BENCH_CONNECTIONS:-64}

install_packages $BOXOFFICE_RUN_PACKAGES wrk postgresql-contrib
say "building (optimised, no sanitizers)"
build_into "$ROOT/build"
WORK=$(mktemp -d /tmp/boxoffice-bench.XXXXXX)
chmod 755 "$WORK"
PG_HOME=$(pg_home_for "$WORK/pg")
PG_PORT=$((40000 + $$ % 10000))
cleanup() {
    STATE=$WORK/stack stack_stop 2>/dev/null || true
    STATE=$WORK/minimal stack_stop 2>/dev/null || true
    # The minimal program and its forked workers share a process group.
    [ -f "$WORK/minimal.pid" ] && kill -- -"$(cat "$WORK/minimal.pid")" 2>/dev/null || true
    pg_down "$PG_HOME"
    rm -rf "$WORK" "$PG_HOME"
}
trap cleanup EXIT INT TERM
pg_up "$PG_HOME" "$PG_PORT"
DATABASE_URL="host=$PG_HOME/socket port=$PG_PORT dbname=boxoffice user=boxoffice"
migrate "$DATABASE_URL"
psqlq() { "$PG_BIN/psql" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

bench_crowd "$USERS" "$SEATS_PER_EVENT"
SEED_HOLD_USER=$(psqlq -c "SELECT min(id) FROM users")


cat >"$WORK/single.sql" <<'SQL'
\set uid random(1, 5000)
SELECT outcome FROM hold_create((SELECT token_hash FROM sessions WHERE user_id = :uid LIMIT 1), :event, NULL, 1, NULL, NULL);
SQL
cat >"$WORK/seed.sql" <<'SQL'
BEGIN;
SELECT seat_id AS seat FROM event_seats WHERE event_id = :event AND hold_id IS NULL ORDER BY rank LIMIT 1 FOR UPDATE SKIP LOCKED \gset
UPDATE event_seats SET hold_id = :hold, held_until = now() + interval '10 minutes' WHERE event_id = :event AND seat_id = :seat;
COMMIT;
SQL

pgbench_tps() { # SCRIPT EVENT [extra -D]
    script=$1; event=$2; shift 2
    "$PG_BIN/pgbench" -n -h "$PG_HOME/socket" -p "$PG_PORT" -U boxoffice -c "$CLIENTS_PG" \
        -j 2 -T "$DURATION" -M prepared -D event="$event" "$@" -f "$script" boxoffice 2>&1 |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The whole stack, tuned for load: no access log, open limits.
STATE=$WORK/stack PORT=$((PG_PORT + 1)) SANDBOX_PORT=$((PG_PORT + 2)) BIN_DIR=$ROOT/build
LIMITS=open ACCESS_LOG=off WORKERS=${BENCH_WORKERS:-8} NO_INDEXER=1
EXTRA_CONFIG="log_level = warn"
stack_start
STACK_PORT=$PORT

wrk_run() { # PORT PATH BODY -> "rps p50 p99 statuses"
    BENCH_TOKENS=$WORK/tokens BENCH_PATH=$2 BENCH_BODY=$3 \
        wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 5s -s "$ROOT/bench/hold.lua" \
        "http://127.0.0.1:$1" >"$WORK/wrk.out" 2>&1
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$WORK/wrk.out" | cut -d. -f1)
    p50=$(sed -n 's/^LATENCY p50_ms=\([0-9.]*\).*/\1/p' "$WORK/wrk.out")
    p99=$(sed -n 's/^LATENCY.*p99_ms=\([0-9.]*\).*/\1/p' "$WORK/wrk.out")
    st=$(sed -n 's/^STATUS //p' "$WORK/wrk.out" | tr ' ' ',')
    echo "$rps $p50 $p99 $st"
}

: >"$WORK/r_single"; : >"$WORK/r_seed"; : >"$WORK/r_sync"; : >"$WORK/r_async"
: >"$WORK/r_soldout"; : >"$WORK/r_minimal"
EVENTS=""
for i in $(seq 1 "$REPEATS"); do
    say "round $i/$REPEATS"
    e=$(bench_new_event "pgbench-single-$i"); EVENTS="$EVENTS $e"
    pgbench_tps "$WORK/single.sql" "$e" >>"$WORK/r_single"
    e=$(bench_new_event "pgbench-seed-$i"); EVENTS="$EVENTS $e"
    hold=$(psqlq -c "INSERT INTO holds (event_id, user_id, seat_ids, amount, currency, expires_at)
        VALUES ($e, $SEED_HOLD_USER, '{0}', 0, 'INR', now() + interval '1 hour') RETURNING id" | head -1)
    pgbench_tps "$WORK/seed.sql" "$e" -D hold="$hold" >>"$WORK/r_seed"
    psqlq -c "ALTER DATABASE boxoffice RESET boxoffice.hold_async_commit" >/dev/null
    e=$(bench_new_event "stack-sync-$i"); EVENTS="$EVENTS $e"
    sleep 1
    wrk_run "$STACK_PORT" "/api/events/$e/holds" '{"quantity":1}' >>"$WORK/r_sync"
    psqlq -c "ALTER DATABASE boxoffice SET boxoffice.hold_async_commit = 'on'" >/dev/null
    # Workers read database settings when they connect: restart them.
    STATE=$WORK/stack stop_pidfile "$WORK/stack/run/fcgi.pid"
    STATE=$WORK/stack spawn fcgi "$ROOT/build/boxoffice-fcgi" -c "$WORK/stack/boxoffice.conf"
    wait_http "http://127.0.0.1:$STACK_PORT/healthz" 20
    e=$(bench_new_event "stack-async-$i"); EVENTS="$EVENTS $e"
    sleep 1
    wrk_run "$STACK_PORT" "/api/events/$e/holds" '{"quantity":1}' >>"$WORK/r_async"
    psqlq -c "ALTER DATABASE boxoffice RESET boxoffice.hold_async_commit" >/dev/null
done

# Sold-out answers: an event whose every seat is held.
SOLD=$(psqlq -c "SELECT event_create(jsonb_build_object('venue_id', venue_create(
    '{\"name\":\"Tiny\",\"city\":\"Pune\",\"sections\":[{\"name\":\"S\",\"category\":\"A\",\"x\":0,\"y\":0,\"rows\":1,\"seats_per_row\":4}]}'::jsonb),
    'title', 'Sold out', 'performer', 'B', 'category', 'concert', 'starts_at', now() + interval '30 days',
    'on_sale_at', now() - interval '1 hour', 'max_per_user', 100,
    'prices', '[{\"category\":\"A\",\"amount\":100}]'::jsonb))")
psqlq -c "SELECT outcome FROM hold_create((SELECT token_hash FROM sessions LIMIT 1), $SOLD, NULL, 4, NULL, NULL)" >/dev/null

# The ceiling: a constant-answering libfcgi program behind the same nginx.
gcc -O2 -o "$WORK/minimal_fcgi" "$ROOT/bench/minimal_fcgi.c" -lfcgi
mkdir -p "$WORK/minimal"
setsid "$WORK/minimal_fcgi" "$WORK/minimal/fcgi.sock" "${BENCH_WORKERS:-8}" >/dev/null 2>&1 &
echo $! >"$WORK/minimal.pid"
sleep 0.5
STATE=$WORK/minimal PORT=$((PG_PORT + 3))
mkdir -p "$WORK/minimal/run" "$WORK/minimal/log" "$WORK/minimal/nginx"
stack_write_nginx
sed -i "s|unix:$WORK/minimal/run/fcgi.sock|unix:$WORK/minimal/fcgi.sock|" "$WORK/minimal/nginx.conf"
mkdir -p "$WORK/minimal/run" "$WORK/minimal/log"
nginx -p "$WORK/minimal/nginx" -c "$WORK/minimal/nginx.conf"
MIN_PORT=$PORT
for i in $(seq 1 "$REPEATS"); do
    wrk_run "$STACK_PORT" "/api/events/$SOLD/holds" '{"quantity":1}' >>"$WORK/r_soldout"
    wrk_run "$MIN_PORT" "/api/events/$SOLD/holds" '{"quantity":1}' >>"$WORK/r_minimal"
done

OVERSOLD=$(psqlq -c "SELECT count(*) FROM (SELECT s FROM holds h, unnest(h.seat_ids) s
    WHERE h.status = 'active' AND h.expires_at > now() AND h.event_id IS NOT NULL
      AND h.seat_ids <> '{0}' GROUP BY h.event_id, s HAVING count(*) > 1) x")
MISMATCH=$(psqlq -c "SELECT count(*) FROM holds h, unnest(h.seat_ids) s
    WHERE h.status = 'active' AND h.expires_at > now() AND h.seat_ids <> '{0}'
      AND NOT EXISTS (SELECT 1 FROM event_seats es WHERE es.event_id = h.event_id
                      AND es.seat_id = s AND es.hold_id = h.id AND es.held_until > now())")

single=$(median <"$WORK/r_single"); seed=$(median <"$WORK/r_seed")
col() { awk -v c="$2" '{print $c}' "$1" | median; }
sync_rps=$(col "$WORK/r_sync" 1); sync_p50=$(col "$WORK/r_sync" 2); sync_p99=$(col "$WORK/r_sync" 3)
async_rps=$(col "$WORK/r_async" 1); async_p50=$(col "$WORK/r_async" 2); async_p99=$(col "$WORK/r_async" 3)
so_rps=$(col "$WORK/r_soldout" 1); so_p99=$(col "$WORK/r_soldout" 3)
min_rps=$(col "$WORK/r_minimal" 1); min_p99=$(col "$WORK/r_minimal" 3)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

cat <<TABLE

flash sale: $(nproc) cores, ${DURATION}s runs, median of $REPEATS, $CONNS connections (wrk), $CLIENTS_PG clients (pgbench)
| measure                                        | per second | p50 ms | p99 ms | ratio |
| ---------------------------------------------- | ---------- | ------ | ------ | ----- |
| pgbench: SELECT hold_create(...) (ceiling)     | $single | | | 1.00 |
| pgbench: seed txn (BEGIN; SELECT FOR UPDATE; UPDATE; COMMIT) | $seed | | | $(ratio "$seed" "$single") |
| stack: holds, synchronous commit               | $sync_rps | $sync_p50 | $sync_p99 | $(ratio "$sync_rps" "$single") |
| stack: holds, async commit for holds           | $async_rps | $async_p50 | $async_p99 | $(ratio "$async_rps" "$single") |
| minimal libfcgi constant (ceiling)             | $min_rps | | $min_p99 | 1.00 |
| stack: sold-out answers                        | $so_rps | | $so_p99 | $(ratio "$so_rps" "$min_rps") |
statuses (stack sync runs): $(cut -d' ' -f4 "$WORK/r_sync" | tr '\n' ' ')
statuses (stack async runs): $(cut -d' ' -f4 "$WORK/r_async" | tr '\n' ' ')
statuses (sold-out runs): $(cut -d' ' -f4 "$WORK/r_soldout" | tr '\n' ' ')
oversold seats (a seat in two live holds): $OVERSOLD
live holds whose seat row does not name them: $MISMATCH
TABLE
