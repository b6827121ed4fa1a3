-- Orders and payments: every state change of an order is one function, one
-- transaction. Provider calls happen between these calls, never inside a
-- transaction. A call that may move money (confirm, refund) is recorded
-- first (payments row 'started'), then sent, then its outcome recorded.
-- Creating an intent moves no money: checkout asks for it first and writes
-- the order with it, so a crash in between leaves only an intent that was
-- never confirmed.
-- Reapplied on every migrate run.

-- A ticket code: 16 upper-case hex digits from the strong random source
-- behind gen_random_uuid (60 random bits; the unique index catches the
-- rest).
CREATE OR REPLACE FUNCTION ticket_code()
RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 16))
$$;

-- What has been or is being refunded of an order (every refund part
-- that may move money), in minor units.
CREATE OR REPLACE FUNCTION order_refunded(p_order_id bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(amount), 0)::bigint FROM payments
    WHERE order_id = p_order_id AND kind = 'refund' AND state <> 'failed'
$$;

-- The order as the API shows it. A pending order past its deadline reads
-- "expired" at once, whatever the worker has done (a payment already on
-- its way may still complete it).
-- PL/pgSQL, not SQL: a SQL function that cannot be inlined is planned anew
-- on every call (about 3 ms here, against 0.2 ms for a cached plan), and
-- the checkout and pay answers are built with it.
CREATE OR REPLACE FUNCTION order_json(p_order_id bigint)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT json_build_object(
        'id', o.id, 'kind', o.kind, 'hold_id', o.hold_id, 'event_id', o.event_id,
        'status', CASE WHEN o.status = 'pending_payment' AND o.expires_at <= now()
                       THEN 'expired' ELSE o.status END,
        'amount', o.amount, 'currency', o.currency,
        'created_at', o.created_at, 'expires_at', o.expires_at, 'paid_at', o.paid_at,
        'payment_error', o.payment_error,
        'refund', CASE WHEN o.refund_state IS NULL THEN NULL
                       ELSE json_build_object('status', o.refund_state,
                                              'amount', order_refunded(o.id)) END,
        'amount_refunded', CASE WHEN o.refund_state IS NULL THEN 0
                                ELSE order_refunded(o.id) END,
        -- A train order shows its booking: PNR, passengers and their status.
        'pnr', CASE WHEN o.kind = 'train' THEN (SELECT b.pnr FROM train_bookings b
                                                WHERE b.hold_id = o.hold_id) END,
        'booking', CASE WHEN o.kind = 'train' THEN hold_json(o.hold_id) END,
        'event', (SELECT json_build_object('id', e.id, 'title', e.title,
                                           'starts_at', e.starts_at)
                  FROM events e WHERE e.id = o.event_id),
        'tickets', coalesce((
            SELECT json_agg(json_build_object(
                       'id', t.id, 'code', t.code,
                       'seat', json_build_object('id', s.id, 'section', sc.name,
                                                 'row', s.row_label, 'number', s.number))
                       ORDER BY s.rank, s.id)
            FROM tickets t
            JOIN seats s ON s.id = t.seat_id
            JOIN sections sc ON sc.id = s.section_id
            WHERE t.order_id = o.id AND t.status = 'valid'), '[]'::json))
    FROM orders o WHERE o.id = p_order_id);
END $$;

-- The checkout answer: the order and what the browser needs to pay.
CREATE OR REPLACE FUNCTION order_checkout_json(p_order_id bigint)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT json_build_object(
        'order', order_json(o.id),
        'payment', json_build_object('provider', 'stripe', 'intent_id', o.intent_id,
                                     'client_secret', o.client_secret))
    FROM orders o WHERE o.id = p_order_id);
END $$;

