#!/bin/sh
# queue_bench.sh: waiting-room throughput, by hand. Starts a throwaway
# PostgreSQL and the whole stack (optimised build, open nginx limits, no
# access log), puts USERS users in one event's line, then measures with wrk:
#   1. joins per second (each request a different signed-in user),
#   2. status polls per second through nginx with USERS in line, against
#   3. the ceiling: the same nginx configuration in front of a minimal
#      libfcgi program answering a constant (queue_const_fcgi.c), preforked
#      with as many workers, on the same machine in the same run.
# Prints a summary for docs/benchmarks.md. Leaves nothing running.
#   bench/queue_bench.sh     (env: USERS=100000 DURATION=15 CONNS=64 THREADS=2 BUILD=...)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/stack.sh"

BUILD=${BUILD:-$ROOT/build-queue-bench}
USERS=${USERS:-100000}
DURATION=${DURATION:-15}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
export THREADS
WORK=$(mktemp -d /tmp/boxoffice-queue-bench.XXXXXX)
chmod 755 "$WORK"
CONST_PID=""

cleanup() {
    set +e
    [ -f "$WORK/const-nginx/nginx.pid" ] &&
        nginx -p "$WORK/const-nginx" -c "$WORK/const-nginx.conf" -s quit 2>/dev/null
    [ -n "$CONST_PID" ] && kill -TERM "-$CONST_PID" 2>/dev/null
    STATE=$WORK/stack stack_stop 2>/dev/null
    [ -n "${PG_HOME:-}" ] && pg_down "$PG_HOME"
    sleep 0.5
    rm -rf "$WORK" 2>/dev/null
    [ -n "${PG_HOME:-}" ] && rm -rf "$PG_HOME" 2>/dev/null
    return 0
}
trap cleanup EXIT INT TERM

say "== build (optimised) into $BUILD"
build_into "$BUILD"
cc -O2 -Wall -o "$WORK/const_fcgi" "$ROOT/bench/queue_const_fcgi.c" -lfcgi

PG_PORT=$((20000 + $$ % 10000))
PG_HOME=$(pg_home_for "$WORK/pg")
[ "$PG_HOME" = "$WORK/pg" ] || PG_HOME=$PG_HOME-$$
mkdir -p "$PG_HOME"; [ "$(id -u)" = 0 ] && chown postgres: "$PG_HOME"
pg_up "$PG_HOME" "$PG_PORT"
DATABASE_URL="host=$PG_HOME/socket port=$PG_PORT dbname=boxoffice user=boxoffice"
migrate "$DATABASE_URL"

STATE=$WORK/stack
PORT=$((30000 + $$ % 10000))
SANDBOX_PORT=$((PORT + 1))
BIN_DIR=$BUILD
LIMITS=open
ACCESS_LOG=off
NO_INDEXER=1
EXTRA_CONFIG="password_cost = 1
log_level = warn"
stack_start
WORKERS_N=$(grep -c processor /proc/cpuinfo); WORKERS_N=$((WORKERS_N * 2))

export BOXOFFICE_URL="http://127.0.0.1:$PORT" BOXOFFICE_TEST_DATABASE_URL="$DATABASE_URL"
export BOXOFFICE_ADMIN_EMAIL=admin@boxoffice.local BOXOFFICE_ADMIN_PASSWORD=$(random_hex | cut -c1-20)
"$BUILD/boxoffice-admin" -c "$STATE/boxoffice.conf" ensure-admin "$BOXOFFICE_ADMIN_EMAIL" Admin >/dev/null

say "== setup: one event with a waiting room, $USERS users with sessions"
ROOT=$ROOT python3 - "$WORK" "$USERS" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "e2e"))
import boxoffice
work, users = sys.argv[1], int(sys.argv[2])
admin = boxoffice.admin()
e = boxoffice.create_event(admin, waiting_room={"enabled": True, "admit_per_minute": 60,
                                                "max_active": 100})
rows = boxoffice.sql(
    "WITH u AS (INSERT INTO users (email, name, password_hash) "
    "  SELECT 'bench-' || g || '@example.com', 'Bench', 'x' "
    "  FROM generate_series(1, :'v1'::int) g RETURNING id), "
    "t AS (SELECT id, encode(gen_random_bytes(24), 'hex') AS token FROM u), "
    "s AS (INSERT INTO sessions (token_hash, user_id, expires_at) "
    "  SELECT sha256(convert_to(token, 'UTF8')), id, now() + interval '1 day' FROM t "
    "  RETURNING 1) SELECT token FROM t ORDER BY random()", users)
