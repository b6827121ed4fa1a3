"""test_trains.py: the trains' SQL functions against a real (throwaway)
PostgreSQL: the segment inventory and its exclusion constraint, RAC and
waitlist promotion, lazy expiry, the checkout hooks, chart preparation, and
the import of the real network from ../shared/data/railways (skipped with a
message when it is absent). Needs BOXOFFICE_TEST_DATABASE_URL."""

import datetime
import json
import os
import random
import threading
import time
import unittest

from pgtest import DATABASE_URL, connect, psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RAILWAYS = os.environ.get("BOXOFFICE_RAILWAYS_DATA",
                          os.path.join(os.path.dirname(ROOT), "shared", "data", "railways"))
TAG = "%04d" % random.randint(0, 9999)


def code(name):
    """A station code of this run (real codes never start with ZQ)."""
    return "ZQ%s%s" % (TAG, name)


def network(number, stops, name="TEST EXPRESS", km=1200, days=None):
    """A stations + trains import for one train over stations A, B, C..."""
    days = days or {d: 1 for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    features = [{"type": "Feature",
                 "geometry": {"type": "Point", "coordinates": [77.0 + i, 20.0 + i * 0.5]},
                 "properties": {"code": code(s), "name": "Test %s %s" % (TAG, s),
                                "state": "Test", "zone": "TZ"}}
                for i, s in enumerate(stops)]
    trains = {number: {"Train_name": name, "From_station": stops[0], "To_station": stops[-1],
                       "Pair": "", "Duration": "20:00", "Distance": km, "Runs_on": days,
                       "Stations": [code(s) for s in stops]}}
    return {"type": "FeatureCollection", "features": features}, trains


class TrainDb(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not DATABASE_URL:
            raise unittest.SkipTest("BOXOFFICE_TEST_DATABASE_URL is not set")
        cls.db = connect()
        cls.cur = cls.db.cursor()
        cls.cur.execute("INSERT INTO users (email, name, password_hash) VALUES (%s, 'T', 'x') "
                        "RETURNING id", ("trains-%s-%d-%s@example.com" % (TAG, os.getpid(), cls.__name__),))
        cls.user = cls.cur.fetchone()[0]

    def q(self, sql, *args):
        self.cur.execute(sql, args)
        return self.cur.fetchall()

    def q1(self, sql, *args):
        rows = self.q(sql, *args)
        return rows[0][0] if rows else None

    def import_train(self, number, stops, **kw):
        stations, trains = network(number, stops, **kw)
        return self.q1("SELECT train_import(%s::jsonb, %s::jsonb)",
                       json.dumps(stations), json.dumps(trains))

    def book(self, number, date, frm, to, cls="2A", quota="GN", n=1, gender="M", age=30,
             pref=""):
        passengers = [{"name": "P%d" % i, "age": age, "gender": gender, "berth_preference": pref}
                      for i in range(n)]
        outcome, booking = self.q("SELECT outcome, booking FROM train_book(%s, %s, %s, %s, %s, "
                                  "%s, %s, %s::jsonb)", self.user, number, date, code(frm),
                                  code(to), cls, quota, json.dumps(passengers))[0]
        return outcome, booking

    def booked(self, *args, **kw):
        outcome, booking = self.book(*args, **kw)
        self.assertEqual(outcome, "created")
        return booking

    def pnr(self, pnr):
        return self.q1("SELECT train_booking_json(id) FROM train_bookings WHERE pnr = %s", pnr)

    def cancel(self, pnr):
        outcome, _, _ = self.q("SELECT * FROM train_cancel(%s, %s)", self.user, pnr)[0]
        self.assertEqual(outcome, "cancelled")

    def statuses(self, booking):
        return [(p["status"], p["position"]) for p in self.pnr(booking["pnr"])["passengers"]]

    def no_overlap(self, number):
        return self.q1("""SELECT count(*) FROM train_allocations a JOIN train_allocations b
                          ON a.run_id = b.run_id AND a.coach = b.coach AND a.berth = b.berth
                         AND a.id < b.id AND a.span && b.span AND a.slots && b.slots
                          JOIN train_runs r ON r.id = a.run_id
                         WHERE r.train_number = %s
                           AND a.state IN ('held', 'confirmed')
                           AND b.state IN ('held', 'confirmed')""", number)


class Segments(TrainDb):
    def test_segments_share_a_berth_and_overlaps_are_refused(self):
        number = "7%s1" % TAG
        self.import_train(number, ["A", "B", "C", "D"], name="SEG RAJDHANI")
        date = datetime.date.today() + datetime.timedelta(days=10)
        ab = self.booked(number, date, "A", "B", cls="1A")
        bc = self.booked(number, date, "B", "C", cls="1A")
        # B->C prefers the berth already used on the adjacent stretch.
        self.assertEqual((ab["passengers"][0]["coach"], ab["passengers"][0]["berth"]),
                         (bc["passengers"][0]["coach"], bc["passengers"][0]["berth"]))
        self.assertEqual([p["status"] for p in ab["passengers"] + bc["passengers"]],
                         ["CNF", "CNF"])
        # Both confirmed (paid).
        for b in (ab, bc):
            self.assertTrue(self.q1("SELECT hold_fulfil(%s)", b["hold_id"]))
        self.assertEqual(self.q1("SELECT count(*) FROM train_allocations WHERE hold_id IN (%s, %s)"
                                 " AND state = 'confirmed'", ab["hold_id"], bc["hold_id"]), 2)
        # A->C then B->D on one berth: the database refuses the second.
        ac = self.booked(number, date, "A", "C", cls="1A")
        coach, berth = ac["passengers"][0]["coach"], ac["passengers"][0]["berth"]
        pid, run, hold = self.q("SELECT passenger_id, run_id, hold_id FROM train_allocations "
                                "WHERE hold_id = %s", ac["hold_id"])[0]
        with self.assertRaises(psycopg2.errors.ExclusionViolation):
            self.cur.execute("""INSERT INTO train_allocations (run_id, class, coach, berth,
                berth_quota, span, slots, passenger_id, hold_id, state, held_until)
                VALUES (%s, '1A', %s, %s, 'GN', int4range(1, 3), int4range(1, 3), %s, %s,
                        'confirmed', 'infinity')""", (run, coach, berth, pid, hold))
        # Through the booking function, B->D gets another berth.
        bd = self.booked(number, date, "B", "D", cls="1A")
        self.assertNotEqual((bd["passengers"][0]["coach"], bd["passengers"][0]["berth"]),
                            (coach, berth))
        self.assertEqual(self.no_overlap(number), 0)

    def test_expired_hold_frees_its_berth_at_once(self):
        number = "7%s2" % TAG
        self.import_train(number, ["A", "B", "C"], name="EXP RAJDHANI")
        date = datetime.date.today() + datetime.timedelta(days=11)
        first = [self.booked(number, date, "A", "C", cls="1A", n=6) for _ in range(4)]
        self.assertTrue(all(p["status"] == "CNF" for b in first for p in b["passengers"]))
        wl = self.booked(number, date, "A", "C", cls="1A")
        self.assertEqual(wl["passengers"][0]["status"], "WL")
        # The first booking's hold passes its expiry, nobody sweeps: the
        # next booking gets a berth at once (the waitlisted passenger
        # first, in booking order).
        h = first[0]["hold_id"]
        self.cur.execute("UPDATE holds SET created_at = now() - interval '1 hour', "
                         "expires_at = now() - interval '1 second' WHERE id = %s", (h,))
        self.cur.execute("UPDATE train_passengers SET held_until = now() - interval '1 second' "
                         "WHERE booking_id = (SELECT id FROM train_bookings WHERE hold_id = %s)",
                         (h,))
        self.cur.execute("UPDATE train_allocations SET held_until = now() - interval '1 second' "
                         "WHERE hold_id = %s", (h,))
        nxt = self.booked(number, date, "A", "C", cls="1A")
        self.assertEqual(nxt["passengers"][0]["status"], "CNF")
        self.assertEqual(self.statuses(wl), [("CNF", None)])
        self.assertEqual([p["status"] for p in self.pnr(first[0]["pnr"])["passengers"]],
                         ["CAN"] * 6)
        # Paying the expired hold now fails: its berths were taken.
        self.assertFalse(self.q1("SELECT hold_fulfil(%s)", h))
        # Paying a live one succeeds and confirms.
        self.assertTrue(self.q1("SELECT hold_fulfil(%s)", first[1]["hold_id"]))
        self.assertEqual(self.no_overlap(number), 0)


class Promotion(TrainDb):
    def test_rac_and_waitlist_move_up_in_order_where_the_journey_fits(self):
        number = "7%s3" % TAG
        self.import_train(number, ["A", "B", "C", "D"], name="PROMO RAJDHANI")
        date = datetime.date.today() + datetime.timedelta(days=12)
        gn = self.q1("SELECT gn_berths FROM train_classes WHERE train_number = %s "
                     "AND class = '2A'", number)
        rac_places = 2 * self.q1("SELECT rac_berths FROM train_classes WHERE train_number = %s "
                                 "AND class = '2A'", number)
        # Fill the general quota: one A->B and one B->D passenger share a
        # berth, a single A->D passenger we cancel later, the rest A->D.
        x = self.booked(number, date, "A", "B")
        y = self.booked(number, date, "B", "D")
        self.assertEqual((x["passengers"][0]["coach"], x["passengers"][0]["berth"]),
                         (y["passengers"][0]["coach"], y["passengers"][0]["berth"]))
        c1 = self.booked(number, date, "A", "D")
        left = gn - 2
        while left > 0:
            b = self.booked(number, date, "A", "D", n=min(6, left))
            self.assertTrue(all(p["status"] == "CNF" for p in b["passengers"]))
            left -= len(b["passengers"])
        rac = [self.booked(number, date, "A", "D") for _ in range(rac_places)]
        self.assertEqual([self.statuses(b)[0] for b in rac],
                         [("RAC", i + 1) for i in range(rac_places)])
        w1 = self.booked(number, date, "A", "B")
        w2 = self.booked(number, date, "A", "D")
        w3 = self.booked(number, date, "A", "D")
        w4 = self.booked(number, date, "A", "D")
        self.assertEqual([self.statuses(b)[0] for b in (w1, w2, w3, w4)],
                         [("WL", 1), ("WL", 2), ("WL", 3), ("WL", 4)])

        # Cancel the A->B passenger: no RAC passenger (all A->D) fits the
        # freed A->B stretch; the first waitlisted one whose journey fits
        # (w1, A->B) gets it; the waitlist closes up.
        self.cancel(x["pnr"])
        self.assertEqual(self.statuses(w1)[0][0], "CNF")
        self.assertEqual([self.statuses(b)[0] for b in rac],
                         [("RAC", i + 1) for i in range(rac_places)])
        self.assertEqual([self.statuses(b)[0] for b in (w2, w3, w4)],
                         [("WL", 1), ("WL", 2), ("WL", 3)])

        # Cancel an A->D passenger: RAC 1 becomes CNF on that berth, the
        # RAC places renumber, WL 1 becomes the last RAC.
        berth = (c1["passengers"][0]["coach"], c1["passengers"][0]["berth"])
        self.cancel(c1["pnr"])
        first = self.pnr(rac[0]["pnr"])["passengers"][0]
        self.assertEqual((first["status"], first["coach"], first["berth"]), ("CNF",) + berth)
        self.assertEqual(first["booking_status"]["status"], "RAC")
        self.assertEqual([self.statuses(b)[0] for b in rac[1:]],
                         [("RAC", i + 1) for i in range(rac_places - 1)])
        self.assertEqual(self.statuses(w2)[0], ("RAC", rac_places))
        self.assertEqual([self.statuses(b)[0] for b in (w3, w4)], [("WL", 1), ("WL", 2)])

        # Cancel a waitlisted passenger: the numbers behind close up.
        self.cancel(w3["pnr"])
        self.assertEqual(self.statuses(w4)[0], ("WL", 1))
        self.assertEqual(self.pnr(w4["pnr"])["passengers"][0]["booking_status"]["position"], 4)
        self.assertEqual(self.no_overlap(number), 0)


class Charts(TrainDb):
    def test_chart_cancels_and_refunds_the_waitlist_and_nothing_else(self):
        number = "7%s4" % TAG
        self.import_train(number, ["A", "B", "C"], name="CHART RAJDHANI")
        date = datetime.date.today() + datetime.timedelta(days=13)
        cnf = [self.booked(number, date, "A", "C", cls="1A", n=6) for _ in range(4)]
        wl_paid = self.booked(number, date, "A", "C", cls="1A", n=2)
        wl_unpaid = self.booked(number, date, "A", "C", cls="1A")
        self.assertTrue(self.q1("SELECT hold_fulfil(%s)", cnf[0]["hold_id"]))
        self.assertTrue(self.q1("SELECT hold_fulfil(%s)", wl_paid["hold_id"]))
        before = {b["pnr"]: self.statuses(b) for b in cnf}
        run = self.q1("SELECT id FROM train_runs WHERE train_number = %s AND run_date = %s",
                      number, date)
        self.cur.execute("UPDATE train_runs SET chart_at = now() WHERE id = %s", (run,))
        # Other runs may be due as well (today's, of other tests' trains).
        rows = self.q("SELECT run_id, hold_id, refunded FROM train_prepare_charts(1000000)")
        self.assertIn((run, wl_paid["hold_id"], 2), rows)
        self.assertEqual({b["pnr"]: self.statuses(b) for b in cnf}, before)
        for b, due in ((wl_paid, wl_paid["fare"]), (wl_unpaid, 0)):
            for p in self.pnr(b["pnr"])["passengers"]:
                self.assertEqual((p["status"], p["cancel_reason"]), ("CAN", "chart"))
                self.assertEqual(p["refund_due"], due)
        self.assertEqual(self.pnr(wl_unpaid["pnr"])["status"], "released")
        # Frozen: no booking, no cancellation, no promotion.
        self.assertEqual(self.book(number, date, "A", "C", cls="1A")[0], "booking_closed")
        self.assertEqual(self.q1("SELECT outcome FROM train_cancel(%s, %s)", self.user,
                                 cnf[1]["pnr"]), "chart_prepared")


class ChartRefunds(TrainDb):
    """Chart preparation with orders paid through the checkout functions
    (the provider's part is played here): partial refunds, and the schema's
    guard that refunds never exceed what was paid."""

    def paid_order(self, booking):
        intent = "pi_test_%s_h%d" % (TAG, booking["hold_id"])
        order = self.q("SELECT order_id FROM order_checkout(%s, %s, %s, %s, 'secret')",
                       self.user, booking["hold_id"], "k-%s-%d" % (TAG, booking["hold_id"]),
                       intent)[0][0]
        self.assertEqual(self.q1("SELECT outcome FROM order_payment_succeeded(%s, false)", intent),
                         "paid")
        return order

    def refunds(self, order):
        return self.q("SELECT idempotency_key, amount, state FROM payments "
                      "WHERE order_id = %s AND kind = 'refund' ORDER BY id", order)

    def test_mixed_pnr_owes_back_only_its_waitlisted_fares(self):
        number = "7%s6" % TAG
        self.import_train(number, ["A", "B", "C"], name="PARTIAL RAJDHANI")
        date = datetime.date.today() + datetime.timedelta(days=14)
        full = [self.booked(number, date, "A", "C", cls="1A", n=n) for n in (6, 6, 6, 5)]
        mixed = self.booked(number, date, "A", "C", cls="1A", n=3)
        self.assertEqual([p["status"] for p in mixed["passengers"]], ["CNF", "WL", "WL"])
        alone = self.booked(number, date, "A", "C", cls="1A", n=1)
        order = self.paid_order(mixed)
        whole = self.paid_order(alone)
        kept = self.paid_order(full[0])
        fare = mixed["fare"]
        run = self.q1("SELECT id FROM train_runs WHERE train_number = %s AND run_date = %s",
                      number, date)
        self.cur.execute("UPDATE train_runs SET chart_at = now() WHERE id = %s", (run,))
        rows = self.q("SELECT run_id, hold_id, refunded, amount, order_id, outcome "
                      "FROM train_prepare_charts(1000000)")
        self.assertIn((run, mixed["hold_id"], 2, 2 * fare, order, "partial"), rows)
        self.assertIn((run, alone["hold_id"], 1, fare, whole, "whole"), rows)
        self.assertEqual(self.refunds(order),
                         [("order-%d-refund-chart" % order, 2 * fare, "started")])
        self.assertEqual(self.q1("SELECT status FROM orders WHERE id = %s", order), "paid")
        self.assertEqual(self.q1("SELECT order_json(%s)", order)["amount_refunded"], 2 * fare)
        self.assertEqual(self.q1("SELECT status FROM orders WHERE id = %s", whole), "refunded")
        self.assertEqual(self.refunds(whole), [("order-%d-refund" % whole, fare, "started")])
        self.assertEqual(self.refunds(kept), [])
        statuses = [p["status"] for p in self.pnr(mixed["pnr"])["passengers"]]
        self.assertEqual(statuses, ["CNF", "CAN", "CAN"])
        # Charting again, or owing the same part again, owes nothing more.
        self.assertNotIn(mixed["hold_id"], [r[1] for r in self.q(
            "SELECT run_id, hold_id FROM train_prepare_charts(1000000)")])
        self.assertEqual(self.q1("SELECT order_refund_part(%s, %s, %s)", order, 2 * fare,
                                 "order-%d-refund-chart" % order), "existing")
        # The provider confirms; later cancelling refunds only what is left.
        payment = self.q1("SELECT id FROM payments WHERE order_id = %s AND kind = 'refund'", order)
        self.q("SELECT order_refund_part_done(%s, 're_chart')", payment)
        self.assertEqual(self.q1("SELECT refund_state FROM orders WHERE id = %s", order), "done")
        self.assertEqual(self.q1("SELECT outcome FROM order_cancel(NULL, %s)", order), "refund")
        self.assertEqual([r[:2] for r in self.refunds(order)],
                         [("order-%d-refund-chart" % order, 2 * fare),
                          ("order-%d-refund" % order, fare)])
        self.assertEqual(self.q1("SELECT order_refund_part(%s, 1, 'one-more')", order), "not_paid")

    def test_refunds_never_exceed_the_paid_amount_even_at_once(self):
        number = "7%s7" % TAG
        self.import_train(number, ["A", "B", "C"], name="GUARD RAJDHANI")
        date = datetime.date.today() + datetime.timedelta(days=15)
        order = self.paid_order(self.booked(number, date, "A", "C", cls="1A", n=2))
        amount = self.q1("SELECT amount FROM orders WHERE id = %s", order)
        self.assertEqual(self.q1("SELECT order_refund_part(%s, %s, 'big')", order, amount + 1),
                         "too_large")
        self.assertEqual(self.q1("SELECT order_refund_part(%s, 0, 'zero')", order),
                         "invalid_amount")
        with self.assertRaises(psycopg2.errors.CheckViolation):
            self.cur.execute("INSERT INTO payments (order_id, kind, idempotency_key, amount) "
                             "VALUES (%s, 'refund', 'raw-too-much', %s)", (order, amount + 1))
        # Two transactions each owing 60% at once, past the function's own
        # check: the schema lets one through.
        first, second = connect(), connect()
        first.autocommit = second.autocommit = False
        insert = ("INSERT INTO payments (order_id, kind, idempotency_key, amount) "
                  "VALUES (%s, 'refund', %s, %s)")
        a, b = first.cursor(), second.cursor()
        a.execute(insert, (order, "race-a-%s" % TAG, amount * 6 // 10))
        done = []
        t = threading.Thread(target=lambda: done.append(
            self._try(b, insert, (order, "race-b-%s" % TAG, amount * 6 // 10), second)))
        t.start()
        time.sleep(0.5)
        first.commit()
        t.join(30)
        self.assertEqual(done, ["refused"])
        self.assertEqual(self.q1("SELECT sum(amount) FROM payments WHERE order_id = %s "
                                 "AND kind = 'refund'", order), amount * 6 // 10)
        first.close()
        second.close()

    @staticmethod
    def _try(cur, sql, args, conn):
        try:
            cur.execute(sql, args)
            conn.commit()
            return "committed"
        except psycopg2.errors.CheckViolation:
            conn.rollback()
            return "refused"


class RunComposition(TrainDb):
    """One run's composition differing from its train's."""

    def set_coaches(self, number, date, cls, n):
        return self.q("SELECT outcome, run FROM train_set_run_coaches(%s, %s, %s, %s)",
                      number, date, cls, n)[0]

    def first_class(self, number, date):
        run = self.q1("SELECT train_run_json(%s, %s)", number, date)
        return [c for c in run["classes"] if c["class"] == "1A"][0]

    def test_a_run_with_an_extra_coach_sells_its_berths_and_only_that_run(self):
        number = "7%s8" % TAG
        self.import_train(number, ["A", "B", "C"], name="AUGMENTED RAJDHANI")
        d1 = datetime.date.today() + datetime.timedelta(days=16)
        d2 = d1 + datetime.timedelta(days=1)
        outcome, run = self.set_coaches(number, d1, "1A", 2)
        self.assertEqual(outcome, "changed")
        one = [c for c in run["classes"] if c["class"] == "1A"][0]
        self.assertEqual((one["coaches"], one["quotas"][0]["available"]), (["H1", "H2"], 48))
        two = self.first_class(number, d2)
        self.assertEqual((two["coaches"], two["quotas"][0]["available"]), (["H1"], 24))
        for date, cnf in ((d1, 30), (d2, 24)):
            statuses = [p["status"] for _ in range(5)
                        for p in self.booked(number, date, "A", "C", cls="1A", n=6)["passengers"]]
            self.assertEqual(statuses.count("CNF"), cnf, date)
            self.assertEqual(statuses.count("WL"), 30 - cnf, date)
        self.assertEqual(self.q1("SELECT count(DISTINCT a.coach) FROM train_allocations a "
                                 "JOIN train_runs r ON r.id = a.run_id WHERE r.train_number = %s "
                                 "AND r.run_date = %s", number, d1), 2)
        self.assertEqual(self.no_overlap(number), 0)
        search = self.q1("SELECT train_search_json(%s, %s, %s)", code("A"), code("C"), d1)
        mine = [t for t in search["trains"] if t["number"] == number][0]
        gn = [c for c in mine["classes"] if c["class"] == "1A" and c["quota"] == "GN"][0]
        self.assertEqual(gn["available"], 18)
        # Passengers hold places: the composition stays.
        self.assertEqual(self.set_coaches(number, d1, "1A", 1), ("in_use", None))
        self.assertEqual(self.set_coaches(number, d2, "1A", 3), ("in_use", None))
        self.assertEqual(self.first_class(number, d1)["coaches"], ["H1", "H2"])

    def test_back_to_the_train_composition_and_refusals(self):
        number = "7%s9" % TAG
        self.import_train(number, ["A", "B", "C"], name="RESIZED RAJDHANI")
        date = datetime.date.today() + datetime.timedelta(days=17)
        run = self.q1("SELECT id FROM train_runs WHERE train_number = %s AND run_date = %s",
                      number, date)
        self.assertEqual(self.set_coaches(number, date, "3A", 6)[0], "changed")
        self.assertEqual(self.q("SELECT coaches, gn_berths + tq_berths + ld_berths "
                                "FROM train_run_classes WHERE run_id = %s", run),
                         [(6, 6 * 64 - 8)])
        self.assertEqual(self.set_coaches(number, date, "3A", 4)[0], "changed")
        self.assertEqual(self.q1("SELECT count(*) FROM train_run_classes WHERE run_id = %s", run),
                         0)
        for args, outcome in (((number, date, "3A", 0), "invalid_coaches"),
                              ((number, date, "3A", 25), "invalid_coaches"),
                              ((number, date, "SL", 2), "unknown_class"),
                              ((number, date + datetime.timedelta(days=300), "3A", 2),
                               "run_not_found"),
                              (("0000000", date, "3A", 2), "train_not_found")):
            self.assertEqual(self.set_coaches(*args), (outcome, None), args)
        self.cur.execute("UPDATE train_runs SET chart_prepared_at = now() WHERE id = %s", (run,))
        self.assertEqual(self.set_coaches(number, date, "3A", 5), ("chart_prepared", None))
        self.assertEqual(self.q1("SELECT count(*) FROM train_run_classes WHERE run_id = %s", run),
                         0)


class BadInput(TrainDb):
    def test_refusals(self):
        number = "7%s5" % TAG
        self.import_train(number, ["A", "B", "C"], name="BAD RAJDHANI",
                          days={"mon": 1, "tue": 0, "wed": 0, "thu": 0, "fri": 0, "sat": 0,
                                "sun": 0})
        today = datetime.date.today()
        monday = today + datetime.timedelta(days=7 + (7 - today.weekday()) % 7)
        tuesday = monday + datetime.timedelta(days=1)
        self.assertEqual(self.book(number, monday, "A", "C", cls="1A")[0], "created")
        self.assertEqual(self.book(number, tuesday, "A", "C", cls="1A")[0], "run_not_found")
        self.assertEqual(self.book(number, monday, "C", "A", cls="1A")[0], "wrong_direction")
        self.assertEqual(self.book(number, monday, "A", "NOPE", cls="1A")[0], "unknown_station")
        self.assertEqual(self.book("0", monday, "A", "C", cls="1A")[0], "train_not_found")
        self.assertEqual(self.book(number, monday, "A", "C", cls="SL")[0], "unknown_class")
        self.assertEqual(self.book(number, monday, "A", "C", cls="1A", quota="TQ")[0],
                         "no_quota")


class RealNetwork(unittest.TestCase):
    """The real network: counts, oddities, idempotency, speed, search."""

    @classmethod
    def setUpClass(cls):
        if not DATABASE_URL:
            raise unittest.SkipTest("BOXOFFICE_TEST_DATABASE_URL is not set")
        stations = os.path.join(RAILWAYS, "stations.geojson")
        trains = os.path.join(RAILWAYS, "trains_dict.json")
        if not (os.path.exists(stations) and os.path.exists(trains)):
            raise unittest.SkipTest("real network data not found at %s: skipping" % RAILWAYS)
        with open(stations) as f:
            cls.stations_text = f.read()
        with open(trains) as f:
            cls.trains_text = f.read()
        cls.trains = json.loads(cls.trains_text)
        cls.geo_codes = {f["properties"]["code"] for f in json.loads(cls.stations_text)["features"]}
        cls.db = connect()
        cls.cur = cls.db.cursor()
        t0 = time.monotonic()
        cls.cur.execute("SELECT train_import(%s::jsonb, %s::jsonb)",
                        (cls.stations_text, cls.trains_text))
        cls.first = cls.cur.fetchone()[0]
        cls.first_seconds = time.monotonic() - t0
        cls.cur.execute("SELECT train_import(%s::jsonb, %s::jsonb)",
                        (cls.stations_text, cls.trains_text))
        cls.second = cls.cur.fetchone()[0]

    def test_counts_and_oddities(self):
        r = self.first
        self.assertEqual(r["stations"]["in_file"], 8990)
        self.assertEqual(r["trains"]["in_file"], 2858)
        self.assertEqual(r["trains"]["invalid"], [])
        unknown = sorted({s for t in self.trains.values() for s in t["Stations"]}
                         - self.geo_codes)
        self.assertEqual(len(unknown), 100)
        self.assertEqual(r["unknown_station_codes"]["count"], 100)
        self.assertEqual(r["unknown_station_codes"]["codes"], unknown)
        noday = sorted(n for n, t in self.trains.items() if not any(t["Runs_on"].values()))
        self.assertEqual(r["trains_running_on_no_day"]["numbers"], noday)
        cur = self.db.cursor()
        cur.execute("SELECT count(*) FROM train_stops WHERE train_number = ANY (%s)",
                    (list(self.trains),))
        self.assertEqual(cur.fetchone()[0], sum(len(t["Stations"]) for t in self.trains.values()))
        # Imported with the code as name and no coordinates (unless another
        # import listed them before).
        cur.execute("SELECT count(*), count(*) FILTER (WHERE NOT listed AND "
                    "(name <> code OR latitude IS NOT NULL)) FROM stations WHERE code = ANY (%s)",
                    (unknown,))
        self.assertEqual(cur.fetchone(), (100, 0))
        cur.execute("SELECT max(stop_index) + 1 FROM train_stops")
        self.assertGreaterEqual(cur.fetchone()[0], 85)

    def test_import_is_fast_enough(self):
        self.assertLess(self.first_seconds, 60, self.first_seconds)

    def test_importing_twice_changes_nothing(self):
        r = self.second
        self.assertEqual((r["stations"]["created"], r["stations"]["updated"]), (0, 0))
        self.assertEqual((r["trains"]["created"], r["trains"]["updated"]), (0, 0))
        self.assertEqual(r["stops_written"], 0)
        self.assertEqual(r["runs_created"], 0)
        self.assertEqual(r["totals"], self.first["totals"])

    def expected(self, frm, to):
        out = set()
        for number, t in self.trains.items():
            s = t["Stations"]
            if frm in s and to in s[s.index(frm) + 1:] and any(t["Runs_on"].values()):
                out.add(number)
        return out

    def search_week(self, frm, to):
        found = set()
        cur = self.db.cursor()
        start = datetime.date.today() + datetime.timedelta(days=5)
        for i in range(7):
            date = start + datetime.timedelta(days=i)
            cur.execute("SELECT train_search_json(%s, %s, %s)", (frm, to, date))
            result = cur.fetchone()[0]
            for t in result["trains"]:
                if t["number"] not in self.trains:
                    continue  # another test's train through the same stations
                found.add(t["number"])
                run_date = datetime.date.fromisoformat(t["run_date"])
                day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[run_date.weekday()]
                self.assertEqual(self.trains[t["number"]]["Runs_on"][day], 1, t["number"])
                self.assertLess(t["from_index"], t["to_index"])
                self.assertTrue(t["classes"])
        return found

    def test_search_returns_the_trains_that_stop_at_both_in_order(self):
        for frm, to in (("CSMT", "PUNE"), ("PUNE", "CSMT"), ("NDLS", "HWH"), ("NDLS", "BCT")):
            expected = self.expected(frm, to)
            self.assertEqual(self.search_week(frm, to), expected, (frm, to))
        self.assertTrue(self.expected("CSMT", "PUNE"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
