package web

// The live routes: GET /events (SSE) and GET /auctions/:id/ws (WebSocket).
//
// What the room page (GET /auctions/:id) includes so that they update it:
//
//   - views.Ctx.Watch = []int64{id}: the layout then opens /events on <body>.
//   - parts.Countdown(p, st, now): swapped each second (sse-swap).
//   - parts.Price, parts.BidCount, parts.MinBid, parts.Leader, parts.EndsAt
//     with parts.InPage: replaced out of band by every bid.
//   - parts.BidHistory(p, id, rows): opens the socket (hx-ext="ws"
//     ws-connect) and holds <tbody id="bid-rows">; rows are the latest
//     live.MaxRows bids, newest first.
//   - The bid form while the auction is open: id=views.BidFormID(id),
//     sse-swap=views.StatusEvent(id), hx-swap=views.SSESwap (for signed-out
//     visitors, the "sign in to bid" box carries the same three), so that
//     the result replaces it when the auction ends; parts.Result(p, st,
//     parts.InPage) in its place once it has ended. The amount input is
//     parts.BidAmount: the socket replaces it with the new minimum only
//     while it is untouched and unfocused (its out-of-band target is a
//     :not(:focus):not(:user-valid):not(:user-invalid) selector), so
//     nothing a bidder types is ever clobbered; parts.MinBid beside it
//     always shows the new minimum.
//
// What POST /auctions/:id/bids answers an htmx request: the form alone,
// reset (empty message, the new minimum prefilled) with the outcome as a
// message — never the new row, price or count: the socket brings those to
// every page, the bidder's too, and a second insert would show the row
// twice. A refused bid: the form with the reason, 4xx (htmx-config swaps
// 4xx). Without JavaScript the POST redirects (303) to the room, whose
// reload shows the rows.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"gavel/app/live"
)

// Live stream tuning.
const (
	// maxWatch caps the auctions one SSE stream watches (a list page shows
	// fewer).
	maxWatch = 100
	// defaultStreamsPerIP caps the open streams of each kind (SSE,
	// WebSocket) per client address.
	defaultStreamsPerIP = 50
	// sseHeartbeat keeps proxies from cutting a quiet stream, and finds a
	// vanished client: only a failed write shows one.
	sseHeartbeat = 15 * time.Second
	// sseStall is how long a stream may wait on a client that reads
	// nothing before its connection is cut.
	sseStall = 2 * sseHeartbeat
	// wsPing and wsReadWait: contrib/websocket has no automatic ping. A
	// socket that answers no ping for wsReadWait is gone.
	wsPing     = 25 * time.Second
	wsReadWait = 60 * time.Second
	// wsWriteWait bounds one write, so a stuck client cannot hold its
	// writer forever.
	wsWriteWait = 10 * time.Second
	// wsAbandoned is how long a subscription waits for the socket handler
	// after the upgrade was answered.
	wsAbandoned = 30 * time.Second
	// wsReadLimit is the largest frame a page may send: it sends none that
	// matter.
	wsReadLimit = 1024
)

// WebSocket close codes htmx reconnects on (besides 1006).
const (
	closeServiceRestart = 1012 // shutting down: come back to another instance
	closeTryAgainLater  = 1013 // fell behind: reconnect and resynchronise
)

// Locals keys of the socket's request, copied by contrib/websocket.
const (
	localLiveUpgrade = "live.upgrade"
)

// streamCounter counts the open streams of one kind per client address.
type streamCounter struct {
	mu  sync.Mutex
	max int
	n   map[string]int
}

func newStreamCounter(max int) *streamCounter {
	if max <= 0 {
		max = defaultStreamsPerIP
	}
	return &streamCounter{max: max, n: map[string]int{}}
}

func (c *streamCounter) acquire(ip string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[ip] >= c.max {
		return false
	}
	c.n[ip]++
	return true
}

func (c *streamCounter) release(ip string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[ip] <= 1 {
		delete(c.n, ip)
		return
	}
	c.n[ip]--
}

