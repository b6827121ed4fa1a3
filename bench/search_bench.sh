#!/bin/sh
# search_bench.sh: search latency and throughput through nginx on the
# PostgreSQL backend, and the full reindex rate. Run by hand:
#   bench/search_bench.sh            (BENCH_SECONDS=15 BENCH_CONNECTIONS=32)
# Builds without sanitizers into build-bench, starts a throwaway PostgreSQL
# and the stack (no follower, so the indexer's full run is measured alone),
# loads 100,000 generated events (bench/search_bench_data.sql) and the real
# railway network from ../shared/data/railways through the admin import
# when the trains import exists, times `boxoffice-indexer --full`, then runs
# wrk (32 connections, 2 threads) over lists of distinct queries of each
# kind and prints p50 / p99 / requests per second and the load average.
# Each kind runs against two stacks over the same database, one after the
# other: "query" with the workers' answer cache off (search_cache_ms = 0:
# what the queries themselves cost) and "cached" with it on (1 s), next to
# /healthz (one trivial query) as the ceiling of the same minute.
# Next to the latencies: the CPU time per request (ms) of PostgreSQL,
# boxoffice-fcgi and nginx (all their processes, from /proc) and of wrk,
# which is steadier than throughput on a shared machine.
# BENCH_KINDS (e.g. "healthz text") measures only those kinds;
# BENCH_ROUNDS=N (default 1) measures every kind and stack N times, one
# round after the other over the same data, and ends with the median of
# each column over the rounds: one run's p99 moves with this machine's
# stalls, so a target is judged on medians.
# Leaves nothing running.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/stack.sh"

SECONDS_EACH=${BENCH_SECONDS:-15}
ROUNDS=${BENCH_ROUNDS:-1}
KINDS=${BENCH_KINDS:-}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
BUILD=${BENCH_BUILD:-$ROOT/build-bench}
RAILWAYS=${BENCH_RAILWAYS:-$ROOT/../shared/data/railways}
WORK=$(mktemp -d /tmp/boxoffice-search-bench.XXXXXX)
chmod 755 "$WORK"

cleanup() {
    STATE=$WORK/stack stack_stop 2>/dev/null
    STATE=$WORK/stack-cached stack_stop 2>/dev/null
    [ -n "${PG_HOME:-}" ] && pg_down "$PG_HOME"
    rm -rf "$WORK" 2>/dev/null
    [ -n "${PG_HOME:-}" ] && rm -rf "$PG_HOME" 2>/dev/null
}
trap cleanup EXIT INT TERM

command -v wrk >/dev/null || install_packages wrk
say "== build (no sanitizers) in $BUILD"
build_into "$BUILD"

PG_PORT=$((20000 + $$ % 10000))
PG_HOME=$(pg_home_for "$WORK/pg")
[ "$PG_HOME" = "$WORK/pg" ] || PG_HOME=$PG_HOME-$$
mkdir -p "$PG_HOME"; [ "$(id -u)" = 0 ] && chown postgres: "$PG_HOME"
pg_up "$PG_HOME" "$PG_PORT"
DATABASE_URL="host=$PG_HOME/socket port=$PG_PORT dbname=boxoffice user=boxoffice"
migrate "$DATABASE_URL"
psql_b() { "$PG_BIN/psql" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }

say "== generating 100,000 events"
t0=$(date +%s.%N)
psql_b -f "$ROOT/bench/search_bench_data.sql" >/dev/null
say "   $(echo "$(date +%s.%N) - $t0" | bc) s"

STATE=$WORK/stack
PORT=$((30000 + $$ % 10000))
SANDBOX_PORT=$((PORT + 1))
BIN_DIR=$BUILD
LIMITS=open
ACCESS_LOG=off
NO_INDEXER=1
EXTRA_CONFIG="log_level = warn
search_cache_ms = 0"
stack_start
URL="http://127.0.0.1:$PORT"
export BOXOFFICE_ADMIN_PASSWORD=$(random_hex | cut -c1-20)
"$BUILD/boxoffice-admin" -c "$STATE/boxoffice.conf" ensure-admin admin@boxoffice.local Admin \
    >/dev/null

