-- Watch lists and notifications (issue 12).
--
-- A notification is a row, written by the triggers below in the same
-- transaction as its cause: a bid batch (outbid, outbid by an automatic
-- bid, an automatic bid placed for you), a settlement, a cancellation or a
-- purchase (won, lost, sold, unsold, cancelled, reserve not met, bought
-- now). Whatever path changes bids or an auction's status — the bid writer,
-- the sweeper, moderation, Buy It Now — gets them without a line of Go.
-- Every new row is announced on gavel_notes as "ID USER" so that each
-- instance pushes it to that user's open pages.

CREATE TABLE watches (
    user_id    bigint      NOT NULL REFERENCES users (id),
    auction_id bigint      NOT NULL REFERENCES auctions (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, auction_id)
);
CREATE INDEX watches_by_auction ON watches (auction_id);

-- What each user wants to be told, and how; no row: the defaults.
-- remind_before is how long before an end they are reminded (minutes;
-- 0 = never).
CREATE TABLE notify_prefs (
    user_id       bigint PRIMARY KEY REFERENCES users (id),
    remind_before int    NOT NULL DEFAULT 60 CHECK (remind_before IN (0, 15, 60, 180))
);

CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id),
    auction_id bigint      NOT NULL REFERENCES auctions (id),
    kind       text        NOT NULL CHECK (kind IN ('outbid', 'outbid_auto', 'auto_bid', 'won', 'lost', 'sold',
                                                    'unsold', 'cancelled', 'reserve_not_met', 'bought_now', 'ending_soon')),
    amount     bigint      NOT NULL DEFAULT 0 CHECK (amount BETWEEN 0 AND 1000000000000),
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz,
    -- Unread notices of one of these groups are kept as one row per user
    -- and auction: the newest replaces the older (with a new id, so that
    -- streams and replays see it as new).
    merge_key  text GENERATED ALWAYS AS (CASE WHEN kind IN ('outbid', 'outbid_auto') THEN 'outbid'
                                              WHEN kind = 'auto_bid' THEN 'auto_bid' END) STORED
);
CREATE INDEX notifications_by_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_read_at ON notifications (read_at) WHERE read_at IS NOT NULL;
CREATE UNIQUE INDEX notifications_merge ON notifications (user_id, auction_id, merge_key)
    WHERE read_at IS NULL AND merge_key IS NOT NULL;
-- An ending-soon reminder is sent once per user and auction, ever.
CREATE UNIQUE INDEX notifications_ending_once ON notifications (user_id, auction_id) WHERE kind = 'ending_soon';

