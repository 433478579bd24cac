// Package live carries auction changes to open pages as ready HTML: the
// countdowns over SSE, ticked by one clock per instance, and the bid rows
// over WebSockets, fed by one PostgreSQL LISTEN connection per instance.
//
// Every message is rendered once per auction and language and the same
// bytes are queued to every subscriber. Queues are bounded: a subscriber
// that falls behind is dropped (its page reconnects and resynchronises),
// never waited for. The Fiber glue lives in package web.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/i18n"
)

// Errors of Watch* and the reasons a subscription ends (Sub.Err).
var (
	ErrNotFound = errors.New("live: no such auction")
	ErrClosed   = errors.New("live: shutting down")
	ErrSlow     = errors.New("live: subscriber fell behind")
)

// Defaults of Options.
const (
	DefaultQueue   = 32
	DefaultAppName = "gavel-live"
	// MaxRows is how many bid rows a (re)connecting page receives.
	MaxRows = 50
)

// Options configure a Hub.
type Options struct {
	DB          *bun.DB // reads auction state and recent bids
	DatabaseURL string  // the database the LISTEN connection opens
	Log         *slog.Logger
	// Queue is how many messages a subscriber may fall behind by before it
	// is dropped; an SSE stream gets this much per auction it watches
	// (each tick queues one countdown per auction). Default DefaultQueue.
	Queue int
	// Tick is the countdown period (default a second).
	Tick time.Duration
	// AppName is the LISTEN connection's application_name, so operators
	// (and tests) can find it in pg_stat_activity.
	AppName string
	// Backoff is the first wait before reconnecting a lost LISTEN
	// connection; it doubles up to 5 s (default 100 ms).
	Backoff time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SoftClose is the site's anti-sniping rule, for the countdowns of
	// auctions loaded from the database (events carry their own).
	SoftClose auction.SoftClose
}

// Hub is one instance's live layer: subscribers by auction and by user,
// the state cache of every watched auction, the clock and the listener.
type Hub struct {
	opt Options
	log *slog.Logger

	ctx  context.Context // ends at Close
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
	rooms  map[int64]*room
	users  map[int64]map[*Sub]struct{}

	notes chan note    // listener -> dispatcher
	noteq chan noteMsg // listener -> notes loop
	// notesLost: a note was dropped (the loop lagged); resync them all.
	notesLost atomic.Bool

	listening atomic.Bool
	connects  atomic.Int64
}

// New returns a Hub; call Run to start its clock and listener, and Close
// to stop it.
func New(opt Options) *Hub {
	if opt.Queue <= 0 {
		opt.Queue = DefaultQueue
	}
	if opt.Tick <= 0 {
		opt.Tick = time.Second
	}
	if opt.AppName == "" {
		opt.AppName = DefaultAppName
	}
	if opt.Backoff <= 0 {
		opt.Backoff = backoffMin
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Hub{
		opt: opt, log: opt.Log, ctx: ctx, stop: stop,
		rooms: map[int64]*room{}, users: map[int64]map[*Sub]struct{}{},
		notes: make(chan note, maxBatch), noteq: make(chan noteMsg, maxBatch),
	}
}

// Run runs the clock and the listener until ctx ends or Close is called.
func (h *Hub) Run(ctx context.Context) {
	h.wg.Add(1)
	defer h.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(h.ctx, cancel)
	defer stop()
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); h.notesLoop(ctx) }()
	go func() { defer wg.Done(); h.clock(ctx) }()
	go func() { defer wg.Done(); h.listen(ctx) }()
	go func() { defer wg.Done(); h.dispatch(ctx) }()
	wg.Wait()
}

// Close stops the clock and the listener and ends every subscription with
// ErrClosed. It is safe to call more than once.
func (h *Hub) Close() {
	h.stop()
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, r := range h.rooms {
		for s := range r.sse {
			h.drop(s, ErrClosed)
		}
		for s := range r.ws {
			h.drop(s, ErrClosed)
		}
	}
	for _, subs := range h.users {
		for s := range subs {
			h.drop(s, ErrClosed)
		}
	}
}

