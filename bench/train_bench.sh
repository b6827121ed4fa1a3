#!/bin/sh
# train_bench.sh: the trains benchmark, run by hand (figures go to
# docs/benchmarks.md). Starts a throwaway PostgreSQL and the whole stack
# from an optimised build, imports the real network from
# ../shared/data/railways (timing the import), then measures with ab:
#   1. train search with availability at 32 concurrent clients for busy
#      pairs of the real network (p50 / p99), beside the /healthz ceiling,
#      in ROUNDS rounds (default 2); with BASELINE=<git revision>, the
#      search function of that revision is measured in the same run, its
#      rounds alternating with the current one's; medians per pair;
#   2. Tatkal bookings through the whole stack when a Tatkal window opens
#      with 500 concurrent clients on one run and class (bookings/s), then
#      checks the database: 0 overlapping allocations, every passenger
#      CNF, RAC or WL exactly once.
#   [BASELINE=rev] [ROUNDS=n] bench/train_bench.sh [BUILD_DIR]
#   (default BUILD_DIR: build-trains-bench)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/stack.sh"

BUILD=${1:-$ROOT/build-trains-bench}
DATA=${BOXOFFICE_RAILWAYS_DATA:-$(dirname "$ROOT")/shared/data/railways}
SEARCHES=${SEARCHES:-3000}
BOOKINGS=${BOOKINGS:-3000}
WORK=$(mktemp -d /tmp/boxoffice-bench.XXXXXX)
chmod 755 "$WORK"
[ -f "$DATA/trains_dict.json" ] || die "no real network at $DATA"

# shellcheck disable=SC2086
install_packages $BOXOFFICE_RUN_PACKAGES apache2-utils
cleanup() {
    STATE=$WORK/stack stack_stop 2>/dev/null
    [ -n "${PG_HOME:-}" ] && pg_down "$PG_HOME"
    rm -rf "$WORK" 2>/dev/null
    [ -n "${PG_HOME:-}" ] && rm -rf "$PG_HOME" 2>/dev/null
}
trap cleanup EXIT INT TERM

say "== build (optimised) into $BUILD"
build_into "$BUILD"

