-- 010_orders: orders, their lines, tickets, payment attempts and provider
-- events.
--
-- An order is a hold being paid for. Money and tickets stay consistent by
-- construction:
--   * a seat of an event has at most one valid ticket (partial unique index);
--   * a paid event order has exactly one valid ticket per seat of its hold,
--     and an order that is not paid has no valid ticket (deferred constraint
--     triggers, checked at commit, so C bugs cannot break them);
--   * every call that may move money is recorded in `payments` before it is
--     sent, so a crash leaves a row the reconciler finds.

CREATE TABLE orders (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users,
    hold_id         bigint NOT NULL UNIQUE REFERENCES holds, -- one order per hold
    kind            text NOT NULL CHECK (kind IN ('event', 'train')),
    event_id        bigint REFERENCES events,
    amount          bigint NOT NULL CHECK (amount >= 1),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status          text NOT NULL DEFAULT 'pending_payment'
                    CHECK (status IN ('pending_payment', 'paid', 'expired', 'canceled',
                                      'refunded')),
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    intent_id       text UNIQUE,   -- the provider's PaymentIntent, once created
    client_secret   text,
    expires_at      timestamptz NOT NULL, -- the payment deadline: the hold's expiry
    payment_error   jsonb,         -- the last decline, for the customer
    -- Money owed back: NULL none, 'pending' until the provider confirms the
    -- refund (the reconciler retries it), 'done' after.
    refund_state    text CHECK (refund_state IN ('pending', 'done')),
    refund_id       text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    paid_at         timestamptz,
    UNIQUE (user_id, idempotency_key),
    CHECK (kind <> 'event' OR event_id IS NOT NULL),
    CHECK (status <> 'paid' OR (paid_at IS NOT NULL AND intent_id IS NOT NULL)),
    CHECK (status <> 'refunded' OR refund_state IS NOT NULL)
);
CREATE INDEX orders_user_idx ON orders (user_id, id DESC);
CREATE INDEX orders_pending_idx ON orders (expires_at) WHERE status = 'pending_payment';
CREATE INDEX orders_refund_idx ON orders (id) WHERE refund_state = 'pending';

-- What was bought, with the price of each item at checkout.
CREATE TABLE order_lines (
    order_id bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
    line     int NOT NULL CHECK (line >= 1),
    event_id bigint,
    seat_id  bigint,
    category text,
    amount   bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (order_id, line),
    CHECK ((event_id IS NULL) = (seat_id IS NULL))
);

CREATE TABLE tickets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   bigint NOT NULL REFERENCES orders,
    event_id   bigint NOT NULL REFERENCES events,
    seat_id    bigint NOT NULL REFERENCES seats,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9]{16}$'),
    status     text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'void')),
    created_at timestamptz NOT NULL DEFAULT now(),
    voided_at  timestamptz,
    FOREIGN KEY (event_id, seat_id) REFERENCES event_seats (event_id, seat_id)
);
-- Never sold twice: at most one valid ticket per seat of an event.
CREATE UNIQUE INDEX tickets_one_valid_per_seat ON tickets (event_id, seat_id)
    WHERE status = 'valid';
CREATE INDEX tickets_order_idx ON tickets (order_id);

-- Every call to the provider that can move money, recorded before it is
-- sent. state: started (sent or about to be; a crash leaves it so),
-- succeeded, failed (the provider said no; nothing moved), unknown (no
-- clear answer: reconcile), settled (the intent's final state was learned
-- another way: webhook, retrieve).
CREATE TABLE payments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders,
    kind            text NOT NULL CHECK (kind IN ('create', 'confirm', 'refund')),
    idempotency_key text NOT NULL UNIQUE,
    payment_method  text,
    amount          bigint NOT NULL,
    state           text NOT NULL DEFAULT 'started'
                    CHECK (state IN ('started', 'succeeded', 'failed', 'unknown', 'settled')),
    outcome         text,  -- the client's outcome name
    error_code      text,
    error_message   text,
    provider_ref    text,  -- refund id
    created_at      timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz,
    -- The reconciler's tries so far and when it may try again (backing
    -- off, so that a payment the provider cannot settle does not spin).
    retries         int NOT NULL DEFAULT 0,
    retry_at        timestamptz
);
CREATE INDEX payments_open_idx ON payments (created_at)
    WHERE state IN ('started', 'unknown');
CREATE INDEX payments_order_idx ON payments (order_id);

-- Webhook events, stored once each: the provider delivers at least once.
CREATE TABLE provider_events (
    id          text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    type        text NOT NULL,
    intent_id   text,
    created     timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    payload     jsonb NOT NULL
);

-- The invariant between an order and its tickets, checked at commit:
-- a paid event order has a valid ticket for each seat of its hold and those
-- seats are sold to its hold; any other order has no valid ticket.
CREATE FUNCTION order_check_tickets(p_order_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_order orders%ROWTYPE;
    v_seats bigint[];
    v_valid int;
    v_sold int;
BEGIN
    SELECT * INTO v_order FROM orders WHERE id = p_order_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT count(*) INTO v_valid FROM tickets WHERE order_id = p_order_id AND status = 'valid';
    IF v_order.status <> 'paid' THEN
        IF v_valid > 0 THEN
            RAISE EXCEPTION 'order % is % but has % valid tickets', p_order_id, v_order.status,
                v_valid USING ERRCODE = 'integrity_constraint_violation',
                CONSTRAINT = 'tickets_need_paid_order';
        END IF;
        RETURN;
    END IF;
    IF v_order.kind <> 'event' THEN
        RETURN;
    END IF;
    SELECT seat_ids INTO v_seats FROM holds WHERE id = v_order.hold_id;
    SELECT count(*) INTO v_sold FROM event_seats
    WHERE event_id = v_order.event_id AND seat_id = ANY (v_seats)
      AND hold_id = v_order.hold_id AND held_until = 'infinity';
    IF v_valid <> cardinality(v_seats) OR v_sold <> cardinality(v_seats) OR EXISTS (
        SELECT 1 FROM tickets WHERE order_id = p_order_id AND status = 'valid'
          AND (event_id <> v_order.event_id OR seat_id <> ALL (v_seats))) THEN
        RAISE EXCEPTION 'paid order % has % valid tickets and % sold seats for % seats',
            p_order_id, v_valid, v_sold, cardinality(v_seats)
            USING ERRCODE = 'integrity_constraint_violation',
            CONSTRAINT = 'paid_order_needs_tickets';
    END IF;
END $$;

CREATE FUNCTION orders_check_trigger()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM order_check_tickets(NEW.id);
    RETURN NULL;
END $$;

CREATE FUNCTION tickets_check_trigger()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM order_check_tickets(OLD.order_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM order_check_tickets(NEW.order_id);
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER orders_tickets_consistent
    AFTER INSERT OR UPDATE ON orders DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION orders_check_trigger();
CREATE CONSTRAINT TRIGGER tickets_orders_consistent
    AFTER INSERT OR UPDATE OR DELETE ON tickets DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tickets_check_trigger();

INSERT INTO job_counters (name) VALUES ('orders_expired'), ('payments_reconciled'),
    ('refunds_issued') ON CONFLICT DO NOTHING;
