// Package web is Gavel's HTTP face: the Fiber app, its one route table,
// middleware, handlers per area, and the render and error helpers.
package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"github.com/valyala/fasthttp"

	"gavel/app/auction"
	"gavel/app/auth"
	"gavel/app/config"
	"gavel/app/live"
	"gavel/app/metrics"
	"gavel/app/notify"
)

// Deps are the services the handlers use.
type Deps struct {
	Config *config.Config
	DB     *bun.DB
	Log    *slog.Logger
	// Auth holds the login providers; nil means none (not even the dev
	// login).
	Auth *auth.Service
	// Bidder places bids; Sweeper settles ended auctions (woken when one
	// is listed, so a short auction closes on time).
	Bidder  *auction.Bidder
	Sweeper *auction.Sweeper
	// Limits are the rate limits; zero fields take the defaults.
	Limits Limits
	// Live carries countdowns and bid rows to open pages; nil answers the
	// stream routes with 503.
	Live *live.Hub
	// Notify queues reminders and mail with the watches that cause them;
	// nil queues none.
	Notify *notify.Service
	// MailKey signs the unsubscribe links of mails (every instance shares
	// it: server.New reads it from server_secrets).
	MailKey []byte
	// Now is the clock pages decide "ended" by: the database's, as the
	// instance measures it (default time.Now).
	Now func() time.Time
	// StreamsPerIP caps the open live streams of each kind (SSE,
	// WebSocket) per client address; default 50.
	StreamsPerIP int
	// Cache serves sessions and signed-in users from memory; nil makes one
	// that never listens, so it reads every time (run it for the cache).
	Cache *auth.Cache
	// Metrics records request latency, live connections and settlement
	// lag; nil records nothing.
	Metrics *metrics.Metrics
	// CSRFKey signs the CSRF tokens; every instance behind one site needs
	// the same (server.New reads the shared one). Nil: a random key.
	CSRFKey []byte
	// WriteTimeout bounds writing one response; default a minute. The
	// live streams are not cut by it: fasthttp clears a connection's
	// deadlines before a hijack handler runs, and both streams hijack.
	WriteTimeout time.Duration
	// ConnsPerIP caps the open connections of one peer address (an IPv6
	// /64); default both kinds of stream plus 100. Off when
	// TRUSTED_PROXIES is set: every connection then comes from a proxy.
	ConnsPerIP int
}

// Body limits: only the sell and edit forms carry photos.
const (
	// uploadBodyLimit is 8 photos of 5 MB (a phone's) or 4 at the 10 MB
	// cap of one, and the form around them: bounded, as fasthttp buffers
	// the whole body before the handler runs.
	uploadBodyLimit = 41 << 20
	smallBodyLimit  = 64 << 10 // every other form is a few fields
)

// defaultWriteTimeout lets a slow client take a 10 MB photo at about
// 170 KB/s, and no longer holds a goroutine and a buffered body for one
// that never reads.
const defaultWriteTimeout = time.Minute

// Limits are per-instance rate limits (in memory: each instance counts on
// its own).
type Limits struct {
	Window      time.Duration // the counting window; default a minute
	Login       int           // sign-in attempts per IP per window; default 10
	DepositUser int           // deposits per user per window; default 5
	DepositIP   int           // deposits per IP per window; default 20
	Bid         int           // bids per user per window; default 60
	// Listing is the new listings (POST /auctions, each a photo decode)
	// per user per ListingWindow; default 20 an hour.
	Listing       int
	ListingWindow time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Window <= 0 {
		l.Window = time.Minute
	}
	if l.Login <= 0 {
		l.Login = 10
	}
	if l.Bid <= 0 {
		l.Bid = 60
	}
	if l.DepositUser <= 0 {
		l.DepositUser = 5
	}
	if l.DepositIP <= 0 {
		l.DepositIP = 20
	}
	if l.Listing <= 0 {
		l.Listing = 20
	}
	if l.ListingWindow <= 0 {
		l.ListingWindow = time.Hour
	}
	return l
}

// Server is the Fiber app with its dependencies.
type Server struct {
	Deps
	app *fiber.App

	// sessionRows keeps started sign-ins (sessions themselves go through
	// Cache and the auth session functions).
	sessionRows *auth.SessionStorage
	csrfKey     []byte
	lists       *listCache
	rooms       *roomCache
	personal    *mineCache
	maxes       *maxCache
	corners     *cornerMemo

	// photos bounds the photos decoded at once: an upload at the caps
	// takes up to ~425 MB while it is decoded and resized (see media's
	// limits) and a second or two of CPU, its decode at most
	// media.DecodeBudget.
	photos chan struct{}

	// stopping ends when shutdown begins, so that long-lived streams end
	// and the server can drain.
	stopping context.Context
	stop     context.CancelFunc

	sseStreams, wsStreams *streamCounter
	// hijacked counts the live streams and sockets still running, which
	// Shutdown waits for.
	hijacked  atomic.Int64
	wsUpgrade fiber.Handler
	writers   *writerPool
}