// parseWatch parses ?auctions=1,2,3: positive ids, at most maxWatch,
// duplicates dropped.
func parseWatch(q string) ([]int64, bool) {
	if q == "" {
		return nil, true
	}
	parts := strings.Split(q, ",")
	if len(parts) > maxWatch {
		return nil, false
	}
	ids := make([]int64, 0, len(parts))
	seen := make(map[int64]bool, len(parts))
	for _, p := range parts {
		id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, true
}

// liveError answers a live request that cannot start with a plain message.
func liveError(c *fiber.Ctx, status int, msg string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(status).SendString(msg)
}

// events is the page's SSE stream: the countdowns of ?auctions= and, for a
// signed-in user, their personal notices.
func (s *Server) events(c *fiber.Ctx) error {
	p := printer(c)
	if s.Live == nil {
		return fiber.ErrServiceUnavailable
	}
	ids, ok := parseWatch(c.Query("auctions"))
	if !ok {
		return liveError(c, fiber.StatusBadRequest, p.T("live.err.ids", maxWatch))
	}
	var user int64
	if u := currentUser(c); u != nil {
		user = u.ID
	}
	if len(ids) == 0 && user == 0 {
		return liveError(c, fiber.StatusBadRequest, p.T("live.err.nothing"))
	}
	// Everything the stream needs is copied out of c here: the stream
	// writer runs after this handler returns, when c is reused.
	ip := clientKey(c)
	after := int64(-1)
	if user != 0 {
		// A reconnect's Last-Event-ID (the last notification it got) wins
		// over the page's ?after= (the newest it counted).
		v := c.Get("Last-Event-ID")
		if v == "" {
			v = c.Query("after")
		}
		if v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return liveError(c, fiber.StatusBadRequest, p.T("live.err.after"))
			}
			after = n
		}
	}
	if !s.sseStreams.acquire(ip) {
		return liveError(c, fiber.StatusTooManyRequests, p.T("live.err.busy"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	var opts []live.WatchOption
	if c.Query("summary") == "1" {
		opts = append(opts, live.WithSummaries())
	}
	var sub *live.Sub
	var err error
	if user != 0 {
		sub, err = s.Live.WatchNotes(ctx, p.Lang(), ids, user, after, opts...)
	} else {
		sub, err = s.Live.WatchCountdowns(ctx, p.Lang(), ids, 0, opts...)
	}
	cancel()
	if err != nil {
		s.sseStreams.release(ip)
		if errors.Is(err, live.ErrClosed) {
			return fiber.ErrServiceUnavailable
		}
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	// The body ends when the connection does.
	c.Set(fiber.HeaderConnection, "close")
	head := responseHead(c)
	// The hijacked connection is the stream's own: one goroutine writes
	// the frames straight to it, with no buffer of its own between
	// messages.
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(nc net.Conn) {
		s.hijacked.Add(1)
		defer s.hijacked.Add(-1)
		defer s.sseStreams.release(ip)
		defer sub.Close()
		s.stream(tcpConn(nc), head, sub)
		if sub.Err() == live.ErrSlow {
			s.Metrics.Dropped("sse")
		}
	})
	return nil
}

// responseHead is the status line and headers of c's response, as
// middleware and the handler set them, for a handler that writes its own
// body after hijacking the connection.
func responseHead(c *fiber.Ctx) []byte {
	h := &c.Response().Header
	b := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\n", c.Response().StatusCode(), fasthttp.StatusMessage(c.Response().StatusCode()))
	h.VisitAll(func(k, v []byte) {
		if string(k) == fiber.HeaderContentLength || string(k) == fiber.HeaderTransferEncoding {
			return
		}
		b = append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
	})
	return append(b, "\r\n"...)
}

var (
	sseConnected = []byte(": connected\n\n")
	ssePing      = []byte(": ping\n\n")
)

// stream writes sub's frames to nc until the client goes, the stream falls
// behind or the server shuts down. It is the stream's one goroutine. Each
// write may wait sseStall for a client that reads nothing; one that is
// gone fails at the next countdown or heartbeat.
func (s *Server) stream(nc net.Conn, head []byte, sub *live.Sub) {
	kick := make(chan struct{}, 1)
	sub.Start(func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	})
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	var deadline writeDeadline
	write := func(b net.Buffers) bool {
		deadline.keep(nc.SetWriteDeadline, sseStall)
		_, err := b.WriteTo(nc)
		return err == nil
	}
	if !write(net.Buffers{head, sseConnected}) {
		return
	}
	var msgs []*live.Message
	var bufs net.Buffers
	for {
		var ok bool
		msgs, ok = sub.Take(msgs[:0])
		if !ok {
			return // fell behind, or the hub closed: the page reconnects
		}
		if len(msgs) > 0 {
			// What is queued goes in one write.
			for _, m := range msgs {
				bufs = append(bufs, m.Data)
			}
			clear(msgs)
			ok := write(bufs)
			bufs = bufs[:0]
			if !ok {
				return
			}
			continue
		}
		select {
		case <-kick:
		case <-beat.C:
			if !write(net.Buffers{ssePing}) {
				return
			}
		case <-s.stopping.Done():
			return
		}
	}
}

// writeDeadline keeps a connection's write deadline between limit/2 and
// limit ahead, so that a write waits at most limit for a stalled client.
// It moves the deadline only when it falls behind: a new deadline is a
// runtime timer update, which at thousands of writes a tick costs more
// than deciding whether one is needed.
type writeDeadline struct{ at time.Time }

func (d *writeDeadline) keep(set func(time.Time) error, limit time.Duration) {
	now := time.Now()
	if d.at.Sub(now) < limit/2 {
		d.at = now.Add(limit)
		set(d.at)
	}
}

// sameOrigin reports whether origin is this site: BASE_URL when set, else
// the request's own scheme and host.
func (s *Server) sameOrigin(c *fiber.Ctx, origin string) bool {
	if origin == "" {
		return false
	}
	want := s.Config.BaseURL
	if want == "" {
		want = c.Protocol() + "://" + string(c.Request().Host())
	}
	return origin == want
}

// auctionSocket upgrades to the auction's WebSocket after the checks that
// need an HTTP answer: origin (contrib/websocket allows any by default),
// the auction, the per-address cap.
func (s *Server) auctionSocket(c *fiber.Ctx) error {
	p := printer(c)
	if s.Live == nil {
		return fiber.ErrServiceUnavailable
	}
	if !websocket.IsWebSocketUpgrade(c) {
		return fiber.ErrUpgradeRequired
	}
	if !s.sameOrigin(c, c.Get(fiber.HeaderOrigin)) {
		return liveError(c, fiber.StatusForbidden, p.T("live.err.origin"))
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	ip := clientKey(c)
	if !s.wsStreams.acquire(ip) {
		return liveError(c, fiber.StatusTooManyRequests, p.T("live.err.busy"))
	}
	// Subscribing here, before the upgrade, keeps the database work on
	// this pooled goroutine: the socket's own stays small for its life.
	ctx, cancel := context.WithTimeout(c.UserContext(), 10*time.Second)
	sub, err := s.Live.WatchBids(ctx, p.Lang(), id)
	cancel()
	if err != nil {
		s.wsStreams.release(ip)
		switch {
		case errors.Is(err, live.ErrNotFound):
			return fiber.ErrNotFound
		case errors.Is(err, live.ErrClosed):
			return fiber.ErrServiceUnavailable
		}
		return err
	}
	u := &upgrading{sub: sub, release: func() {
		if sub.Err() == live.ErrSlow {
			s.Metrics.Dropped("ws")
		}
		sub.Close()
		s.wsStreams.release(ip)
	}}
	c.Locals(localLiveUpgrade, u)
	if err := s.wsUpgrade(c); err != nil {
		u.release()
		return err
	}
	// fasthttp runs the socket handler only once the 101 reached the
	// client: without it, nothing else would let go of the subscription.
	u.timer = time.AfterFunc(wsAbandoned, func() {
		if u.claimed.CompareAndSwap(false, true) {
			u.release()
		}
	})
	return nil
}

// upgrading is a subscription waiting for its socket.
type upgrading struct {
	sub     *live.Sub
	release func()
	claimed atomic.Bool
	timer   *time.Timer
}

// newWSUpgrade is the upgrade handler of auctionSocket. The library's
// message writer is never used (socket.go writes every frame); its buffer
// would come from a pool, so no socket holds one.
func (s *Server) newWSUpgrade() fiber.Handler {
	return websocket.New(s.bidSocket, websocket.Config{
		HandshakeTimeout: 10 * time.Second,
		// Pages send nothing but pongs and close frames: a small buffer
		// (larger frames, up to wsReadLimit, are read through it).
		ReadBufferSize:  256,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		RecoverHandler: func(conn *websocket.Conn) {
			if e := recover(); e != nil {
				s.Log.Error("websocket panic", "panic", e)
			}
		},
	})
}
