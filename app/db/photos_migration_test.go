package db_test

import (
	"context"
	"testing"

	"gavel/app/db"
	"gavel/app/db/dbtest"
)

// Migration 0045 gives every auction listed before it its one photo as
// the cover of the new ordered photos.
func TestAuctionsListedBefore0045KeepTheirPhotoAsCover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb, _ := dbtest.NewEmpty(t)
	if _, err := db.Up(ctx, bdb); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := db.Down(ctx, bdb)
		if err != nil {
			t.Fatal(err)
		}
		if m.Version <= 45 {
			break
		}
	}
	var auctionID, imageID int64
	err := bdb.QueryRowContext(ctx, `WITH u AS (
			INSERT INTO users (provider, provider_user_id, nick) VALUES ('dev', 'old', 'old') RETURNING id),
		i AS (INSERT INTO images (owner_id, large, large_type, thumb, thumb_type, width, height)
			SELECT id, '\x00', 'image/jpeg', '\x00', 'image/jpeg', 4, 3 FROM u RETURNING id, owner_id)
		INSERT INTO auctions (seller_id, title, image_id, start_price, current_price, ends_at)
			SELECT owner_id, 'Old lamp', id, 1000, 1000, now() + interval '1 hour' FROM i
		RETURNING id, image_id`).Scan(&auctionID, &imageID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Up(ctx, bdb); err != nil {
		t.Fatal(err)
	}
	var got int64
	var pos int
	if err := bdb.QueryRowContext(ctx, `SELECT image_id, position FROM auction_photos WHERE auction_id = ?`, auctionID).Scan(&got, &pos); err != nil {
		t.Fatal(err)
	}
	if got != imageID || pos != 0 {
		t.Errorf("photo %d at %d, want the old image %d as the cover", got, pos, imageID)
	}
}
