package auction_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
)

// Thirty-two bidders on one auction for three seconds, through two Bidders
// on two connection pools (two instances of the site): half bid the
// minimum they last saw and sometimes jump, half submit maximums well above
// it and raise them now and then. Every invariant must hold.
func TestConcurrentBiddersOnOneAuctionKeepEveryInvariant(t *testing.T) {
	url := dbtest.URL(t)
	f := &fixture{t: t, db: openDB(t, url), ctx: context.Background()}
	second := openDB(t, url)
	bidders := []*auction.Bidder{
		newBidder(t, f.db, auction.BidderOptions{}),
		newBidder(t, second, auction.BidderOptions{}),
	}
	seller := f.user("seller", 0)
	id := f.auction(seller, 1_000)
	users := make([]int64, 32)
	for i := range users {
		users[i] = f.user(fmt.Sprintf("bidder%02d", i), 100_000_000_000)
	}
	// The seller tries too: always refused.
	users = append(users, seller)

	var accepted, refused, rows atomic.Int64
	// Three seconds of contention, longer while a loaded machine (or
	// -race) has not committed 100 bids yet: this checks progress and
	// invariants; speed is the benchmarks' business.
	deadline, limit := time.Now().Add(3*time.Second), time.Now().Add(30*time.Second)
	bidding := func() bool {
		now := time.Now()
		return now.Before(deadline) || (accepted.Load() < 100 && now.Before(limit))
	}
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			b := bidders[i%2]
			next, mine := int64(1_000), int64(0)
			proxy := i%2 == 1
			for bidding() {
				amount := next
				switch {
				case proxy && mine > 0 && rand.IntN(3) == 0:
					amount = mine + int64(1+rand.IntN(3))*auction.Increment(mine) // raise
				case proxy:
					amount += int64(rand.IntN(20)) * auction.Increment(next)
				case rand.IntN(10) == 0:
					amount += int64(rand.IntN(5)) * auction.Increment(next)
				}
				placed, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: u, Amount: amount, Message: "go"})
				var ae *auction.Error
				switch {
				case err == nil:
					accepted.Add(1)
					rows.Add(int64(len(placed.Bids)))
					next, mine = placed.MinNext, amount
					if placed.Result == auction.Outbid {
						mine = 0
					}
				case (errors.Is(err, auction.ErrTooLow) || errors.Is(err, auction.ErrMaxNotHigher)) && errors.As(err, &ae):
					refused.Add(1)
					if errors.Is(err, auction.ErrTooLow) {
						next, mine = ae.Amount, 0
					}
					time.Sleep(time.Millisecond)
				case errors.Is(err, auction.ErrOwnAuction) && u == seller:
					time.Sleep(time.Millisecond)
				default:
					t.Errorf("bidder %d: %v", u, err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("accepted %d submissions (%d rows), refused %d", accepted.Load(), rows.Load(), refused.Load())
	if accepted.Load() < 100 {
		t.Errorf("only %d bids accepted in 30 s", accepted.Load())
	}
	if s := f.snap(id); s.count != rows.Load() || s.bids != rows.Load() {
		t.Errorf("accepted %d rows, auction says %+v", rows.Load(), s)
	}
	if n := f.int64(`SELECT count(*) FROM bids WHERE auto AND auction_id = ?`, id); n == 0 {
		t.Error("no automatic bid was placed: the maximums did not compete")
	}
	f.checkInvariants()
}

// One bidder bids at once on five auctions with a balance that covers two:
// at most two of those bids may stand.
func TestFundsCoverOnlySomeAuctionsUnderConcurrentBids(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	for round := range 10 {
		bidder := f.user(fmt.Sprintf("rich%d", round), 250_000)
		ids := make([]int64, 5)
		for i := range ids {
			ids[i] = f.auction(seller, 100_000)
		}
		var ok atomic.Int64
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				_, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bidder, Amount: 100_000})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, auction.ErrInsufficientFunds):
				default:
					t.Errorf("unexpected: %v", err)
				}
			})
		}
		wg.Wait()
		leads := f.int64(`SELECT count(*) FROM auctions WHERE leader_id = ? AND status = 'open'`, bidder)
		if ok.Load() != 2 || leads != 2 {
			t.Errorf("round %d: %d bids accepted, leading %d auctions; the balance covers 2", round, ok.Load(), leads)
		}
	}
	f.checkInvariants()
}
