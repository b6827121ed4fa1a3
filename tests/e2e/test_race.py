"""test_race.py: 200 buyers race for the same 100 seats through nginx,
by seat ids and best available mixed, for several rounds. Afterwards the
database must show no seat in two live holds, every winner got 201, every
loser 409, and nothing answered 5xx."""

import random
import threading
import unittest

import boxoffice as bo

CLIENTS = 200
SEATS = 100
ROUNDS = 3


class RaceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = bo.admin()
        cls.buyers = [bo.signup("racer")[0] for _ in range(CLIENTS)]

    def race_round(self, round_no):
        event = bo.create_event(self.admin, rows=10, seats_per_row=10, max_per_user=8)
        seats = bo.seat_ids(event["id"])
        self.assertEqual(len(seats), SEATS)
        rng = random.Random(round_no)
        plans = []
        for i in range(CLIENTS):
            if i % 2 == 0:
                plans.append({"seat_ids": rng.sample(seats, rng.randint(1, 4))})
            else:
                plans.append({"quantity": rng.randint(1, 4)})
        results = [None] * CLIENTS
        barrier = threading.Barrier(CLIENTS)

        def buy(i):
            barrier.wait()
            results[i] = self.buyers[i].post("/api/events/%d/holds" % event["id"], plans[i])

        threads = [threading.Thread(target=buy, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        statuses = [r.status for r in results]
        self.assertFalse([r for r in results if r.status >= 500], "no 5xx")
        self.assertEqual(set(statuses) - {201, 409}, set(), statuses)
        winners = [r for r in results if r.status == 201]
        for r in results:
            if r.status == 409:
                self.assertIn(r.error_code, ("seats_unavailable", "sold_out"))
        held = [s["id"] for r in winners for s in r.json["seats"]]
        # Every winner's seats are distinct and exactly those it asked for.
        self.assertEqual(len(held), len(set(held)))
        for r, plan in zip(results, plans):
            if r.status == 201:
                got = sorted(s["id"] for s in r.json["seats"])
                if "seat_ids" in plan:
                    self.assertEqual(got, sorted(plan["seat_ids"]))
                else:
                    self.assertEqual(len(got), plan["quantity"])
        # The database agrees: no seat in two live holds, and each held seat
        # row names the winning hold that has it.
        doubles = bo.sql("""
            SELECT s, count(*) FROM holds h, unnest(h.seat_ids) s
            WHERE h.event_id = :'v1' AND h.status = 'active' AND h.expires_at > now()
            GROUP BY s HAVING count(*) > 1""", event["id"])
        self.assertEqual(doubles, [])
        rows = bo.sql("""
            SELECT count(*) FROM event_seats es JOIN holds h ON h.id = es.hold_id
            WHERE es.event_id = :'v1' AND es.held_until > now()
              AND es.seat_id = ANY (h.seat_ids) AND h.status = 'active'""", event["id"])
        self.assertEqual(int(rows[0][0]), len(held))
        return len(winners), len(held)

    def test_rounds(self):
        for n in range(ROUNDS):
            winners, held = self.race_round(n)
            # With 200 buyers wanting about 500 seats, the 100 seats go.
            self.assertGreater(winners, 20)
            self.assertGreater(held, 80)


if __name__ == "__main__":
    unittest.main(verbosity=2)
