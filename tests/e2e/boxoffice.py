"""boxoffice.py: shared helpers for end-to-end tests: an HTTP client for the
API through nginx, sign-up and sign-in, and SQL checks against the test
database, and a second stack whose search goes to ElasticSearch. Tests read
their endpoints from the environment scripts/test sets: BOXOFFICE_URL,
BOXOFFICE_TEST_DATABASE_URL, BOXOFFICE_SANDBOX_URL, BOXOFFICE_ADMIN_EMAIL,
BOXOFFICE_ADMIN_PASSWORD, BOXOFFICE_ROOT, BOXOFFICE_BIN_DIR."""

import http.client
import itertools
import json
import glob
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse

URL = os.environ.get("BOXOFFICE_URL", "http://127.0.0.1:8080")
DATABASE_URL = os.environ.get("BOXOFFICE_TEST_DATABASE_URL", "")
SANDBOX_URL = os.environ.get("BOXOFFICE_SANDBOX_URL", "http://127.0.0.1:12111")
ADMIN_EMAIL = os.environ.get("BOXOFFICE_ADMIN_EMAIL", "admin@boxoffice.local")
ADMIN_PASSWORD = os.environ.get("BOXOFFICE_ADMIN_PASSWORD", "")
ROOT = os.environ.get("BOXOFFICE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN_DIR = os.environ.get("BOXOFFICE_BIN_DIR", os.path.join(ROOT, "build-test"))

_counter = itertools.count()
_counter_lock = threading.Lock()


def unique(prefix="u"):
    """A name no other test in this run uses."""
    with _counter_lock:
        n = next(_counter)
    return "%s%d-%d" % (prefix, os.getpid(), n)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def error_code(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"].get("code")
        return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Client:
    """One HTTP/1.1 connection to nginx, optionally signed in."""

    def __init__(self, token=None, base=URL, timeout=30):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.timeout = timeout
        self.token = token
        self.conn = None

    def request(self, method, path, body=None, headers=None, raw=None):
        h = {"Accept": "application/json"}
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        h.update(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                payload = r.read().decode("utf-8", "replace")
                resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server closed; retry once on a new one.
                self.close()
                if attempt == 1:
                    raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def signup(name=None, password="correct horse battery"):
    """Creates a user and returns (client signed in, user json)."""
    email = "%s@example.com" % unique(name or "buyer")
    c = Client()
    r = c.post("/api/users", {"email": email, "password": password, "name": name or "Buyer"})
    assert r.status == 201, r
    r = c.post("/api/sessions", {"email": email, "password": password})
    assert r.status == 200, r
    c.token = r.json["token"]
    return c, r.json["user"]


def admin():
    c = Client()
    r = c.post("/api/sessions", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert r.status == 200, r
    c.token = r.json["token"]
    return c


def sql(query, *args):
    """Runs one SQL statement on the test database; returns rows of text.
    Arguments are passed as psql variables :'v1', :'v2', ... (quoted)."""
    cmd = ["psql", DATABASE_URL, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    for i, a in enumerate(args, 1):
        cmd += ["-v", "v%d=%s" % (i, a)]
    out = subprocess.run(cmd, input=query, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line != ""]


def sql_value(query, *args):
    rows = sql(query, *args)
    return rows[0][0] if rows else None


def create_event(admin_client, rows=2, seats_per_row=5, categories=("A",), hold_ttl_s=600,
                 max_per_user=8, on_sale_at=None, starts_at="2030-01-01T20:00:00Z", **extra):
    """Creates a small venue (one section per category) and an event on sale
    in it. Returns the event json."""
    sections = [{"name": "Section %s" % c, "category": c, "x": 0, "y": i * (rows + 1),
                 "rows": rows, "seats_per_row": seats_per_row}
                for i, c in enumerate(categories)]
    r = admin_client.post("/api/admin/venues", {"name": unique("Venue "), "city": "Testville",
                                                 "sections": sections})
    assert r.status == 201, r
    body = {"venue_id": r.json["id"], "title": unique("Event "), "performer": "Tester",
            "category": "concert", "starts_at": starts_at, "hold_ttl_s": hold_ttl_s,
            "max_per_user": max_per_user,
            "prices": [{"category": c, "amount": 1000 * (i + 1)} for i, c in enumerate(categories)]}
    if on_sale_at:
        body["on_sale_at"] = on_sale_at
    body.update(extra)
    r = admin_client.post("/api/admin/events", body)
    assert r.status == 201, r
    return r.json


def seat_ids(event_id):
    r = Client().get("/api/events/%d/seats" % event_id)
    assert r.status == 200, r
    return [s["id"] for s in r.json["seats"]]


def provider(method, path, form=None):
    """Calls the payment sandbox: its /_sandbox controls, or its Stripe API
    (form-encoded, with our secret key) when form is given. Returns
    (status, JSON body)."""
    u = urllib.parse.urlsplit(SANDBOX_URL)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {}
    data = None
    if form is not None:
        key = None
        with open(os.path.join(os.environ.get("BOXOFFICE_STATE_DIR", ""), "secrets.conf")) as f:
            for line in f:
                k, _, v = line.strip().partition(" = ")
                if k == "payment_secret_key":
                    key = v
        data = urllib.parse.urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Authorization": "Bearer %s" % key}
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    return r.status, json.loads(payload) if payload else None


def ledger_mismatches():
    """The ledger invariant, per intent: what the provider holds (charges
    minus refunds) equals what we hold as paid (a paid order's amount less
    what was refunded of it, partial refunds included); an intent with
    money on it belongs to a paid order. Returns the mismatches."""
    _, ledger = provider("GET", "/_sandbox/ledger")
    net = {i["id"]: i["charged"] - i["refunded"] for i in ledger["intents"]}
    paid = {intent: int(amount) for intent, amount in sql(
        "SELECT intent_id, amount - order_refunded(id) FROM orders WHERE status = 'paid'")}
    bad = [(i, n, paid.get(i)) for i, n in net.items() if n != 0 and paid.get(i) != n]
    bad += [(i, net[i], a) for i, a in paid.items() if i in net and net[i] != a]
    return bad


def wait_for(predicate, timeout=20.0, step=0.1):
    """Calls predicate until it returns something true or timeout seconds
    pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


_STACK = r'''
set -eu
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/stack.sh"
case "$1" in
start) stack_start ;;
stop) stack_stop ;;
esac
'''


class EsStack:
    """A second instance of the stack (nginx + boxoffice-fcgi, workers of
    them) over the test database, with its search at es_url (extra_config:
    more lines of its configuration), and the documents loaded there by
    `boxoffice-indexer --full`. It has no indexer of its own: the main
    stack's follower keeps the outbox. client talks to it; stop() ends it,
    fails on a sanitizer report in its servers' logs (as scripts/test does
    for the main stack) and otherwise removes state_dir. Whatever fails
    while it starts is stopped before the error is raised (unittest does
    not call tearDownClass when setUpClass fails)."""

    def __init__(self, state_dir, es_url, workers, extra_config=""):
        # Below the kernel's ephemeral ports (32768 and up), which any
        # outgoing connection may hold, and apart from the main stack's.
        port = 21000 + os.getpid() % 8000
        self.state = state_dir
        self.env = dict(os.environ, ROOT=ROOT, STATE=state_dir, PORT=str(port),
                        SANDBOX_PORT=str(port + 1), BIN_DIR=BIN_DIR, LIMITS="open",
                        WORKERS=str(workers), DATABASE_URL=DATABASE_URL, NO_INDEXER="1",
                        EXTRA_CONFIG="es_url = %s\nlog_level = info\n%s" % (es_url, extra_config))
        self.env.pop("BOXOFFICE_CONFIG", None)
        try:
            subprocess.run(["sh", "-c", _STACK, "stack", "start"], env=self.env, check=True)
            r = subprocess.run([os.path.join(BIN_DIR, "boxoffice-indexer"), "-c",
                                os.path.join(state_dir, "boxoffice.conf"), "--full"],
                               env=self.env, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise AssertionError("boxoffice-indexer --full into %s failed:\n%s"
                                     % (es_url, r.stderr[-3000:]))
        except BaseException:
            self.stop()
            raise
        self.client = Client(base="http://127.0.0.1:%d" % port)

    def stop(self):
        # Leaks are reported when the servers exit: read the logs after.
        subprocess.run(["sh", "-c", _STACK, "stack", "stop"], env=self.env)
        reports = sanitizer_reports(glob.glob(os.path.join(self.state, "log", "*.log")))
        if reports:
            raise AssertionError("sanitizer reports in the second stack's logs (kept in %s):\n%s"
                                 % (self.state, "\n".join(reports)))
        shutil.rmtree(self.state, ignore_errors=True)


_SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")


def sanitizer_reports(paths):
    """The sanitizer reports (ASan, LSan, UBSan) in the server logs at
    paths, each as its file's name and the report's start; [] when none.
    scripts/test checks the main stack's logs; a test that starts servers
    of its own checks theirs with this."""
    reports = []
    for path in paths:
        with open(path, errors="replace") as f:
            text = f.read()
        found = _SANITIZER_REPORT.search(text)
        if found:
            reports.append("%s:\n%s" % (path, text[found.start():found.start() + 3000]))
    return reports
