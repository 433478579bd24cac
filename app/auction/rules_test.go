package auction_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	"gavel/app/i18n"
)

func TestIncrementRisesWithPrice(t *testing.T) {
	for _, tc := range []struct{ price, want int64 }{
		{1, 500}, {9_999, 500}, {10_000, 1_000}, {49_999, 1_000}, {50_000, 2_000}, {99_999, 2_000},
		{100_000, 5_000}, {499_999, 5_000}, {500_000, 10_000}, {999_999, 10_000}, {1_000_000, 50_000},
		{4_999_999, 50_000}, {5_000_000, 100_000}, {9_999_999, 100_000}, {10_000_000, 500_000},
		{49_999_999, 500_000}, {50_000_000, 1_000_000}, {auction.MaxAmount, 1_000_000},
	} {
		if got := auction.Increment(tc.price); got != tc.want {
			t.Errorf("Increment(%d) = %d, want %d", tc.price, got, tc.want)
		}
	}
	a := auction.Auction{StartPrice: 7_000, CurrentPrice: 7_000}
	if a.MinNext() != 7_000 {
		t.Errorf("MinNext with no bids = %d, want the start price", a.MinNext())
	}
	a.BidCount, a.CurrentPrice = 3, 12_000
	if a.MinNext() != 13_000 {
		t.Errorf("MinNext after bids = %d, want 13000", a.MinNext())
	}
}

func TestDurationsIncludeTheShortOneOnlyWhenConfigured(t *testing.T) {
	if d := auction.Durations(0); len(d) != 6 || d[0] != 10*time.Minute || d[5] != 7*24*time.Hour {
		t.Errorf("Durations(0) = %v", d)
	}
	if d := auction.Durations(30 * time.Second); len(d) != 7 || d[0] != 30*time.Second {
		t.Errorf("Durations(30s) = %v", d)
	}
}