PG_PORT=$((20000 + $$ % 10000))
PG_HOME=$(pg_home_for "$WORK/pg")
[ "$PG_HOME" = "$WORK/pg" ] || PG_HOME=$PG_HOME-$$
mkdir -p "$PG_HOME"; [ "$(id -u)" = 0 ] && chown postgres: "$PG_HOME"
pg_up "$PG_HOME" "$PG_PORT"
DATABASE_URL="host=$PG_HOME/socket port=$PG_PORT dbname=boxoffice user=boxoffice"
migrate "$DATABASE_URL"
psql_b() { "$PG_BIN/psql" "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

STATE=$WORK/stack
PORT=$((30000 + $$ % 10000))
SANDBOX_PORT=$((PORT + 1))
BIN_DIR=$BUILD
LIMITS=open
WORKERS=0
EXTRA_CONFIG="password_cost = 1
log_level = warn"
stack_start
URL="http://127.0.0.1:$PORT"

say "== import of the real network"
start=$(date +%s.%N)
"$BUILD/boxoffice-admin" -c "$STATE/boxoffice.conf" import-trains \
    --stations "$DATA/stations.geojson" --trains "$DATA/trains_dict.json" >"$WORK/import.json" ||
    die "import failed"
end=$(date +%s.%N)
echo "first import: $(echo "$end - $start" | bc) s"
start=$(date +%s.%N)
"$BUILD/boxoffice-admin" -c "$STATE/boxoffice.conf" import-trains \
    --stations "$DATA/stations.geojson" --trains "$DATA/trains_dict.json" >/dev/null
end=$(date +%s.%N)
echo "second (unchanged) import: $(echo "$end - $start" | bc) s"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('report:', json.dumps({k: r[k] for k in ('stations','trains','stops_written','runs_created','totals')}), 'unknown codes:', r['unknown_station_codes']['count'], 'no-day trains:', r['trains_running_on_no_day']['count'])" "$WORK/import.json"

DATE=$(psql_b -c "SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date + 7")
# Settle the statistics and the visibility map as the autovacuum would.
psql_b -c "VACUUM ANALYZE train_stops, train_classes, train_runs, trains" >/dev/null

# ab_line FILE: "req/s p50 p99 non-2xx" from an ab report.
ab_line() {
    echo "$(awk '/Requests per second/ {print $4}' "$1")" \
        "$(awk '$1 == "50%" {print $2}' "$1")" "$(awk '$1 == "99%" {print $2}' "$1")" \
        "$(awk '/Non-2xx responses/ {print $3}' "$1" | grep . || echo 0)"
}
# search_round LABEL: the ceiling, then every pair, 32 clients each.
search_round() {
    ab -q -k -c 32 -n "$SEARCHES" "$URL/healthz" >"$WORK/ab.txt" 2>&1
    echo "$1 healthz $(ab_line "$WORK/ab.txt") $(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/search.txt"
    for pair in CSMT:PUNE NDLS:HWH NDLS:BCT MAS:SBC; do
        from=${pair%:*}; to=${pair#*:}
        ab -q -k -c 32 -n "$SEARCHES" "$URL/api/trains/search?from=$from&to=$to&date=$DATE" \
            >"$WORK/ab.txt" 2>&1
        echo "$1 $from-$to $(ab_line "$WORK/ab.txt") $(cut -d' ' -f1 /proc/loadavg)" \
            >>"$WORK/search.txt"
    done
}
# BASELINE=<git revision>: the search function of that revision is measured
# in the same run, rounds alternating, so that the shared machine's load
# falls on both alike.
OLD_SEARCH=
if [ -n "${BASELINE:-}" ]; then
    OLD_SEARCH=$WORK/search-old.sql
    git -C "$ROOT" show "$BASELINE:sql/functions/050_trains.sql" |
        awk '/^DROP FUNCTION IF EXISTS train_search_json/ {f = 1} f {print} f && /^END \$\$;/ {exit}' \
        >"$OLD_SEARCH"
    grep -q train_search_json "$OLD_SEARCH" || die "no train_search_json at $BASELINE"
    awk '/^DROP FUNCTION IF EXISTS train_search_json/ {f = 1} f {print} f && /^END \$\$;/ {exit}' \
        "$ROOT/sql/functions/050_trains.sql" >"$WORK/search-new.sql"
fi
ROUNDS=${ROUNDS:-2}
for pair in CSMT:PUNE NDLS:HWH NDLS:BCT MAS:SBC; do
    from=${pair%:*}; to=${pair#*:}
    n=$(curl -fsS "$URL/api/trains/search?from=$from&to=$to&date=$DATE" |
        python3 -c "import json,sys; t=json.load(sys.stdin)['trains']; print(len(t), 'trains,', sum(len(x['classes']) for x in t), 'class/quota rows')")
    echo "$from->$to: $n"
done
say "== search, 32 concurrent clients, $SEARCHES requests per pair, date $DATE, $ROUNDS rounds"
: >"$WORK/search.txt"
round=1
while [ "$round" -le "$ROUNDS" ]; do
    search_round now
    if [ -n "$OLD_SEARCH" ]; then
        psql_b -f "$OLD_SEARCH" >/dev/null
        search_round "$BASELINE"
        psql_b -f "$WORK/search-new.sql" >/dev/null
    fi
    round=$((round + 1))
done
echo "version what req/s p50_ms p99_ms non-2xx load1 (each round, in order)"
cat "$WORK/search.txt"
echo "medians over the rounds:"
sort -k1,1 -k2,2 -s "$WORK/search.txt" | awk '
    function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
        if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function flush() { if (key != "") printf "%s req/s %.0f p50 %.0f p99 %.0f load %.1f\n", key,
        med(r, n), med(p, n), med(q, n), med(l, n) }
    { k = $1 " " $2; if (k != key) { flush(); key = k; n = 0 }
      n++; r[n] = $3; p[n] = $4; q[n] = $5; l[n] = $7 }
    END { flush() }'

say "== Tatkal opening: $BOOKINGS bookings, 500 concurrent clients"
# A busy long-distance train with 3A; its Tatkal window opens in 3 s.
NUMBER=$(psql_b -c "SELECT t.number FROM trains t JOIN train_classes c ON c.train_number = t.number
                    AND c.class = '3A' WHERE 'mon' = ANY (t.run_days) AND cardinality(t.run_days) = 7
                    ORDER BY t.distance_km DESC LIMIT 1")
RUN_DATE=$(psql_b -c "SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date + 1")
FROM=$(psql_b -c "SELECT station_code FROM train_stops WHERE train_number = '$NUMBER' AND stop_index = 0")
TO=$(psql_b -c "SELECT station_code FROM train_stops WHERE train_number = '$NUMBER'
                ORDER BY stop_index DESC LIMIT 1")
psql_b -c "UPDATE train_runs SET tatkal_ac_opens_at = now() + interval '3 seconds',
           chart_at = now() + interval '1 day', departs_at = greatest(departs_at, now() + interval '1 day')
           WHERE train_number = '$NUMBER' AND run_date = '$RUN_DATE'" >/dev/null
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"correct horse battery","name":"Bench"}' "$URL/api/users"
TOKEN=$(curl -fsS -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"correct horse battery"}' "$URL/api/sessions" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")
printf '{"from":"%s","to":"%s","class":"3A","quota":"TQ","passengers":[{"name":"Bench","age":30,"gender":"M"}]}' \
    "$FROM" "$TO" >"$WORK/booking.json"
sleep 3.2
ab -q -c 500 -n "$BOOKINGS" -p "$WORK/booking.json" -T application/json \
    -H "Authorization: Bearer $TOKEN" "$URL/api/trains/$NUMBER/runs/$RUN_DATE/bookings" \
    >"$WORK/ab-tatkal.txt" 2>&1
rps=$(awk '/Requests per second/ {print $4}' "$WORK/ab-tatkal.txt")
p50=$(awk '$1 == "50%" {print $2}' "$WORK/ab-tatkal.txt")
p99=$(awk '$1 == "99%" {print $2}' "$WORK/ab-tatkal.txt")
echo "tatkal $NUMBER $FROM->$TO 3A on $RUN_DATE: $rps req/s, p50 ${p50} ms, p99 ${p99} ms"
psql_b -F ' ' -c "SELECT 'passengers by status:', string_agg(status || '=' || n, ' ') FROM
           (SELECT status, count(*) n FROM train_passengers GROUP BY status ORDER BY status) x"
psql_b -c "SELECT 'bookings refused (regret): ' || ($BOOKINGS - count(*)) FROM train_bookings"
psql_b -c "SELECT 'overlapping allocations: ' || count(*) FROM train_allocations a JOIN train_allocations b
           ON a.run_id = b.run_id AND a.coach = b.coach AND a.berth = b.berth AND a.id < b.id
           AND a.span && b.span AND a.slots && b.slots
           WHERE a.state IN ('held', 'confirmed') AND b.state IN ('held', 'confirmed')"
psql_b -c "SELECT 'passengers without exactly the allocation their status implies: ' || count(*) FROM (
           SELECT p.status, count(a.id) n FROM train_passengers p LEFT JOIN train_allocations a
           ON a.passenger_id = p.id AND a.state IN ('held', 'confirmed') GROUP BY p.id, p.status) x
           WHERE NOT ((status IN ('CNF', 'RAC') AND n = 1) OR (status = 'WL' AND n = 0))"
grep -h -E 'ERROR|error' "$STATE"/log/*.log | tail -5
