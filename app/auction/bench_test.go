package auction_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
)

// benchUsers creates 2n bidders with the largest balance allowed, so that
// funds never refuse a benchmark bid.
func benchUsers(f *fixture, n int) []int64 {
	users := make([]int64, 2*n)
	for i := range users {
		f.n++
		users[i] = f.user(fmt.Sprintf("b%d_%d", f.n, i), auction.MaxAmount)
	}
	return users
}

// Amounts above 50,000,000 rise by 1,000,000; a step of 1,500,000 clears
// the increment, so a bid is refused only when a later-numbered bid got
// ahead of it.
const (
	benchBase = 50_000_000
	benchStep = 1_500_000
)

// BenchmarkHotAuction measures accepted bids per second on ONE auction with
// 1, 8 and 32 concurrent bidders, through PlaceBid and through a plain
// one-bid-per-transaction SQL baseline (lock, insert, update, commit) at the
// same concurrency, and reports both and their ratio. Each goroutine
// alternates between two accounts so that a lone bidder is not refused for
// already leading.
func BenchmarkHotAuction(b *testing.B) { benchHot(b, false) }

// BenchmarkHotAuctionProxy is BenchmarkHotAuction with half of the bidders
// submitting maximums well above the price, so that automatic bids answer
// the others.
func BenchmarkHotAuctionProxy(b *testing.B) { benchHot(b, true) }

func benchHot(b *testing.B, proxy bool) {
	f := newFixture(b)
	seller := f.user("seller", 0)
	for _, n := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("bidders=%d", n), func(b *testing.B) {
			b.StopTimer()
			users := benchUsers(f, n)
			id := f.auction(seller, 1_000)
			bidder := auction.NewBidder(f.db, auction.BidderOptions{})
			defer bidder.Close()
			var left, seq, accepted atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			b.StartTimer()
			start := time.Now()
			for g := range n {
				wg.Go(func() {
					for i := 0; left.Add(-1) >= 0; i++ {
						amount := benchBase + seq.Add(1)*benchStep
						if proxy && g%2 == 1 {
							amount += 20 * benchStep
						}
						_, err := bidder.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: users[2*g+i%2], Amount: amount})
						var ae *auction.Error
						switch {
						case err == nil:
							accepted.Add(1)
						case !errors.As(err, &ae):
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			ours := float64(accepted.Load()) / elapsed.Seconds()

			// The baseline runs about as long, within bounds that keep the
			// whole benchmark short.
			base := baseline(b, f, seller, users, n, min(max(elapsed, 300*time.Millisecond), 3*time.Second))
			b.ReportMetric(ours, "bids/s")
			b.ReportMetric(base, "baseline-bids/s")
			b.ReportMetric(ours/base, "x-baseline")
			b.ReportMetric(float64(accepted.Load())/float64(b.N), "accepted-ratio")
		})
	}
}

// baseline runs n goroutines doing the classic one-bid transaction on one
// fresh auction for d and returns the bids committed per second.
func baseline(b *testing.B, f *fixture, seller int64, users []int64, n int, d time.Duration) float64 {
	id := f.auction(seller, 1_000)
	var done atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				err := f.db.RunInTx(f.ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					var price int64
					var count int
					if err := tx.QueryRowContext(ctx, `SELECT current_price, bid_count FROM auctions WHERE id = ? FOR UPDATE`, id).
						Scan(&price, &count); err != nil {
						return err
					}
					amount := price + auction.Increment(price)
					if count == 0 {
						amount = price
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO bids (auction_id, bidder_id, amount) VALUES (?, ?, ?)`,
						id, users[2*g+i%2], amount); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `UPDATE auctions SET current_price = ?, leader_id = ?, leader_max = ?, bid_count = bid_count + 1 WHERE id = ?`,
						amount, users[2*g+i%2], amount, id)
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}

// busyAuction returns an auction with earlier bids already placed (inserted
// in one statement), and the amount the next bid must reach.
func busyAuction(f *fixture, seller int64, earlier int) (int64, int64) {
	users := benchUsers(f, 1)
	id := f.auction(seller, benchBase)
	if earlier == 0 {
		return id, benchBase
	}
	f.exec(`INSERT INTO bids (auction_id, bidder_id, amount)
		SELECT ?, CASE WHEN g % 2 = 0 THEN ?::bigint ELSE ?::bigint END, ?::bigint + g::bigint * 1000000
		FROM generate_series(0, ?::int - 1) AS g`, id, users[0], users[1], benchBase, earlier)
	last := int64(benchBase + (earlier-1)*1_000_000)
	leader := users[(earlier-1)%2]
	f.exec(`UPDATE auctions SET current_price = ?, leader_id = ?, leader_max = ?, bid_count = ? WHERE id = ?`, last, leader, last, earlier, id)
	// Done now, so autovacuum does not wake up during the measurement.
	f.exec(`VACUUM ANALYZE bids`)
	// And the setup's writes are flushed before, not during, the timing.
	f.exec(`CHECKPOINT`)
	return id, last + auction.Increment(last)
}

// BenchmarkBidCost is one bid at a time on an auction with no earlier bids
// and with 50,000: the cost must not grow with the history.
func BenchmarkBidCost(b *testing.B) {
	f := newFixture(b)
	seller := f.user("seller", 0)
	bidder := auction.NewBidder(f.db, auction.BidderOptions{})
	defer bidder.Close()
	for _, earlier := range []int{0, 50_000} {
		b.Run(fmt.Sprintf("earlier=%d", earlier), func(b *testing.B) {
			b.StopTimer()
			id, next := busyAuction(f, seller, earlier)
			users := benchUsers(f, 1)
			b.StartTimer()
			for i := range b.N {
				if _, err := bidder.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: users[i%2], Amount: next}); err != nil {
					b.Fatal(err)
				}
				next += auction.Increment(next)
			}
		})
	}
}

// BenchmarkRoomQueries is what opening the auction room reads (Get and the
// newest RecentBids page) with no earlier bids, with 50 (a full page, the
// fair comparison) and with 50,000.
func BenchmarkRoomQueries(b *testing.B) {
	f := newFixture(b)
	seller := f.user("seller", 0)
	for _, earlier := range []int{0, 50, 50_000} {
		b.Run(fmt.Sprintf("earlier=%d", earlier), func(b *testing.B) {
			b.StopTimer()
			id, _ := busyAuction(f, seller, earlier)
			b.StartTimer()
			for range b.N {
				if _, err := auction.Get(f.ctx, f.db, id); err != nil {
					b.Fatal(err)
				}
				bids, err := auction.RecentBids(f.ctx, f.db, id, 0, auction.MaxBidsPage)
				if err != nil {
					b.Fatal(err)
				}
				if len(bids) != min(earlier, auction.MaxBidsPage) {
					b.Fatalf("%d bids", len(bids))
				}
			}
		})
	}
}
