DROP TRIGGER IF EXISTS auctions_terms_fixed ON auctions;
DROP FUNCTION IF EXISTS auctions_terms_fixed();
ALTER TABLE auctions DROP CONSTRAINT IF EXISTS auctions_state_check;
ALTER TABLE auctions ADD CONSTRAINT auctions_state_check CHECK (CASE status
    WHEN 'open'      THEN winner_id IS NULL AND final_price IS NULL AND settled_at IS NULL
    WHEN 'sold'      THEN winner_id = leader_id AND final_price = current_price AND settled_at IS NOT NULL
    WHEN 'unsold'    THEN bid_count = 0 AND winner_id IS NULL AND final_price IS NULL AND settled_at IS NOT NULL
    WHEN 'cancelled' THEN settled_at IS NOT NULL
END) NOT VALID; -- unsold auctions with bids (reserve not met) may remain
ALTER TABLE bids DROP CONSTRAINT IF EXISTS bids_kind_check, DROP COLUMN IF EXISTS purchase;
ALTER TABLE auctions DROP COLUMN IF EXISTS reserve, DROP COLUMN IF EXISTS buy_now, DROP COLUMN IF EXISTS end_reason;