with open(os.path.join(work, "sessions.txt"), "w") as f:
    for (token,) in rows:
        f.write("%d %s\n" % (e["id"], token))
with open(os.path.join(work, "event_id"), "w") as f:
    f.write(str(e["id"]))
PY
EVENT=$(cat "$WORK/event_id")

say "== joins (synchronous commit), then with boxoffice.hold_async_commit = on"
split -n l/2 "$WORK/sessions.txt" "$WORK/sessions."
SESSIONS_FILE=$WORK/sessions.aa wrk -t "$THREADS" -c "$CONNS" -d "$DURATION"s \
    -s "$ROOT/bench/queue_join.lua" "http://127.0.0.1:$PORT" >"$WORK/joins.txt" 2>&1
cat "$WORK/joins.txt" >&2
"$PG_BIN/psql" "$DATABASE_URL" -XAtqc "ALTER DATABASE boxoffice SET boxoffice.hold_async_commit = 'on'"
# the fcgi workers' connections pick the setting up when they reconnect
STATE=$STATE stop_pidfile "$STATE/run/fcgi.pid"
spawn fcgi "$BIN_DIR/boxoffice-fcgi" -c "$STATE/boxoffice.conf"
wait_http "http://127.0.0.1:$PORT/healthz" 30 || die "boxoffice-fcgi did not come back"
SESSIONS_FILE=$WORK/sessions.ab wrk -t "$THREADS" -c "$CONNS" -d "$DURATION"s \
    -s "$ROOT/bench/queue_join.lua" "http://127.0.0.1:$PORT" >"$WORK/joins-async.txt" 2>&1
cat "$WORK/joins-async.txt" >&2
JOINED=$("$PG_BIN/psql" "$DATABASE_URL" -XAtc "SELECT count(*) FROM queue_entries WHERE event_id = $EVENT")
DUPLICATES=$("$PG_BIN/psql" "$DATABASE_URL" -XAtc "SELECT count(*) - count(DISTINCT position) FROM queue_entries WHERE event_id = $EVENT")

say "== the rest of the $USERS join in SQL; signing status tokens"
"$PG_BIN/psql" "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 <<SQL
BEGIN;
SELECT 1 FROM queue_settings WHERE event_id = $EVENT FOR UPDATE;
WITH missing AS (
    SELECT u.id, row_number() OVER (ORDER BY u.id) AS n FROM users u
    WHERE u.email LIKE 'bench-%'
      AND NOT EXISTS (SELECT 1 FROM queue_entries x WHERE x.event_id = $EVENT AND x.user_id = u.id)),
ins AS (
    INSERT INTO queue_entries (event_id, user_id, position, pre_queue)
    SELECT $EVENT, m.id, (SELECT last_position FROM queue_settings WHERE event_id = $EVENT) + m.n, false
    FROM missing m RETURNING 1)
UPDATE queue_settings SET last_position = last_position + (SELECT count(*) FROM ins)
WHERE event_id = $EVENT;
COMMIT;
SQL
IN_LINE=$("$PG_BIN/psql" "$DATABASE_URL" -XAtc "SELECT count(*) FROM queue_entries WHERE event_id = $EVENT")
"$PG_BIN/psql" "$DATABASE_URL" -XAtc "SELECT user_id, position FROM queue_entries WHERE event_id = $EVENT ORDER BY random() LIMIT 20000" >"$WORK/entries.txt"
SECRET=$(secret_of token_secret) python3 - "$WORK" "$EVENT" <<'PY'
import base64, hashlib, hmac, os, struct, sys, time
work, event = sys.argv[1], int(sys.argv[2])
secret = os.environ["SECRET"].encode()
now = int(time.time() * 1000)
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
with open(os.path.join(work, "entries.txt")) as f, open(os.path.join(work, "tokens.txt"), "w") as out:
    for line in f:
        user, position = (int(x) for x in line.strip().split("|"))
        # lib/token.c: version 1 << 4 | kind (1: queue), then five big-endian int64s
        claims = bytes([0x11]) + struct.pack(">qqqqq", event, user, position, now, now + 86400000)
        mac = hmac.new(secret, claims, hashlib.sha256).digest()
        out.write("%d %s.%s\n" % (event, b64(claims), b64(mac)))