-- Why the user's hold p_hold cannot be checked out now (NULL when it can):
-- hold_not_found (p_hold is NULL: not the user's), hold_has_order (another
-- key already checked it out), hold_expired, hold_released, nothing_to_pay.
CREATE OR REPLACE FUNCTION order_hold_refusal(p_hold holds)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_hold.id IS NULL THEN
        RETURN 'hold_not_found';
    END IF;
    IF EXISTS (SELECT 1 FROM orders o WHERE o.hold_id = p_hold.id) THEN
        RETURN 'hold_has_order';
    END IF;
    IF p_hold.status = 'expired' OR (p_hold.status = 'active' AND p_hold.expires_at <= now()) THEN
        RETURN 'hold_expired';
    END IF;
    IF p_hold.status <> 'active' THEN
        RETURN 'hold_released';
    END IF;
    IF p_hold.amount < 1 THEN
        RETURN 'nothing_to_pay';
    END IF;
    RETURN NULL;
END $$;

-- Checkout, step one, reading only: what the provider's PaymentIntent must
-- be for the user's hold, before anything is written. Checkout creates the
-- intent first (creating one moves no money, and the same idempotency key
-- gives the same intent back however often it is asked), then writes the
-- order with it in one transaction: one durable commit per checkout.
-- Outcomes: ready (amount, currency), existing (the key made this order
-- already; intent_id NULL only for an order whose intent was never made),
-- key_conflict (the key made an order for another hold), unauthorized
-- (p_user_id NULL: the caller resolves its session in the same query), and
-- the refusals of order_hold_refusal. user_id echoes p_user_id.
DROP FUNCTION IF EXISTS order_checkout_plan(bigint, bigint, text);
CREATE OR REPLACE FUNCTION order_checkout_plan(p_user_id bigint, p_hold_id bigint, p_key text)
RETURNS TABLE (outcome text, order_id bigint, intent_id text, amount bigint, currency text,
               user_id bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_hold holds%ROWTYPE;
    v_order orders%ROWTYPE;
BEGIN
    IF p_user_id IS NULL THEN
        RETURN QUERY SELECT 'unauthorized', NULL::bigint, NULL::text, NULL::bigint, NULL::text,
            NULL::bigint;
        RETURN;
    END IF;
    SELECT * INTO v_order FROM orders o
    WHERE o.user_id = p_user_id AND o.idempotency_key = p_key;
    IF FOUND THEN
        RETURN QUERY SELECT CASE WHEN v_order.hold_id = p_hold_id THEN 'existing'
                                 ELSE 'key_conflict' END,
            v_order.id, v_order.intent_id, v_order.amount, v_order.currency, p_user_id;
        RETURN;
    END IF;
    SELECT * INTO v_hold FROM holds h WHERE h.id = p_hold_id AND h.user_id = p_user_id;
    RETURN QUERY SELECT coalesce(order_hold_refusal(v_hold), 'ready'), NULL::bigint,
        NULL::text, v_hold.amount, v_hold.currency, p_user_id;
END $$;

-- Checkout, step two: turns the user's active hold into a pending order
-- with the provider's intent p_intent_id (made by step one's plan), or
-- finds the order an earlier request with the same key made. Everything
-- step one checked is checked again under the hold's lock. Returns one
-- row: outcome (created, existing, key_conflict or a refusal of
-- order_hold_refusal), the order, and for created and existing the
-- checkout answer. An intent left without an order by a refusal here was
-- never confirmed, so it can never charge.
-- Generic plans: every statement is a key lookup, and with custom plans the
-- order lines' insert was planned anew on every checkout.
DROP FUNCTION IF EXISTS order_checkout(bigint, bigint, text);
CREATE OR REPLACE FUNCTION order_checkout(p_user_id bigint, p_hold_id bigint, p_key text,
                                          p_intent_id text, p_client_secret text)
