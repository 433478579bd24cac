package web

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/auth"
)

// MaxesChannel announces a change to a bidder's maximum on an auction
// (migrations 0051 and 0053; payload "auction bidder amount seq" for a new
// or raised one, "auction bidder" for one removed).
const MaxesChannel = "gavel_maxes"

// maxTTL is a backstop; changes drop an entry at once. maxMax bounds the
// maximums kept: past it, the cache starts again empty.
const (
	maxTTL = 30 * time.Second
	maxMax = 100_000
)

// maxCache keeps the maximums this instance has shown their bidders (on
// every room view and every refused bid's answer), so that a refusal costs
// no query. The notice of any change (a bid, a raise, on any instance)
// brings the new amount, or drops the entry; this instance's own accepted
// bids drop it at once (forget), until their notice comes.
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

// notice keeps the maximum that payload brings, or drops the one it
// names; "" (a reconnect) or anything unreadable drops them all.
func (m *maxCache) notice(payload string) {
	f := strings.Fields(payload)
	var k maxKey
	var amount int64
	var err error
	if len(f) == 2 || len(f) == 4 {
		if k.auction, err = strconv.ParseInt(f[0], 10, 64); err == nil {
			k.bidder, err = strconv.ParseInt(f[1], 10, 64)
		}
		if err == nil && len(f) == 4 {
			amount, err = strconv.ParseInt(f[2], 10, 64)
		}
	}
	switch {
	case err != nil || len(f) != 2 && len(f) != 4:
		m.kept.forgetAll()
	case len(f) == 4:
		m.kept.set(k, amount)
	default:
		m.kept.forget(k)
	}
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
