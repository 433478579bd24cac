package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// outcome is what a bid answer says happened: its data-outcome, or the
// refusal.
func outcome(doc *goquery.Document) string {
	if o, ok := doc.Find(`[data-testid="bid-placed"]`).Attr("data-outcome"); ok {
		return o
	}
	return "refused: " + strings.TrimSpace(doc.Find(`[data-testid="bid-error"]`).Text())
}

type lotRow struct {
	price, leaderMax, count, extensions int64
	leader                              string
	endsAt, scheduled                   time.Time
}

func lotOf(t *testing.T, a *testApp, id int64) lotRow {
	t.Helper()
	var r lotRow
	err := a.DB.QueryRowContext(context.Background(), `SELECT a.current_price, COALESCE(a.leader_max, 0), a.bid_count,
		a.extensions, COALESCE(u.nick, ''), a.ends_at, a.scheduled_end
		FROM auctions a LEFT JOIN users u ON u.id = a.leader_id WHERE a.id = ?`, id).
		Scan(&r.price, &r.leaderMax, &r.count, &r.extensions, &r.leader, &r.endsAt, &r.scheduled)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The worked example through the real bid form: S = 10,000, five
// bidders, every answer, price, automatic row and privacy as eBay has them.
func TestProxyBiddingWorkedExampleThroughTheBidForm(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000"}, noLimits)
	id := a.as(t, "seller").sell(t, "Camera", 10_000, "1h0m0s")
	users := map[string]*testApp{}
	for _, n := range []string{"A", "B", "C", "D", "E"} {
		users[n] = a.as(t, "bidder"+n)
	}
	for _, s := range []struct {
		who      string
		max      int64
		status   int
		outcome  string
		price    int64
		leader   string
		rowsMore int64
	}{
		{"A", 30_000, 200, "leading", 10_000, "bidderA", 1},
		{"B", 15_000, 200, "outbid", 16_000, "bidderA", 2}, // B 15,000, A 16,000 automatic
		{"C", 30_000, 200, "outbid", 30_000, "bidderA", 2}, // a tie: the earlier maximum wins
		{"D", 30_500, 409, "refused: 이전 입찰가보다 높아야 합니다. 최소 입찰가는 ₩31,000입니다.", 30_000, "bidderA", 0},
		{"D", 45_000, 200, "leading", 31_000, "bidderD", 1},
		{"E", 45_500, 200, "leading", 45_500, "bidderE", 2}, // D 45,000 automatic, then E: less than an increment more
		{"E", 60_000, 200, "raised", 45_500, "bidderE", 0},  // silently: no row, no price change
		{"D", 58_000, 200, "outbid", 60_000, "bidderE", 2},
	} {
		before := lotOf(t, a, id)
		code, doc := users[s.who].bid(t, id, s.max, "")
		if code != s.status || outcome(doc) != s.outcome {
			t.Fatalf("%s max %d: %d %q, want %d %q", s.who, s.max, code, outcome(doc), s.status, s.outcome)
		}
		after := lotOf(t, a, id)
		if after.price != s.price || after.leader != s.leader || after.count-before.count != s.rowsMore {
			t.Errorf("%s max %d: price %d leader %s +%d rows, want %d %s +%d", s.who, s.max,
				after.price, after.leader, after.count-before.count, s.price, s.leader, s.rowsMore)
		}
		if s.outcome == "outbid" {
			if v, _ := doc.Find(`[data-testid="bid-amount"]`).Attr("value"); v != strconv.FormatInt(after.price+1000*(1+after.price/50_000), 10) {
				t.Errorf("%s: the answer prefills %q after an earlier maximum answered", s.who, v)
			}
		}
	}

	// Each bidder sees their own maximum and standing, and nobody else's.
	_, doc := users["E"].get(t, fmt.Sprintf("/auctions/%d", id))
	if got := doc.Find(`[data-testid="my-standing"]`).Text(); !strings.Contains(got, "₩60,000") || !strings.Contains(got, "최고 입찰자") {
		t.Errorf("E's standing: %q", got)
	}
	_, doc = users["D"].get(t, fmt.Sprintf("/auctions/%d", id))
	if got := doc.Find(`[data-testid="my-standing"]`).Text(); !strings.Contains(got, "₩58,000") || !strings.Contains(got, "추월") {
		t.Errorf("D's standing: %q", got)
	}
	// E raises again, silently: 75,000 shows on E's pages alone.
	if code, doc := users["E"].bid(t, id, 75_000, ""); code != 200 || outcome(doc) != "raised" ||
		!strings.Contains(doc.Find(`[data-testid="bid-placed"]`).Text(), "₩75,000") {
		t.Fatalf("E's second raise: %d %q", code, outcome(doc))
	}
	for name, who := range map[string]*testApp{"A": users["A"], "D": users["D"], "a guest": a.newClient(), "the seller": a.as(t, "seller")} {
		for _, path := range []string{fmt.Sprintf("/auctions/%d", id), "/", "/me/bids", "/wallet"} {
			_, doc := who.get(t, path)
			if html, _ := doc.Html(); strings.Contains(html, "75,000") || strings.Contains(html, "75000") {
				t.Errorf("E's maximum shows to %s on %s", name, path)
			}
		}
	}
	_, doc = users["E"].get(t, "/wallet")
	if got := doc.Find(`[data-testid="wallet-committed"]`).Text(); !strings.Contains(got, "₩75,000") {
		t.Errorf("E's wallet holds %q, want the maximum", got)
	}
	// The history labels the automatic rows: A 16,000 and 30,000, D
	// 45,000 and E 60,000.
	_, doc = a.newClient().get(t, fmt.Sprintf("/auctions/%d", id))
	var auto []string
	doc.Find(`[data-testid="bid-row"]`).Each(func(_ int, s *goquery.Selection) {
		if s.Find(`[data-testid="auto-bid"]`).Length() == 1 {
			auto = append(auto, strings.Fields(s.Find(".bid-row__bidder").Text())[0]+" "+s.Find(".bid-row__amount").Text())
		}
	})
	if strings.Join(auto, ", ") != "bidderE ₩60,000, bidderD ₩45,000, bidderA ₩30,000, bidderA ₩16,000" {
		t.Errorf("automatic rows: %v", auto)
	}
	// /me/bids shows each their own maximum.
	_, doc = users["D"].get(t, "/me/bids")
	if got := doc.Find(`[data-testid="my-bid"] .money`).First().Text(); got != "₩58,000" {
		t.Errorf("D's /me/bids maximum: %q", got)
	}
}

// A maximum holds its whole amount, not the price, across auctions.
func TestFundsAreHeldByMaximumsAcrossTwoAuctions(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "50000"}, noLimits)
	seller := a.as(t, "seller")
	one, two := seller.sell(t, "Lamp", 1_000, "1h0m0s"), seller.sell(t, "Chair", 1_000, "1h0m0s")
	b := a.as(t, "bidder")
	if code, doc := b.bid(t, one, 40_000, ""); code != 200 || outcome(doc) != "leading" {
		t.Fatalf("first maximum: %d %q", code, outcome(doc))
	}
	if got := lotOf(t, a, one).price; got != 1_000 {
		t.Fatalf("price %d, want the start price", got)
	}
	// 50,000 − 40,000 held by the maximum on the lamp leaves 10,000.
	if code, doc := b.bid(t, two, 10_001, ""); code != 409 || !strings.Contains(outcome(doc), "₩10,000") {
		t.Errorf("a maximum past the funds: %d %q", code, outcome(doc))
	}
	if code, doc := b.bid(t, two, 10_000, ""); code != 200 || outcome(doc) != "leading" {
		t.Errorf("a maximum of exactly the funds: %d %q", code, outcome(doc))
	}
	// Raising needs only the difference, which is gone now.
	if code, doc := b.bid(t, one, 40_001, ""); code != 409 || !strings.Contains(outcome(doc), "잔액") {
		t.Errorf("a raise past the funds: %d %q", code, outcome(doc))
	}
	_, doc := b.get(t, "/wallet")
	if got := doc.Find(`[data-testid="wallet-committed"]`).Text(); !strings.Contains(got, "₩50,000") {
		t.Errorf("wallet commitments: %q", got)
	}
}

