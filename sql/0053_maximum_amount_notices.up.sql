-- A new or raised maximum is announced with its amount, "auction bidder
-- amount seq", so that instances keep it instead of reading it again (every
-- accepted bid sets one); a removed one is still "auction bidder". seq makes
-- every notice distinct: PostgreSQL delivers only one of a transaction's
-- identical notices.
CREATE SEQUENCE maximum_notices;

CREATE OR REPLACE FUNCTION maximum_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gavel_maxes', OLD.auction_id::text || ' ' || OLD.bidder_id::text);
    ELSE
        PERFORM pg_notify('gavel_maxes', NEW.auction_id::text || ' ' || NEW.bidder_id::text || ' '
            || NEW.amount::text || ' ' || nextval('maximum_notices')::text);
    END IF;
    RETURN NULL;
END $$;
