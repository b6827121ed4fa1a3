#!/usr/bin/env python3
"""stripe_sandbox.py: a local payment provider speaking a subset of Stripe's HTTP API.

It exists so that boxoffice runs offline and its tests can drive payments,
faults and webhooks deterministically. The subset is faithful in what it
covers: the same paths, form encoding, object shapes, error shapes, test
payment methods and idempotency rules as Stripe's test mode, so pointing the
client at https://api.stripe.com needs no code change.

Covered: POST /v1/payment_intents, GET /v1/payment_intents/{id},
POST /v1/payment_intents/{id}/confirm, POST /v1/payment_intents/{id}/cancel,
POST /v1/refunds, GET /v1/refunds/{id}, GET /v1/charges/{id},
GET /v1/events/{id}. Sandbox controls (no API key needed, loopback only by
design): POST/DELETE /_sandbox/faults, GET /_sandbox/ledger,
POST /_sandbox/webhooks/pause and /resume, GET /_sandbox/webhooks.

Standard library only (Debian 12's python3).
"""

import argparse
import asyncio
import base64
import collections
import email.utils
import hashlib
import hmac
import heapq
import html
import http
import json
import random
import re
import socket
import string
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import DEFAULT_ERROR_CONTENT_TYPE, DEFAULT_ERROR_MESSAGE

API_VERSION = "2024-06-20"
# What json.dumps(obj, separators=(",", ":")) builds on every call.
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))
ID_ALPHABET = string.ascii_letters + string.digits
# Bounded memory under a long benchmark: the oldest idempotency records and
# events are forgotten first (Stripe keeps keys for 24 hours).
IDEMPOTENCY_MAX = 200_000
EVENTS_MAX = 100_000
BODY_MAX = 256 * 1024
# A request's line and headers; http.server allowed 64 KiB a line and 100
# lines, we take 64 KiB in all (ours are a few hundred bytes).
HEAD_MAX = 64 * 1024
HEADERS_MAX = 100
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500
WEBHOOK_MAX_ATTEMPTS = 8
WEBHOOK_BACKOFF_S = 0.2
WEBHOOK_BACKOFF_MAX_S = 5.0
WEBHOOK_TIMEOUT_S = 10.0
WEBHOOK_SENDERS = 4
LISTEN_BACKLOG = 1024

# Stripe's test payment methods: pm id suffix -> (card brand, decline or None).
# A decline is (code, decline_code, message) as Stripe answers them.
_GENERIC = ("card_declined", "generic_decline", "Your card was declined.")
_DECLINES = {
    "chargeDeclined": _GENERIC,
    "chargeDeclinedInsufficientFunds": (
        "card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "chargeDeclinedLostCard": ("card_declined", "lost_card", "Your card was declined."),
    "chargeDeclinedStolenCard": ("card_declined", "stolen_card", "Your card was declined."),
    "chargeDeclinedFraudulent": ("card_declined", "fraudulent", "Your card was declined."),
    "chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired."),
    "chargeDeclinedIncorrectCvc": (
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "chargeDeclinedProcessingError": (
        "processing_error", "processing_error",
        "An error occurred while processing your card. Try again in a little bit."),
}
_BRANDS = {"visa": ("visa", "4242"), "visa_debit": ("visa", "5556"),
           "mastercard": ("mastercard", "4444"), "amex": ("amex", "8431"),
           "discover": ("discover", "1117")}


def lookup_payment_method(pm):
    """Returns (brand, last4, decline or None) for a test pm id, or None."""
    if not pm.startswith("pm_card_"):
        return None
    rest = pm[len("pm_card_"):]
    if rest in _BRANDS:
        return _BRANDS[rest] + (None,)
    brand = "visa"
    if rest.startswith("visa_"):
        rest = rest[len("visa_"):]
    if rest in _DECLINES:
        return (brand, "0002", _DECLINES[rest])
    return None


_FORM_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_FORM_INDEX = re.compile(r"\[([^\[\]]*)\]")


# Random bytes below 248 (4 * 62) map evenly onto the alphabet; the rest are
# dropped. Several times cheaper than random.choices, same distribution.
_ID_TABLE = bytes(ord(ID_ALPHABET[b % len(ID_ALPHABET)]) if b < 248 else 0 for b in range(256))
_ID_DROP = bytes(range(248, 256))


def new_id(prefix, n=24):
    while True:
        raw = random.randbytes(n + 8).translate(_ID_TABLE, _ID_DROP)
        if len(raw) >= n:
            return prefix + raw[:n].decode("ascii")


_timestamp = (0, "")


def utc_timestamp():
    """The log lines' time, formatted once a second rather than per line."""
    global _timestamp
    now = int(time.time())
    cached = _timestamp
    if cached[0] != now:
        cached = (now, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)))
        _timestamp = cached  # one assignment: other threads see old or new
    return cached[1]


def now_s():
    return int(time.time())


class ApiError(Exception):
    """A Stripe-shaped error answer: status plus the `error` object."""

    def __init__(self, status, type_, message, code=None, param=None, **extra):
        super().__init__(message)
        self.status = status
        self.error = {"type": type_, "message": message}
        if code is not None:
            self.error["code"] = code
            self.error["doc_url"] = "https://stripe.com/docs/error-codes/" + code.replace("_", "-")
        if param is not None:
            self.error["param"] = param
        self.error.update(extra)


def invalid(message, code=None, param=None, status=400, **extra):
    return ApiError(status, "invalid_request_error", message, code, param, **extra)


def parse_form(body):
    """The (name, value) pairs of a form-encoded body, in order: what
    urllib.parse.parse_qsl(body, keep_blank_values=True) returns, sooner
    (most names and values need no unquoting)."""
    pairs = []
    for field in body.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in name or "+" in name:
            name = urllib.parse.unquote(name.replace("+", " "), errors="replace")
        if "%" in value or "+" in value:
            value = urllib.parse.unquote(value.replace("+", " "), errors="replace")
        pairs.append((name, value))
    return pairs


