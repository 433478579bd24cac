// Package server assembles one running Gavel instance from its
// configuration and database: the services, their background loops and the
// web app. main and the end-to-end tests start instances the same way.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/auth"
	"gavel/app/config"
	"gavel/app/demo"
	"gavel/app/live"
	"gavel/app/metrics"
	"gavel/app/notify"
	"gavel/app/web"
)

// sessionSweepEvery is how often expired sessions are deleted (reads also
// delete the expired session they hit).
const sessionSweepEvery = time.Hour

// Server is one Gavel instance.
type Server struct {
	web      *web.Server
	live     *live.Hub
	notify   *notify.Service
	log      *slog.Logger
	sessions *auth.SessionStorage
	bidder   *auction.Bidder
	sweeper  *auction.Sweeper
	// manualSettle: no background sweeper (Parts.ManualSettle); demo:
	// the demo runs (Parts.Demo).
	manualSettle, demo bool
	clock              *dbClock
	db                 *bun.DB
	cache              *auth.Cache
	metrics            *metrics.Metrics
	// metricsLn and debugLn are METRICS_ADDR and DEBUG_ADDR, bound in New
	// (nil when off).
	metricsLn, debugLn net.Listener

	ctx     context.Context // ends when the loops must stop
	cancel  context.CancelFunc
	mu      sync.Mutex
	stopped bool
	loops   sync.WaitGroup
}

// Parts are an instance's options as New assembles them from the
// configuration, before anything starts: a Tuning may change them.
type Parts struct {
	Bidder auction.BidderOptions
	Live   live.Options
	// Notify are the job queue's options (reminders, mail, the purge).
	Notify notify.Options
	// Web's Bidder, Sweeper and Live are set by New after tuning.
	Web web.Deps
	// ManualSettle runs no settlement sweeper: the caller settles (tests
	// that settle at a moment of their choosing).
	ManualSettle bool
	// Demo fills an empty database with demo listings and runs demo
	// bidders (`gavel demo`); development only.
	Demo bool
	// LocalClock is this machine's clock (default time.Now); pages and the
	// live layer use it corrected to the database's.
	LocalClock func() time.Time
}

// Tuning changes an instance's parts before they start, for tests and
// tools that need other limits or timings than the configuration gives.
type Tuning func(*Parts)

// New builds an instance on an open, migrated database. It fails when a
// login provider cannot be set up (an OpenID Connect issuer that does not
// answer its discovery document) or the dev login is on in production.
//
// cfg.DatabaseURL must name that database: the live layer opens its own
// LISTEN connection to it.
func New(cfg *config.Config, bdb *bun.DB, log *slog.Logger, tune ...Tuning) (*Server, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("server: DatabaseURL is needed for the live layer's LISTEN connection")
	}
	authSvc, err := auth.NewService(cfg)
	if err != nil {
		return nil, err
	}
	rules := auction.SoftClose{Window: cfg.SoftCloseWindow, Cap: cfg.SoftCloseCap}
	p := Parts{
		Bidder: auction.BidderOptions{Logger: log, SoftClose: rules},
		Live:   live.Options{DB: bdb, DatabaseURL: cfg.DatabaseURL, Log: log, SoftClose: rules},
		Notify: notify.Options{Log: log},
		Web: web.Deps{Config: cfg, DB: bdb, Log: log, Auth: authSvc, StreamsPerIP: cfg.StreamsPerIP,
			ConnsPerIP: cfg.ConnsPerIP,
			Limits: web.Limits{Window: cfg.RateWindow, Login: cfg.RateLogin, Bid: cfg.RateBid,
				DepositUser: cfg.RateDepositUser, DepositIP: cfg.RateDepositIP, Listing: cfg.RateListing}},
	}
	kctx, kcancel := context.WithTimeout(context.Background(), 10*time.Second)
	mailKey, err := auth.Secret(kctx, bdb, "mail")
	kcancel()
	if err != nil {
		return nil, err
	}
	p.Web.MailKey = mailKey
	if cfg.SMTPURL != "" || !cfg.IsProduction() {
		// Without SMTP_URL in development, mails are kept for /dev/mail.
		if p.Notify.Mail, err = notify.NewMailer(cfg.SMTPURL, cfg.MailFrom, cfg.BaseURL, mailKey); err != nil {
			return nil, err
		}
	}
	for _, t := range tune {
		t(&p)
	}
	clock := &dbClock{local: p.LocalClock}
	if clock.local == nil {
		clock.local = time.Now
	}
	mctx, mcancel := context.WithTimeout(context.Background(), 5*time.Second)
	err = clock.measure(mctx, bdb)
	mcancel()
	if err != nil {
		return nil, fmt.Errorf("read the database's clock: %w", err)
	}
	p.Live.Now, p.Web.Now = clock.Now, clock.Now
	if p.Demo && cfg.IsProduction() {
		return nil, errors.New("demo: the demo runs in development only, never with APP_ENV=production")
	}
	s := &Server{
		log:          log,
		sessions:     auth.NewSessionStorage(bdb),
		sweeper:      auction.NewSweeper(bdb, log),
		manualSettle: p.ManualSettle,
		demo:         p.Demo,
		db:           bdb,
		clock:        clock,
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	sctx, scancel := context.WithTimeout(s.ctx, 10*time.Second)
	csrfKey, err := auth.Secret(sctx, bdb, "csrf")
	scancel()
	if err != nil {
		return nil, err
	}
	// The web pool (which a tuning may have changed) serves the cache; a
	// tuning may also bring its own cache.
	if p.Web.Cache == nil {
		p.Web.Cache = auth.NewCache(p.Web.DB, cfg.DatabaseURL, log)
	}
	s.cache = p.Web.Cache
	if err := s.listenOps(cfg, bdb); err != nil {
		return nil, err
	}
	if s.metrics != nil && p.Bidder.Metrics == nil {
		p.Bidder.Metrics = s.metrics
	}
	s.bidder = auction.NewBidder(bdb, p.Bidder)
	s.live = live.New(p.Live)
	if s.notify, err = notify.NewService(bdb, p.Notify); err != nil {
		return nil, err
	}
	p.Web.Bidder, p.Web.Sweeper, p.Web.Live, p.Web.Notify = s.bidder, s.sweeper, s.live, s.notify
	p.Web.CSRFKey, p.Web.Metrics = csrfKey, s.metrics
	s.web = web.New(p.Web)
	return s, nil
}

