DROP TABLE IF EXISTS moderation_log;
DROP FUNCTION IF EXISTS moderation_log_guard();
ALTER TABLE ledger DROP CONSTRAINT IF EXISTS ledger_amount_check;
ALTER TABLE ledger ADD CHECK (CASE kind
    WHEN 'purchase' THEN amount < 0 AND auction_id IS NOT NULL
    WHEN 'sale'     THEN amount > 0 AND auction_id IS NOT NULL
    ELSE amount > 0 AND auction_id IS NULL
END);
ALTER TABLE ledger DROP CONSTRAINT IF EXISTS ledger_kind_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check CHECK (kind IN ('signup', 'deposit', 'purchase', 'sale'));
ALTER TABLE auctions DROP CONSTRAINT IF EXISTS auctions_state_check;
ALTER TABLE auctions ADD CHECK (CASE status
    WHEN 'open'      THEN winner_id IS NULL AND final_price IS NULL AND settled_at IS NULL
    WHEN 'sold'      THEN winner_id = leader_id AND final_price = current_price AND settled_at IS NOT NULL
    WHEN 'unsold'    THEN bid_count = 0 AND winner_id IS NULL AND final_price IS NULL AND settled_at IS NOT NULL
    WHEN 'cancelled' THEN bid_count = 0 AND winner_id IS NULL AND final_price IS NULL AND settled_at IS NOT NULL
END);
ALTER TABLE auctions DROP COLUMN IF EXISTS hidden, DROP COLUMN IF EXISTS cancel_reason;
ALTER TABLE users DROP COLUMN IF EXISTS suspended_at;
