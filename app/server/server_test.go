package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"gavel/app/auction"
	"gavel/app/config"
	"gavel/app/db"
	"gavel/app/db/dbtest"
	"gavel/app/fixture"
	"gavel/app/server"
	"gavel/app/server/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestAuctionsThatEndWhileTheAppIsDownAreSettledOnceAfterRestart stops the
// app, lets auctions end, starts it again (twice, as two instances) and
// checks that every one is settled exactly once.
func TestAuctionsThatEndWhileTheAppIsDownAreSettledOnceAfterRestart(t *testing.T) {
	url := dbtest.URL(t)
	ctx := context.Background()
	first := servertest.Start(t, url, nil)
	bdb := first.DB
	if resp, err := http.Get(first.URL + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first instance not ready: %v", err)
	}

	// Two users with money, a seller, and auctions ending in 2 s: some
	// with bids (to be sold), some without (unsold).
	seller, bidder := fixture.User(t, bdb, "seller", 1_000_000), fixture.User(t, bdb, "bidder", 1_000_000)
	bidderSvc := auction.NewBidder(bdb, auction.BidderOptions{})
	defer bidderSvc.Close()
	const sold, unsold = 4, 3
	for i := range sold + unsold {
		id := fixture.Auction(t, bdb, seller, "item", 1000, 2*time.Second)
		if i < sold {
			if _, err := bidderSvc.PlaceBid(ctx, auction.BidInput{AuctionID: id, BidderID: bidder, Amount: 1000}); err != nil {
				t.Fatal(err)
			}
		}
	}
	bidderSvc.Close()

	first.Stop()
	time.Sleep(2500 * time.Millisecond) // every auction ends while no instance runs

	check, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var open int
	check.QueryRowContext(ctx, `SELECT count(*) FROM auctions WHERE status = 'open'`).Scan(&open)
	if open != sold+unsold {
		t.Fatalf("%d auctions settled while no instance ran", sold+unsold-open)
	}

	// Two instances start at once after the downtime.
	servertest.Start(t, url, nil)
	servertest.Start(t, url, nil)
	deadline := time.Now().Add(5 * time.Second)
	for open > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		check.QueryRowContext(ctx, `SELECT count(*) FROM auctions WHERE status = 'open'`).Scan(&open)
	}
	if open != 0 {
		t.Fatalf("%d auctions still open after the restart", open)
	}
	var gotSold, gotUnsold, ledgerRows int
	var sellerBalance, bidderBalance int64
	check.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE status = 'sold'), count(*) FILTER (WHERE status = 'unsold') FROM auctions`).Scan(&gotSold, &gotUnsold)
	check.QueryRowContext(ctx, `SELECT count(*) FROM ledger WHERE auction_id IS NOT NULL`).Scan(&ledgerRows)
	check.QueryRowContext(ctx, `SELECT balance FROM users WHERE id = ?`, seller).Scan(&sellerBalance)
	check.QueryRowContext(ctx, `SELECT balance FROM users WHERE id = ?`, bidder).Scan(&bidderBalance)
	if gotSold != sold || gotUnsold != unsold || ledgerRows != 2*sold {
		t.Errorf("sold %d, unsold %d, settlement ledger rows %d; want %d, %d, %d", gotSold, gotUnsold, ledgerRows, sold, unsold, 2*sold)
	}
	if sellerBalance != 1_000_000+sold*1000 || bidderBalance != 1_000_000-sold*1000 {
		t.Errorf("balances: seller %d, bidder %d: money moved other than once per sale", sellerBalance, bidderBalance)
	}
}

// The demo fills a database with listings and fake bidders: never in
// production.
func TestTheDemoRefusesToRunInProduction(t *testing.T) {
	url := dbtest.URL(t)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"APP_ENV": "production", "BASE_URL": "https://gavel.example",
			"GITHUB_KEY": "k", "GITHUB_SECRET": "s", "DATABASE_URL": url}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	srv, err := server.New(cfg, bdb, slog.New(slog.DiscardHandler), func(p *server.Parts) { p.Demo = true })
	if err == nil || !strings.Contains(err.Error(), "production") {
		t.Errorf("the demo in production: %v, %v", srv, err)
	}
	if _, err := server.New(cfg, bdb, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("production without the demo: %v", err)
	}
}
