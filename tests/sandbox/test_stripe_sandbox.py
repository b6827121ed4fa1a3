"""test_stripe_sandbox.py: the payment sandbox behaves like Stripe's test mode.

Runs the real program (sandbox/stripe_sandbox.py) on a free loopback port
with a webhook receiver in this process. Standard library only:
    python3 -m unittest tests/sandbox/test_stripe_sandbox.py
"""

import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SANDBOX = os.path.join(HERE, "..", "..", "sandbox", "stripe_sandbox.py")
KEY = "sk_test_sandboxkey0123456789"
OTHER_KEY = "sk_test_otheraccount987654"
WEBHOOK_SECRET = "whsec_testsecret"


class Receiver:
    """A webhook endpoint that records every delivery and can be told to
    fail the next n deliveries."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = []
        self.fail_next = 0
        receiver = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                    receiver.deliveries.append(
                        {"signature": self.headers.get("Stripe-Signature"), "body": body,
                         "status": 500 if failing else 200})
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the sandbox dropping a keep-alive connection is not news

        self.server = Quiet(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/webhook" % self.server.server_address[1]

    def events(self, predicate, count=1, timeout=5.0):
        """Waits until count successful deliveries match predicate(event)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [(d, json.loads(d["body"])) for d in self.deliveries
                         if d["status"] == 200 and predicate(json.loads(d["body"]))]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def attempts(self, predicate):
        with self.lock:
            return [d for d in self.deliveries if predicate(json.loads(d["body"]))]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def start_sandbox(extra_args):
    """Starts the sandbox on a free port; returns (process, base url, log path)."""
    log = tempfile.NamedTemporaryFile(prefix="stripe-sandbox-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, SANDBOX, "--host", "127.0.0.1", "--port", "0", "--api-key", KEY,
         "--api-key", OTHER_KEY] + extra_args, stderr=log, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(log.name) as f:
            first = f.readline()
        if "listening on" in first:
            return proc, first.strip().rsplit(" ", 1)[1], log.name
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    with open(log.name) as f:
        raise RuntimeError("sandbox did not start: " + f.read())


class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port

    def call(self, method, path, params=None, key=KEY, idem=None, json_body=None):
        """Returns (status, parsed body, headers dict with lowercase names)."""
        headers = {}
        body = None
        if key is not None:
            headers["Authorization"] = "Bearer " + key
        if idem is not None:
            headers["Idempotency-Key"] = idem
        if json_body is not None:
            body = json.dumps(json_body)
            headers["Content-Type"] = "application/json"
        elif params is not None:
            body = urllib.parse.urlencode(params)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return (resp.status, json.loads(data) if data else None,
                    {k.lower(): v for k, v in resp.getheaders()})
        finally:
            conn.close()


class SandboxCase(unittest.TestCase):
    extra_args = []

    @classmethod
    def setUpClass(cls):
        cls.receiver = Receiver()
        cls.proc, cls.base, cls.log = start_sandbox(
            ["--webhook-url", cls.receiver.url, "--webhook-secret", WEBHOOK_SECRET]
            + cls.extra_args)
        cls.api = Client(cls.base)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(5)
        cls.receiver.close()
        os.unlink(cls.log)

    def setUp(self):
        self.api.call("DELETE", "/_sandbox/faults")
        self.api.call("POST", "/_sandbox/webhooks/resume")

    def create(self, amount=2500, currency="eur", order_id="42", extra=(), idem=None):
        status, pi, _ = self.api.call(
            "POST", "/v1/payment_intents",
            [("amount", str(amount)), ("currency", currency),
             ("metadata[order_id]", order_id), ("payment_method_types[]", "card")] + list(extra),
            idem=idem)
        self.assertEqual(status, 200, pi)
        return pi

    def confirm(self, intent_id, pm, idem=None):
        return self.api.call("POST", "/v1/payment_intents/%s/confirm" % intent_id,
                             [("payment_method", pm)], idem=idem)


