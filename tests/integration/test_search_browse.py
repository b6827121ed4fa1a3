"""test_search_browse.py: browsing without text on the PostgreSQL backend,
against real PostgreSQL: search_browse_counts stays equal to a recount of
search_documents whatever is put, replaced, deleted or cleared, and every
browse answered from the counts (totals, facets, pages) equals the answer
counted from the documents themselves, also for events that started after
the counts were taken. Uses a database of its own (a copy of the migrated
test database). Needs BOXOFFICE_TEST_DATABASE_URL."""

import itertools
import json
import unittest

from pgtest import ScratchDatabaseTest

# "Navi Mumbai" makes the place key of Mumbai (and Bombay) name two cities,
# which browse through the date-ordered index; Delhi, Pune and Madras name
# one city each, which browse through that city's own index.
CITIES = ["Mumbai", "Chennai", "New Delhi", "Pune", "Navi Mumbai"]
CATEGORIES = ["concert", "comedy", "sports"]
# hours from now: upcoming, started after the counts' time (2 h ago), past
STARTS = [24, 24 * 30, 3, -1, -1.5, -3, -48]


def event(i, city, category, hours):
    return {"type": "event", "id": str(i), "title": "Browse Event %d" % i,
            "performer": "Band %d" % i, "category": category, "venue": "Hall %s" % city,
            "city": city, "starts_at": {"hours": hours}, "seats_available": 10}


def train(number, stops):
    return {"type": "train", "id": number, "number": number, "name": "Test Mail %s" % number,
            "run_days": ["mon"], "classes": ["SL"],
            "stops": [{"code": c, "name": n, "index": i} for i, (c, n) in enumerate(stops)],
            "station_codes": [c for c, _ in stops]}


# (city, category, types) of the browses compared; pages as (per_page, offset)
CASES = list(itertools.product([None, "Bombay", "Mumbai", "Delhi", "Madras", "Pune", "Bangalore",
                                "Nowhere"],
                               [None, "concert"], [None, "{event}", "{train}"]))
PAGES = [(20, 0), (2, 3), (5, 25), (100, 0)]


class BrowseCountsTest(ScratchDatabaseTest):
    SCRATCH_PREFIX = "search_browse"

    @classmethod
    def prepare(cls):
        cls.cur.execute("DELETE FROM search_documents")
        # Counts taken two hours ago: events that started since then are
        # in them and must be subtracted by every browse.
        cls.cur.execute("SELECT search_browse_rebuild(false, now() - interval '2 hours')")

    def put(self, docs):
        for d in docs:
            if isinstance(d.get("starts_at"), dict):
                self.cur.execute("SELECT to_char((now() + %s * interval '1 hour') AT TIME ZONE "
                                 "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                                 (d["starts_at"]["hours"],))
                d["starts_at"] = self.cur.fetchone()[0]
        self.cur.execute("SELECT search_documents_put(%s::jsonb)", (json.dumps(docs),))

    def browse(self, city, category, types, per_page, offset):
        self.cur.execute("SELECT search_json(NULL, %s::text[], %s, %s, NULL, NULL, false, %s, %s)"
                         "::text", (types, city, category, per_page, offset))
        return json.loads(self.cur.fetchone()[0])

    def check(self):
        # the counts equal a recount
        self.cur.execute("""
            WITH recount AS (
                SELECT d.doc_type, k AS city_key, coalesce(d.city, '') AS city,
                       coalesce(d.category, '') AS category, count(*) AS n
                FROM search_documents d, unnest(array_append(d.city_keys, '')) AS k
                WHERE d.doc_type = 'train' OR d.starts_at >= search_browse_since()
                GROUP BY 1, 2, 3, 4),
            counted AS (SELECT doc_type, city_key, city, category, n
                        FROM search_browse_counts WHERE n <> 0)
            SELECT (SELECT count(*) FROM (SELECT * FROM recount EXCEPT SELECT * FROM counted) a),
                   (SELECT count(*) FROM (SELECT * FROM counted EXCEPT SELECT * FROM recount) b),
                   (SELECT count(*) FROM recount)""")
        missing, extra, rows = self.cur.fetchone()
        self.assertEqual((missing, extra), (0, 0))
        self.assertGreater(rows, 0)
        # browses from the counts equal browses counted from the documents
        # (a browse_since in the future makes search_browse_json count them)
        for case, page in itertools.product(CASES, PAGES):
            with self.subTest(case=case, page=page):
                fast = self.browse(*case, *page)
                self.cur.execute("BEGIN")
                self.cur.execute("UPDATE search_state SET value = 4102444800 "
                                 "WHERE name = 'browse_since'")
                slow = self.browse(*case, *page)
                self.cur.execute("ROLLBACK")
                self.assertEqual(fast, slow)

    def test_counts_follow_every_change(self):
        docs = [event(i, city, category, hours) for i, (city, category, hours) in enumerate(
            itertools.product(CITIES, CATEGORIES, STARTS), start=1)]
        self.put(docs + [train("90001", [("BCT", "Mumbai Central"), ("NDLS", "New Delhi")]),
                         train("90002", [("MAS", "Chennai Central"), ("SBC", "Bengaluru")])])
        self.check()
        # a browse with no filter answers every upcoming event and train
        upcoming = sum(1 for d in docs if d["starts_at"] >= self.now())
        self.assertEqual(self.browse(None, None, None, 20, 0)["total"], upcoming + 2)

        # replaced: city, category and time change; some move into the past
        changed = [event(i, "Pune", "sports", -1.2 if i % 2 else 48) for i in range(1, 40, 3)]
        self.put(changed + [train("90002", [("PUNE", "Pune Junction")])])
        self.check()

        self.cur.execute("SELECT search_documents_delete('event', %s)",
                         ([str(i) for i in range(2, 60, 4)],))
        self.cur.execute("SELECT search_documents_delete('train', ARRAY['90001'])")
        self.check()

        # a full reindex: cleared and loaded again in one transaction
        self.cur.execute("BEGIN")
        self.cur.execute("SELECT search_documents_clear()")
        self.put(docs[:30])
        self.cur.execute("COMMIT")
        self.check()

        # counted again from now: the started events leave the counts
        self.cur.execute("SELECT search_browse_rebuild()")
        self.check()

    def now(self):
        self.cur.execute("SELECT to_char(now() AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
        return self.cur.fetchone()[0]


if __name__ == "__main__":
    unittest.main(verbosity=2)
