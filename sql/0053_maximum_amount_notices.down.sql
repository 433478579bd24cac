CREATE OR REPLACE FUNCTION maximum_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gavel_maxes', OLD.auction_id::text || ' ' || OLD.bidder_id::text);
    ELSE
        PERFORM pg_notify('gavel_maxes', NEW.auction_id::text || ' ' || NEW.bidder_id::text);
    END IF;
    RETURN NULL;
END $$;

DROP SEQUENCE maximum_notices;
