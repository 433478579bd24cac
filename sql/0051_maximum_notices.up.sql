-- Instances keep each bidder's maximum on an auction in memory (it is
-- shown to them on every room view and bid answer). Every change to one,
-- including a leader's raise, which adds no bid row, tells every instance
-- on gavel_maxes (payload: "auction bidder"), in the changing transaction.
CREATE FUNCTION maximum_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gavel_maxes', OLD.auction_id::text || ' ' || OLD.bidder_id::text);
    ELSE
        PERFORM pg_notify('gavel_maxes', NEW.auction_id::text || ' ' || NEW.bidder_id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER maximums_notify AFTER INSERT OR UPDATE OR DELETE ON maximums
    FOR EACH ROW EXECUTE FUNCTION maximum_notify();