TRAINS=0
if [ -f "$RAILWAYS/trains_dict.json" ] && [ -f "$RAILWAYS/stations.geojson" ]; then
    token=$(curl -fsS "$URL/api/sessions" -H 'Content-Type: application/json' \
        -d "{\"email\":\"admin@boxoffice.local\",\"password\":\"$BOXOFFICE_ADMIN_PASSWORD\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    python3 - "$RAILWAYS" "$WORK/import.json" <<'PY'
import json, sys
d = sys.argv[1]
body = {"stations": json.load(open(d + "/stations.geojson")),
        "trains": json.load(open(d + "/trains_dict.json"))}
json.dump(body, open(sys.argv[2], "w"))
PY
    say "== importing the railway network"
    if curl -fsS -o "$WORK/import.out" --max-time 600 "$URL/api/admin/trains/import" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        --data-binary @"$WORK/import.json"; then
        TRAINS=$(psql_b -tAc "SELECT count(*) FROM trains")
        say "   $TRAINS trains"
    else
        say "   the trains import failed or does not exist: events only"
    fi
fi

say "== full reindex (PostgreSQL backend)"
psql_b -c "DELETE FROM search_outbox" >/dev/null
psql_b -c "CHECKPOINT" >/dev/null
t0=$(date +%s.%N)
"$BUILD/boxoffice-indexer" -c "$STATE/boxoffice.conf" --full 2>"$WORK/full.log" ||
    { cat "$WORK/full.log"; die "full reindex failed"; }
t1=$(date +%s.%N)
DOCS=$(psql_b -tAc "SELECT count(*) FROM search_documents")
FULL_S=$(echo "$t1 - $t0" | bc)
say "   $DOCS documents in $FULL_S s: $(echo "$DOCS / $FULL_S" | bc) documents/s"
# Every table freshly loaded, not only the documents, then a checkpoint:
# otherwise autovacuum may work through the events and their million seats,
# and the checkpointer write out the load, while the kinds are measured
# (and their CPU would count as the queries').
psql_b -c "VACUUM ANALYZE" >/dev/null
psql_b -c "CHECKPOINT" >/dev/null

# Query lists: distinct queries of each kind, drawn from the data.
psql_b -tAc "SELECT performer FROM events WHERE starts_at > now() ORDER BY md5(id::text) LIMIT 500" \
    >"$WORK/performers"
psql_b -tAc "SELECT DISTINCT city FROM venues" >"$WORK/cities"
python3 - "$WORK" "$TRAINS" <<'PY'
import random, sys, urllib.parse
work, trains = sys.argv[1], int(sys.argv[2])
random.seed(7)
performers = [l.strip() for l in open(work + "/performers") if l.strip()]
cities = [l.strip() for l in open(work + "/cities") if l.strip()]
synonyms = {"Mumbai": "Bombay", "Chennai": "Madras", "Kolkata": "Calcutta",
            "Bengaluru": "Bangalore", "Pune": "Poona", "Vadodara": "Baroda"}
cats = ["concert", "comedy", "theatre", "dance", "festival", "sports", "classical", "family"]
def q(path, **p):
    return path + "?" + urllib.parse.urlencode(p)
def typo(w):
    i = random.randrange(1, len(w) - 1)
    return w[:i] + w[i + 1] + w[i] + w[i + 2:]
lists = {
    "text": [q("/api/search", q=p) for p in performers],
    "text_one_word": [q("/api/search", q=p.split()[0]) for p in performers],
    "typo": [q("/api/search", q=typo(p.split()[1])) for p in performers],
    "filters": [q("/api/search", q=p.split()[0], city=random.choice(list(synonyms.values()) + cities),
                  category=random.choice(cats), from_date="2026-12-01", to_date="2027-12-31")
                for p in performers],
    "suggest": [q("/api/search/suggest", q=p[:3].lower()) for p in performers],
    "browse_city": [q("/api/search", city=c) for c in cities],
}
if trains:
    lists["trains"] = [q("/api/search", q=w, type="train")
                       for w in ["rajdhani", "shatabdi", "express", "mail", "duronto", "garib",
                                 "mumbai", "delhi", "howrah", "chennai", "12951", "12301"]]
for name, paths in lists.items():
    with open("%s/list_%s" % (work, name), "w") as f:
        f.write("\n".join(paths) + "\n")
PY

# The second stack: the same build and database, answer cache on.
STATE=$WORK/stack-cached
CACHED_PORT=$((PORT + 2))
(PORT=$CACHED_PORT SANDBOX_PORT=$((CACHED_PORT + 1)) EXTRA_CONFIG="log_level = warn
search_cache_ms = 1000" stack_start)
CACHED_URL="http://127.0.0.1:$CACHED_PORT"
echo "/healthz" >"$WORK/list_0_healthz"

# cpu_ticks PIDFILE...: the CPU time (user + system, in clock ticks) used
# so far by the process of each pid file (first line) and its children.
cpu_ticks() {
    for f in "$@"; do
        root=$(head -n 1 "$f")
        for pid in $root $(pgrep -P "$root"); do
            cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null
        done | awk '{ t += $1 + $2 } END { printf "%d ", t }'
    done
}
TICKS_PER_S=$(getconf CLK_TCK)

say "== wrk: $CONNECTIONS connections, 2 threads, ${SECONDS_EACH} s per kind and stack, $ROUNDS round(s)"
HEADER=$(printf '%-16s %-7s %10s %10s %10s %8s %7s %7s %7s %7s' kind stack p50_ms p99_ms \
    req_per_s non2xx pg_ms fcgi_ms ngx_ms wrk_ms)
echo "$HEADER  load"
: >"$WORK/rows"
round=0
while [ "$round" -lt "$ROUNDS" ]; do
    round=$((round + 1))
    [ "$ROUNDS" -gt 1 ] && echo "-- round $round"
    for list in "$WORK"/list_*; do
        kind=${list##*/list_}
        kind=${kind#0_}
        if [ -n "$KINDS" ]; then
            case " $KINDS " in *" $kind "*) ;; *) continue ;; esac
        fi
        for stack in query cached; do
            url=$URL
            state=$WORK/stack
            [ "$stack" = cached ] && url=$CACHED_URL && state=$WORK/stack-cached
            # warm up, then measure
            wrk -t2 -c"$CONNECTIONS" -d3s -s "$ROOT/bench/search_bench.lua" "$url" -- "$list" \
                >/dev/null
            pids="$PG_HOME/data/postmaster.pid $state/run/fcgi.pid $state/run/nginx.pid"
            # shellcheck disable=SC2086
            before=$(cpu_ticks $pids)
            # wrk's own time: what this shell's finished children used
            # (fields 16 and 17 of its stat), read just before and just after it
            wrk_before=$(cut -d' ' -f16,17 /proc/$$/stat)
            wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency \
                -s "$ROOT/bench/search_bench.lua" "$url" -- "$list" >"$WORK/wrk_${kind}_$stack.txt"
            wrk_after=$(cut -d' ' -f16,17 /proc/$$/stat)
            # shellcheck disable=SC2086
            after=$(cpu_ticks $pids)
            awk -v kind="$kind" -v stack="$stack" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" \
                -v before="$before $wrk_before" -v after="$after $wrk_after" \
                -v hz="$TICKS_PER_S" '
                function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                                 if (v ~ /s$/) return v * 1000; return v }
                $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
                /requests in/ { n = $1 }
                /^Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF }
                END {
                    split(before, b, " "); split(after, a, " ")
                    for (i = 1; i <= 5; i++) per[i] = n > 0 ? (a[i] - b[i]) * 1000 / hz / n : 0
                    printf "%-16s %-7s %10.2f %10.2f %10.0f %8d %7.3f %7.3f %7.3f %7.3f  %s\n",
                           kind, stack, p50, p99, rps, bad, per[1], per[2], per[3],
                           per[4] + per[5], load }' \
                "$WORK/wrk_${kind}_$stack.txt" | tee -a "$WORK/rows"
        done
    done
done
if [ "$ROUNDS" -gt 1 ]; then
    echo "-- median of $ROUNDS rounds"
    echo "$HEADER"
    # rows keep their first-seen order; each numeric column's median
    python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault((f[0], f[1]), []).append([float(x) for x in f[2:10]])
for (kind, stack), runs in rows.items():
    m = [statistics.median(col) for col in zip(*runs)]
    print("%-16s %-7s %10.2f %10.2f %10.0f %8d %7.3f %7.3f %7.3f %7.3f"
          % (kind, stack, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]))
PY
fi
say "== done ($DOCS documents: $(psql_b -tAc "SELECT count(*) FROM search_documents WHERE doc_type = 'event'") events, $TRAINS trains)"
