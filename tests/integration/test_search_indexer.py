"""test_search_indexer.py: boxoffice-indexer against tests/es/fake_es.py
(which checks every request against ElasticSearch's documented REST API and
injects faults) and a real PostgreSQL database of its own: the full reindex
swaps the alias only after a complete load, retries what should be retried,
reports what cannot be indexed and says so in its exit status; the
incremental run drains the outbox and keeps it when ElasticSearch is away.

Needs BOXOFFICE_TEST_DATABASE_URL (scripts/test sets it) and the build
directory (BOXOFFICE_TEST_BUILD, default build-test)."""

import json
import os
import subprocess
import sys
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "es"))
from fake_es_process import FakeEsProcess  # noqa: E402 (tests/es is put on the path first)

BUILD = os.environ.get("BOXOFFICE_TEST_BUILD", os.path.join(ROOT, "build-test"))
INDEXER = os.path.join(BUILD, "boxoffice-indexer")
BASE_URL = os.environ.get("BOXOFFICE_TEST_DATABASE_URL", "")
EVENTS = 25


def psql(url, sql, *args):
    cmd = ["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    for i, a in enumerate(args, 1):
        cmd += ["-v", "v%d=%s" % (i, a)]
    return subprocess.run(cmd, input=sql, capture_output=True, text=True, check=True).stdout.strip()


class FakeEs(FakeEsProcess):
    """The fake, and its control calls."""

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


class IndexerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BASE_URL:
            raise unittest.SkipTest("BOXOFFICE_TEST_DATABASE_URL is not set")
        if not os.access(INDEXER, os.X_OK):
            raise unittest.SkipTest("%s is not built" % INDEXER)
        # A database of our own (a copy of the migrated test database,
        # emptied), so these events do not show up elsewhere.
        cls.dbname = "search_it_%d" % os.getpid()
        psql(BASE_URL.replace("dbname=boxoffice", "dbname=postgres"),
             "CREATE DATABASE %s TEMPLATE boxoffice" % cls.dbname)
        cls.url = BASE_URL.replace("dbname=boxoffice", "dbname=" + cls.dbname)
        try:
            cls.setup_data()
        except BaseException:
            cls.drop()
            raise

    @classmethod
    def setup_data(cls):
        psql(cls.url, "TRUNCATE venues, events, search_outbox, search_documents CASCADE")
        venue = psql(cls.url, """SELECT venue_create('{"name":"Hall","city":"Mumbai",
            "sections":[{"name":"S","category":"A","x":0,"y":0,"rows":1,"seats_per_row":4}]}')""")
        for i in range(EVENTS):
            psql(cls.url, """SELECT event_create(jsonb_build_object('venue_id', :'v1'::bigint,
                'title', 'Indexer Event ' || :'v2', 'performer', 'Band ' || :'v2',
                'category', 'concert', 'starts_at', '2030-01-01T20:00:00Z',
                'prices', '[{"category":"A","amount":1000}]'::jsonb))""", venue, str(i))
        cls.ids = psql(cls.url, "SELECT string_agg(id::text, ',' ORDER BY id) FROM events").split(",")
        cls.es = FakeEs()
        cls.conf = os.path.join(cls.es.dir, "indexer.conf")  # removed with the fake
        with open(cls.conf, "w") as f:
            f.write("database_url = %s\nes_url = %s\n" % (cls.url, cls.es.url))

    @classmethod
    def drop(cls):
        psql(BASE_URL.replace("dbname=boxoffice", "dbname=postgres"),
             "DROP DATABASE IF EXISTS %s" % cls.dbname)

    @classmethod
    def tearDownClass(cls):
        cls.es.stop()
        cls.drop()

    def run_indexer(self, *args):
        env = dict(os.environ)
        env.pop("ES_URL", None)
        r = subprocess.run([INDEXER, "-c", self.conf] + list(args), capture_output=True,
                           text=True, env=env, timeout=120)
        return r.returncode, r.stderr

    def state(self):
        return self.es.call("GET", "/_fake/state")

    def faults(self, *faults):
        self.es.call("POST", "/_fake/faults", list(faults))

    def assert_no_violations(self):
        v = self.es.call("GET", "/_fake/violations")["violations"]
        self.assertEqual(v, [])

    def live_index(self, alias="boxoffice-events"):
        names = self.state()["aliases"].get(alias, [])
        self.assertEqual(len(names), 1, self.state())
        return names[0]

    def test_1_full_load_swaps_the_alias_after_a_complete_load(self):
        self.es.call("POST", "/_fake/reset")
        code, log = self.run_indexer("--full")
        self.assertEqual(code, 0, log)
        st = self.state()
        index = self.live_index()
        self.assertTrue(index.startswith("boxoffice-events-v"))
        self.assertEqual(st["indices"][index]["docs"], EVENTS)
        self.assertEqual(st["indices"][index]["visible_docs"], EVENTS)
        self.assertEqual(st["indices"][index]["refresh_interval"], "1s")
        # At the swap every document was there and searchable.
        swap = [h for h in st["alias_history"] if "boxoffice-events" in h["aliases"]][-1]
        self.assertEqual(swap["aliases"]["boxoffice-events"][index],
                         {"docs": EVENTS, "visible_docs": EVENTS})
        self.assertIn("boxoffice-trains", st["aliases"])
        requests = self.es.call("GET", "/_fake/requests")["requests"]
        settings = [r["path"] for r in requests if r["path"].endswith("/_settings")]
        self.assertTrue(settings, "refresh was not switched off for the load")
        self.assert_no_violations()
        # The PostgreSQL backend got the same documents.
        self.assertEqual(psql(self.url, "SELECT count(*) FROM search_documents"), str(EVENTS))

    def test_2_second_full_load_replaces_and_deletes_the_old_index(self):
        old = self.live_index()
        code, log = self.run_indexer("--full")
        self.assertEqual(code, 0, log)
        new = self.live_index()
        self.assertNotEqual(old, new)
        self.assertNotIn(old, self.state()["indices"])
        self.assert_no_violations()

    def test_3_retries_429_items_and_busy_requests(self):
        self.faults({"endpoint": "bulk", "status": 429}, {"endpoint": "bulk", "status": 503},
                    {"endpoint": "bulk", "items": {self.ids[2]: 429, self.ids[7]: 429}})
        code, log = self.run_indexer("--full")
        self.assertEqual(code, 0, log)
        index = self.live_index()
        self.assertEqual(self.state()["indices"][index]["docs"], EVENTS)
        self.assertEqual(self.state()["pending_faults"], [])
        self.assert_no_violations()

    def test_4_failed_documents_are_reported_and_the_alias_stays(self):
        before = self.live_index()
        self.faults({"endpoint": "bulk", "items": {self.ids[4]: 400}})
        code, log = self.run_indexer("--full")
        self.assertEqual(code, 1, log)
        self.assertIn("document %s not indexed" % self.ids[4], log)
        self.assertEqual(self.live_index(), before)
        # The half-built index is gone; only the live ones remain.
        names = [n for n in self.state()["indices"] if n.startswith("boxoffice-events")]
        self.assertEqual(names, [before])
        self.assert_no_violations()

    def test_5_incremental_pushes_changes_from_the_outbox(self):
        psql(self.url, "DELETE FROM search_outbox")
        psql(self.url, "UPDATE events SET title = 'Renamed Gig' WHERE id = :'v1'", self.ids[0])
        self.assertEqual(psql(self.url, "SELECT count(*) FROM search_outbox"), "1")
        code, log = self.run_indexer("--incremental")
        self.assertEqual(code, 0, log)
        self.assertEqual(psql(self.url, "SELECT count(*) FROM search_outbox"), "0")
        answer = self.es.call("POST", "/boxoffice-events/_search",
                              {"query": {"term": {"id": self.ids[0]}}})
        self.assertEqual(answer["hits"]["hits"][0]["_source"]["title"], "Renamed Gig")
        self.assertEqual(psql(self.url, "SELECT doc->>'title' FROM search_documents "
                                        "WHERE doc_id = :'v1'", self.ids[0]), "Renamed Gig")
        self.assert_no_violations()

    def test_6_outbox_rows_stay_while_es_is_away(self):
        psql(self.url, "UPDATE events SET title = 'Second Rename' WHERE id = :'v1'", self.ids[1])
        self.faults(*[{"endpoint": "bulk", "status": 503} for _ in range(5)])
        code, log = self.run_indexer("--incremental")
        self.assertEqual(code, 3, log)
        self.assertEqual(psql(self.url, "SELECT count(*) FROM search_outbox"), "1")
        code, log = self.run_indexer("--incremental")
        self.assertEqual(code, 0, log)
        self.assertEqual(psql(self.url, "SELECT count(*) FROM search_outbox"), "0")
        answer = self.es.call("POST", "/boxoffice-events/_search",
                              {"query": {"term": {"id": self.ids[1]}}})
        self.assertEqual(answer["hits"]["hits"][0]["_source"]["title"], "Second Rename")

    def test_8_train_documents(self):
        if psql(self.url, "SELECT to_regclass('public.train_stops') IS NOT NULL") != "t":
            self.skipTest("the trains tables (030_trains) do not exist yet")
        psql(self.url, "DELETE FROM search_outbox")
        psql(self.url, """
            INSERT INTO stations (code, name, state) VALUES
                ('ZMMCT', 'Mumbai Central', 'Maharashtra'), ('ZNDLS', 'New Delhi', 'Delhi');
            INSERT INTO trains (number, name, run_days, classes, duration_min, distance_km,
                                departure_min, stations)
            VALUES ('Z9951', 'Zephyr Rajdhani', '{mon,wed}', '{1A,3A}', 960, 1384, 1020,
                    '{ZMMCT,ZNDLS}');
            INSERT INTO train_stops (train_number, stop_index, station_code, arrival_min,
                                     departure_min, day_offset, distance_km, arrive_abs_min,
                                     depart_abs_min)
            VALUES ('Z9951', 0, 'ZMMCT', NULL, 1020, 0, 0, 1020, 1020),
                   ('Z9951', 1, 'ZNDLS', 540, NULL, 1, 1384, 1980, 1980);""")
        code, log = self.run_indexer("--incremental")
        self.assertEqual(code, 0, log)
        doc = json.loads(psql(self.url, "SELECT doc FROM search_documents "
                                        "WHERE doc_type = 'train' AND doc_id = 'Z9951'"))
        self.assertEqual(doc, {
            "id": "Z9951", "type": "train", "number": "Z9951", "name": "Zephyr Rajdhani",
            "stops": [{"code": "ZMMCT", "name": "Mumbai Central", "index": 0},
                      {"code": "ZNDLS", "name": "New Delhi", "index": 1}],
            "station_codes": ["ZMMCT", "ZNDLS"], "run_days": ["mon", "wed"],
            "classes": ["1A", "3A"]})
        answer = self.es.call("POST", "/boxoffice-trains/_search",
                              {"query": {"term": {"id": "Z9951"}}})
        self.assertEqual(answer["hits"]["hits"][0]["_source"], doc)
        # The PostgreSQL backend finds it by name, number and a stop's city
        # under its old name.
        for args in (("zephyr", None), ("Z9951", None), (None, "Bombay"), (None, "delhi")):
            found = json.loads(psql(self.url, """SELECT search_json(:'v1', '{train}', :'v2',
                NULL, NULL, NULL, false, 10, 0)""", args[0] or "", args[1] or ""))
            self.assertEqual([h["id"] for h in found["hits"]], ["Z9951"], args)
        hit = found["hits"][0]
        self.assertEqual(hit["from"], {"code": "ZMMCT", "name": "Mumbai Central"})
        self.assertEqual(hit["title"], "Zephyr Rajdhani")
        self.assert_no_violations()

    def test_9_canceled_events_are_removed(self):
        gone = self.ids[-1]
        psql(self.url, "DELETE FROM search_outbox")
        psql(self.url, "UPDATE events SET status = 'canceled' WHERE id = :'v1'", gone)
        code, log = self.run_indexer("--incremental")
        self.assertEqual(code, 0, log)
        answer = self.es.call("POST", "/boxoffice-events/_search",
                              {"query": {"term": {"id": gone}}})
        self.assertEqual(answer["hits"]["hits"], [])
        self.assertEqual(psql(self.url, "SELECT count(*) FROM search_documents "
                                        "WHERE doc_id = :'v1'", gone), "0")
        self.assert_no_violations()

    def test_9z_two_incremental_runs_at_once(self):
        psql(self.url, "DELETE FROM search_outbox")
        for i in range(40):
            psql(self.url, "UPDATE events SET updated_at = now() WHERE status = 'scheduled'")
        self.assertGreater(int(psql(self.url, "SELECT count(*) FROM search_outbox")), 900)
        env = dict(os.environ)
        env.pop("ES_URL", None)
        procs = [subprocess.Popen([INDEXER, "-c", self.conf, "--incremental"], env=env,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
        self.assertEqual(psql(self.url, "SELECT count(*) FROM search_outbox"), "0")
        index = self.live_index()
        self.assertEqual(self.state()["indices"][index]["docs"], EVENTS - 1)
        self.assert_no_violations()

    def test_9zz_full_load_stores_a_performers_events_together(self):
        # More events than one batch of the indexer, their performers
        # interleaved by id: the full load reads them in performer order
        # (one cursor over several fetches), so the PostgreSQL backend
        # stores each performer's documents next to each other, and none is
        # lost or doubled at a batch boundary.
        psql(self.url, """SELECT event_create(jsonb_build_object(
                'venue_id', (SELECT min(id) FROM venues), 'title', 'Tour ' || g,
                'performer', 'Interleaved ' || (g % 3), 'category', 'concert',
                'starts_at', '2030-02-01T20:00:00Z',
                'prices', '[{"category":"A","amount":1000}]'::jsonb))
            FROM generate_series(1, 1100) g""")
        code, log = self.run_indexer("--full")
        self.assertEqual(code, 0, log)
        self.assertEqual(psql(self.url, """SELECT count(*) FROM events e
            WHERE status = 'scheduled' AND NOT EXISTS (SELECT 1 FROM search_documents d
                WHERE d.doc_type = 'event' AND d.doc_id = e.id::text)"""), "0")
        self.assertEqual(psql(self.url, "SELECT count(*) FROM search_documents "
                                        "WHERE doc_type = 'event'"), str(EVENTS - 1 + 1100))
        # Each heap page holds one performer's documents, but for the pages
        # where one performer's run ends and the next begins (a few more
        # where the free space map hands out room left by earlier tests).
        # Loaded in id order, nearly every page would hold all three.
        pages, shared = psql(self.url, """SELECT count(*), count(*) FILTER (WHERE n > 1) FROM (
                SELECT (ctid::text::point)[0] AS page, count(DISTINCT doc->>'performer') AS n
                FROM search_documents WHERE doc->>'performer' LIKE 'Interleaved %'
                GROUP BY 1) x""").split("|")
        self.assertGreater(int(pages), 30)
        self.assertLess(int(shared), 8, "%s of %s pages hold two performers" % (shared, pages))

    def test_7_usage_errors(self):
        code, _ = self.run_indexer()
        self.assertEqual(code, 2)
        code, _ = self.run_indexer("--full", "--follow")
        self.assertEqual(code, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
