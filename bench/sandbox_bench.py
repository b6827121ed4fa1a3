#!/usr/bin/env python3
"""sandbox_bench.py: CPU seconds of the payment sandbox per paid order, old
against new, side by side in the same run. Run by hand:

  bench/sandbox_bench.py [--pairs N] [--connections C] [--rounds R]
                         [--old-ref REF] [--new PATH] [--c-driver SECONDS]

Each round starts a fresh sandbox of each version (the old one taken from
git, REF:sandbox/stripe_sandbox.py, default main; the new one this tree's)
with a webhook receiver in another process that answers 200 at once, as
nginx would (chunked, keep-alive). C client threads, each one keep-alive
connection like a boxoffice-fcgi worker's libcurl handle, send N pairs of
create + confirm with the headers and form bodies lib/payment.c sends
(Idempotency-Key on both). The sandbox's CPU time (utime + stime from
/proc/PID/stat, all its threads) is read after a warm-up and again once
every webhook has been delivered, so sending them is included. Prints each
run and the median of the rounds per version, in ms of CPU per pair.

--c-driver SECONDS drives the sandbox instead with bench/checkout_bench.c's
"sandbox" mode (libcurl, C connections, for SECONDS; its requests carry no
Idempotency-Key or metadata), as bench/checkout_bench.sh does for the
provider's ceiling: a client that costs the machine far less than Python's.

Standard library only. The load generator's own CPU is not counted; on a
small shared machine it competes for the cores, which moves wall time, not
the sandbox's CPU per pair.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "sk_test_sandbox_bench_0123456789"
SECRET = "whsec_sandbox_bench"
TICK = os.sysconf("SC_CLK_TCK")
RECEIVER_ANSWER = (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
                   b"11\r\n{\"received\":true}\r\n0\r\n\r\n")


def receiver(port_file):
    """A webhook endpoint: one thread per connection, 200 to every request."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)

    def serve(conn):
        buf = b""
        with conn:
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                    continue
                head = buf[:end].decode("latin-1").lower()
                length = 0
                for line in head.split("\r\n"):
                    if line.startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                while len(buf) < end + 4 + length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf[end + 4 + length:]
                conn.sendall(RECEIVER_ANSWER)

    with open(port_file + ".tmp", "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def cpu_seconds(pid):
    """(user, system) CPU seconds of the process, all its threads."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


class Connection:
    """One keep-alive client connection speaking just enough HTTP/1.1."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, method, path, body=b"", idem=None):
        head = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1", "User-Agent: boxoffice",
                "Accept: */*", "Authorization: Bearer " + KEY, "Stripe-Version: 2024-06-20"]
        if idem is not None:
            head.append("Idempotency-Key: " + idem)
        if method == "POST":
            head.append("Content-Length: %d" % len(body))
            head.append("Content-Type: application/x-www-form-urlencoded")
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self.buf += self._recv()
        head = self.buf[:end].decode("latin-1")
        status = int(head.split(" ", 2)[1])
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        while len(self.buf) < end + 4 + length:
            self.buf += self._recv()
        body = self.buf[end + 4:end + 4 + length]
        self.buf = self.buf[end + 4 + length:]
        return status, body

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the sandbox closed the connection")
        return data


def get_json(port, path):
    conn = Connection(port)
    try:
        status, body = conn.request("GET", path)
        return json.loads(body)
    finally:
        conn.sock.close()


def client(port, count, tag, failures):
    conn = Connection(port)
    for i in range(count):
        order = "%d%06d" % (tag, i)
        status, body = conn.request(
            "POST", "/v1/payment_intents",
            ("amount=10000&currency=inr&metadata%%5Border_id%%5D=%s"
             "&payment_method_types%%5B%%5D=card" % order).encode(),
            "checkout-%s" % order)
        if status != 200:
            failures.append(status)
            continue
        intent = json.loads(body)["id"]
        status, _ = conn.request("POST", "/v1/payment_intents/%s/confirm" % intent,
                                 b"payment_method=pm_card_visa", "pay-%s" % order)
        if status != 200:
            failures.append(status)
    conn.sock.close()


