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
	fixtures "gavel/app/fixture"
)

// Thirty-two bidders and four buyers on one auction with a reserve and a
// Buy It Now price, through two Bidders on two pools (two instances),
// until it ends. Whatever the interleaving, SQL must then show exactly one
// outcome (bought once, or sold or unsold at the end by the reserve), every
// buyer's answer must agree with it, and every invariant must hold. Rounds
// differ in when the buyers start, so both outcomes come up.
func TestConcurrentBiddersAndBuyersOnOneAuctionHaveOneOutcome(t *testing.T) {
	url := dbtest.URL(t)
	f := &fixture{t: t, db: openDB(t, url), ctx: context.Background()}
	second := openDB(t, url)
	bidders := []*auction.Bidder{
		newBidder(t, f.db, auction.BidderOptions{}),
		newBidder(t, second, auction.BidderOptions{}),
	}
	seller := f.user("seller", 0)
	users := make([]int64, 32)
	for i := range users {
		users[i] = f.user(fmt.Sprintf("bidder%02d", i), 100_000_000)
	}
	buyers := make([]int64, 4)
	for i := range buyers {
		balance := int64(100_000_000)
		if i == 3 {
			balance = 20_000 // cannot afford it: always refused for funds (or for its being gone)
		}
		buyers[i] = f.user(fmt.Sprintf("buyer%d", i), balance)
	}
	const start, reserve, buyNow = 1_000, 20_000, 30_000
	outcomes := map[string]int{}
	for round := range 4 {
		id := fixtures.AuctionWithTerms(t, f.db, seller, fmt.Sprintf("round %d", round), start, 2*time.Second, reserve, buyNow)
		// Early buyers race the first bids; late ones come when the
		// reserve is likely met and Buy It Now withdrawn.
		delay := time.Duration(round) * 250 * time.Millisecond
		var bought, buyRefused atomic.Int64
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Go(func() {
				b := bidders[i%2]
				next := int64(start)
				for next <= 100_000 { // then they wait for the end
					amount := next
					if i%4 == 1 {
						amount += int64(rand.IntN(6)) * auction.Increment(next)
					}
					placed, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: u, Amount: amount})
					var ae *auction.Error
					switch {
					case err == nil:
						next = placed.MinNext
					case errors.Is(err, auction.ErrTooLow) && errors.As(err, &ae):
						next = ae.Amount
					case errors.Is(err, auction.ErrBelowStart), errors.Is(err, auction.ErrMaxNotHigher):
					case errors.Is(err, auction.ErrEnded), errors.Is(err, auction.ErrBought):
						return
					default:
						t.Errorf("bidder %d: %v", u, err)
						return
					}
					time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
				}
			})
		}
		for i, u := range buyers {
			wg.Go(func() {
				time.Sleep(delay + time.Duration(rand.IntN(100))*time.Millisecond)
				b := bidders[i%2]
				for {
					p, err := b.BuyNow(f.ctx, id, u, buyNow, "")
					switch {
					case err == nil && p.Result == auction.Bought:
						bought.Add(1)
						return
					case errors.Is(err, auction.ErrInsufficientFunds) && i == 3:
						buyRefused.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					case errors.Is(err, auction.ErrBought), errors.Is(err, auction.ErrBuyGone), errors.Is(err, auction.ErrEnded):
						buyRefused.Add(1)
						return
					default:
						t.Errorf("buyer %d: %+v, %v", u, p, err)
						return
					}
				}
			})
		}
		wg.Wait()
		f.settleWhenDue(id)

		a, _ := auction.Get(f.ctx, f.db, id)
		purchases := f.int64(`SELECT count(*) FROM bids WHERE auction_id = ? AND purchase`, id)
		payments := f.int64(`SELECT count(*) FROM ledger WHERE auction_id = ?`, id)
		var outcome string
		switch {
		case a.EndReason == auction.ReasonBought:
			outcome = "bought"
			if a.Status != auction.StatusSold || a.FinalPrice != buyNow || purchases != 1 || bought.Load() != 1 || payments != 2 {
				t.Errorf("round %d bought: %+v, %d purchase rows, %d answered bought, %d payments", round, a, purchases, bought.Load(), payments)
			}
		case a.Status == auction.StatusSold:
			outcome = "sold at the end"
			if a.FinalPrice < reserve || purchases != 0 || bought.Load() != 0 || payments != 2 {
				t.Errorf("round %d sold: %+v, %d purchase rows, %d answered bought", round, a, purchases, bought.Load())
			}
		case a.Status == auction.StatusUnsold:
			outcome = "unsold"
			if (a.BidCount > 0 && a.EndReason != auction.ReasonReserveNotMet) || purchases != 0 || bought.Load() != 0 || payments != 0 {
				t.Errorf("round %d unsold: %+v", round, a)
			}
		default:
			t.Errorf("round %d: not settled: %+v", round, a)
		}
		outcomes[outcome]++
		t.Logf("round %d: %s at %d after %d bids; %d purchase refusals", round, outcome, a.CurrentPrice, a.BidCount, buyRefused.Load())
	}
	if outcomes["bought"] == 0 {
		t.Error("no round was bought: the buyers never raced the bidders")
	}
	f.checkInvariants()
}