class TestAuthentication(SandboxCase):
    def test_missing_key_is_401_with_stripe_error_shape(self):
        status, body, _ = self.api.call("GET", "/v1/payment_intents/pi_x", key=None)
        self.assertEqual(status, 401)
        self.assertEqual(body["error"]["type"], "invalid_request_error")
        self.assertIn("API key", body["error"]["message"])

    def test_wrong_key_is_401_and_masked(self):
        status, body, _ = self.api.call("GET", "/v1/payment_intents/pi_x",
                                        key="sk_test_wrongwrongwrong1234")
        self.assertEqual(status, 401)
        self.assertNotIn("wrongwrongwrong", body["error"]["message"])

    def test_basic_auth_with_key_as_user_is_accepted(self):
        import base64
        conn = http.client.HTTPConnection(self.api.host, self.api.port, timeout=5)
        token = base64.b64encode((KEY + ":").encode()).decode()
        conn.request("GET", "/v1/payment_intents/pi_missing",
                     headers={"Authorization": "Basic " + token})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        self.assertEqual(resp.status, 404)

    def test_log_has_one_line_per_request_and_never_the_key(self):
        # The line is written just after the answer is sent: wait for it.
        self.api.call("GET", "/v1/payment_intents/pi_logcheck")
        self.api.call("GET", "/v1/payment_intents/pi_logcheck", key="sk_test_leakyleakyleaky99")
        deadline = time.monotonic() + 2
        while True:
            with open(self.log) as f:
                text = f.read()
            lines = [line for line in text.splitlines() if "/pi_logcheck " in line]
            if len(lines) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.assertEqual(len(lines), 2)
        self.assertIn(" 404 ", lines[0])
        self.assertIn(" 401 ", lines[1])
        self.assertNotIn(KEY, text)
        self.assertNotIn("leakyleaky", text)