def load(port, pairs, connections, tag):
    failures = []
    threads = [threading.Thread(target=client,
                                args=(port, pairs // connections, tag * 100 + i, failures))
               for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError("%d requests failed: %s" % (len(failures), sorted(set(failures))))
    return pairs // connections * connections


def start_sandbox(script, webhook_port, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, script, "--host", "127.0.0.1", "--port", "0", "--api-key", KEY,
         "--webhook-url", "http://127.0.0.1:%d/api/payments/webhook" % webhook_port,
         "--webhook-secret", SECRET], stderr=log, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(log_path) as f:
            first = f.readline()
        if "listening on" in first:
            return proc, int(first.strip().rsplit(":", 1)[1])
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the sandbox %s did not start" % script)


def wait_delivered(port, queued_at_least):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        hooks = get_json(port, "/_sandbox/webhooks")
        if hooks.get("pending", 0) == 0 and hooks.get("delivered", 0) >= queued_at_least:
            return hooks
        time.sleep(0.05)
    raise RuntimeError("webhooks still pending: %s" % hooks)


def c_load(driver, port, seconds, connections, tmp):
    """Runs checkout_bench's sandbox mode; returns the pairs it completed."""
    key = os.path.join(tmp, "key")
    with open(key, "w") as f:
        f.write(KEY + "\n")
    out = subprocess.run([driver, "sandbox", "http://127.0.0.1:%d" % port, key, "0", "2",
                          str(connections), str(seconds)], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        if line.startswith("STEP ") and ":" in line.split("statuses=")[-1]:
            bad = [s for s in line.split("statuses=")[-1].split(",") if s and
                   not s.startswith("200:")]
            if bad:
                raise RuntimeError("requests failed: %s" % line)
    return int(next(line.split()[1] for line in out.splitlines()
                    if line.startswith("PAID_ORDERS ")))


def run_once(script, webhook_port, pairs, connections, tag, tmp, driver=None, seconds=0):
    proc, port = start_sandbox(script, webhook_port, os.path.join(tmp, "sandbox-%d.log" % tag))
    try:
        warm = load(port, connections * 20, connections, tag)
        wait_delivered(port, warm)
        before = cpu_seconds(proc.pid)
        started = time.monotonic()
        if driver:
            done = c_load(driver, port, seconds, connections, tmp)
        else:
            done = load(port, pairs, connections, tag + 1)
        elapsed = time.monotonic() - started
        hooks = wait_delivered(port, warm + done)
        after = cpu_seconds(proc.pid)
        user, system = after[0] - before[0], after[1] - before[1]
        cpu = user + system
        return {"pairs": done, "cpu_s": cpu, "user_s": user, "system_s": system,
                "ms_per_pair": 1000.0 * cpu / done,
                "pairs_per_s": done / elapsed, "webhooks": hooks.get("delivered", 0)}
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=4000)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--old-ref", default="main")
    ap.add_argument("--new", default=os.path.join(ROOT, "sandbox", "stripe_sandbox.py"))
    ap.add_argument("--c-driver", type=float, default=0, metavar="SECONDS")
    ap.add_argument("--receiver", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.receiver:
        receiver(args.receiver)
        return 0
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        old = os.path.join(tmp, "stripe_sandbox_old.py")
        with open(old, "wb") as f:
            f.write(subprocess.run(["git", "-C", ROOT, "show",
                                    "%s:sandbox/stripe_sandbox.py" % args.old_ref],
                                   check=True, capture_output=True).stdout)
        driver = None
        if args.c_driver:
            driver = os.path.join(tmp, "checkout_bench")
            subprocess.run(["gcc", "-O2", "-Wall", "-o", driver,
                            os.path.join(ROOT, "bench", "checkout_bench.c"), "-lcurl",
                            "-ljson-c", "-lpthread"], check=True)
        port_file = os.path.join(tmp, "receiver.port")
        rec = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--receiver",
                                port_file])
        try:
            while not os.path.exists(port_file):
                time.sleep(0.02)
            with open(port_file) as f:
                webhook_port = int(f.read())
            results = {"old": [], "new": []}
            tag = 1
            for r in range(args.rounds):
                for name, script in (("old", old), ("new", args.new)):
                    res = run_once(script, webhook_port, args.pairs, args.connections, tag, tmp,
                                   driver, args.c_driver)
                    tag += 2
                    results[name].append(res)
                    print("round %d %s: %d pairs, %.2f s CPU (user %.2f, system %.2f), "
                          "%.3f ms CPU per pair, %.0f pairs/s, %d webhooks delivered" % (
                              r + 1, name, res["pairs"], res["cpu_s"], res["user_s"],
                              res["system_s"], res["ms_per_pair"],
                              res["pairs_per_s"], res["webhooks"]), flush=True)
        finally:
            rec.kill()
            rec.wait()
    old_ms = statistics.median(x["ms_per_pair"] for x in results["old"])
    new_ms = statistics.median(x["ms_per_pair"] for x in results["new"])
    print("median of %d rounds, %s, %d connections, %d cores, load %.1f:" % (
        args.rounds, "checkout_bench.c sandbox mode for %g s" % args.c_driver if driver else
        "Python client, create with Idempotency-Key and metadata as lib/payment.c sends",
        args.connections, os.cpu_count(), os.getloadavg()[0]))
    print("| sandbox | CPU ms per create+confirm pair (webhook included) | pairs/s |")
    print("| --- | ---: | ---: |")
    for name, ms in (("old (%s)" % args.old_ref, old_ms), ("new", new_ms)):
        key = "old" if name.startswith("old") else "new"
        print("| %s | %.3f | %.0f |" % (name, ms, statistics.median(
            x["pairs_per_s"] for x in results[key])))
    print("ratio old/new: %.2fx" % (old_ms / new_ms if new_ms > 0 else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
