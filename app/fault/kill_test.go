//go:build !race

package fault_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
)

// submission is one bid a load bidder sent, and how it was answered.
type submission struct {
	bidder   int
	auction  int64
	amount   int64
	msg      string
	key      string // the form's one-time key
	instance string
	sent     time.Time
	outcome  outcome
	kind     string // of an accepted bid: leading, outbid or raised
	status   int
	err      error
}

// loadRun drives bidders against instances until stop: each bidder picks an
// auction and an instance at random, bids a little over the price it last
// heard of, pauses, and again.
type loadRun struct {
	mu    sync.Mutex
	subs  []submission
	hints map[int64]*atomic.Int64 // a recent price per auction
}

func (l *loadRun) run(ctx context.Context, bs []*browser, auctions []int64, targets func() map[string]string, pause time.Duration) {
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				id := auctions[rand.IntN(len(auctions))]
				ts := targets()
				names := make([]string, 0, len(ts))
				for n := range ts {
					names = append(names, n)
				}
				name := names[rand.IntN(len(names))]
				hint := l.hints[id].Load()
				amount := hint + auction.Increment(hint)*int64(1+rand.IntN(3))
				s := submission{bidder: i, auction: id, amount: amount, msg: fmt.Sprintf("b%d-%d", i, seq), key: newKey(),
					instance: name, sent: time.Now()}
				s.outcome, s.status, s.kind, s.err = b.bidKind(ts[name], id, amount, s.msg, s.key)
				if s.kind == "csrf" {
					b.refreshCSRF(ts[name]) //nolint:errcheck // the next bid will tell
				}
				if s.outcome == accepted || s.status == http.StatusConflict {
					// Accepted, or too low: either way the price is near.
					for old := l.hints[id].Load(); old < amount && !l.hints[id].CompareAndSwap(old, amount); old = l.hints[id].Load() {
					}
				}
				l.mu.Lock()
				l.subs = append(l.subs, s)
				l.mu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(pause + rand.N(pause)):
				}
			}
		}()
	}
	wg.Wait()
}