class TestPaymentIntents(SandboxCase):
    def test_create_has_stripe_shape(self):
        pi = self.create(amount=1999, currency="EUR", order_id="77")
        self.assertTrue(pi["id"].startswith("pi_"))
        self.assertEqual(pi["object"], "payment_intent")
        self.assertEqual(pi["amount"], 1999)
        self.assertEqual(pi["currency"], "eur")
        self.assertEqual(pi["status"], "requires_payment_method")
        self.assertTrue(pi["client_secret"].startswith(pi["id"] + "_secret_"))
        self.assertEqual(pi["metadata"], {"order_id": "77"})
        self.assertIs(pi["livemode"], False)
        self.assertIsNone(pi["latest_charge"])
        self.assertIsNone(pi["last_payment_error"])
        self.assertEqual(pi["payment_method_types"], ["card"])
        self.assertIsInstance(pi["created"], int)

    def test_create_accepts_percent_encoded_brackets_and_indexes(self):
        body = ("amount=500&currency=usd&metadata%5Border_id%5D=9&metadata%5Bnote%5D=a+b%26c"
                "&payment_method_types%5B0%5D=card")
        conn = http.client.HTTPConnection(self.api.host, self.api.port, timeout=5)
        conn.request("POST", "/v1/payment_intents", body=body,
                     headers={"Authorization": "Bearer " + KEY,
                              "Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        pi = json.loads(resp.read())
        conn.close()
        self.assertEqual(resp.status, 200, pi)
        self.assertEqual(pi["metadata"], {"order_id": "9", "note": "a b&c"})

    def test_create_with_automatic_payment_methods(self):
        status, pi, _ = self.api.call("POST", "/v1/payment_intents", [
            ("amount", "700"), ("currency", "eur"), ("automatic_payment_methods[enabled]", "true")])
        self.assertEqual(status, 200, pi)
        self.assertEqual(pi["automatic_payment_methods"], {"enabled": True})

    def test_create_rejects_bad_parameters(self):
        cases = [
            ([("currency", "eur")], "parameter_missing", "amount"),
            ([("amount", "10")], "parameter_missing", "currency"),
            ([("amount", "-5"), ("currency", "eur")], "parameter_invalid_integer", "amount"),
            ([("amount", "1.5"), ("currency", "eur")], "parameter_invalid_integer", "amount"),
            ([("amount", "10"), ("currency", "euro")], "parameter_invalid_string", "currency"),
            ([("amount", "10"), ("currency", "eur"), ("colour", "red")], "parameter_unknown",
             "colour"),
        ]
        for params, code, param in cases:
            with self.subTest(params=params):
                status, body, _ = self.api.call("POST", "/v1/payment_intents", params)
                self.assertEqual(status, 400)
                self.assertEqual(body["error"]["type"], "invalid_request_error")
                self.assertEqual(body["error"]["code"], code)
                self.assertEqual(body["error"]["param"], param)

    def test_confirm_with_succeeding_cards(self):
        for pm in ("pm_card_visa", "pm_card_mastercard"):
            with self.subTest(pm=pm):
                pi = self.create(amount=1200)
                status, body, _ = self.confirm(pi["id"], pm)
                self.assertEqual(status, 200, body)
                self.assertEqual(body["status"], "succeeded")
                self.assertEqual(body["amount_received"], 1200)
                self.assertTrue(body["latest_charge"].startswith("ch_"))
                self.assertEqual(body["payment_method"], pm)
                _, charge, _ = self.api.call("GET", "/v1/charges/" + body["latest_charge"])
                self.assertEqual(charge["amount_captured"], 1200)
                self.assertTrue(charge["paid"])

    def test_create_with_confirm_true(self):
        pi = self.create(extra=[("payment_method", "pm_card_visa"), ("confirm", "true")])
        self.assertEqual(pi["status"], "succeeded")

    def test_declines_like_stripe_test_mode(self):
        cases = [
            ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
            ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
            ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
            ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined",
             "insufficient_funds"),
            ("pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"),
            ("pm_card_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
            ("pm_card_chargeDeclinedFraudulent", "card_declined", "fraudulent"),
            ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
            ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
            ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
        ]
        for pm, code, decline_code in cases:
            with self.subTest(pm=pm):
                pi = self.create()
                status, body, _ = self.confirm(pi["id"], pm)
                self.assertEqual(status, 402)
                err = body["error"]
                self.assertEqual(err["type"], "card_error")
                self.assertEqual(err["code"], code)
                self.assertEqual(err["decline_code"], decline_code)
                self.assertTrue(err["message"])
                self.assertTrue(err["charge"].startswith("ch_"))
                embedded = err["payment_intent"]
                self.assertEqual(embedded["id"], pi["id"])
                self.assertEqual(embedded["status"], "requires_payment_method")
                self.assertEqual(embedded["last_payment_error"]["code"], code)
                self.assertEqual(embedded["last_payment_error"]["decline_code"], decline_code)

    def test_decline_then_success(self):
        pi = self.create(amount=3000)
        status, _, _ = self.confirm(pi["id"], "pm_card_visa_chargeDeclined")
        self.assertEqual(status, 402)
        status, body, _ = self.confirm(pi["id"], "pm_card_visa")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "succeeded")
        self.assertIsNone(body["last_payment_error"])

    def test_confirm_succeeded_intent_is_unexpected_state(self):
        pi = self.create()
        self.confirm(pi["id"], "pm_card_visa")
        status, body, _ = self.confirm(pi["id"], "pm_card_visa")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "payment_intent_unexpected_state")
        self.assertEqual(body["error"]["payment_intent"]["status"], "succeeded")

    def test_unknown_payment_method_is_resource_missing(self):
        pi = self.create()
        status, body, _ = self.confirm(pi["id"], "pm_card_nonsense")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "resource_missing")
        self.assertEqual(body["error"]["param"], "payment_method")

    def test_unknown_intent_is_404(self):
        status, body, _ = self.api.call("GET", "/v1/payment_intents/pi_doesnotexist")
        self.assertEqual(status, 404)
        self.assertEqual(body["error"]["code"], "resource_missing")
        status, body, _ = self.confirm("pi_doesnotexist", "pm_card_visa")
        self.assertEqual(status, 404)

    def test_retrieve(self):
        pi = self.create(amount=4321)
        status, body, _ = self.api.call("GET", "/v1/payment_intents/" + pi["id"])
        self.assertEqual(status, 200)
        self.assertEqual(body, pi)

    def test_cancel(self):
        pi = self.create()
        status, body, _ = self.api.call("POST", "/v1/payment_intents/%s/cancel" % pi["id"],
                                        [("cancellation_reason", "abandoned")])
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "canceled")
        self.assertEqual(body["cancellation_reason"], "abandoned")
        self.assertIsInstance(body["canceled_at"], int)
        status, body, _ = self.confirm(pi["id"], "pm_card_visa")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "payment_intent_unexpected_state")

    def test_cancel_succeeded_is_unexpected_state(self):
        pi = self.create()
        self.confirm(pi["id"], "pm_card_visa")
        status, body, _ = self.api.call("POST", "/v1/payment_intents/%s/cancel" % pi["id"])
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "payment_intent_unexpected_state")

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = http.client.HTTPConnection(self.api.host, self.api.port, timeout=5)
        for _ in range(3):
            conn.request("GET", "/v1/payment_intents/pi_nope",
                         headers={"Authorization": "Bearer " + KEY})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 404)
            self.assertFalse(resp.will_close)
        conn.close()

    def test_unknown_route_is_404(self):
        status, body, _ = self.api.call("POST", "/v1/customers", [("email", "a@b.c")])
        self.assertEqual(status, 404)
        self.assertIn("Unrecognized request URL", body["error"]["message"])


