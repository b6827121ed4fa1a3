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
import sys
import tempfile
import unittest
import urllib.parse
import urllib.request

import boxoffice as bo
import test_search as ts

sys.path.insert(0, os.path.join(bo.ROOT, "tests", "es"))
from fake_es_process import FakeEsProcess  # noqa: E402 (tests/es is put on the path first)


def fake_get(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return json.loads(r.read())


class FakeElasticSearchBackendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ts.ensure_fixtures(bo.admin())
        cls.fake = FakeEsProcess()
        cls.fake_url = cls.fake.url
        try:
            # One worker, the answer cache off: every request reaches the fake.
            cls.stack = bo.EsStack(tempfile.mkdtemp(prefix="boxoffice-fake-es-stack."),
                                   cls.fake_url, 1, "search_cache_ms = 0")
        except BaseException:
            cls.fake.stop()
            raise
        cls.client = cls.stack.client

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stack.stop()
        finally:
            cls.fake.stop()

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