// Listening reports whether the LISTEN connection is up, and how many times
// it has connected (each connect resynchronises every watched auction).
func (h *Hub) Listening() (up bool, connects int64) {
	return h.listening.Load(), h.connects.Load()
}

// Subscribers returns how many SSE and WebSocket subscriptions are open.
func (h *Hub) Subscribers() (sse, ws int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[*Sub]bool{}
	for _, r := range h.rooms {
		for s := range r.sse {
			seen[s] = true
		}
		ws += len(r.ws)
	}
	for _, subs := range h.users {
		for s := range subs {
			seen[s] = true
		}
	}
	return len(seen), ws
}

type kind uint8

const (
	kindSSE kind = iota
	kindWS
)

// Sub is one subscriber: an SSE stream or a WebSocket. Its owner calls
// Start once it can write, then Take whenever woken, writing what it gets
// to the wire in order, until Take reports the end or the client goes away
// (then it calls Close). Nothing waits on an idle subscriber: it holds no
// goroutine of the hub's, and its queue is empty until something arrives.
type Sub struct {
	h    *Hub
	kind kind
	lang i18n.Lang
	ids  []int64
	user int64
	max  int // queued messages allowed before it counts as fallen behind
	// summaries: an SSE stream that also wants each auction's price and
	// bid count after every change (the seller's dashboard).
	summaries bool

	mu    sync.Mutex // guards the fields below; taken after h.mu
	q     []*Message
	wake  func()
	armed bool // call wake on the next message or the end
	ended bool

	// Guarded by h.mu.
	dead   bool
	reason error
	notes  *noteState // a signed-in stream's notifications (WatchNotes)
}

// Start sets wake, called when a message arrives while the owner is idle
// (Take found nothing) and when the subscription ends. wake runs with the
// hub's lock held: it must only signal (a goroutine, a channel send that
// cannot block). Messages queued before Start wake it at once.
func (s *Sub) Start(wake func()) {
	s.mu.Lock()
	s.wake = wake
	s.armed = true
	s.mu.Unlock()
	s.signal()
}

// signal calls wake if it is armed and something is due.
func (s *Sub) signal() {
	s.mu.Lock()
	w := s.wake
	due := s.armed && w != nil && (len(s.q) > 0 || s.ended)
	if due {
		s.armed = false
	}
	s.mu.Unlock()
	if due {
		w()
	}
}

// Take appends the queued messages to buf, oldest first, and reports
// whether the subscription still lasts (Err says why it ended). When it
// returns no messages and true, the owner is idle: wake is called on the
// next message.
func (s *Sub) Take(buf []*Message) ([]*Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf = append(buf, s.q...)
	clear(s.q)
	s.q = s.q[:0]
	if cap(s.q) > 4 {
		s.q = nil // a burst's queue is not kept for the quiet after it
	}
	if s.ended {
		return buf, false
	}
	if len(buf) == 0 {
		s.armed = true
	}
	return buf, true
}

// Err is why the subscription ended: ErrSlow (it fell behind), ErrClosed
// (the hub is closing), nil after Close or while it lasts.
func (s *Sub) Err() error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.reason
}

// Close ends the subscription. It is safe to call more than once.
func (s *Sub) Close() {
	s.End(nil)
}

// End ends the subscription for reason (ErrClosed: the page should come
// back to another instance). It is safe to call more than once.
func (s *Sub) End(reason error) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.drop(s, reason)
}

// WatchOption changes what a stream receives.
type WatchOption func(*Sub)

// WithSummaries makes an SSE stream receive each auction's price and bid
// count too (SummaryEvent), at once and after every change: the seller's
// dashboard asks for them; other pages, which do not show them, do not.
func WithSummaries() WatchOption { return func(s *Sub) { s.summaries = true } }

// WatchCountdowns subscribes an SSE stream in lang to the countdowns of
// auctions ids (unknown ids are ignored) and, when user is not 0, to that
// user's personal notices. The current countdown of each auction is queued
// at once.
func (h *Hub) WatchCountdowns(ctx context.Context, lang i18n.Lang, ids []int64, user int64, opts ...WatchOption) (*Sub, error) {
	n := max(len(ids), 1)
	s := &Sub{h: h, kind: kindSSE, lang: lang, ids: ids, user: user,
		max: h.opt.Queue * n}
	for _, o := range opts {
		o(s)
	}
	return s, h.subscribe(ctx, s)
}

