DROP TABLE IF EXISTS bid_keys;
CREATE OR REPLACE FUNCTION bids_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE a auctions%ROWTYPE;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'bids are append-only';
    END IF;
    SELECT * INTO a FROM auctions WHERE id = NEW.auction_id;
    IF a.status <> 'open' OR NEW.created_at > a.ends_at OR NEW.bidder_id = a.seller_id THEN
        RAISE EXCEPTION 'bid % breaks the rules of auction %', NEW.amount, NEW.auction_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS auctions_commit_update ON auctions;
DROP TRIGGER IF EXISTS auctions_commit ON auctions;
DROP FUNCTION IF EXISTS auctions_commit();
DROP VIEW IF EXISTS commitments;
ALTER TABLE users DROP COLUMN IF EXISTS committed;
DROP TRIGGER IF EXISTS auctions_scheduled_end ON auctions;
DROP FUNCTION IF EXISTS auctions_scheduled_end();
ALTER TABLE auctions DROP COLUMN IF EXISTS leader_max, DROP COLUMN IF EXISTS scheduled_end,
    DROP COLUMN IF EXISTS extensions, DROP COLUMN IF EXISTS soft_close;
DROP TABLE IF EXISTS maximums;
ALTER TABLE bids DROP COLUMN IF EXISTS auto;