func TestCreateReportsEveryFieldErrorWithItsKey(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	other := f.user("other", 0)
	img := f.image(seller)

	_, err := auction.Create(f.ctx, f.db, auction.CreateInput{
		SellerID: seller, Title: "   ", Description: strings.Repeat("설", 2001), StartPrice: 0,
		Duration: 2 * time.Hour, ImageID: 0,
	}, 0)
	var fe auction.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want FieldErrors", err)
	}
	want := auction.FieldErrors{
		auction.FieldTitle: "auction.title_required", auction.FieldDescription: "auction.description_too_long",
		auction.FieldStartPrice: "auction.price_invalid", auction.FieldDuration: "auction.duration_invalid",
		auction.FieldImage: "auction.image_required",
	}
	for k, v := range want {
		if fe[k] != v {
			t.Errorf("field %s: %q, want %q", k, fe[k], v)
		}
		if !i18n.Has(v) {
			t.Errorf("key %s is not in the catalog", v)
		}
	}
	for _, in := range []struct {
		in    auction.CreateInput
		short time.Duration
		field string
		key   string
	}{
		{auction.CreateInput{Title: strings.Repeat("가", 101), StartPrice: 1, Duration: time.Hour, ImageID: img}, 0, auction.FieldTitle, "auction.title_too_long"},
		{auction.CreateInput{Title: "x", StartPrice: auction.MaxAmount + 1, Duration: time.Hour, ImageID: img}, 0, auction.FieldStartPrice, "auction.price_invalid"},
		{auction.CreateInput{Title: "x", StartPrice: 5, Duration: 30 * time.Second, ImageID: img}, 0, auction.FieldDuration, "auction.duration_invalid"},
		{auction.CreateInput{Title: "x", StartPrice: 5, Duration: time.Hour, ImageID: f.image(other)}, 0, auction.FieldImage, "auction.image_invalid"},
	} {
		in.in.SellerID = seller
		_, err := auction.Create(f.ctx, f.db, in.in, in.short)
		if !errors.As(err, &fe) || fe[in.field] != in.key || len(fe) != 1 {
			t.Errorf("%+v: got %v, want %s=%s", in.in, err, in.field, in.key)
		}
	}
	if n := f.int64(`SELECT count(*) FROM auctions`); n != 0 {
		t.Fatalf("refused listings stored %d auctions", n)
	}

	id, err := auction.Create(f.ctx, f.db, auction.CreateInput{
		SellerID: seller, Title: "  Vintage camera \x00 ", Description: " works ", StartPrice: 50_000,
		Duration: 30 * time.Second, ImageID: img,
	}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auction.Get(f.ctx, f.db, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Vintage camera" || a.Description != "works" || a.Status != auction.StatusOpen ||
		a.CurrentPrice != 50_000 || a.Seller != "seller" || a.ImageID != img || a.LeaderID != 0 || !a.SettledAt.IsZero() {
		t.Errorf("created auction: %+v", a)
	}
	if d := a.EndsAt.Sub(a.StartsAt); d != 30*time.Second {
		t.Errorf("ends %v after it starts, want 30s", d)
	}
}

func TestEveryBidRefusalHasItsKeyAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	poor := f.user("poor", 20_000)
	committed := f.user("committed", 100_000)
	id := f.auction(seller, 10_000)
	other := f.auction(seller, 60_000)
	ended := f.endedAuction(seller, 1_000, nil)

	bid := func(in auction.BidInput) (auction.Bid, error) {
		placed, err := b.PlaceBid(f.ctx, in)
		if err != nil || len(placed.Bids) == 0 {
			return auction.Bid{}, err
		}
		return placed.Bids[len(placed.Bids)-1], nil
	}
	if _, err := bid(auction.BidInput{AuctionID: other, BidderID: committed, Amount: 60_000}); err != nil {
		t.Fatal(err)
	}

	refuse := func(name string, in auction.BidInput, want *auction.Error, amount int64) {
		t.Helper()
		before, beforeEnded := f.snap(id), f.snap(ended)
		_, err := bid(in)
		ae := refusal(t, err, want)
		if ae.Amount != amount {
			t.Errorf("%s: amount %d, want %d", name, ae.Amount, amount)
		}
		if !i18n.Has(ae.Key()) {
			t.Errorf("%s: key %s is not in the catalog", name, ae.Key())
		}
		if after := f.snap(id); after != before {
			t.Errorf("%s changed the auction: %+v -> %+v", name, before, after)
		}
		if after := f.snap(ended); after != beforeEnded {
			t.Errorf("%s changed the ended auction: %+v -> %+v", name, beforeEnded, after)
		}
	}

	refuse("missing auction", auction.BidInput{AuctionID: id + 1000, BidderID: alice, Amount: 10_000}, auction.ErrNotFound, 0)
	refuse("seller", auction.BidInput{AuctionID: id, BidderID: seller, Amount: 10_000}, auction.ErrOwnAuction, 0)
	refuse("ended", auction.BidInput{AuctionID: ended, BidderID: alice, Amount: 5_000}, auction.ErrEnded, 0)
	refuse("zero", auction.BidInput{AuctionID: id, BidderID: alice, Amount: 0}, auction.ErrInvalidAmount, 0)
	refuse("negative", auction.BidInput{AuctionID: id, BidderID: alice, Amount: -10_000}, auction.ErrInvalidAmount, 0)
	refuse("too big", auction.BidInput{AuctionID: id, BidderID: alice, Amount: auction.MaxAmount + 1}, auction.ErrInvalidAmount, 0)
	refuse("below start", auction.BidInput{AuctionID: id, BidderID: alice, Amount: 9_999}, auction.ErrBelowStart, 10_000)
	refuse("long message", auction.BidInput{AuctionID: id, BidderID: alice, Amount: 10_000, Message: strings.Repeat("메", 101)}, auction.ErrMessageTooLong, 0)
	refuse("no funds", auction.BidInput{AuctionID: id, BidderID: poor, Amount: 20_001}, auction.ErrInsufficientFunds, 20_000)
	// 100,000 balance − 60,000 leading elsewhere leaves 40,000.
	refuse("funds held elsewhere", auction.BidInput{AuctionID: id, BidderID: committed, Amount: 40_001}, auction.ErrInsufficientFunds, 40_000)

	first, err := bid(auction.BidInput{AuctionID: id, BidderID: alice, Amount: 10_000, Message: strings.Repeat("메", 100)})
	if err != nil {
		t.Fatalf("first bid at the start price: %v", err)
	}
	if first.ID == 0 || first.Bidder != "alice" || first.Amount != 10_000 || first.CreatedAt.IsZero() {
		t.Errorf("accepted bid: %+v", first)
	}
	// Alice's maximum is 10,000: the leader may only raise it.
	refuse("leader not raising", auction.BidInput{AuctionID: id, BidderID: alice, Amount: 10_000}, auction.ErrMaxNotHigher, 10_000)
	// Under 10,000 the increment is 500; at 10,000 it is 1,000.
	refuse("too low", auction.BidInput{AuctionID: id, BidderID: bob, Amount: 10_999}, auction.ErrTooLow, 11_000)
	if _, err := bid(auction.BidInput{AuctionID: id, BidderID: bob, Amount: 11_000}); err != nil {
		t.Fatal(err)
	}
	refuse("equal to current", auction.BidInput{AuctionID: id, BidderID: alice, Amount: 11_000}, auction.ErrTooLow, 12_000)
	if _, err := bid(auction.BidInput{AuctionID: id, BidderID: committed, Amount: 40_000}); err != nil {
		t.Errorf("exactly the available funds should be accepted: %v", err)
	}

	var ae *auction.Error
	_, err = bid(auction.BidInput{AuctionID: id, BidderID: bob, Amount: 1})
	if !errors.As(err, &ae) {
		t.Fatal(err)
	}
	if got := i18n.For(i18n.Korean).T(ae.Key(), ae.Args(i18n.For(i18n.Korean).Money)...); !strings.Contains(got, "최소 입찰가는 ₩13,000입니다") {
		t.Errorf("Korean message: %q", got)
	}
	f.checkInvariants()
}

