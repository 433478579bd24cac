package auction_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
)

func TestSweeperSettlesWhatEndedWhileNoneRanExactlyOnce(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	alice := f.user("alice", 500_000)
	bob := f.user("bob", 500_000)
	sold := f.endedAuction(seller, 10_000, []int64{alice, bob}, 10_000, 20_000, 30_000) // alice, bob, alice
	unsold := f.endedAuction(seller, 10_000, nil)
	running := f.auction(seller, 10_000)

	s := auction.NewSweeper(f.db, nil)
	n, err := s.SettleDue(f.ctx)
	if err != nil || n != 2 {
		t.Fatalf("SettleDue = %d, %v; want 2 settled", n, err)
	}
	check := func() {
		t.Helper()
		a, _ := auction.Get(f.ctx, f.db, sold)
		if a.Status != auction.StatusSold || a.WinnerID != alice || a.Winner != "alice" || a.FinalPrice != 30_000 || a.SettledAt.IsZero() {
			t.Errorf("sold auction: %+v", a)
		}
		u, _ := auction.Get(f.ctx, f.db, unsold)
		if u.Status != auction.StatusUnsold || u.WinnerID != 0 || u.SettledAt.IsZero() {
			t.Errorf("unsold auction: %+v", u)
		}
		r, _ := auction.Get(f.ctx, f.db, running)
		if r.Status != auction.StatusOpen {
			t.Errorf("running auction was settled: %+v", r)
		}
		for user, want := range map[int64]int64{alice: 470_000, bob: 500_000, seller: 30_000} {
			if got := f.int64(`SELECT balance FROM users WHERE id = ?`, user); got != want {
				t.Errorf("user %d balance %d, want %d", user, got, want)
			}
		}
		if n := f.int64(`SELECT count(*) FROM ledger WHERE auction_id IS NOT NULL`); n != 2 {
			t.Errorf("%d settlement ledger rows, want 2", n)
		}
	}
	check()
	// Another instance starting later finds nothing to do.
	if n, err := auction.NewSweeper(f.db, nil).SettleDue(f.ctx); err != nil || n != 0 {
		t.Errorf("second sweep settled %d (%v)", n, err)
	}
	check()
	f.checkInvariants()
}

func TestTwoSweepersRacingSettleEachAuctionOnce(t *testing.T) {
	url := dbtest.URL(t)
	f := &fixture{t: t, db: openDB(t, url), ctx: context.Background()}
	seller := f.user("seller", 0)
	bidders := make([]int64, 5)
	for i := range bidders {
		bidders[i] = f.user(fmt.Sprintf("bidder%d", i), 10_000_000)
	}
	for i := range 50 {
		if i%5 == 0 {
			f.endedAuction(seller, 1_000, nil)
			continue
		}
		f.endedAuction(seller, 1_000, []int64{bidders[i%5], bidders[(i+1)%5]}, 1_000, int64(2_000+i*100))
	}
	sweepers := []*auction.Sweeper{auction.NewSweeper(f.db, nil), auction.NewSweeper(openDB(t, url), nil)}
	counts := make([]int, 2)
	var wg sync.WaitGroup
	for i, s := range sweepers {
		wg.Go(func() {
			n, err := s.SettleDue(f.ctx)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	t.Logf("sweepers settled %v", counts)
	if counts[0]+counts[1] != 50 {
		t.Errorf("settled %v, want 50 in all", counts)
	}
	if n := f.int64(`SELECT count(*) FROM auctions WHERE status = 'open'`); n != 0 {
		t.Errorf("%d auctions left open", n)
	}
	if n := f.int64(`SELECT count(*) FROM ledger WHERE auction_id IS NOT NULL`); n != 80 {
		t.Errorf("%d settlement ledger rows, want 80 (40 sold × 2)", n)
	}
	if n := f.int64(`SELECT count(*) FROM auctions WHERE status = 'unsold'`); n != 10 {
		t.Errorf("%d unsold, want 10", n)
	}
	f.checkInvariants()
}

func TestSweeperClosesAnAuctionWithinASecondOfItsEnd(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 100_000)
	id, err := auction.Create(f.ctx, f.db, auction.CreateInput{
		SellerID: seller, Title: "quick", StartPrice: 1_000, Duration: 1500 * time.Millisecond, ImageID: f.image(seller),
	}, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 1_000}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error)
	s := auction.NewSweeper(f.db, nil)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		a, err := auction.Get(f.ctx, f.db, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != auction.StatusOpen {
			if late := a.SettledAt.Sub(a.EndsAt); late < 0 || late > time.Second {
				t.Errorf("settled %v after the end", late)
			}
			if a.Status != auction.StatusSold || a.WinnerID != alice {
				t.Errorf("settled as %+v", a)
			}
			_, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: f.user("late", 100_000), Amount: 50_000})
			refusal(t, err, auction.ErrEnded)
			f.checkInvariants()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the auction was not settled within 5 s")
}

// A batch that judged a bid just before the end, and holds the auction's
// lock across that end, extends it: the sweeper, running all the while,
// must not settle the auction meanwhile or after.
func TestSweeperNeverSettlesAnAuctionABatchIsExtending(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	id := f.auction(seller, 1_000)
	f.exec(`UPDATE auctions SET ends_at = now() + interval '1500 milliseconds', scheduled_end = now() + interval '1500 milliseconds' WHERE id = ?`, id)
	b := newBidder(t, f.db, auction.BidderOptions{SoftClose: auction.SoftClose{Window: 10 * time.Second, Cap: time.Minute}})
	var oldEnd time.Time
	if err := f.db.QueryRowContext(f.ctx, `SELECT ends_at FROM auctions WHERE id = ?`, id).Scan(&oldEnd); err != nil {
		t.Fatal(err)
	}
	auction.HoldBeforeWrite(b, func() {
		// Past the old end, as measured by the database's clock.
		for {
			var past bool
			if err := f.db.QueryRowContext(f.ctx, `SELECT clock_timestamp() > ? + interval '300 milliseconds'`, oldEnd).Scan(&past); err != nil || past {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	sweeper := auction.NewSweeper(f.db, nil)
	ctx, cancel := context.WithCancel(f.ctx)
	sweeps := make(chan int, 1)
	go func() {
		n := 0
		for ctx.Err() == nil {
			k, _ := sweeper.SettleDue(ctx)
			n += k
			time.Sleep(10 * time.Millisecond)
		}
		sweeps <- n
	}()
	placed, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 1_000})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the sweeper looks again after the commit
	cancel()
	if n := <-sweeps; n != 0 {
		t.Errorf("the sweeper settled %d auctions", n)
	}
	a, err := auction.Get(f.ctx, f.db, id)
	if err != nil {
		t.Fatal(err)
	}
	if !placed.Extended || a.Status != auction.StatusOpen || a.Extensions != 1 || !a.EndsAt.After(oldEnd.Add(5*time.Second)) {
		t.Errorf("after the held batch: extended %v, %s, ends %v (was %v), ×%d", placed.Extended, a.Status, a.EndsAt, oldEnd, a.Extensions)
	}
	f.checkInvariants()
}
