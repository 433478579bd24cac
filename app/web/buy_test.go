package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/i18n"
)

// ko is the default language's messages, which the test clients get.
var ko = i18n.For(i18n.Korean)

// sellTerms lists an item with a reserve and a Buy It Now price ("" for
// none) through the sell form and returns its id.
func (a *testApp) sellTerms(t *testing.T, title string, price int64, duration, reserve, buyNow string) int64 {
	t.Helper()
	resp, doc := a.postMultipart(t, "/auctions", url.Values{
		"title": {title}, "start_price": {strconv.FormatInt(price, 10)}, "duration": {duration},
		"reserve": {reserve}, "buy_now": {buyNow},
	}, "photo.png", photo(t))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sell %q: %d %s", title, resp.StatusCode, doc.Find(".field__error").Text())
	}
	id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(loc, "/auctions/"), "?created=1"), 10, 64)
	if err != nil {
		t.Fatalf("redirect %q", loc)
	}
	return id
}

// room is auction id's room as this client sees it.
func (a *testApp) room(t *testing.T, id int64) (string, *goquery.Document) {
	t.Helper()
	_, doc := a.get(t, fmt.Sprintf("/auctions/%d", id))
	html, _ := doc.Html()
	return html, doc
}

// buy confirms Buy It Now at price as htmx does (the dialog's form) and
// returns the status and the answer.
func (a *testApp) buy(t *testing.T, id, price int64, header ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	return a.postForm(t, fmt.Sprintf("/auctions/%d/buy", id), url.Values{"price": {strconv.FormatInt(price, 10)}}, header...)
}

// eventually reports whether ok holds within a second.
func eventually(ok func() bool) bool {
	for range 50 {
		if ok() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func buyError(doc *goquery.Document) string {
	return strings.TrimSpace(doc.Find(`[data-testid="buy-error"]`).Text())
}

func balanceOf(t *testing.T, a *testApp, nick string) int64 {
	t.Helper()
	return int64(count(t, a, `SELECT balance FROM users WHERE nick = ?`, nick))
}

func TestSellFormTakesReserveAndBuyItNowAndRefusesBadOnes(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	for _, tc := range []struct {
		reserve, buyNow string
		field, key      string
	}{
		{"9999", "", "reserve", "auction.reserve_below_start"},
		{"abc", "", "reserve", "sell.reserve_not_a_number"},
		{"", "12999", "buy_now", "auction.buy_now_below_start"},
		{"20000", "19000", "buy_now", "auction.buy_now_below_reserve"},
		{"", "1.5", "buy_now", "sell.buy_now_not_a_number"},
	} {
		for _, htmx := range []bool{true, false} {
			var header []string
			if htmx {
				header = []string{"HX-Request", "true"}
			}
			resp, doc := seller.postMultipart(t, "/auctions", url.Values{"title": {"Lamp"}, "start_price": {"10000"},
				"duration": {"24h0m0s"}, "reserve": {tc.reserve}, "buy_now": {tc.buyNow}}, "photo.png", photo(t), header...)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%+v (htmx %v): %d", tc, htmx, resp.StatusCode)
			}
			if got := doc.Find(`[data-testid="error-` + tc.field + `"]`).Text(); got != ko.T(tc.key) {
				t.Errorf("%+v: error %q, want %q", tc, got, ko.T(tc.key))
			}
			if v, _ := doc.Find(`#` + tc.field).Attr("value"); v != map[string]string{"reserve": tc.reserve, "buy_now": tc.buyNow}[tc.field] {
				t.Errorf("%+v: the entered value was not kept: %q", tc, v)
			}
		}
	}
	if n := count(t, a, `SELECT count(*) FROM auctions`) + count(t, a, `SELECT count(*) FROM images`); n != 0 {
		t.Fatalf("refused listings stored %d rows", n)
	}
	id := seller.sellTerms(t, "Lamp", 10_000, "24h0m0s", "20,000", "26000")
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE id = ? AND reserve = 20000 AND buy_now = 26000`, id); n != 1 {
		t.Error("the listing's reserve and Buy It Now were not stored")
	}
	none := seller.sellTerms(t, "Plain", 10_000, "24h0m0s", "", "")
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE id = ? AND reserve IS NULL AND buy_now IS NULL`, none); n != 1 {
		t.Error("empty fields did not list without a reserve or Buy It Now")
	}
}

