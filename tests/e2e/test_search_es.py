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
import tempfile
import unittest
import urllib.parse

import boxoffice as bo
import test_search as ts

ES_URL = os.environ.get("ES_URL", "")


@unittest.skipUnless(ES_URL, "ES_URL is not set: the relevance table was not run against "
                             "ElasticSearch (set ES_URL=http://host:9200 to run it)")
class ElasticSearchRelevanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ts.ensure_fixtures(bo.admin())
        cls.stack = bo.EsStack(tempfile.mkdtemp(prefix="boxoffice-es-stack."), ES_URL, 2)
        cls.client = cls.stack.client
        ts.wait_for(lambda: ts.search(cls.client, q="zarqon tribute").status == 200, 5)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

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
