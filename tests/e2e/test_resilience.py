"""test_resilience.py: boxoffice-fcgi survives a PostgreSQL restart without
losing a worker, answers 503 JSON while the database is down, and on
SIGTERM finishes the request in flight before it exits."""

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


@unittest.skipUnless(STATE and BIN, "needs the stack from scripts/test")
class GracefulStopTest(unittest.TestCase):
    def test_sigterm_drains_the_request_in_flight(self):
        work = tempfile.mkdtemp(prefix="boxoffice-drain-")
        sock_path = os.path.join(work, "fcgi.sock")
        conf = os.path.join(work, "boxoffice.conf")
        with open(os.path.join(STATE, "boxoffice.conf")) as f:
            text = f.read()
        text = re.sub(r"^fcgi_socket = .*$", "fcgi_socket = " + sock_path, text, flags=re.M)
        text = re.sub(r"^workers = .*$", "workers = 2", text, flags=re.M)
        with open(conf, "w") as f:
            f.write(text)
        log_path = os.path.join(work, "fcgi.log")
        log = open(log_path, "w")
        proc = subprocess.Popen([os.path.join(BIN, "boxoffice-fcgi"), "-c", conf],
                                stdout=log, stderr=log)
        try:
            for _ in range(100):
                if os.path.exists(sock_path):
                    break
                time.sleep(0.05)
            body = ('{"email": "%s@example.com", "password": "drain test 1", "name": "D"}'
                    % bo.unique("drain")).encode()
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock_path)
            s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)))
            s.sendall(fcgi_record(4, fcgi_pairs({
                "REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/users",
                "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))})))
            s.sendall(fcgi_record(4, b""))
            s.sendall(fcgi_record(5, body[:10]))  # the worker now waits for the rest
            time.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertIsNone(proc.poll(), "still draining the open request")
            s.sendall(fcgi_record(5, body[10:]) + fcgi_record(5, b""))
            answer = fcgi_read_response(s).decode()
            s.close()
            self.assertIn("Status: 201", answer)
            self.assertEqual(proc.wait(timeout=10), 0)
            self.assertFalse(os.path.exists(sock_path), "socket removed")
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
            reports = bo.sanitizer_reports([log_path])
            if not reports:
                shutil.rmtree(work, ignore_errors=True)
        self.assertEqual(reports, [], "sanitizer reports (the log is kept in %s)" % work)


if __name__ == "__main__":
    unittest.main(verbosity=2)
