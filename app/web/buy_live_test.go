package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	"gavel/app/fixture"
	"gavel/views"
)

// Every page's socket learns when the reserve is met and Buy It Now is
// withdrawn (the offer's placeholder swapped in), and a purchase arrives
// as its row and then the result, never with the reserve's amount.
func TestSocketTellsReserveMetBuyItNowWithdrawnAndThePurchase(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t))
	seller := newUser(t, a.DB, "seller")
	alice := newUser(t, a.DB, "alice")
	bob := newUser(t, a.DB, "bob")
	id := fixture.AuctionWithTerms(t, a.DB, seller, "Lamp", 10_000, time.Hour, 23_300, 30_000)
	conn := dialWS(t, a, id)
	sync := readFrame(t, conn, 3*time.Second)
	if r := sync.Children().Filter("#" + views.ReserveID(id)); r.AttrOr("data-met", "") != "false" || r.AttrOr("hx-swap-oob", "") != "true" {
		t.Errorf("sync: reserve %q", r.Text())
	}
	if sync.Find("#"+views.BuyNowID(id)).Length() != 0 {
		t.Error("sync: the offer, which links per viewer, was sent")
	}
	bid(t, a.DB, id, alice, 15_000, "")
	msg := readFrame(t, conn, 3*time.Second)
	if msg.Children().Filter("#"+views.ReserveID(id)).AttrOr("data-met", "") != "false" || msg.Find("#"+views.BuyNowID(id)).Length() != 0 {
		t.Error("a bid below the reserve: met, or Buy It Now withdrawn")
	}
	bid(t, a.DB, id, bob, 40_000, "")
	msg = readFrame(t, conn, 3*time.Second)
	html, _ := msg.Parent().Html()
	if strings.Contains(html, "23,300") != (msg.Find("#"+views.PriceID(id)).Text() == "₩23,300") {
		t.Error("the reserve's amount shows other than as the price it lifted")
	}
	if msg.Children().Filter("#"+views.ReserveID(id)).AttrOr("data-met", "") != "true" {
		t.Error("the reserve met did not reach the page")
	}
	offer := msg.Children().Filter("#" + views.BuyNowID(id))
	if offer.AttrOr("hx-swap-oob", "") != "true" || offer.AttrOr("data-offered", "") != "false" || offer.Find("a").Length() != 0 {
		t.Errorf("Buy It Now withdrawn: %d fragments, offered %q", offer.Length(), offer.AttrOr("data-offered", ""))
	}

	plain := fixture.AuctionWithTerms(t, a.DB, seller, "Kettle", 10_000, time.Hour, 0, 15_000)
	conn = dialWS(t, a, plain)
	readFrame(t, conn, 3*time.Second)
	stream := openSSE(t, a.URL+"/events?auctions="+strconv.FormatInt(plain, 10))
	stream.next(t, views.CountdownEvent(plain), 3*time.Second)
	b := auction.NewBidder(a.DB, auction.BidderOptions{})
	defer b.Close()
	p, err := b.BuyNow(context.Background(), plain, bob, 15_000, "")
	if err != nil {
		t.Fatal(err)
	}
	msg = readFrame(t, conn, 3*time.Second)
	row := msg.Find("tr#" + views.BidRowID(p.Bids[0].ID))
	if row.Find(`[data-testid="purchase-bid"]`).Length() != 1 || msg.Find("#"+views.BuyNowID(plain)).AttrOr("data-offered", "") != "false" {
		t.Errorf("the purchase row: %q", row.Text())
	}
	for !(msg.Find(`[data-testid="result-bought"]`).Length() == 1) {
		msg = readFrame(t, conn, 3*time.Second) // the closing follows the row
	}
	if !strings.Contains(msg.Find(`[data-testid="result"]`).Text(), "bob") {
		t.Errorf("result: %q", msg.Find(`[data-testid="result"]`).Text())
	}
	// Over SSE the countdown and the result go straight to "bought": an
	// "ended, settling" frame just before would swap out the elements
	// whose listeners the result needs.
	var countdown, status string
	for countdown == "" || status == "" {
		var ev sseEvent
		select {
		case ev = <-stream.Events:
		case <-time.After(3 * time.Second):
			t.Fatalf("SSE after the purchase: countdown %q, status %q", countdown, status)
		}
		f := fragment(t, ev.Data)
		switch ev.Name {
		case views.CountdownEvent(plain):
			if phase := f.AttrOr("data-phase", ""); phase != "open" && countdown == "" {
				countdown = phase
			}
		case views.StatusEvent(plain):
			if status == "" {
				status = fmt.Sprint(f.Find(`[data-testid="result-bought"]`).Length() == 1)
			}
		}
	}
	if countdown != "sold" || status != "true" {
		t.Errorf("SSE after the purchase: first countdown %q, first result bought %s", countdown, status)
	}
}

// Seller, leader and buyer are told, on their streams, why an auction
// ended: bought outright (the previous leader too), or the reserve not met.
func TestNoticesSayBoughtOutrightOrReserveNotMet(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"SOFT_CLOSE_WINDOW": "0"})
	seller, alice, bob := a.as(t, "seller"), a.as(t, "alice"), a.as(t, "bob")
	sellerID, aliceID, bobID := seller.loginDev(t, "seller"), alice.loginDev(t, "alice"), bob.loginDev(t, "bob")
	a.DB.Exec(`INSERT INTO ledger (user_id, kind, amount) VALUES (?, 'deposit', 1000000), (?, 'deposit', 1000000)`, aliceID, bobID)
	streams := map[string]*sseClient{}
	for nick, c := range map[string]*testApp{"seller": seller, "alice": alice, "bob": bob} {
		streams[nick] = openSSE(t, a.URL+"/events", "Cookie", c.cookies(t), "Accept-Language", "en")
	}
	note := func(nick string) string {
		t.Helper()
		return fragment(t, streams[nick].next(t, views.NoticeEvent, 3*time.Second).Data).Text()
	}
	b := auction.NewBidder(a.DB, auction.BidderOptions{})
	defer b.Close()

	id := fixture.AuctionWithTerms(t, a.DB, sellerID, "Kettle", 10_000, time.Hour, 20_000, 25_000)
	if _, err := b.PlaceBid(context.Background(), auction.BidInput{AuctionID: id, BidderID: aliceID, Amount: 12_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.BuyNow(context.Background(), id, bobID, 25_000, ""); err != nil {
		t.Fatal(err)
	}
	for nick, want := range map[string]string{
		"alice":  "Someone bought it outright for ₩25,000",
		"bob":    "You bought it for ₩25,000",
		"seller": "Bought outright by bob for ₩25,000",
	} {
		if got := note(nick); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", nick, got, want)
		}
	}

	id = fixture.AuctionWithTerms(t, a.DB, sellerID, "Radio", 10_000, 2*time.Second, 50_000, 0)
	if _, err := b.PlaceBid(context.Background(), auction.BidInput{AuctionID: id, BidderID: aliceID, Amount: 30_000}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the end", func() bool {
		var over bool
		a.DB.QueryRow(`SELECT now() > ends_at FROM auctions WHERE id = ?`, id).Scan(&over)
		return over
	})
	settle(t, a.DB)
	if got := note("seller"); !strings.Contains(got, "Ended: reserve not met (highest bid ₩10,000)") {
		t.Errorf("seller: %q", got)
	}
	if got := note("alice"); !strings.Contains(got, "Reserve not met") {
		t.Errorf("leader: %q", got)
	}
}