// Soft close through the bid form, with a window and cap of a few seconds:
// a bid in the window moves the end, a raise does not, and the end never
// passes the cap; a hard-end auction is never moved.
func TestSoftCloseExtendsTheEndUpToTheCap(t *testing.T) {
	t.Parallel()
	// A window longer than the auction, so that the test's own steps,
	// however slow (-race), happen inside it.
	a := start(t, map[string]string{"STARTING_BALANCE": "100000000", "SHORT_AUCTION": "4s",
		"SOFT_CLOSE_WINDOW": "8s", "SOFT_CLOSE_CAP": "12s"}, noLimits)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Watch", 1_000, "4s")
	x, y := a.as(t, "bidder-x"), a.as(t, "bidder-y")

	lot := lotOf(t, a, id)
	if code, doc := x.bid(t, id, 5_000, ""); code != 200 || doc.Find(`[data-testid="bid-extended"]`).Length() != 1 {
		t.Fatalf("a bid 4 s before the end: %d %q, extended shown %d", code, outcome(doc), doc.Find(`[data-testid="bid-extended"]`).Length())
	}
	after := lotOf(t, a, id)
	if after.extensions != 1 || !after.endsAt.After(lot.endsAt) || !after.scheduled.Equal(lot.scheduled) {
		t.Fatalf("after one bid: %+v (was %+v)", after, lot)
	}
	// The leader raising their maximum changes nothing that shows.
	if code, doc := x.bid(t, id, 9_000, ""); code != 200 || outcome(doc) != "raised" || doc.Find(`[data-testid="bid-extended"]`).Length() != 0 {
		t.Fatalf("a raise in the window: %d %q", code, outcome(doc))
	}
	if r := lotOf(t, a, id); r.extensions != 1 || !r.endsAt.Equal(after.endsAt) {
		t.Errorf("a raise moved the end: %+v", r)
	}
	// The room tells every viewer the end moved, and that a bid now would
	// move it again.
	_, doc := a.newClient().get(t, fmt.Sprintf("/auctions/%d", id))
	if doc.Find(`[data-testid="extended"]`).Length() != 1 || doc.Find(`[data-testid="soft-close-window"]`).Length() != 1 {
		t.Errorf("room countdown: %q", doc.Find(`[data-testid="countdown"]`).Text())
	}
	// Bid on, each time answered by the leader's maximum, until the end
	// stops moving at the cap.
	cap := lot.scheduled.Add(12 * time.Second)
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		r := lotOf(t, a, id)
		if r.endsAt.After(cap) {
			t.Fatalf("the end %v passed the cap %v", r.endsAt, cap)
		}
		bidder := x
		if r.leader == "bidder-x" {
			bidder = y
		}
		code, doc := bidder.bid(t, id, r.leaderMax+10_000, "")
		if code == http.StatusConflict && strings.Contains(outcome(doc), "종료") {
			break // ended: at the cap
		}
		if code != 200 {
			t.Fatalf("bid: %d %q", code, outcome(doc))
		}
		time.Sleep(300 * time.Millisecond)
	}
	r := lotOf(t, a, id)
	if !r.endsAt.Equal(cap) || r.extensions < 2 {
		t.Errorf("at the end: ends %v (cap %v), extended %d times", r.endsAt, cap, r.extensions)
	}

	// Soft close off for one listing: its end stays where it was.
	resp, _ := seller.postMultipart(t, "/auctions", url.Values{"title": {"Clock"}, "start_price": {"1000"},
		"duration": {"4s"}, "hard_end": {"1"}}, "photo.png", photo(t))
	hard, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/auctions/"), "?created=1"), 10, 64)
	if code, _ := x.bid(t, hard, 1_000, ""); code != 200 {
		t.Fatalf("bid on the hard-end auction: %d", code)
	}
	if r := lotOf(t, a, hard); r.extensions != 0 || !r.endsAt.Equal(r.scheduled) {
		t.Errorf("a hard-end auction moved: %+v", r)
	}
}