// WatchBids subscribes a WebSocket in lang to the bids of auction id. The
// first message brings the page up to date (state and latest rows).
func (h *Hub) WatchBids(ctx context.Context, lang i18n.Lang, id int64) (*Sub, error) {
	s := &Sub{h: h, kind: kindWS, lang: lang, ids: []int64{id},
		max: h.opt.Queue}
	return s, h.subscribe(ctx, s)
}

// send queues msg for s without ever blocking: a full queue drops s.
// h.mu is held.
func (h *Hub) send(s *Sub, msg *Message) {
	if s.dead || msg == nil {
		return
	}
	s.mu.Lock()
	full := len(s.q) >= s.max
	if !full {
		s.q = append(s.q, msg)
	}
	s.mu.Unlock()
	if full {
		h.drop(s, ErrSlow)
		return
	}
	s.signal()
}

// drop ends s. h.mu is held.
func (h *Hub) drop(s *Sub, why error) {
	if s.dead {
		return
	}
	s.dead, s.reason = true, why
	for _, id := range s.ids {
		if r := h.rooms[id]; r != nil {
			delete(r.sse, s)
			delete(r.ws, s)
			if r.empty() {
				delete(h.rooms, id)
			}
		}
	}
	if s.user != 0 {
		if subs := h.users[s.user]; subs != nil {
			delete(subs, s)
			if len(subs) == 0 {
				delete(h.users, s.user)
			}
		}
	}
	s.mu.Lock()
	s.ended = true
	if why == ErrSlow {
		clear(s.q)
		s.q = nil // it will resynchronise: nothing queued matters
	}
	s.mu.Unlock()
	s.signal()
}

// subscribe adds s to its rooms, loads the rooms not yet cached, and queues
// the first messages of every room that is ready.
func (h *Hub) subscribe(ctx context.Context, s *Sub) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	var need []*room
	for _, id := range s.ids {
		r := h.rooms[id]
		if r == nil {
			r = newRoom(id)
			h.rooms[id] = r
		}
		if s.kind == kindSSE {
			r.sse[s] = false
		} else {
			r.ws[s] = false
		}
		r.waiting = append(r.waiting, s)
		if (!r.loaded && !r.loading) || (s.kind == kindWS && !r.rowsLoaded && !r.rowsLoading) {
			r.loading = r.loading || !r.loaded
			r.rowsLoading = r.rowsLoading || (s.kind == kindWS && !r.rowsLoaded)
			need = append(need, r)
		}
	}
	if s.user != 0 {
		if h.users[s.user] == nil {
			h.users[s.user] = map[*Sub]struct{}{}
		}
		h.users[s.user][s] = struct{}{}
	}
	for _, id := range s.ids {
		h.syncWaiting(h.rooms[id])
	}
	h.mu.Unlock()
	if len(need) == 0 {
		return nil
	}

	loaded, err := h.load(ctx, need)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range need {
		if err != nil {
			h.loadFailed(r)
			continue
		}
		if h.rooms[r.id] != r {
			continue // everyone left, or the hub closed
		}
		l, ok := loaded[r.id]
		if !ok {
			h.notFound(r)
			continue
		}
		h.applyLoad(r, l, h.opt.Now())
		h.syncWaiting(r)
	}
	if err != nil {
		h.drop(s, err)
		return err
	}
	if s.kind == kindWS && s.dead {
		return ErrNotFound
	}
	return nil
}

// loadFailed ends the subscribers still waiting for r; they reconnect.
func (h *Hub) loadFailed(r *room) {
	r.loading, r.rowsLoading = false, false
	for s, synced := range r.sse {
		if !synced {
			h.drop(s, ErrClosed)
		}
	}
	for s, synced := range r.ws {
		if !synced {
			h.drop(s, ErrClosed)
		}
	}
}

// notFound forgets an auction that does not exist: SSE streams watch the
// rest of their list, sockets end.
func (h *Hub) notFound(r *room) {
	for s := range r.sse {
		delete(r.sse, s)
	}
	for s := range r.ws {
		h.drop(s, ErrNotFound)
	}
	if h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
}
