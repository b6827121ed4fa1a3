-- 031_partial_refunds: an order may be refunded in parts. Chart
-- preparation refunds the waitlisted passengers of a paid train booking
-- while the others travel; cancelling later refunds what is left. Each part
-- is a payments row of kind 'refund' with its own idempotency key (the
-- provider refunds a key at most once, and the unique key stops us from
-- owing the same part twice). orders.refund_state stays the order's
-- summary: 'pending' while some part is not confirmed by the provider,
-- 'done' after.
--
-- Never more back than was paid: the refunds of an order that may move
-- money (every state but 'failed') add up to at most its amount. Checked
-- by a constraint trigger that locks the order row first, so two
-- transactions adding parts at once are serialised and the second one sees
-- the first one's part.

ALTER TABLE payments ADD CONSTRAINT payments_refund_amount_positive
    CHECK (kind <> 'refund' OR amount >= 1);

CREATE INDEX payments_refunds_idx ON payments (order_id) WHERE kind = 'refund';

CREATE FUNCTION payments_refunds_check()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_paid bigint;
    v_refunds bigint;
BEGIN
    SELECT amount INTO v_paid FROM orders WHERE id = NEW.order_id FOR UPDATE;
    SELECT coalesce(sum(amount), 0) INTO v_refunds FROM payments
    WHERE order_id = NEW.order_id AND kind = 'refund' AND state <> 'failed';
    IF v_refunds > v_paid THEN
        RAISE EXCEPTION 'refunds of order % add up to %, more than its amount %',
            NEW.order_id, v_refunds, v_paid
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refunds_within_paid_amount';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER refunds_within_paid_amount
    AFTER INSERT OR UPDATE OF amount, state, kind, order_id ON payments
    FOR EACH ROW WHEN (NEW.kind = 'refund')
    EXECUTE FUNCTION payments_refunds_check();
