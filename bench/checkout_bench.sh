#!/bin/sh
# checkout_bench.sh: checkout and payment in the flash sale, run by hand:
#   bench/checkout_bench.sh [SECONDS] [THREADS] [QUANTITY] [WORKERS]
# Buyers (checkout_bench.c, one keep-alive connection per thread, a
# different signed-in user per purchase) loop over hold (best available,
# QUANTITY seats) -> checkout (Idempotency-Key) -> pay (pm_card_visa)
# through nginx -> boxoffice-fcgi (WORKERS) -> PostgreSQL, with the payment
# sandbox answering as fast as it can and sending its webhooks back through
# nginx. Side by side, in the same run: the same buyers doing holds alone
# (the stack's ceiling for one step) and create+confirm straight at the
# sandbox (the provider's ceiling). Prints paid tickets per minute,
# p50/p99 of each step, then checks:
# no seat with two valid tickets, no paid order without its tickets, no
# valid ticket without a paid order, and the sandbox's charges minus
# refunds equal the sum of our paid orders (after the worker settles
# everything). PostgreSQL runs with its durable defaults (fsync on):
# money commits synchronously.
# PROFILE=1 also loads pg_stat_statements and prints the statements that
# took the most database time during the buying run. Either way the CPU
# time of each process tree (PostgreSQL, boxoffice-fcgi, nginx, the
# sandbox) during the buying run is printed.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/stack.sh"
. "$ROOT/bench/common.sh"

DURATION=${1:-20}
THREADS=${2:-32}
QUANTITY=${3:-2}
FCGI_WORKERS=${4:-16}
USERS=20000
SEATS=300000
BUILD=${BENCH_BUILD:-$ROOT/build-bench}

install_packages $BOXOFFICE_RUN_PACKAGES libcurl4-openssl-dev libjson-c-dev
say "building (optimised, no sanitizers) into $BUILD"
build_into "$BUILD"
WORK=$(mktemp -d /tmp/boxoffice-checkout-bench.XXXXXX)
chmod 755 "$WORK"
PG_HOME=$(pg_home_for "$WORK/pg")
PG_PORT=$((40000 + $$ % 10000))
LOGS=${BENCH_LOGS:-/tmp/boxoffice-checkout-bench-logs}
cleanup() {
    STATE=$WORK/stack stack_stop 2>/dev/null || true
    # The servers' logs outlive the run, for a look at any 5xx.
    rm -rf "$LOGS" && cp -r "$WORK/stack/log" "$LOGS" 2>/dev/null || true
    pg_down "$PG_HOME"
    rm -rf "$WORK" "$PG_HOME"
}
trap cleanup EXIT INT TERM
gcc -O2 -Wall -o "$WORK/checkout_bench" "$ROOT/bench/checkout_bench.c" -lcurl -ljson-c -lpthread
pg_up "$PG_HOME" "$PG_PORT"
if [ "${PROFILE:-0}" = 1 ]; then
    "$PG_BIN/psql" -h "$PG_HOME/socket" -p "$PG_PORT" -U boxoffice -d postgres -qXc \
        "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -l "$PG_HOME/postgres.log" -w -t 60 restart >/dev/null
    "$PG_BIN/psql" -h "$PG_HOME/socket" -p "$PG_PORT" -U boxoffice -d postgres -qXc \
        "ALTER SYSTEM SET pg_stat_statements.track = 'all'" \
        -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" \
        -c "SELECT pg_reload_conf()" >/dev/null
