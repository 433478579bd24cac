package live_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gavel/app/db/dbtest"
	"gavel/app/fixture"
	"gavel/app/i18n"
	"gavel/app/live"
	"gavel/views"
	"gavel/views/parts"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func doc(t *testing.T, html string) *goquery.Selection {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader("<template>" + html + "</template>"))
	if err != nil {
		t.Fatal(err)
	}
	return d.Find("template")
}

func TestCountdownShowsTimeLeftAndEndWithoutAnnouncingEachSecond(t *testing.T) {
	end := time.Date(2026, 3, 1, 12, 0, 0, 0, i18n.Zone)
	st := parts.State{ID: 7, Status: parts.StatusOpen, Price: 10_000, EndsAt: end}
	var buf bytes.Buffer
	parts.Countdown(i18n.For(i18n.English), st, end.Add(-90*time.Minute-500*time.Millisecond)).Render(context.Background(), &buf)
	cd := doc(t, buf.String()).Find("#" + views.CountdownID(7))
	if cd.Find(".countdown__left").Text() != "01:30:01 left" || cd.Find("time").Text() != "Mar 1, 2026 12:00 KST" {
		t.Errorf("open countdown: %q", cd.Text())
	}
	if r, _ := cd.Attr("role"); r != "timer" {
		t.Errorf("role %q", r)
	}
	if l, _ := cd.Attr("aria-live"); l != "off" {
		t.Errorf("aria-live %q", l)
	}
	buf.Reset()
	parts.Countdown(i18n.For(i18n.Korean), st, end.Add(-time.Minute)).Render(context.Background(), &buf)
	if !doc(t, buf.String()).Children().HasClass("countdown--ending") {
		t.Error("a minute left is not countdown--ending")
	}
	buf.Reset()
	parts.Countdown(i18n.For(i18n.Korean), st, end).Render(context.Background(), &buf)
	if c := doc(t, buf.String()).Children(); !c.HasClass("countdown--ended") || c.Text() != "마감됨" {
		t.Errorf("ended: %q", c.Text())
	}
}

func TestBidHistoryIsAPoliteLiveRegionOnTheAuctionSocket(t *testing.T) {
	var buf bytes.Buffer
	parts.BidHistory(i18n.For(i18n.English), 3, []parts.Bid{{ID: 9, Bidder: "alice", Amount: 12_000, At: time.Now()}}).
		Render(context.Background(), &buf)
	d := doc(t, buf.String())
	sec := d.Find("section.bid-history")
	if ext, _ := sec.Attr("hx-ext"); ext != "ws" {
		t.Errorf("hx-ext %q", ext)
	}
	if u, _ := sec.Attr("ws-connect"); u != views.AuctionWSURL(3, i18n.English) {
		t.Errorf("ws-connect %q", u)
	}
	if l, _ := sec.Find("[aria-live]").Attr("aria-live"); l != "polite" {
		t.Errorf("aria-live %q", l)
	}
	if d.Find("table.bids tbody#"+views.BidRowsID+" tr#"+views.BidRowID(9)+".bid-row").Length() != 1 {
		t.Error("no row")
	}
	if _, ok := d.Find("tbody").Attr("hx-swap-oob"); ok {
		t.Error("in a page the rows are not out-of-band")
	}
}

func TestHubDropsASubscriberThatDoesNotReadAndKeepsTheOthers(t *testing.T) {
	u := dbtest.URL(t)
	bdb := dbtest.New(t)
	h := live.New(live.Options{DB: bdb, DatabaseURL: u, Queue: 2, Tick: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	defer func() { cancel(); h.Close(); <-done }()

	seller := fixture.User(t, bdb, "seller", 0)
	id := fixture.Auction(t, bdb, seller, "Lamp", 1000, time.Hour)
	// Before subscribing the fast reader: its queue of 2 must not wait on
	// this database round trip while the 20 ms clock fills it.
	if _, err := h.WatchBids(ctx, i18n.Korean, 424242); err != live.ErrNotFound {
		t.Errorf("socket on an unknown auction: %v", err)
	}
	slow, err := h.WatchCountdowns(ctx, i18n.Korean, []int64{id, 424242}, 0)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := h.WatchCountdowns(ctx, i18n.English, []int64{id}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	kick := make(chan struct{}, 1)
	fast.Start(func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	})
	for got := 0; got < 10; {
		msgs, ok := fast.Take(nil)
		if !ok {
			t.Fatal("the reading subscriber was dropped")
		}
		for _, m := range msgs {
			if !bytes.HasPrefix(m.Data, []byte("event: "+views.CountdownEvent(id)+"\ndata: <span")) {
				t.Fatalf("frame %q", m.Data)
			}
			got++
		}
		if len(msgs) == 0 {
			select {
			case <-kick:
			case <-time.After(3 * time.Second):
				t.Fatal("no countdown")
			}
		}
	}
	for deadline := time.Now().Add(3 * time.Second); slow.Err() == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the subscriber that never reads was kept")
		}
	}
	if err := slow.Err(); err != live.ErrSlow {
		t.Errorf("slow subscriber ended with %v", err)
	}
}