// The room and the cards say whether the reserve is met, never its amount;
// a maximum at or above it lifts the price to it at once.
func TestReserveStatusShowsNeverTheAmountAndLiftsThePrice(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000"}, noLimits)
	seller := a.as(t, "seller")
	id := seller.sellTerms(t, "Radio", 10_000, "1h0m0s", "77700", "")
	x, y, guest := a.as(t, "bidder-x"), a.as(t, "bidder-y"), a.newClient()
	hidden := func(when string) {
		t.Helper()
		for _, c := range []*testApp{x, y, guest} {
			html, doc := c.room(t, id)
			if strings.Contains(html, "77,700") || strings.Contains(html, "77700") || doc.Find(`[data-testid="my-reserve"]`).Length() != 0 {
				t.Errorf("%s: the room shows the reserve", when)
			}
			if doc.Find(`[data-testid="reserve"][data-met="false"]`).Text() != ko.T("live.reserve.not_met") {
				t.Errorf("%s: reserve status %q", when, doc.Find(`[data-testid="reserve"]`).Text())
			}
		}
		_, home := guest.get(t, "/")
		if h, _ := home.Html(); strings.Contains(h, "77,700") || home.Find(`[data-testid="card"] [data-testid="reserve"][data-met="false"]`).Length() != 1 {
			t.Errorf("%s: the card shows the reserve or not its status", when)
		}
	}
	hidden("before any bid")
	// The seller alone is told their reserve.
	if _, doc := seller.room(t, id); doc.Find(`[data-testid="my-reserve"]`).Text() != ko.T("room.my_reserve", ko.Money(77_700)) {
		t.Errorf("the seller's own reserve: %q", doc.Find(`[data-testid="my-reserve"]`).Text())
	}
	if code, doc := x.bid(t, id, 40_000, ""); code != 200 || outcome(doc) != "leading" {
		t.Fatalf("x: %d %q", code, outcome(doc))
	}
	if r := lotOf(t, a, id); r.price != 10_000 {
		t.Fatalf("below the reserve the price is the start: %d", r.price)
	}
	hidden("after a bid below the reserve")
	if code, doc := y.bid(t, id, 90_000, ""); code != 200 || outcome(doc) != "leading" {
		t.Fatalf("y: %d %q", code, outcome(doc))
	}
	if r := lotOf(t, a, id); r.price != 77_700 || r.leader != "bidder-y" {
		t.Fatalf("a maximum over the reserve lifts the price to it: %+v", r)
	}
	// The room is served from a cache that the bid's notice updates.
	var doc *goquery.Document
	if !eventually(func() bool {
		_, doc = guest.room(t, id)
		return doc.Find(`[data-testid="reserve"][data-met="true"]`).Text() == ko.T("live.reserve.met")
	}) {
		t.Errorf("after the reserve is met: %q", doc.Find(`[data-testid="reserve"]`).Text())
	}
}