RETURNS TABLE (outcome text, order_id bigint, body json)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_hold holds%ROWTYPE;
    v_order orders%ROWTYPE;
    v_refusal text;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    -- The hold's lock orders concurrent checkouts of it.
    SELECT * INTO v_hold FROM holds h WHERE h.id = p_hold_id AND h.user_id = p_user_id
    FOR UPDATE;
    SELECT * INTO v_order FROM orders o
    WHERE o.user_id = p_user_id AND o.idempotency_key = p_key;
    IF FOUND THEN
        IF v_order.hold_id <> p_hold_id THEN
            RETURN QUERY SELECT 'key_conflict', v_order.id, NULL::json;
        ELSE
            RETURN QUERY SELECT 'existing', v_order.id, order_checkout_json(v_order.id);
        END IF;
        RETURN;
    END IF;
    v_refusal := order_hold_refusal(v_hold);
    IF v_refusal IS NOT NULL THEN
        RETURN QUERY SELECT v_refusal, NULL::bigint, NULL::json;
        RETURN;
    END IF;
    INSERT INTO orders (user_id, hold_id, kind, event_id, amount, currency, idempotency_key,
                        expires_at, intent_id, client_secret)
    VALUES (p_user_id, p_hold_id, v_hold.kind, v_hold.event_id, v_hold.amount,
            v_hold.currency, p_key, v_hold.expires_at, p_intent_id, p_client_secret)
    RETURNING * INTO v_order;
    IF v_hold.kind = 'event' THEN
        INSERT INTO order_lines (order_id, line, event_id, seat_id, category, amount)
        SELECT v_order.id, row_number() OVER (ORDER BY es.rank, es.seat_id), es.event_id,
               es.seat_id, es.category, p.amount
        FROM event_seats es
        JOIN event_prices p ON p.event_id = es.event_id AND p.category = es.category
        WHERE es.event_id = v_hold.event_id AND es.seat_id = ANY (v_hold.seat_ids);
    ELSE
        INSERT INTO order_lines (order_id, line, amount) VALUES (v_order.id, 1, v_hold.amount);
    END IF;
    -- The hold lives on as the order's: the sweeper leaves it alone, its
    -- seats stay reserved until the deadline (lazily, as before).
    UPDATE holds SET status = 'converted' WHERE id = p_hold_id;
    RETURN QUERY SELECT 'created', v_order.id, order_checkout_json(v_order.id);
END $$;

-- Records the provider's PaymentIntent of an order (idempotent); returns
-- the checkout answer.
DROP FUNCTION IF EXISTS order_intent_created(bigint, text, text);
CREATE OR REPLACE FUNCTION order_intent_created(p_order_id bigint, p_intent_id text,
                                                p_client_secret text)
RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    UPDATE orders SET intent_id = p_intent_id, client_secret = p_client_secret,
                      updated_at = now()
    WHERE id = p_order_id AND intent_id IS NULL;
    UPDATE payments SET state = 'succeeded', outcome = 'requires_payment_method',
                        provider_ref = p_intent_id, settled_at = now()
    WHERE order_id = p_order_id AND kind = 'create' AND state <> 'succeeded';
    RETURN order_checkout_json(p_order_id);
END $$;

