package web

import (
	"context"
	"fmt"
	"strconv"
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
// dropped by the notices above and by this instance's own writes at once
// (forget).
type mineCache struct {
	kept *kept[int64, mineEntry]
}

type mineEntry struct {
	unread  int
	last    int64
	watched map[int64]bool
}

func newMineCache(c *auth.Cache) *mineCache {
	m := &mineCache{newKept[int64, mineEntry](c, mineTTL, mineMax)}
	if c != nil {
		c.OnNotify(MineChannel, m.notice)
		// "id user" for each new notification.
		c.OnNotify(notify.Channel, func(p string) {
			if _, user, ok := notify.ParseNote(p); ok {
				m.forget(user)
				return
			}
			m.kept.forgetAll()
		})
	}
	return m
}

// notice drops the entry of the user whose id is p; "" (a reconnect) or
// anything unreadable drops every entry.
func (m *mineCache) notice(p string) {
	id, err := strconv.ParseInt(p, 10, 64)
	if err != nil {
		m.kept.forgetAll()
		return
	}
	m.forget(id)
}

// forget drops user's entry (after this instance changed it).
func (m *mineCache) forget(user int64) { m.kept.forget(user) }

// get returns user's entry, reading it when it is not kept.
func (m *mineCache) get(ctx context.Context, db *bun.DB, user int64) (mineEntry, error) {
	return m.kept.get(ctx, user, func(ctx context.Context) (mineEntry, error) { return loadMine(ctx, db, user) })
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