func TestBidsOnClosedAuctionsAreRefused(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	cancelled := f.auction(seller, 1_000)
	if err := auction.Cancel(f.ctx, f.db, cancelled, seller); err != nil {
		t.Fatal(err)
	}
	sold := f.endedAuction(seller, 1_000, []int64{alice}, 1_000)
	if _, err := auction.NewSweeper(f.db, nil).SettleDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{cancelled, sold} {
		_, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 500_000})
		refusal(t, err, auction.ErrEnded)
	}
	f.checkInvariants()
}

func TestAcceptedBidIsNotifiedWithTheStateAfterIt(t *testing.T) {
	url := dbtest.URL(t)
	f := &fixture{t: t, db: openDB(t, url), ctx: context.Background()}
	conn, err := pgx.Connect(f.ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(f.ctx, "LISTEN "+auction.Channel); err != nil {
		t.Fatal(err)
	}
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	id := f.auction(seller, 10_000)

	p1, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 10_000, Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bob, Amount: 15_000})
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := p1.Bids[0], p2.Bids[0]
	got := []auction.Event{readEvent(t, conn), readEvent(t, conn)}
	a, _ := auction.Get(f.ctx, f.db, id)
	want := []auction.Event{
		{Kind: auction.EventBid, AuctionID: id, SellerID: seller, Title: a.Title, Status: "open", Price: 10_000,
			StartPrice: 10_000, SoftClose: true, MinNext: 11_000, BidCount: 1, LeaderID: alice, Leader: "alice", BidID: a1.ID, BidderID: alice,
			Bidder: "alice", Amount: 10_000, Message: "first"},
		// Bob's maximum of 15,000 needs only one increment over alice's.
		{Kind: auction.EventBid, AuctionID: id, SellerID: seller, Title: a.Title, Status: "open", Price: 11_000,
			StartPrice: 10_000, SoftClose: true, MinNext: 12_000, BidCount: 2, LeaderID: bob, Leader: "bob", BidID: a2.ID, BidderID: bob,
			Bidder: "bob", Amount: 11_000, PrevLeader: alice},
	}
	for i := range want {
		if !got[i].EndsAt.Equal(a.EndsAt) || !got[i].Scheduled.Equal(a.ScheduledEnd) || got[i].At.IsZero() {
			t.Errorf("event %d times: ends %v (scheduled %v) at %v", i, got[i].EndsAt, got[i].Scheduled, got[i].At)
		}
		got[i].EndsAt, got[i].Scheduled, got[i].At = time.Time{}, time.Time{}, time.Time{}
		if got[i] != want[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}

	// A refusal notifies nothing, nor does a leader raising their maximum
	// (it is theirs alone to know); the next notification is the cancel of
	// another auction.
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 1}); err == nil {
		t.Fatal("a too-low bid was accepted")
	}
	if p, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bob, Amount: 90_000}); err != nil || p.Result != auction.Raised {
		t.Fatalf("raise: %+v, %v", p, err)
	}
	other := f.auction(seller, 1_000)
	if err := auction.Cancel(f.ctx, f.db, other, seller); err != nil {
		t.Fatal(err)
	}
	if ev := readEvent(t, conn); ev.Kind != auction.EventClosed || ev.AuctionID != other || ev.Status != auction.StatusCancelled {
		t.Errorf("after a refusal, got %+v", ev)
	}

	// Alice's bid and bob's automatic answer are one transaction: the
	// first event says that another follows, the last does not.
	if p, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 20_000}); err != nil || len(p.Bids) != 2 {
		t.Fatalf("alice against bob's maximum: %+v, %v", p, err)
	}
	if e1, e2 := readEvent(t, conn), readEvent(t, conn); !e1.More || e1.Bidder != "alice" || e2.More || !e2.Auto || e2.Bidder != "bob" {
		t.Errorf("one transaction's events: %+v then %+v", e1, e2)
	}
}

