"""test_checkout_orders.py: the orders' SQL functions against a real (throwaway)
PostgreSQL, where races can be staged exactly: many reports of one
payment's success at once (pay answer, webhook, reconciler), a success
that arrives after the order's seats went to someone else, a cancel racing
a success, expiry skipping orders whose payment is still unclear, pay
attempts taking turns with a key each, and the per-user cap. Needs BOXOFFICE_TEST_DATABASE_URL."""

import random
import threading
import unittest

from pgtest import DATABASE_URL, connect

TAG = "%06d" % random.randint(0, 999999)
_serial = iter(range(1, 1000000))



def one(conn, query, *args, **named):
    with conn.cursor() as cur:
        cur.execute(query, named or args)
        return cur.fetchone()


class OrderSql(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not DATABASE_URL:
            raise unittest.SkipTest("BOXOFFICE_TEST_DATABASE_URL is not set")
        cls.db = connect()
        cls.venue = one(cls.db, """SELECT venue_create(jsonb_build_object('name', %s,
            'city', 'Testville', 'sections', jsonb_build_array(jsonb_build_object(
                'name', 'S', 'category', 'A', 'x', 0, 'y', 0, 'rows', 2,
                'seats_per_row', 10))))""", "Orders venue " + TAG)[0]

    def event(self, max_per_user=8):
        return one(self.db, """SELECT event_create(jsonb_build_object('venue_id', %s,
            'title', %s, 'performer', 'T', 'category', 'concert',
            'starts_at', now() + interval '30 days', 'on_sale_at', now() - interval '1 hour',
            'max_per_user', %s, 'prices', '[{"category": "A", "amount": 1500}]'::jsonb))""",
                   self.venue, "Orders event %s-%d" % (TAG, next(_serial)), max_per_user)[0]

    def user(self):
        n = next(_serial)
        uid = one(self.db, "INSERT INTO users (email, name, password_hash) VALUES "
                  "(%s, 'T', 'x') RETURNING id", "orders-%s-%d@example.com" % (TAG, n))[0]
        token = "order-sql-%s-%d" % (TAG, n)
        one(self.db, "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES "
            "(sha256(convert_to(%s, 'UTF8')), %s, now() + interval '1 hour') RETURNING 1",
            token, uid)
        return uid, token

    def hold(self, token, event, quantity=2):
        """Takes the best free seats as hold_create does (written out here so
        that this test does not depend on hold_create's parameters)."""
        return one(self.db, """WITH s AS (
                SELECT seat_id FROM event_seats WHERE event_id = %(e)s AND held_until <= now()
                ORDER BY rank, seat_id LIMIT %(q)s),
            h AS (
                INSERT INTO holds (event_id, user_id, seat_ids, amount, currency, expires_at)
                SELECT %(e)s, (SELECT user_id FROM sessions
                               WHERE token_hash = sha256(convert_to(%(t)s, 'UTF8'))),
                       (SELECT array_agg(seat_id) FROM s), 1500 * %(q)s, 'INR',
                       now() + interval '10 minutes'
                RETURNING id, expires_at),
            u AS (
                UPDATE event_seats es SET hold_id = h.id, held_until = h.expires_at
                FROM h WHERE es.event_id = %(e)s AND es.seat_id IN (SELECT seat_id FROM s)
                RETURNING 1)
            SELECT id FROM h, (SELECT count(*) FROM u) c""",
                   e=event, q=quantity, t=token)[0]

    def order(self, uid, hold):
        """A pending order with an intent, as checkout leaves it."""
        intent = "pi_test_%s_h%d" % (TAG, hold)
        row = one(self.db, "SELECT outcome, order_id FROM order_checkout(%s, %s, %s, %s, %s)",
                  uid, hold, "key-%d" % next(_serial), intent, "secret")
        self.assertEqual(row[0], "created")
        return row[1], intent

    def succeed(self, intent, conn=None):
        return one(conn or self.db, "SELECT outcome FROM order_payment_succeeded(%s, false)",
                   intent)[0]

    def status(self, order):
        return one(self.db, "SELECT status, refund_state FROM orders WHERE id = %s", order)

    def tearDown(self):
        for query in (
                "SELECT count(*) FROM orders o WHERE o.status = 'paid' AND o.kind = 'event' AND "
                "(SELECT count(*) FROM tickets t WHERE t.order_id = o.id AND t.status = 'valid')"
                " <> (SELECT cardinality(seat_ids) FROM holds h WHERE h.id = o.hold_id)",
                "SELECT count(*) FROM tickets t JOIN orders o ON o.id = t.order_id "
                "WHERE t.status = 'valid' AND o.status <> 'paid'",
                "SELECT count(*) FROM (SELECT 1 FROM tickets WHERE status = 'valid' "
                "GROUP BY event_id, seat_id HAVING count(*) > 1) x"):
            self.assertEqual(one(self.db, query)[0], 0, query)

    def test_many_reports_of_one_success_issue_tickets_once(self):
        ev = self.event()
        uid, token = self.user()
        order, intent = self.order(uid, self.hold(token, ev, 3))
        outcomes = []
        start = threading.Barrier(12)

        def report():
            conn = connect()
            start.wait()
            outcomes.append(self.succeed(intent, conn))
            conn.close()
        threads = [threading.Thread(target=report) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(outcomes), ["already_paid"] * 11 + ["paid"])
        self.assertEqual(self.status(order), ("paid", None))
        self.assertEqual(one(self.db, "SELECT count(*) FROM tickets WHERE order_id = %s",
                             order)[0], 3)

    def test_success_after_seats_were_taken_owes_a_refund(self):
        ev = self.event()
        uid, token = self.user()
        hold = self.hold(token, ev, 2)
        order, intent = self.order(uid, hold)
        # The deadline passes and a rival takes the same seats.
        one(self.db, "UPDATE holds SET created_at = now() - interval '2 hours', "
            "expires_at = now() - interval '1 hour' WHERE id = %s RETURNING 1", hold)
        one(self.db, "UPDATE event_seats SET held_until = now() - interval '1 hour' "
            "WHERE hold_id = %s RETURNING 1", hold)
        one(self.db, "UPDATE orders SET expires_at = now() - interval '1 hour' WHERE id = %s "
            "RETURNING 1", order)
        _, rival_token = self.user()
        rival = self.hold(rival_token, ev, 2)
        self.assertEqual(self.succeed(intent), "refund")
        self.assertEqual(self.status(order), ("expired", "pending"))
        self.assertEqual(one(self.db, "SELECT payment_error->>'code' FROM orders WHERE id = %s",
                             order)[0], "seats_taken")
        # Reported again: still one refund owed, rival untouched.
        self.assertEqual(self.succeed(intent), "refund")
        self.assertEqual(one(self.db, "SELECT count(*) FROM payments WHERE order_id = %s AND "
                             "kind = 'refund'", order)[0], 1)
        one(self.db, "SELECT order_refund_part_done(id, 're_1') FROM payments WHERE order_id = %s "
            "AND kind = 'refund'", order)
        self.assertEqual(self.status(order), ("expired", "done"))
        self.assertEqual(self.succeed(intent), "already_refunded")
        self.assertEqual(one(self.db, "SELECT count(*) FROM event_seats WHERE hold_id = %s "
                             "AND held_until > now()", rival)[0], 2)

    def test_success_after_deadline_with_seats_free_completes(self):
        ev = self.event()
        uid, token = self.user()
        hold = self.hold(token, ev, 2)
        order, intent = self.order(uid, hold)
        one(self.db, "UPDATE event_seats SET held_until = now() - interval '1 minute' "
            "WHERE hold_id = %s RETURNING 1", hold)
        one(self.db, "UPDATE orders SET status = 'expired' WHERE id = %s RETURNING 1", order)
        self.assertEqual(self.succeed(intent), "paid")
        self.assertEqual(self.status(order), ("paid", None))

    def test_cancel_racing_success_never_keeps_money_without_tickets(self):
        for _ in range(5):
            ev = self.event()
            uid, token = self.user()
            order, intent = self.order(uid, self.hold(token, ev, 2))
            start = threading.Barrier(2)
            results = {}

            def cancel():
                conn = connect()
                start.wait()
                results["cancel"] = one(conn, "SELECT outcome FROM order_cancel(NULL, %s)",
                                        order)[0]
                conn.close()

            def success():
                conn = connect()
                start.wait()
                results["success"] = self.succeed(intent, conn)
                conn.close()
            threads = [threading.Thread(target=cancel), threading.Thread(target=success)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            status, refund = self.status(order)
            # Either way the money goes back and no ticket stays valid.
            self.assertIn(status, ("canceled", "refunded"), results)
            self.assertEqual(refund, "pending", results)
            self.assertEqual(one(self.db, "SELECT count(*) FROM tickets WHERE order_id = %s "
                                 "AND status = 'valid'", order)[0], 0)
            self.assertEqual(one(self.db, "SELECT count(*) FROM event_seats WHERE event_id = %s "
                                 "AND held_until > now()", ev)[0], 0)
            one(self.db, "SELECT order_refund_part_done(id, 're_x') FROM payments "
                "WHERE order_id = %s AND kind = 'refund'", order)

    def test_expiry_waits_for_unclear_payments(self):
        ev = self.event()
        uid, token = self.user()
        a, _ = self.order(uid, self.hold(token, ev, 1))
        b, intent_b = self.order(uid, self.hold(token, ev, 1))
        begin = one(self.db, "SELECT outcome, payment_id FROM order_pay_begin(%s, %s, "
                    "'pm_card_visa')", uid, b)
        self.assertEqual(begin[0], "ready")
        one(self.db, "SELECT order_payment_unknown(%s, 'unknown', 'timeout')", begin[1])
        self.assertEqual(one(self.db, "SELECT outcome FROM order_pay_begin(%s, %s, "
                             "'pm_card_visa')", uid, b)[0], "in_progress")
        one(self.db, "UPDATE orders SET expires_at = now() - interval '1 second' "
            "WHERE id IN (%s, %s) RETURNING 1", a, b)
        one(self.db, "SELECT order_expire(1000)")
        self.assertEqual(self.status(a)[0], "expired")
        self.assertEqual(self.status(b)[0], "pending_payment")
        work = one(self.db, "SELECT count(*) FROM order_reconcile_work(1000) WHERE order_id = %s",
                   b)[0]
        self.assertEqual(work, 1)
        one(self.db, "SELECT order_reconcile_later(%s, 'confirm')", b)
        self.assertEqual(one(self.db, "SELECT count(*) FROM order_reconcile_work(1000) "
                             "WHERE order_id = %s", b)[0], 0)
        # Settled (the provider says it failed): nothing left open for the
        # suites that share this database.
        one(self.db, "SELECT order_payment_failed(%s, NULL, true, 'card_declined', 'no')",
            intent_b)
        self.assertEqual(one(self.db, "SELECT count(*) FROM payments WHERE order_id = %s AND "
                             "state IN ('started', 'unknown')", b)[0], 0)

    def test_pay_attempts_take_turns_each_with_its_own_key(self):
        ev = self.event()
        uid, token = self.user()
        order, intent = self.order(uid, self.hold(token, ev, 2))
        begin = "SELECT outcome, payment_id, confirm_key FROM order_pay_begin(%s, %s, %s)"
        first = one(self.db, begin, uid, order, "pm_card_visa_chargeDeclined")
        self.assertEqual((first[0], first[2]), ("ready", "order-%d-confirm-1" % order))
        # While the first is with the provider, a second card must wait.
        self.assertEqual(one(self.db, begin, uid, order, "pm_card_visa")[0], "in_progress")
        one(self.db, "SELECT order_payment_failed(%s, %s, false, 'card_declined', 'no')",
            intent, first[1])
        second = one(self.db, begin, uid, order, "pm_card_visa")
        self.assertEqual((second[0], second[2]), ("ready", "order-%d-confirm-2" % order))
        self.assertEqual(self.succeed(intent), "paid")
        self.assertEqual(one(self.db, "SELECT count(*) FROM tickets WHERE order_id = %s "
                             "AND status = 'valid'", order)[0], 2)
        self.assertEqual(one(self.db, begin, uid, order, "pm_card_visa")[0], "already_paid")

    def test_cap_counts_paid_and_pending_orders_only(self):
        ev = self.event(max_per_user=2)
        uid, token = self.user()
        order, intent = self.order(uid, self.hold(token, ev, 2))
        self.assertEqual(one(self.db, "SELECT hold_user_seats(%s, %s)", uid, ev)[0], 2)
        self.assertEqual(self.succeed(intent), "paid")
        self.assertEqual(one(self.db, "SELECT hold_user_seats(%s, %s)", uid, ev)[0], 2)
        self.assertEqual(one(self.db, "SELECT outcome FROM order_cancel(%s, %s)", uid, order)[0],
                         "refund")
        self.assertEqual(one(self.db, "SELECT hold_user_seats(%s, %s)", uid, ev)[0], 0)
        one(self.db, "SELECT order_refund_part_done(id, 're_2') FROM payments WHERE order_id = %s "
            "AND kind = 'refund'", order)


if __name__ == "__main__":
    unittest.main(verbosity=2)
