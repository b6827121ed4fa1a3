"""test_resilience.py: boxoffice-fcgi survives a PostgreSQL restart without
losing a worker, answers 503 JSON while the database is down, on SIGTERM
finishes the request in flight before it exits, and hangs up a FastCGI
connection as soon as it has answered a request it read in full."""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import boxoffice as bo

PG_HOME = os.environ.get("BOXOFFICE_PG_HOME", "")
PG_BIN = os.environ.get("BOXOFFICE_PG_BIN", "")
STATE = os.environ.get("BOXOFFICE_STATE_DIR", "")
BIN = os.environ.get("BOXOFFICE_BIN_DIR", "")


def pg_ctl(*args):
    cmd = [os.path.join(PG_BIN, "pg_ctl"), "-D", os.path.join(PG_HOME, "data"), "-w"] + list(args)
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True)


def restarts():
    m = re.search(r"^boxoffice_worker_restarts_total (\d+)", bo.Client().get("/metrics").body, re.M)
    return int(m.group(1))


@unittest.skipUnless(PG_HOME and PG_BIN, "needs the test cluster from scripts/test")
class DatabaseRestartTest(unittest.TestCase):
    def test_workers_reconnect(self):
        c = bo.Client()
        self.assertEqual(c.get("/healthz").status, 200)
        before = restarts()
        pg_ctl("-m", "fast", "stop")
        try:
            r = c.get("/healthz")
            self.assertEqual((r.status, r.error_code), (503, "database_unavailable"))
            r = c.get("/api/events")
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.error_code, "unavailable")
        finally:
            pg_ctl("-l", os.path.join(PG_HOME, "postgres.log"), "start")
        # Every worker reconnects on its next request: many requests, all 200.
        deadline = time.time() + 10
        ok = 0
        while time.time() < deadline and ok < 40:
            ok = ok + 1 if c.get("/api/events?per_page=1").status == 200 else 0
        self.assertEqual(ok, 40)
        self.assertEqual(restarts(), before, "no worker died")


def fcgi_record(kind, content, request_id=1):
    return struct.pack(">BBHHBx", 1, kind, request_id, len(content), 0) + content


def fcgi_pairs(pairs):
    out = b""
    for k, v in pairs.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
        out += k + v
    return out


def fcgi_read_response(sock):
    data, stdout = b"", b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        while len(data) >= 8:
            _, kind, _, length, padding = struct.unpack(">BBHHB", data[:7])
            if len(data) < 8 + length + padding:
                break
            content = data[8:8 + length]
            data = data[8 + length + padding:]
            if kind == 6:
                stdout += content
            elif kind == 3:
                return stdout
    return stdout


def fcgi_begin(sock_path, params):
    """A connection to sock_path with a request's header and params sent."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)))
    s.sendall(fcgi_record(4, fcgi_pairs(params)) + fcgi_record(4, b""))
    return s


class PrivateFcgi:
    """A boxoffice-fcgi of the test's own with `workers` workers on a socket
    of its own, configured like the stack's; stop() checks its log for
    sanitizer reports and removes its folder (kept when there are some)."""

    def __init__(self, prefix, workers):
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.sock_path = os.path.join(self.work, "fcgi.sock")
        conf = os.path.join(self.work, "boxoffice.conf")
        with open(os.path.join(STATE, "boxoffice.conf")) as f:
            text = f.read()
        text = re.sub(r"^fcgi_socket = .*$", "fcgi_socket = " + self.sock_path, text, flags=re.M)
        text = re.sub(r"^workers = .*$", "workers = %d" % workers, text, flags=re.M)
        with open(conf, "w") as f:
            f.write(text)
        self.log_path = os.path.join(self.work, "fcgi.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(BIN, "boxoffice-fcgi"), "-c", conf],
                                     stdout=self.log, stderr=self.log)
        for _ in range(100):
            if os.path.exists(self.sock_path):
                break
            time.sleep(0.05)

    def stop(self):
        """Stops it if it still runs (SIGTERM, so that the supervisor stops
        its workers too; SIGKILL would leave them behind); returns the
        sanitizer reports."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        reports = bo.sanitizer_reports([self.log_path])
        if not reports:
            shutil.rmtree(self.work, ignore_errors=True)
        return reports


