package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	"gavel/app/fixture"
	"gavel/app/notify"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func place(t *testing.T, db *bun.DB, id, user, amount int64) {
	t.Helper()
	b := auction.NewBidder(db, auction.BidderOptions{})
	defer b.Close()
	got, err := b.PlaceBid(context.Background(), auction.BidInput{AuctionID: id, BidderID: user, Amount: amount})
	if err != nil {
		t.Fatal(err)
	}
	if got.Result == 0 && len(got.Bids) == 0 {
		t.Fatalf("bid %d by %d: nothing happened", amount, user)
	}
}

// kinds is user's notifications as "kind@auction:amount", newest first.
func kinds(t *testing.T, db *bun.DB, user int64) []string {
	t.Helper()
	list, _, err := notify.Page(context.Background(), db, user, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range list {
		out = append(out, n.Kind)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOutbidWritesOneUnreadRowPerAuctionAndAutomaticBidsAreTold(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	seller := fixture.User(t, db, "seller", 0)
	alice := fixture.User(t, db, "alice", 10_000_000)
	bob := fixture.User(t, db, "bob", 10_000_000)
	id := fixture.Auction(t, db, seller, "Lamp", 10_000, time.Hour)

	place(t, db, id, alice, 10_000)
	if got := kinds(t, db, alice); len(got) != 0 {
		t.Fatalf("a first bid told alice %v", got)
	}
	place(t, db, id, bob, 11_000)
	place(t, db, id, alice, 12_000)
	place(t, db, id, bob, 13_000)
	if got := kinds(t, db, alice); !equal(got, []string{"outbid"}) {
		t.Errorf("alice, outbid twice: %v, want one outbid row", got)
	}
	if got := kinds(t, db, bob); !equal(got, []string{"outbid"}) {
		t.Errorf("bob, outbid once: %v", got)
	}
	// Alice sets a maximum; bob's next bid is answered at once by it.
	place(t, db, id, alice, 50_000)
	place(t, db, id, bob, 20_000)
	if got := kinds(t, db, bob); !equal(got, []string{"outbid_auto"}) {
		t.Errorf("bob, answered by a maximum: %v, want the outbid merged into outbid_auto", got)
	}
	if got := kinds(t, db, alice); !equal(got, []string{"auto_bid", "outbid"}) {
		t.Errorf("alice, whose maximum answered: %v", got)
	}
	unread, last, err := notify.Bell(ctx, db, bob)
	if err != nil || unread != 1 || last == 0 {
		t.Errorf("bob's bell: %d unread, last %d, %v", unread, last, err)
	}
	list, _, _ := notify.Page(ctx, db, bob, 0)
	if list[0].Amount != 21_000 || list[0].Title != "Lamp" {
		t.Errorf("bob's row: %+v, want the price 21,000 and the title", list[0])
	}
	// Once read, the next outbid is a new row.
	if n, err := notify.MarkAllRead(ctx, db, bob, 0); n != 1 || err != nil {
		t.Fatalf("mark read: %d, %v", n, err)
	}
	place(t, db, id, bob, 60_000)
	place(t, db, id, alice, 70_000)
	if got := kinds(t, db, bob); !equal(got, []string{"outbid", "outbid_auto"}) {
		t.Errorf("bob after reading: %v", got)
	}
	if unread, _, _ := notify.Bell(ctx, db, bob); unread != 1 {
		t.Errorf("bob's unread: %d", unread)
	}
	// Nobody else was told anything of it.
	if got := kinds(t, db, seller); len(got) != 0 {
		t.Errorf("the seller was told %v during bidding", got)
	}
}

func TestSettlementTellsSellerWinnerAndLosers(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	seller := fixture.User(t, db, "seller", 0)
	alice := fixture.User(t, db, "alice", 10_000_000)
	bob := fixture.User(t, db, "bob", 10_000_000)
	cee := fixture.User(t, db, "cee", 10_000_000)
	id := fixture.Auction(t, db, seller, "Lamp", 10_000, 2*time.Second)
	empty := fixture.Auction(t, db, seller, "Vase", 10_000, 2*time.Second)
	place(t, db, id, alice, 10_000)
	place(t, db, id, bob, 11_000)
	time.Sleep(2100 * time.Millisecond)
	if _, err := auction.NewSweeper(db, nil).SettleDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, db, seller); !equal(got, []string{"unsold", "sold"}) && !equal(got, []string{"sold", "unsold"}) {
		t.Errorf("seller: %v", got)
	}
	if got := kinds(t, db, bob); !equal(got, []string{"won"}) {
		t.Errorf("bob: %v", got)
	}
	if got := kinds(t, db, alice); !equal(got, []string{"lost", "outbid"}) {
		t.Errorf("alice: %v", got)
	}
	if got := kinds(t, db, cee); len(got) != 0 {
		t.Errorf("cee, who did not bid: %v", got)
	}
	_ = empty
}

func TestWatchIsIdempotentCappedAndCountedWithoutNames(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	seller := fixture.User(t, db, "seller", 0)
	alice := fixture.User(t, db, "alice", 0)
	bob := fixture.User(t, db, "bob", 0)
	id := fixture.Auction(t, db, seller, "Lamp", 10_000, time.Hour)
	for range 2 {
		if on, err := notify.Watch(ctx, db, alice, id, true, nil); !on || err != nil {
			t.Fatalf("watch: %v, %v", on, err)
		}
	}
	notify.Watch(ctx, db, bob, id, true, nil)
	if c, err := notify.WatcherCounts(ctx, db, []int64{id}); err != nil || c[id] != 2 {
		t.Errorf("counts %v, %v, want 2", c, err)
	}
	if _, err := notify.Watch(ctx, db, seller, id, true, nil); !errors.Is(err, notify.ErrOwnAuction) {
		t.Errorf("the seller watching: %v", err)
	}
	if _, err := notify.Watch(ctx, db, alice, 999999, true, nil); !errors.Is(err, notify.ErrNoAuction) {
		t.Errorf("no such auction: %v", err)
	}
	for range 2 {
		if on, err := notify.Watch(ctx, db, alice, id, false, nil); on || err != nil {
			t.Fatalf("unwatch: %v, %v", on, err)
		}
	}
	if w, _ := notify.Watching(ctx, db, alice, id); w {
		t.Error("still watching")
	}
	// The cap: a full list refuses one more and keeps what it had.
	db.ExecContext(ctx, `INSERT INTO watches (user_id, auction_id) SELECT ?, ? FROM generate_series(1, 1)`, alice, id)
	ids := make([]int64, 0, notify.MaxWatches)
	for i := range notify.MaxWatches - 1 {
		ids = append(ids, fixture.Auction(t, db, seller, "Lot", 10_000, time.Hour))
		_ = i
	}
	for _, a := range ids {
		if _, err := notify.Watch(ctx, db, alice, a, true, nil); err != nil {
			t.Fatal(err)
		}
	}
	extra := fixture.Auction(t, db, seller, "One more", 10_000, time.Hour)
	if _, err := notify.Watch(ctx, db, alice, extra, true, nil); !errors.Is(err, notify.ErrTooManyWatches) {
		t.Errorf("over the cap: %v", err)
	}
	var n int
	db.QueryRowContext(ctx, `SELECT count(*) FROM watches WHERE user_id = ?`, alice).Scan(&n)
	if n != notify.MaxWatches {
		t.Errorf("%d watches, want %d", n, notify.MaxWatches)
	}
	list, err := auction.Watched(ctx, db, alice)
	if err != nil || len(list) != auction.MaxMine {
		t.Errorf("watched: %d, %v", len(list), err)
	}
}

func TestReadNotificationsOlderThanTheRetentionAreDeleted(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	seller := fixture.User(t, db, "seller", 0)
	alice := fixture.User(t, db, "alice", 10_000_000)
	bob := fixture.User(t, db, "bob", 10_000_000)
	id := fixture.Auction(t, db, seller, "Lamp", 10_000, time.Hour)
	place(t, db, id, alice, 10_000)
	place(t, db, id, bob, 11_000)
	place(t, db, id, alice, 12_000) // bob outbid: unread
	notify.MarkAllRead(ctx, db, alice, 0)
	db.ExecContext(ctx, `UPDATE notifications SET read_at = now() - interval '91 days' WHERE user_id = ?`, alice)
	if n, err := notify.PurgeRead(ctx, db, notify.Retention); n != 1 || err != nil {
		t.Errorf("purged %d, %v; want alice's one old read row", n, err)
	}
	if got := kinds(t, db, bob); len(got) != 1 {
		t.Errorf("bob's unread row went too: %v", got)
	}
}

// Buy It Now and the reserve (issue 13) end auctions through their own
// paths: the same triggers tell everyone why.
func TestBoughtNowAndReserveNotMetAreToldToTheRightPeople(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	seller := fixture.User(t, db, "seller", 0)
	alice := fixture.User(t, db, "alice", 10_000_000)
	bob := fixture.User(t, db, "bob", 10_000_000)
	cee := fixture.User(t, db, "cee", 10_000_000)
	bought := fixture.AuctionWithTerms(t, db, seller, "Lamp", 10_000, time.Hour, 20_000, 25_000)
	place(t, db, bought, cee, 10_000)
	place(t, db, bought, alice, 12_000) // alice leads below the reserve: Buy It Now stays
	b := auction.NewBidder(db, auction.BidderOptions{})
	defer b.Close()
	if _, err := b.BuyNow(ctx, bought, bob, 25_000, ""); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, db, seller); !equal(got, []string{"bought_now"}) {
		t.Errorf("seller of a bought item: %v", got)
	}
	if got := kinds(t, db, bob); !equal(got, []string{"won"}) {
		t.Errorf("the buyer: %v", got)
	}
	if got := kinds(t, db, alice); !equal(got, []string{"outbid"}) {
		t.Errorf("the leader before the purchase: %v, want one outbid (bought out)", got)
	}
	if got := kinds(t, db, cee); !equal(got, []string{"lost", "outbid"}) {
		t.Errorf("an earlier bidder: %v", got)
	}
	list, _, _ := notify.Page(ctx, db, alice, 0)
	if list[0].EndReason != "bought" || list[0].Amount != 25_000 {
		t.Errorf("alice's row: %+v", list[0])
	}

	reserve := fixture.AuctionWithTerms(t, db, seller, "Vase", 10_000, 2*time.Second, 50_000, 0)
	place(t, db, reserve, alice, 10_000)
	place(t, db, reserve, bob, 30_000)
	for _, u := range []int64{alice, bob, seller} {
		notify.MarkAllRead(ctx, db, u, 0)
	}
	time.Sleep(2100 * time.Millisecond)
	if _, err := auction.NewSweeper(db, nil).SettleDue(ctx); err != nil {
		t.Fatal(err)
	}
	unread := func(user int64) []string {
		list, _, _ := notify.Page(ctx, db, user, 0)
		var out []string
		for _, n := range list {
			if n.Unread() {
				out = append(out, n.Kind)
			}
		}
		return out
	}
	if got := unread(seller); !equal(got, []string{"reserve_not_met"}) {
		t.Errorf("seller, reserve not met: %v", got)
	}
	if got := unread(bob); !equal(got, []string{"reserve_not_met"}) {
		t.Errorf("the leader, reserve not met: %v", got)
	}
	if got := unread(alice); !equal(got, []string{"lost"}) {
		t.Errorf("another bidder, reserve not met: %v", got)
	}
}

func TestACancelledAuctionTellsSellerAndEveryBidder(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	seller := fixture.User(t, db, "seller", 0)
	alice := fixture.User(t, db, "alice", 10_000_000)
	bob := fixture.User(t, db, "bob", 10_000_000)
	id := fixture.Auction(t, db, seller, "Lamp", 10_000, time.Hour)
	place(t, db, id, alice, 10_000)
	place(t, db, id, bob, 11_000)
	if _, err := db.ExecContext(ctx, `UPDATE auctions SET status = 'cancelled', settled_at = now() WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[int64][]string{seller: {"cancelled"}, alice: {"cancelled", "outbid"}, bob: {"cancelled"}} {
		if got := kinds(t, db, who); !equal(got, want) {
			t.Errorf("user %d: %v, want %v", who, got, want)
		}
	}
}
