package auth

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// Channel is where the database announces changed users ("u:ID", and
// "n:ID" too when the nickname changed; "m:ID:BALANCE:COMMITTED:SEQ" when
// only their money moved) and ended or changed sessions ("s:KEY"); the
// triggers of migrations 0003 and 0052 send them.
const Channel = "gavel_auth"

// Cache bounds.
const (
	// cacheMax caps each map; past it the map starts over (an attacker
	// inventing session cookies only costs themselves a read each).
	cacheMax = 100_000
	// cacheTTL is a backstop: entries are re-read at least this often even
	// if a notice were lost.
	cacheTTL = 5 * time.Minute
)

// Cache keeps sessions and signed-in users in memory, correct across
// instances: every change in the database reaches each instance's Cache
// over LISTEN (Run) and drops the copy. While no LISTEN connection is up
// the Cache reads through (and keeps nothing), so a missed notice can never
// leave a stale copy; every (re)connect starts from empty.
type Cache struct {
	db  *bun.DB
	url string
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]sessionEntry
	users    map[int64]userEntry
	// epoch counts invalidations: a read that began before one may not
	// store what it read (it could be older than the notice).
	epoch     uint64
	listening atomic.Bool

	hits, misses atomic.Int64

	hookMu   sync.Mutex
	hooks    map[string][]func(payload string)
	relisten context.CancelFunc // ends the current connection's wait
}

type sessionEntry struct {
	s    Session
	ok   bool // false: no such signed-in session
	read time.Time
}

type userEntry struct {
	u    User
	read time.Time
}

// NewCache returns a Cache reading db; databaseURL is what its LISTEN
// connection opens (empty: it never listens, so it always reads through).
func NewCache(db *bun.DB, databaseURL string, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cache{db: db, url: databaseURL, log: log,
		sessions: map[string]sessionEntry{}, users: map[int64]userEntry{}}
}

// OnNotify has the Cache's LISTEN connection also listen on channel and
// call fn with each payload, in order, from one goroutine. After every
// (re)connect fn gets "" (anything may have changed meanwhile). Register
// before Run, or the connection is opened again to add the channel.
func (c *Cache) OnNotify(channel string, fn func(payload string)) {
	c.hookMu.Lock()
	defer c.hookMu.Unlock()
	if c.hooks == nil {
		c.hooks = map[string][]func(string){}
	}
	c.hooks[channel] = append(c.hooks[channel], fn)
	if c.relisten != nil {
		c.relisten()
	}
}

func (c *Cache) callHooks(channel, payload string) {
	c.hookMu.Lock()
	fns := c.hooks[channel]
	c.hookMu.Unlock()
	for _, fn := range fns {
		fn(payload)
	}
}

func (c *Cache) resetHooks() {
	c.hookMu.Lock()
	all := make([]func(string), 0, len(c.hooks))
	for _, fns := range c.hooks {
		all = append(all, fns...)
	}
	c.hookMu.Unlock()
	for _, fn := range all {
		fn("")
	}
}

// Listening reports whether invalidations are arriving (and so whether the
// Cache keeps anything).
func (c *Cache) Listening() bool { return c.listening.Load() }

// Stats returns how many lookups were served from memory and how many read
// the database.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// Session returns signed-in session id; ok is false when there is none
// (missing, expired or deleted).
func (c *Cache) Session(ctx context.Context, id string) (Session, bool, error) {
	now := time.Now()
	c.mu.Lock()
	e, found := c.sessions[id]
	epoch := c.epoch
	c.mu.Unlock()
	if found && now.Sub(e.read) < cacheTTL {
		c.hits.Add(1)
		return e.s, e.ok && now.Before(e.s.ExpiresAt), nil
	}
	c.misses.Add(1)
	s, ok, err := loadSession(ctx, c.db, id)
	if err != nil {
		return Session{}, false, err
	}
	if c.listening.Load() {
		c.mu.Lock()
		if c.epoch == epoch {
			if len(c.sessions) >= cacheMax {
				c.sessions = map[string]sessionEntry{}
			}
			// A copy: callers may pass a string over a reused buffer
			// (Fiber's).
			id := strings.Clone(id)
			s.ID = id
			c.sessions[id] = sessionEntry{s: s, ok: ok, read: now}
		}
		c.mu.Unlock()
	}
	return s, ok && now.Before(s.ExpiresAt), nil
}

