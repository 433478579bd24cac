package auction

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// WatchedEndedFor is how long an ended auction stays on a watch list page.
const WatchedEndedFor = 30 * 24 * time.Hour

// Watched lists the auctions user watches (the watches table of migration
// 0030): the open ones ending soonest first, then those that ended in the
// last WatchedEndedFor, most recent first; at most MaxMine.
func Watched(ctx context.Context, db bun.IDB, user int64) ([]Auction, error) {
	var list []Auction
	err := db.NewRaw(`SELECT `+auctionCols+auctionFrom+`JOIN watches wa ON wa.auction_id = a.id AND wa.user_id = ?
		WHERE a.status = 'open' OR a.ends_at > now() - ?::interval
		ORDER BY a.status <> 'open', CASE WHEN a.status = 'open' THEN a.ends_at END, a.ends_at DESC, a.id
		LIMIT ?`, user, fmt.Sprintf("%d seconds", int64(WatchedEndedFor/time.Second)), MaxMine).Scan(ctx, &list)
	if err != nil {
		return nil, fmt.Errorf("watched by %d: %w", user, err)
	}
	for i := range list {
		list[i].SettledAt = zeroEpoch(list[i].SettledAt)
	}
	return list, nil
}
