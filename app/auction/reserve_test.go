package auction_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	fixtures "gavel/app/fixture"
)

// listen opens a connection that LISTENs on the events channel.
func listen(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(context.Background(), "LISTEN "+auction.Channel); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readRaw is the next notification's payload.
func readRaw(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n.Payload
}

// settleWhenDue waits for auction id's end and runs a sweep.
func (f *fixture) settleWhenDue(id int64) {
	f.t.Helper()
	for f.int64(`SELECT (ends_at > now())::int FROM auctions WHERE id = ?`, id) == 1 {
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := auction.NewSweeper(f.db, nil).SettleDue(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

func TestCreateChecksReserveAndBuyItNow(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	img := f.image(seller)
	for _, tc := range []struct {
		start, reserve, buyNow int64
		field, key             string
	}{
		{10_000, 9_999, 0, auction.FieldReserve, "auction.reserve_below_start"},
		{10_000, auction.MaxAmount + 1, 0, auction.FieldReserve, "auction.reserve_invalid"},
		{10_000, 0, 12_999, auction.FieldBuyNow, "auction.buy_now_below_start"},
		{10_000, 20_000, 19_000, auction.FieldBuyNow, "auction.buy_now_below_reserve"},
		{10_000, 0, -5, auction.FieldBuyNow, "auction.buy_now_invalid"},
	} {
		_, err := auction.Create(f.ctx, f.db, auction.CreateInput{SellerID: seller, Title: "x", StartPrice: tc.start,
			Duration: time.Hour, ImageID: img, Reserve: tc.reserve, BuyNow: tc.buyNow}, 0)
		var fe auction.FieldErrors
		if !errors.As(err, &fe) || fe[tc.field] != tc.key || len(fe) != 1 {
			t.Errorf("%+v: got %v, want %s: %s", tc, err, tc.field, tc.key)
		}
	}
	if n := f.int64(`SELECT count(*) FROM auctions`); n != 0 {
		t.Fatalf("%d refused listings stored", n)
	}
	// The least allowed: the reserve at the start price, Buy It Now at
	// 130 % of it (rounded up).
	id, err := auction.Create(f.ctx, f.db, auction.CreateInput{SellerID: seller, Title: "x", StartPrice: 10_001,
		Duration: time.Hour, ImageID: img, Reserve: 10_001, BuyNow: 13_002}, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := auction.Get(f.ctx, f.db, id)
	if !a.HasReserve || a.ReserveMet || a.BuyNow != 13_002 || !a.State().BuyNowOffered() {
		t.Errorf("listed: %+v", a)
	}
	// The schema says the same, whatever writes it.
	for _, q := range []string{
		`UPDATE auctions SET reserve = 10000 WHERE id = ?`,
		`UPDATE auctions SET buy_now = 13001 WHERE id = ?`,
		`UPDATE auctions SET end_reason = 'bought' WHERE id = ?`,
	} {
		if _, err := f.db.ExecContext(f.ctx, q, id); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}

func TestReserveAndBuyItNowAreFixedOnceBidOn(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	id := fixtures.AuctionWithTerms(t, f.db, seller, "lamp", 10_000, time.Hour, 50_000, 60_000)
	f.exec(`UPDATE auctions SET reserve = 40000 WHERE id = ?`, id) // before any bid: allowed
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 20_000}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE auctions SET reserve = 30000 WHERE id = ?`, `UPDATE auctions SET buy_now = 70000 WHERE id = ?`} {
		if _, err := f.db.ExecContext(f.ctx, q, id); err == nil || !strings.Contains(err.Error(), "fixed") {
			t.Errorf("%s after a bid: %v", q, err)
		}
	}
}

// At the end, a price below the reserve leaves the item unsold: no money
// moves, the leader's maximum is no longer held, and the closing event
// says why, never with the reserve's amount.
func TestReserveNotMetAtTheEndIsUnsoldAndMovesNoMoney(t *testing.T) {
	url := dbtest.URL(t)
	f := &fixture{t: t, db: openDB(t, url), ctx: context.Background()}
	conn := listen(t, url)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	id := fixtures.AuctionWithTerms(t, f.db, seller, "lamp", 10_000, 2*time.Second, 50_000, 0)
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 30_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bob, Amount: 40_000}); err != nil {
		t.Fatal(err)
	}
	a, _ := auction.Get(f.ctx, f.db, id)
	if a.CurrentPrice != 31_000 || !a.HasReserve || a.ReserveMet || f.int64(`SELECT committed FROM users WHERE id = ?`, bob) != 40_000 {
		t.Fatalf("before the end: %+v", a)
	}
	ledger := f.int64(`SELECT count(*) FROM ledger`)
	f.settleWhenDue(id)

	a, _ = auction.Get(f.ctx, f.db, id)
	if a.Status != auction.StatusUnsold || a.EndReason != auction.ReasonReserveNotMet || a.WinnerID != 0 || a.BidCount != 3 {
		t.Errorf("after the end: %+v", a)
	}
	if n := f.int64(`SELECT count(*) FROM ledger`); n != ledger {
		t.Errorf("%d ledger rows written", n-ledger)
	}
	for user, want := range map[int64]int64{alice: 1_000_000, bob: 1_000_000, seller: 0} {
		if got := f.int64(`SELECT balance FROM users WHERE id = ?`, user); got != want {
			t.Errorf("user %d balance %d, want %d", user, got, want)
		}
	}
	if c := f.int64(`SELECT committed FROM users WHERE id = ?`, bob); c != 0 {
		t.Errorf("bob still has %d committed", c)
	}
	var closed auction.Event
	for closed.Kind != auction.EventClosed {
		raw := readRaw(t, conn)
		if strings.Contains(raw, "50000") {
			t.Errorf("an event shows the reserve: %s", raw)
		}
		closed = decode(t, raw)
	}
	if closed.Status != auction.StatusUnsold || closed.EndReason != auction.ReasonReserveNotMet || closed.LeaderID != bob ||
		closed.Leader != "bob" || closed.Price != 31_000 || !closed.HasReserve || closed.ReserveMet {
		t.Errorf("closed event: %+v", closed)
	}
	f.checkInvariants()
}

// A maximum at the reserve lifts the price to it at once, and at the end
// the item is sold at that price, paid through the ledger.
func TestReserveMetAtTheEndIsSoldAtTheLiftedPrice(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	id := fixtures.AuctionWithTerms(t, f.db, seller, "lamp", 10_000, 2*time.Second, 50_000, 0)
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 20_000}); err != nil {
		t.Fatal(err)
	}
	p, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bob, Amount: 70_000})
	if err != nil || p.Price != 50_000 || len(p.Bids) != 2 || p.Bids[1].Amount != 50_000 {
		t.Fatalf("bob's maximum over the reserve: %+v, %v", p, err)
	}
	if a, _ := auction.Get(f.ctx, f.db, id); !a.ReserveMet || a.CurrentPrice != 50_000 {
		t.Fatalf("after bob: %+v", a)
	}
	f.settleWhenDue(id)
	a, _ := auction.Get(f.ctx, f.db, id)
	if a.Status != auction.StatusSold || a.WinnerID != bob || a.FinalPrice != 50_000 || a.EndReason != "" {
		t.Errorf("after the end: %+v", a)
	}
	for user, want := range map[int64]int64{alice: 1_000_000, bob: 950_000, seller: 50_000} {
		if got := f.int64(`SELECT balance FROM users WHERE id = ?`, user); got != want {
			t.Errorf("user %d balance %d, want %d", user, got, want)
		}
	}
	f.checkInvariants()
}

func decode(t *testing.T, raw string) auction.Event {
	t.Helper()
	var ev auction.Event
	if err := jsonUnmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// A purchase ends the auction at once and settles it in the same
// transaction: sold at the Buy It Now price, the money moved, the previous
// leader's maximum released, and the events say so in order.
func TestBuyItNowSellsAndSettlesAtOnce(t *testing.T) {
	url := dbtest.URL(t)
	f := &fixture{t: t, db: openDB(t, url), ctx: context.Background()}
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	id := fixtures.AuctionWithTerms(t, f.db, seller, "lamp", 10_000, time.Hour, 50_000, 60_000)
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 40_000}); err != nil {
		t.Fatal(err)
	}
	conn := listen(t, url)
	p, err := b.BuyNow(f.ctx, id, bob, 60_000, "")
	if err != nil || p.Result != auction.Bought || p.Price != 60_000 || !p.Leading || len(p.Bids) != 1 || !p.Bids[0].Purchase {
		t.Fatalf("buy: %+v, %v", p, err)
	}
	a, _ := auction.Get(f.ctx, f.db, id)
	if a.Status != auction.StatusSold || a.EndReason != auction.ReasonBought || a.WinnerID != bob || a.FinalPrice != 60_000 ||
		a.SettledAt.IsZero() || a.EndsAt.After(time.Now()) {
		t.Errorf("after the purchase: %+v", a)
	}
	for user, want := range map[int64]int64{alice: 1_000_000, bob: 940_000, seller: 60_000} {
		if got := f.int64(`SELECT balance FROM users WHERE id = ?`, user); got != want {
			t.Errorf("user %d balance %d, want %d", user, got, want)
		}
	}
	if c := f.int64(`SELECT committed FROM users WHERE id = ?`, alice); c != 0 {
		t.Errorf("alice still has %d committed", c)
	}
	bid, closed := decode(t, readRaw(t, conn)), decode(t, readRaw(t, conn))
	if bid.Kind != auction.EventBid || !bid.Purchase || bid.BidderID != bob || bid.PrevLeader != alice || bid.Amount != 60_000 {
		t.Errorf("bid event: %+v", bid)
	}
	if closed.Kind != auction.EventClosed || closed.Status != auction.StatusSold || closed.EndReason != auction.ReasonBought ||
		closed.Leader != "bob" || closed.Price != 60_000 {
		t.Errorf("closed event: %+v", closed)
	}
	// Nothing after it: a bid or a second purchase is told it was bought.
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 90_000}); !errors.Is(err, auction.ErrBought) {
		t.Errorf("bid after the purchase: %v", err)
	}
	if _, err := b.BuyNow(f.ctx, id, alice, 60_000, ""); !errors.Is(err, auction.ErrBought) {
		t.Errorf("second purchase: %v", err)
	}
	// The sweeper finds nothing left to settle.
	if n, err := auction.NewSweeper(f.db, nil).SettleDue(f.ctx); err != nil || n != 0 {
		t.Errorf("sweep after the purchase: %d, %v", n, err)
	}
	f.checkInvariants()
}

// A purchase and a bid in one batch: the first judged wins, the other is
// refused with its reason, in both orders.
func TestPurchaseRacingABidInOneBatchFirstJudgedWins(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)

	// Bid first: without a reserve the bid withdraws Buy It Now.
	id := fixtures.AuctionWithTerms(t, f.db, seller, "bid first", 10_000, time.Hour, 0, 15_000)
	placed, errs := b.PlaceRun(id, []auction.BidInput{{BidderID: alice, Amount: 12_000}, {BidderID: bob, Amount: 15_000, Buy: true}})
	if errs[0] != nil || placed[0].Result != auction.Leading || !errors.Is(errs[1], auction.ErrBuyGone) {
		t.Errorf("bid then purchase: %v %v", errs, placed)
	}
	if a, _ := auction.Get(f.ctx, f.db, id); a.Status != auction.StatusOpen || a.LeaderID != alice || a.BidCount != 1 {
		t.Errorf("bid then purchase: %+v", a)
	}

	// Purchase first: it ends the auction, and the bid is told so.
	id = fixtures.AuctionWithTerms(t, f.db, seller, "buy first", 10_000, time.Hour, 0, 15_000)
	placed, errs = b.PlaceRun(id, []auction.BidInput{{BidderID: bob, Amount: 15_000, Buy: true}, {BidderID: alice, Amount: 12_000}})
	if errs[0] != nil || placed[0].Result != auction.Bought || !errors.Is(errs[1], auction.ErrBought) {
		t.Errorf("purchase then bid: %v %v", errs, placed)
	}
	if a, _ := auction.Get(f.ctx, f.db, id); a.Status != auction.StatusSold || a.WinnerID != bob || a.BidCount != 1 || a.EndReason != auction.ReasonBought {
		t.Errorf("purchase then bid: %+v", a)
	}

	// With a reserve, a bid below it leaves Buy It Now offered: both
	// stand, and the purchase outbids the bid.
	id = fixtures.AuctionWithTerms(t, f.db, seller, "reserve", 10_000, time.Hour, 20_000, 25_000)
	placed, errs = b.PlaceRun(id, []auction.BidInput{{BidderID: alice, Amount: 18_000}, {BidderID: bob, Amount: 25_000, Buy: true}})
	if errs[0] != nil || errs[1] != nil || placed[1].Result != auction.Bought {
		t.Errorf("bid below the reserve then purchase: %v %v", errs, placed)
	}
	if a, _ := auction.Get(f.ctx, f.db, id); a.Status != auction.StatusSold || a.WinnerID != bob || a.FinalPrice != 25_000 {
		t.Errorf("bid below the reserve then purchase: %+v", a)
	}
	for user, want := range map[int64]int64{alice: 1_000_000, bob: 1_000_000 - 15_000 - 25_000, seller: 40_000} {
		if got := f.int64(`SELECT balance FROM users WHERE id = ?`, user); got != want {
			t.Errorf("user %d balance %d, want %d", user, got, want)
		}
	}
	f.checkInvariants()
}

// Refused purchases change nothing: funds too short, the seller's own item.
func TestRefusedPurchasesChangeNothing(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 1_000_000)
	poor := f.user("poor", 14_999)
	id := fixtures.AuctionWithTerms(t, f.db, seller, "lamp", 10_000, time.Hour, 0, 15_000)
	before := f.snap(id)
	_, err := b.BuyNow(f.ctx, id, poor, 15_000, "")
	if ae := refusal(t, err, auction.ErrInsufficientFunds); ae.Amount != 14_999 {
		t.Errorf("available %d", ae.Amount)
	}
	_, err = b.BuyNow(f.ctx, id, seller, 15_000, "")
	refusal(t, err, auction.ErrBuyOwn)
	_, err = b.BuyNow(f.ctx, id, poor, 14_000, "")
	refusal(t, err, auction.ErrBuyChanged)
	if after := f.snap(id); after != before {
		t.Errorf("refusals changed %+v to %+v", before, after)
	}
	f.checkInvariants()
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