class TestRefunds(SandboxCase):
    def paid(self, amount=1000):
        pi = self.create(amount=amount)
        status, body, _ = self.confirm(pi["id"], "pm_card_visa")
        self.assertEqual(status, 200)
        return body

    def test_full_refund(self):
        pi = self.paid(1000)
        status, re, _ = self.api.call("POST", "/v1/refunds", [("payment_intent", pi["id"])])
        self.assertEqual(status, 200, re)
        self.assertTrue(re["id"].startswith("re_"))
        self.assertEqual(re["object"], "refund")
        self.assertEqual(re["amount"], 1000)
        self.assertEqual(re["status"], "succeeded")
        self.assertEqual(re["payment_intent"], pi["id"])
        self.assertEqual(re["charge"], pi["latest_charge"])
        status, body, _ = self.api.call("POST", "/v1/refunds", [("payment_intent", pi["id"])])
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "charge_already_refunded")

    def test_partial_refunds_and_too_large(self):
        pi = self.paid(1000)
        status, re, _ = self.api.call("POST", "/v1/refunds",
                                      [("payment_intent", pi["id"]), ("amount", "400")])
        self.assertEqual((status, re["amount"]), (200, 400))
        status, body, _ = self.api.call("POST", "/v1/refunds",
                                        [("payment_intent", pi["id"]), ("amount", "700")])
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "amount_too_large")
        status, re, _ = self.api.call("POST", "/v1/refunds", [("payment_intent", pi["id"])])
        self.assertEqual((status, re["amount"]), (200, 600))
        _, got, _ = self.api.call("GET", "/v1/refunds/" + re["id"])
        self.assertEqual(got, re)

    def test_refund_of_unpaid_intent_is_rejected(self):
        pi = self.create()
        status, body, _ = self.api.call("POST", "/v1/refunds", [("payment_intent", pi["id"])])
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["type"], "invalid_request_error")


