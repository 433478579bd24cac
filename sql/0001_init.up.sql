-- Gavel's whole data model. Money is bigint won; amounts are capped at
-- 10^12 everywhere so sums of many stay far inside bigint.

CREATE TABLE users (
    id               bigserial PRIMARY KEY,
    provider         text        NOT NULL CHECK (provider <> ''),
    provider_user_id text        NOT NULL CHECK (provider_user_id <> ''),
    nick             text        NOT NULL CHECK (char_length(nick) BETWEEN 2 AND 20 AND nick = btrim(nick)),
    email            text        NOT NULL DEFAULT '',
    avatar_url       text        NOT NULL DEFAULT '',
    -- balance is kept equal to the sum of the user's ledger rows by the
    -- ledger_apply trigger; nothing else writes it.
    balance          bigint      NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_user_id)
);
CREATE UNIQUE INDEX users_nick_key ON users (lower(nick));

CREATE TABLE images (
    id         bigserial PRIMARY KEY,
    owner_id   bigint      NOT NULL REFERENCES users (id),
    large      bytea       NOT NULL,
    large_type text        NOT NULL CHECK (large_type IN ('image/jpeg', 'image/png')),
    thumb      bytea       NOT NULL,
    thumb_type text        NOT NULL CHECK (thumb_type IN ('image/jpeg', 'image/png')),
    width      int         NOT NULL CHECK (width > 0),
    height     int         NOT NULL CHECK (height > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (octet_length(large) <= 10485760 AND octet_length(thumb) <= 1048576)
);

CREATE TABLE auctions (
    id            bigserial PRIMARY KEY,
    seller_id     bigint      NOT NULL REFERENCES users (id),
    title         text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 100),
    description   text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    image_id      bigint      NOT NULL REFERENCES images (id),
    start_price   bigint      NOT NULL CHECK (start_price BETWEEN 1 AND 1000000000000),
    -- current_price is the leading bid, or the start price before any bid.
    current_price bigint      NOT NULL CHECK (current_price BETWEEN start_price AND 1000000000000),
    leader_id     bigint      REFERENCES users (id),
    bid_count     int         NOT NULL DEFAULT 0 CHECK (bid_count >= 0),
    starts_at     timestamptz NOT NULL DEFAULT now(),
    ends_at       timestamptz NOT NULL,
    status        text        NOT NULL DEFAULT 'open'
                              CHECK (status IN ('open', 'sold', 'unsold', 'cancelled')),
    winner_id     bigint      REFERENCES users (id),
    final_price   bigint,
    settled_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (leader_id IS DISTINCT FROM seller_id),
    CHECK ((bid_count = 0) = (leader_id IS NULL)),
    CHECK (bid_count > 0 OR current_price = start_price),
    CHECK (CASE status
        WHEN 'open'      THEN winner_id IS NULL AND final_price IS NULL AND settled_at IS NULL
        WHEN 'sold'      THEN winner_id = leader_id AND final_price = current_price AND settled_at IS NOT NULL
        WHEN 'unsold'    THEN bid_count = 0 AND winner_id IS NULL AND final_price IS NULL AND settled_at IS NOT NULL
        WHEN 'cancelled' THEN bid_count = 0 AND winner_id IS NULL AND final_price IS NULL AND settled_at IS NOT NULL
    END)
);
-- Open auctions by end time: the home page and the settlement sweeper.
CREATE INDEX auctions_open_by_end ON auctions (ends_at, id) WHERE status = 'open';
CREATE INDEX auctions_by_created ON auctions (created_at DESC, id DESC);
CREATE INDEX auctions_closed_by_settled ON auctions (settled_at DESC, id DESC) WHERE status <> 'open';
CREATE INDEX auctions_by_seller ON auctions (seller_id, id DESC);
CREATE INDEX auctions_by_winner ON auctions (winner_id, settled_at DESC) WHERE winner_id IS NOT NULL;
CREATE INDEX auctions_leading ON auctions (leader_id) WHERE status = 'open';

CREATE TABLE bids (
    id         bigserial PRIMARY KEY,
    auction_id bigint      NOT NULL REFERENCES auctions (id),
    bidder_id  bigint      NOT NULL REFERENCES users (id),
    amount     bigint      NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000),
    message    text        NOT NULL DEFAULT '' CHECK (char_length(message) <= 100),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Bids of an auction by time: ids are taken under the auction's row lock,
-- so id order is the order in which bids were accepted.
CREATE INDEX bids_by_auction ON bids (auction_id, id DESC);
CREATE INDEX bids_by_bidder ON bids (bidder_id, auction_id);

-- A bid can only be added to an open auction, before its end, by someone
-- other than the seller; and bids are never changed or removed.
CREATE FUNCTION bids_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER bids_guard BEFORE INSERT OR UPDATE OR DELETE ON bids
    FOR EACH ROW EXECUTE FUNCTION bids_guard();

CREATE TABLE ledger (
    id         bigserial PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id),
    kind       text        NOT NULL CHECK (kind IN ('signup', 'deposit', 'purchase', 'sale')),
    amount     bigint      NOT NULL,
    auction_id bigint      REFERENCES auctions (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE kind
        WHEN 'purchase' THEN amount < 0 AND auction_id IS NOT NULL
        WHEN 'sale'     THEN amount > 0 AND auction_id IS NOT NULL
        ELSE amount > 0 AND auction_id IS NULL
    END)
);
CREATE INDEX ledger_by_user ON ledger (user_id, id DESC);
-- An auction is paid for and paid out once.
CREATE UNIQUE INDEX ledger_settles_once ON ledger (auction_id, kind) WHERE auction_id IS NOT NULL;

-- Balances move only through ledger rows, in the same transaction.
CREATE FUNCTION ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'the ledger is append-only';
    END IF;
    UPDATE users SET balance = balance + NEW.amount WHERE id = NEW.user_id;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_apply BEFORE INSERT OR UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_apply();

-- Server-side sessions (fiber.Storage): any instance serves any request.
CREATE TABLE sessions (
    key        text PRIMARY KEY,
    data       bytea NOT NULL,
    expires_at timestamptz
);
CREATE INDEX sessions_expiry ON sessions (expires_at) WHERE expires_at IS NOT NULL;
