"""test_search_es_fake.py: boxoffice-fcgi's ElasticSearch backend over real
HTTP against tests/es/fake_es.py: every search and suggestion of a worker
goes over one kept-alive connection (the worker opens its ElasticSearch
client once, not per request), and every request it sends is one the fake
accepts as ElasticSearch's documented API.

It starts the fake and a second instance of the stack (one FastCGI worker,
es_url pointing at the fake, the answer cache off so that every request
reaches ElasticSearch) sharing the test database, and loads the fake with
`boxoffice-indexer --full`. Needs the environment scripts/test gives e2e
tests (BOXOFFICE_ROOT, BOXOFFICE_BIN_DIR, BOXOFFICE_TEST_DATABASE_URL)."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import boxoffice as bo
import test_search as ts

ROOT = os.environ.get("BOXOFFICE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN_DIR = os.environ.get("BOXOFFICE_BIN_DIR", os.path.join(ROOT, "build-test"))

STACK = r'''
set -eu
. "$ROOT/scripts/common.sh"
. "$ROOT/scripts/stack.sh"
case "$1" in
start) stack_start ;;
stop) stack_stop ;;
esac
'''


def fake_get(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return json.loads(r.read())


class FakeElasticSearchBackendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ts.ensure_fixtures(bo.admin())
        cls.dir = tempfile.mkdtemp(prefix="boxoffice-fake-es.")
        port_file = os.path.join(cls.dir, "port")
        cls.fake = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "es", "fake_es.py"), "--port", "0",
             "--port-file", port_file], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        fake_port = ""
        for _ in range(100):
            if os.path.exists(port_file):
                with open(port_file) as f:
                    fake_port = f.read().strip()
                if fake_port:
                    break
            time.sleep(0.1)
        cls.fake_url = "http://127.0.0.1:%s" % fake_port
        # Below the kernel's ephemeral ports (32768 and up), which any
        # outgoing connection may hold, and apart from the main stack's.
        port = 21000 + os.getpid() % 8000
        cls.env = dict(os.environ, ROOT=ROOT, STATE=os.path.join(cls.dir, "stack"),
                       PORT=str(port), SANDBOX_PORT=str(port + 1), BIN_DIR=BIN_DIR,
                       LIMITS="open", WORKERS="1", DATABASE_URL=bo.DATABASE_URL, NO_INDEXER="1",
                       EXTRA_CONFIG="es_url = %s\nsearch_cache_ms = 0\nlog_level = info"
                                    % cls.fake_url)
        cls.env.pop("BOXOFFICE_CONFIG", None)
        try:
            subprocess.run(["sh", "-c", STACK, "stack", "start"], env=cls.env, check=True)
        except subprocess.CalledProcessError:
            # unittest skips tearDownClass when setUpClass fails: stop what
            # did start, or it outlives the suite.
            cls.tearDownClass()
            raise
        cls.client = bo.Client(base="http://127.0.0.1:%d" % port)
        r = subprocess.run([os.path.join(BIN_DIR, "boxoffice-indexer"), "-c",
                            os.path.join(cls.env["STATE"], "boxoffice.conf"), "--full"],
                           env=cls.env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("boxoffice-indexer --full into the fake failed:\n%s"
                                 % r.stderr[-3000:])

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["sh", "-c", STACK, "stack", "stop"], env=cls.env)
        cls.fake.terminate()
        cls.fake.wait()

    def test_one_connection_for_every_search_of_a_worker(self):
        seen = len(fake_get(self.fake_url, "/_fake/requests")["requests"])
        for q in ("zarqon", "kalinda", "zarqon", "velvet strings", "neon"):
            r = ts.search(self.client, q=q)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(set(r.json), {"total", "hits", "facets"})
        for prefix in ("zar", "neo"):
            r = self.client.get("/api/search/suggest?" + urllib.parse.urlencode({"q": prefix}))
            self.assertEqual(r.status, 200, r)
        sent = [x for x in fake_get(self.fake_url, "/_fake/requests")["requests"][seen:]
                if "/_search" in x["path"]]
        self.assertEqual(len(sent), 7, sent)  # no answer cached: each one reached ES
        self.assertEqual(len({x["connection"] for x in sent}), 1, sent)
        self.assertEqual(fake_get(self.fake_url, "/_fake/violations")["violations"], [])

    def test_bad_input_never_reaches_elasticsearch(self):
        seen = len(fake_get(self.fake_url, "/_fake/requests")["requests"])
        r = ts.search(self.client, per_page="101")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error_code, "invalid_per_page")
        sent = fake_get(self.fake_url, "/_fake/requests")["requests"][seen:]
        self.assertEqual([x for x in sent if not x["path"].startswith("/_fake/")], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