class TestIdempotency(SandboxCase):
    PARAMS = [("amount", "1500"), ("currency", "eur"), ("metadata[order_id]", "8")]

    def test_replay_returns_stored_answer(self):
        s1, b1, h1 = self.api.call("POST", "/v1/payment_intents", self.PARAMS, idem="idem-replay")
        s2, b2, h2 = self.api.call("POST", "/v1/payment_intents", self.PARAMS, idem="idem-replay")
        self.assertEqual((s1, s2), (200, 200))
        self.assertEqual(b1, b2)
        self.assertNotIn("idempotent-replayed", h1)
        self.assertEqual(h2["idempotent-replayed"], "true")

    def test_parameter_order_does_not_matter(self):
        _, b1, _ = self.api.call("POST", "/v1/payment_intents", self.PARAMS, idem="idem-order")
        _, b2, h2 = self.api.call("POST", "/v1/payment_intents", self.PARAMS[::-1],
                                  idem="idem-order")
        self.assertEqual(b1["id"], b2["id"])
        self.assertEqual(h2["idempotent-replayed"], "true")

    def test_same_key_other_parameters_is_idempotency_error(self):
        self.api.call("POST", "/v1/payment_intents", self.PARAMS, idem="idem-mismatch")
        status, body, _ = self.api.call("POST", "/v1/payment_intents",
                                        [("amount", "1501"), ("currency", "eur")],
                                        idem="idem-mismatch")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["type"], "idempotency_error")

    def test_keys_are_scoped_to_the_api_key(self):
        _, b1, _ = self.api.call("POST", "/v1/payment_intents", self.PARAMS, idem="idem-scope")
        _, b2, h2 = self.api.call("POST", "/v1/payment_intents", self.PARAMS, idem="idem-scope",
                                  key=OTHER_KEY)
        self.assertNotEqual(b1["id"], b2["id"])
        self.assertNotIn("idempotent-replayed", h2)

    def test_decline_is_replayed_too(self):
        pi = self.create()
        s1, b1, _ = self.confirm(pi["id"], "pm_card_chargeDeclined", idem="idem-decline")
        s2, b2, h2 = self.confirm(pi["id"], "pm_card_chargeDeclined", idem="idem-decline")
        self.assertEqual((s1, s2), (402, 402))
        self.assertEqual(b1, b2)
        self.assertEqual(h2["idempotent-replayed"], "true")

    def test_failed_validation_is_not_stored(self):
        status, _, _ = self.api.call("POST", "/v1/payment_intents", [("currency", "eur")],
                                     idem="idem-invalid")
        self.assertEqual(status, 400)
        status, _, h = self.api.call("POST", "/v1/payment_intents", self.PARAMS,
                                     idem="idem-invalid")
        self.assertEqual(status, 200)
        self.assertNotIn("idempotent-replayed", h)


class TestFaults(SandboxCase):
    def faults(self, *specs):
        status, _, _ = self.api.call("POST", "/_sandbox/faults", json_body={"faults": list(specs)})
        self.assertEqual(status, 200)

    def test_status_fault_is_consumed_once_and_does_not_execute(self):
        pi = self.create()
        self.faults({"match": "confirm", "status": 500})
        status, body, _ = self.confirm(pi["id"], "pm_card_visa", idem="fault-500")
        self.assertEqual(status, 500)
        self.assertEqual(body["error"]["type"], "api_error")
        _, now, _ = self.api.call("GET", "/v1/payment_intents/" + pi["id"])
        self.assertEqual(now["status"], "requires_payment_method")
        status, body, h = self.confirm(pi["id"], "pm_card_visa", idem="fault-500")
        self.assertEqual(status, 200)
        self.assertNotIn("idempotent-replayed", h)

    def test_any_matches_every_operation_and_429_shape(self):
        self.faults({"match": "any", "status": 429})
        status, body, _ = self.api.call("GET", "/v1/payment_intents/pi_x")
        self.assertEqual(status, 429)
        self.assertEqual(body["error"]["code"], "rate_limit")
        status, _, _ = self.api.call("GET", "/v1/payment_intents/pi_x")
        self.assertEqual(status, 404)

    def test_fault_only_matches_its_operation(self):
        self.faults({"match": "refund", "status": 503})
        pi = self.create()
        status, _, _ = self.confirm(pi["id"], "pm_card_visa")
        self.assertEqual(status, 200)
        status, _, _ = self.api.call("POST", "/v1/refunds", [("payment_intent", pi["id"])])
        self.assertEqual(status, 503)

    def test_delay(self):
        pi = self.create()
        self.faults({"match": "confirm", "delay_ms": 400})
        started = time.monotonic()
        status, _, _ = self.confirm(pi["id"], "pm_card_visa")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.38)

    def test_after_commit_status_commits_then_fails(self):
        pi = self.create(amount=900)
        self.faults({"match": "confirm", "after_commit_status": 500})
        status, _, _ = self.confirm(pi["id"], "pm_card_visa", idem="fault-after")
        self.assertEqual(status, 500)
        _, now, _ = self.api.call("GET", "/v1/payment_intents/" + pi["id"])
        self.assertEqual(now["status"], "succeeded")
        status, body, h = self.confirm(pi["id"], "pm_card_visa", idem="fault-after")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "succeeded")
        self.assertEqual(h["idempotent-replayed"], "true")

    def test_delete_clears(self):
        self.faults({"match": "any", "status": 500}, {"match": "any", "status": 500})
        self.api.call("DELETE", "/_sandbox/faults")
        status, _, _ = self.api.call("GET", "/v1/payment_intents/pi_x")
        self.assertEqual(status, 404)

    def test_bad_fault_body_is_400(self):
        status, _, _ = self.api.call("POST", "/_sandbox/faults", json_body=[1, 2])
        self.assertEqual(status, 400)