-- notification_add writes one notice (merging it into an unread one of
-- its group) and announces it.
CREATE FUNCTION notification_add(u bigint, a bigint, k text, amt bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE nid bigint;
BEGIN
    IF u IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO notifications (user_id, auction_id, kind, amount) VALUES (u, a, k, COALESCE(amt, 0))
    ON CONFLICT (user_id, auction_id, merge_key) WHERE read_at IS NULL AND merge_key IS NOT NULL
    DO UPDATE SET id = nextval('notifications_id_seq'), kind = EXCLUDED.kind, amount = EXCLUDED.amount,
        created_at = EXCLUDED.created_at
    RETURNING id INTO nid;
    PERFORM pg_notify('gavel_notes', nid || ' ' || u);
END $$;

-- After each statement that adds bids (the bid writer adds a batch in
-- one): every bidder of the batch who does not lead after it, and the
-- leader before it if they lost the lead, is outbid — "by an automatic
-- bid" when their last row was answered at once by another's automatic
-- bid; the leader after it is told of automatic bids placed for them.
-- The leader before a batch is the bidder of the row before it: each
-- batch ends with a row of the leader it leaves.
CREATE FUNCTION bids_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b record;
    r record;
    leader bigint;
    price bigint;
    prev bigint;
BEGIN
    FOR b IN SELECT auction_id, min(id) AS first_id FROM new_bids GROUP BY auction_id LOOP
        SELECT leader_id, current_price INTO leader, price FROM auctions WHERE id = b.auction_id;
        SELECT bidder_id INTO prev FROM bids WHERE auction_id = b.auction_id AND id < b.first_id
            ORDER BY id DESC LIMIT 1;
        FOR r IN
            WITH seq AS (
                SELECT id, bidder_id, lead(bidder_id) OVER w AS next_bidder, lead(auto) OVER w AS next_auto
                FROM new_bids WHERE auction_id = b.auction_id WINDOW w AS (ORDER BY id)),
            last AS (SELECT DISTINCT ON (bidder_id) bidder_id, next_bidder, next_auto FROM seq ORDER BY bidder_id, id DESC)
            SELECT bidder_id AS u,
                   CASE WHEN next_auto AND next_bidder <> bidder_id THEN 'outbid_auto' ELSE 'outbid' END AS k
            FROM last WHERE bidder_id IS DISTINCT FROM leader
            UNION ALL
            SELECT prev, 'outbid' WHERE prev IS NOT NULL AND prev IS DISTINCT FROM leader
                AND NOT EXISTS (SELECT 1 FROM new_bids WHERE auction_id = b.auction_id AND bidder_id = prev)
            ORDER BY 1
        LOOP
            PERFORM notification_add(r.u, b.auction_id, r.k, price);
        END LOOP;
        IF EXISTS (SELECT 1 FROM new_bids WHERE auction_id = b.auction_id AND auto AND bidder_id = leader) THEN
            PERFORM notification_add(leader, b.auction_id, 'auto_bid', price);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER bids_notify AFTER INSERT ON bids REFERENCING NEW TABLE AS new_bids
    FOR EACH STATEMENT EXECUTE FUNCTION bids_notify();

-- When an auction closes: seller, winner and the other bidders. The end's
-- reason (end_reason: 'reserve_not_met' or 'bought', added with the
-- reserve price) is read through to_jsonb so that this works before and
-- after that column exists.
CREATE FUNCTION auctions_notify_end() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    reason text := to_jsonb(NEW) ->> 'end_reason';
    leader bigint := COALESCE(NEW.winner_id, NEW.leader_id, OLD.leader_id);
    prev bigint;
    u bigint;
BEGIN
    IF NEW.status = 'sold' THEN
        IF reason = 'bought' THEN
            PERFORM notification_add(NEW.seller_id, NEW.id, 'bought_now', NEW.final_price);
            -- The leader before the purchase lost the lead to it: they
            -- are outbid (merged with the notice the purchase's bid row
            -- gave them), and told nothing more.
            SELECT bidder_id INTO prev FROM bids WHERE auction_id = NEW.id ORDER BY id DESC OFFSET 1 LIMIT 1;
            IF prev IS NOT DISTINCT FROM NEW.winner_id THEN
                prev := NULL;
            END IF;
            PERFORM notification_add(prev, NEW.id, 'outbid', NEW.final_price);
        ELSE
            PERFORM notification_add(NEW.seller_id, NEW.id, 'sold', NEW.final_price);
        END IF;
        PERFORM notification_add(NEW.winner_id, NEW.id, 'won', NEW.final_price);
        FOR u IN SELECT DISTINCT bidder_id FROM bids WHERE auction_id = NEW.id AND bidder_id <> NEW.winner_id
                 AND bidder_id IS DISTINCT FROM prev ORDER BY 1 LOOP
            PERFORM notification_add(u, NEW.id, 'lost', NEW.final_price);
        END LOOP;
    ELSIF NEW.status = 'unsold' THEN
        IF reason = 'reserve_not_met' THEN
            PERFORM notification_add(NEW.seller_id, NEW.id, 'reserve_not_met', NEW.current_price);
            PERFORM notification_add(leader, NEW.id, 'reserve_not_met', NEW.current_price);
            FOR u IN SELECT DISTINCT bidder_id FROM bids WHERE auction_id = NEW.id AND bidder_id IS DISTINCT FROM leader
                     ORDER BY 1 LOOP
                PERFORM notification_add(u, NEW.id, 'lost', NEW.current_price);
            END LOOP;
        ELSE
            PERFORM notification_add(NEW.seller_id, NEW.id, 'unsold', 0);
        END IF;
    ELSIF NEW.status = 'cancelled' THEN
        PERFORM notification_add(NEW.seller_id, NEW.id, 'cancelled', 0);
        FOR u IN SELECT DISTINCT bidder_id FROM bids WHERE auction_id = NEW.id ORDER BY 1 LOOP
            PERFORM notification_add(u, NEW.id, 'cancelled', 0);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER auctions_notify_end AFTER UPDATE OF status ON auctions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION auctions_notify_end();
