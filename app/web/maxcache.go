package web

import (
	"context"
	"fmt"
	"sync"
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
// no query. Entries are dropped by the notice of any change to them
// (a bid, a raise, on any instance), by this instance's own accepted bids
// at once, and all of them whenever the LISTEN connection drops; nothing
// is kept while it is down.
type maxCache struct {
	cache *auth.Cache // Listening(); nil: never cache

	mu    sync.Mutex
	maxes map[maxKey]maxEntry
	drops uint64 // bumped by each drop: a read it overtook is not kept
}

type maxKey struct{ auction, bidder int64 }

type maxEntry struct {
	amount int64
	until  time.Time
}

func newMaxCache(c *auth.Cache) *maxCache {
	m := &maxCache{cache: c, maxes: map[maxKey]maxEntry{}}
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
		m.mu.Lock()
		m.maxes = map[maxKey]maxEntry{}
		m.drops++
		m.mu.Unlock()
		return
	}
	m.forget(k.auction, k.bidder)
}

// forget drops bidder's maximum on auction (after this instance changed it).
func (m *maxCache) forget(auctionID, bidder int64) {
	m.mu.Lock()
	delete(m.maxes, maxKey{auctionID, bidder})
	m.drops++
	m.mu.Unlock()
}

// get returns bidder's maximum on auction (0: none), reading it when it is
// not kept.
func (m *maxCache) get(ctx context.Context, db *bun.DB, auctionID, bidder int64) (int64, error) {
	k := maxKey{auctionID, bidder}
	now := time.Now()
	m.mu.Lock()
	e, ok := m.maxes[k]
	drops := m.drops
	m.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.amount, nil
	}
	listening := m.cache != nil && m.cache.Listening()
	amount, err := auction.MaxOf(ctx, db, auctionID, bidder)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	// Keep it only if nothing was dropped while it was read.
	if listening && m.drops == drops {
		if len(m.maxes) >= maxMax {
			m.maxes = map[maxKey]maxEntry{}
		}
		m.maxes[k] = maxEntry{amount: amount, until: now.Add(maxTTL)}
	}
	m.mu.Unlock()
	return amount, nil
}
