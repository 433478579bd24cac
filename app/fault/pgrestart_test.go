//go:build !race

package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gavel/app/db"
	"gavel/app/db/pglocal"
	"gavel/app/live"
	"gavel/views"
)

// privatePostgres starts a PostgreSQL server of the test's own, which it
// may stop and start again: Start on the same directory reuses the cluster
// and its socket path, so the URL stays the same.
func privatePostgres(t testing.TB) (first *pglocal.Server, start func() *pglocal.Server) {
	t.Helper()
	dir, err := os.MkdirTemp("", "gavel-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	// The server runs as the postgres user when we are root.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var last *pglocal.Server
	start = func() *pglocal.Server {
		t.Helper()
		pg, err := pglocal.Start(context.Background(), pglocal.Options{Dir: filepath.Join(dir, "pg"), Database: "gavel",
			Settings: map[string]string{"fsync": "off"}})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		last = pg
		mu.Unlock()
		return pg
	}
	first = start()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		last.Stop()
		os.RemoveAll(dir)
	})
	return first, start
}

// TestPostgresRestartUnderLoadIsReportedAnsweredAndRecovered stops the
// database (a fast shutdown, as a restart or failover does) under eight
// bidders and two instances with open pages, keeps it down two seconds and
// starts it again. While it is down the instances say so: /readyz 503
// within 2 s, /healthz still 200, pages and bids answered 503 at once,
// never a hang. Within seconds of its return they serve again, take bids,
// their LISTEN connections are back (a new bid reaches the sockets opened
// before the outage), each open page has every row (none missed while the
// database was away) and no answered bid is lost or invented.
func TestPostgresRestartUnderLoadIsReportedAnsweredAndRecovered(t *testing.T) {
	pg, startPG := privatePostgres(t)
	dbURL := pg.URL("gavel")
	bdb := openDB(t, dbURL)
	if _, err := db.Up(context.Background(), bdb); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRUSTED_PROXIES": "127.0.0.1", "STARTING_BALANCE": "1000000000"}
	a := startInstance(t, "a", dbURL, env)
	b := startInstance(t, "b", dbURL, env)
	ins := []*instance{a, b}
	bidders := loginAll(t, "bidder", 8, 10*time.Second, a.URL, b.URL)
	seller, img := newSeller(t, bdb, "seller")
	lot := newAuction(t, bdb, seller, img, "Lot", 10_000, time.Minute)
	other := newAuction(t, bdb, seller, img, "Other lot", 10_000, time.Minute)

	var sockets []*wsClient
	var streams []*sseStream
	for _, in := range ins {
		ws, err := dialSocket(t, in.URL, in.URL, lot, nil)
		if err != nil {
			t.Fatalf("socket on %s: %v", in.Name, err)
		}
		sockets = append(sockets, ws)
		s, err := openEvents(t, in.URL+"/events?auctions="+strconv.FormatInt(lot, 10))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.next(views.CountdownEvent(lot), 3*time.Second); err != nil {
			t.Fatalf("countdown on %s: %v", in.Name, err)
		}
		streams = append(streams, s)
	}

	load := &loadRun{hints: map[int64]*atomic.Int64{}}
	for _, id := range []int64{lot, other} {
		load.hints[id] = &atomic.Int64{}
		load.hints[id].Store(10_000)
	}
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		load.run(ctx, bidders, []int64{lot, other}, func() map[string]string { return map[string]string{"a": a.URL, "b": b.URL} },
			50*time.Millisecond)
	}()
	time.Sleep(1500 * time.Millisecond)

	// Down.
	stoppedAt := time.Now()
	notReady := make(chan string, len(ins))
	for _, in := range ins {
		go func() {
			for time.Since(stoppedAt) < 5*time.Second {
				if status(in.URL+"/readyz", time.Second) == http.StatusServiceUnavailable {
					notReady <- fmt.Sprintf("%s %v", in.Name, time.Since(stoppedAt).Round(time.Millisecond))
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			notReady <- in.Name + " never"
		}()
	}
	if err := pg.Stop(); err != nil {
		t.Logf("stop postgres: %v", err)
	}
	down := time.Now()
	t.Logf("postgres stopped in %v", down.Sub(stoppedAt).Round(time.Millisecond))
	for range ins {
		r := <-notReady
		t.Logf("/readyz 503: %s", r)
		var name string
		var took time.Duration
		if _, err := fmt.Sscanf(r, "%s %v", &name, &took); err != nil || took > 2*time.Second {
			t.Errorf("/readyz not 503 within 2 s of the stop: %s", r)
		}
	}
	for _, in := range ins {
		if st := status(in.URL+"/healthz", time.Second); st != http.StatusOK {
			t.Errorf("/healthz on %s with the database down: %d, want 200", in.Name, st)
		}
		for _, path := range []string{"/", "/auctions/" + strconv.FormatInt(lot, 10)} {
			began := time.Now()
			st := status(in.URL+path, 5*time.Second)
			if took := time.Since(began); st != http.StatusServiceUnavailable || took > time.Second {
				t.Errorf("GET %s on %s with the database down: %d after %v, want 503 within 1 s", path, in.Name, st, took.Round(time.Millisecond))
			}
		}
	}
	time.Sleep(2*time.Second - time.Since(down))

	// Up again.
	restartAt := time.Now()
	startPG()
	upAt := time.Now()
	t.Logf("postgres down %v, started again in %v", upAt.Sub(stoppedAt).Round(time.Millisecond), upAt.Sub(restartAt).Round(time.Millisecond))
	for _, in := range ins {
		if !waitUntil(5*time.Second, func() bool { return status(in.URL+"/readyz", time.Second) == http.StatusOK }) {
			t.Errorf("%s not ready 5 s after the database came back", in.Name)
		}
	}
	readyIn := time.Since(upAt)
	// Bids are accepted again on both (the load keeps bidding).
	if !waitUntil(5*time.Second, func() bool {
		load.mu.Lock()
		defer load.mu.Unlock()
		got := map[string]bool{}
		for _, s := range load.subs {
			if s.outcome == accepted && s.sent.After(upAt) {
				got[s.instance] = true
			}
		}
		return got["a"] && got["b"]
	}) {
		t.Errorf("no bid accepted on both instances within 5 s of the database's return")
	}
	t.Logf("ready again %v after the database, accepting bids %v after", readyIn.Round(time.Millisecond), time.Since(upAt).Round(time.Millisecond))
	time.Sleep(time.Second)
	stopLoad()
	<-loadDone

	// Answers during the outage: each bid was answered, and clearly.
	var during, unavailable int
	for _, s := range load.subs {
		if s.sent.Before(stoppedAt) || s.sent.After(upAt) {
			continue
		}
		during++
		switch {
		case s.err != nil:
			t.Errorf("bid %s sent to %s during the outage: no answer: %v", s.msg, s.instance, s.err)
		case s.status == http.StatusServiceUnavailable:
			unavailable++
		case s.outcome == unknown:
			t.Errorf("bid %s sent to %s during the outage: answered %d", s.msg, s.instance, s.status)
		}
	}
	t.Logf("%d bids sent during the outage, %d answered 503", during, unavailable)
	if unavailable == 0 {
		t.Errorf("no bid was answered 503 during the outage: the load did not run through it")
	}
	checkSubmissions(t, bdb, load.subs)
	// A browser retries what got no answer, with the same key.
	load.retryUnanswered(t, bidders, a.URL)
	checkSubmissions(t, bdb, load.subs)
	checkAuctions(t, bdb, []int64{lot, other})

	// LISTEN is back: a bid committed now reaches the pages opened before
	// the outage, on both instances.
	var last int64
	for _, s := range load.subs {
		if s.auction == lot && s.outcome == accepted {
			last = max(last, s.amount)
		}
	}
	outcome, st, err := bidders[0].bid(a.URL, lot, last+1_000_000, "after the restart")
	if outcome != accepted {
		// bidder 0 may be leading already; another one is not.
		outcome, st, err = bidders[1].bid(a.URL, lot, last+2_000_000, "after the restart")
	}
	if outcome != accepted {
		t.Fatalf("a bid after the restart: %v %d %v", outcome, st, err)
	}
	var newest int64
	if err := bdb.QueryRow(`SELECT max(id) FROM bids WHERE auction_id = ?`, lot).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	for i, ws := range sockets {
		if !waitUntil(2*time.Second, func() bool { _, ok := ws.sawAt(newest); return ok }) {
			t.Errorf("the socket opened on %s before the outage did not get the bid after it (closed with %d)", ins[i].Name, ws.closeCode())
		}
	}
	// Every page shows the lot's newest rows, with none missing: those
	// committed while its instance's LISTEN connection was down come with
	// the resync after it reconnects.
	for i, ws := range sockets {
		ws.checkTable(t, ins[i].Name, bdb, lot, live.MaxRows)
	}
	for i, s := range streams {
		if err := s.next(views.CountdownEvent(lot), 3*time.Second); err != nil {
			t.Errorf("countdown stream on %s after the outage: %v", ins[i].Name, err)
		}
	}
}
