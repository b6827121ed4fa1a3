"""test_booking_core.py: the booking core through nginx: accounts, events,
holds, expiry, and a table of bad inputs, each answered by a clear 4xx JSON
error with nothing changed in the database."""

import time
import unittest

import boxoffice as bo


def db_snapshot():
    """Counts that no bad request may change."""
    return bo.sql("""SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM holds),
                            (SELECT count(*) FROM event_seats WHERE held_until > now()),
                            (SELECT count(*) FROM events), (SELECT count(*) FROM venues),
                            (SELECT count(*) FROM sessions)""")[0]


class AccountsTest(unittest.TestCase):
    def test_signup_signin_me_signout(self):
        c = bo.Client()
        email = bo.unique("ada") + "@example.com"
        r = c.post("/api/users", {"email": email, "password": "pass word 1", "name": "Ada"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(set(r.json) >= {"id", "email", "name"}, True)
        self.assertNotIn("password_hash", r.body)
        r = c.post("/api/users", {"email": email.upper(), "password": "pass word 1", "name": "A"})
        self.assertEqual((r.status, r.error_code), (409, "email_taken"))
        r = c.post("/api/sessions", {"email": email, "password": "wrong password"})
        self.assertEqual((r.status, r.error_code), (401, "bad_credentials"))
        r = c.post("/api/sessions", {"email": "nobody-" + email, "password": "pass word 1"})
        self.assertEqual((r.status, r.error_code), (401, "bad_credentials"))
        r = c.post("/api/sessions", {"email": email, "password": "pass word 1"})
        self.assertEqual(r.status, 200, r)
        token = r.json["token"]
        self.assertGreaterEqual(len(token), 43)
        cookie = r.headers.get("set-cookie", "")
        self.assertIn("bo_session=" + token, cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Lax", cookie)
        # The token is stored hashed, never as itself.
        self.assertEqual(bo.sql("SELECT count(*) FROM sessions WHERE encode(token_hash, 'hex') = :'v1'",
                                token), [["0"]])
        # Bearer and cookie both work.
        self.assertEqual(bo.Client(token).get("/api/me").json["email"], email)
        r = bo.Client().get("/api/me", headers={"Cookie": "bo_session=" + token})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(bo.Client(token).delete("/api/sessions").status, 204)
        self.assertEqual(bo.Client(token).get("/api/me").status, 401)


class EventsTest(unittest.TestCase):
    def test_list_and_details(self):
        c = bo.Client()
        r = c.get("/api/events?per_page=5")
        self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(r.json["total"], 30)
        self.assertEqual(len(r.json["events"]), 5)
        starts = [e["starts_at"] for e in r.json["events"]]
        self.assertEqual(starts, sorted(starts))
        e = r.json["events"][0]
        for key in ("id", "title", "performer", "category", "venue", "starts_at", "on_sale_at",
                    "hold_ttl_s", "max_per_user", "prices", "available"):
            self.assertIn(key, e)
        page2 = c.get("/api/events?per_page=5&page=2").json["events"]
        self.assertNotEqual(page2[0]["id"], e["id"])
        d = c.get("/api/events/%d" % e["id"])
        self.assertEqual(d.json["id"], e["id"])
        self.assertEqual(set(d.json["venue"]), {"id", "name", "city"})
        seats = c.get("/api/events/%d/seats" % e["id"]).json
        self.assertEqual(seats["event_id"], e["id"])
        self.assertEqual(len(seats["seats"]), e["available"])
        self.assertEqual(set(seats["seats"][0]) >= {"id", "section", "row", "number", "category",
                                                    "status"}, True)

    def test_demo_arena_has_twenty_thousand_seats(self):
        n = bo.sql_value("""SELECT max(c) FROM (SELECT count(*) c FROM seats GROUP BY venue_id) x""")
        self.assertEqual(int(n), 20000)


class HoldsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = bo.admin()

    def test_hold_show_release(self):
        buyer, _ = bo.signup()
        event = bo.create_event(self.admin, rows=2, seats_per_row=5)
        seats = bo.seat_ids(event["id"])
        r = buyer.post("/api/events/%d/holds" % event["id"], {"seat_ids": seats[:2]})
        self.assertEqual(r.status, 201, r)
        hold = r.json
        for key in ("id", "event_id", "seats", "expires_at", "amount", "currency"):
            self.assertIn(key, hold)
        self.assertEqual(hold["amount"], 2000)
        self.assertEqual(buyer.get("/api/holds/%d" % hold["id"]).json["status"], "active")
        statuses = {s["id"]: s["status"] for s in
                    bo.Client().get("/api/events/%d/seats" % event["id"]).json["seats"]}
        self.assertEqual(statuses[seats[0]], "held")
        self.assertEqual(buyer.delete("/api/holds/%d" % hold["id"]).status, 204)
        self.assertEqual(buyer.get("/api/holds/%d" % hold["id"]).json["status"], "released")
        statuses = {s["id"]: s["status"] for s in
                    bo.Client().get("/api/events/%d/seats" % event["id"]).json["seats"]}
        self.assertEqual(statuses[seats[0]], "available")

    def test_best_available_by_category(self):
        buyer, _ = bo.signup()
        event = bo.create_event(self.admin, rows=2, seats_per_row=5, categories=("A", "B"))
        r = buyer.post("/api/events/%d/holds" % event["id"], {"quantity": 3, "category": "B"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual({s["category"] for s in r.json["seats"]}, {"B"})
        self.assertEqual(r.json["amount"], 3 * 2000)

    def test_sold_out_from_memory_only_for_live_sessions(self):
        # Sold-out answers come from the workers' memory, but only to a
        # session the database confirmed; anyone else still hears 401.
        a, _ = bo.signup()
        b, _ = bo.signup()
        event = bo.create_event(self.admin, rows=1, seats_per_row=1)
        holds = "/api/events/%d/holds" % event["id"]
        self.assertEqual(a.post(holds, {"quantity": 1}).status, 201)
        for _ in range(20):  # enough to reach every worker's memory
            r = b.post(holds, {"quantity": 1})
            self.assertEqual((r.status, r.error_code), (409, "sold_out"))
        forged = bo.Client("F" * 43)
        for _ in range(20):
            r = forged.post(holds, {"quantity": 1})
            self.assertEqual((r.status, r.error_code), (401, "unauthorized"))
        self.assertEqual(b.delete("/api/sessions").status, 204)
        for _ in range(20):
            r = b.post(holds, {"quantity": 1})
            self.assertEqual((r.status, r.error_code), (401, "unauthorized"))

    def test_expiry_is_lazy_and_swept(self):
        a, _ = bo.signup()
        b, _ = bo.signup()
        event = bo.create_event(self.admin, rows=1, seats_per_row=2, hold_ttl_s=1)
        seats = bo.seat_ids(event["id"])
        r = a.post("/api/events/%d/holds" % event["id"], {"seat_ids": seats})
        self.assertEqual(r.status, 201, r)
        hold_id = r.json["id"]
        r = b.post("/api/events/%d/holds" % event["id"], {"seat_ids": seats[:1]})
        self.assertEqual((r.status, r.error_code), (409, "sold_out"))
        # Bob's coming hold lasts long enough to outlive the checks below.
        self.assertEqual(self.admin.patch("/api/admin/events/%d" % event["id"],
                                          {"hold_ttl_s": 600}).status, 200)
        time.sleep(1.3)
        self.assertEqual(a.get("/api/holds/%d" % hold_id).json["status"], "expired")
        r = b.post("/api/events/%d/holds" % event["id"], {"seat_ids": seats})
        self.assertEqual(r.status, 201, r)
        # The worker marks the expired hold within a few sweeps.
        deadline = time.time() + 5
        while time.time() < deadline:
            if bo.sql_value("SELECT status FROM holds WHERE id = :'v1'", hold_id) == "expired":
                break
            time.sleep(0.1)
        self.assertEqual(bo.sql_value("SELECT status FROM holds WHERE id = :'v1'", hold_id), "expired")
        # Bob's seats are untouched by the sweep of Alice's hold.
        self.assertEqual(bo.sql_value("""SELECT count(*) FROM event_seats WHERE event_id = :'v1'
                                         AND held_until > now() AND hold_id = :'v2'""",
                                      event["id"], r.json["id"]), "2")

    def test_per_user_cap_and_sale_window(self):
        buyer, _ = bo.signup()
        event = bo.create_event(self.admin, rows=2, seats_per_row=5, max_per_user=3)
        r = buyer.post("/api/events/%d/holds" % event["id"], {"quantity": 2})
        self.assertEqual(r.status, 201)
        r = buyer.post("/api/events/%d/holds" % event["id"], {"quantity": 2})
        self.assertEqual((r.status, r.error_code), (422, "limit_exceeded"))
        later = bo.create_event(self.admin, on_sale_at="2029-12-01T10:00:00Z")
        r = buyer.post("/api/events/%d/holds" % later["id"], {"quantity": 1})
        self.assertEqual((r.status, r.error_code), (403, "not_on_sale"))

    def test_admin_can_edit_event(self):
        event = bo.create_event(self.admin)
        r = self.admin.patch("/api/admin/events/%d" % event["id"],
                             {"title": "Renamed", "hold_ttl_s": 120, "max_per_user": 2,
                              "prices": [{"category": "A", "amount": 4321}]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["title"], r.json["hold_ttl_s"], r.json["max_per_user"]),
                         ("Renamed", 120, 2))
        self.assertEqual(r.json["prices"][0]["amount"], 4321)
        self.assertEqual(self.admin.patch("/api/admin/events/99999999", {"title": "x"}).status, 404)
        stats = self.admin.get("/api/admin/events/%d/stats" % event["id"]).json
        self.assertEqual((stats["available"], stats["held"], stats["sold"]), (10, 0, 0))


class BadInputTest(unittest.TestCase):
    """Each bad request gets a 4xx JSON error and changes nothing."""

    @classmethod
    def setUpClass(cls):
        cls.admin = bo.admin()
        cls.buyer, _ = bo.signup()
        cls.other, _ = bo.signup()
        cls.event = bo.create_event(cls.admin, rows=2, seats_per_row=5)
        cls.other_event = bo.create_event(cls.admin, rows=1, seats_per_row=2)
        cls.seats = bo.seat_ids(cls.event["id"])
        cls.foreign = bo.seat_ids(cls.other_event["id"])
        r = cls.other.post("/api/events/%d/holds" % cls.other_event["id"], {"quantity": 1})
        assert r.status == 201, r
        cls.others_hold = r.json["id"]

    def check(self, response, status, code=None):
        self.assertEqual(response.status, status, response)
        self.assertIsInstance(response.json, dict, response)
        self.assertIn("error", response.json)
        self.assertIsInstance(response.json["error"].get("message"), str)
        if code:
            self.assertEqual(response.error_code, code, response)

    def test_hold_requests(self):
        holds = "/api/events/%d/holds" % self.event["id"]
        cases = [
            ("malformed json", dict(raw=b'{"seat_ids": [1,', headers={"Content-Type": "application/json"}), 400, "invalid_json"),
            ("not an object", dict(raw=b'[1,2]', headers={"Content-Type": "application/json"}), 400, "invalid_json"),
            ("empty body", dict(raw=b'', headers={"Content-Type": "application/json"}), 400, "invalid_json"),
            ("text body", dict(raw=b'seat_ids=1', headers={"Content-Type": "text/plain"}), 415, None),
            ("ids as string", dict(body={"seat_ids": "1,2"}), 400, "invalid_seat_ids"),
            ("ids as strings", dict(body={"seat_ids": ["1"]}), 400, "invalid_seat_ids"),
            ("float id", dict(body={"seat_ids": [1.5]}), 400, "invalid_seat_ids"),
            ("duplicate ids", dict(body={"seat_ids": [self.seats[0], self.seats[0]]}), 400, "invalid_seat_ids"),
            ("empty ids", dict(body={"seat_ids": []}), 400, "invalid_seat_ids"),
            ("too many ids", dict(body={"seat_ids": list(range(1, 60))}), 400, "invalid_seat_ids"),
            ("unknown ids", dict(body={"seat_ids": [987654321]}), 400, "unknown_seats"),
            ("another event's seat", dict(body={"seat_ids": [self.seats[0], self.foreign[1]]}), 400, "unknown_seats"),
            ("quantity 0", dict(body={"quantity": 0}), 400, "invalid_quantity"),
            ("quantity negative", dict(body={"quantity": -2}), 400, "invalid_quantity"),
            ("quantity huge", dict(body={"quantity": 10 ** 30}), 400, "invalid_quantity"),
            ("quantity big", dict(body={"quantity": 99999}), 400, "invalid_quantity"),
            ("quantity string", dict(body={"quantity": "2"}), 400, "invalid_quantity"),
            ("both", dict(body={"quantity": 1, "seat_ids": [self.seats[0]]}), 400, "invalid_request"),
            ("neither", dict(body={}), 400, "invalid_request"),
            ("bad category", dict(body={"quantity": 1, "category": "a;drop"}), 400, "invalid_category"),
            ("unknown category", dict(body={"quantity": 1, "category": "Z"}), 400, "unknown_category"),
        ]
        before = db_snapshot()
        for name, kw, status, code in cases:
            with self.subTest(name):
                self.check(self.buyer.request("POST", holds, **kw), status, code)
        self.assertEqual(db_snapshot(), before)

    def test_ten_megabyte_body(self):
        before = db_snapshot()
        big = b'{"seat_ids": [' + b"1," * (5 * 1024 * 1024) + b'1]}'
        r = self.buyer.request("POST", "/api/events/%d/holds" % self.event["id"], raw=big,
                               headers={"Content-Type": "application/json"})
        self.check(r, 413, "body_too_large")
        self.assertEqual(db_snapshot(), before)

    def test_identity(self):
        before = db_snapshot()
        holds = "/api/events/%d/holds" % self.event["id"]
        self.check(bo.Client().post(holds, {"quantity": 1}), 401, "unauthorized")
        forged = bo.Client("A" * 43)
        self.check(forged.post(holds, {"quantity": 1}), 401, "unauthorized")
        self.check(bo.Client("bad token!").post(holds, {"quantity": 1}), 401, "unauthorized")
        self.check(forged.get("/api/me"), 401, "unauthorized")
        # Someone else's hold is simply not there.
        self.check(self.buyer.get("/api/holds/%d" % self.others_hold), 404)
        self.check(self.buyer.delete("/api/holds/%d" % self.others_hold), 404)
        # Admin endpoints: 401 without a session, 403 for a buyer.
        self.check(bo.Client().post("/api/admin/venues", {}), 401)
        self.check(self.buyer.post("/api/admin/venues", {"name": "x"}), 403, "forbidden")
        self.check(self.buyer.patch("/api/admin/events/%d" % self.event["id"], {"title": "x"}), 403)
        self.assertEqual(db_snapshot(), before)
        self.assertEqual(bo.sql_value("SELECT status FROM holds WHERE id = :'v1'", self.others_hold),
                         "active")

    def test_accounts_and_listing(self):
        before = db_snapshot()
        c = bo.Client()
        for body, code in [
            ({"email": "not-an-email", "password": "long enough", "name": "A"}, "invalid_email"),
            ({"email": "a@example.com", "password": "short", "name": "A"}, "invalid_password"),
            ({"email": "a@example.com", "password": "long enough"}, "invalid_name"),
            ({"email": "a@example.com", "password": "long enough", "name": ""}, "invalid_name"),
            ({"email": "a@example.com", "password": "long enough", "name": "x" * 500}, "invalid_name"),
            ({"email": 5, "password": "long enough", "name": "A"}, "invalid_email"),
        ]:
            with self.subTest(body=body):
                self.check(c.post("/api/users", body), 400, code)
        for query, code in [("page=0", "invalid_page"), ("page=abc", "invalid_page"),
                            ("per_page=1000", "invalid_per_page"), ("per_page=-1", "invalid_per_page")]:
            with self.subTest(query=query):
                self.check(c.get("/api/events?" + query), 400, code)
        self.check(c.get("/api/events/abc"), 404, "not_found")
        self.check(c.get("/api/events/987654321"), 404, "event_not_found")
        self.check(c.get("/api/nothing-here"), 404, "not_found")
        self.check(c.request("PUT", "/api/events"), 405, "method_not_allowed")
        self.assertEqual(db_snapshot(), before)

    def test_admin_validation(self):
        before = db_snapshot()
        base = {"venue_id": self.event["venue"]["id"], "title": "T", "performer": "P",
                "category": "c", "starts_at": "2030-01-01T20:00:00Z",
                "prices": [{"category": "A", "amount": 100}]}
        cases = [
            (dict(base, starts_at="tomorrow"), 400, "invalid_starts_at"),
            (dict(base, hold_ttl_s=0), 400, "invalid_hold_ttl_s"),
            (dict(base, prices=[]), 400, "invalid_prices"),
            (dict(base, prices=[{"category": "A", "amount": -1}]), 400, "invalid_amount"),
            (dict(base, prices=[{"category": "B", "amount": 1}]), 422, "missing_price"),
            (dict(base, on_sale_at="2031-01-01T00:00:00Z"), 422, "invalid_on_sale_at"),
            (dict(base, venue_id=987654321), 422, "unknown_venue"),
        ]
        for body, status, code in cases:
            with self.subTest(code=code):
                self.check(self.admin.post("/api/admin/events", body), status, code)
        self.check(self.admin.post("/api/admin/venues", {"name": "V", "city": "C", "sections": [
            {"name": "S", "category": "A", "x": 0, "y": 0, "rows": 1000, "seats_per_row": 10}]}),
            400, "invalid_rows")
        self.check(self.admin.post("/api/admin/venues", {"name": "V", "city": "C", "sections": [
            {"name": "S", "category": "A", "x": 0, "y": 0, "rows": 1, "seats_per_row": 1},
            {"name": "S", "category": "A", "x": 0, "y": 0, "rows": 1, "seats_per_row": 1}]}),
            409, "duplicate_section")
        self.assertEqual(db_snapshot(), before)


class OperationsTest(unittest.TestCase):
    def test_health_metrics_and_headers(self):
        c = bo.Client()
        r = c.get("/healthz")
        self.assertEqual((r.status, r.json), (200, {"status": "ok"}))
        self.assertTrue(r.headers.get("x-request-id"))
        self.assertEqual(r.headers.get("x-content-type-options"), "nosniff")
        self.assertIn("frame-ancestors", r.headers.get("content-security-policy", ""))
        m = c.get("/metrics")
        self.assertEqual(m.status, 200)
        for name in ("boxoffice_http_requests_total", "boxoffice_http_request_duration_seconds_bucket",
                     "boxoffice_holds_created_total", "boxoffice_holds_expired_total",
                     "boxoffice_holds_released_total", "boxoffice_sold_out_answers_total"):
            self.assertIn(name, m.body)
        self.assertIn('route="healthz",status="200"', m.body)
        # Answers carry their length in bytes (nginx then sends them whole,
        # not in chunks), errors and HEAD included.
        for path, status in (("/api/events", 200), ("/api/events/999999999", 404),
                             ("/api/search?q=Mumbai", 200)):
            r = c.get(path)
            self.assertEqual(r.status, status, r.body)
            self.assertIsNone(r.headers.get("transfer-encoding"), path)
            self.assertEqual(int(r.headers.get("content-length", -1)), len(r.body.encode()), path)
            head = bo.Client().request("HEAD", path)
            self.assertEqual((head.status, head.body), (status, ""), path)
            self.assertEqual(head.headers.get("content-length"), r.headers["content-length"], path)
        # The static site is served by nginx (once the UI has a home page).
        import os
        if os.path.exists(os.path.join(os.environ.get("BOXOFFICE_ROOT", "../.."), "nginx/www/index.html")):
            self.assertEqual(c.get("/").status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
