-- 011_orders_checks: the order/ticket invariant checked at the same
-- strength for less.
--
-- 1. An order's valid tickets are found by the order. Before this index the
--    planner, with no statistics on a young tickets table, answered
--    "valid tickets of order X" from the partial unique index on valid
--    tickets (every valid ticket of every event, then a filter on the
--    order): each deferred check read all tickets sold so far, so the cost
--    of a purchase grew with the sale.
-- 2. The orders trigger fires only when what order_check_tickets reads
--    changes: an order inserted as paid, or an update of its status, kind,
--    hold or event. Checkout, the intent's id, payment errors and refund
--    bookkeeping do not touch the invariant; tickets inserted, voided or
--    moved still fire their own trigger, so nothing that can break the
--    invariant goes unchecked.

CREATE INDEX tickets_valid_order_idx ON tickets (order_id) WHERE status = 'valid';

DROP TRIGGER orders_tickets_consistent ON orders;
CREATE CONSTRAINT TRIGGER orders_tickets_consistent_insert
    AFTER INSERT ON orders DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'paid')
    EXECUTE FUNCTION orders_check_trigger();
CREATE CONSTRAINT TRIGGER orders_tickets_consistent
    AFTER UPDATE ON orders DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN ((OLD.status, OLD.kind, OLD.hold_id, OLD.event_id)
                       IS DISTINCT FROM (NEW.status, NEW.kind, NEW.hold_id, NEW.event_id))
    EXECUTE FUNCTION orders_check_trigger();

-- 3. A ticket's seat is checked once, against event_seats: that row exists
--    only for a seat of the event (event_seats references both events and
--    seats, and an event's deletion cascades to its seats only while no
--    ticket references them), so the ticket's own references to events and
--    seats added nothing but two more checks per ticket, one of them a
--    share lock on the event's row that every buyer of the event took.
ALTER TABLE tickets DROP CONSTRAINT tickets_event_id_fkey;
ALTER TABLE tickets DROP CONSTRAINT tickets_seat_id_fkey;
