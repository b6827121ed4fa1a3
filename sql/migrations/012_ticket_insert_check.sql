-- 012_ticket_insert_check: a new ticket is checked on its own, not by
-- re-checking its whole order once per ticket.
--
-- Before, every ticket inserted ran order_check_tickets for its order at
-- commit: a paid order of four seats checked the same order four times
-- (and a fifth time for the order's own update), each time counting its
-- tickets and sold seats. What a new valid ticket can break is its own
-- facts: it must belong to a paid event order, for that order's event,
-- for a seat of that order's hold that is sold to the hold. Those are
-- checked here, per ticket. That the order has no fewer tickets than seats
-- is the order's own check (orders_tickets_consistent fires when an order
-- becomes paid), and it cannot have more: each ticket is for a seat of the
-- hold, and a seat has at most one valid ticket (tickets_one_valid_per_seat).
-- Tickets voided, moved or deleted still re-check their whole order, old
-- and new.

CREATE OR REPLACE FUNCTION tickets_check_trigger()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_order orders%ROWTYPE;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM order_check_tickets(OLD.order_id);
        IF TG_OP = 'UPDATE' THEN
            PERFORM order_check_tickets(NEW.order_id);
        END IF;
        RETURN NULL;
    END IF;
    -- INSERT: a void ticket claims nothing.
    IF NEW.status <> 'valid' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_order FROM orders WHERE id = NEW.order_id;
    IF NOT FOUND OR v_order.status <> 'paid' THEN
        RAISE EXCEPTION 'ticket % is valid but its order % is not paid', NEW.id, NEW.order_id
            USING ERRCODE = 'integrity_constraint_violation',
            CONSTRAINT = 'tickets_need_paid_order';
    END IF;
    IF v_order.kind <> 'event' OR v_order.event_id IS DISTINCT FROM NEW.event_id
       OR NOT EXISTS (SELECT 1 FROM holds h
                      WHERE h.id = v_order.hold_id AND NEW.seat_id = ANY (h.seat_ids))
       OR NOT EXISTS (SELECT 1 FROM event_seats es
                      WHERE es.event_id = NEW.event_id AND es.seat_id = NEW.seat_id
                        AND es.hold_id = v_order.hold_id AND es.held_until = 'infinity') THEN
        RAISE EXCEPTION 'ticket % of paid order % is not for a seat its hold bought', NEW.id,
            NEW.order_id
            USING ERRCODE = 'integrity_constraint_violation',
            CONSTRAINT = 'paid_order_needs_tickets';
    END IF;
    RETURN NULL;
END $$;

-- The order's own check keeps one plan per connection: with custom plans
-- its count of the order's sold seats was planned anew at every commit of
-- a payment. Every statement in it is a key lookup.
ALTER FUNCTION order_check_tickets(bigint) SET plan_cache_mode = force_generic_plan;
