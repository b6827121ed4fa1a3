"""test_queue.py: the waiting room end to end, through nginx: joining
(once per user, pre-queue then first come first served), the fairness
commitment and its check, admission at the set rate under max_active,
access tokens at the hold endpoint, sold out reaching everyone waiting,
and the proof of work on join."""

import concurrent.futures
import hashlib
import hmac
import sys
import threading
import time
import unittest

import boxoffice
from boxoffice import Client

THREADS = 16
_local = threading.local()


def thread_client():
    """One kept-alive connection per thread (Client is not thread-safe)."""
    c = getattr(_local, "client", None)
    if c is None:
        c = _local.client = Client()
    return c


def users(n):
    """n users with live sessions, made in SQL (sign-up is tested
    elsewhere): [(user_id, session_token)]."""
    rows = boxoffice.sql(
        "WITH u AS (INSERT INTO users (email, name, password_hash) "
        "  SELECT :'v1' || '-' || g || '@example.com', 'Queued', 'x' "
        "  FROM generate_series(1, :'v2'::int) g RETURNING id), "
        "t AS (SELECT id, encode(gen_random_bytes(24), 'hex') AS token FROM u), "
        "s AS (INSERT INTO sessions (token_hash, user_id, expires_at) "
        "  SELECT sha256(convert_to(token, 'UTF8')), id, now() + interval '1 day' FROM t "
        "  RETURNING 1) "
        "SELECT id, token FROM t ORDER BY id", boxoffice.unique("q"), n)
    return [(int(r[0]), r[1]) for r in rows]


def join(event_id, token, body=None):
    c = thread_client()
    return c.request("POST", "/api/queue/%d/join" % event_id, body,
                     headers={"Authorization": "Bearer " + token})


def status(event_id, queue_token):
    c = thread_client()
    return c.request("GET", "/api/queue/%d/status?token=%s" % (event_id, queue_token))


def parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(fn, items))


def db_now():
    return float(boxoffice.sql_value("SELECT extract(epoch FROM now())"))


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def queued_event(admin, room, on_sale_in=None, rows=2, seats_per_row=5):
    extra = {"waiting_room": room}
    if on_sale_in is not None:
        extra["on_sale_at"] = iso(db_now() + on_sale_in)
    return boxoffice.create_event(admin, rows=rows, seats_per_row=seats_per_row, **extra)


class QueueTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = boxoffice.admin()

    def test_waiting_room_page_is_served(self):
        c = Client()
        for path, kind in (("/waiting-room.html?event=1", "text/html"),
                           ("/js/waiting-room.js", "javascript"),
                           ("/js/pow-worker.js", "javascript")):
            r = c.get(path)
            self.assertEqual(r.status, 200, (path, r))
            self.assertIn(kind, r.headers.get("content-type", ""), path)
        self.assertIn("/js/waiting-room.js", c.get("/waiting-room.html").body)

    def test_settings_round_trip(self):
        e = queued_event(self.admin, {"enabled": True, "admit_per_minute": 120, "max_active": 7})
        self.assertEqual(e["waiting_room"]["enabled"], True)
        self.assertEqual(e["waiting_room"]["admit_per_minute"], 120)
        r = self.admin.patch("/api/admin/events/%d" % e["id"],
                             {"waiting_room": {"max_active": 9, "access_ttl_s": 300}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["waiting_room"]["max_active"], 9)
        self.assertEqual(r.json["waiting_room"]["admit_per_minute"], 120)
        self.assertEqual(r.json["waiting_room"]["access_ttl_s"], 300)
        for bad in ({"enabled": "yes"}, {"admit_per_minute": 0}, {"max_active": -1},
                    {"pow_bits": 40}, [1]):
            r = self.admin.patch("/api/admin/events/%d" % e["id"], {"waiting_room": bad})
            self.assertEqual(r.status, 400, (bad, r))
        plain = boxoffice.create_event(self.admin)
        self.assertEqual(plain["waiting_room"]["enabled"], False)
        (uid, token), = users(1)
        r = join(plain["id"], token)
        self.assertEqual((r.status, r.error_code), (409, "queue_disabled"), r)

    def test_2000_join_prequeue_drawn_fairly_then_first_come_first_served(self):
        e = queued_event(self.admin, {"enabled": True, "admit_per_minute": 1, "max_active": 1},
                         on_sale_in=6)
        eid = e["id"]
        fair = Client().get("/api/queue/%d/fairness" % eid)
        self.assertEqual(fair.status, 200, fair)
        commitment = fair.json["seed_sha256"]
        self.assertEqual(len(commitment), 64)
        self.assertIsNone(fair.json["seed"])

        people = users(2000)
        early, late = people[:500], people[500:]
        answers = parallel(lambda u: join(eid, u[1]), early)
        for r in answers:
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.json["pre_queue"])
            self.assertIsNone(r.json["position"])
        self.assertGreater(float(boxoffice.sql_value(
            "SELECT extract(epoch FROM on_sale_at - now()) FROM events WHERE id = :'v1'", eid)), 0,
            "the pre-queue joins took too long for this test")
        # Before the draw, a pre-queue token waits for the sale to open.
        r = status(eid, answers[0].json["token"])
        self.assertEqual(r.json["state"], "waiting", r)
        self.assertTrue(r.json["pre_queue"])

        self.assertTrue(boxoffice.wait_for(
            lambda: boxoffice.sql_value("SELECT on_sale_at <= now() FROM events WHERE id = :'v1'",
                                        eid) == "t", 15))
        # After the sale opens: waves of 100 concurrent joins, each wave
        # after the last has been answered. Within a wave order is a race;
        # between waves it is arrival order.
        waves = []
        for i in range(0, len(late), 100):
            wave = parallel(lambda u: join(eid, u[1]), late[i:i + 100])
            for r in wave:
                self.assertEqual(r.status, 200, r)
                self.assertFalse(r.json["pre_queue"])
            waves.append([r.json["position"] for r in wave])
        for before, after in zip(waves, waves[1:]):
            self.assertLess(max(before), min(after))
        late_positions = [p for w in waves for p in w]
        self.assertEqual(sorted(late_positions), list(range(501, 2001)))

        # Pre-queue users learn their drawn place from the status poll, in a
        # new token; joining again returns the same place.
        polled = parallel(lambda r: status(eid, r.json["token"]), answers)
        drawn = {}
        for (uid, _), r in zip(early, polled):
            self.assertEqual(r.status, 200, r)
            self.assertIn("token", r.json)
            self.assertFalse(r.json["pre_queue"])
            drawn[uid] = r.json["position"]
            again = status(eid, r.json["token"])
            self.assertEqual(again.json["position"], drawn[uid])
        self.assertEqual(sorted(drawn.values()), list(range(1, 501)))
        for uid, token in early[:20] + late[:20]:
            r = join(eid, token)
            self.assertEqual(r.status, 200, r)
        self.assertEqual(join(eid, early[0][1]).json["position"], drawn[early[0][0]])

        # Anyone can check the draw: the revealed seed matches the
        # commitment, and sorting the pre-queue by HMAC(seed, user id)
        # gives exactly the positions handed out.
        fair = Client().get("/api/queue/%d/fairness" % eid).json
        seed = bytes.fromhex(fair["seed"])
        self.assertEqual(hashlib.sha256(seed).hexdigest(), commitment)
        self.assertEqual(sorted(fair["prequeue_user_ids"]), sorted(drawn))
        order = sorted(fair["prequeue_user_ids"],
                       key=lambda u: (hmac.new(seed, str(u).encode(), hashlib.sha256).digest(), u))
        self.assertEqual({u: i + 1 for i, u in enumerate(order)}, drawn)

    def test_admission_follows_the_rate_and_max_active(self):
        rate, max_active = 6000, 700  # 100 a second; the cap is reached in ~7 s
        e = queued_event(self.admin, {"enabled": True, "admit_per_minute": rate,
                                      "max_active": max_active, "access_ttl_s": 600},
                         on_sale_in=4)
        eid = e["id"]
        people = users(2000)
        answers = parallel(lambda u: join(eid, u[1]), people)
        self.assertTrue(all(r.status == 200 for r in answers))
        # Sample the number of active admitted users while admission runs.
        peak = 0
        deadline = time.time() + 14
        while time.time() < deadline:
            active = int(boxoffice.sql_value(
                "SELECT count(*) FROM queue_entries WHERE event_id = :'v1' "
                "AND admitted_at IS NOT NULL AND used_at IS NULL", eid))
            peak = max(peak, active)
            self.assertLessEqual(active, max_active)
            time.sleep(0.2)
        self.assertEqual(peak, max_active)
        # The cursor's recorded steps: admitted over time follows the
        # setting within 5% until the cap.
        row = boxoffice.sql("SELECT array_to_string(history_cursor, ','), "
                            "array_to_string(history_at_ms, ',') FROM queue_settings "
                            "WHERE event_id = :'v1'", eid)[0]
        cursors = [int(x) for x in row[0].split(",")]
        times = [int(x) for x in row[1].split(",")]
        uncapped = [i for i, c in enumerate(cursors) if c < max_active]
        first, last = uncapped[0], uncapped[-1]
        self.assertGreaterEqual(last - first, 3, (cursors, times))
        measured = (cursors[last] - cursors[first]) / ((times[last] - times[first]) / 1000.0)
        print("admission: %.1f/s measured for %.1f/s set; peak active %d of %d"
              % (measured, rate / 60.0, peak, max_active), file=sys.stderr)
        self.assertAlmostEqual(measured, rate / 60.0, delta=rate / 60.0 * 0.05,
                               msg="admitted %.1f/s" % measured)
        # Wall clock too: from the first step, the count admitted by each
        # step is the rate times the time passed (within 5% and one tick).
        for c, t in zip(cursors[first:last + 1], times[first:last + 1]):
            expected = cursors[first] + rate / 60.0 * (t - times[first]) / 1000.0
            self.assertLessEqual(abs(c - expected), max(expected * 0.05, 2), (c, expected))

        # Status: the admitted get an access token (and cookie); holds need it.
        # (Everyone joined the pre-queue: the first poll tells the drawn place.)
        polled = parallel(lambda r: status(eid, r.json["token"]), answers)
        by_position = sorted((r.json["position"], u, r.json.get("token") or a.json["token"])
                             for u, a, r in zip(people, answers, polled))
        pos, (uid, session), qtoken = by_position[0]
        r = status(eid, qtoken)
        self.assertEqual(r.json["state"], "admitted", r)
        access = r.json["access_token"]
        self.assertIn("queue_access_%d=" % eid, r.headers.get("set-cookie", ""))
        self.assertIn("HttpOnly", r.headers.get("set-cookie", ""))
        pos2, (uid2, session2), qtoken2 = by_position[-1]
        r2 = status(eid, qtoken2)
        self.assertEqual(r2.json["state"], "waiting", r2)
        self.assertEqual(r2.json["ahead"], pos2 - max_active - 1)
        self.assertGreater(r2.json["eta_s"], 0)
        self.assertGreaterEqual(r2.json["poll_after_s"], 1)
        self.assertNotIn("access_token", r2.json)

        holder = Client(token=session)
        stranger = Client(token=session2)
        path = "/api/events/%d/holds" % eid
        r = stranger.post(path, {"quantity": 1})
        self.assertEqual((r.status, r.error_code), (403, "not_admitted"), r)
        r = stranger.post(path, {"quantity": 1, "access_token": access})  # someone else's
        self.assertEqual((r.status, r.error_code), (403, "not_admitted"), r)
        r = stranger.post(path, {"quantity": 1, "access_token": access[:-2] + "AA"})
        self.assertEqual((r.status, r.error_code), (403, "not_admitted"), r)
        r = holder.post(path, {"quantity": 1})
        self.assertEqual((r.status, r.error_code), (403, "not_admitted"), r)
        r = holder.post(path, {"quantity": 1, "access_token": access})
        self.assertEqual(r.status, 201, r)
        r = holder.post(path, {"quantity": 1},
                        headers={"Cookie": "queue_access_%d=%s" % (eid, access)})
        self.assertEqual(r.status, 201, r)
        # Having held, the admitted user no longer counts as active.
        self.assertIsNotNone(boxoffice.sql_value(
            "SELECT used_at FROM queue_entries WHERE event_id = :'v1' AND user_id = :'v2'",
            eid, uid))
        # A bad queue token is refused.
        r = status(eid, qtoken[:-3] + "AAA")
        self.assertEqual(r.status, 401, r)
        r = status(eid + 1, qtoken)
        self.assertEqual(r.status, 401, r)

    def test_sold_out_reaches_everyone_waiting_within_2s_and_resumes(self):
        e = queued_event(self.admin, {"enabled": True, "admit_per_minute": 60, "max_active": 2},
                         rows=1, seats_per_row=4)
        eid = e["id"]
        people = users(200)
        answers = parallel(lambda u: join(eid, u[1]), people)
        tokens = [r.json["token"] for r in answers]
        waiting = [t for r, t in zip(answers, tokens) if r.json["position"] > 10]
        # Every seat sold, no hold or order that could bring one back.
        owner = people[0][0]
        boxoffice.sql(
            "WITH h AS (INSERT INTO holds (event_id, user_id, status, seat_ids, amount, currency, "
            "  expires_at) SELECT :'v1', :'v2', 'converted', array_agg(seat_id), 0, 'INR', "
            "  now() + interval '1 minute' FROM event_seats WHERE event_id = :'v1' RETURNING id) "
            "UPDATE event_seats SET hold_id = h.id, held_until = 'infinity' FROM h "
            "WHERE event_id = :'v1'", eid, owner)
        sold_at = time.time()  # committed
        heard = {}

        def poll(t):
            state = status(eid, t).json["state"]
            return state, time.time()

        def poll_all():
            for t, (s, at) in zip(waiting, parallel(poll, waiting)):
                if s == "sold_out" and t not in heard:
                    heard[t] = at - sold_at
            return len(heard) == len(waiting)

        self.assertTrue(boxoffice.wait_for(poll_all, 5, step=0.05))
        print("sold out heard by %d waiting users within %.2f s (median %.2f s)"
              % (len(heard), max(heard.values()), sorted(heard.values())[len(heard) // 2]),
              file=sys.stderr)
        self.assertLessEqual(max(heard.values()), 2.0, "slowest: %.2f s" % max(heard.values()))
        cursor = boxoffice.sql_value("SELECT admit_cursor FROM queue_settings WHERE event_id = :'v1'", eid)
        time.sleep(1.5)
        self.assertEqual(boxoffice.sql_value(
            "SELECT admit_cursor FROM queue_settings WHERE event_id = :'v1'", eid), cursor,
            "admission must stop while sold out")
        # A seat comes back (an order cancelled): admission resumes.
        boxoffice.sql("UPDATE event_seats SET hold_id = NULL, held_until = '-infinity' "
                      "WHERE event_id = :'v1' AND seat_id = (SELECT min(seat_id) FROM event_seats "
                      "WHERE event_id = :'v1')", eid)
        self.assertTrue(boxoffice.wait_for(
            lambda: status(eid, waiting[0]).json["state"] == "waiting", 3))

    def test_proof_of_work_on_join(self):
        bits = 10
        e = queued_event(self.admin, {"enabled": True, "pow_bits": bits})
        eid = e["id"]
        (u1, t1), (u2, t2) = users(2)
        r = join(eid, t1)
        self.assertEqual((r.status, r.error_code), (403, "pow_required"), r)
        self.assertEqual(r.json["error"]["pow_bits"], bits)
        c1 = Client(token=t1)
        path = "/api/queue/%d/challenge" % eid
        ch = boxoffice.wait_for(
            lambda: (lambda j: j if j["pow_bits"] == bits else None)(c1.get(path).json), 3)
        challenge = ch["challenge"]

        def zero_bits(nonce):
            d = hashlib.sha256((challenge + nonce).encode()).digest()
            n = int.from_bytes(d, "big")
            return 256 - n.bit_length()

        nonce = next("%x" % i for i in range(10 ** 7) if zero_bits("%x" % i) >= bits)
        bad = next("%x" % i for i in range(10 ** 7) if zero_bits("%x" % i) < bits)
        r = join(eid, t1, {"challenge": challenge, "nonce": bad})
        self.assertEqual((r.status, r.error_code), (403, "pow_required"), r)
        r = join(eid, t2, {"challenge": challenge, "nonce": nonce})  # another user's challenge
        self.assertEqual((r.status, r.error_code), (403, "invalid_challenge"), r)
        r = join(eid, t1, {"challenge": challenge, "nonce": "not a nonce!"})
        self.assertEqual(r.status, 400, r)
        r = join(eid, t1, {"challenge": challenge, "nonce": nonce})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["position"], 1)
        # Once in line, joining again needs no more work.
        self.assertEqual(join(eid, t1).json["position"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