// New builds the app and its routes.
func New(d Deps) *Server {
	if d.Auth == nil {
		d.Auth = &auth.Service{}
	}
	d.Limits = d.Limits.withDefaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	stopping, stop := context.WithCancel(context.Background())
	s := &Server{Deps: d, stopping: stopping, stop: stop, photos: make(chan struct{}, 2),
		sseStreams: newStreamCounter(d.StreamsPerIP), wsStreams: newStreamCounter(d.StreamsPerIP),
		writers: newWriterPool()}
	s.sessionRows = auth.NewSessionStorage(d.DB)
	if s.Cache == nil {
		s.Cache = auth.NewCache(d.DB, "", d.Log)
	}
	s.lists = newListCache(s.Cache, s.Metrics)
	s.rooms = newRoomCache(s.Cache)
	s.personal = newMineCache(s.Cache)
	s.maxes = newMaxCache(s.Cache)
	s.corners = newCornerMemo(10_000)
	s.Metrics.LiveConnections("sse", s.sseStreams.total)
	s.Metrics.LiveConnections("ws", s.wsStreams.total)
	s.csrfKey = d.CSRFKey
	if len(s.csrfKey) == 0 {
		s.csrfKey = make([]byte, 32)
		rand.Read(s.csrfKey)
	}
	s.wsUpgrade = s.newWSUpgrade()
	s.app = fiber.New(fiber.Config{
		AppName:               "gavel",
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		// The largest body of any route; bodyLimits lowers it per route
		// before the body is read.
		BodyLimit:      uploadBodyLimit,
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   cmp.Or(d.WriteTimeout, defaultWriteTimeout),
		IdleTimeout:    90 * time.Second,
		ReadBufferSize: 16 << 10, // session and language cookies, OAuth callbacks
		// Behind trusted load balancers the client is the one they name in
		// X-Real-IP (which they overwrite, unlike X-Forwarded-For's first
		// entry): rate limits and stream caps count per real client.
		EnableTrustedProxyCheck: len(d.Config.TrustedProxies) > 0,
		TrustedProxies:          d.Config.TrustedProxies,
		ProxyHeader:             proxyHeader(d.Config.TrustedProxies),
		// c.IP() then skips an empty or malformed header for the peer;
		// Gavel's own limits use clientIP, which also canonicalises.
		EnableIPValidation: true,
		// Return each connection's read buffer to the pool once a request is
		// read: an open SSE stream or WebSocket would otherwise hold its
		// 16 KB for hours (measured: 42 → 26 KB per idle stream).
		ReduceMemoryUsage: true,
	})
	s.app.Server().HeaderReceived = bodyLimits
	s.routes()
	return s
}

// bodyLimits gives each request its body limit once its header is read,
// so fasthttp answers 413 without reading (or buffering) more: the upload
// route's is uploadBodyLimit, every other smallBodyLimit.
func bodyLimits(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if isUpload(h.Method(), h.RequestURI()) {
		return fasthttp.RequestConfig{MaxRequestBodySize: uploadBodyLimit}
	}
	return fasthttp.RequestConfig{MaxRequestBodySize: smallBodyLimit}
}

// isUpload reports whether a request is POST /auctions or POST
// /auctions/:id/edit (Fiber's routing is case-insensitive and allows a
// trailing slash).
func isUpload(method, uri []byte) bool {
	if string(method) != fiber.MethodPost {
		return false
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return isUploadPath(uri)
}

// isUploadPath reports whether path is the sell form's or an edit form's.
func isUploadPath(path []byte) bool {
	path = bytes.TrimSuffix(path, []byte("/"))
	if bytes.EqualFold(path, []byte("/auctions")) {
		return true
	}
	rest, ok := bytes.CutPrefix(bytes.ToLower(path), []byte("/auctions/"))
	if !ok {
		return false
	}
	id, ok := bytes.CutSuffix(rest, []byte("/edit"))
	if !ok || len(id) == 0 {
		return false
	}
	for _, b := range id {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// App returns the Fiber app, for tests that call app.Test.
func (s *Server) App() *fiber.App { return s.app }

// Serve serves HTTP on ln until Shutdown. Without trusted proxies each
// peer may hold ConnsPerIP connections; behind them every connection is
// a proxy's, and the proxy caps its clients.
func (s *Server) Serve(ln net.Listener) error {
	if len(s.Config.TrustedProxies) == 0 {
		ln = newConnLimitListener(ln, cmp.Or(s.ConnsPerIP, 2*s.sseStreams.max+100))
	}
	return s.app.Listener(ln)
}

// Shutdown ends the streams, stops accepting and waits (until ctx ends) for
// requests in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	err := s.app.ShutdownWithTimeout(time.Until(deadline))
	// fasthttp counts a hijacked connection out of the ones it waits for:
	// wait, within the deadline, for the streams and sockets to have sent
	// their last words (a socket's 1012 close), or the process may exit
	// first and the page sees 1006 instead.
	for s.hijacked.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// proxyHeader is the header that names the client, when proxies are trusted.
func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return realIPHeader
}
