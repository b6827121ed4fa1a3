"""test_trains.py: trains end to end through nginx: import, stations,
search with availability, runs, bookings (CNF / RAC / WL) and PNRs, bad
input, Tatkal and advance-booking windows, the ladies quota, payment and
cancellation with refund, chart preparation by the worker, and a race of
200 concurrent bookings on one run and class."""

import datetime
import glob
import json
import os
import random
import subprocess
import sys
import threading
import time
import unittest

from boxoffice import (Client, admin, ledger_mismatches, provider, signup, sql, sql_value,
                       unique, wait_for)

TAG = "%04d" % random.randint(0, 9999)
DAILY = {d: 1 for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def code(name):
    return "ZE%s%s" % (TAG, name)


def network(number, stops, name="TEST MAIL", km=1200, days=None):
    features = [{"type": "Feature",
                 "geometry": {"type": "Point", "coordinates": [75.0 + i, 19.0 + i * 0.5]},
                 "properties": {"code": code(s), "name": "Testpur %s %s" % (TAG, s),
                                "state": "Teststate", "zone": "TZ"}}
                for i, s in enumerate(stops)]
    trains = {number: {"Train_name": name, "From_station": stops[0], "To_station": stops[-1],
                       "Pair": "", "Duration": "20:00", "Distance": km,
                       "Runs_on": days or DAILY, "Stations": [code(s) for s in stops]}}
    return {"stations": {"type": "FeatureCollection", "features": features}, "trains": trains}


def ist_today():
    return datetime.date.fromisoformat(sql_value("SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date"))


def server_errors():
    """The servers' logged errors, to explain a 500."""
    state = os.environ.get("BOXOFFICE_STATE_DIR", "")
    lines = []
    for name in glob.glob(os.path.join(state, "log", "*.log")):
        with open(name, errors="replace") as f:
            lines += [l.strip() for l in f if " ERROR " in l or "error" in l.lower()]
    return lines[-10:]


def provider_intent(intent_id):
    """(charged, refunded) of one intent at the payment sandbox."""
    _, ledger = provider("GET", "/_sandbox/ledger")
    mine = [i for i in ledger["intents"] if i["id"] == intent_id]
    return (mine[0]["charged"], mine[0]["refunded"]) if mine else None


def passengers(n, gender="M", age=35, **extra):
    return [dict({"name": "Passenger %d" % i, "age": age, "gender": gender}, **extra)
            for i in range(n)]


class Trains(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = admin()
        cls.number = "8%s1" % TAG
        r = cls.admin.post("/api/admin/trains/import",
                           network(cls.number, ["A", "B", "C", "D", "E"]))
        assert r.status == 200, r
        cls.report = r.json
        cls.date = ist_today() + datetime.timedelta(days=10)
        cls.buyer, _ = signup("railbuyer")

    def book(self, client=None, number=None, date=None, frm="A", to="C", cls="SL", quota=None,
             people=None):
        body = {"from": code(frm), "to": code(to), "class": cls,
                "passengers": people if people is not None else passengers(1)}
        if quota:
            body["quota"] = quota
        return (client or self.buyer).post("/api/trains/%s/runs/%s/bookings"
                                           % (number or self.number, date or self.date), body)

    # --- import --------------------------------------------------------------

    def test_import_reports_and_is_idempotent(self):
        self.assertEqual(self.report["trains"]["created"], 1)
        self.assertEqual(self.report["stations"]["created"], 5)
        self.assertGreater(self.report["runs_created"], 60)
        r = self.admin.post("/api/admin/trains/import", network(self.number, ["A", "B", "C", "D", "E"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["trains"]["unchanged"], r.json["stations"]["unchanged"]), (1, 5))
        self.assertEqual((r.json["runs_created"], r.json["stops_written"]), (0, 0))
        # Odd cases are reported, not fatal.
        odd = network("8%s9" % TAG, ["A", "B"], days={d: 0 for d in DAILY})
        odd["trains"]["8%s9" % TAG]["Stations"].append("ZX%sNOPE" % TAG)
        r = self.admin.post("/api/admin/trains/import", odd)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["unknown_station_codes"]["codes"], ["ZX%sNOPE" % TAG])
        self.assertEqual(r.json["trains_running_on_no_day"]["numbers"], ["8%s9" % TAG])
        self.assertEqual(self.admin.post("/api/admin/trains/import", {"x": 1}).error_code,
                         "invalid_import")
        self.assertEqual(self.buyer.post("/api/admin/trains/import",
                                         network(self.number, ["A", "B"])).status, 403)

    def test_import_of_the_real_network_through_the_api(self):
        root = os.environ.get("BOXOFFICE_ROOT") or os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__))))
        data = os.environ.get("BOXOFFICE_RAILWAYS_DATA",
                              os.path.join(os.path.dirname(root), "shared", "data", "railways"))
        if not os.path.exists(os.path.join(data, "trains_dict.json")):
            self.skipTest("real network data not found at %s: skipping" % data)
        with open(os.path.join(data, "stations.geojson")) as f:
            stations = json.load(f)
        with open(os.path.join(data, "trains_dict.json")) as f:
            trains = json.load(f)
        big = Client(token=self.admin.token, timeout=300)
        reports = []
        for _ in range(2):
            r = big.post("/api/admin/trains/import", {"stations": stations, "trains": trains})
            self.assertEqual(r.status, 200, r)
            reports.append(r.json)
        self.assertEqual(reports[1]["trains"]["unchanged"], 2858)
        self.assertEqual(reports[1]["stations"]["unchanged"], 8990)
        self.assertEqual(reports[1]["unknown_station_codes"]["count"], 100)
        self.assertEqual(reports[1]["runs_created"], 0)
        self.assertEqual(reports[1]["totals"], reports[0]["totals"])
        r = Client().get("/api/stations?q=CSMT")
        self.assertEqual(r.json["stations"][0]["code"], "CSMT")

    # --- stations, search, runs ---------------------------------------------

    def test_stations_autocomplete(self):
        r = Client().get("/api/stations?q=ZE%s" % TAG)
        self.assertEqual(r.status, 200, r)
        self.assertEqual({s["code"] for s in r.json["stations"]},
                         {code(s) for s in "ABCDE"})
        r = Client().get("/api/stations?q=testpur%%20%s%%20c" % TAG)
        self.assertEqual([s["code"] for s in r.json["stations"]], [code("C")])
        self.assertEqual(Client().get("/api/stations").error_code, "invalid_q")

    def test_search_lists_the_train_with_availability_for_the_stretch(self):
        r = Client().get("/api/trains/search?from=%s&to=%s&date=%s" % (code("B"), code("D"), self.date))
        self.assertEqual(r.status, 200, r)
        trains = [t for t in r.json["trains"] if t["number"] == self.number]
        self.assertEqual(len(trains), 1)
        t = trains[0]
        for key in ("name", "departs_at", "arrives_at", "duration_min", "distance_km"):
            self.assertIn(key, t)
        sl = [c for c in t["classes"] if c["class"] == "SL" and c["quota"] == "GN"][0]
        for key in ("available", "rac", "waitlist", "fare"):
            self.assertIn(key, sl)
        self.assertGreater(sl["available"], 0)
        self.assertEqual({c["quota"] for c in t["classes"] if c["class"] == "SL"},
                         {"GN", "TQ", "LD"})
        # The other direction: not this train.
        r = Client().get("/api/trains/search?from=%s&to=%s&date=%s" % (code("D"), code("B"), self.date))
        self.assertEqual([t for t in r.json["trains"] if t["number"] == self.number], [])

    def test_search_bad_input(self):
        base = "/api/trains/search?from=%s&to=%s&date=%s"
        self.assertEqual(Client().get(base % (code("A"), "NOPE" + TAG, self.date)).error_code,
                         "unknown_station")
        self.assertEqual(Client().get(base % (code("A"), code("A"), self.date)).error_code,
                         "invalid_to")
        self.assertEqual(Client().get(base % (code("A"), code("B"), "2026-02-30")).error_code,
                         "invalid_date")
        self.assertEqual(Client().get(base % ("a%20b", code("B"), self.date)).error_code,
                         "invalid_from")

    def test_run_show(self):
        r = Client().get("/api/trains/%s/runs/%s" % (self.number, self.date))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([s["code"] for s in r.json["stops"]], [code(s) for s in "ABCDE"])
        self.assertEqual(r.json["classes"][-1]["layout"], ["LB", "MB", "UB", "LB", "MB", "UB", "SL", "SU"])
        far = ist_today() + datetime.timedelta(days=200)
        self.assertEqual(Client().get("/api/trains/%s/runs/%s" % (self.number, far)).error_code,
                         "run_not_found")

    # --- booking and PNR ----------------------------------------------------

    def availability(self, frm, to, cls="SL", quota="GN"):
        r = Client().get("/api/trains/search?from=%s&to=%s&date=%s" % (code(frm), code(to), self.date))
        t = [t for t in r.json["trains"] if t["number"] == self.number][0]
        return [c for c in t["classes"] if c["class"] == cls and c["quota"] == quota][0]["available"]

    def test_booking_pnr_hold_and_cancel(self):
        before = self.availability("A", "C")
        r = self.book(people=passengers(2, berth_preference="UB"))
        self.assertEqual(r.status, 201, r)
        b = r.json
        self.assertRegex(b["pnr"], r"^[0-9]{10}$")
        for key in ("hold_id", "expires_at", "amount", "currency"):
            self.assertIn(key, b)
        self.assertEqual(b["amount"], 2 * b["fare"])
        self.assertEqual([p["status"] for p in b["passengers"]], ["CNF", "CNF"])
        self.assertEqual([p["berth_type"] for p in b["passengers"]], ["UB", "UB"])
        self.assertEqual(self.availability("A", "C"), before - 2)
        # A stretch that does not overlap is untouched.
        self.assertEqual(self.availability("C", "E"), before)
        r = self.buyer.get("/api/pnr/%s" % b["pnr"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["passengers"][0]["booking_status"]["status"], "CNF")
        other, _ = signup("other")
        self.assertEqual(other.get("/api/pnr/%s" % b["pnr"]).status, 404)
        self.assertEqual(other.post("/api/pnr/%s/cancel" % b["pnr"]).status, 404)
        r = self.buyer.get("/api/holds/%d" % b["hold_id"])
        self.assertEqual((r.status, r.json["kind"], r.json["pnr"]), (200, "train", b["pnr"]))
        r = self.buyer.post("/api/pnr/%s/cancel" % b["pnr"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([p["status"] for p in r.json["passengers"]], ["CAN", "CAN"])
        self.assertEqual(self.availability("A", "C"), before)
        self.assertEqual(self.buyer.get("/api/pnr/0000000000").status, 404)

    def test_bad_booking_input(self):
        cases = [
            ({"frm": "A", "to": "NOPE"}, 400, "unknown_station"),
            ({"frm": "A", "to": "A"}, 400, "invalid_to"),
            ({"frm": "D", "to": "B"}, 400, "wrong_direction"),
            ({"people": passengers(7)}, 400, "invalid_passengers"),
            ({"people": []}, 400, "invalid_passengers"),
            ({"people": passengers(1, age=0)}, 400, "invalid_age"),
            ({"people": passengers(1, age=126)}, 400, "invalid_age"),
            ({"people": [{"name": "", "age": 30, "gender": "F"}]}, 400, "invalid_name"),
            ({"people": [{"name": "   ", "age": 30, "gender": "F"}]}, 400, "invalid_name"),
            ({"people": [{"name": "X", "age": 30, "gender": "Q"}]}, 400, "invalid_gender"),
            ({"people": passengers(1, berth_preference="XX")}, 400, "invalid_berth_preference"),
            ({"cls": "3E"}, 400, "invalid_class"),
            ({"cls": "CC"}, 400, "class_not_on_train"),
            ({"quota": "XX"}, 400, "invalid_quota"),
            ({"number": "99999999"}, 404, "train_not_found"),
            ({"date": ist_today() + datetime.timedelta(days=300)}, 404, "run_not_found"),
            ({"date": "2026-13-01"}, 400, "invalid_date"),
        ]
        for kw, status, error in cases:
            kw = dict(kw)
            if "frm" in kw:
                kw["frm"] = kw["frm"]
            r = self.book(**kw)
            self.assertEqual((r.status, r.error_code), (status, error), (kw, r))
        self.assertEqual(self.book(client=Client()).status, 401)

    def test_a_date_when_the_train_does_not_run(self):
        number = "8%s2" % TAG
        r = self.admin.post("/api/admin/trains/import", network(
            number, ["A", "B"], days={"mon": 1, "tue": 0, "wed": 0, "thu": 0, "fri": 0,
                                      "sat": 0, "sun": 0}))
        self.assertEqual(r.status, 200, r)
        today = ist_today()
        monday = today + datetime.timedelta(days=7 + (7 - today.weekday()) % 7)
        self.assertEqual(self.book(number=number, date=monday, frm="A", to="B").status, 201)
        r = self.book(number=number, date=monday + datetime.timedelta(days=1), frm="A", to="B")
        self.assertEqual((r.status, r.error_code), (404, "run_not_found"))

    # --- windows and quotas -------------------------------------------------

    def run_id(self, date):
        return sql_value("SELECT id FROM train_runs WHERE train_number = :'v1' AND run_date = :'v2'",
                         self.number, date)

    def test_tatkal_window_and_cap(self):
        date = ist_today() + datetime.timedelta(days=3)
        run = self.run_id(date)
        # Generated from the rule: the day before, 10:00 AC, 11:00 non-AC (IST).
        rows = sql("SELECT tatkal_ac_opens_at AT TIME ZONE 'Asia/Kolkata', "
                   "tatkal_nonac_opens_at AT TIME ZONE 'Asia/Kolkata' FROM train_runs "
                   "WHERE id = :'v1'", run)
        self.assertEqual(rows[0], ["%s 10:00:00" % (date - datetime.timedelta(days=1)),
                                   "%s 11:00:00" % (date - datetime.timedelta(days=1))])
        r = self.book(date=date, cls="3A", quota="TQ")
        self.assertEqual((r.status, r.error_code), (403, "tatkal_not_open"))
        # Move the opening minute around now.
        sql("UPDATE train_runs SET tatkal_ac_opens_at = now() + interval '1 minute' WHERE id = :'v1'", run)
        r = self.book(date=date, cls="3A", quota="TQ")
        self.assertEqual((r.status, r.error_code), (403, "tatkal_not_open"))
        sql("UPDATE train_runs SET tatkal_ac_opens_at = now() - interval '1 second' WHERE id = :'v1'", run)
        r = self.book(date=date, cls="3A", quota="TQ")
        self.assertEqual(r.status, 201, r)
        general = self.book(date=date, cls="3A").json
        self.assertGreater(r.json["fare"], general["fare"])  # the Tatkal surcharge
        # Non-AC still closed (11:00).
        r = self.book(date=date, cls="SL", quota="TQ")
        self.assertEqual((r.status, r.error_code), (403, "tatkal_not_open"))
        r = self.book(date=date, cls="3A", quota="TQ", people=passengers(5))
        self.assertEqual((r.status, r.error_code), (422, "tatkal_limit"))
        self.assertEqual(self.book(date=date, cls="3A", quota="TQ", people=passengers(4)).status, 201)

    def test_advance_booking_window(self):
        today = ist_today()
        far = today + datetime.timedelta(days=62)
        rows = sql("SELECT advance_opens_at AT TIME ZONE 'Asia/Kolkata' FROM train_runs "
                   "WHERE id = :'v1'", self.run_id(far))
        self.assertEqual(rows[0][0], "%s 08:00:00" % (far - datetime.timedelta(days=60)))
        r = self.book(date=far)
        self.assertEqual((r.status, r.error_code), (403, "booking_not_open"))
        self.assertEqual(self.book(date=today + datetime.timedelta(days=58)).status, 201)

    def test_ladies_quota(self):
        r = self.book(quota="LD", people=passengers(1, gender="M"))
        self.assertEqual((r.status, r.error_code), (422, "ladies_only"))
        people = passengers(1, gender="F") + [{"name": "Son", "age": 8, "gender": "M"}]
        r = self.book(quota="LD", people=people)
        self.assertEqual(r.status, 201, r)
        for p in r.json["passengers"]:
            self.assertEqual(p["status"], "CNF")
            self.assertEqual(p["coach"], "S1")
            self.assertLessEqual(p["berth"], 6)

    def test_admin_sets_the_composition_of_one_run(self):
        number = "8%s6" % TAG
        r = self.admin.post("/api/admin/trains/import",
                            network(number, ["A", "B", "C"], name="RUSH RAJDHANI"))
        self.assertEqual(r.status, 200, r)
        date = ist_today() + datetime.timedelta(days=12)
        other = date + datetime.timedelta(days=1)
        path = "/api/admin/trains/%s/runs/%s/classes/%%s" % (number, date)

        def first(d):
            run = Client().get("/api/trains/%s/runs/%s" % (number, d)).json
            return [c for c in run["classes"] if c["class"] == "1A"][0]
        before = Client().get("/api/trains/%s/runs/%s" % (number, date)).json
        # Bad input and refusals change nothing.
        for who, p, body, status, code_ in (
                (self.buyer, path % "1A", {"coaches": 2}, 403, None),
                (Client(), path % "1A", {"coaches": 2}, 401, None),
                (self.admin, path % "1A", {"coaches": 0}, 400, "invalid_coaches"),
                (self.admin, path % "1A", {"coaches": 25}, 400, "invalid_coaches"),
                (self.admin, path % "1A", {"coaches": "2"}, 400, "invalid_coaches"),
                (self.admin, path % "1A", {}, 400, "invalid_coaches"),
                (self.admin, path % "ZZ", {"coaches": 2}, 400, "invalid_class"),
                (self.admin, path % "SL", {"coaches": 2}, 404, "unknown_class"),
                (self.admin, "/api/admin/trains/%s/runs/2099-01-01/classes/1A" % number,
                 {"coaches": 2}, 404, "run_not_found"),
                (self.admin, "/api/admin/trains/%s/runs/2026-13-01/classes/1A" % number,
                 {"coaches": 2}, 400, "invalid_date")):
            r = who.request("PUT", p, body)
            self.assertEqual(r.status, status, (p, body, r))
            if code_:
                self.assertEqual(r.error_code, code_, (p, body, r))
        r = self.admin.request("PUT", path % "1A", raw=b"{not json",
                               headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(Client().get("/api/trains/%s/runs/%s" % (number, date)).json, before)
        # Two coaches on this run only.
        r = self.admin.request("PUT", path % "1A", {"coaches": 2})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(first(date)["coaches"], ["H1", "H2"])
        self.assertEqual(first(date)["quotas"][0]["available"], 48)
        self.assertEqual(first(other)["coaches"], ["H1"])
        r = Client().get("/api/trains/search?from=%s&to=%s&date=%s" % (code("A"), code("C"), date))
        gn = [c for t in r.json["trains"] if t["number"] == number
              for c in t["classes"] if c["class"] == "1A" and c["quota"] == "GN"]
        self.assertEqual([c["available"] for c in gn], [48])
        people = [self.book(number=number, date=date, cls="1A", people=passengers(6)).json
                  for _ in range(5)]
        self.assertEqual([p["status"] for b in people for p in b["passengers"]], ["CNF"] * 30)
        r = self.admin.request("PUT", path % "1A", {"coaches": 1})
        self.assertEqual((r.status, r.error_code), (409, "in_use"), r)
        self.assertEqual(first(date)["coaches"], ["H1", "H2"])

    # --- payment, cancellation, charts -----------------------------------------

    def pay(self, client, hold_id):
        r = client.post("/api/holds/%d/checkout" % hold_id, headers={"Idempotency-Key": unique("k")})
        self.assertEqual(r.status, 201, r)
        order = r.json["order"]["id"]
        r = client.post("/api/orders/%d/pay" % order, {"payment_method": "pm_card_visa"})
        self.assertEqual((r.status, r.json.get("status")), (200, "paid"), (r, server_errors()))
        return order

    def test_paid_booking_is_confirmed_and_cancellation_refunds(self):
        c, _ = signup("payingbuyer")
        b = self.book(client=c, frm="B", to="E", cls="3A").json
        order = self.pay(c, b["hold_id"])
        self.assertEqual(sql_value("SELECT string_agg(DISTINCT state, ',') FROM train_allocations "
                                   "WHERE hold_id = :'v1'", b["hold_id"]), "confirmed")
        r = c.get("/api/pnr/%s" % b["pnr"])
        self.assertEqual((r.json["status"], r.json["passengers"][0]["status"]), ("converted", "CNF"))
        r = c.post("/api/pnr/%s/cancel" % b["pnr"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["passengers"][0]["status"], "CAN")
        self.assertEqual(r.json["passengers"][0]["cancel_reason"], "refunded")
        self.assertEqual(c.get("/api/orders/%d" % order).json["status"], "refunded")
        self.assertEqual(sql_value("SELECT count(*) FROM train_allocations WHERE hold_id = :'v1' "
                                   "AND state IN ('held', 'confirmed')", b["hold_id"]), "0")

    def test_chart_preparation_by_the_worker(self):
        number = "8%s3" % TAG
        r = self.admin.post("/api/admin/trains/import",
                            network(number, ["A", "B", "C"], name="CHART RAJDHANI"))
        self.assertEqual(r.status, 200, r)
        date = ist_today() + datetime.timedelta(days=20)
        c, _ = signup("chartbuyer")
        cnf = [self.book(client=c, number=number, date=date, cls="1A", people=passengers(6)).json
               for _ in range(4)]
        self.assertTrue(all(p["status"] == "CNF" for b in cnf for p in b["passengers"]))
        wl = self.book(client=c, number=number, date=date, cls="1A", people=passengers(2)).json
        self.assertEqual([p["status"] for p in wl["passengers"]], ["WL", "WL"])
        travelling = self.pay(c, cnf[0]["hold_id"])
        order = self.pay(c, wl["hold_id"])
        before = [c.get("/api/pnr/%s" % b["pnr"]).json["passengers"] for b in cnf]
        sql("UPDATE train_runs SET chart_at = now() WHERE train_number = :'v1' AND run_date = :'v2'",
            number, date)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = c.get("/api/pnr/%s" % wl["pnr"])
            if r.json["chart_prepared"] and c.get("/api/orders/%d" % order).json["status"] == "refunded":
                break
            time.sleep(0.3)
        self.assertTrue(r.json["chart_prepared"], r)
        self.assertEqual([(p["status"], p["cancel_reason"]) for p in r.json["passengers"]],
                         [("CAN", "chart")] * 2)
        self.assertEqual(c.get("/api/orders/%d" % order).json["status"], "refunded")
        self.assertEqual([c.get("/api/pnr/%s" % b["pnr"]).json["passengers"] for b in cnf], before)
        # After the chart a traveller's order cannot be cancelled either way.
        r = c.post("/api/orders/%d/cancel" % travelling)
        self.assertEqual((r.status, r.error_code), (409, "chart_prepared"), r)
        r = c.post("/api/pnr/%s/cancel" % cnf[0]["pnr"])
        self.assertEqual((r.status, r.error_code), (409, "chart_prepared"), r)
        self.assertEqual(c.get("/api/orders/%d" % travelling).json["status"], "paid")

    def test_chart_refunds_only_the_waitlisted_part_of_a_mixed_pnr(self):
        number = "8%s5" % TAG
        r = self.admin.post("/api/admin/trains/import",
                            network(number, ["A", "B", "C"], name="MIXED RAJDHANI"))
        self.assertEqual(r.status, 200, r)
        date = ist_today() + datetime.timedelta(days=21)
        c, _ = signup("mixedbuyer")
        # 1A has 24 berths and no RAC: 22 taken, then 4 passengers get two
        # berths and two waitlist numbers.
        full = [self.book(client=c, number=number, date=date, cls="1A", people=passengers(n)).json
                for n in (6, 6, 6, 4)]
        mixed = self.book(client=c, number=number, date=date, cls="1A", people=passengers(4)).json
        self.assertEqual([p["status"] for p in mixed["passengers"]], ["CNF", "CNF", "WL", "WL"])
        wl = self.book(client=c, number=number, date=date, cls="1A", people=passengers(1)).json
        self.assertEqual(wl["passengers"][0]["status"], "WL")
        paid = self.pay(c, full[0]["hold_id"])
        order = self.pay(c, mixed["hold_id"])
        whole = self.pay(c, wl["hold_id"])
        fare = mixed["fare"]
        shown = c.get("/api/orders/%d" % order).json
        self.assertEqual((shown["amount"], shown["amount_refunded"]), (4 * fare, 0))
        before = {b["pnr"]: c.get("/api/pnr/%s" % b["pnr"]).json["passengers"] for b in full}
        mixed_before = c.get("/api/pnr/%s" % mixed["pnr"]).json["passengers"]
        paid_before = c.get("/api/orders/%d" % paid).json

        sql("UPDATE train_runs SET chart_at = now() WHERE train_number = :'v1' AND run_date = :'v2'",
            number, date)

        def settled():
            o = c.get("/api/orders/%d" % order).json
            w = c.get("/api/orders/%d" % whole).json
            return (o["refund"] or {}).get("status") == "done" and \
                (w["refund"] or {}).get("status") == "done"
        self.assertTrue(wait_for(settled, 40), (c.get("/api/orders/%d" % order).json,
                                                server_errors()))
        o = c.get("/api/orders/%d" % order).json
        self.assertEqual(o["status"], "paid")
        self.assertEqual((o["amount"], o["amount_refunded"], o["refund"]["amount"]),
                         (4 * fare, 2 * fare, 2 * fare))
        self.assertEqual(o["pnr"], mixed["pnr"])
        after = o["booking"]["passengers"]
        self.assertTrue(o["booking"]["chart_prepared"])
        for p, was in zip(after[:2], mixed_before[:2]):
            self.assertEqual((p["status"], p["coach"], p["berth"], p["refund_due"]),
                             ("CNF", was["coach"], was["berth"], 0))
        for p in after[2:]:
            self.assertEqual((p["status"], p["cancel_reason"], p["refund_due"]),
                             ("CAN", "chart", fare))
        # The booking with nobody left travelling is refunded whole.
        w = c.get("/api/orders/%d" % whole).json
        self.assertEqual((w["status"], w["amount_refunded"]), ("refunded", fare))
        # Nothing else changed.
        self.assertEqual({b["pnr"]: c.get("/api/pnr/%s" % b["pnr"]).json["passengers"]
                          for b in full}, before)
        paid_after = c.get("/api/orders/%d" % paid).json
        self.assertEqual(paid_after["booking"]["passengers"], paid_before["booking"]["passengers"])
        self.assertEqual(paid_after["booking"]["chart_prepared"], True)
        for key in ("booking", "refund"):
            paid_after.pop(key)
            paid_before.pop(key)
        self.assertEqual(paid_after, paid_before)
        # The provider refunded exactly the waitlisted fares, once.
        intent = sql_value("SELECT intent_id FROM orders WHERE id = :'v1'", order)
        self.assertEqual(provider_intent(intent), (4 * fare, 2 * fare))
        self.assertEqual(ledger_mismatches(), [])

        # A refund retried after a lost answer (the reconciler sends the
        # part again with its key) never refunds twice.
        sql("UPDATE payments SET state = 'unknown', retry_at = NULL WHERE order_id = :'v1' "
            "AND kind = 'refund'; UPDATE orders SET refund_state = 'pending' WHERE id = :'v1'",
            order)
        self.assertEqual(sql_value("SELECT order_refund_part(:'v1', :'v2', 'order-' || :'v1' "
                                   "|| '-refund-chart')", order, 2 * fare), "existing")
        self.assertTrue(wait_for(settled, 40), server_errors())
        self.assertEqual(provider_intent(intent), (4 * fare, 2 * fare))
        self.assertEqual(sql_value("SELECT count(*) FROM payments WHERE order_id = :'v1' "
                                   "AND kind = 'refund'", order), "1")
        self.assertEqual(ledger_mismatches(), [])

        # More than is left is refused by our function, by the schema, and
        # by the provider, and changes nothing.
        self.assertEqual(sql_value("SELECT order_refund_part(:'v1', :'v2', 'too-much')",
                                   order, 2 * fare + 1), "too_large")
        with self.assertRaises(subprocess.CalledProcessError) as e:
            sql("\\set VERBOSITY verbose\n"
                "INSERT INTO payments (order_id, kind, idempotency_key, amount) "
                "VALUES (:'v1', 'refund', 'too-much', :'v2')", order, 2 * fare + 1)
        self.assertIn("refunds_within_paid_amount", e.exception.stderr)
        status, body = provider("POST", "/v1/refunds",
                                {"payment_intent": intent, "amount": str(2 * fare + 1)})
        self.assertEqual((status, body["error"]["type"], body["error"]["code"]),
                         (400, "invalid_request_error", "amount_too_large"))
        self.assertEqual(provider_intent(intent), (4 * fare, 2 * fare))
        self.assertEqual(c.get("/api/orders/%d" % order).json["amount_refunded"], 2 * fare)
        self.assertEqual(ledger_mismatches(), [])

    def test_train_order_shows_its_pnr(self):
        c, _ = signup("pnrorder")
        b = self.book(client=c, frm="A", to="D", cls="2A", people=passengers(2)).json
        r = c.post("/api/holds/%d/checkout" % b["hold_id"], headers={"Idempotency-Key": unique("k")})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["order"]["pnr"], b["pnr"])
        self.assertEqual(r.json["order"]["booking"]["pnr"], b["pnr"])
        order = r.json["order"]["id"]
        r = c.post("/api/orders/%d/pay" % order, {"payment_method": "pm_card_visa"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["pnr"], r.json["kind"]), (b["pnr"], "train"))
        self.assertEqual([(p["seq"], p["status"]) for p in r.json["booking"]["passengers"]],
                         [(1, "CNF"), (2, "CNF")])
        o = c.get("/api/orders/%d" % order).json
        self.assertEqual((o["pnr"], o["amount_refunded"]), (b["pnr"], 0))
        self.assertEqual(o["booking"]["passengers"], c.get("/api/pnr/%s" % b["pnr"]).json["passengers"])
        self.assertIn(order, [x["id"] for x in c.get("/api/orders").json["orders"]
                              if x.get("pnr") == b["pnr"]])
        # Another user sees nothing of it.
        self.assertEqual(signup("nosy")[0].get("/api/orders/%d" % order).status, 404)
        # Cancelled: the order shows the whole amount refunded.
        self.assertEqual(c.post("/api/pnr/%s/cancel" % b["pnr"]).status, 200)
        o = c.get("/api/orders/%d" % order).json
        self.assertEqual((o["status"], o["amount_refunded"]), ("refunded", o["amount"]))
        self.assertEqual([p["status"] for p in o["booking"]["passengers"]], ["CAN", "CAN"])
        self.assertTrue(wait_for(lambda: c.get("/api/orders/%d" % order).json["refund"]["status"]
                                 == "done", 30))
        self.assertEqual(ledger_mismatches(), [])

    # --- the race ---------------------------------------------------------------

    def test_200_concurrent_bookings(self):
        number = "8%s4" % TAG
        r = self.admin.post("/api/admin/trains/import",
                            network(number, ["A", "B", "C", "D", "E"], name="RACE RAJDHANI"))
        self.assertEqual(r.status, 200, r)
        date = ist_today() + datetime.timedelta(days=15)
        users = [signup("racer")[0] for _ in range(40)]
        rng = random.Random(5)
        jobs = []
        for i in range(200):
            a, b = sorted(rng.sample(range(5), 2))
            jobs.append((users[i % len(users)], "ABCDE"[a], "ABCDE"[b]))
        results = [None] * len(jobs)
        start = threading.Barrier(len(jobs))

        def run(i):
            client, frm, to = jobs[i]
            mine = Client(token=client.token, timeout=120)
            start.wait()
            results[i] = self.book(client=mine, number=number, date=date, frm=frm, to=to, cls="2A")
            mine.close()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = [r.status for r in results]
        self.assertTrue(set(statuses) <= {201, 409}, [r for r in results if r.status not in (201, 409)][:3])
        self.assertTrue(all(r.error_code == "regret" for r in results if r.status == 409))
        created = sum(1 for s in statuses if s == 201)
        self.assertGreater(created, 100)
        seen = [p["status"] for r in results if r.status == 201 for p in r.json["passengers"]]
        self.assertTrue({"CNF", "RAC", "WL"} >= set(seen) and "CNF" in seen, seen)
        # No overlapping live allocation on any berth.
        overlaps = sql_value("""
            SELECT count(*) FROM train_allocations a JOIN train_allocations b
              ON a.run_id = b.run_id AND a.coach = b.coach AND a.berth = b.berth AND a.id < b.id
             AND a.span && b.span AND a.slots && b.slots
              JOIN train_runs r ON r.id = a.run_id
             WHERE r.train_number = :'v1' AND a.state IN ('held', 'confirmed')
               AND b.state IN ('held', 'confirmed')""", number)
        self.assertEqual(overlaps, "0")
        # Every passenger is CNF, RAC or WL exactly once, with the
        # allocation that status implies.
        rows = sql("""
            SELECT p.status, count(a.id), coalesce(min(upper(a.slots) - lower(a.slots)), 0)
              FROM train_passengers p
              JOIN train_runs r ON r.id = p.run_id
              LEFT JOIN train_allocations a ON a.passenger_id = p.id
                    AND a.state IN ('held', 'confirmed')
             WHERE r.train_number = :'v1'
             GROUP BY p.id, p.status""", number)
        self.assertEqual(len(rows), created)
        for status, allocations, slots in rows:
            self.assertIn((status, allocations, slots),
                          {("CNF", "1", "2"), ("RAC", "1", "1"), ("WL", "0", "0")})
        self.assertEqual(sorted(seen), sorted(r[0] for r in rows))


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=sys.argv[:1])
