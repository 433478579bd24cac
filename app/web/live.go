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
//     sse-swap=views.StatusEvent(id), hx-swap="outerHTML" (for signed-out
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
	"bufio"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"gavel/app/i18n"
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
	// vanished client: fasthttp only notices one when a flush fails.
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
	localLiveAuction = "live.auction"
	localLiveLang    = "live.lang"
	localLiveIP      = "live.ip"
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
	ip := strings.Clone(c.IP())
	if !s.sseStreams.acquire(ip) {
		return liveError(c, fiber.StatusTooManyRequests, p.T("live.err.busy"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	sub, err := s.Live.WatchCountdowns(ctx, p.Lang(), ids, user)
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
	// The connection ends with the stream, so the write deadline below
	// never outlives it.
	c.Set(fiber.HeaderConnection, "close")
	done := s.done
	// The stream writer writes into a pipe that fasthttp copies to the
	// connection; a client that stops reading blocks that copy, not us.
	// Each flush pushes the connection's write deadline forward, so such a
	// client is cut within sseStall of its last read.
	nc := c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.sseStreams.release(ip)
		defer sub.Close()
		beat := time.NewTicker(sseHeartbeat)
		defer beat.Stop()
		msgs := sub.Messages()
		w.WriteString(": connected\n\n")
		for {
			nc.SetWriteDeadline(time.Now().Add(sseStall))
			if err := w.Flush(); err != nil {
				return // the client is gone
			}
			select {
			case m := <-msgs:
				w.Write(m)
				// Write what else is queued and flush once.
				for n := len(msgs); n > 0; n-- {
					w.Write(<-msgs)
				}
			case <-beat.C:
				w.WriteString(": ping\n\n")
			case <-sub.Gone():
				if errors.Is(sub.Err(), live.ErrSlow) {
					// It reads nothing: do not wait for it any longer.
					nc.SetWriteDeadline(time.Now().Add(time.Second))
				}
				return // fell behind, or the hub closed: the page reconnects
			case <-done:
				return
			}
		}
	})
	return nil
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
	ctx, cancel := context.WithTimeout(c.UserContext(), 10*time.Second)
	ok, err := s.Live.Exists(ctx, id)
	cancel()
	if err != nil {
		return err
	}
	if !ok {
		return fiber.ErrNotFound
	}
	ip := strings.Clone(c.IP())
	if !s.wsStreams.acquire(ip) {
		return liveError(c, fiber.StatusTooManyRequests, p.T("live.err.busy"))
	}
	c.Locals(localLiveAuction, id)
	c.Locals(localLiveLang, p.Lang())
	c.Locals(localLiveIP, ip)
	if err := s.wsUpgrade(c); err != nil {
		s.wsStreams.release(ip)
		return err
	}
	return nil
}

// newWSUpgrade is the upgrade handler of auctionSocket. Write buffers come
// from a pool, so an idle socket holds none.
func (s *Server) newWSUpgrade() fiber.Handler {
	return websocket.New(s.bidSocket, websocket.Config{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   wsReadLimit,
		WriteBufferSize:  4096,
		WriteBufferPool:  &sync.Pool{},
		RecoverHandler: func(conn *websocket.Conn) {
			if e := recover(); e != nil {
				s.Log.Error("websocket panic", "panic", e)
			}
		},
	})
}

// bidSocket serves one socket: this goroutine reads (and ignores) what the
// page sends and answers pings; one writer goroutine writes the hub's
// messages, pings and the closing frame. It returns after the writer.
func (s *Server) bidSocket(conn *websocket.Conn) {
	id, _ := conn.Locals(localLiveAuction).(int64)
	lang, _ := conn.Locals(localLiveLang).(i18n.Lang)
	ip, _ := conn.Locals(localLiveIP).(string)
	defer s.wsStreams.release(ip)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	sub, err := s.Live.WatchBids(ctx, lang, id)
	cancel()
	if err != nil {
		code := websocket.CloseInternalServerErr
		if errors.Is(err, live.ErrClosed) {
			code = closeServiceRestart
		}
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		return
	}
	defer sub.Close()

	conn.SetReadLimit(wsReadLimit)
	conn.SetReadDeadline(time.Now().Add(wsReadWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wsReadWait)) })
	readerDone := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.socketWriter(conn, sub, readerDone)
	}()
	for {
		// Nothing a page sends is acted on: bids go by POST, with CSRF.
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	close(readerDone)
	<-writerDone
}

// socketWriter is the socket's one writer.
func (s *Server) socketWriter(conn *websocket.Conn, sub *live.Sub, readerDone <-chan struct{}) {
	ping := time.NewTicker(wsPing)
	defer ping.Stop()
	msgs := sub.Messages()
	for {
		select {
		case m := <-msgs:
			conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if err := conn.WriteMessage(websocket.TextMessage, m); err != nil {
				conn.Close()
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				conn.Close()
				return
			}
		case <-sub.Gone():
			code := closeServiceRestart
			if errors.Is(sub.Err(), live.ErrSlow) {
				code = closeTryAgainLater
			}
			closeSocket(conn, code, readerDone)
			return
		case <-s.done:
			closeSocket(conn, closeServiceRestart, readerDone)
			return
		case <-readerDone:
			return
		}
	}
}

// closeSocket sends a close frame and gives the page a moment to answer
// before the connection goes, so the frame is read rather than lost to a
// reset.
func closeSocket(conn *websocket.Conn, code int, readerDone <-chan struct{}) {
	err := conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
	if err == nil {
		select {
		case <-readerDone:
			return
		case <-time.After(2 * time.Second):
		}
	}
	conn.Close()
}
