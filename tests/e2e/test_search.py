"""test_search.py: GET /api/search and /api/search/suggest through nginx on
the PostgreSQL backend (the stack's default), with boxoffice-indexer
--follow running as scripts/test starts it.

The relevance table (RELEVANCE, SUGGESTIONS) is shared with
test_search_es.py, which runs it against a real ElasticSearch when ES_URL
is set. Fixture events carry made-up words so that demo data and other
tests' events cannot compete for the top hits."""

import time
import unittest
import urllib.parse

import boxoffice as bo

# title, performer, category, city, starts_at
FIXTURES = [
    ("Zarqon Symphony Night", "Orchestra Veluria", "concert", "Mumbai", "2030-03-10T19:30:00Z"),
    ("Kalinda Comedy Hour", "Ravi Thakkar", "comedy", "Chennai", "2030-04-15T20:00:00Z"),
    ("Neon Pulse Festival", "DJ Quasaro", "festival", "Bengaluru", "2030-05-20T18:00:00Z"),
    ("Velvet Strings", "Beyoncé Marlowe", "concert", "Kolkata", "2030-06-01T19:00:00Z"),
    ("Zarqon Tribute Band", "The Zarqonites", "concert", "Pune", "2030-07-01T21:00:00Z"),
]
PAST_FIXTURE = ("Zarqon Farewell Gig", "Orchestra Veluria", "concert", "Mumbai",
                "2021-01-10T19:30:00Z")

# (name, query parameters, expected top hit titles in order, or a check on
# every hit). "top" lists the titles the first hits must have.
RELEVANCE = [
    ("exact title", {"q": "Zarqon Symphony Night"}, {"top": ["Zarqon Symphony Night"]}),
    ("performer", {"q": "Ravi Thakkar"}, {"top": ["Kalinda Comedy Hour"]}),
    ("misspelled performer", {"q": "Quasarro"}, {"top": ["Neon Pulse Festival"]}),
    ("misspelled, unaccented performer", {"q": "Beyonse Marlowe"}, {"top": ["Velvet Strings"]}),
    ("accent folding", {"q": "beyonce"}, {"top": ["Velvet Strings"]}),
    ("city synonym Bombay", {"q": "zarqon", "city": "Bombay"},
     {"top": ["Zarqon Symphony Night"], "all_city": "Mumbai"}),
    ("city synonym Calcutta", {"q": "velvet", "city": "Calcutta"},
     {"top": ["Velvet Strings"], "all_city": "Kolkata"}),
    ("city synonym Madras, no text", {"city": "Madras", "q": "kalinda"},
     {"top": ["Kalinda Comedy Hour"], "all_city": "Chennai"}),
    ("city synonym in free text", {"q": "zarqon bombay"}, {"top": ["Zarqon Symphony Night"]}),
    ("category filter", {"q": "zarqon", "category": "concert"},
     {"set": ["Zarqon Symphony Night", "Zarqon Tribute Band"], "all_category": "concert"}),
    ("category filter excludes", {"q": "kalinda", "category": "concert"}, {"set": []}),
    ("date range", {"q": "zarqon", "from_date": "2030-07-01", "to_date": "2030-07-01"},
     {"set": ["Zarqon Tribute Band"]}),
    ("date range, inclusive end", {"q": "zarqon", "to_date": "2030-03-10"},
     {"set": ["Zarqon Symphony Night"]}),
    ("upcoming only by default", {"q": "zarqon"},
     {"set": ["Zarqon Symphony Night", "Zarqon Tribute Band"]}),
    ("past on request", {"q": "zarqon farewell", "include_past": "true"},
     {"top": ["Zarqon Farewell Gig"]}),
]

SUGGESTIONS = [
    ("three letters of a title", "zar", ["Zarqon Symphony Night", "Zarqon Tribute Band"]),
    ("three letters of a performer", "qua", ["Neon Pulse Festival"]),
    ("two words as typed", "neon pu", ["Neon Pulse Festival"]),
]


def search(client, **params):
    return client.get("/api/search?" + urllib.parse.urlencode(params))


def ensure_fixtures(admin):
    """Creates the fixture events once per database (idempotent)."""
    for title, performer, category, city, starts_at in FIXTURES + [PAST_FIXTURE]:
        if bo.sql_value("SELECT id FROM events WHERE title = :'v1'", title):
            continue
        r = admin.post("/api/admin/venues", {
            "name": "Hall of " + title, "city": city, "latitude": 19.0, "longitude": 72.8,
            "sections": [{"name": "Floor", "category": "A", "x": 0, "y": 0, "rows": 2,
                          "seats_per_row": 5}]})
        assert r.status == 201, r
        body = {"venue_id": r.json["id"], "title": title, "performer": performer,
                "category": category, "starts_at": starts_at,
                "prices": [{"category": "A", "amount": 150000}]}
        if starts_at < "2026":
            body["on_sale_at"] = "2020-12-01T00:00:00Z"
        r = admin.post("/api/admin/events", body)
        assert r.status == 201, r