// At the end: below the reserve the item is unsold and no money moves;
// at or above it, it is sold and paid.
func TestReserveAtTheEndDecidesTheOutcomeAndTheMoney(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000", "SHORT_AUCTION": "2s", "SOFT_CLOSE_WINDOW": "0"}, noLimits)
	seller := a.as(t, "seller")
	notMet := seller.sellTerms(t, "Radio", 10_000, "2s", "50000", "")
	met := seller.sellTerms(t, "Clock", 10_000, "2s", "30000", "")
	x, y := a.as(t, "bidder-x"), a.as(t, "bidder-y")
	x.bid(t, notMet, 40_000, "")
	y.bid(t, met, 35_000, "")
	if r := lotOf(t, a, met); r.price != 30_000 {
		t.Fatalf("met: price %d", r.price)
	}
	time.Sleep(2100 * time.Millisecond)
	settle(t, a.DB)

	_, doc := x.room(t, notMet)
	if doc.Find(`[data-testid="result-reserve-not-met"]`).Length() != 1 {
		t.Errorf("reserve not met: result %q", doc.Find(`[data-testid="result"]`).Text())
	}
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE id = ? AND status = 'unsold' AND end_reason = 'reserve_not_met'`, notMet); n != 1 {
		t.Error("the auction below its reserve is not unsold for that reason")
	}
	if n := count(t, a, `SELECT count(*) FROM ledger WHERE auction_id = ?`, notMet); n != 0 {
		t.Errorf("money moved for an unsold item: %d rows", n)
	}
	if n := count(t, a, `SELECT committed FROM users WHERE nick = 'bidder-x'`); n != 0 {
		t.Errorf("the leader still has %d held", n)
	}
	_, doc = y.room(t, met)
	if !strings.Contains(doc.Find(`[data-testid="result"]`).Text(), "bidder-y") {
		t.Errorf("reserve met: result %q", doc.Find(`[data-testid="result"]`).Text())
	}
	if balanceOf(t, a, "bidder-x") != 1_000_000 || balanceOf(t, a, "bidder-y") != 970_000 || balanceOf(t, a, "seller") != 1_030_000 {
		t.Errorf("balances x %d y %d seller %d", balanceOf(t, a, "bidder-x"), balanceOf(t, a, "bidder-y"), balanceOf(t, a, "seller"))
	}
}

// Buy It Now shows while nobody bid; without a reserve the first bid takes
// it away, with one it stays until the reserve is met. The seller sees the
// price, never the way to buy.
func TestBuyItNowIsOfferedAndWithdrawnAtTheRightMoments(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000"}, noLimits)
	seller := a.as(t, "seller")
	plain := seller.sellTerms(t, "Kettle", 10_000, "1h0m0s", "", "15000")
	reserved := seller.sellTerms(t, "Toaster", 10_000, "1h0m0s", "20000", "25000")
	x, y, guest := a.as(t, "bidder-x"), a.as(t, "bidder-y"), a.newClient()
	offered := func(c *testApp, id int64) (bool, bool) {
		t.Helper()
		_, doc := c.room(t, id)
		o := doc.Find(`[data-testid="buy-now"]`)
		if o.Length() != 1 {
			t.Fatalf("room %d: %d Buy It Now blocks", id, o.Length())
		}
		return o.AttrOr("data-offered", "") == "true", o.Find(`[data-testid="buy-now-open"]`).Length() == 1
	}
	for _, id := range []int64{plain, reserved} {
		if on, link := offered(x, id); !on || !link {
			t.Errorf("%d before any bid: offered %v, link %v", id, on, link)
		}
		if on, link := offered(guest, id); !on || !link {
			t.Errorf("%d to a guest: offered %v, link %v", id, on, link)
		}
		if on, link := offered(seller, id); !on || link {
			t.Errorf("%d to the seller: offered %v, link %v", id, on, link)
		}
	}
	_, home := guest.get(t, "/")
	if n := home.Find(`[data-testid="card-buy-now"]`).Length(); n != 2 {
		t.Errorf("%d cards show Buy It Now, want 2", n)
	}

	// Pages are served from a cache that the bid's notice updates: give it
	// a moment.
	settled := func(c *testApp, id int64, want bool) bool {
		t.Helper()
		return eventually(func() bool { on, _ := offered(c, id); return on == want })
	}
	x.bid(t, plain, 12_000, "")
	if !settled(y, plain, false) {
		t.Error("still offered after the first bid, without a reserve")
	}
	resp, doc := y.get(t, fmt.Sprintf("/auctions/%d/buy", plain))
	if resp.StatusCode != http.StatusConflict || buyError(doc) != ko.T("buy.gone") || doc.Find(`[data-testid="buy-confirm"]`).Length() != 0 {
		t.Errorf("the confirmation after a bid: %d %q", resp.StatusCode, buyError(doc))
	}

	x.bid(t, reserved, 18_000, "")
	time.Sleep(100 * time.Millisecond)
	if on, _ := offered(y, reserved); !on {
		t.Error("withdrawn while the reserve is not met")
	}
	y.bid(t, reserved, 30_000, "")
	if r := lotOf(t, a, reserved); r.price != 20_000 {
		t.Fatalf("reserve met: price %d", r.price)
	}
	if !settled(x, reserved, false) {
		t.Error("still offered once the reserve is met")
	}
	resp, doc = x.buy(t, reserved, 25_000, "HX-Request", "true")
	if resp.StatusCode != http.StatusConflict || buyError(doc) != ko.T("buy.gone") {
		t.Errorf("a purchase once the reserve is met: %d %q", resp.StatusCode, buyError(doc))
	}
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE status <> 'open'`); n != 0 {
		t.Errorf("%d auctions closed", n)
	}
	// No Buy It Now at all: there is nothing to confirm.
	none := seller.sellTerms(t, "Spoon", 10_000, "1h0m0s", "", "")
	if resp, _ := x.get(t, fmt.Sprintf("/auctions/%d/buy", none)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("confirmation without Buy It Now: %d", resp.StatusCode)
	}
}