class TestLedger(SandboxCase):
    def test_charges_minus_refunds(self):
        _, before, _ = self.api.call("GET", "/_sandbox/ledger")
        chf = before["currencies"].get("chf", {"charged": 0, "refunded": 0, "net": 0})
        a = self.create(amount=1000, currency="chf")
        b = self.create(amount=2000, currency="chf")
        c = self.create(amount=4000, currency="chf")
        self.confirm(a["id"], "pm_card_visa")
        self.confirm(b["id"], "pm_card_visa")
        self.confirm(c["id"], "pm_card_chargeDeclined")
        self.api.call("POST", "/v1/refunds", [("payment_intent", b["id"]), ("amount", "500")])
        _, after, _ = self.api.call("GET", "/_sandbox/ledger")
        now = after["currencies"]["chf"]
        self.assertEqual(now["charged"] - chf["charged"], 3000)
        self.assertEqual(now["refunded"] - chf["refunded"], 500)
        self.assertEqual(now["net"] - chf["net"], 2500)
        by_id = {i["id"]: i for i in after["intents"]}
        self.assertEqual(by_id[b["id"]]["charged"], 2000)
        self.assertEqual(by_id[b["id"]]["refunded"], 500)
        self.assertEqual(by_id[c["id"]]["charged"], 0)
        self.assertEqual(by_id[a["id"]]["metadata"], {"order_id": "42"})


def verify_signature(header, body, secret=WEBHOOK_SECRET, tolerance=300):
    items = dict(part.split("=", 1) for part in header.split(","))
    t = int(items["t"])
    expected = hmac.new(secret.encode(), str(t).encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, items["v1"]) and abs(time.time() - t) <= tolerance


class TestWebhooks(SandboxCase):
    def of(self, type_, object_id):
        return lambda e: e["type"] == type_ and e["data"]["object"]["id"] == object_id

    def test_succeeded_event_is_signed_and_stripe_shaped(self):
        pi = self.create()
        self.confirm(pi["id"], "pm_card_visa")
        got = self.receiver.events(self.of("payment_intent.succeeded", pi["id"]))
        self.assertEqual(len(got), 1)
        delivery, event = got[0]
        self.assertTrue(verify_signature(delivery["signature"], delivery["body"]))
        self.assertFalse(verify_signature(delivery["signature"], delivery["body"], "whsec_other"))
        self.assertTrue(event["id"].startswith("evt_"))
        self.assertEqual(event["object"], "event")
        self.assertIs(event["livemode"], False)
        self.assertIsInstance(event["created"], int)
        self.assertTrue(event["api_version"])
        self.assertEqual(event["data"]["object"]["status"], "succeeded")
        status, stored, _ = self.api.call("GET", "/v1/events/" + event["id"])
        self.assertEqual((status, stored), (200, event))

    def test_every_state_change_is_delivered(self):
        failed = self.create()
        self.confirm(failed["id"], "pm_card_chargeDeclinedInsufficientFunds")
        canceled = self.create()
        self.api.call("POST", "/v1/payment_intents/%s/cancel" % canceled["id"])
        paid = self.create()
        _, paid, _ = self.confirm(paid["id"], "pm_card_visa")
        self.api.call("POST", "/v1/refunds", [("payment_intent", paid["id"])])
        for type_, object_id in (("payment_intent.payment_failed", failed["id"]),
                                 ("payment_intent.canceled", canceled["id"]),
                                 ("charge.refunded", paid["latest_charge"])):
            with self.subTest(type=type_):
                got = self.receiver.events(self.of(type_, object_id))
                self.assertEqual(len(got), 1)
                self.assertTrue(verify_signature(got[0][0]["signature"], got[0][0]["body"]))
        failed_event = self.receiver.events(self.of("payment_intent.payment_failed",
                                                    failed["id"]))[0][1]
        self.assertEqual(failed_event["data"]["object"]["last_payment_error"]["decline_code"],
                         "insufficient_funds")
        refunded = self.receiver.events(self.of("charge.refunded", paid["latest_charge"]))[0][1]
        self.assertTrue(refunded["data"]["object"]["refunded"])

    def test_failed_deliveries_are_retried(self):
        with self.receiver.lock:
            self.receiver.fail_next = 2
        pi = self.create()
        self.confirm(pi["id"], "pm_card_visa")
        got = self.receiver.events(self.of("payment_intent.succeeded", pi["id"]), timeout=10)
        self.assertEqual(len(got), 1)
        attempts = self.receiver.attempts(self.of("payment_intent.succeeded", pi["id"]))
        self.assertEqual([a["status"] for a in attempts], [500, 500, 200])

    def test_pause_holds_deliveries_until_resume(self):
        self.api.call("POST", "/_sandbox/webhooks/pause")
        pi = self.create()
        self.confirm(pi["id"], "pm_card_visa")
        self.assertEqual(self.receiver.events(self.of("payment_intent.succeeded", pi["id"]),
                                              timeout=0.5), [])
        self.api.call("POST", "/_sandbox/webhooks/resume")
        self.assertEqual(len(self.receiver.events(self.of("payment_intent.succeeded",
                                                          pi["id"]))), 1)

    def test_api_answer_does_not_wait_for_delivery(self):
        self.api.call("POST", "/_sandbox/webhooks/pause")
        pi = self.create()
        started = time.monotonic()
        status, _, _ = self.confirm(pi["id"], "pm_card_visa")
        self.assertEqual(status, 200)
        self.assertLess(time.monotonic() - started, 0.5)


