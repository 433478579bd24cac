-- Proxy (maximum) bidding and soft close.
--
-- Every bid is a maximum: the bidder's highest one per auction is kept in
-- maximums (shown to its owner only), and the leader's on the auction row
-- (leader_max), which is what the leader has committed. users.committed is
-- the sum of leader_max over the open auctions a user leads, kept by the
-- auctions_commit trigger, so that a bid batch reads it from the user row it
-- locks and the CHECK below makes over-commitment impossible.

ALTER TABLE bids ADD COLUMN auto boolean NOT NULL DEFAULT false;

CREATE TABLE maximums (
    auction_id bigint      NOT NULL REFERENCES auctions (id),
    bidder_id  bigint      NOT NULL REFERENCES users (id),
    amount     bigint      NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (auction_id, bidder_id)
);
CREATE INDEX maximums_by_bidder ON maximums (bidder_id, auction_id);

ALTER TABLE auctions
    ADD COLUMN leader_max    bigint CHECK (leader_max BETWEEN 1 AND 1000000000000),
    -- The end as listed; ends_at moves when soft close extends it.
    ADD COLUMN scheduled_end timestamptz,
    ADD COLUMN extensions    int     NOT NULL DEFAULT 0 CHECK (extensions >= 0),
    ADD COLUMN soft_close    boolean NOT NULL DEFAULT true;
UPDATE auctions SET leader_max = current_price WHERE leader_id IS NOT NULL;
UPDATE auctions SET scheduled_end = ends_at;
ALTER TABLE auctions ALTER COLUMN scheduled_end SET NOT NULL,
    ADD CHECK ((leader_id IS NULL) = (leader_max IS NULL)),
    ADD CHECK (leader_max >= current_price);
INSERT INTO maximums (auction_id, bidder_id, amount)
    SELECT auction_id, bidder_id, max(amount) FROM bids GROUP BY auction_id, bidder_id;

-- A new auction's scheduled end is its end unless given.
CREATE FUNCTION auctions_scheduled_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.scheduled_end := COALESCE(NEW.scheduled_end, NEW.ends_at);
    RETURN NEW;
END $$;
CREATE TRIGGER auctions_scheduled_end BEFORE INSERT ON auctions
    FOR EACH ROW EXECUTE FUNCTION auctions_scheduled_end();

ALTER TABLE users ADD COLUMN committed bigint NOT NULL DEFAULT 0;
UPDATE users u SET committed = c.amount
    FROM (SELECT leader_id, sum(leader_max) AS amount FROM auctions
          WHERE status = 'open' AND leader_id IS NOT NULL GROUP BY leader_id) c
    WHERE c.leader_id = u.id;
ALTER TABLE users ADD CHECK (committed BETWEEN 0 AND balance);

-- The one definition of a user's commitments, for pages and checks:
-- the maximums of the open auctions they lead.
CREATE VIEW commitments AS
    SELECT leader_id AS user_id, sum(leader_max)::bigint AS amount, count(*) AS auctions
    FROM auctions WHERE status = 'open' AND leader_id IS NOT NULL GROUP BY leader_id;

CREATE FUNCTION auctions_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = 'open' AND OLD.leader_id IS NOT NULL THEN
        UPDATE users SET committed = committed - OLD.leader_max WHERE id = OLD.leader_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'open' AND NEW.leader_id IS NOT NULL THEN
        UPDATE users SET committed = committed + NEW.leader_max WHERE id = NEW.leader_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER auctions_commit AFTER INSERT OR DELETE ON auctions
    FOR EACH ROW EXECUTE FUNCTION auctions_commit();
CREATE TRIGGER auctions_commit_update AFTER UPDATE OF status, leader_id, leader_max ON auctions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.leader_id IS DISTINCT FROM NEW.leader_id
                       OR OLD.leader_max IS DISTINCT FROM NEW.leader_max)
    EXECUTE FUNCTION auctions_commit();

-- Bids: as before, plus each bid at least the one before it (automatic
-- bids may equal the bid they answer) and the first at least the start
-- price, and the time no earlier than the transaction's start nor later
-- than the database clock: the writer stamps bids with the time it read
-- under the locks.
CREATE OR REPLACE FUNCTION bids_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a auctions%ROWTYPE;
    prev bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'bids are append-only';
    END IF;
    SELECT * INTO a FROM auctions WHERE id = NEW.auction_id;
    SELECT amount INTO prev FROM bids WHERE auction_id = NEW.auction_id ORDER BY id DESC LIMIT 1;
    IF a.status <> 'open' OR NEW.created_at > a.ends_at OR NEW.bidder_id = a.seller_id
       OR NEW.amount < COALESCE(prev, a.start_price)
       OR NEW.created_at > clock_timestamp() OR NEW.created_at < now() THEN
        RAISE EXCEPTION 'bid % breaks the rules of auction %', NEW.amount, NEW.auction_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

-- One-time keys of bid forms: a submission whose key is here already was
-- placed, and is answered as it was the first time (double submits, retries
-- after a lost answer), never judged again.
CREATE TABLE bid_keys (
    bidder_id  bigint      NOT NULL REFERENCES users (id),
    key        text        NOT NULL CHECK (char_length(key) BETWEEN 16 AND 64),
    auction_id bigint      NOT NULL REFERENCES auctions (id),
    answer     jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bidder_id, key)
);
CREATE INDEX bid_keys_by_time ON bid_keys (created_at);
