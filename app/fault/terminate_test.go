//go:build !race

package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"gavel/app/db/dbtest"
)

// TestBidsAreAnsweredTruthfullyWhileTheirConnectionsAreKilled runs sixteen
// bidders on two instances while the database kills the instances'
// connections (pg_terminate_backend) every few milliseconds, bid batches
// and COMMITs included: the review's "ambiguous COMMIT" (a connection lost
// after the server committed). No bid that committed may be answered
// "refused", none answered "accepted" may be missing, and a bid whose fate
// the instance could not learn must say so (503), not 500.
//
// Not checked yet: that a committed bid is never answered 503. Today some
// are (the bid committed, then the page's re-read of the room lost its
// connection; see the log of how many "unanswered" bids have a row), which
// issue #11 finding 2 is to fix.
func TestBidsAreAnsweredTruthfullyWhileTheirConnectionsAreKilled(t *testing.T) {
	dbURL := dbtest.URL(t)
	bdb := openDB(t, dbURL)
	env := map[string]string{"TRUSTED_PROXIES": "127.0.0.1", "STARTING_BALANCE": "1000000000"}
	a := startInstance(t, "a", dbURL, env)
	b := startInstance(t, "b", dbURL, env)
	bidders := loginAll(t, "bidder", 16, 15*time.Second, a.URL, b.URL)
	seller, img := newSeller(t, bdb, "seller")
	var lots []int64
	load := &loadRun{hints: map[int64]*atomic.Int64{}}
	for i := range 2 {
		id := newAuction(t, bdb, seller, img, fmt.Sprintf("Lot %d", i+1), 10_000, time.Minute)
		lots = append(lots, id)
		load.hints[id] = &atomic.Int64{}
		load.hints[id].Store(10_000)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	killed := make(chan int)
	go func() {
		n := 0
		defer func() { killed <- n }()
		for ctx.Err() == nil {
			var k int
			// Every connection of this database but ours and the
			// listeners', whatever it is doing.
			err := bdb.QueryRow(`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name NOT LIKE 'gavel-live%') x`).Scan(&k)
			if err == nil {
				n += k
			}
			time.Sleep(60 * time.Millisecond)
		}
	}()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		load.run(ctx, bidders, lots, func() map[string]string { return map[string]string{"a": a.URL, "b": b.URL} }, 30*time.Millisecond)
	}()
	time.Sleep(5 * time.Second)
	stop()
	<-loadDone
	n := <-killed

	var ok, no, unavailable, other int
	for _, s := range load.subs {
		switch {
		case s.outcome == accepted:
			ok++
		case s.outcome == refused:
			no++
		case s.status == http.StatusServiceUnavailable:
			unavailable++
		default:
			other++
			t.Errorf("bid %s on %s: answered %d %v: neither an outcome nor 503", s.msg, s.instance, s.status, s.err)
		}
	}
	t.Logf("%d connections killed; %d bids: %d accepted, %d refused, %d answered 503", n, len(load.subs), ok, no, unavailable)
	if n == 0 || unavailable == 0 {
		t.Errorf("no connection was killed under a bid: the test did not test")
	}
	checkSubmissions(t, bdb, load.subs)
	checkAuctions(t, bdb, lots)
}