// The same bid form posted twice (a double click, or a retry after the
// answer was lost) is placed once and answered the same both times; a new
// form (a new key) is judged afresh.
func TestTheSameBidFormPostedTwiceIsPlacedOnce(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000"}, noLimits)
	id := a.as(t, "seller").sell(t, "Kettle", 1_000, "1h0m0s")
	b := a.as(t, "bidder")
	_, room := b.get(t, fmt.Sprintf("/auctions/%d", id))
	key, _ := room.Find(`[data-testid="bid-key"]`).Attr("value")
	if len(key) < 16 {
		t.Fatalf("the form's key: %q", key)
	}
	form := url.Values{"amount": {"4000"}, "key": {key}}
	var answers []string
	for range 2 {
		resp, doc := b.postForm(t, fmt.Sprintf("/auctions/%d/bids", id), form, "HX-Request", "true")
		answers = append(answers, fmt.Sprint(resp.StatusCode, " ", outcome(doc)))
	}
	if answers[0] != "200 leading" || answers[1] != answers[0] {
		t.Errorf("answers %q", answers)
	}
	if n := count(t, a, `SELECT count(*) FROM bids WHERE auction_id = ?`, id); n != 1 {
		t.Errorf("%d rows", n)
	}
	// A fresh form with the same maximum is a leader not raising.
	resp, doc := b.postForm(t, fmt.Sprintf("/auctions/%d/bids", id), url.Values{"amount": {"4000"}}, "HX-Request", "true")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(outcome(doc), "₩4,000") {
		t.Errorf("a new form: %d %q", resp.StatusCode, outcome(doc))
	}
}