// User returns a copy of user id (the caller may change it); ErrNoUser when
// there is none.
func (c *Cache) User(ctx context.Context, id int64) (*User, error) {
	now := time.Now()
	c.mu.Lock()
	e, found := c.users[id]
	epoch := c.epoch
	c.mu.Unlock()
	if found && now.Sub(e.read) < cacheTTL {
		c.hits.Add(1)
		u := e.u
		return &u, nil
	}
	c.misses.Add(1)
	u, err := loadUser(ctx, c.db, id)
	if err != nil {
		return nil, err
	}
	if c.listening.Load() {
		c.mu.Lock()
		if c.epoch == epoch {
			if len(c.users) >= cacheMax {
				c.users = map[int64]userEntry{}
			}
			c.users[id] = userEntry{u: *u, read: now}
		}
		c.mu.Unlock()
	}
	return u, nil
}

// ForgetSession drops session id here at once (the notice reaches the
// other instances).
func (c *Cache) ForgetSession(id string) {
	c.mu.Lock()
	c.epoch++
	delete(c.sessions, id)
	c.mu.Unlock()
}

// ForgetUser drops user id here at once.
func (c *Cache) ForgetUser(id int64) {
	c.mu.Lock()
	c.epoch++
	delete(c.users, id)
	c.mu.Unlock()
}

// patchMoney sets the balance and committed amount of user id's copy, if
// one is kept. Reads under way may not store theirs: they may have read
// the row before the change.
func (c *Cache) patchMoney(id, balance, committed int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if e, ok := c.users[id]; ok {
		e.u.Balance, e.u.Committed = balance, committed
		c.users[id] = e
	}
}

// Forget drops everything kept here (the notices of a change this instance
// made may still be on their way).
func (c *Cache) Forget() { c.clear() }

func (c *Cache) clear() {
	c.mu.Lock()
	c.epoch++
	c.sessions = map[string]sessionEntry{}
	c.users = map[int64]userEntry{}
	c.mu.Unlock()
}

// apply handles one notice.
func (c *Cache) apply(payload string) {
	kind, key, ok := strings.Cut(payload, ":")
	switch {
	case ok && kind == "s":
		c.ForgetSession(key)
	case ok && kind == "u":
		if id, err := strconv.ParseInt(key, 10, 64); err == nil {
			c.ForgetUser(id)
			return
		}
		c.clear()
	case ok && kind == "m":
		// Only the money moved: "ID:BALANCE:COMMITTED:SEQ".
		if f := strings.Split(key, ":"); len(f) == 4 {
			id, err1 := strconv.ParseInt(f[0], 10, 64)
			balance, err2 := strconv.ParseInt(f[1], 10, 64)
			committed, err3 := strconv.ParseInt(f[2], 10, 64)
			if err1 == nil && err2 == nil && err3 == nil {
				c.patchMoney(id, balance, committed)
				return
			}
		}
		c.clear()
	case ok && kind == "n":
		// Always follows a "u:" for the same user.
	default:
		c.clear()
	}
}

// Run keeps the LISTEN connection up until ctx ends, reconnecting with
// backoff (100 ms doubling to 5 s).
func (c *Cache) Run(ctx context.Context) {
	if c.url == "" {
		return
	}
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		up, err := c.listenOnce(ctx)
		c.listening.Store(false)
		c.clear()
		c.resetHooks()
		if ctx.Err() != nil {
			return
		}
		if up {
			wait = 100 * time.Millisecond
		}
		if ctx.Err() == nil && errors.Is(err, context.Canceled) {
			continue // OnNotify asked for the new channel: at once
		}
		c.log.Warn("auth cache: listener lost; reading through until it is back", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func (c *Cache) listenOnce(ctx context.Context) (up bool, err error) {
	cfg, err := pgx.ParseConfig(c.url)
	if err != nil {
		return false, err
	}
	cfg.RuntimeParams["application_name"] = "gavel-auth-cache"
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	c.hookMu.Lock()
	c.relisten = lcancel
	channels := []string{Channel}
	for ch := range c.hooks {
		if ch != Channel {
			channels = append(channels, ch)
		}
	}
	c.hookMu.Unlock()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return false, err
		}
	}
	// Whatever changed before LISTEN took effect was never announced to
	// this connection: start from empty.
	c.clear()
	c.resetHooks()
	c.listening.Store(true)
	for {
		n, err := conn.WaitForNotification(lctx)
		if err != nil {
			return true, err
		}
		if n.Channel == Channel {
			c.apply(n.Payload)
		}
		c.callHooks(n.Channel, n.Payload)
	}
}