def check_case(test, answer, expect):
    """Checks one relevance case's answer against its expectation."""
    titles = [h["title"] for h in answer["hits"]]
    if "top" in expect:
        test.assertEqual(titles[:len(expect["top"])], expect["top"], answer)
    if "set" in expect:
        test.assertEqual(sorted(titles), sorted(expect["set"]), answer)
    if "all_city" in expect:
        test.assertTrue(titles, answer)
        for h in answer["hits"]:
            test.assertEqual(h["city"], expect["all_city"])
    if "all_category" in expect:
        for h in answer["hits"]:
            test.assertEqual(h["category"], expect["all_category"])


def wait_for(fn, timeout):
    """Calls fn until it returns a true value or timeout seconds pass."""
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value or time.time() >= deadline:
            return value
        time.sleep(0.05)


def event_hit(client, q, event_id):
    """The hit of event event_id among the answers to q, or None. A query
    that matches no word of any document is answered by typo tolerance, so
    until the follower has indexed a new event its unique word may match
    other documents (events of other tests have similar digits): checking
    the total alone would be fooled by them."""
    for hit in search(client, q=q).json["hits"]:
        if hit["type"] == "event" and hit["id"] == str(event_id):
            return hit
    return None


class SearchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = bo.admin()
        ensure_fixtures(cls.admin)
        cls.client = bo.Client()
        # The follower indexes the fixtures within a poll period.
        found = wait_for(lambda: search(cls.client, q="zarqon tribute").json["total"] > 0, 10)
        assert found, "fixtures were not indexed"
        wait_for(lambda: search(cls.client, q="kalinda").json["total"] > 0, 10)

    def test_relevance_table(self):
        for name, params, expect in RELEVANCE:
            with self.subTest(name):
                r = search(self.client, **params)
                self.assertEqual(r.status, 200, r)
                check_case(self, r.json, expect)

    def test_suggestions(self):
        for name, prefix, expected in SUGGESTIONS:
            with self.subTest(name):
                r = self.client.get("/api/search/suggest?" + urllib.parse.urlencode({"q": prefix}))
                self.assertEqual(r.status, 200, r)
                texts = [s["text"] for s in r.json["suggestions"]]
                for title in expected:
                    self.assertIn(title, texts)
                for s in r.json["suggestions"]:
                    self.assertEqual(set(s), {"type", "id", "text"})

    def test_answer_shape(self):
        r = search(self.client, q="Zarqon Symphony Night")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"total", "hits", "facets"})
        hit = r.json["hits"][0]
        for field in ("type", "id", "title", "performer", "category", "venue", "city",
                      "starts_at", "location", "price_min", "price_max", "currency",
                      "seats_available", "score"):
            self.assertIn(field, hit)
        self.assertEqual(hit["type"], "event")
        self.assertEqual(hit["price_min"], 150000)
        self.assertEqual(hit["seats_available"], 10)
        self.assertEqual(set(r.json["facets"]), {"city", "category"})

    def test_facets_count_the_whole_match(self):
        r = search(self.client, q="zarqon", per_page=1)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["total"], 2)
        self.assertEqual(len(r.json["hits"]), 1)
        cities = {f["value"]: f["count"] for f in r.json["facets"]["city"]}
        self.assertEqual(cities, {"Mumbai": 1, "Pune": 1})
        categories = {f["value"]: f["count"] for f in r.json["facets"]["category"]}
        self.assertEqual(categories, {"concert": 2})

    def test_pagination(self):
        pages = [search(self.client, q="zarqon", per_page=1, page=p) for p in (1, 2, 3)]
        for r in pages:
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["total"], 2)
        ids = [h["id"] for r in pages[:2] for h in r.json["hits"]]
        self.assertEqual(len(set(ids)), 2)
        self.assertEqual(pages[2].json["hits"], [])

    def test_no_text_lists_upcoming_soonest_first(self):
        r = search(self.client, per_page=100)
        self.assertEqual(r.status, 200, r)
        starts = [h["starts_at"] for h in r.json["hits"] if h["type"] == "event"]
        self.assertEqual(starts, sorted(starts))
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.assertTrue(all(s >= now for s in starts))

    def test_bad_input(self):
        cases = [
            ({"from_date": "2030-13-01"}, "invalid_from_date"),
            ({"to_date": "tomorrow"}, "invalid_to_date"),
            ({"from_date": "2030-02-01", "to_date": "2030-01-01"}, "invalid_date_range"),
            ({"per_page": "0"}, "invalid_per_page"),
            ({"per_page": "101"}, "invalid_per_page"),
            ({"page": "abc"}, "invalid_page"),
            ({"page": "0"}, "invalid_page"),
            ({"page": "200", "per_page": "100"}, "invalid_page"),
            ({"type": "bus"}, "invalid_type"),
            ({"q": "x" * 300}, "invalid_q"),
            ({"q": "a\x01b"}, "invalid_q"),
            ({"include_past": "maybe"}, "invalid_include_past"),
        ]
        for params, code in cases:
            with self.subTest(params=params):
                r = search(self.client, **params)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.error_code, code)
        for query, code in (("", "invalid_q"), ("q=", "invalid_q"), ("q=abc&size=0", "invalid_size"),
                            ("q=abc&size=21", "invalid_size")):
            with self.subTest(suggest=query):
                r = self.client.get("/api/search/suggest?" + query)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.error_code, code)

    def test_odd_text_is_not_an_error(self):
        for q in ("!!!", "'", "a & b | c", "(", "ü", "ज़", "%", "\\"):
            with self.subTest(q=q):
                self.assertEqual(search(self.client, q=q).status, 200)
                r = self.client.get("/api/search/suggest?" + urllib.parse.urlencode({"q": q}))
                self.assertEqual(r.status, 200, r)

    def test_type_filter(self):
        r = search(self.client, q="zarqon", type="train")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(all(h["type"] == "train" for h in r.json["hits"]))
        r = search(self.client, q="zarqon", type="event")
        self.assertEqual(r.json["total"], 2)

    def test_admin_changes_are_findable_within_2s(self):
        word = "Qx" + bo.unique("w").replace("-", "")
        started = time.time()
        event = bo.create_event(self.admin, title=word + " Live", performer="Tester")
        found = wait_for(lambda: event_hit(self.client, word, event["id"]), 2.0)
        self.assertTrue(found, "created event not findable within 2 s")
        self.assertLess(time.time() - started, 2.5)
        self.assertEqual(search(self.client, q=word).json["total"], 1)

        renamed = "Ry" + bo.unique("w").replace("-", "")
        started = time.time()
        r = self.admin.patch("/api/admin/events/%d" % event["id"], {"title": renamed + " Live"})
        self.assertEqual(r.status, 200, r)
        found = wait_for(lambda: event_hit(self.client, renamed, event["id"]), 2.0)
        self.assertTrue(found, "changed event not findable within 2 s")
        gone = wait_for(lambda: event_hit(self.client, word, event["id"]) is None, 2.0)
        self.assertTrue(gone, "old title still found")

        r = self.admin.patch("/api/admin/events/%d" % event["id"], {"status": "canceled"})
        self.assertEqual(r.status, 200, r)
        gone = wait_for(lambda: event_hit(self.client, renamed, event["id"]) is None, 2.0)
        self.assertTrue(gone, "canceled event still found")

    def test_seats_available_follows_holds(self):
        word = "Sa" + bo.unique("w").replace("-", "")
        event = bo.create_event(self.admin, title=word + " Show", performer="Tester")
        self.assertTrue(wait_for(lambda: event_hit(self.client, word, event["id"]), 2.0))
        answer = search(self.client, q=word).json
        self.assertEqual([(h["id"], h.get("seats_available")) for h in answer["hits"]],
                         [(str(event["id"]), 10)], answer)
        buyer, _ = bo.signup()
        r = buyer.post("/api/events/%d/holds" % event["id"], {"quantity": 3, "category": "A"})
        self.assertEqual(r.status, 201, r)
        changed = wait_for(
            lambda: (event_hit(self.client, word, event["id"]) or {}).get("seats_available") == 7,
            6.0)
        self.assertTrue(changed, "seats_available did not follow the hold: %s"
                        % search(self.client, q=word).json)
        r = buyer.delete("/api/holds/%d" % r.json["id"])
        self.assertEqual(r.status, 204, r)
        changed = wait_for(
            lambda: (event_hit(self.client, word, event["id"]) or {}).get("seats_available")
            == 10, 6.0)
        self.assertTrue(changed, "seats_available did not follow the release: %s"
                        % search(self.client, q=word).json)


if __name__ == "__main__":
    unittest.main(verbosity=2)
