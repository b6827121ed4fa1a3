"""test_search_es.py: the relevance table of test_search.py against a real
ElasticSearch (or OpenSearch 2) cluster, when ES_URL is set in the
environment; skipped with a message otherwise.

It starts a second instance of the stack (nginx + boxoffice-fcgi with
es_url set, sharing the test database; no indexer of its own, so the main
stack's follower keeps the outbox), loads the cluster with
`boxoffice-indexer --full`, and asks the same questions through nginx.
Needs the environment scripts/test gives e2e tests (BOXOFFICE_ROOT,
BOXOFFICE_BIN_DIR, BOXOFFICE_TEST_DATABASE_URL)."""

import os
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import boxoffice as bo
import test_search as ts

ES_URL = os.environ.get("ES_URL", "")
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


@unittest.skipUnless(ES_URL, "ES_URL is not set: the relevance table was not run against "
                             "ElasticSearch (set ES_URL=http://host:9200 to run it)")
class ElasticSearchRelevanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ts.ensure_fixtures(bo.admin())
        cls.state = tempfile.mkdtemp(prefix="boxoffice-es-stack.")
        # Below the kernel's ephemeral ports (32768 and up), which any
        # outgoing connection may hold, and apart from the main stack's.
        port = 21000 + os.getpid() % 8000
        cls.env = dict(os.environ, ROOT=ROOT, STATE=cls.state, PORT=str(port),
                       SANDBOX_PORT=str(port + 1), BIN_DIR=BIN_DIR, LIMITS="open", WORKERS="2",
                       DATABASE_URL=bo.DATABASE_URL, NO_INDEXER="1",
                       EXTRA_CONFIG="es_url = %s\nlog_level = info" % ES_URL)
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
                            os.path.join(cls.state, "boxoffice.conf"), "--full"],
                           env=cls.env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("boxoffice-indexer --full into %s failed:\n%s"
                                 % (ES_URL, r.stderr[-3000:]))
        ts.wait_for(lambda: ts.search(cls.client, q="zarqon tribute").status == 200, 5)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["sh", "-c", STACK, "stack", "stop"], env=cls.env)

    def test_relevance_table(self):
        for name, params, expect in ts.RELEVANCE:
            with self.subTest(name):
                r = ts.search(self.client, **params)
                self.assertEqual(r.status, 200, r)
                ts.check_case(self, r.json, expect)

    def test_suggestions(self):
        for name, prefix, expected in ts.SUGGESTIONS:
            with self.subTest(name):
                r = self.client.get("/api/search/suggest?" + urllib.parse.urlencode({"q": prefix}))
                self.assertEqual(r.status, 200, r)
                texts = [s["text"] for s in r.json["suggestions"]]
                for title in expected:
                    self.assertIn(title, texts)

    def test_same_shape_as_postgresql(self):
        pg = ts.search(bo.Client(), q="Zarqon Symphony Night").json
        es = ts.search(self.client, q="Zarqon Symphony Night").json
        self.assertEqual(set(pg), set(es))
        pg_hit = pg["hits"][0]
        es_hits = [h for h in es["hits"] if h["id"] == pg_hit["id"]]
        self.assertEqual(len(es_hits), 1, es)
        self.assertEqual({k: v for k, v in pg_hit.items() if k != "score"},
                         {k: v for k, v in es_hits[0].items() if k != "score"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
