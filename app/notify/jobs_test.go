package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	"gavel/app/fixture"
	"gavel/app/notify"
)

// runServices runs n job queues on db, as n instances would, until the
// test ends. A minute of a reminder lead is unit.
func runServices(t *testing.T, db *bun.DB, n int, unit time.Duration) []*notify.Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var svcs []*notify.Service
	for range n {
		s, err := notify.NewService(db, notify.Options{LeadUnit: unit, ScanEvery: 300 * time.Millisecond, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, s)
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return svcs
}

func reminders(t *testing.T, db *bun.DB, user, auctionID int64) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM notifications
		WHERE user_id = ? AND auction_id = ? AND kind = 'ending_soon'`, user, auctionID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEndingSoonRemindersFireOnceWithTwoInstancesAndOnceOnlyAfterAnExtension(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	// A minute of lead is 50 ms: the default hour is 3 s, a quarter 0.75 s.
	const unit = 50 * time.Millisecond
	seller := fixture.User(t, db, "seller", 0)
	alice := fixture.User(t, db, "alice", 10_000_000) // watches: the default hour
	bob := fixture.User(t, db, "bob", 10_000_000)     // bids: a quarter
	cee := fixture.User(t, db, "cee", 10_000_000)     // watches, reminders off
	if err := notify.SetLead(ctx, db, bob, 15); err != nil {
		t.Fatal(err)
	}
	if err := notify.SetLead(ctx, db, cee, 0); err != nil {
		t.Fatal(err)
	}
	if err := notify.SetLead(ctx, db, cee, 42); err == nil {
		t.Error("a lead of 42 minutes was taken")
	}
	svcs := runServices(t, db, 2, unit)
	lamp := fixture.Auction(t, db, seller, "Lamp", 10_000, 7*time.Second)
	for _, u := range []int64{alice, cee} {
		if _, err := svcs[0].Watch(ctx, db, u, lamp, true); err != nil {
			t.Fatal(err)
		}
	}
	bidder := auction.NewBidder(db, auction.BidderOptions{SoftClose: auction.SoftClose{Window: 3 * time.Second, Cap: time.Minute}})
	defer bidder.Close()
	if _, err := bidder.PlaceBid(ctx, auction.BidInput{AuctionID: lamp, BidderID: bob, Amount: 10_000}); err != nil {
		t.Fatal(err)
	}
	var ends time.Time
	db.QueryRowContext(ctx, `SELECT ends_at FROM auctions WHERE id = ?`, lamp).Scan(&ends)

	// Not before it is due.
	time.Sleep(time.Until(ends.Add(-3*time.Second - 500*time.Millisecond)))
	if n := reminders(t, db, alice, lamp); n != 0 {
		t.Fatalf("alice was reminded %d times before her hour", n)
	}
	deadline := ends.Add(-3*time.Second + 1500*time.Millisecond)
	for reminders(t, db, alice, lamp) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := reminders(t, db, alice, lamp); n != 1 {
		t.Fatalf("alice: %d reminders by 1.5 s after her hour, want 1", n)
	}
	if n := reminders(t, db, bob, lamp); n != 0 {
		t.Errorf("bob was reminded before his quarter")
	}
	// Alice bids inside the soft-close window: the end moves 3 s past now,
	// which puts her hour's reminder due again — it is not sent twice.
	if _, err := bidder.PlaceBid(ctx, auction.BidInput{AuctionID: lamp, BidderID: alice, Amount: 11_000}); err != nil {
		t.Fatal(err)
	}
	var moved time.Time
	var ext int
	db.QueryRowContext(ctx, `SELECT ends_at, extensions FROM auctions WHERE id = ?`, lamp).Scan(&moved, &ext)
	if ext != 1 || !moved.After(ends) {
		t.Fatalf("the bid did not extend the end: %v → %v (%d)", ends, moved, ext)
	}
	// Bob's quarter (0.75 s) comes only before the moved end.
	time.Sleep(time.Until(moved.Add(-750*time.Millisecond - 300*time.Millisecond)))
	if n := reminders(t, db, bob, lamp); n != 0 {
		t.Errorf("bob was reminded before his quarter of the moved end")
	}
	time.Sleep(time.Until(moved.Add(200 * time.Millisecond)))
	if n := reminders(t, db, bob, lamp); n != 1 {
		t.Errorf("bob: %d reminders by the moved end, want 1", n)
	}
	if n := reminders(t, db, alice, lamp); n != 1 {
		t.Errorf("alice: %d reminders after the extension, want still 1", n)
	}
	if n := reminders(t, db, cee, lamp); n != 0 {
		t.Errorf("cee, reminders off: %d", n)
	}
	if n := reminders(t, db, seller, lamp); n != 0 {
		t.Errorf("the seller: %d", n)
	}
}