-- Starts a payment attempt with a payment method: records it before the
-- provider is called. Outcomes: ready (payment_id, intent_id and the
-- attempt's idempotency key are set), not_found, already_paid, expired
-- (past the deadline), not_payable (canceled or refunded), in_progress
-- (another attempt is waiting for the provider), needs_intent,
-- unauthorized (p_user_id NULL: the caller resolves its session in the
-- same query). user_id echoes p_user_id.
DROP FUNCTION IF EXISTS order_pay_begin(bigint, bigint, text);
CREATE OR REPLACE FUNCTION order_pay_begin(p_user_id bigint, p_order_id bigint, p_method text)
RETURNS TABLE (outcome text, payment_id bigint, intent_id text, confirm_key text,
               user_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_order orders%ROWTYPE;
    v_payment bigint;
    v_key text;
    v_open bigint;
    v_attempts bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    IF p_user_id IS NULL THEN
        RETURN QUERY SELECT 'unauthorized', NULL::bigint, NULL::text, NULL::text, p_user_id;
        RETURN;
    END IF;
    SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id AND o.user_id = p_user_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found', NULL::bigint, NULL::text, NULL::text, p_user_id; RETURN;
    END IF;
    IF v_order.status = 'paid' THEN
        RETURN QUERY SELECT 'already_paid', NULL::bigint, NULL::text, NULL::text, p_user_id; RETURN;
    END IF;
    IF v_order.status = 'expired' OR (v_order.status = 'pending_payment'
                                      AND v_order.expires_at <= now()) THEN
        RETURN QUERY SELECT 'expired', NULL::bigint, NULL::text, NULL::text, p_user_id; RETURN;
    END IF;
    IF v_order.status <> 'pending_payment' THEN
        RETURN QUERY SELECT 'not_payable', NULL::bigint, NULL::text, NULL::text, p_user_id; RETURN;
    END IF;
    IF v_order.intent_id IS NULL THEN
        RETURN QUERY SELECT 'needs_intent', NULL::bigint, NULL::text, NULL::text, p_user_id; RETURN;
    END IF;
    -- One attempt at a time: a second card while the first is still with
    -- the provider could charge twice. The attempts, read once (one
    -- statement, under the order's lock), also number the new one.
    SELECT count(*) FILTER (WHERE p.state = 'unknown'
                              OR (p.state = 'started'
                                  AND p.created_at > now() - interval '2 minutes')),
           count(*)
      INTO v_open, v_attempts
      FROM payments p WHERE p.order_id = p_order_id AND p.kind = 'confirm';
    IF v_open > 0 THEN
        RETURN QUERY SELECT 'in_progress', NULL::bigint, NULL::text, NULL::text, p_user_id; RETURN;
    END IF;
    v_key := 'order-' || p_order_id || '-confirm-' || (v_attempts + 1);
    INSERT INTO payments (order_id, kind, idempotency_key, payment_method, amount)
    VALUES (p_order_id, 'confirm', v_key, p_method, v_order.amount)
    RETURNING id INTO v_payment;
    RETURN QUERY SELECT 'ready', v_payment, v_order.intent_id, v_key, p_user_id;
END $$;

-- Makes the rest of an order's money owed back: its amount less the parts
-- already refunded or owed (chart preparation refunds parts). Nothing new
-- is owed when nothing is left. Called with the order locked.
CREATE OR REPLACE FUNCTION order_owe_refund(p_order_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_left bigint;
BEGIN
    SELECT o.amount - order_refunded(o.id) INTO v_left FROM orders o WHERE o.id = p_order_id;
    IF v_left > 0 THEN
        INSERT INTO payments (order_id, kind, idempotency_key, amount)
        VALUES (p_order_id, 'refund', 'order-' || p_order_id || '-refund', v_left)
        ON CONFLICT (idempotency_key) DO NOTHING;
    END IF;
    UPDATE orders SET refund_state = CASE WHEN EXISTS (
                          SELECT 1 FROM payments p WHERE p.order_id = p_order_id
                            AND p.kind = 'refund' AND p.state IN ('started', 'unknown'))
                          THEN 'pending' ELSE 'done' END,
                      updated_at = now()
    WHERE id = p_order_id;
END $$;

-- Owes back part of a paid order (p_amount minor units) under the
-- idempotency key p_key, which names the part (the same key again owes
-- nothing more). The order stays paid. Outcomes: owed, existing (this key
-- was owed before), not_paid (the order is not paid), too_large (more
-- than is left of the order), invalid_amount, not_found.
CREATE OR REPLACE FUNCTION order_refund_part(p_order_id bigint, p_amount bigint, p_key text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_order orders%ROWTYPE;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    SELECT * INTO v_order FROM orders WHERE id = p_order_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF EXISTS (SELECT 1 FROM payments WHERE idempotency_key = p_key AND order_id = p_order_id
                                          AND kind = 'refund') THEN
        RETURN 'existing';
    END IF;
    IF p_amount IS NULL OR p_amount < 1 THEN
        RETURN 'invalid_amount';
    END IF;
    IF v_order.status <> 'paid' THEN
        RETURN 'not_paid';
    END IF;
    IF p_amount > v_order.amount - order_refunded(p_order_id) THEN
        RETURN 'too_large';
    END IF;
    INSERT INTO payments (order_id, kind, idempotency_key, amount)
    VALUES (p_order_id, 'refund', p_key, p_amount);
    UPDATE orders SET refund_state = 'pending', updated_at = now() WHERE id = p_order_id;
    RETURN 'owed';
END $$;

-- The provider says the intent succeeded (pay answer, webhook or
-- reconciliation; any number of times, in any order). In one transaction:
-- the order becomes paid, its inventory sold and its tickets issued; or,
-- when its inventory went to someone else after the deadline, or the order
-- was canceled meanwhile, a refund is owed. Outcomes: paid, already_paid,
-- refund (the caller sends the refund), already_refunded, unknown_intent.
-- The order's JSON comes along when p_json (the pay call answers with it).
DROP FUNCTION IF EXISTS order_payment_succeeded(text);
CREATE OR REPLACE FUNCTION order_payment_succeeded(p_intent_id text, p_json boolean)
RETURNS TABLE (outcome text, order_id bigint, order_body json)
LANGUAGE plpgsql AS $$
DECLARE
    v_order orders%ROWTYPE;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    SELECT * INTO v_order FROM orders o WHERE o.intent_id = p_intent_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown_intent', NULL::bigint, NULL::json; RETURN;
    END IF;
    UPDATE payments p SET state = CASE WHEN p.state = 'started' THEN 'succeeded'
                                       ELSE 'settled' END,
                          outcome = coalesce(p.outcome, 'succeeded'), settled_at = now()
    WHERE p.order_id = v_order.id AND p.kind = 'confirm' AND p.state IN ('started', 'unknown');
    IF v_order.status = 'paid' THEN
        RETURN QUERY SELECT 'already_paid', v_order.id,
        CASE WHEN p_json THEN order_json(v_order.id) END; RETURN;
    END IF;
    IF v_order.refund_state = 'done' THEN
        RETURN QUERY SELECT 'already_refunded', v_order.id,
        CASE WHEN p_json THEN order_json(v_order.id) END; RETURN;
    END IF;
    IF v_order.status IN ('pending_payment', 'expired') AND hold_fulfil(v_order.hold_id) THEN
        UPDATE orders SET status = 'paid', paid_at = now(), payment_error = NULL,
                          updated_at = now()
        WHERE id = v_order.id;
        IF v_order.kind = 'event' THEN
            INSERT INTO tickets (order_id, event_id, seat_id, code)
            SELECT v_order.id, v_order.event_id, s, ticket_code()
            FROM holds h CROSS JOIN unnest(h.seat_ids) s WHERE h.id = v_order.hold_id;
        END IF;
        RETURN QUERY SELECT 'paid', v_order.id,
        CASE WHEN p_json THEN order_json(v_order.id) END; RETURN;
    END IF;
    -- Too late (someone else has the inventory) or no longer wanted.
    UPDATE orders SET status = CASE WHEN status = 'pending_payment' THEN 'expired'
                                    ELSE status END,
                      payment_error = CASE WHEN status IN ('pending_payment', 'expired')
                          THEN jsonb_build_object('code', 'seats_taken', 'message',
                              'Your payment arrived after the order''s deadline and what it '
                              'held was sold to someone else; it is being refunded.')
                          ELSE payment_error END,
                      updated_at = now()
    WHERE id = v_order.id;
    PERFORM order_owe_refund(v_order.id);
    RETURN QUERY SELECT 'refund', v_order.id,
        CASE WHEN p_json THEN order_json(v_order.id) END;
END $$;

-- A payment attempt ended without moving money (a decline, or the intent
-- is back to waiting for a card). Settles attempt p_payment_id, or every
-- open attempt when p_all_open (reconciliation learned the intent's state);
-- a webhook passes neither, since another attempt may be on its way. The
-- order stays payable; its payment_error says why.
CREATE OR REPLACE FUNCTION order_payment_failed(p_intent_id text, p_payment_id bigint,
                                                p_all_open boolean, p_code text,
                                                p_message text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_order orders%ROWTYPE;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    SELECT * INTO v_order FROM orders o WHERE o.intent_id = p_intent_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE payments p SET state = 'failed', error_code = p_code, error_message = p_message,
                          outcome = 'declined', settled_at = now()
    WHERE p.order_id = v_order.id AND p.kind = 'confirm' AND p.state IN ('started', 'unknown')
      AND (p_all_open OR p.id = p_payment_id);
    IF v_order.status = 'pending_payment' THEN
        UPDATE orders SET payment_error = jsonb_build_object('code', p_code,
                                                             'message', p_message),
                          updated_at = now()
        WHERE id = v_order.id;
    END IF;
END $$;

-- The provider gave no clear answer to an attempt: the reconciler (or the
-- webhook) settles it; meanwhile the order says so.
CREATE OR REPLACE FUNCTION order_payment_unknown(p_payment_id bigint, p_outcome text,
                                                 p_message text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    UPDATE payments SET state = 'unknown', outcome = p_outcome, error_message = p_message
    WHERE id = p_payment_id AND state = 'started';
    UPDATE orders o SET payment_error = jsonb_build_object(
            'code', 'payment_unconfirmed',
            'message', 'We could not confirm your payment yet. Check the order again in a moment.'),
        updated_at = now()
    FROM payments p
    WHERE p.id = p_payment_id AND o.id = p.order_id AND o.status = 'pending_payment';
END $$;

-- The reconciler could not settle an order's open attempts of a kind this
-- time: try again after 1, 2, 4, ... seconds, at most every 10 minutes.
CREATE OR REPLACE FUNCTION order_reconcile_later(p_order_id bigint, p_kind text)
RETURNS void LANGUAGE sql AS $$
    UPDATE payments
    SET retries = retries + 1,
        retry_at = now() + least(600, power(2, least(retries, 10))) * interval '1 second'
    WHERE order_id = p_order_id AND kind = p_kind AND state IN ('started', 'unknown')
$$;

-- The refund parts owed on an order and not yet confirmed: what to send,
-- oldest first, each with its own idempotency key and amount.
CREATE OR REPLACE FUNCTION order_refund_attempt(p_order_id bigint)
RETURNS TABLE (payment_id bigint, intent_id text, refund_key text, amount bigint)
LANGUAGE sql STABLE AS $$
    SELECT p.id, o.intent_id, p.idempotency_key, p.amount
    FROM orders o JOIN payments p ON p.order_id = o.id AND p.kind = 'refund'
    WHERE o.id = p_order_id AND o.refund_state = 'pending'
      AND p.state IN ('started', 'unknown')
    ORDER BY p.id
$$;

-- The provider confirmed refund part p_payment_id (or says the charge was
-- already refunded); the order's refund is done when no part is left open.
-- (order_refund_done took an order id: dropped, so that a caller left
-- behind fails loudly instead of settling another payment.)
DROP FUNCTION IF EXISTS order_refund_done(bigint, text);
CREATE OR REPLACE FUNCTION order_refund_part_done(p_payment_id bigint, p_refund_id text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_order bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    SELECT order_id INTO v_order FROM payments WHERE id = p_payment_id AND kind = 'refund';
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM 1 FROM orders WHERE id = v_order FOR UPDATE;
    UPDATE payments SET state = 'succeeded', provider_ref = coalesce(p_refund_id, provider_ref),
                        settled_at = now()
    WHERE id = p_payment_id AND state IN ('started', 'unknown');
    IF FOUND THEN
        UPDATE job_counters SET value = value + 1 WHERE name = 'refunds_issued';
    END IF;
    UPDATE orders SET refund_state = 'done', refund_id = coalesce(p_refund_id, refund_id),
                      updated_at = now()
    WHERE id = v_order AND refund_state = 'pending'
      AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = v_order AND p.kind = 'refund'
                      AND p.state IN ('started', 'unknown'));
END $$;

-- No clear answer to refund part p_payment_id: the reconciler retries it
-- later with the same key.
DROP FUNCTION IF EXISTS order_refund_unknown(bigint, text, text);
CREATE OR REPLACE FUNCTION order_refund_part_unknown(p_payment_id bigint, p_outcome text,
                                                     p_message text)
RETURNS void LANGUAGE sql AS $$
    UPDATE payments SET state = 'unknown', outcome = p_outcome, error_message = p_message
    WHERE id = p_payment_id AND kind = 'refund' AND state IN ('started', 'unknown');
    SELECT order_reconcile_later(order_id, 'refund') FROM payments WHERE id = p_payment_id;
$$;

-- Cancels an order (p_user_id NULL: whoever owns it, for system callers).
-- A paid order: tickets void, inventory free at once, status refunded and
-- a refund owed (outcome refund). A pending order: canceled, inventory
-- free at once (outcome canceled; the caller cancels the intent). Other
-- outcomes: already (canceled or refunded before), not_cancelable
-- (expired), not_found.
CREATE OR REPLACE FUNCTION order_cancel(p_user_id bigint, p_order_id bigint)
RETURNS TABLE (outcome text, intent_id text)
LANGUAGE plpgsql AS $$
DECLARE
    v_order orders%ROWTYPE;
    v_hold holds%ROWTYPE;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    SELECT * INTO v_order FROM orders o
    WHERE o.id = p_order_id AND (p_user_id IS NULL OR o.user_id = p_user_id) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found', NULL::text; RETURN;
    END IF;
    IF v_order.status IN ('refunded', 'canceled') THEN
        RETURN QUERY SELECT 'already', v_order.intent_id; RETURN;
    END IF;
    IF v_order.status = 'expired' OR (v_order.status = 'pending_payment'
                                      AND v_order.expires_at <= now()) THEN
        RETURN QUERY SELECT 'not_cancelable', v_order.intent_id; RETURN;
    END IF;
    -- A train's chart freezes its bookings for travellers, as the PNR's own
    -- cancel says; only the chart itself (no user) still cancels them.
    IF p_user_id IS NOT NULL AND v_order.kind = 'train' AND EXISTS (
            SELECT 1 FROM train_bookings b JOIN train_runs r ON r.id = b.run_id
            WHERE b.hold_id = v_order.hold_id AND r.chart_prepared_at IS NOT NULL) THEN
        RETURN QUERY SELECT 'chart_prepared', v_order.intent_id; RETURN;
    END IF;
    IF v_order.status = 'paid' THEN
        UPDATE tickets SET status = 'void', voided_at = now()
        WHERE order_id = v_order.id AND status = 'valid';
        PERFORM hold_unfulfil(v_order.hold_id);
        UPDATE orders SET status = 'refunded', refund_state = 'pending', updated_at = now()
        WHERE id = v_order.id;
        PERFORM order_owe_refund(v_order.id);
        RETURN QUERY SELECT 'refund', v_order.intent_id; RETURN;
    END IF;
    -- pending_payment: give the inventory back now.
    UPDATE orders SET status = 'canceled', updated_at = now() WHERE id = v_order.id;
    SELECT * INTO v_hold FROM holds WHERE id = v_order.hold_id;
    IF v_hold.kind = 'train' THEN
        PERFORM train_hold_release(v_hold.id);  -- trains functions
    ELSE
        UPDATE event_seats SET hold_id = NULL, held_until = '-infinity'
        WHERE event_id = v_hold.event_id AND seat_id = ANY (v_hold.seat_ids)
          AND hold_id = v_hold.id AND held_until <> 'infinity';
    END IF;
    RETURN QUERY SELECT 'canceled', v_order.intent_id;
END $$;

-- The order of a hold, for callers that know the hold (trains).
CREATE OR REPLACE FUNCTION order_of_hold(p_hold_id bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT id FROM orders WHERE hold_id = p_hold_id
$$;

-- Stores a provider event once. Returns true the first time.
CREATE OR REPLACE FUNCTION order_event_record(p_id text, p_type text, p_intent_id text,
                                              p_created bigint, p_payload text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true);
    INSERT INTO provider_events (id, type, intent_id, created, payload)
    VALUES (p_id, p_type, p_intent_id, to_timestamp(p_created), p_payload::jsonb)
    ON CONFLICT (id) DO NOTHING;
    RETURN FOUND;
END $$;

-- A verified webhook event, stored once. A payment_intent.succeeded is
-- settled in the same transaction, so an event is either stored and
-- settled or neither (the provider retries), and a duplicate changes
-- nothing. Returns whether it was new and, for a success,
-- order_payment_succeeded's outcome and order (outcome refund: the caller
-- sends the refund).
-- The common case, a success for an order the pay answer already settled
-- (paid, no attempt left open), is a no-op: no lock on the order, nothing
-- written but the event, whose commit need not wait for the WAL flush:
-- the state it confirms is already durable, and an event lost in a crash
-- is delivered again and is the same no-op. Reading the order without the
-- lock is safe: paid is only left by a cancel, which books its own refund;
-- this event then simply counts as having come before the cancel.
CREATE OR REPLACE FUNCTION order_event_apply(p_id text, p_type text, p_intent_id text,
                                             p_created bigint, p_payload text)
RETURNS TABLE (fresh boolean, outcome text, order_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_fresh boolean;
    v_settled bigint;
BEGIN
    IF p_type = 'payment_intent.succeeded' AND p_intent_id IS NOT NULL THEN
        SELECT o.id INTO v_settled FROM orders o
        WHERE o.intent_id = p_intent_id AND o.status = 'paid'
          AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id
                          AND p.kind = 'confirm' AND p.state IN ('started', 'unknown'));
        IF v_settled IS NOT NULL THEN
            v_fresh := order_event_record(p_id, p_type, p_intent_id, p_created, p_payload);
            PERFORM set_config('synchronous_commit', 'off', true);
            RETURN QUERY SELECT v_fresh, CASE WHEN v_fresh THEN 'already_paid' END,
                CASE WHEN v_fresh THEN v_settled END;
            RETURN;
        END IF;
    END IF;
    v_fresh := order_event_record(p_id, p_type, p_intent_id, p_created, p_payload);
    IF v_fresh AND p_type = 'payment_intent.succeeded' AND p_intent_id IS NOT NULL THEN
        RETURN QUERY SELECT true, s.outcome, s.order_id
                     FROM order_payment_succeeded(p_intent_id, false) s;
        RETURN;
    END IF;
    RETURN QUERY SELECT v_fresh, NULL::text, NULL::bigint;
END $$;

-- The worker: expires up to p_limit pending orders past their deadline
-- with no payment attempt still open (those are reconciled first).
CREATE OR REPLACE FUNCTION order_expire(p_limit int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_count int := 0;
    v_order record;
BEGIN
    FOR v_order IN
        SELECT o.id, o.hold_id, o.kind FROM orders o
        WHERE o.status = 'pending_payment' AND o.expires_at <= now()
          AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id
                          AND p.kind = 'confirm' AND p.state IN ('started', 'unknown'))
        ORDER BY o.expires_at LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE orders SET status = 'expired', updated_at = now() WHERE id = v_order.id;
        IF v_order.kind = 'train' THEN
            PERFORM train_hold_release(v_order.hold_id);  -- trains functions
        END IF;
        v_count := v_count + 1;
    END LOOP;
    IF v_count > 0 THEN
        UPDATE job_counters SET value = value + v_count WHERE name = 'orders_expired';
    END IF;
    RETURN v_count;
END $$;

-- The worker: payment work left open. kind 'intent': a confirm attempt
-- with no clear answer (unknown, or started long ago: a crash); fetch the
-- intent and settle. kind 'refund': a refund owed that is not in flight.
CREATE OR REPLACE FUNCTION order_reconcile_work(p_limit int)
RETURNS TABLE (kind text, order_id bigint, intent_id text)
LANGUAGE sql STABLE AS $$
    (SELECT DISTINCT 'intent', o.id, o.intent_id
     FROM payments p JOIN orders o ON o.id = p.order_id
     WHERE p.kind = 'confirm'
       AND (p.state = 'unknown' OR (p.state = 'started'
                                    AND p.created_at < now() - interval '2 minutes'))
       AND (p.retry_at IS NULL OR p.retry_at <= now())
     LIMIT p_limit)
    UNION ALL
    (SELECT DISTINCT 'refund', o.id, o.intent_id
     FROM orders o JOIN payments p ON p.order_id = o.id AND p.kind = 'refund'
     WHERE o.refund_state = 'pending' AND p.state IN ('started', 'unknown')
       AND (p.state <> 'started' OR p.created_at < now() - interval '5 seconds')
       AND (p.retry_at IS NULL OR p.retry_at <= now())
     LIMIT p_limit)
$$;