class TestDuplicateWebhooks(SandboxCase):
    extra_args = ["--duplicate-webhook-rate", "1.0", "--webhook-delay-ms", "100"]

    def test_every_event_is_delivered_twice(self):
        pi = self.create()
        started = time.monotonic()
        self.confirm(pi["id"], "pm_card_visa")
        got = self.receiver.events(
            lambda e: e["type"] == "payment_intent.succeeded" and
            e["data"]["object"]["id"] == pi["id"], count=2)
        self.assertGreaterEqual(time.monotonic() - started, 0.09)
        self.assertEqual(len(got), 2)
        self.assertEqual(got[0][1]["id"], got[1][1]["id"])


class TestHttp(SandboxCase):
    """The HTTP layer: what http.server accepted and refused, it still does."""

    def raw(self, data, pause=0.0, read_until_close=True):
        """Sends data (bytes, or a list of pieces sent pause seconds apart)
        on a new connection; returns everything read until the sandbox
        closes it (or 2 s of silence)."""
        sock = socket.create_connection((self.api.host, self.api.port), timeout=2)
        try:
            for piece in data if isinstance(data, list) else [data]:
                sock.sendall(piece)
                time.sleep(pause)
            out = b""
            while read_until_close:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            sock.close()

    def request(self, method, path, body=b"", extra=""):
        return ("%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s"
                "Content-Length: %d\r\n\r\n" % (method, path, KEY, extra, len(body))
                ).encode() + body

    def test_pipelined_requests_are_answered_in_order(self):
        body = b"amount=100&currency=eur"
        out = self.raw(self.request("POST", "/v1/payment_intents", body) +
                       self.request("GET", "/v1/payment_intents/pi_nope") +
                       self.request("POST", "/v1/payment_intents", body, "Connection: close\r\n"))
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", out)
        self.assertEqual(statuses, [b"200", b"404", b"200"])
        self.assertIn(b"Connection: close", out)

    def test_request_split_in_small_pieces(self):
        data = self.request("POST", "/v1/payment_intents", b"amount=321&currency=eur",
                            "Connection: close\r\n")
        out = self.raw([data[i:i + 7] for i in range(0, len(data), 7)], pause=0.002)
        self.assertTrue(out.startswith(b"HTTP/1.1 200 OK\r\n"), out[:200])
        self.assertEqual(json.loads(out.split(b"\r\n\r\n", 1)[1])["amount"], 321)

    def test_body_too_large_is_413_and_closes(self):
        out = self.raw(b"POST /v1/payment_intents HTTP/1.1\r\nAuthorization: Bearer " +
                       KEY.encode() + b"\r\nContent-Length: 999999999\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 413 "), out[:200])
        self.assertIn(b"Connection: close", out)

    def test_oversized_headers_are_refused(self):
        out = self.raw(b"GET /v1/payment_intents/pi_x HTTP/1.1\r\nX-Big: " + b"a" * 70000 +
                       b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431 "), out[:200])
        out = self.raw(b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 414 "), out[:200])

    def test_bad_request_lines(self):
        for line, status in ((b"NONSENSE\r\n\r\n", b"400"),
                             (b"GET / HTTP/9.9\r\n\r\n", b"505"),
                             (b"GET / FTP/1.1\r\n\r\n", b"400"),
                             (b"PUT /v1/payment_intents HTTP/1.1\r\n\r\n", b"501")):
            with self.subTest(line=line):
                out = self.raw(line)
                self.assertTrue(out.startswith(b"HTTP/1.1 " + status + b" "), out[:200])
                self.assertIn(b"Connection: close", out)

    def test_http_1_0_closes_unless_keep_alive(self):
        out = self.raw(b"GET /v1/payment_intents/pi_x HTTP/1.0\r\nAuthorization: Bearer " +
                       KEY.encode() + b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 404 "), out[:200])
        self.assertIn(b"Connection: close", out)

    def test_expect_100_continue(self):
        out = self.raw([b"POST /v1/payment_intents HTTP/1.1\r\nAuthorization: Bearer " +
                        KEY.encode() + b"\r\nExpect: 100-continue\r\nConnection: close\r\n"
                        b"Content-Length: 23\r\n\r\n", b"amount=100&currency=eur"], pause=0.1)
        self.assertTrue(out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"),
                        out[:200])

    def test_chunked_body_is_refused_not_misread(self):
        out = self.raw(b"POST /v1/payment_intents HTTP/1.1\r\nAuthorization: Bearer " +
                       KEY.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"17\r\namount=100&currency=eur\r\n0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 411 "), out[:200])
        self.assertEqual(out.count(b"HTTP/1.1 "), 1)

    def test_a_delayed_answer_holds_only_its_connection(self):
        pi = self.create()
        self.api.call("POST", "/_sandbox/faults",
                      json_body={"faults": [{"match": "confirm", "delay_ms": 600}]})
        done = []
        slow = threading.Thread(target=lambda: done.append(self.confirm(pi["id"], "pm_card_visa")))
        slow.start()
        time.sleep(0.1)
        started = time.monotonic()
        status, _, _ = self.api.call("GET", "/v1/payment_intents/" + pi["id"])
        self.assertEqual(status, 200)
        self.assertLess(time.monotonic() - started, 0.4)
        slow.join(5)
        self.assertEqual(done[0][0], 200)

    def test_client_that_half_closes_still_gets_its_answer(self):
        sock = socket.create_connection((self.api.host, self.api.port), timeout=3)
        sock.sendall(self.request("GET", "/v1/payment_intents/pi_halfclose"))
        sock.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
        sock.close()
        self.assertTrue(out.startswith(b"HTTP/1.1 404 "), out[:200])


class TestNoWebhookUrl(unittest.TestCase):
    def test_nothing_is_queued(self):
        proc, base, log = start_sandbox([])
        try:
            api = Client(base)
            status, pi, _ = api.call("POST", "/v1/payment_intents",
                                     [("amount", "100"), ("currency", "eur"),
                                      ("payment_method", "pm_card_visa"), ("confirm", "true")])
            self.assertEqual((status, pi["status"]), (200, "succeeded"))
            _, hooks, _ = api.call("GET", "/_sandbox/webhooks")
            self.assertEqual(hooks.get("queued", 0), 0)
            _, event_list, _ = api.call("GET", "/_sandbox/ledger")
            self.assertEqual(event_list["counts"]["events"], 1)
        finally:
            proc.terminate()
            proc.wait(5)
            os.unlink(log)


if __name__ == "__main__":
    unittest.main()
