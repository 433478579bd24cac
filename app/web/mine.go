package web

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"gavel/app/auth"
	"gavel/app/notify"
)

// MineChannel announces a change to what a user's pages show of their own
// besides the user row: a notification read or deleted, a watch added or
// removed (migration 0034's triggers). New notifications announce
// themselves on notify's channel.
const MineChannel = "gavel_mine"

// mineTTL is a backstop; changes drop an entry at once. mineMax bounds
// the users kept: past it, the cache starts again empty.
const (
	mineTTL = 30 * time.Second
	mineMax = 50_000
)

// mineCache keeps, per signed-in user, what every page of theirs shows:
// the bell (unread count, newest id) and the auctions they watch (at most
// notify.MaxWatches), so that a page costs no query for them. Entries are
// dropped by the notices above, by this instance's own writes at once,
// and all of them whenever the LISTEN connection drops; nothing is kept
// while it is down.
type mineCache struct {
	cache *auth.Cache // Listening(); nil: never cache

	mu    sync.Mutex
	users map[int64]mineEntry
	epoch map[int64]uint64 // per user, bumped by each drop
	all   uint64           // bumped by each full drop
}

type mineEntry struct {
	unread  int
	last    int64
	watched map[int64]bool
	until   time.Time
}

func newMineCache(c *auth.Cache) *mineCache {
	m := &mineCache{cache: c, users: map[int64]mineEntry{}, epoch: map[int64]uint64{}}
	if c != nil {
		c.OnNotify(MineChannel, m.notice)
		// "id user" for each new notification.
		c.OnNotify(notify.Channel, func(p string) {
			if _, user, ok := notify.ParseNote(p); ok {
				m.forget(user)
				return
			}
			m.notice("")
		})
	}
	return m
}

// notice drops the entry of the user whose id is p; "" (a reconnect) or
// anything unreadable drops every entry.
func (m *mineCache) notice(p string) {
	id, err := strconv.ParseInt(p, 10, 64)
	if err != nil {
		m.mu.Lock()
		m.all++
		m.users = map[int64]mineEntry{}
		m.epoch = map[int64]uint64{}
		m.mu.Unlock()
		return
	}
	m.forget(id)
}

// forget drops user's entry (after this instance changed it).
func (m *mineCache) forget(user int64) {
	m.mu.Lock()
	delete(m.users, user)
	if len(m.epoch) >= mineMax {
		m.epoch = map[int64]uint64{}
		m.all++ // a read under way keyed on a dropped epoch must not be kept
	}
	m.epoch[user]++
	m.mu.Unlock()
}

// get returns user's entry, reading it when it is not kept.
func (m *mineCache) get(ctx context.Context, db *bun.DB, user int64) (mineEntry, error) {
	now := time.Now()
	m.mu.Lock()
	e, ok := m.users[user]
	epoch, all := m.epoch[user], m.all
	m.mu.Unlock()
	if ok && now.Before(e.until) {
		return e, nil
	}
	listening := m.cache != nil && m.cache.Listening()
	e, err := loadMine(ctx, db, user)
	if err != nil {
		return mineEntry{}, err
	}
	e.until = now.Add(mineTTL)
	m.mu.Lock()
	// Keep it only if nothing changed while it was read.
	if listening && m.epoch[user] == epoch && m.all == all {
		if len(m.users) >= mineMax {
			m.users = map[int64]mineEntry{}
		}
		m.users[user] = e
	}
	m.mu.Unlock()
	return e, nil
}

// loadMine reads user's bell and watch list in one parameterised statement.
func loadMine(ctx context.Context, db *bun.DB, user int64) (mineEntry, error) {
	e := mineEntry{watched: map[int64]bool{}}
	var watched []int64
	err := db.DB.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL),
		COALESCE((SELECT max(id) FROM notifications WHERE user_id = $1), 0),
		ARRAY(SELECT auction_id FROM watches WHERE user_id = $1)`, user).Scan(&e.unread, &e.last, pgdialect.Array(&watched))
	if err != nil {
		return mineEntry{}, fmt.Errorf("bell and watches of %d: %w", user, err)
	}
	for _, a := range watched {
		e.watched[a] = true
	}
	return e, nil
}