PY
TOKEN=$(head -1 "$WORK/tokens.txt" | cut -d' ' -f2)
curl -fsS "http://127.0.0.1:$PORT/api/queue/$EVENT/status?token=$TOKEN" >&2 || die "status sanity check failed"
echo >&2

say "== the ceiling: the same nginx in front of a constant FastCGI answer"
mkdir -p "$WORK/const-nginx"
CONST_PORT=$((PORT + 2))
sed -e "s|unix:$STATE/run/fcgi.sock|unix:$WORK/const.sock|g" \
    -e "s|listen 127.0.0.1:$PORT |listen 127.0.0.1:$CONST_PORT |" \
    -e "s|^pid .*|pid $WORK/const-nginx/nginx.pid;|" "$STATE/nginx.conf" >"$WORK/const-nginx.conf"
setsid -f sh -c 'echo $$ >"$1/const.pid"; exec "$1/const_fcgi" "$1/const.sock" "$2"' sh "$WORK" "$WORKERS_N" </dev/null >/dev/null 2>&1
sleep 0.3
CONST_PID=$(cat "$WORK/const.pid")
sleep 0.5
nginx -p "$WORK/const-nginx" -c "$WORK/const-nginx.conf"
wait_http "http://127.0.0.1:$CONST_PORT/api/queue/$EVENT/status" 10 || die "the constant program did not answer"

rate() { sed -n 's/^Requests\/sec: *//p' "$1"; }
errors() { sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$1"; }
run_wrk() {  # run_wrk PORT OUT
    TOKENS_FILE=$WORK/tokens.txt wrk -t "$THREADS" -c "$CONNS" -d "$DURATION"s \
        -s "$ROOT/bench/queue_status.lua" "http://127.0.0.1:$1" >"$2" 2>&1
    cat "$2" >&2
}
xacts() { "$PG_BIN/psql" "$DATABASE_URL" -XAtc "SELECT pg_stat_force_next_flush(); SELECT xact_commit FROM pg_stat_database WHERE datname = 'boxoffice'" | tail -1; }
say "== status polls, alternating ceiling and boxoffice twice"
XACT_BEFORE=$(xacts)
run_wrk "$CONST_PORT" "$WORK/const1.txt"
run_wrk "$PORT" "$WORK/status1.txt"
run_wrk "$CONST_PORT" "$WORK/const2.txt"
run_wrk "$PORT" "$WORK/status2.txt"
sleep 1
XACT_AFTER=$(xacts)

python3 - "$WORK" "$USERS" "$IN_LINE" "$JOINED" "$DUPLICATES" "$CONNS" "$THREADS" "$DURATION" "$WORKERS_N" \
    "$((XACT_AFTER - XACT_BEFORE))" <<'PY'
import os, re, sys
work, users, in_line, joined, dups, conns, threads, duration, workers, xacts = sys.argv[1:]
def rate(name):
    m = re.search(r"Requests/sec:\s*([\d.]+)", open(os.path.join(work, name)).read())
    return float(m.group(1)) if m else 0.0
def non2xx(name):
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", open(os.path.join(work, name)).read())
    return int(m.group(1)) if m else 0
c = [rate("const1.txt"), rate("const2.txt")]
s = [rate("status1.txt"), rate("status2.txt")]
j = rate("joins.txt")
ja = rate("joins-async.txt")
print()
print("| measure | run 1 | run 2 |")
print("| --- | --- | --- |")
print("| ceiling: constant FastCGI answer through nginx (req/s) | %.0f | %.0f |" % tuple(c))
print("| status polls, %s in line (req/s) | %.0f | %.0f |" % (in_line, s[0], s[1]))
print("| polls / ceiling | %.0f%% | %.0f%% |" % (100 * s[0] / c[0], 100 * s[1] / c[1]))
print()
print("joins: %.0f/s synchronous commit, %.0f/s asynchronous (%s joined by HTTP in 2 x %ss, "
      "%s duplicate positions, non-2xx: %d, %d)"
      % (j, ja, joined, duration, dups, non2xx("joins.txt"), non2xx("joins-async.txt")))
print("non-2xx status answers: %d, %d; wrk -t%s -c%s -d%ss; %s FastCGI workers each"
      % (non2xx("status1.txt"), non2xx("status2.txt"), threads, conns, duration, workers))
polls = sum(s) * float(duration)
print("database transactions during the four status runs (boxoffice answered ~%.0f polls): %s"
      % (polls, xacts))
PY
