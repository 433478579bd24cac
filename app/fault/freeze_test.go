//go:build !race

package fault_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"gavel/app/db"
)

// TestFrozenDatabaseIsReportedAndAnsweredNotWaitedFor freezes the database
// (SIGSTOP to every Postgres process: connections stay open and nothing
// answers, as with a host that hangs or a network that drops packets).
// /readyz says 503 within 2 s, /healthz stays 200, and pages and bids are
// answered 503 within the request deadline instead of waiting for the
// database; once it thaws, everything serves again and a new bid reaches
// the page opened before.
func TestFrozenDatabaseIsReportedAndAnsweredNotWaitedFor(t *testing.T) {
	pg, _ := privatePostgres(t)
	dbURL := pg.URL("gavel")
	bdb := openDB(t, dbURL)
	if _, err := db.Up(context.Background(), bdb); err != nil {
		t.Fatal(err)
	}
	a := startInstance(t, "a", dbURL, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	bidders := loginAll(t, "bidder", 2, 30*time.Second, a.URL)
	seller, img := newSeller(t, bdb, "seller")
	lot := newAuction(t, bdb, seller, img, "Lot", 10_000, time.Minute)
	room := "/auctions/" + strconv.FormatInt(lot, 10)
	ws, err := dialSocket(t, a.URL, a.URL, lot, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, st, err := bidders[0].bid(a.URL, lot, 10_000, "before"); out != accepted {
		t.Fatalf("bid before the freeze: %v %d %v", out, st, err)
	}

	var thawOnce sync.Once
	thaw := func() {
		thawOnce.Do(func() {
			if err := pg.Thaw(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(thaw) // or the cleanup's Stop would wait on a stopped server
	frozenAt := time.Now()
	if err := pg.Freeze(); err != nil {
		t.Fatal(err)
	}
	// Each check runs at once, as requests arriving during the freeze do.
	const answerWithin = 8 * time.Second // the request deadline, and some
	var wg sync.WaitGroup
	check := func(what string, within time.Duration, want int, do func() int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			got := do()
			took := time.Since(began)
			t.Logf("%s during the freeze: %d after %v", what, got, took.Round(time.Millisecond))
			if got != want || took > within {
				t.Errorf("%s during the freeze: %d after %v, want %d within %v", what, got, took.Round(time.Millisecond), want, within)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	check("/readyz", 2*time.Second, http.StatusServiceUnavailable, func() int { return status(a.URL+"/readyz", 10*time.Second) })
	check("/healthz", time.Second, http.StatusOK, func() int { return status(a.URL+"/healthz", 10*time.Second) })
	check("GET the room", answerWithin, http.StatusServiceUnavailable, func() int { return status(a.URL+room, 30*time.Second) })
	check("GET my bids", answerWithin, http.StatusServiceUnavailable, func() int {
		resp, _, err := bidders[1].get(a.URL, "/me/bids")
		if err != nil {
			return 0
		}
		return resp.StatusCode
	})
	check("a bid", answerWithin, http.StatusServiceUnavailable, func() int {
		_, st, _ := bidders[1].bid(a.URL, lot, 20_000, "frozen")
		return st
	})
	wg.Wait()
	t.Logf("frozen for %v", time.Since(frozenAt).Round(time.Millisecond))
	thaw()

	if !waitUntil(5*time.Second, func() bool { return status(a.URL+"/readyz", time.Second) == http.StatusOK }) {
		t.Fatal("not ready 5 s after the database thawed")
	}
	if st := status(a.URL+room, 5*time.Second); st != http.StatusOK {
		t.Errorf("GET the room after the thaw: %d", st)
	}
	var out outcome
	var st int
	if !waitUntil(5*time.Second, func() bool {
		out, st, err = bidders[1].bid(a.URL, lot, 30_000, "after")
		return out == accepted
	}) {
		t.Fatalf("no bid accepted after the thaw: %v %d %v", out, st, err)
	}
	var newest int64
	if err := bdb.QueryRow(`SELECT max(id) FROM bids WHERE auction_id = ?`, lot).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(2*time.Second, func() bool { _, ok := ws.sawAt(newest); return ok }) {
		t.Errorf("the page opened before the freeze did not get the bid after it (socket closed with %d)", ws.closeCode())
	}
	var frozenRows int
	bdb.QueryRow(`SELECT count(*) FROM bids WHERE message = 'frozen'`).Scan(&frozenRows)
	if frozenRows != 0 {
		t.Errorf("the bid answered 503 during the freeze is in the table")
	}
}