@unittest.skipUnless(STATE and BIN, "needs the stack from scripts/test")
class GracefulStopTest(unittest.TestCase):
    def test_sigterm_drains_the_request_in_flight(self):
        fcgi = PrivateFcgi("boxoffice-drain-", 2)
        try:
            body = ('{"email": "%s@example.com", "password": "drain test 1", "name": "D"}'
                    % bo.unique("drain")).encode()
            s = fcgi_begin(fcgi.sock_path, {
                "REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/users",
                "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))})
            s.sendall(fcgi_record(5, body[:10]))  # the worker now waits for the rest
            time.sleep(0.3)
            fcgi.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertIsNone(fcgi.proc.poll(), "still draining the open request")
            s.sendall(fcgi_record(5, body[10:]) + fcgi_record(5, b""))
            answer = fcgi_read_response(s).decode()
            s.close()
            self.assertIn("Status: 201", answer)
            self.assertEqual(fcgi.proc.wait(timeout=10), 0)
            self.assertFalse(os.path.exists(fcgi.sock_path), "socket removed")
        finally:
            reports = fcgi.stop()
        self.assertEqual(reports, [], "sanitizer reports (the log is kept in %s)" % fcgi.work)


@unittest.skipUnless(STATE and BIN, "needs the stack from scripts/test")
class HangUpTest(unittest.TestCase):
    """One worker, two connections: the second request is answered only once
    the worker is done with the first connection."""

    def answer_time_after(self, fcgi, first_params, first_stdin):
        """Answers a first request on a connection this side leaves open,
        then times a second one on a new connection. Returns the first
        answer and the seconds the second took."""
        a = fcgi_begin(fcgi.sock_path, first_params)
        a.sendall(first_stdin)
        first = fcgi_read_response(a).decode()
        try:
            started = time.monotonic()
            b = fcgi_begin(fcgi.sock_path, {"REQUEST_METHOD": "GET", "DOCUMENT_URI": "/healthz"})
            b.sendall(fcgi_record(5, b""))
            second = fcgi_read_response(b).decode()
            took = time.monotonic() - started
            b.close()
        finally:
            a.close()
        self.assertIn("Status: 200", second)
        return first, took

    def test_a_request_read_in_full_frees_the_worker_at_once(self):
        # The worker closes the connection after its answer instead of
        # waiting for the other side to hang up first (nginx would, at
        # once; this side does not).
        fcgi = PrivateFcgi("boxoffice-hangup-", 1)
        try:
            body = b'{"email": "nobody@example.com", "password": "wrong password"}'
            first, took = self.answer_time_after(fcgi, {
                "REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/sessions",
                "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))},
                fcgi_record(5, body) + fcgi_record(5, b""))
            self.assertIn("Status: 401", first)
            self.assertLess(took, 1.0, "the worker waited for the first connection")
        finally:
            reports = fcgi.stop()
        self.assertEqual(reports, [], "sanitizer reports (the log is kept in %s)" % fcgi.work)

    def test_unread_input_still_waits_for_the_hang_up(self):
        # Refused before its body was read: libfcgi's shutdown-and-drain is
        # kept (closing with input unread could reset the connection before
        # the answer is read), which holds the worker up to its 2 s limit.
        fcgi = PrivateFcgi("boxoffice-hangup-", 1)
        try:
            first, took = self.answer_time_after(fcgi, {
                "REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/sessions",
                "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(64 << 20)},
                fcgi_record(5, b"{" * 1000))
            self.assertIn("Status: 413", first)
            self.assertGreater(took, 1.5, "the worker did not drain the unread input")
        finally:
            reports = fcgi.stop()
        self.assertEqual(reports, [], "sanitizer reports (the log is kept in %s)" % fcgi.work)


if __name__ == "__main__":
    unittest.main(verbosity=2)
