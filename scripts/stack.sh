# stack.sh: starting and stopping one instance of the whole system (payment
# sandbox, boxoffice-fcgi, boxoffice-worker, nginx) around a running
# PostgreSQL. Sourced by scripts/run and the test scripts, after common.sh.
#
# An instance lives in a state directory: config, secrets, sockets, pid
# files and logs. Settings come from variables:
#   STATE BIN_DIR PORT DATABASE_URL SANDBOX_PORT
#   WORKERS (fcgi workers, default 0 = two per core)
#   LIMITS=strict|open (nginx per-client rates; tests and benchmarks use open)
#   EXTRA_CONFIG (lines appended to boxoffice.conf)

# Starts a program in the background with its log and pid file.
spawn() {
    name=$1; shift
    setsid "$@" >>"$STATE/log/$name.log" 2>&1 </dev/null &
    echo $! >"$STATE/run/$name.pid"
}

# Stops the process of a pid file: SIGTERM, then SIGKILL after 15 s.
stop_pidfile() {
    f=$1
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

stack_write_config() {
    mkdir -p "$STATE/run" "$STATE/log" "$STATE/nginx"
    umask 077
    if [ ! -f "$STATE/secrets.conf" ]; then
        {
            echo "token_secret = $(random_hex)"
            echo "payment_secret_key = sk_test_$(random_hex | cut -c1-24)"
            echo "payment_webhook_secret = whsec_$(random_hex | cut -c1-32)"
        } >"$STATE/secrets.conf"
    fi
    chmod 600 "$STATE/secrets.conf"
    umask 022
    cat >"$STATE/boxoffice.conf" <<CONF
# Written by scripts/stack.sh for this instance; edit the scripts, not this.
database_url = $DATABASE_URL
fcgi_socket = $STATE/run/fcgi.sock
workers = ${WORKERS:-0}
secrets_file = $STATE/secrets.conf
payment_base_url = http://127.0.0.1:$SANDBOX_PORT
${EXTRA_CONFIG:-}
CONF
}

secret_of() {
    sed -n "s/^$1 = //p" "$STATE/secrets.conf"
}

stack_write_nginx() {
    if [ "${LIMITS:-strict}" = open ]; then
        rates="API_RATE=100000 API_BURST=100000 HOLD_RATE=100000 HOLD_BURST=100000
JOIN_RATE=100000 JOIN_BURST=100000 STATUS_RATE=100000 STATUS_BURST=100000 CONN_LIMIT=60000"
    else
        rates="API_RATE=50 API_BURST=200 HOLD_RATE=5 HOLD_BURST=20
JOIN_RATE=2 JOIN_BURST=5 STATUS_RATE=5 STATUS_BURST=20 CONN_LIMIT=64"
    fi
    user_line=""
    [ "$(id -u)" = 0 ] && user_line="user root root;"
    access="$STATE/log/nginx-access.log combined buffer=256k flush=2s"
    [ "${ACCESS_LOG:-on}" = off ] && access="off"
    # shellcheck disable=SC2086
    render_template "$ROOT/nginx/nginx.conf.in" "$STATE/nginx.conf" \
        "USER_LINE=$user_line" "WORKERS=${NGINX_WORKERS:-auto}" "STATE=$STATE" "PORT=$PORT" \
        "WWW=$ROOT/nginx/www" "FCGI_SOCKET=$STATE/run/fcgi.sock" "ACCESS_LOG=$access" $rates
    mkdir -p "$STATE/nginx/body" "$STATE/nginx/fastcgi" "$STATE/nginx/proxy" \
        "$STATE/nginx/uwsgi" "$STATE/nginx/scgi"
    nginx -t -q -p "$STATE/nginx" -c "$STATE/nginx.conf" 2>>"$STATE/log/nginx-error.log" ||
        { tail -5 "$STATE/log/nginx-error.log" >&2; die "nginx configuration is invalid"; }
}

stack_start() {
    stack_write_config
    stack_write_nginx
    export BOXOFFICE_CONFIG="$STATE/boxoffice.conf"
    if [ -f "$ROOT/sandbox/stripe_sandbox.py" ]; then
        spawn sandbox python3 "$ROOT/sandbox/stripe_sandbox.py" --host 127.0.0.1 \
            --port "$SANDBOX_PORT" --api-key "$(secret_of payment_secret_key)" \
            --webhook-url "http://127.0.0.1:$PORT/api/payments/webhook" \
            --webhook-secret "$(secret_of payment_webhook_secret)"
    fi
    spawn fcgi "$BIN_DIR/boxoffice-fcgi" -c "$STATE/boxoffice.conf"
    spawn worker "$BIN_DIR/boxoffice-worker" -c "$STATE/boxoffice.conf"
    if [ -x "$BIN_DIR/boxoffice-indexer" ] && [ -z "${NO_INDEXER:-}" ]; then
        spawn indexer "$BIN_DIR/boxoffice-indexer" -c "$STATE/boxoffice.conf" --follow
    fi
    nginx -p "$STATE/nginx" -c "$STATE/nginx.conf" 2>>"$STATE/log/nginx-error.log" ||
        die "nginx did not start (see $STATE/log/nginx-error.log)"
    wait_http "http://127.0.0.1:$PORT/healthz" 30 ||
        { tail -20 "$STATE/log/fcgi.log" >&2; die "/healthz did not answer on port $PORT"; }
    if [ -f "$STATE/run/sandbox.pid" ]; then
        wait_listening "127.0.0.1:$SANDBOX_PORT" 30 ||
            { tail -20 "$STATE/log/sandbox.log" >&2; die "the payment sandbox did not start"; }
    fi
}

stack_stop() {
    if [ -f "$STATE/run/nginx.pid" ]; then
        nginx -p "$STATE/nginx" -c "$STATE/nginx.conf" -s quit 2>/dev/null || true
        i=0
        while [ -f "$STATE/run/nginx.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        stop_pidfile "$STATE/run/nginx.pid"
    fi
    for name in indexer worker fcgi sandbox; do
        stop_pidfile "$STATE/run/$name.pid"
    done
}
