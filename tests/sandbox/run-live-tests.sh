#!/bin/sh
# run-live-tests.sh BUILD_DIR: starts the payment sandbox on a free loopback
# port, runs BUILD_DIR/tests/unit/test_payment_live against it, stops the
# sandbox. Exit status is the test program's.
set -eu

build=${1:?usage: run-live-tests.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
program="$build/tests/unit/test_payment_live"
key=sk_test_boxoffice_sandbox

if [ ! -x "$program" ]; then
    echo "run-live-tests.sh: $program is missing; build it with" >&2
    echo "  make -C $build tests/unit/test_payment_live" >&2
    exit 2
fi

log=$(mktemp "${TMPDIR:-/tmp}/stripe-sandbox.XXXXXX")
# Port 0: the kernel picks a free port and the sandbox prints it.
python3 "$root/sandbox/stripe_sandbox.py" --host 127.0.0.1 --port 0 --api-key "$key" \
    2>"$log" &
sandbox=$!

cleanup() {
    kill "$sandbox" 2>/dev/null || true
    wait "$sandbox" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

url=
tries=0
while [ -z "$url" ]; do
    url=$(sed -n 's/^stripe-sandbox listening on //p' "$log" | head -n 1)
    if [ -z "$url" ]; then
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ] || ! kill -0 "$sandbox" 2>/dev/null; then
            echo "run-live-tests.sh: the sandbox did not start:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    fi
done

set +e
BOXOFFICE_TEST_SANDBOX_URL=$url BOXOFFICE_TEST_SANDBOX_KEY=$key "$program"
status=$?
set -e
if [ "$status" -ne 0 ]; then
    echo "run-live-tests.sh: failed; the sandbox's last log lines:" >&2
    tail -n 30 "$log" >&2
fi
exit "$status"