// The confirmation step, then the purchase: with htmx a dialog and an
// HX-Redirect, without JavaScript a page and a 303. Either way the auction
// is sold and paid at once, and the room says so.
func TestBuyItNowConfirmsThenSellsAndSettlesAtOnce(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000"}, noLimits)
	seller := a.as(t, "seller")
	buyer := a.as(t, "buyer")
	for _, htmx := range []bool{false, true} {
		id := seller.sellTerms(t, fmt.Sprintf("Kettle %v", htmx), 10_000, "1h0m0s", "", "15000")
		var header []string
		if htmx {
			header = []string{"HX-Request", "true"}
		}
		resp, doc := buyer.get(t, fmt.Sprintf("/auctions/%d/buy", id), header...)
		if resp.StatusCode != 200 || doc.Find(`[data-testid="buy-confirm"]`).Length() != 1 {
			t.Fatalf("htmx %v: confirmation %d", htmx, resp.StatusCode)
		}
		if htmx && (doc.Find(`dialog[data-testid="buy-dialog"]`).Length() != 1 || doc.Find("header.site-header").Length() != 0) {
			t.Errorf("htmx: not the dialog alone")
		}
		if !htmx && doc.Find(`[data-testid="buy-page"]`).Length() != 1 {
			t.Errorf("no JS: not the confirmation page")
		}
		if got := doc.Find(`[data-testid="buy-available"]`).Text(); !strings.Contains(got, ko.Money(balanceOf(t, a, "buyer"))) {
			t.Errorf("htmx %v: available %q", htmx, got)
		}
		price, _ := doc.Find(`[data-testid="buy-confirm"]`).Closest("form").Find(`input[name="price"]`).Attr("value")
		key, _ := doc.Find(`[data-testid="buy-confirm"]`).Closest("form").Find(`input[name="key"]`).Attr("value")
		resp, _ = buyer.postForm(t, fmt.Sprintf("/auctions/%d/buy", id), url.Values{"price": {price}, "key": {key}}, header...)
		want := fmt.Sprintf("/auctions/%d?bought=1", id)
		switch {
		case htmx && (resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != want):
			t.Errorf("htmx purchase: %d %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
		case !htmx && (resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want):
			t.Errorf("purchase: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, doc = buyer.get(t, want)
		if doc.Find(`[data-testid="result-bought"]`).Length() != 1 || !strings.Contains(doc.Find(`[data-testid="flash"]`).Text(), "₩15,000") {
			t.Errorf("the room after buying: result %q flash %q", doc.Find(`[data-testid="result"]`).Text(), doc.Find(`[data-testid="flash"]`).Text())
		}
		if doc.Find(`[data-testid="purchase-bid"]`).Length() != 1 || doc.Find(`[data-testid="buy-now"][data-offered="true"]`).Length() != 0 {
			t.Error("the history does not show the purchase, or Buy It Now is still offered")
		}
		if n := count(t, a, `SELECT count(*) FROM auctions WHERE id = ? AND status = 'sold' AND end_reason = 'bought' AND final_price = 15000
			AND winner_id = (SELECT id FROM users WHERE nick = 'buyer') AND settled_at IS NOT NULL`, id); n != 1 {
			t.Errorf("htmx %v: the auction is not sold to the buyer", htmx)
		}
		// The same confirmation posted again is answered as before, not
		// bought twice.
		resp, _ = buyer.postForm(t, fmt.Sprintf("/auctions/%d/buy", id), url.Values{"price": {price}, "key": {key}}, header...)
		if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusSeeOther {
			t.Errorf("htmx %v: the same form again: %d", htmx, resp.StatusCode)
		}
	}
	if balanceOf(t, a, "buyer") != 970_000 || balanceOf(t, a, "seller") != 1_030_000 {
		t.Errorf("balances: buyer %d seller %d", balanceOf(t, a, "buyer"), balanceOf(t, a, "seller"))
	}
	if n := count(t, a, `SELECT count(*) FROM ledger WHERE kind IN ('purchase', 'sale')`); n != 4 {
		t.Errorf("%d settlement rows, want 4", n)
	}
}

// Refused purchases answer with the reason and the right status, and
// change nothing: too little money, the seller's own item, a price other
// than the one confirmed, no CSRF token.
func TestRefusedPurchasesSayWhyAndChangeNothing(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "10000"}, noLimits)
	seller := a.as(t, "seller")
	poor := a.as(t, "poor")
	id := seller.sellTerms(t, "Kettle", 10_000, "1h0m0s", "", "15000")
	snapshot := func() string {
		return fmt.Sprint(count(t, a, `SELECT count(*) FROM bids`), count(t, a, `SELECT count(*) FROM ledger`),
			count(t, a, `SELECT count(*) FROM auctions WHERE status = 'open'`), count(t, a, `SELECT sum(balance) FROM users`))
	}
	before := snapshot()
	for _, tc := range []struct {
		who    *testApp
		price  int64
		htmx   bool
		status int
		msg    string
	}{
		{poor, 15_000, true, http.StatusConflict, ko.T("bid.insufficient_funds", ko.Money(10_000))},
		{poor, 15_000, false, http.StatusConflict, ko.T("bid.insufficient_funds", ko.Money(10_000))},
		{seller, 15_000, true, http.StatusForbidden, ko.T("buy.own_auction")},
		{poor, 14_000, true, http.StatusConflict, ko.T("buy.price_changed", ko.Money(15_000))},
	} {
		var header []string
		if tc.htmx {
			header = []string{"HX-Request", "true"}
		}
		resp, doc := tc.who.buy(t, id, tc.price, header...)
		if resp.StatusCode != tc.status || buyError(doc) != tc.msg {
			t.Errorf("%+v: %d %q", tc, resp.StatusCode, buyError(doc))
		}
	}
	resp, _ := poor.postForm(t, fmt.Sprintf("/auctions/%d/buy", id), url.Values{"price": {"15000"}, "_csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("without a valid CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := a.newClient().buy(t, id, 15_000); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("signed out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if after := snapshot(); after != before {
		t.Errorf("refusals changed %s to %s", before, after)
	}
}

// A purchase and a bid that reach the writer together are judged in one
// batch in arrival order: the first wins, the other is refused with its
// reason, in both orders.
func TestPurchaseRacingABidInTheSameBatch(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000"}, noLimits)
	seller := a.as(t, "seller")
	bidder, buyer := a.as(t, "bidder"), a.as(t, "buyer")
	for _, buyFirst := range []bool{false, true} {
		id := seller.sellTerms(t, fmt.Sprintf("Kettle %v", buyFirst), 10_000, "1h0m0s", "", "15000")
		bidForm := url.Values{"amount": {"12000"}, "_csrf": {bidder.csrf(t)}}
		buyForm := url.Values{"price": {"15000"}, "_csrf": {buyer.csrf(t)}}
		bidPath, buyPath := fmt.Sprintf("/auctions/%d/bids", id), fmt.Sprintf("/auctions/%d/buy", id)
		type answer struct {
			code int
			doc  *goquery.Document
		}
		var bidAns, buyAns answer
		first, second := func() {
			r, d := bidder.postForm(t, bidPath, bidForm, "HX-Request", "true")
			bidAns = answer{r.StatusCode, d}
		}, func() {
			r, d := buyer.postForm(t, buyPath, buyForm, "HX-Request", "true")
			buyAns = answer{r.StatusCode, d}
		}
		if buyFirst {
			first, second = second, first
		}
		holdWriter(t, a.DB, id, seller, func(wg *sync.WaitGroup) {
			wg.Go(first)
			time.Sleep(300 * time.Millisecond) // queued first
			wg.Go(second)
			time.Sleep(300 * time.Millisecond)
		})
		var status, end string
		a.DB.QueryRowContext(context.Background(), `SELECT status, COALESCE(end_reason, '') FROM auctions WHERE id = ?`, id).Scan(&status, &end)
		if buyFirst {
			if buyAns.code != http.StatusNoContent || bidAns.code != http.StatusConflict || !strings.Contains(outcome(bidAns.doc), ko.T("bid.bought")) ||
				status != "sold" || end != "bought" {
				t.Errorf("purchase first: buy %d, bid %d %q, auction %s %s", buyAns.code, bidAns.code, outcome(bidAns.doc), status, end)
			}
		} else {
			if bidAns.code != http.StatusOK || outcome(bidAns.doc) != "leading" || buyAns.code != http.StatusConflict ||
				buyError(buyAns.doc) != ko.T("buy.gone") || status != "open" {
				t.Errorf("bid first: bid %d %q, buy %d %q, auction %s", bidAns.code, outcome(bidAns.doc), buyAns.code, buyError(buyAns.doc), status)
			}
		}
		if n := count(t, a, `SELECT count(*) FROM bids WHERE auction_id = ?`, id); n != 1 {
			t.Errorf("buy first %v: %d rows", buyFirst, n)
		}
	}
}

// holdWriter makes the requests that send starts reach auction id's writer
// while it is busy: a transaction holds the auction's row, a bid by the
// seller (refused inside its batch, changing nothing) occupies the writer
// on that lock, and whatever send queues meanwhile is taken as one batch,
// in order, once the row is let go. It waits for those requests.
func holdWriter(t *testing.T, bdb *bun.DB, id int64, seller *testApp, send func(wg *sync.WaitGroup)) {
	t.Helper()
	ctx := context.Background()
	tx, err := bdb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT id FROM auctions WHERE id = ? FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	form := url.Values{"amount": {"50000"}, "_csrf": {seller.csrf(t)}}
	wg.Go(func() { seller.postForm(t, fmt.Sprintf("/auctions/%d/bids", id), form, "HX-Request", "true") })
	time.Sleep(300 * time.Millisecond) // the seller's batch waits on the row
	send(&wg)
	tx.Rollback()
	wg.Wait()
}

var _ = auction.ReasonBought
