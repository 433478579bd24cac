-- Moderation: operators (ADMINS) cancel any auction, hide listings and
-- suspend users; every action is kept in an append-only log.

ALTER TABLE users ADD COLUMN suspended_at timestamptz;

ALTER TABLE auctions
    ADD COLUMN hidden        boolean NOT NULL DEFAULT false,
    ADD COLUMN cancel_reason text    NOT NULL DEFAULT '' CHECK (char_length(cancel_reason) <= 500);

-- An operator may cancel an auction with bids, or one already sold (its
-- money then moves back: a refund to the winner, a reversal from the
-- seller). The status CHECK of 0001 said a cancelled auction has no bids.
DO $$
DECLARE c text;
BEGIN
    SELECT conname INTO c FROM pg_constraint
    WHERE conrelid = 'auctions'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%''cancelled''::text THEN%';
    EXECUTE format('ALTER TABLE auctions DROP CONSTRAINT %I', c);
END $$;
ALTER TABLE auctions ADD CONSTRAINT auctions_state_check CHECK (CASE status
    WHEN 'open'      THEN winner_id IS NULL AND final_price IS NULL AND settled_at IS NULL
    WHEN 'sold'      THEN winner_id = leader_id AND final_price = current_price AND settled_at IS NOT NULL
    WHEN 'unsold'    THEN bid_count = 0 AND winner_id IS NULL AND final_price IS NULL AND settled_at IS NOT NULL
    WHEN 'cancelled' THEN settled_at IS NOT NULL
END);

ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check
    CHECK (kind IN ('signup', 'deposit', 'purchase', 'sale', 'refund', 'reversal'));
DO $$
DECLARE c text;
BEGIN
    SELECT conname INTO c FROM pg_constraint
    WHERE conrelid = 'ledger'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%''purchase''::text THEN%';
    EXECUTE format('ALTER TABLE ledger DROP CONSTRAINT %I', c);
END $$;
ALTER TABLE ledger ADD CONSTRAINT ledger_amount_check CHECK (CASE kind
    WHEN 'purchase' THEN amount < 0 AND auction_id IS NOT NULL
    WHEN 'reversal' THEN amount < 0 AND auction_id IS NOT NULL
    WHEN 'sale'     THEN amount > 0 AND auction_id IS NOT NULL
    WHEN 'refund'   THEN amount > 0 AND auction_id IS NOT NULL
    ELSE amount > 0 AND auction_id IS NULL
END);

CREATE TABLE moderation_log (
    id         bigserial PRIMARY KEY,
    admin_id   bigint      NOT NULL REFERENCES users (id),
    action     text        NOT NULL CHECK (action IN ('cancel', 'hide', 'unhide', 'suspend', 'unsuspend')),
    auction_id bigint      REFERENCES auctions (id),
    user_id    bigint      REFERENCES users (id),
    reason     text        NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((auction_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX moderation_log_by_time ON moderation_log (id DESC);

CREATE FUNCTION moderation_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the moderation log is append-only';
END $$;
CREATE TRIGGER moderation_log_guard BEFORE UPDATE OR DELETE ON moderation_log
    FOR EACH ROW EXECUTE FUNCTION moderation_log_guard();
