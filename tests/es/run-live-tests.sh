#!/bin/sh
# run-live-tests.sh: runs tests/unit/test_es_live against tests/es/fake_es.py.
# Usage: tests/es/run-live-tests.sh BUILD_DIR
# Starts the fake on a free loopback port, runs the test with
# BOXOFFICE_TEST_ES_URL pointing at it, stops the fake; the exit status is
# the test's.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
test_bin=$build_dir/tests/unit/test_es_live
if [ ! -x "$test_bin" ]; then
    echo "$test_bin not built: make -C $build_dir tests/unit/test_es_live" >&2
    exit 2
fi

work=$(mktemp -d)
fake_pid=
cleanup() {
    if [ -n "$fake_pid" ]; then
        kill "$fake_pid" 2>/dev/null || true
        wait "$fake_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Port 0: the fake binds a free port and writes it to the port file, so
# there is no race between choosing a port and binding it.
python3 "$here/fake_es.py" --port 0 --port-file "$work/port" >"$work/fake.log" 2>&1 &
fake_pid=$!

tries=0
while [ ! -s "$work/port" ]; do
    tries=$((tries + 1))
    if [ $tries -gt 100 ] || ! kill -0 "$fake_pid" 2>/dev/null; then
        echo "fake_es.py did not start:" >&2
        cat "$work/fake.log" >&2
        exit 1
    fi
    sleep 0.1
done
port=$(cat "$work/port")

status=0
BOXOFFICE_TEST_ES_URL="http://127.0.0.1:$port" "$test_bin" || status=$?
exit $status