func readEvent(t *testing.T, conn *pgx.Conn) auction.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ev auction.Event
	if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestCancelOnlyBySellerBeforeTheFirstBid(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	id := f.auction(seller, 1_000)
	withBid := f.auction(seller, 1_000)
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: withBid, BidderID: alice, Amount: 1_000}); err != nil {
		t.Fatal(err)
	}
	refusal(t, auction.Cancel(f.ctx, f.db, id, alice), auction.ErrNotSeller)
	refusal(t, auction.Cancel(f.ctx, f.db, withBid, seller), auction.ErrCannotCancel)
	refusal(t, auction.Cancel(f.ctx, f.db, id+1000, seller), auction.ErrNotFound)
	if err := auction.Cancel(f.ctx, f.db, id, seller); err != nil {
		t.Fatal(err)
	}
	refusal(t, auction.Cancel(f.ctx, f.db, id, seller), auction.ErrCannotCancel)
	a, _ := auction.Get(f.ctx, f.db, id)
	if a.Status != auction.StatusCancelled || a.SettledAt.IsZero() {
		t.Errorf("cancelled auction: %+v", a)
	}
	f.checkInvariants()
}

func TestCancelledContextWithdrawsAQueuedBid(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	id := f.auction(seller, 1_000)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	if _, err := b.PlaceBid(ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 1_000}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if s := f.snap(id); s.bids != 0 || s.count != 0 {
		t.Errorf("withdrawn bid left a trace: %+v", s)
	}
}

func TestWritersExitWhenIdleAndCloseDrains(t *testing.T) {
	f := newFixture(t)
	b := auction.NewBidder(f.db, auction.BidderOptions{Idle: 50 * time.Millisecond})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	ids := []int64{f.auction(seller, 1_000), f.auction(seller, 1_000), f.auction(seller, 1_000)}
	for _, id := range ids {
		if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 1_000}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for auction.Writers(b) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := auction.Writers(b); n != 0 {
		t.Errorf("%d writers still running after being idle", n)
	}

	// Bids racing with Close each get a real answer: committed or ErrClosed.
	type out struct {
		placed auction.Placed
		err    error
	}
	outs := make(chan out, 40)
	for i := range 40 {
		go func() {
			bidder := alice
			if i%2 == 1 {
				bidder = bob
			}
			placed, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: ids[i%3], BidderID: bidder, Amount: int64(2_000 + i*1_000)})
			outs <- out{placed, err}
		}()
	}
	time.Sleep(time.Millisecond)
	b.Close()
	accepted := 0
	for range 40 {
		o := <-outs
		var ae *auction.Error
		switch {
		case o.err == nil:
			accepted += len(o.placed.Bids)
			for _, bid := range o.placed.Bids {
				if n := f.int64(`SELECT count(*) FROM bids WHERE id = ?`, bid.ID); n != 1 {
					t.Errorf("accepted bid %d is not in the database", bid.ID)
				}
			}
		case errors.As(o.err, &ae):
		default:
			t.Errorf("unexpected error: %v", o.err)
		}
	}
	if n := f.int64(`SELECT count(*) FROM bids`); n != int64(accepted+3) {
		t.Errorf("%d bids stored, %d accepted", n, accepted+3)
	}
	f.checkInvariants()
}