def decode_form(pairs):
    """Stripe's bracket notation, from parse_form's pairs: a[b]=1 ->
    {"a": {"b": "1"}}; a[]=x and a[0]=x -> {"a": ["x"]}; a[0][b]=x ->
    {"a": [{"b": "x"}]}. Raises ApiError for names that do not parse or
    that mix shapes."""
    out = {}
    for key, value in pairs:
        if key and "[" not in key and "]" not in key:
            out[key] = value  # a plain name: what the general case does, sooner
            continue
        m = _FORM_NAME.fullmatch(key)
        if m is None:
            raise invalid("Invalid parameter name: %s" % key, "parameter_invalid_string", key)
        parts = [m.group(1)] + _FORM_INDEX.findall(m.group(2))
        node = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            child = None if last else ([] if parts[i + 1] == "" or parts[i + 1].isdigit()
                                       else {})
            if isinstance(node, dict):
                if part == "":
                    raise invalid("Invalid parameter: %s" % key, "parameter_invalid_string", key)
                if last:
                    node[part] = value
                    break
                node = node.setdefault(part, child)
            elif part == "" or (part.isdigit() and int(part) == len(node)):
                # a[]=x or the next index appends
                node.append(value if last else child)
                node = node[-1]
            elif part.isdigit() and int(part) < len(node) and not last:
                node = node[int(part)]
            else:
                raise invalid("Invalid array index in %s" % key, "parameter_invalid_integer", key)
            if not last and type(node) is not type(child):
                raise invalid("Invalid parameter: %s" % key, "parameter_invalid_string", key)
    return out


def parse_amount(value, param="amount"):
    if not isinstance(value, str) or not value.isdigit() or len(value) > 12:
        raise invalid("Invalid integer: %s" % value, "parameter_invalid_integer", param)
    amount = int(value)
    if amount < 1:
        raise invalid("This value must be greater than or equal to 1.", "parameter_invalid_integer",
                      param)
    return amount


def parse_bool(value, param):
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    raise invalid("Invalid boolean: %s" % value, "parameter_invalid_boolean", param)


def check_metadata(md):
    if md is None:
        return {}
    if md == "":
        return {}
    if not isinstance(md, dict):
        raise invalid("Invalid object", "parameter_invalid_object", "metadata")
    if len(md) > METADATA_MAX_KEYS:
        raise invalid("You can specify up to 50 keys in metadata.", "parameter_invalid_object",
                      "metadata")
    for k, v in md.items():
        if not isinstance(v, str) or len(k) > METADATA_KEY_MAX or len(v) > METADATA_VALUE_MAX:
            raise invalid("Invalid metadata value for key '%s'." % k, "parameter_invalid_string",
                          "metadata[%s]" % k)
    return dict(md)


def check_known(params, allowed):
    for k in params:
        if k not in allowed:
            raise invalid("Received unknown parameter: %s" % k, "parameter_unknown", k)


class Fault:
    __slots__ = ("match", "status", "delay_ms", "after_commit_status")

    def __init__(self, spec):
        self.match = str(spec.get("match", "any"))
        self.status = spec.get("status")
        self.delay_ms = int(spec.get("delay_ms", 0))
        self.after_commit_status = spec.get("after_commit_status")


class WebhookConnection(asyncio.Protocol):
    """A keep-alive HTTP/1.1 client for webhook deliveries, sending what
    http.client sent (the same headers in the same order) and reading
    answers framed by Content-Length, chunked or the connection's close.
    post raises OSError or ValueError (a malformed answer)."""

    def __init__(self, url):
        https = url.scheme == "https"
        host = url.hostname
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        host_header = "[%s]" % host if ":" in host else host
        if url.port is not None and url.port != (443 if https else 80):
            host_header += ":%d" % url.port
        self.head = ("POST %s HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: identity\r\n" % (
            path, host_header)).encode("ascii")
        self.transport = None
        self.buffer = b""
        self.eof = False
        self.waiter = None  # the future of the answer being read
        self.will_close = False

    @classmethod
    async def open(cls, url, loop):
        https = url.scheme == "https"
        context = None
        if https:
            import ssl  # only when a https endpoint is configured
            context = ssl.create_default_context()
        _, conn = await loop.create_connection(
            lambda: cls(url), url.hostname, url.port or (443 if https else 80), ssl=context)
        return conn

    def close(self):
        self.transport.close()

    async def post(self, body, signature):
        """Sends one delivery; returns the answer's status."""
        if self.eof:
            raise ConnectionResetError("the webhook endpoint closed the connection")
        self.buffer = b""
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(self.head + (
            "Content-Length: %d\r\nContent-Type: application/json; charset=utf-8\r\n"
            "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
            "Stripe-Signature: %s\r\n\r\n" % (len(body), signature)).encode("ascii") + body)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        self._answer()

    def eof_received(self):
        self.eof = True
        self._answer()

    def connection_lost(self, exc):
        self.eof = True
        self._answer()

    def _answer(self):
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            parsed = parse_answer(self.buffer, self.eof)
        except ValueError as e:
            waiter.set_exception(e)
            return
        if parsed is not None:
            status, self.will_close, _ = parsed
            waiter.set_result(status)
        elif self.eof:
            waiter.set_exception(ConnectionResetError("the webhook endpoint closed the connection"))


def parse_answer(buf, eof):
    """Reads an HTTP answer at the start of buf: (status, whether the
    connection then closes, its length in bytes), or None while it is
    incomplete; raises ValueError when it is not HTTP."""
    pos = 0
    while True:
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            if len(buf) - pos > HEAD_MAX:
                raise ValueError("webhook answer head too long")
            return None
        lines = buf[pos:end].decode("iso-8859-1").split("\r\n")
        version, status = (lines[0].split(None, 2) + [""])[:2]
        if not version.startswith("HTTP/") or len(status) != 3 or not status.isdigit():
            raise ValueError("not an HTTP answer")
        if len(lines) > HEADERS_MAX + 1:
            raise ValueError("too many headers in the webhook answer")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        pos = end + 4
        status = int(status)
        if not 100 <= status < 200:
            break  # 100 Continue and the like precede the answer
    connection = headers.get("connection", "").lower()
    will_close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                return None
            size = int(buf[pos:nl].split(b";", 1)[0], 16)
            pos = nl + 2
            if size == 0:
                while True:  # trailers, up to an empty line
                    nl = buf.find(b"\r\n", pos)
                    if nl < 0:
                        return None
                    empty = nl == pos
                    pos = nl + 2
                    if empty:
                        return status, will_close, pos
            if len(buf) < pos + size + 2:
                return None
            if buf[pos + size:pos + size + 2] != b"\r\n":
                raise ValueError("chunk not followed by CRLF")
            pos += size + 2
    if status in (204, 304):
        return status, will_close, pos
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length < 0:
            raise ValueError("negative Content-Length")
        return (status, will_close, pos + length) if len(buf) >= pos + length else None
    # No length: the body ends when the connection does.
    return (status, True, len(buf)) if eof else None