fi
DATABASE_URL="host=$PG_HOME/socket port=$PG_PORT dbname=boxoffice user=boxoffice"
migrate "$DATABASE_URL"
psqlq() { "$PG_BIN/psql" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

bench_crowd "$USERS" "$SEATS" "random()"
EVENT=$(bench_new_event checkout)
HOLD_EVENT=$(bench_new_event holds)

STATE=$WORK/stack PORT=$((PG_PORT + 1)) SANDBOX_PORT=$((PG_PORT + 2)) BIN_DIR=$BUILD
LIMITS=open ACCESS_LOG=off WORKERS=$FCGI_WORKERS NO_INDEXER=1
EXTRA_CONFIG="log_level = warn
sweep_interval_ms = 500"
stack_start
# /healthz does not wait for the sandbox; the buyers need it from the start.
wait_http "http://127.0.0.1:$SANDBOX_PORT/_sandbox/ledger" 30 || die "the payment sandbox did not start"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "holds alone for ${DURATION}s: $THREADS buyers, $QUANTITY seats each"
"$WORK/checkout_bench" hold "http://127.0.0.1:$PORT" "$WORK/tokens" "$HOLD_EVENT" "$QUANTITY" \
    "$THREADS" "$DURATION" >"$WORK/result_hold"
if [ "${PROFILE:-0}" = 1 ]; then
    psqlq -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
fi
cpu_snap() {
    out=$1; shift
    python3 "$ROOT/bench/cpu_share.py" snap "$out" \
        "postgres=$(head -1 "$PG_HOME/data/postmaster.pid")" \
        "boxoffice-fcgi=$(cat "$WORK/stack/run/fcgi.pid")" \
        "boxoffice-worker=$(cat "$WORK/stack/run/worker.pid")" \
        "nginx=$(cat "$WORK/stack/run/nginx.pid" 2>/dev/null || echo none)" \
        "sandbox=$(cat "$WORK/stack/run/sandbox.pid")" "$@"
}
say "buying for ${DURATION}s: $THREADS buyers, $QUANTITY seats per order, $FCGI_WORKERS fcgi workers"
# The load generator reports its own CPU time (CPU_S); the snapshots
# count it in the rest of the machine.
"$WORK/checkout_bench" full "http://127.0.0.1:$PORT" "$WORK/tokens" "$EVENT" "$QUANTITY" \
    "$THREADS" "$DURATION" >"$WORK/result" &
LOADGEN=$!
cpu_snap "$WORK/cpu_before"
wait $LOADGEN || die "the load generator failed"
cpu_snap "$WORK/cpu_after"
if [ "${PROFILE:-0}" = 1 ]; then
    # Now, before the webhooks still in flight and the sandbox's own run.
    # plans: how often a statement was planned (not once per connection
    # means custom plans, or a SQL function PostgreSQL could not inline).
    psqlq -F ' | ' -c "SELECT calls, plans, round(total_exec_time::numeric, 0) AS total_ms,
            round(mean_exec_time::numeric, 3) AS mean_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 40" >"$WORK/statements"
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

say "waiting for webhooks, the reconciler and refunds to settle"
i=0
while [ $i -lt 120 ]; do
    open=$(psqlq -c "SELECT (SELECT count(*) FROM orders WHERE refund_state = 'pending')
        + (SELECT count(*) FROM payments WHERE kind = 'confirm' AND state IN ('started', 'unknown'))")
    pending=$(curl -fsS "http://127.0.0.1:$SANDBOX_PORT/_sandbox/webhooks" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("pending", 0))')
    [ "$open" = 0 ] && [ "$pending" = 0 ] && break
    sleep 0.5; i=$((i + 1))
done

TWO_TICKETS=$(psqlq -c "SELECT count(*) FROM (SELECT event_id, seat_id FROM tickets
    WHERE status = 'valid' GROUP BY 1, 2 HAVING count(*) > 1) x")
NO_TICKETS=$(psqlq -c "SELECT count(*) FROM orders o WHERE o.status = 'paid' AND o.kind = 'event'
    AND (SELECT count(*) FROM tickets t WHERE t.order_id = o.id AND t.status = 'valid')
        <> (SELECT cardinality(seat_ids) FROM holds h WHERE h.id = o.hold_id)")
NO_ORDER=$(psqlq -c "SELECT count(*) FROM tickets t JOIN orders o ON o.id = t.order_id
    WHERE t.status = 'valid' AND o.status <> 'paid'")
UNSOLD=$(psqlq -c "SELECT count(*) FROM tickets t JOIN event_seats es USING (event_id, seat_id)
    WHERE t.status = 'valid' AND es.held_until <> 'infinity'")
OURS=$(psqlq -c "SELECT coalesce(sum(amount), 0) FROM orders WHERE status = 'paid'")
DB_TICKETS=$(psqlq -c "SELECT count(*) FROM tickets WHERE status = 'valid'")
THEIRS=$(curl -fsS "http://127.0.0.1:$SANDBOX_PORT/_sandbox/ledger" |
    python3 -c 'import json,sys; print(sum(t["net"] for t in json.load(sys.stdin)["currencies"].values()))')
WEBHOOKS=$(curl -fsS "http://127.0.0.1:$SANDBOX_PORT/_sandbox/webhooks" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("delivered=%s retried=%s abandoned=%s pending=%s" % (d.get("delivered",0), d.get("retried",0), d.get("abandoned",0), d.get("pending",0)))')

# The provider's ceiling, last: its charges have no orders behind them.
secret_of payment_secret_key >"$WORK/key"
say "create + confirm straight at the sandbox for ${DURATION}s"
"$WORK/checkout_bench" sandbox "http://127.0.0.1:$SANDBOX_PORT" "$WORK/key" 0 "$QUANTITY" \
    "$THREADS" "$DURATION" >"$WORK/result_sandbox"

step() { sed -n "s/^STEP $1 //p" "$WORK/result" "$WORK/result_sandbox"; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
row() {
    s=$(step "$1")
    printf '| %-8s | %8s | %6s | %6s | %7s | %s |\n' "$1" "$(field "$s" rps)" "$(field "$s" p50_ms)" \
        "$(field "$s" p99_ms)" "$(field "$s" max_ms)" "$(field "$s" statuses)"
}
val() { sed -n "s/^$1 //p" "${2:-$WORK/result}"; }

cat <<TABLE

checkout + pay: $(nproc) cores, ${DURATION}s, $THREADS buyers, $QUANTITY seats per order, $FCGI_WORKERS fcgi workers
load average before: $LOAD_BEFORE   after: $LOAD_AFTER   (other work on the machine skews every figure)
paid orders: $(val PAID_ORDERS)   paid tickets: $(val PAID_TICKETS)   other outcomes: $(val OTHER)   elapsed: $(val ELAPSED) s
paid tickets per minute: $(val TICKETS_PER_MIN)   (target 160000)
| step     | req/s    | p50 ms | p99 ms | max ms  | statuses |
| -------- | -------- | ------ | ------ | ------- | -------- |
$(row hold)
$(row checkout)
$(row pay)
| the sandbox alone (no orders behind it): | | | | | |
$(row create)
$(row confirm)
ceilings in the same run: holds alone $(val TICKETS_PER_MIN "$WORK/result_hold") tickets held per minute (hold p50/p99 $(sed -n 's/^STEP hold .*p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\).*/\1\/\2/p' "$WORK/result_hold") ms);
  the sandbox alone $(val TICKETS_PER_MIN "$WORK/result_sandbox") tickets per minute ($(val PAID_ORDERS "$WORK/result_sandbox") create+confirm pairs)
webhooks: $WEBHOOKS
CPU during the buying run, by process tree (the load generator's own $(val CPU_S) s are in the rest):
$(python3 "$ROOT/bench/cpu_share.py" diff "$WORK/cpu_before" "$WORK/cpu_after" "$(val PAID_ORDERS)")
checks after settling:
  seats with two valid tickets (oversold): $TWO_TICKETS
  paid orders without their tickets:       $NO_TICKETS
  valid tickets without a paid order:      $NO_ORDER
  valid tickets for seats not sold:        $UNSOLD
  valid tickets in the database:           $DB_TICKETS
  sum of paid orders: $OURS   sandbox charges minus refunds: $THEIRS
TABLE
if [ "${PROFILE:-0}" = 1 ]; then
    echo
    echo "statements by total database time during the buying run (pg_stat_statements, nested"
    echo "included; calls | plans | total ms | mean ms | statement):"
    cat "$WORK/statements"
fi
