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
// on two connection pools (two instances of the site), each bidding the
// minimum it last saw and sometimes jumping: every invariant must hold.
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

	var accepted, refused atomic.Int64
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
			next := int64(1_000)
			for bidding() {
				amount := next
				if rand.IntN(10) == 0 {
					amount += int64(rand.IntN(5)) * auction.Increment(next)
				}
				bid, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: u, Amount: amount, Message: "go"})
				var ae *auction.Error
				switch {
				case err == nil:
					accepted.Add(1)
					next = bid.Amount + auction.Increment(bid.Amount)
				case errors.Is(err, auction.ErrTooLow) && errors.As(err, &ae):
					refused.Add(1)
					next = ae.Amount
				case errors.Is(err, auction.ErrAlreadyLeading):
					refused.Add(1)
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
	t.Logf("accepted %d bids, refused %d", accepted.Load(), refused.Load())
	if accepted.Load() < 100 {
		t.Errorf("only %d bids accepted in 30 s", accepted.Load())
	}
	if s := f.snap(id); s.count != accepted.Load() || s.bids != accepted.Load() {
		t.Errorf("accepted %d, auction says %+v", accepted.Load(), s)
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
