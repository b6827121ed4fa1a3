# common.sh: shell functions shared by the run, stop and test scripts.
# Sourced, never run. Expects ROOT (the project directory) to be set.

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Debian packages the system needs to build and run; tests add their own.
BOXOFFICE_RUN_PACKAGES="build-essential autoconf automake pkg-config libfcgi-dev libpq-dev
libjson-c-dev libcurl4-openssl-dev libssl-dev libcrypt-dev libcmocka-dev postgresql
postgresql-contrib nginx-light python3 curl ca-certificates procps"

# Installs the packages that are missing (as root, with apt); a no-op when
# everything is there, so it is cheap to call every time.
install_packages() {
    missing=""
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    [ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root, or install them)"
    say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        die "apt-get install failed for:$missing"
    # Debian starts these system services on install; we run our own.
    for svc in nginx postgresql; do
        if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
        if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
    done
}

# Configures and builds into $1 (a build directory) with extra configure
# arguments after it; reconfigures only when the arguments changed.
build_into() {
    dir=$1; shift
    if [ ! -x "$ROOT/configure" ] || [ "$ROOT/configure.ac" -nt "$ROOT/configure" ] ||
        [ "$ROOT/Makefile.am" -nt "$ROOT/configure" ]; then
        (cd "$ROOT" && ./autogen.sh >/dev/null 2>&1) || die "autogen.sh failed"
    fi
    mkdir -p "$dir"
    if [ ! -f "$dir/Makefile" ] || [ "$(cat "$dir/.configure-args" 2>/dev/null)" != "$*" ]; then
        (cd "$dir" && "$ROOT/configure" -q "$@" >configure.log 2>&1) ||
            { cat "$dir/configure.log" >&2; die "configure failed"; }
        printf '%s' "$*" >"$dir/.configure-args"
    fi
    make -C "$dir" -j"$(nproc)" -s >"$dir/make.log" 2>&1 ||
        { tail -40 "$dir/make.log" >&2; die "build failed (see $dir/make.log)"; }
}

export PGOPTIONS="-c client_min_messages=warning"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

# PostgreSQL refuses to run as root: as root, run its tools as postgres.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prints a directory the PostgreSQL user can own, for a cluster wanted at
# $1: $1 itself when that user can reach it, otherwise a stable directory
# under /var/tmp named after $1 (a clone in a private folder, for example).
pg_home_for() {
    want=$1
    mkdir -p "$want"
    if [ "$(id -u)" != 0 ]; then echo "$want"; return; fi
    chown postgres: "$want"
    if runuser -u postgres -- test -w "$want" 2>/dev/null; then echo "$want"; return; fi
    alt="/var/tmp/boxoffice-pg-$(printf '%s' "$want" | cksum | cut -d' ' -f1)"
    mkdir -p "$alt" && chown postgres: "$alt" && chmod 700 "$alt"
    echo "$alt"
}

# pg_up HOME PORT [fast]: creates (once) and starts a cluster in HOME/data
# listening only on the unix socket HOME/socket/.s.PGSQL.PORT, with a
# database and superuser named boxoffice. "fast" trades durability for
# speed (throwaway test clusters only).
pg_up() {
    home=$1; port=$2; mode=${3:-}
    [ -n "$PG_BIN" ] || die "PostgreSQL server binaries not found"
    mkdir -p "$home/socket"
    [ "$(id -u)" = 0 ] && chown postgres: "$home" "$home/socket"
    if [ ! -f "$home/data/PG_VERSION" ]; then
        # A quarter of the memory for the buffer pool (PostgreSQL's own
        # advice), 128 MB to 2 GB: with a fixed 256 MB, the search
        # documents, events and seats of the benchmark's 100,000 events
        # did not fit, and half the pages of a text search were read from
        # the kernel's cache, a system call each.
        # (the memory is the machine's, or the container's limit when lower)
        limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo max)
        buffers_mb=$(awk -v limit="$limit" '/^MemTotal:/ {
            kb = $2; if (limit ~ /^[0-9]+$/ && limit / 1024 < kb) kb = limit / 1024
            mb = int(kb / 4096); if (mb < 128) mb = 128; if (mb > 2048) mb = 2048; print mb }' \
            /proc/meminfo)
        as_pg "$PG_BIN/initdb" -D "$home/data" -U boxoffice --auth=trust -E UTF8 \
            --locale=C.UTF-8 >"$home/initdb.log" 2>&1 ||
            { cat "$home/initdb.log" >&2; die "initdb failed"; }
        cat >>"$home/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$home/socket'
port = $port
max_connections = 200
shared_buffers = ${buffers_mb}MB
work_mem = 8MB
checkpoint_timeout = 15min
max_wal_size = 2GB
log_min_duration_statement = 1000
log_line_prefix = '%m [%p] %q%u@%d '
CONF
        if [ "$mode" = fast ]; then
            printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" \
                >>"$home/data/postgresql.conf"
        fi
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$home/data" status >/dev/null 2>&1; then
        as_pg "$PG_BIN/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w -t 60 start >/dev/null ||
            { tail -20 "$home/postgres.log" >&2; die "PostgreSQL did not start"; }
    fi
    if ! "$PG_BIN/psql" -h "$home/socket" -p "$port" -U boxoffice -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'boxoffice'" | grep -q 1; then
        "$PG_BIN/createdb" -h "$home/socket" -p "$port" -U boxoffice boxoffice ||
            die "createdb failed"
    fi
}

pg_down() {
    home=$1
    if [ -f "$home/data/PG_VERSION" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

# migrate CONNINFO: applies each sql/migrations file once, in order, each in
# its own transaction together with its row in schema_migrations, then
# reapplies sql/functions (CREATE OR REPLACE) in one transaction.
migrate() {
    conn=$1
    psql_q() { "$PG_BIN/psql" "$conn" -X -q -v ON_ERROR_STOP=1 "$@"; }
    psql_q -c "CREATE TABLE IF NOT EXISTS schema_migrations (
        version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())" ||
        die "cannot create schema_migrations"
    for f in "$ROOT"/sql/migrations/*.sql; do
        v=$(basename "$f" .sql)
        if [ -z "$(psql_q -tAc "SELECT 1 FROM schema_migrations WHERE version = '$v'")" ]; then
            { cat "$f"; printf "\nINSERT INTO schema_migrations (version) VALUES ('%s');\n" "$v"; } |
                psql_q --single-transaction -f - >/dev/null || die "migration $v failed"
            say "applied migration $v"
        fi
    done
    cat "$ROOT"/sql/functions/*.sql | psql_q --single-transaction -f - >/dev/null ||
        die "applying sql/functions failed"
}

# A random secret of 32 bytes as hex.
random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# wait_http URL SECONDS: waits until URL answers 200.
wait_http() {
    url=$1; limit=$2; i=0
    while [ "$i" -lt $((limit * 10)) ]; do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# wait_listening HOST:PORT SECONDS: waits until something accepts HTTP there
# (any status counts).
wait_listening() {
    limit=$2; i=0
    while [ "$i" -lt $((limit * 10)) ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$1/" 2>/dev/null)
        [ -n "$code" ] && [ "$code" != 000 ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# render_template TEMPLATE OUT key=value...: replaces @key@ in the template.
render_template() {
    template=$1; out=$2; shift 2
    script=$(mktemp)
    for kv in "$@"; do
        k=${kv%%=*}; v=${kv#*=}
        printf 's|@%s@|%s|g\n' "$k" "$(printf '%s' "$v" | sed 's/[&|\\]/\\&/g')" >>"$script"
    done
    sed -f "$script" "$template" >"$out"
    rm -f "$script"
}
