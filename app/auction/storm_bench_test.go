package auction_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
)

// stormSize is how many auctions end in the storm and over how long;
// STORM_AUCTIONS and STORM_WINDOW (a Go duration) shrink it for a quick look.
func stormSize() (int, time.Duration) {
	n, window := 10_000, time.Minute
	if v, err := strconv.Atoi(os.Getenv("STORM_AUCTIONS")); err == nil && v > 0 {
		n = v
	}
	if v, err := time.ParseDuration(os.Getenv("STORM_WINDOW")); err == nil && v > 0 {
		window = v
	}
	return n, window
}

// BenchmarkSettlementStorm ends 10,000 auctions within one minute (half
// with a winner, half unsold) while bidders keep bidding on other auctions,
// with two sweepers (two instances' pools) settling, and reports the lag
// from each auction's end to its settlement (p50, p99, max, as the database
// clock saw both) and the bids committed per second meanwhile.
//
//	go test -run '^$' -bench SettlementStorm -benchtime 1x ./app/auction
func BenchmarkSettlementStorm(b *testing.B) {
	n, window := stormSize()
	for range b.N {
		b.StopTimer()
		url := dbtest.URL(b)
		f := &fixture{t: b, db: openDB(b, url), ctx: context.Background()}
		seller := f.user("storm_seller", 0)
		winner := f.user("storm_winner", auction.MaxAmount)
		img := f.image(seller)
		lead := 5 * time.Second // the first end, after the set-up below
		f.exec(`INSERT INTO auctions (seller_id, title, image_id, start_price, current_price, leader_id, leader_max, bid_count, starts_at, ends_at)
			SELECT ?, 'storm ' || g, ?, 1000, 1000, CASE WHEN g % 2 = 0 THEN ?::bigint END, CASE WHEN g % 2 = 0 THEN 1000 END,
				CASE WHEN g % 2 = 0 THEN 1 ELSE 0 END,
				now(), now() + (? + (g - 1) * ?::float8 / ?) * interval '1 microsecond'
			FROM generate_series(1, ?) g`,
			seller, img, winner, lead.Microseconds(), float64(window.Microseconds()), n, n)
		f.exec(`INSERT INTO bids (auction_id, bidder_id, amount) SELECT id, leader_id, 1000 FROM auctions WHERE leader_id IS NOT NULL`)
		f.exec(`INSERT INTO maximums (auction_id, bidder_id, amount) SELECT id, leader_id, 1000 FROM auctions WHERE leader_id IS NOT NULL`)

		// Bidding elsewhere goes on through the storm.
		var others []int64
		for range 4 {
			others = append(others, f.auction(seller, 1000))
		}
		bidders := benchUsers(f, 4)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var bids atomic.Int64
		bidder := newBidder(b, f.db, auction.BidderOptions{})
		for i, id := range others {
			wg.Add(1)
			go func() {
				defer wg.Done()
				amount := int64(60_000_000)
				for k := 0; ctx.Err() == nil; k++ {
					_, err := bidder.PlaceBid(ctx, auction.BidInput{AuctionID: id, BidderID: bidders[2*i+k%2], Amount: amount})
					if err == nil {
						bids.Add(1)
						amount += 1_500_000
					}
				}
			}()
		}
		sweeps := []*auction.Sweeper{auction.NewSweeper(f.db, nil), auction.NewSweeper(openDB(b, url), nil)}
		for _, s := range sweeps {
			wg.Add(1)
			go func() { defer wg.Done(); s.Run(ctx) }()
		}

		b.StartTimer()
		start := time.Now()
		deadline := start.Add(lead + window + 2*time.Minute)
		for {
			open := f.int64(`SELECT count(*) FROM auctions WHERE title LIKE 'storm %' AND status = 'open'`)
			if open == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d storm auctions still open after the deadline", open)
			}
			time.Sleep(200 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		cancel()
		wg.Wait()

		var p50, p99, worst float64
		if err := f.db.QueryRowContext(f.ctx, `SELECT
				percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag)
			FROM (SELECT extract(epoch FROM settled_at - ends_at) AS lag FROM auctions WHERE title LIKE 'storm %') l`).
			Scan(&p50, &p99, &worst); err != nil {
			b.Fatal(err)
		}
		sold := f.int64(`SELECT count(*) FROM auctions WHERE title LIKE 'storm %' AND status = 'sold'`)
		if want := int64(n / 2); sold != want {
			b.Errorf("%d storm auctions sold, want %d", sold, want)
		}
		if rows := f.int64(`SELECT count(*) FROM ledger WHERE auction_id IN (SELECT id FROM auctions WHERE title LIKE 'storm %')`); rows != 2*sold {
			b.Errorf("%d settlement ledger rows for %d sales", rows, sold)
		}
		f.checkInvariants()
		b.ReportMetric(p50*1000, "lag-p50-ms")
		b.ReportMetric(p99*1000, "lag-p99-ms")
		b.ReportMetric(worst*1000, "lag-max-ms")
		b.ReportMetric(float64(bids.Load())/elapsed.Seconds(), "other-bids/s")
		b.ReportMetric(float64(n), "auctions")
	}
}