class Webhooks:
    """At-least-once delivery in the background: a heap of due deliveries,
    so a failing endpoint's retries never block later events, and up to
    WEBHOOK_SENDERS deliveries in flight, each on a keep-alive connection.
    Runs on the event loop's thread, as does everything that calls it."""

    def __init__(self, url, secret, duplicate_rate, delay_ms, log, loop):
        self.url = urllib.parse.urlsplit(url) if url else None
        self.secret = (secret or "").encode()
        self.duplicate_rate = duplicate_rate
        self.delay_s = delay_ms / 1000.0
        self.log = log
        self.loop = loop
        self.heap = []
        self.seq = 0
        self.paused = False
        self.stats = collections.Counter()
        self.in_flight = 0
        self.idle = []  # open connections not sending
        self.timer = None  # wakes _kick when the next delivery is due
        self.tasks = set()  # the loop keeps only weak references to tasks

    def enqueue(self, event_body):
        if self.url is None:
            return
        copies = 2 if random.random() < self.duplicate_rate else 1
        for copy in range(copies):
            self.seq += 1
            # A duplicate goes out a little later, as Stripe's do.
            due = time.monotonic() + self.delay_s + copy * 0.05
            heapq.heappush(self.heap, (due, self.seq, event_body, 1))
            self.stats["queued"] += 1
        self._kick()

    def pause(self, paused):
        self.paused = paused
        self._kick()

    def snapshot(self):
        out = dict(self.stats)
        out["pending"] = len(self.heap) + self.in_flight
        out["paused"] = self.paused
        return out

    def _sign(self, body):
        t = str(now_s())
        mac = hmac.new(self.secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
        return "t=%s,v1=%s" % (t, mac)

    def _kick(self):
        """Starts every due delivery there is a sender for, and sets the
        timer for the next one."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.paused:
            return
        now = time.monotonic()
        while self.heap and self.in_flight < WEBHOOK_SENDERS:
            if self.heap[0][0] > now:
                self.timer = self.loop.call_at(self.heap[0][0], self._kick)
                return
            self.in_flight += 1
            task = self.loop.create_task(self._deliver(heapq.heappop(self.heap)))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _deliver(self, item):
        due, seq, body, attempt = item
        conn = self.idle.pop() if self.idle else None
        ok = False
        status = 0
        try:
            async with asyncio.timeout(WEBHOOK_TIMEOUT_S):
                if conn is None:
                    conn = await WebhookConnection.open(self.url, self.loop)
                status = await conn.post(body, self._sign(body))
            ok = 200 <= status < 300
            if conn.will_close:
                conn.close()
                conn = None
        except Exception as e:  # noqa: BLE001 - any failure is a failed attempt
            if not isinstance(e, (OSError, ValueError)):
                traceback.print_exc()
            if conn is not None:
                conn.close()
            conn = None
        if conn is not None:
            self.idle.append(conn)
        self.in_flight -= 1
        if ok:
            self.stats["delivered"] += 1
        elif attempt < WEBHOOK_MAX_ATTEMPTS:
            self.stats["retried"] += 1
            backoff = min(WEBHOOK_BACKOFF_MAX_S, WEBHOOK_BACKOFF_S * 2 ** (attempt - 1))
            heapq.heappush(self.heap, (time.monotonic() + backoff, seq, body, attempt + 1))
        else:
            self.stats["abandoned"] += 1
        if not ok:
            self.log("webhook delivery attempt %d failed status=%d" % (attempt, status))
        self._kick()


class Sandbox:
    """The in-memory provider. Its callers all run on the server's event
    loop; the lock that guards all state costs little uncontended and
    keeps it safe for a caller on another thread."""

    def __init__(self, api_keys, webhooks):
        self.api_keys = [k.encode() for k in api_keys]
        self.webhooks = webhooks
        self.lock = threading.Lock()
        self.intents = {}
        self.charges = {}
        self.refunds = {}
        self.events = collections.OrderedDict()
        self.idempotency = collections.OrderedDict()
        self.faults = []

    # --- faults -------------------------------------------------------
    def take_fault(self, operation):
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.match in ("any", operation):
                    return self.faults.pop(i)
        return None

    # --- events -------------------------------------------------------
    def _emit(self, type_, obj, request_id, idempotency_key):
        """Records an event and queues its delivery. Called with the lock."""
        event = {
            "id": new_id("evt_"), "object": "event", "api_version": API_VERSION,
            "created": now_s(), "data": {"object": obj}, "livemode": False,
            "pending_webhooks": 1 if self.webhooks.url is not None else 0,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": type_,
        }
        self.events[event["id"]] = event
        if len(self.events) > EVENTS_MAX:
            self.events.popitem(last=False)
        self.webhooks.enqueue(COMPACT_JSON.encode(event).encode())

    # --- objects ------------------------------------------------------
    @staticmethod
    def _intent_view(pi):
        return dict(pi)

    def _charge_view(self, ch):
        return dict(ch)

    def _new_charge(self, pi, pm, brand, last4, failure):
        ch = {
            "id": new_id("ch_"), "object": "charge", "amount": pi["amount"],
            "amount_captured": 0 if failure else pi["amount"], "amount_refunded": 0,
            "balance_transaction": None if failure else new_id("txn_"),
            "captured": failure is None, "created": now_s(), "currency": pi["currency"],
            "description": pi["description"], "disputed": False,
            "failure_code": failure[0] if failure else None,
            "failure_message": failure[2] if failure else None,
            "livemode": False, "metadata": dict(pi["metadata"]),
            "outcome": {"network_status": "declined_by_network" if failure else
                        "approved_by_network",
                        "reason": failure[1] if failure else None,
                        "type": "issuer_declined" if failure else "authorized",
                        "seller_message": "The bank did not return any further details with this "
                        "decline." if failure else "Payment complete."},
            "paid": failure is None, "payment_intent": pi["id"], "payment_method": pm,
            "payment_method_details": {"type": "card", "card": {"brand": brand, "last4": last4}},
            "refunded": False, "status": "failed" if failure else "succeeded",
        }
        self.charges[ch["id"]] = ch
        return ch

    def _confirm_locked(self, pi, params, request_id, idem):
        if pi["status"] not in ("requires_payment_method", "requires_confirmation",
                                "requires_action"):
            raise invalid(
                "You cannot confirm this PaymentIntent because it has a status of %s." %
                pi["status"], "payment_intent_unexpected_state", None,
                payment_intent=self._intent_view(pi))
        pm = params.get("payment_method") or pi["payment_method"]
        if not pm:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "To confirm the PaymentIntent with the given payment method, pass it in "
                "`payment_method`.", "payment_intent_unexpected_state", "payment_method",
                payment_intent=self._intent_view(pi))
        if not isinstance(pm, str):
            raise invalid("Invalid string", "parameter_invalid_string", "payment_method")
        card = lookup_payment_method(pm)
        if card is None:
            raise invalid("No such PaymentMethod: '%s'" % pm, "resource_missing",
                          "payment_method")
        brand, last4, decline = card
        ch = self._new_charge(pi, pm, brand, last4, decline)
        pi["latest_charge"] = ch["id"]
        pi["payment_method"] = pm
        if decline is None:
            pi["status"] = "succeeded"
            pi["amount_received"] = pi["amount"]
            pi["last_payment_error"] = None
            self._emit("payment_intent.succeeded", self._intent_view(pi), request_id, idem)
            return 200, self._intent_view(pi)
        code, decline_code, message = decline
        error = {
            "type": "card_error", "code": code, "decline_code": decline_code, "message": message,
            "charge": ch["id"],
            "doc_url": "https://stripe.com/docs/error-codes/" + code.replace("_", "-"),
            "payment_method": {"id": pm, "object": "payment_method", "type": "card",
                               "card": {"brand": brand, "last4": last4}},
        }
        pi["status"] = "requires_payment_method"
        pi["payment_method"] = None
        pi["last_payment_error"] = error
        self._emit("payment_intent.payment_failed", self._intent_view(pi), request_id, idem)
        answer = dict(error)
        answer["payment_intent"] = self._intent_view(pi)
        raise ApiError(402, "card_error", message, code, None,
                       **{k: v for k, v in answer.items()
                          if k not in ("type", "message", "code", "doc_url")})

    def _get_intent(self, intent_id):
        pi = self.intents.get(intent_id)
        if pi is None:
            raise invalid("No such payment_intent: '%s'" % intent_id, "resource_missing", "intent",
                          status=404)
        return pi

    # --- operations: each returns (status, body dict) or raises ApiError ---
    def create_intent(self, params, request_id, idem):
        check_known(params, {"amount", "currency", "metadata", "payment_method_types",
                             "automatic_payment_methods", "payment_method", "confirm",
                             "description", "expand", "capture_method", "confirmation_method",
                             "receipt_email", "statement_descriptor", "return_url"})
        if "amount" not in params:
            raise invalid("Missing required param: amount.", "parameter_missing", "amount")
        amount = parse_amount(params["amount"])
        currency = params.get("currency")
        if currency is None:
            raise invalid("Missing required param: currency.", "parameter_missing", "currency")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise invalid("Invalid currency: %s." % currency, "parameter_invalid_string",
                          "currency")
        metadata = check_metadata(params.get("metadata"))
        capture = params.get("capture_method", "automatic")
        if capture not in ("automatic", "automatic_async"):
            raise invalid("This sandbox supports capture_method=automatic only.",
                          "parameter_invalid_string", "capture_method")
        types = params.get("payment_method_types")
        apm = params.get("automatic_payment_methods")
        if types is not None and apm is not None:
            raise invalid("You may only specify one of these parameters: "
                          "automatic_payment_methods, payment_method_types.",
                          "parameter_invalid_string", "automatic_payment_methods")
        if types is not None and (not isinstance(types, list) or types != ["card"] * len(types)
                                  or not types):
            raise invalid("This sandbox supports payment_method_types[]=card only.",
                          "parameter_invalid_string", "payment_method_types")
        if apm is not None:
            if not isinstance(apm, dict) or "enabled" not in apm:
                raise invalid("Missing required param: automatic_payment_methods[enabled].",
                              "parameter_missing", "automatic_payment_methods[enabled]")
            apm = {"enabled": parse_bool(apm["enabled"], "automatic_payment_methods[enabled]")}
        confirm = parse_bool(params["confirm"], "confirm") if "confirm" in params else False
        pm = params.get("payment_method")
        if pm is not None and not isinstance(pm, str):
            raise invalid("Invalid string", "parameter_invalid_string", "payment_method")
        intent_id = new_id("pi_")
        pi = {
            "id": intent_id, "object": "payment_intent", "amount": amount,
            "amount_capturable": 0, "amount_details": {"tip": {}}, "amount_received": 0,
            "application": None, "application_fee_amount": None,
            "automatic_payment_methods": apm, "canceled_at": None, "cancellation_reason": None,
            "capture_method": capture,
            "client_secret": new_id(intent_id + "_secret_", 25),
            "confirmation_method": "automatic", "created": now_s(),
            "currency": currency.lower(), "customer": None,
            "description": params.get("description"), "invoice": None,
            "last_payment_error": None, "latest_charge": None, "livemode": False,
            "metadata": metadata, "next_action": None, "on_behalf_of": None,
            "payment_method": pm,
            "payment_method_types": ["card"] if types is None or apm else types,
            "receipt_email": params.get("receipt_email"), "review": None,
            "setup_future_usage": None, "shipping": None, "statement_descriptor": None,
            "status": "requires_confirmation" if pm else "requires_payment_method",
            "transfer_data": None, "transfer_group": None,
        }
        with self.lock:
            self.intents[intent_id] = pi
            if confirm:
                return self._confirm_locked(pi, {}, request_id, idem)
            return 200, self._intent_view(pi)

    def confirm_intent(self, intent_id, params, request_id, idem):
        check_known(params, {"payment_method", "expand", "return_url", "receipt_email",
                             "off_session"})
        with self.lock:
            return self._confirm_locked(self._get_intent(intent_id), params, request_id, idem)

    def retrieve_intent(self, intent_id):
        with self.lock:
            return 200, self._intent_view(self._get_intent(intent_id))

    def cancel_intent(self, intent_id, params, request_id, idem):
        check_known(params, {"cancellation_reason", "expand"})
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in ("duplicate", "fraudulent", "requested_by_customer",
                                                 "abandoned"):
            raise invalid("Invalid cancellation_reason", "parameter_invalid_string",
                          "cancellation_reason")
        with self.lock:
            pi = self._get_intent(intent_id)
            if pi["status"] not in ("requires_payment_method", "requires_capture",
                                    "requires_confirmation", "requires_action", "processing"):
                raise invalid(
                    "You cannot cancel this PaymentIntent because it has a status of %s. Only a "
                    "PaymentIntent with one of the following statuses may be canceled: "
                    "requires_payment_method, requires_capture, requires_confirmation, "
                    "requires_action, processing." % pi["status"],
                    "payment_intent_unexpected_state", None,
                    payment_intent=self._intent_view(pi))
            pi["status"] = "canceled"
            pi["canceled_at"] = now_s()
            pi["cancellation_reason"] = reason
            self._emit("payment_intent.canceled", self._intent_view(pi), request_id, idem)
            return 200, self._intent_view(pi)

    def create_refund(self, params, request_id, idem):
        check_known(params, {"payment_intent", "charge", "amount", "reason", "metadata",
                             "expand"})
        metadata = check_metadata(params.get("metadata"))
        reason = params.get("reason")
        if reason is not None and reason not in ("duplicate", "fraudulent",
                                                 "requested_by_customer"):
            raise invalid("Invalid reason", "parameter_invalid_string", "reason")
        with self.lock:
            if "payment_intent" in params:
                pi = self._get_intent(params["payment_intent"])
                ch = self.charges.get(pi["latest_charge"]) if pi["latest_charge"] else None
            elif "charge" in params:
                ch = self.charges.get(params["charge"])
                if ch is None:
                    raise invalid("No such charge: '%s'" % params["charge"], "resource_missing",
                                  "charge", status=404)
                pi = self.intents[ch["payment_intent"]]
            else:
                raise invalid("One of the following params should be provided for this request: "
                              "payment_intent or charge.", "parameter_missing", "payment_intent")
            if pi["status"] != "succeeded" or ch is None or not ch["paid"]:
                raise invalid("This PaymentIntent (%s) does not have a successful charge to "
                              "refund." % pi["id"], "charge_not_refundable", "payment_intent")
            remaining = ch["amount_captured"] - ch["amount_refunded"]
            if remaining <= 0:
                raise invalid("Charge %s has already been refunded." % ch["id"],
                              "charge_already_refunded")
            amount = parse_amount(params["amount"]) if "amount" in params else remaining
            if amount > remaining:
                raise invalid("Refund amount (%d) is greater than unrefunded amount on charge "
                              "(%d)" % (amount, remaining), "amount_too_large", "amount")
            refund = {
                "id": new_id("re_"), "object": "refund", "amount": amount,
                "balance_transaction": new_id("txn_"), "charge": ch["id"], "created": now_s(),
                "currency": ch["currency"], "destination_details": {"type": "card", "card": {}},
                "metadata": metadata, "payment_intent": pi["id"], "reason": reason,
                "receipt_number": None, "source_transfer_reversal": None,
                "status": "succeeded", "transfer_reversal": None,
            }
            self.refunds[refund["id"]] = refund
            ch["amount_refunded"] += amount
            ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
            self._emit("charge.refunded", self._charge_view(ch), request_id, idem)
            return 200, dict(refund)

    def retrieve(self, table, kind, object_id):
        with self.lock:
            obj = getattr(self, table).get(object_id)
            if obj is None:
                raise invalid("No such %s: '%s'" % (kind, object_id), "resource_missing", "id",
                              status=404)
            return 200, dict(obj)

    # --- idempotency ----------------------------------------------------
    def idempotent_begin(self, scope, fingerprint):
        """Returns the stored (status, body) for scope, or None after
        marking the key in flight; raises ApiError when the key was used
        with other parameters or its first request is still running."""
        with self.lock:
            record = self.idempotency.get(scope)
            if record is None:
                self.idempotency[scope] = (fingerprint, None, None)
                if len(self.idempotency) > IDEMPOTENCY_MAX:
                    self.idempotency.popitem(last=False)
                return None
        if record[0] != fingerprint:
            raise ApiError(400, "idempotency_error",
                           "Keys for idempotent requests can only be used with the same parameters "
                           "they were first used with. Try using a key other than '%s' if you "
                           "meant to execute a different request." % scope[1])
        if record[1] is None:
            raise ApiError(409, "idempotency_error",
                           "There is currently another in-progress request using this Idempotent "
                           "Key (that probably means you submitted twice, and the other request "
                           "is still going through): %s. Please try again later." % scope[1])
        return record[1], record[2]

    def idempotent_end(self, scope, fingerprint, status, body):
        """Stores the answer; body None forgets the key (the request never
        ran, e.g. a malformed body), so a corrected retry may reuse it."""
        with self.lock:
            if body is None:
                self.idempotency.pop(scope, None)
            else:
                self.idempotency[scope] = (fingerprint, status, body)

    # --- ledger ---------------------------------------------------------
    def ledger(self):
        with self.lock:
            totals = {}
            intents = []
            for pi in self.intents.values():
                charged = 0
                refunded = 0
                ch = self.charges.get(pi["latest_charge"]) if pi["latest_charge"] else None
                if ch is not None and ch["paid"]:
                    charged = ch["amount_captured"]
                    refunded = ch["amount_refunded"]
                t = totals.setdefault(pi["currency"], {"charged": 0, "refunded": 0, "net": 0,
                                                       "succeeded_intents": 0})
                t["charged"] += charged
                t["refunded"] += refunded
                t["net"] += charged - refunded
                if charged:
                    t["succeeded_intents"] += 1
                intents.append({"id": pi["id"], "status": pi["status"], "amount": pi["amount"],
                                "currency": pi["currency"], "charged": charged,
                                "refunded": refunded, "metadata": pi["metadata"],
                                "latest_charge": pi["latest_charge"]})
            return {"currencies": totals, "intents": intents,
                    "counts": {"intents": len(self.intents), "charges": len(self.charges),
                               "refunds": len(self.refunds), "events": len(self.events)},
                    "webhooks": self.webhooks.snapshot()}


def fingerprint_of(method, path, pairs):
    # Parameters in a different order are the same request.
    return hashlib.sha256(repr((method, path, sorted(pairs))).encode()).hexdigest()


STATUS_TEXT = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
               402: "Payment Required", 404: "Not Found", 405: "Method Not Allowed",
               411: "Length Required",
               409: "Conflict", 413: "Payload Too Large", 429: "Too Many Requests",
               500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def fault_error(status):
    if status == 429:
        return ApiError(429, "invalid_request_error",
                        "Too many requests hit the API too quickly. We recommend an exponential "
                        "backoff of your requests.", "rate_limit")
    if status >= 500:
        return ApiError(status, "api_error",
                        "Something went wrong on Stripe's end. (sandbox fault injection)")
    return ApiError(status, "invalid_request_error", "Sandbox fault injection.")


class BadRequest(Exception):
    """A request that is not HTTP we accept: answered with status in
    http.server's HTML error shape, then the connection is closed."""

    def __init__(self, status, message=None):
        super().__init__(message)
        self.status = status
        self.message = message


class Handler(asyncio.Protocol):
    """One client connection: reads HTTP/1.1 requests (Content-Length
    bodies, keep-alive, Connection: close, Expect: 100-continue) and answers
    each with one write. What BaseHTTPRequestHandler did, without its
    email-parser headers, buffered files and a thread per connection,
    which cost more CPU than the API itself. Requests are served one at a
    time, in order, so pipelined requests are answered in order too."""

    def __init__(self, server):
        self.server = server
        self.transport = None
        self.buffer = b""
        self.paused = False  # a fault's delay holds this connection's next requests
        self.closed = False
        self.eof = False  # the client sent all it will send
        self.close_connection = False
        self.command = ""
        self.path = ""
        self.request_version = "HTTP/1.1"
        self.headers = {}
        self.pending = False  # a head is read; its body and answer are not done
        self.body_length = 0
        self.request_id = ""
        self.status_sent = 0

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True

    def data_received(self, data):
        self.buffer += data
        self._serve()

    def eof_received(self):
        # Answer what was asked (a delayed answer too), then close.
        self.eof = True
        if not self.paused:
            self._close()
        return True

    def pause_writing(self):
        # A client that does not read its answers gets no more of them.
        self.transport.pause_reading()

    def resume_writing(self):
        if not self.paused:
            self.transport.resume_reading()

    def _serve(self):
        """Answers every complete request in the buffer, in order."""
        try:
            while not self.paused and not self.closed:
                if not self.pending and not self._read_head():
                    return
                if self.body_length > len(self.buffer):
                    return  # the rest of the body is still on its way
                handler = self.METHODS.get(self.command)
                if handler is None:
                    raise BadRequest(501, "Unsupported method (%r)" % self.command)
                handler(self)
        except BadRequest as e:
            self._send_error(e.status, e.message)
        except Exception:  # noqa: BLE001 - a bug must not take the server down
            sys.stderr.write("stripe-sandbox: error serving a request\n")
            traceback.print_exc()
            self._close()

    def _close(self):
        self.closed = True
        self.transport.close()  # after what is already written

    def _read_head(self):
        """Parses the next request's line and headers into command, path,
        request_version, headers (lowercase name -> first value),
        body_length and close_connection. Returns False until the head is
        complete; raises BadRequest."""
        buf = self.buffer
        if not buf:
            return False
        if buf[:1] in (b"\r", b"\n"):
            self._close()  # an empty request line: http.server closed, silently
            return False
        ends = [i for i in (buf.find(b"\n\r\n"), buf.find(b"\n\n")) if i >= 0]
        end = min(ends) if ends else len(buf)
        if end > HEAD_MAX:
            first = buf.find(b"\n", 0, HEAD_MAX + 1)
            raise BadRequest(414 if first < 0 else 431, None if first < 0 else "Line too long")
        if not ends:
            return False
        blank = end + (3 if buf[end + 1:end + 2] == b"\r" else 2)
        head = buf[:end].decode("iso-8859-1")
        self.buffer = buf[blank:]
        lines = head.split("\n")
        if not lines[0].split():
            self._close()
            return False
        self._parse_request_line(lines[0].rstrip("\r"))
        if len(lines) - 1 > HEADERS_MAX:
            raise BadRequest(431, "Too many headers")
        headers = {}
        last = None
        for line in lines[1:]:
            line = line.rstrip("\r")
            if line[:1] in (" ", "\t") and last is not None:
                headers[last] += line  # an obsolete folded continuation
                continue
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise BadRequest(400, "Bad header line (%r)" % line)
            name = name.lower()
            if name not in headers:
                headers[name] = value.lstrip(" \t")
                last = name
            else:
                last = None
        connection = headers.get("connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if headers.get("expect", "").lower() == "100-continue" and \
                self.request_version >= "HTTP/1.1":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        # Wait for the body only when its length is one we will read;
        # otherwise _read_body answers at once.
        length = headers.get("content-length", "")
        self.body_length = int(length) if length.isdigit() and int(length) <= BODY_MAX else 0
        self.headers = headers
        self.pending = True
        return True

    def _parse_request_line(self, line):
        # The same rules as http.server's parse_request.
        self.command = ""
        self.request_version = "HTTP/0.9"
        self.close_connection = True
        words = line.split()
        if len(words) >= 3:
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                numbers = version.split("/", 1)[1].split(".")
                if len(numbers) != 2:
                    raise ValueError
                number = int(numbers[0]), int(numbers[1])
            except (ValueError, IndexError):
                raise BadRequest(400, "Bad request version (%r)" % version) from None
            if number >= (1, 1):
                self.close_connection = False
            if number >= (2, 0):
                raise BadRequest(505, "Invalid HTTP version (%s)" % version.split("/", 1)[1])
            self.request_version = version
        if not 2 <= len(words) <= 3:
            raise BadRequest(400, "Bad request syntax (%r)" % line)
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                raise BadRequest(400, "Bad HTTP/0.9 request type (%r)" % command)
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        self.command, self.path = command, path

    def _send_error(self, status, message=None):
        # http.server's send_error: an HTML page, Server and Date, close.
        phrase = STATUS_TEXT.get(status) or http.HTTPStatus(status).phrase
        if message is None:
            message = phrase
        explain = http.HTTPStatus(status).description
        body = (DEFAULT_ERROR_MESSAGE % {
            "code": status, "message": html.escape(message, quote=False),
            "explain": html.escape(explain, quote=False)}).encode("utf-8", "replace")
        head = ("HTTP/1.1 %d %s\r\nServer: stripe-sandbox \r\nDate: %s\r\nConnection: close\r\n"
                "Content-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
                    status, message, email.utils.formatdate(usegmt=True),
                    DEFAULT_ERROR_CONTENT_TYPE, len(body)))
        if not self.closed:
            self.transport.write(head.encode("latin-1", "replace") + body)
            self._close()

    def _log(self, status, started, note=""):
        # Never the Authorization header: the API key is a secret.
        sys.stderr.write("%s stripe-sandbox %s %s %d %.1fms%s\n" % (
            utc_timestamp(), self.command, self.path.split("?", 1)[0], status,
            (time.monotonic() - started) * 1000, note))

    def _send(self, status, body, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        lines = ["HTTP/1.1 %d %s" % (status, STATUS_TEXT.get(status, "Status")),
                 "Content-Type: application/json", "Content-Length: %d" % len(data),
                 "Request-Id: %s" % self.request_id, "Stripe-Version: %s" % API_VERSION]
        lines.extend("%s: %s" % h for h in headers)
        if self.close_connection:
            lines.append("Connection: close")
        self.status_sent = status
        if self.closed:
            return  # the client left while a fault delayed its answer
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        if self.close_connection:
            self._close()

    def _read_body(self):
        """Takes the request's body from the buffer (_serve waited for all
        of it); raises ApiError for a length it will not read."""
        headers = self.headers
        self.pending = False  # the buffer now starts with the next request
        length = headers.get("content-length")
        if length is None:
            if "transfer-encoding" in headers:
                # Chunked bodies are not read: refuse rather than misread
                # the chunks as the next request.
                self.close_connection = True
                raise invalid("Transfer-Encoding is not supported; send a Content-Length.",
                              status=411)
            return ""
        if not length.isdigit() or int(length) > BODY_MAX:
            self.close_connection = True
            raise invalid("Request body too large.", status=413)
        length = int(length)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return body.decode("utf-8", "replace")

    def _dispatch(self):
        started = time.monotonic()
        self.request_id = new_id("req_", 14)
        self.status_sent = 0
        try:
            body = self._read_body()
            path = self.path.split("?", 1)[0]
            if path.startswith("/_sandbox/"):
                self._sandbox_control(path, body)
            else:
                prepared = self._api_begin(path)
                fault = prepared[2]
                if fault is not None and fault.delay_ms > 0:
                    # Slow answers hold this connection only: its next
                    # requests wait, everyone else's do not.
                    self.paused = True
                    self.transport.pause_reading()
                    self.server.loop.call_later(fault.delay_ms / 1000.0, self._resume, started,
                                                path, body, prepared)
                    return
                self._finish(started, path, body, prepared)
                return
        except ApiError as e:
            self._send(e.status, {"error": e.error})
        self._log(self.status_sent, started)

    def _finish(self, started, path, body, prepared):
        note = ""
        try:
            note = self._api(path, body, *prepared)
        except ApiError as e:
            self._send(e.status, {"error": e.error})
        self._log(self.status_sent, started, note)

    def _resume(self, started, path, body, prepared):
        self.paused = False
        try:
            self._finish(started, path, body, prepared)
        except Exception:  # noqa: BLE001 - as in _serve
            sys.stderr.write("stripe-sandbox: error serving a request\n")
            traceback.print_exc()
            self._close()
        if not self.closed:
            self.transport.resume_reading()
            self._serve()
        if self.eof and not self.paused and not self.closed:
            self._close()

    METHODS = {"GET": _dispatch, "POST": _dispatch, "DELETE": _dispatch}

    def _sandbox_control(self, path, body):
        sandbox = self.server.sandbox
        if path == "/_sandbox/faults" and self.command == "POST":
            try:
                specs = json.loads(body or "{}").get("faults", [])
                faults = [Fault(s) for s in specs]
            except (ValueError, AttributeError, TypeError) as e:
                raise invalid("Invalid fault list: %s" % e)
            with sandbox.lock:
                sandbox.faults.extend(faults)
                queued = len(sandbox.faults)
            self._send(200, {"queued": queued})
        elif path == "/_sandbox/faults" and self.command == "DELETE":
            with sandbox.lock:
                sandbox.faults.clear()
            self._send(200, {"queued": 0})
        elif path == "/_sandbox/faults" and self.command == "GET":
            with sandbox.lock:
                faults = [{"match": f.match, "status": f.status, "delay_ms": f.delay_ms,
                           "after_commit_status": f.after_commit_status}
                          for f in sandbox.faults]
            self._send(200, {"faults": faults})
        elif path == "/_sandbox/ledger" and self.command == "GET":
            self._send(200, sandbox.ledger())
        elif path == "/_sandbox/webhooks" and self.command == "GET":
            self._send(200, sandbox.webhooks.snapshot())
        elif path in ("/_sandbox/webhooks/pause", "/_sandbox/webhooks/resume") and \
                self.command == "POST":
            sandbox.webhooks.pause(path.endswith("pause"))
            self._send(200, sandbox.webhooks.snapshot())
        else:
            raise invalid("Unrecognized request URL (%s: %s)." % (self.command, path), status=404)

    def _authenticate(self):
        auth = self.headers.get("authorization", "")
        key = None
        if auth.startswith("Bearer "):
            key = auth[len("Bearer "):].strip()
        elif auth.startswith("Basic "):
            # Stripe also takes the key as the basic-auth user name.
            try:
                key = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except ValueError:
                key = ""
        if not key:
            raise ApiError(401, "invalid_request_error",
                           "You did not provide an API key. You need to provide your API key in "
                           "the Authorization header, using Bearer auth (e.g. 'Authorization: "
                           "Bearer YOUR_SECRET_KEY').")
        if not any(hmac.compare_digest(key.encode(), k) for k in self.server.sandbox.api_keys):
            raise ApiError(401, "invalid_request_error",
                           "Invalid API Key provided: %s" % mask_key(key), "api_key_invalid")
        return key

    def _route(self, path):
        """Returns (operation name, callable(params, idem) -> (status, body))."""
        sb = self.server.sandbox
        rid = self.request_id
        parts = path.strip("/").split("/")
        method = self.command
        if parts[:2] == ["v1", "payment_intents"]:
            if len(parts) == 2 and method == "POST":
                return "create", lambda p, k: sb.create_intent(p, rid, k)
            if len(parts) == 3 and method == "GET":
                return "retrieve", lambda p, k: sb.retrieve_intent(parts[2])
            if len(parts) == 4 and parts[3] == "confirm" and method == "POST":
                return "confirm", lambda p, k: sb.confirm_intent(parts[2], p, rid, k)
            if len(parts) == 4 and parts[3] == "cancel" and method == "POST":
                return "cancel", lambda p, k: sb.cancel_intent(parts[2], p, rid, k)
        elif parts[:2] == ["v1", "refunds"]:
            if len(parts) == 2 and method == "POST":
                return "refund", lambda p, k: sb.create_refund(p, rid, k)
            if len(parts) == 3 and method == "GET":
                return "retrieve", lambda p, k: sb.retrieve("refunds", "refund", parts[2])
        elif parts[:2] == ["v1", "charges"] and len(parts) == 3 and method == "GET":
            return "retrieve", lambda p, k: sb.retrieve("charges", "charge", parts[2])
        elif parts[:2] == ["v1", "events"] and len(parts) == 3 and method == "GET":
            return "retrieve", lambda p, k: sb.retrieve("events", "event", parts[2])
        raise invalid("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or "
                      "we can help at https://support.stripe.com/." % (method, path), status=404)

    def _api_begin(self, path):
        """Authenticates, routes and takes the operation's fault, if one
        is queued; returns (key, run, fault) for _api, which runs after the
        fault's delay."""
        key = self._authenticate()
        operation, run = self._route(path)
        return key, run, self.server.sandbox.take_fault(operation)

    def _api(self, path, body, key, run, fault):
        sandbox = self.server.sandbox
        if fault is not None and fault.status is not None:
            raise fault_error(int(fault.status))
        idem = self.headers.get("idempotency-key") if self.command == "POST" else None
        if idem is not None and len(idem) > 255:
            raise invalid("Idempotency keys must be at most 255 characters.")
        if not idem:
            params = decode_form(parse_form(body)) if self.command == "POST" else {}
            try:
                status, answer = run(params, None)
            except ApiError as e:
                status, answer = e.status, {"error": e.error}
            self._answer_with_fault(fault, status, answer, [])
            return ""
        scope = (key, idem)
        pairs = parse_form(body)
        fingerprint = fingerprint_of(self.command, path, pairs)
        stored = sandbox.idempotent_begin(scope, fingerprint)
        if stored is not None:
            self._answer_with_fault(fault, stored[0], stored[1],
                                    [("Idempotency-Key", idem), ("Idempotent-Replayed", "true")])
            return " idempotent-replay"
        status, answer = 500, None
        try:
            params = decode_form(pairs)
            status, answer = run(params, idem)
        except ApiError as e:
            status, answer = e.status, {"error": e.error}
        finally:
            # Stripe saves the result of any request that started executing,
            # errors included, so a retry sees exactly what the first got;
            # parameters that failed validation never started, so not those.
            saved = answer
            if answer is not None and answer.get("error", {}).get("code", "").startswith(
                    "parameter_"):
                saved = None
            sandbox.idempotent_end(scope, fingerprint, status, saved)
        self._answer_with_fault(fault, status, answer, [("Idempotency-Key", idem)])
        return ""

    def _answer_with_fault(self, fault, status, answer, headers):
        if fault is not None and fault.after_commit_status is not None:
            e = fault_error(int(fault.after_commit_status))
            self._send(e.status, {"error": e.error})
            return
        self._send(status, answer, headers)


def mask_key(key):
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


class Server:
    """Serves every connection from one event loop on one thread: the
    API's operations are short, and threads cost more in hand-offs of
    the interpreter lock than they saved."""

    def __init__(self, address, sandbox, loop):
        self.sandbox = sandbox
        self.loop = loop
        # AF_INET and SO_REUSEADDR, as http.server bound.
        self.socket = socket.create_server(address, backlog=LISTEN_BACKLOG)
        self.server_address = self.socket.getsockname()

    def serve_forever(self):
        self.loop.run_until_complete(self.loop.create_server(
            lambda: Handler(self), sock=self.socket, backlog=LISTEN_BACKLOG))
        self.loop.run_forever()

    def server_close(self):
        self.socket.close()
        self.loop.close()


def build_server(host, port, api_keys, webhook_url=None, webhook_secret=None,
                 duplicate_rate=0.0, webhook_delay_ms=0, log=None):
    def default_log(msg):
        sys.stderr.write("stripe-sandbox: %s\n" % msg)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    webhooks = Webhooks(webhook_url, webhook_secret, duplicate_rate, webhook_delay_ms,
                        log or default_log, loop)
    return Server((host, port), Sandbox(api_keys, webhooks), loop)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local Stripe-compatible payment sandbox.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=12111)
    ap.add_argument("--api-key", required=True, action="append",
                    help="a secret key clients may present (repeat for several accounts; "
                    "idempotency keys are scoped to each)")
    ap.add_argument("--webhook-url", default="")
    ap.add_argument("--webhook-secret", default="")
    ap.add_argument("--duplicate-webhook-rate", type=float, default=0.0)
    ap.add_argument("--webhook-delay-ms", type=int, default=0)
    args = ap.parse_args(argv)
    if args.webhook_url and not args.webhook_secret:
        ap.error("--webhook-url needs --webhook-secret")
    if not 0.0 <= args.duplicate_webhook_rate <= 1.0:
        ap.error("--duplicate-webhook-rate must be within [0, 1]")
    server = build_server(args.host, args.port, args.api_key, args.webhook_url or None,
                          args.webhook_secret, args.duplicate_webhook_rate,
                          args.webhook_delay_ms)
    host, port = server.server_address[:2]
    sys.stderr.write("stripe-sandbox listening on http://%s:%d\n" % (host, port))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
