package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	"gavel/app/fixture"
	"gavel/app/live"
	"gavel/app/web"
	"gavel/views"
)

func TestAnEditReachesTheOpenRoomsOverTheSocketAndTheirRefreshShowsIt(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t))
	seller := newUser(t, a.DB, "seller")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	conn := dialWS(t, a, id)
	readFrame(t, conn, 3*time.Second) // sync

	photos, err := auction.Photos(context.Background(), a.DB, id)
	if err != nil {
		t.Fatal(err)
	}
	more := fixture.Image(t, a.DB, seller)
	if err := auction.Edit(context.Background(), a.DB, auction.EditInput{AuctionID: id, SellerID: seller,
		Title: "Brass lamp", Description: "Works, with a new cord", Photos: []int64{more, photos[0]},
		SetPrices: true, Reserve: 20_000, BuyNow: 30_000}); err != nil {
		t.Fatal(err)
	}
	msg := readFrame(t, conn, 3*time.Second)
	refresh := msg.Find("#" + views.ListingRefreshID(id))
	if refresh.AttrOr("hx-swap-oob", "") != "true" || refresh.AttrOr("hx-trigger", "") != "load" ||
		refresh.AttrOr("hx-get", "") != fmt.Sprintf("/auctions/%d/listing?lang=ko", id) {
		t.Fatalf("edit message: %s", must(msg.Html()))
	}
	// What the refresh fetches: the listing as it is now, each part in
	// place of its own, in the socket's language.
	resp, err := http.Get(a.URL + refresh.AttrOr("hx-get", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || doc.Find("header.site-header").Length() != 0 {
		t.Fatalf("listing fragment: %d, a whole page: %v", resp.StatusCode, doc.Find("header.site-header").Length() != 0)
	}
	title := doc.Find("#" + views.TitleID(id))
	if title.Text() != "Brass lamp" || title.AttrOr("hx-swap-oob", "") != "true" {
		t.Errorf("title fragment %q", must(title.Html()))
	}
	if got := doc.Find("#" + views.AboutID(id)).Text(); !strings.Contains(got, "Works, with a new cord") {
		t.Errorf("description fragment %q", got)
	}
	first := doc.Find("#"+views.GalleryID(id)+` [data-testid="gallery-photo"] img`).First().AttrOr("src", "")
	if first != fmt.Sprintf("/images/%d", more) {
		t.Errorf("gallery fragment starts with %q, want the new cover", first)
	}
	// The reserve and Buy It Now the edit added, in their places.
	if r := doc.Find("#" + views.ReserveSlotID(id) + ` [data-testid="reserve"]`); r.AttrOr("data-met", "") != "false" ||
		doc.Find("#"+views.ReserveSlotID(id)).AttrOr("hx-swap-oob", "") != "true" {
		t.Errorf("reserve fragment %q", r.Text())
	}
	if bin := doc.Find("#" + views.BuyNowSlotID(id)); !strings.Contains(bin.Text(), "30,000") || bin.AttrOr("hx-swap-oob", "") != "true" {
		t.Errorf("Buy It Now fragment %q", bin.Text())
	}
	if strings.Contains(doc.Text(), "20,000") {
		t.Error("the listing fragment shows the reserve's amount")
	}

	// After the first bid, an addendum goes out the same way.
	bidder := newUser(t, a.DB, "bidder")
	bid(t, a.DB, id, bidder, 10_000, "")
	readFrame(t, conn, 3*time.Second) // the bid
	if err := auction.AddAddendum(context.Background(), a.DB, id, seller, "Ships in a box"); err != nil {
		t.Fatal(err)
	}
	if readFrame(t, conn, 3*time.Second).Find("#"+views.ListingRefreshID(id)).Length() != 1 {
		t.Fatal("no refresh after an addendum")
	}
	resp2, err := http.Get(a.URL + fmt.Sprintf("/auctions/%d/listing?lang=en", id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	doc, _ = goquery.NewDocumentFromReader(resp2.Body)
	if got := doc.Find(`[data-testid="addendum"]`).Text(); !strings.Contains(got, "Ships in a box") || !strings.Contains(got, "Added by the seller") {
		t.Errorf("addendum fragment %q", got)
	}
}

func TestTheDashboardsPriceAndBidsFollowEveryBidOverSSE(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t))
	seller := newUser(t, a.DB, "seller")
	alice := newUser(t, a.DB, "alice")
	bob := newUser(t, a.DB, "bob")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	bid(t, a.DB, id, alice, 10_000, "")

	// A page that does not show them (the front page) gets none.
	plain := openSSE(t, a.URL+fmt.Sprintf("/events?auctions=%d&lang=en", id))
	sse := openSSE(t, a.URL+fmt.Sprintf("/events?auctions=%d&summary=1&lang=en", id))
	// On connecting: the price and bids as they are, whatever the page
	// was drawn with.
	first := fragment(t, sse.next(t, views.SummaryEvent(id), 3*time.Second).Data)
	if first.AttrOr("id", "") != views.SummaryID(id) || !strings.Contains(first.Text(), "₩10,000") || !strings.Contains(first.Text(), "1 bid") {
		t.Fatalf("first summary %q", first.Text())
	}
	bid(t, a.DB, id, bob, 15_000, "")
	next := fragment(t, sse.next(t, views.SummaryEvent(id), 3*time.Second).Data)
	if got := next.Find(`[data-testid="summary-price"]`).Text(); got != "₩11,000" {
		t.Errorf("after bob's bid: price %q, want ₩11,000 (one increment over alice's maximum)", got)
	}
	if got := next.Find(`[data-testid="summary-bids"]`).Text(); !strings.Contains(got, "2") {
		t.Errorf("after bob's bid: %q", got)
	}
	plain.next(t, views.CountdownEvent(id), 3*time.Second)
	quiet := time.After(1500 * time.Millisecond)
	for {
		select {
		case ev := <-plain.Events:
			if ev.Name == views.SummaryEvent(id) {
				t.Fatalf("a stream that did not ask got %q", ev.Data)
			}
		case <-quiet:
			return
		}
	}
}

func must(s string, err error) string {
	if err != nil {
		return err.Error()
	}
	return s
}

func TestAnEditWhileTheListenerIsDownStillReachesTheRoomAfterTheResync(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t), func(o *live.Options, _ *web.Deps) { o.Backoff = time.Second })
	seller := newUser(t, a.DB, "seller")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	conn := dialWS(t, a, id)
	readFrame(t, conn, 3*time.Second)
	_, before := a.Hub.Listening()
	var killed int
	if err := a.DB.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?`,
		a.AppName).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate the listener: %v (%d)", err, killed)
	}
	waitFor(t, 3*time.Second, "the hub to notice", func() bool { up, _ := a.Hub.Listening(); return !up })
	photos, _ := auction.Photos(context.Background(), a.DB, id)
	if err := auction.Edit(context.Background(), a.DB, auction.EditInput{AuctionID: id, SellerID: seller,
		Title: "Lamp, edited in the gap", Photos: photos}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a new listener", func() bool { up, n := a.Hub.Listening(); return up && n > before })
	// The resync's state, then the refresh its load found necessary.
	for range 3 {
		if readFrame(t, conn, 3*time.Second).Find("#"+views.ListingRefreshID(id)).Length() == 1 {
			return
		}
	}
	t.Fatal("no listing refresh after the resync")
}

func TestAResyncWithoutAnEditSendsNoListingRefresh(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t), func(o *live.Options, _ *web.Deps) { o.Backoff = time.Second })
	seller := newUser(t, a.DB, "seller")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	conn := dialWS(t, a, id)
	readFrame(t, conn, 3*time.Second)
	_, before := a.Hub.Listening()
	a.DB.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?`, a.AppName)
	waitFor(t, 10*time.Second, "a new listener", func() bool { up, n := a.Hub.Listening(); return up && n > before })
	readFrame(t, conn, 3*time.Second) // the resync
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, msg, err := conn.ReadMessage(); err == nil {
		t.Errorf("after a resync of an unchanged listing: %s", msg)
	}
}