// A batch whose COMMIT fails (its connection is cut just before) is never
// answered from a blind re-judging: the writer finds out that nothing
// committed, runs the batch again and answers from that. Before, the bid
// was answered with the connection's error, or a refusal.
func TestAFailedCommitIsFoundOutNotAnsweredBlindly(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	id := f.auction(seller, 1_000)
	b := newBidder(t, f.db, auction.BidderOptions{})
	var cut atomic.Bool
	auction.HoldBeforeCommit(b, func() {
		if cut.Swap(true) {
			return
		}
		var n int
		if err := f.db.QueryRowContext(f.ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`).Scan(&n); err != nil || n != 1 {
			t.Errorf("cut the batch's connection: %d, %v", n, err)
		}
	})
	placed, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 5_000})
	if err != nil || placed.Result != auction.Leading || len(placed.Bids) != 1 {
		t.Fatalf("after a cut COMMIT: %+v, %v", placed, err)
	}
	if n := f.int64(`SELECT count(*) FROM bids WHERE auction_id = ?`, id); n != 1 || placed.Bids[0].ID == 0 {
		t.Errorf("%d rows stored, answered with bid %d", n, placed.Bids[0].ID)
	}
	if n := f.int64(`SELECT count(*) FROM bids WHERE id = ?`, placed.Bids[0].ID); n != 1 {
		t.Errorf("the answered bid %d is not in the table", placed.Bids[0].ID)
	}
	f.checkInvariants()
}

// A form's key makes a second submission harmless: after the first
// committed, or in the same batch, it gets the first's answer and adds
// nothing; another bidder's same key is their own.
func TestAKeyedSubmissionIsPlacedOnce(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	id := f.auction(seller, 1_000)
	b := newBidder(t, f.db, auction.BidderOptions{})
	in := auction.BidInput{AuctionID: id, BidderID: alice, Amount: 5_000, Key: "k1-0123456789abcdef"}
	first, err := b.PlaceBid(f.ctx, in)
	if err != nil || first.Result != auction.Leading {
		t.Fatal(first, err)
	}
	again, err := b.PlaceBid(f.ctx, in)
	if err != nil || again.Result != auction.Leading || again.Max != 5_000 || again.Price != first.Price {
		t.Errorf("the same form again: %+v, %v (want the first answer, not a refusal)", again, err)
	}
	if n := f.int64(`SELECT count(*) FROM bids WHERE auction_id = ?`, id); n != 1 {
		t.Errorf("%d rows after a double submit", n)
	}
	// Without a key the same maximum is judged again: the leader must raise.
	_, err = b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 5_000})
	refusal(t, err, auction.ErrMaxNotHigher)

	// Twice in one batch, and bob's own use of the same key.
	placed, errs := b.PlaceRun(id, []auction.BidInput{
		{BidderID: bob, Amount: 9_000, Key: "k2-0123456789abcdef"},
		{BidderID: bob, Amount: 9_000, Key: "k2-0123456789abcdef"},
		{BidderID: alice, Amount: 20_000, Key: "k2-0123456789abcdef"},
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("submission %d: %v", i, err)
		}
	}
	// bob's 9,000 beats alice's 5,000 (two rows), once; alice's 20,000
	// beats bob's (two rows).
	if placed[0].Result != auction.Leading || placed[1].Result != auction.Leading || placed[2].Result != auction.Leading ||
		len(placed[0].Bids) != 2 || placed[1].Max != 9_000 {
		t.Errorf("answers %+v %+v %+v", placed[0], placed[1], placed[2])
	}
	if n := f.int64(`SELECT count(*) FROM bids WHERE auction_id = ?`, id); n != 5 {
		t.Errorf("%d rows, want 5", n)
	}
	if n := f.int64(`SELECT count(*) FROM bid_keys`); n != 3 {
		t.Errorf("%d keys stored, want 3", n)
	}
	f.checkInvariants()
}

// A bid at or below a price the writer has seen committed is refused
// without a transaction, with the same refusal the judge would give.
func TestBidsCertainlyTooLowAreRefusedWithoutATransaction(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	id := f.auction(seller, 10_000)
	b := newBidder(t, f.db, auction.BidderOptions{Idle: time.Minute})
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 20_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bob, Amount: 15_000}); err != nil {
		t.Fatal(err) // answered by alice's maximum: the price is 16,000
	}
	batches, fast := auction.Transactions(b)
	_, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bob, Amount: 16_000})
	if ae := refusal(t, err, auction.ErrTooLow); ae.Amount != 17_000 {
		t.Errorf("minimum %d, want 17,000", ae.Amount)
	}
	if b2, f2 := auction.Transactions(b); b2 != batches || f2 != fast+1 {
		t.Errorf("batches %d -> %d, fast refusals %d -> %d", batches, b2, fast, f2)
	}
	// Just above the price is for the judge (it may be a leader's raise).
	_, err = b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bob, Amount: 16_500})
	refusal(t, err, auction.ErrTooLow)
	// The leader and the seller always reach the judge.
	_, err = b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 1_000})
	refusal(t, err, auction.ErrMaxNotHigher)
	_, err = b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: seller, Amount: 1_000})
	refusal(t, err, auction.ErrOwnAuction)
	if b3, f3 := auction.Transactions(b); b3 != batches+3 || f3 != fast+1 {
		t.Errorf("batches %d -> %d, fast refusals %d -> %d", batches, b3, fast, f3)
	}
}

// Bids that queued while the batch that outbids them was committing are
// refused from the state it committed, without a second transaction: in a
// bidding war at the minimum, that batch would take the locks only to
// refuse everyone in it.
func TestBidsQueuedBehindTheirOutbiddingAreRefusedWithoutATransaction(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	carol := f.user("carol", 1_000_000)
	id := f.auction(seller, 10_000)
	b := newBidder(t, f.db, auction.BidderOptions{Idle: time.Minute})
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	auction.HoldBeforeWrite(b, func() {
		once.Do(func() {
			close(held)
			<-release
		})
	})
	alices := make(chan error, 1)
	go func() {
		_, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 20_000})
		alices <- err
	}()
	<-held
	batches, fast := auction.Transactions(b)
	// Both bid the start price, which the writer has not yet seen taken.
	errs := make(chan error, 2)
	for _, who := range []int64{bob, carol} {
		go func() {
			_, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: who, Amount: 10_000})
			errs <- err
		}()
	}
	for auction.Queued(b, id) < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-alices; err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if ae := refusal(t, <-errs, auction.ErrTooLow); ae.Amount != 11_000 {
			t.Errorf("minimum %d, want 11,000", ae.Amount)
		}
	}
	if b2, f2 := auction.Transactions(b); b2 != batches || f2 != fast+2 {
		t.Errorf("batches %d -> %d, fast refusals %d -> %d", batches, b2, fast, f2)
	}
	f.checkInvariants()
}

// The database's own backstop for bid rows: a row stamped earlier than its
// transaction began (a stale clock or a bug in the writer), later than the
// database's clock, or below the bid before it is refused, whatever the
// application says.
func TestBidsGuardChecksTheClockAndThatBidsNeverFall(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	id := f.auction(seller, 1_000)
	b := newBidder(t, f.db, auction.BidderOptions{})
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 5_000}); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]string{
		"stamped before its transaction": `INSERT INTO bids (auction_id, bidder_id, amount, created_at) VALUES (?, ?, 2000, now() - interval '1 second')`,
		"stamped in the future":          `INSERT INTO bids (auction_id, bidder_id, amount, created_at) VALUES (?, ?, 2000, clock_timestamp() + interval '1 minute')`,
		"below the bid before it":        `INSERT INTO bids (auction_id, bidder_id, amount) VALUES (?, ?, 999)`,
	} {
		if _, err := f.db.ExecContext(f.ctx, q, id, bob); err == nil || !strings.Contains(err.Error(), "23514") {
			t.Errorf("a bid %s: %v, want a check violation", name, err)
		}
	}
	if n := f.int64(`SELECT count(*) FROM bids WHERE auction_id = ?`, id); n != 1 {
		t.Errorf("%d rows", n)
	}
}