// listenOps binds the metrics and profiling addresses that are configured.
func (s *Server) listenOps(cfg *config.Config, bdb *bun.DB) error {
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("METRICS_ADDR: %w", err)
		}
		s.metricsLn = ln
		s.metrics = metrics.New(bdb.DB)
	}
	if cfg.DebugAddr != "" {
		ln, err := net.Listen("tcp", cfg.DebugAddr)
		if err != nil {
			if s.metricsLn != nil {
				s.metricsLn.Close()
			}
			return fmt.Errorf("DEBUG_ADDR: %w", err)
		}
		s.debugLn = ln
	}
	return nil
}

// MetricsAddr is where the metrics are served ("" when off).
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// DebugAddr is where pprof is served ("" when off).
func (s *Server) DebugAddr() string {
	if s.debugLn == nil {
		return ""
	}
	return s.debugLn.Addr().String()
}

// Metrics is the instance's metrics (nil when METRICS_ADDR is unset), for
// the engine's observations.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Bidder is the instance's bidding engine, for tools and tests.
func (s *Server) Bidder() *auction.Bidder { return s.bidder }

// Web is the instance's web app.
func (s *Server) Web() *web.Server { return s.web }

// Hub is the instance's live layer.
func (s *Server) Hub() *live.Hub { return s.live }

// Serve starts the background loops and serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if !s.stopped {
		s.loop(func(ctx context.Context) { s.sessions.SweepExpired(ctx, sessionSweepEvery, s.log) })
		if !s.manualSettle {
			s.loop(func(ctx context.Context) {
				if err := s.sweeper.Run(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("settlement sweeper stopped", "err", err)
				}
			})
		}
		s.loop(s.live.Run)
		s.loop(s.notify.Run)
		s.loop(func(ctx context.Context) { s.clock.run(ctx, s.db) })
		s.loop(s.cache.Run)
		if s.metricsLn != nil {
			s.loop(func(ctx context.Context) { metrics.Serve(ctx, s.metricsLn, s.metrics.Handler(), s.log) })
		}
		if s.debugLn != nil {
			s.loop(func(ctx context.Context) { metrics.Serve(ctx, s.debugLn, metrics.DebugHandler(), s.log) })
		}
		if s.demo {
			s.loop(demo.New(s.db, s.bidder, s.log).Run)
		}
	}
	s.mu.Unlock()
	return s.web.Serve(ln)
}

// loop runs fn in the background until Shutdown.
func (s *Server) loop(fn func(ctx context.Context)) {
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		fn(s.ctx)
	}()
}

// Shutdown stops accepting, ends the streams, waits for requests in flight
// (until ctx ends) and stops the background loops. The caller closes the
// database afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.web.Shutdown(ctx)
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.cancel()
	// Closed by their servers when those ran; otherwise here.
	for _, ln := range []net.Listener{s.metricsLn, s.debugLn} {
		if ln != nil {
			ln.Close()
		}
	}
	// Streams have ended with the web server; the hub's loops stop before
	// the caller closes the database.
	s.live.Close()
	s.loops.Wait()
	// No request is left to queue a bid: let the writers finish theirs.
	s.bidder.Close()
	return err
}
