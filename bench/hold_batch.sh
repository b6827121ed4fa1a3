#!/bin/sh
# hold_batch.sh: what batching and concurrency do to PostgreSQL's CPU time
# per hold, the question behind checkout's target (docs/benchmarks.md,
# issue 3). Run by hand:
#   bench/hold_batch.sh [SECONDS] [ROUNDS]
# On its own throwaway cluster (durable defaults: fsync and synchronous
# commit on), with users and events as the flash-sale benchmarks make them,
# pgbench calls the real hold_create (best available, 4 seats) three ways,
# each round alternating them at one client:
#   single:  one hold per transaction (as the API does it);
#   batch16: 16 holds in one transaction, pipelined (one round trip and
#            one commit for 16);
#   stmt16:  16 holds from one statement (one statement's start-up too);
# then one hold per transaction at 1, 2, 4, 8 and 16 clients on one event,
# and at 2 clients on two events (one each), to see what buyers of the same
# seats cost each other. Every run gets an event of its own, so no run
# starts on seats another has taken. Prints holds per second and the CPU
# time per hold of the whole machine less pgbench's own (from /proc/stat;
# so run it on an otherwise idle machine; autovacuum is off, each run
# vacuums the seats before it starts), and the medians
# over the rounds. The CPU time is the figure to read: throughput at one
# client is mostly waiting for the WAL flush.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/common.sh"
. "$ROOT/bench/common.sh"

DURATION=${1:-8}
ROUNDS=${2:-3}

install_packages $BOXOFFICE_RUN_PACKAGES
WORK=$(mktemp -d /tmp/boxoffice-hold-batch.XXXXXX)
chmod 755 "$WORK"
PG_HOME=$(pg_home_for "$WORK/pg")
PG_PORT=$((40000 + $$ % 10000))
cleanup() {
    pg_down "$PG_HOME"
    rm -rf "$WORK" "$PG_HOME"
}
trap cleanup EXIT INT TERM
pg_up "$PG_HOME" "$PG_PORT"
DATABASE_URL="host=$PG_HOME/socket port=$PG_PORT dbname=boxoffice user=boxoffice"
migrate "$DATABASE_URL" >/dev/null
psqlq() { "$PG_BIN/psql" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -tA "$@"; }
bench_crowd 20000 150000 >/dev/null
# Every run vacuums the seats itself before it starts; an autovacuum of the
# growing seats table during a run would count as the holds' CPU time.
psqlq -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null

# The statement: a hold of 4 best-available seats for user :uN, whose
# session token bench_crowd derived from the id.
hold_call() {
    printf "SELECT outcome FROM hold_create(sha256(convert_to('benchtoken' || lpad(%s::text, 12, '0'), 'UTF8')), %s, NULL, 4, NULL, NULL);\n" "$1" "$2"
}
{ printf '%s\n' '\set u random(1, 20000)'; hold_call :u :ev; } >"$WORK/single.sql"
{
    i=0; while [ $i -lt 16 ]; do printf '%s\n' "\\set u$i random(1, 20000)"; i=$((i + 1)); done
    printf '%s\n' '\startpipeline'; echo 'BEGIN;'
    i=0; while [ $i -lt 16 ]; do hold_call ":u$i" :ev; i=$((i + 1)); done
    echo 'COMMIT;'; printf '%s\n' '\endpipeline'
} >"$WORK/batch16.sql"
{
    printf '%s\n' '\set u random(1, 20000)'
    echo "SELECT count(*) FROM generate_series(0, 15) g,"
    echo "    hold_create(sha256(convert_to('benchtoken' || lpad(((:u + g * 997) % 20000 + 1)::text, 12, '0'), 'UTF8')),"
    echo "                :ev, NULL, 4, NULL, NULL) h WHERE h.outcome = 'created';"
} >"$WORK/stmt16.sql"
# two events, one per client (client_id 0 and 1)
{
    printf '%s\n' '\set u random(1, 20000)' '\set evc :ev + :client_id'
    hold_call :u :evc
} >"$WORK/two_events.sql"

# busy_ticks: CPU time (clock ticks) the whole machine has been busy, less
# what this shell's finished children (pgbench) used: PostgreSQL's time
# and that of anything else running. Counting PostgreSQL's processes
# alone (each one's time, and the postmaster's reaped children's) gave
# impossible figures in some runs here, more CPU than two cores have; I
# did not find why.
busy_ticks() {
    mine=$(cut -d' ' -f16,17 /proc/$$/stat)
    awk -v mine="$mine" '$1 == "cpu" { split(mine, m, " ");
        print $2 + $3 + $4 + $7 + $8 - m[1] - m[2]; exit }' /proc/stat
}
TICKS_PER_S=$(getconf CLK_TCK)

# measure NAME SCRIPT HOLDS_PER_TRANSACTION CLIENTS [EVENTS]: one run on
# fresh events; appends "NAME holds_per_s cpu_ms_per_hold" to rows.
measure() {
    events=${5:-1}
    first=$(bench_new_event "$1")
    i=1; while [ $i -lt "$events" ]; do bench_new_event "$1" >/dev/null; i=$((i + 1)); done
    psqlq -c "VACUUM ANALYZE event_seats" >/dev/null
    before=$(busy_ticks)
    "$PG_BIN/pgbench" "$DATABASE_URL" -n -M extended -c "$4" -j "$(( $4 < 2 ? 1 : 2 ))" \
        -T "$DURATION" -D ev="$first" -f "$2" >"$WORK/out" 2>&1 ||
        { cat "$WORK/out" >&2; die "pgbench failed"; }
    after=$(busy_ticks)
    awk -v name="$1" -v per="$3" -v ticks=$((after - before)) -v hz="$TICKS_PER_S" \
        -v secs="$DURATION" '/^tps/ { tps = $3 }
        END { holds = tps * per; cpu = holds > 0 ? ticks * 1000 / hz / (holds * secs) : 0
              printf "%-22s %10.0f %10.3f\n", name, holds, cpu }' "$WORK/out" |
        tee -a "$WORK/rows"
}

say "== $ROUNDS round(s) of ${DURATION} s runs; CPU ms per hold: the machine less pgbench"
printf '%-22s %10s %10s\n' run holds_per_s cpu_ms
: >"$WORK/rows"
round=0
while [ "$round" -lt "$ROUNDS" ]; do
    round=$((round + 1))
    echo "-- round $round"
    measure "single, 1 client" "$WORK/single.sql" 1 1
    measure "batch16, 1 client" "$WORK/batch16.sql" 16 1
    measure "stmt16, 1 client" "$WORK/stmt16.sql" 16 1
    for c in 2 4 8 16; do
        measure "single, $c clients" "$WORK/single.sql" 1 "$c"
    done
    measure "2 clients, 2 events" "$WORK/two_events.sql" 1 2 2
done
echo "-- median of $ROUNDS round(s)"
python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, holds, cpu = line.rsplit(None, 2)
    rows.setdefault(name.strip(), []).append((float(holds), float(cpu)))
for name, runs in rows.items():
    print("%-22s %10.0f %10.3f" % (name, statistics.median(h for h, _ in runs),
                                   statistics.median(c for _, c in runs)))
PY
