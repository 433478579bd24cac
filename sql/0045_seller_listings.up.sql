-- The seller's side of a listing (#13): several photos in order, edits
-- before the first bid, addenda after it, and relisting.

-- An auction's photos, the cover first (position 0). auctions.image_id
-- stays the cover, kept equal to position 0 in the transaction that
-- changes them, so cards, link previews and the existing queries read one
-- column. Images never change; a relisted auction shares its photos.
CREATE TABLE auction_photos (
    auction_id bigint   NOT NULL REFERENCES auctions (id),
    image_id   bigint   NOT NULL REFERENCES images (id),
    position   smallint NOT NULL CHECK (position BETWEEN 0 AND 7),
    PRIMARY KEY (auction_id, image_id),
    UNIQUE (auction_id, position)
);
INSERT INTO auction_photos (auction_id, image_id, position) SELECT id, image_id, 0 FROM auctions;

-- After the first bid the description only gains addenda, shown as such
-- with their time.
CREATE TABLE auction_addenda (
    id         bigserial PRIMARY KEY,
    auction_id bigint      NOT NULL REFERENCES auctions (id),
    body       text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auction_addenda_by_auction ON auction_addenda (auction_id, id);

ALTER TABLE auctions
    -- The unsold or cancelled auction this one relists; each is relisted
    -- at most once, which the UNIQUE makes race-free.
    ADD COLUMN relisted_from bigint UNIQUE REFERENCES auctions (id),
    -- When the seller last edited the listing (NULL: never).
    ADD COLUMN edited_at     timestamptz;
