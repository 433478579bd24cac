ALTER TABLE auctions DROP COLUMN edited_at, DROP COLUMN relisted_from;
DROP TABLE auction_addenda;
DROP TABLE auction_photos;
