package web

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/auth"
)

// MaxesChannel announces a change to a bidder's maximum on an auction
// (migration 0051's trigger; payload "auction bidder").
const MaxesChannel = "gavel_maxes"

// maxTTL is a backstop; changes drop an entry at once. maxMax bounds the
// maximums kept: past it, the cache starts again empty.
const (
	maxTTL = 30 * time.Second
	maxMax = 100_000
)

// maxCache keeps the maximums this instance has shown their bidders (on
// every room view and every refused bid's answer), so that a refusal costs
// no query. Entries are dropped by the notice of any change to them (a
// bid, a raise, on any instance) and by this instance's own accepted bids
// at once (forget).
type maxCache struct {
	kept *kept[maxKey, int64]
}

type maxKey struct{ auction, bidder int64 }

func newMaxCache(c *auth.Cache) *maxCache {
	m := &maxCache{newKept[maxKey, int64](c, maxTTL, maxMax)}
	if c != nil {
		c.OnNotify(MaxesChannel, m.notice)
	}
	return m
}

// notice drops the maximum that payload names; "" (a reconnect) or
// anything unreadable drops them all.
func (m *maxCache) notice(payload string) {
	var k maxKey
	if _, err := fmt.Sscanf(payload, "%d %d", &k.auction, &k.bidder); err != nil {
		m.kept.forgetAll()
		return
	}
	m.kept.forget(k)
}

// forget drops bidder's maximum on auction (after this instance changed it).
func (m *maxCache) forget(auctionID, bidder int64) { m.kept.forget(maxKey{auctionID, bidder}) }

// get returns bidder's maximum on auction (0: none), reading it when it is
// not kept.
func (m *maxCache) get(ctx context.Context, db *bun.DB, auctionID, bidder int64) (int64, error) {
	return m.kept.get(ctx, maxKey{auctionID, bidder}, func(ctx context.Context) (int64, error) {
		return auction.MaxOf(ctx, db, auctionID, bidder)
	})
}
