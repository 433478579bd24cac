// Package metrics is Gavel's operator view: Prometheus metrics served on
// their own address (METRICS_ADDR) and net/http/pprof on another
// (DEBUG_ADDR), both off unless configured. A nil *Metrics takes every
// observation and does nothing, so callers need no checks.
package metrics

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Engine is what the bidding engine and the sweeper report; *Metrics
// implements it, and Discard drops everything.
type Engine interface {
	// BidBatch is one committed (or failed) batch transaction: how many
	// bids it judged and how long it took.
	BidBatch(size int, took time.Duration)
	// BidRoundTrip is one of a batch's two round trips to PostgreSQL, by
	// step: "lock" (BEGIN and the statement that locks and reads) or
	// "write" (the statement that writes everything, and COMMIT).
	BidRoundTrip(step string, took time.Duration)
	// BidRefused is one refused bid, by reason (e.g. "too_low").
	BidRefused(reason string)
	// Settled is one settlement, lag after the auction's end.
	Settled(lag time.Duration)
}

// Discard is an Engine that records nothing.
var Discard Engine = discard{}

type discard struct{}

func (discard) BidBatch(int, time.Duration)        {}
func (discard) BidRoundTrip(string, time.Duration) {}
func (discard) BidRefused(string)                  {}
func (discard) Settled(time.Duration)              {}

// RefusalReasons are the refusal labels that exist (at zero) from the
// start, so dashboards see them before the first refusal.
// They are the engine's refusal keys (auction.Err…) without "bid.".
var RefusalReasons = []string{"too_low", "below_start", "max_not_higher", "insufficient_funds", "ended", "own_auction",
	"amount_invalid", "suspended", "bought", "buy_own_auction", "buy_gone", "buy_price_changed"}

// Metrics holds Gavel's collectors on their own registry.
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.HistogramVec
	dropped      *prometheus.CounterVec
	batchSize    prometheus.Histogram
	batchLatency prometheus.Histogram
	roundTrips   *prometheus.HistogramVec
	refusals     *prometheus.CounterVec
	settleLag    prometheus.Histogram
}

// New returns the metrics, with the Go runtime, the process and the
// database pool db (nil: none) among them.
func New(db *sql.DB) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gavel_http_request_duration_seconds", Help: "HTTP request latency by route (streams excluded).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route", "method", "code"})
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gavel_live_dropped_total", Help: "Live subscribers dropped for falling behind, by kind (sse, ws).",
	}, []string{"kind"})
	m.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "gavel_bid_batch_size", Help: "Bids judged per batch transaction.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	m.batchLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "gavel_bid_batch_duration_seconds", Help: "Time of one bid batch transaction.",
		Buckets: prometheus.ExponentialBuckets(.0005, 2, 14),
	})
	m.roundTrips = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gavel_bid_batch_round_trip_seconds", Help: "One round trip of a bid batch to PostgreSQL, by step (lock, write: the write and COMMIT).",
		Buckets: prometheus.ExponentialBuckets(.0001, 2, 16),
	}, []string{"step"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gavel_bid_refusals_total", Help: "Refused bids by reason.",
	}, []string{"reason"})
	m.settleLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "gavel_settlement_lag_seconds", Help: "Time from an auction's end to its settlement notice.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 300},
	})
	for _, r := range RefusalReasons {
		m.refusals.WithLabelValues(r)
	}
	for _, k := range []string{"sse", "ws"} {
		m.dropped.WithLabelValues(k)
	}
	for _, st := range []string{"lock", "write"} {
		m.roundTrips.WithLabelValues(st)
	}
	m.reg.MustRegister(m.requests, m.dropped, m.batchSize, m.batchLatency, m.roundTrips, m.refusals, m.settleLag,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, "gavel"))
	}
	return m
}

// Request records one answered request.
func (m *Metrics) Request(route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// LiveConnections publishes the open live connections of kind (sse, ws)
// as n reports them at each scrape.
func (m *Metrics) LiveConnections(kind string, n func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gavel_live_connections", Help: "Open live connections by kind.",
		ConstLabels: prometheus.Labels{"kind": kind},
	}, func() float64 { return float64(n()) }))
}

// Dropped records a live subscriber of kind dropped for falling behind.
func (m *Metrics) Dropped(kind string) {
	if m == nil {
		return
	}
	m.dropped.WithLabelValues(kind).Inc()
}

// BidBatch implements Engine.
func (m *Metrics) BidBatch(size int, took time.Duration) {
	if m == nil {
		return
	}
	m.batchSize.Observe(float64(size))
	m.batchLatency.Observe(took.Seconds())
}

// BidRoundTrip implements Engine.
func (m *Metrics) BidRoundTrip(step string, took time.Duration) {
	if m == nil {
		return
	}
	m.roundTrips.WithLabelValues(step).Observe(took.Seconds())
}

// BidRefused implements Engine.
func (m *Metrics) BidRefused(reason string) {
	if m == nil {
		return
	}
	m.refusals.WithLabelValues(reason).Inc()
}

// Settled implements Engine.
func (m *Metrics) Settled(lag time.Duration) {
	if m == nil {
		return
	}
	m.settleLag.Observe(max(lag, 0).Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// DebugHandler serves net/http/pprof under /debug/pprof/.
func DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Serve serves h on ln until ctx ends, then closes it.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx) //nolint:errcheck // best effort at exit
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) && log != nil {
		log.Error("metrics/debug server stopped", "addr", ln.Addr().String(), "err", err)
	}
}