// TestKilledInstanceMidLoadLosesNoAnsweredBid runs 32 bidders against two
// instances and kills one with SIGKILL mid-load, then restarts it. Every
// bid answered "accepted" must be in the database exactly once, every bid
// answered "refused" not at all, a bid whose answer was lost with the
// process at most once; the auctions' rows must agree with their bids (no
// half-written batch), the survivor must have answered every bid, and the
// survivor and the restarted instance must serve and settle every auction.
func TestKilledInstanceMidLoadLosesNoAnsweredBid(t *testing.T) {
	dbURL := dbtest.URL(t)
	bdb := openDB(t, dbURL)
	env := map[string]string{"TRUSTED_PROXIES": "127.0.0.1", "STARTING_BALANCE": "1000000000",
		// Soft close as short as development allows, so that the lots end
		// within the test.
		"SOFT_CLOSE_WINDOW": "1s", "SOFT_CLOSE_CAP": "3s"}
	a := startInstance(t, "a", dbURL, env)
	b := startInstance(t, "b", dbURL, env)
	bidders := loginAll(t, "bidder", 32, 10*time.Second, a.URL, b.URL)

	seller, img := newSeller(t, bdb, "seller")
	const lasts = 12 * time.Second
	var auctions []int64
	load := &loadRun{hints: map[int64]*atomic.Int64{}}
	for i := range 4 {
		id := newAuction(t, bdb, seller, img, fmt.Sprintf("Lot %d", i+1), 10_000, lasts)
		auctions = append(auctions, id)
		load.hints[id] = &atomic.Int64{}
		load.hints[id].Store(10_000)
	}
	listed := time.Now()

	targets := func() map[string]string {
		// The bidders keep sending to b while it is down, as browsers
		// holding its pages would: those bids find no one.
		return map[string]string{"a": a.URL, "b": b.URL}
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		load.run(ctx, bidders, auctions, targets, 60*time.Millisecond)
	}()

	time.Sleep(2 * time.Second)
	killedAt := time.Now()
	b.Kill()
	time.Sleep(time.Second)
	b.Start()
	b.WaitReady(15 * time.Second)
	restartedAt := time.Now()
	t.Logf("killed b %v after the load began; it was ready again %v later", killedAt.Sub(listed).Round(time.Millisecond),
		restartedAt.Sub(killedAt).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	stop()
	<-loadDone
	if left := time.Until(listed.Add(lasts)); left < time.Second {
		t.Fatalf("the load ran too close to the auctions' end (%v left): slow machine?", left)
	}

	// The restarted instance takes bids and serves pages.
	for _, in := range []*instance{a, b} {
		if st := status(in.URL+"/", 5*time.Second); st != http.StatusOK {
			t.Errorf("GET / on %s after the kill: %d", in.Name, st)
		}
	}
	var acceptedOnB, acceptedOnBBefore, lostOnB, acceptedOnA int
	for _, s := range load.subs {
		switch {
		case s.instance == "a" && s.outcome != accepted && s.outcome != refused:
			t.Errorf("the survivor left bid %s unanswered: %d %v", s.msg, s.status, s.err)
		case s.instance == "a" && s.outcome == accepted:
			acceptedOnA++
		case s.instance == "b" && s.outcome == accepted && s.sent.After(restartedAt):
			acceptedOnB++
		case s.instance == "b" && s.outcome == accepted && s.sent.Before(killedAt):
			acceptedOnBBefore++
		case s.instance == "b" && s.outcome == unknown:
			lostOnB++
		}
	}
	t.Logf("%d bids sent: %d accepted on a, %d on b before the kill, %d on b after its restart; %d unanswered by b",
		len(load.subs), acceptedOnA, acceptedOnBBefore, acceptedOnB, lostOnB)
	if acceptedOnBBefore == 0 || acceptedOnB == 0 || acceptedOnA == 0 {
		t.Fatalf("the load did not run on both instances around the kill")
	}
	if lostOnB == 0 {
		t.Fatalf("no bid was sent to b while it was down: the kill was not mid-load")
	}
	checkSubmissions(t, bdb, load.subs)
	// A browser retries what got no answer, with the same key.
	load.retryUnanswered(t, bidders, a.URL)
	checkSubmissions(t, bdb, load.subs)
	checkAuctions(t, bdb, auctions)

	// Settlement: the instances (either one) close every auction once,
	// within seconds of its end (which soft close may have moved).
	var untilEnd float64
	if err := bdb.QueryRow(`SELECT extract(epoch FROM max(ends_at) - now()) FROM auctions`).Scan(&untilEnd); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(time.Duration(untilEnd*float64(time.Second))+10*time.Second, func() bool {
		var open int
		bdb.QueryRow(`SELECT count(*) FROM auctions WHERE status = 'open'`).Scan(&open)
		return open == 0
	}) {
		t.Fatalf("auctions still open 10 s after their end")
	}
	checkSettled(t, bdb, auctions)
}

// retryUnanswered sends each unanswered bid again with its one-time key,
// as a browser's retry does, and takes the new answer as its outcome. A bid
// that had committed must be answered as the first time (accepted, nothing
// placed twice); one that had not is judged now. checkSubmissions then
// holds the answers against the database as usual.
func (l *loadRun) retryUnanswered(t testing.TB, bs []*browser, base string) {
	t.Helper()
	var retried, placed int
	for i := range l.subs {
		s := &l.subs[i]
		if s.outcome != unknown {
			continue
		}
		retried++
		out, st, kind, err := bs[s.bidder].bidKind(base, s.auction, s.amount, s.msg, s.key)
		if kind == "csrf" {
			// The page's token is stale: reload it, as the page says.
			if err := bs[s.bidder].refreshCSRF(base); err != nil {
				t.Fatal(err)
			}
			out, st, kind, err = bs[s.bidder].bidKind(base, s.auction, s.amount, s.msg, s.key)
		}
		// The first request after the outage may still meet a pooled
		// connection that was killed during it (503): a person tries
		// again, and so does this, twice at most.
		for try := 0; out == unknown && st == http.StatusServiceUnavailable && try < 2; try++ {
			time.Sleep(200 * time.Millisecond)
			out, st, kind, err = bs[s.bidder].bidKind(base, s.auction, s.amount, s.msg, s.key)
		}
		if out == unknown {
			t.Errorf("retry of bid %s: still no answer: %d %v", s.msg, st, err)
			continue
		}
		if out == accepted {
			placed++
		}
		s.outcome, s.status, s.kind, s.err = out, st, kind, nil
	}
	t.Logf("retried %d unanswered bids with their keys: %d accepted", retried, placed)
}

// checkSubmissions holds every answer against the database. Every bid is
// a maximum: one answered "leading" or "outbid" has exactly one row of its
// own (its message, not automatic), one answered "raised" (the leader's
// maximum rose) none; a refused bid has none; an unanswered one at most
// one. Each bidder's stored maximum on an auction is the highest they had
// accepted, or a higher one whose answer was lost; never a refused one.
// Every row is a sent bid or an automatic one.
func checkSubmissions(t testing.TB, bdb *bun.DB, subs []submission) {
	t.Helper()
	rows, err := bdb.Query(`SELECT message, auto, count(*) FROM bids GROUP BY message, auto`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var msg string
		var auto bool
		var n int
		if err := rows.Scan(&msg, &auto, &n); err != nil {
			t.Fatal(err)
		}
		if auto != (msg == "") {
			t.Errorf("%d rows with message %q and auto %v", n, msg, auto)
		}
		if !auto {
			stored[msg] += n
		}
	}
	rows.Close()
	type key struct {
		auction int64
		bidder  int
	}
	maxima := map[key]int64{} // as stored, by our bidder index
	rows, err = bdb.Query(`SELECT m.auction_id, m.amount, u.nick FROM maximums m JOIN users u ON u.id = m.bidder_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var auctionID, amount int64
		var nick string
		if err := rows.Scan(&auctionID, &amount, &nick); err != nil {
			t.Fatal(err)
		}
		var i int
		if _, err := fmt.Sscanf(nick, "bidder%d", &i); err != nil {
			t.Errorf("a maximum of %q, who never bid", nick)
			continue
		}
		maxima[key{auctionID, i - 1}] = amount
	}
	rows.Close()

	sent := map[string]bool{}
	highest := map[key]int64{}           // the highest accepted maximum
	possible := map[key]map[int64]bool{} // amounts the stored maximum may be
	var unknownStored, unknownGone int
	for _, s := range subs {
		sent[s.msg] = true
		k := key{s.auction, s.bidder}
		if possible[k] == nil {
			possible[k] = map[int64]bool{}
		}
		n := stored[s.msg]
		switch s.outcome {
		case accepted:
			want := 1
			if s.kind == "raised" {
				want = 0
			}
			if n != want {
				t.Errorf("bid %s (%d on %s) was answered accepted (%s) but has %d rows", s.msg, s.amount, s.instance, s.kind, n)
			}
			highest[k] = max(highest[k], s.amount)
			possible[k][s.amount] = true
		case refused:
			if n != 0 {
				t.Errorf("bid %s (%d on %s) was answered %d (refused) but has %d rows", s.msg, s.amount, s.instance, s.status, n)
			}
		default:
			if n > 1 {
				t.Errorf("unanswered bid %s has %d rows", s.msg, n)
			}
			if n == 1 {
				unknownStored++
			} else {
				unknownGone++
			}
			possible[k][s.amount] = true
		}
	}
	for msg := range stored {
		if !sent[msg] {
			t.Errorf("a bid row %q that nobody sent", msg)
		}
	}
	for k, got := range maxima {
		if got < highest[k] || !possible[k][got] {
			t.Errorf("bidder%d's maximum on auction %d is %d; the highest accepted was %d", k.bidder+1, k.auction, got, highest[k])
		}
	}
	for k, h := range highest {
		if maxima[k] == 0 {
			t.Errorf("bidder%d's accepted maximum %d on auction %d is not stored", k.bidder+1, h, k.auction)
		}
	}
	t.Logf("unanswered bids: %d with a row, %d without", unknownStored, unknownGone)
}

// checkAuctions holds each auction's row against its bids: count, price and
// leader are the last row's, amounts never fall, and the leader's maximum
// is the stored one and covers the price.
func checkAuctions(t testing.TB, bdb *bun.DB, auctions []int64) {
	t.Helper()
	for _, id := range auctions {
		var count, rows int
		var price, leader, lastAmount, lastBidder int64
		var rising, maxOK bool
		err := bdb.QueryRow(`SELECT a.bid_count, a.current_price, COALESCE(a.leader_id, 0),
			(SELECT count(*) FROM bids WHERE auction_id = a.id),
			COALESCE((SELECT amount FROM bids WHERE auction_id = a.id ORDER BY id DESC LIMIT 1), 0),
			COALESCE((SELECT bidder_id FROM bids WHERE auction_id = a.id ORDER BY id DESC LIMIT 1), 0),
			NOT EXISTS (SELECT 1 FROM (SELECT amount - lag(amount) OVER (ORDER BY id) AS d FROM bids WHERE auction_id = a.id) x WHERE d < 0),
			a.leader_id IS NULL OR (a.leader_max >= a.current_price
				AND a.leader_max = (SELECT amount FROM maximums WHERE auction_id = a.id AND bidder_id = a.leader_id))
			FROM auctions a WHERE a.id = ?`, id).Scan(&count, &price, &leader, &rows, &lastAmount, &lastBidder, &rising, &maxOK)
		if err != nil {
			t.Fatal(err)
		}
		if count != rows || (rows > 0 && (price != lastAmount || leader != lastBidder)) || !rising || !maxOK {
			t.Errorf("auction %d: bid_count %d, price %d, leader %d; but %d rows, last %d by %d, rising %v, leader's maximum right %v",
				id, count, price, leader, rows, lastAmount, lastBidder, rising, maxOK)
		}
		if rows == 0 {
			t.Errorf("auction %d got no bid at all", id)
		}
	}
}

// checkSettled: each auction sold once to its leader at its price, money
// moved by exactly one purchase and one sale row, and every balance is the
// sum of its ledger rows.
func checkSettled(t testing.TB, bdb *bun.DB, auctions []int64) {
	t.Helper()
	for _, id := range auctions {
		var status string
		var ok bool
		err := bdb.QueryRow(`SELECT a.status,
			a.winner_id = a.leader_id AND a.final_price = a.current_price
			AND (SELECT count(*) FROM ledger WHERE auction_id = a.id AND kind = 'purchase' AND user_id = a.winner_id AND amount = -a.final_price) = 1
			AND (SELECT count(*) FROM ledger WHERE auction_id = a.id AND kind = 'sale' AND user_id = a.seller_id AND amount = a.final_price) = 1
			AND (SELECT count(*) FROM ledger WHERE auction_id = a.id) = 2
			FROM auctions a WHERE a.id = ?`, id).Scan(&status, &ok)
		if err != nil {
			t.Fatal(err)
		}
		if status != "sold" || !ok {
			t.Errorf("auction %d: %s, settled correctly: %v", id, status, ok)
		}
	}
	var off int
	if err := bdb.QueryRow(`SELECT count(*) FROM users u WHERE balance <> (SELECT COALESCE(sum(amount), 0) FROM ledger WHERE user_id = u.id)`).Scan(&off); err != nil {
		t.Fatal(err)
	}
	if off != 0 {
		t.Errorf("%d users' balances differ from their ledger", off)
	}
}
