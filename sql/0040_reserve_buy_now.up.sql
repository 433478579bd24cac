-- Reserve price and Buy It Now (issue 13).
--
-- reserve is the seller's hidden minimum: an auction whose price stays
-- below it ends unsold. buy_now is a fixed price that ends the auction at
-- once, offered while nobody bid (or, with a reserve, until it is met).
-- Both are fixed once the first bid is in. end_reason says why an auction
-- ended when it was not the plain end of time: 'reserve_not_met' (unsold
-- although it had bids) or 'bought' (sold at its Buy It Now price). The
-- notifications read exactly that column.
ALTER TABLE auctions
    ADD COLUMN reserve    bigint,
    ADD COLUMN buy_now    bigint,
    ADD COLUMN end_reason text;
ALTER TABLE auctions
    ADD CONSTRAINT auctions_reserve_check CHECK (reserve BETWEEN start_price AND 1000000000000),
    -- At least 30 % over the start price (eBay's rule), and the reserve.
    ADD CONSTRAINT auctions_buy_now_check CHECK (buy_now BETWEEN 1 AND 1000000000000
        AND buy_now * 10 >= start_price * 13 AND buy_now >= COALESCE(reserve, 0)),
    ADD CONSTRAINT auctions_end_reason_check CHECK (end_reason IN ('reserve_not_met', 'bought'));

-- A purchase is a bid row of its own kind.
ALTER TABLE bids ADD COLUMN purchase boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT bids_kind_check CHECK (NOT (auto AND purchase));

-- An unsold auction may now have bids: when its reserve was not met. A
-- sale reached its reserve; a purchase was at the Buy It Now price.
ALTER TABLE auctions DROP CONSTRAINT auctions_state_check;
ALTER TABLE auctions ADD CONSTRAINT auctions_state_check CHECK (CASE status
    WHEN 'open'      THEN winner_id IS NULL AND final_price IS NULL AND settled_at IS NULL AND end_reason IS NULL
    WHEN 'sold'      THEN winner_id = leader_id AND final_price = current_price AND settled_at IS NOT NULL
                          AND current_price >= COALESCE(reserve, 0)
                          AND (end_reason IS NULL OR (end_reason = 'bought' AND buy_now IS NOT NULL AND current_price = buy_now))
    WHEN 'unsold'    THEN winner_id IS NULL AND final_price IS NULL AND settled_at IS NOT NULL
                          AND CASE WHEN bid_count = 0 THEN end_reason IS NULL
                              ELSE end_reason = 'reserve_not_met' AND reserve IS NOT NULL AND current_price < reserve END
    WHEN 'cancelled' THEN settled_at IS NOT NULL
END);

-- The terms bidders bid on never change under them.
CREATE FUNCTION auctions_terms_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.bid_count > 0 AND (NEW.reserve IS DISTINCT FROM OLD.reserve OR NEW.buy_now IS DISTINCT FROM OLD.buy_now
                              OR NEW.start_price IS DISTINCT FROM OLD.start_price) THEN
        RAISE EXCEPTION 'the terms of auction % are fixed once bid on', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER auctions_terms_fixed BEFORE UPDATE OF reserve, buy_now, start_price ON auctions
    FOR EACH ROW EXECUTE FUNCTION auctions_terms_fixed();
