package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sellWithTerms lists an item with a reserve and a Buy It Now price ("" for
// none) through the sell form and returns the room's id.
func sellWithTerms(t *testing.T, ctx context.Context, a *app, title string, price int64, reserve, buyNow string) int64 {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(a.URL + "/auctions/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sell-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#title`), title),
		chromedp.SendKeys(chromedp.CSS(`#start_price`), strconv.FormatInt(price, 10)),
	}
	if reserve != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(`[data-testid="sell-reserve"]`), reserve))
	}
	if buyNow != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(`[data-testid="sell-buy-now"]`), buyNow))
	}
	steps = append(steps,
		chromedp.SetValue(chromedp.CSS(`#duration`), "1h0m0s"),
		chromedp.SetUploadFiles(chromedp.CSS(`#image`), []string{photoFile(t)}),
		chromedp.Submit(chromedp.CSS(`[data-testid="sell-form"]`)),
	)
	do(t, ctx, "list "+title, steps...)
	waitFor(t, ctx, 10*time.Second, "the new room", `document.querySelector('[data-testid="room"]') !== null`)
	loc := eval[string](t, ctx, `location.pathname`)
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/auctions/"), 10, 64)
	if err != nil {
		t.Fatalf("after selling, at %q", loc)
	}
	return id
}

const (
	reserveMet    = `document.querySelector('[data-testid="reserve"]')?.dataset.met === "true"`
	reserveNotMet = `document.querySelector('[data-testid="reserve"]')?.dataset.met === "false"`
	buyNowOffered = `document.querySelector('[data-testid="buy-now"]')?.dataset.offered === "true" && document.querySelector('[data-testid="buy-now-open"]') !== null`
	buyNowGone    = `document.querySelector('[data-testid="buy-now"]')?.dataset.offered === "false" && document.querySelector('[data-testid="buy-now-open"]') === null`
)

// A seller lists with a reserve and a Buy It Now price; a bidder sees
// "reserve not met", bids past it and sees "reserve met", and on a second
// bidder's page Buy It Now disappears without a reload. Another listing is
// bought outright through the dialog, and both pages show the result.
func TestReserveAndBuyItNowLiveOnTwoBiddersPages(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller, bee, cee := b.user("seller", true), b.user("bee", true), b.user("cee", true)
	signIn(t, seller, a, "seller")
	id := sellWithTerms(t, seller, a, "Tube radio", 10_000, "50000", "60000")
	if got := eval[string](t, seller, pageText(`[data-testid="my-reserve"]`)); !strings.Contains(got, "₩50,000") {
		t.Errorf("the seller is not told their reserve: %q", got)
	}
	signIn(t, bee, a, "bee")
	signIn(t, cee, a, "cee")
	room := fmt.Sprintf("%s/auctions/%d", a.URL, id)
	for _, ctx := range []context.Context{bee, cee} {
		do(t, ctx, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	}
	time.Sleep(500 * time.Millisecond) // both sockets connected
	for name, ctx := range map[string]context.Context{"bee": bee, "cee": cee} {
		if !eval[bool](t, ctx, reserveNotMet) || !eval[bool](t, ctx, buyNowOffered) {
			t.Errorf("%s before any bid: reserve %q, Buy It Now offered %v", name,
				eval[string](t, ctx, pageText(`[data-testid="reserve"]`)), eval[bool](t, ctx, buyNowOffered))
		}
	}
	for name, ctx := range map[string]context.Context{"bee": bee, "cee": cee} {
		if eval[bool](t, ctx, `document.documentElement.outerHTML.includes("50,000")`) {
			t.Errorf("%s's page shows the reserve", name)
		}
	}
	if got := eval[string](t, bee, pageText(`[data-testid="reserve"]`)); got != "최저 낙찰가 미달" {
		t.Errorf("reserve status reads %q", got)
	}

	placeBid(t, bee, 20_000)
	waitFor(t, bee, 3*time.Second, "bee's answer", `document.querySelector('[data-testid="bid-placed"]') !== null`)
	waitFor(t, cee, 3*time.Second, "bee's first bid on cee's page", `document.querySelectorAll('[data-testid="bid-row"]').length === 1`)
	if !eval[bool](t, cee, reserveNotMet) || !eval[bool](t, cee, buyNowOffered) {
		t.Error("below the reserve, cee's page does not still offer Buy It Now with the reserve not met")
	}
	// Bee raises her maximum past the reserve: the price goes to it.
	placeBid(t, bee, 70_000)
	waitFor(t, bee, 3*time.Second, "reserve met on bee's page", reserveMet)
	waitFor(t, cee, 3*time.Second, "reserve met and Buy It Now gone on cee's page, live", reserveMet+" && "+buyNowGone)
	if got := eval[string](t, cee, pageText(`[data-testid="price"]`)); got != "₩50,000" {
		t.Errorf("the price on cee's page: %q", got)
	}
	if got := eval[string](t, cee, pageText(`[data-testid="reserve"]`)); got != "최저 낙찰가 도달" {
		t.Errorf("reserve status reads %q", got)
	}

	// Another listing, bought outright by cee while bee watches.
	kettle := sellWithTerms(t, seller, a, "Kettle", 10_000, "", "15000")
	room = fmt.Sprintf("%s/auctions/%d", a.URL, kettle)
	for _, ctx := range []context.Context{bee, cee} {
		do(t, ctx, "open the kettle", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="buy-now-open"]`)))
	}
	time.Sleep(500 * time.Millisecond)
	do(t, cee, "open the Buy It Now dialog", chromedp.Click(chromedp.CSS(`[data-testid="buy-now-open"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid="buy-dialog"] [data-testid="buy-confirm"]`)))
	if eval[string](t, cee, `location.pathname`) != fmt.Sprintf("/auctions/%d", kettle) {
		t.Error("the confirmation left the room instead of opening a dialog")
	}
	if v := axeViolations(t, cee); len(v) > 0 {
		t.Errorf("accessibility of the room with the dialog open: %v", v)
	}
	// Cancel closes it without a purchase, then confirm for real.
	do(t, cee, "cancel", chromedp.Click(chromedp.CSS(`[data-testid="buy-cancel"]`)))
	waitFor(t, cee, 2*time.Second, "the dialog closed", `!document.querySelector('dialog[data-testid="buy-dialog"]')?.open`)
	do(t, cee, "buy it now", chromedp.Click(chromedp.CSS(`[data-testid="buy-now-open"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-testid="buy-dialog"] [data-testid="buy-confirm"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="buy-confirm"]`)))
	// The live update can show the result on the old page before the
	// purchase's redirect lands: wait for the page it redirects to.
	waitFor(t, cee, 5*time.Second, "the redirect after the purchase", `location.search.includes("bought=1") && document.readyState === "complete"`)
	waitFor(t, cee, 5*time.Second, "the result on cee's page", `document.querySelector('[data-testid="result-bought"]') !== null`)
	waitFor(t, bee, 5*time.Second, "the result on bee's page, live", `document.querySelector('[data-testid="result-bought"]') !== null && document.querySelector('[data-testid="bid-form"]') === null`)
	// The countdown too, which the same closing swaps over SSE.
	waitFor(t, bee, 3*time.Second, "the countdown's result on bee's page", `document.querySelector('[data-testid="countdown"]')?.dataset.phase === "sold"`)
	if got := eval[string](t, bee, pageText(`[data-testid="result"]`)); !strings.Contains(got, "cee") || !strings.Contains(got, "₩15,000") {
		t.Errorf("bee's result: %q", got)
	}
	waitFor(t, bee, 3*time.Second, "the purchase row on bee's page", `document.querySelector('[data-testid="purchase-bid"]') !== null`)
	if got := eval[string](t, cee, pageText(`[data-testid="flash"]`)); !strings.Contains(got, "₩15,000") {
		t.Errorf("cee's confirmation: %q", got)
	}
	if v := axeViolations(t, cee); len(v) > 0 {
		t.Errorf("accessibility of the bought room: %v", v)
	}
}

// Without JavaScript the Buy It Now link is a confirmation page, and its
// form a plain post that lands in the room with the result.
func TestBuyItNowWithoutJavaScript(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller, buyer := b.user("seller", true), b.user("buyer", false)
	signIn(t, seller, a, "seller")
	id := sellWithTerms(t, seller, a, "Teapot", 10_000, "", "13000")
	do(t, buyer, "sign in without JavaScript", chromedp.Navigate(a.URL+"/auth/dev"),
		chromedp.WaitVisible(chromedp.CSS(`#dev-nick`)),
		chromedp.SendKeys(chromedp.CSS(`#dev-nick`), "buyer"),
		chromedp.Submit(chromedp.CSS(`[data-testid="dev-login-form"]`)))
	waitFor(t, buyer, 10*time.Second, "signed in", `document.querySelector('[data-testid="nick"]') !== null`)
	do(t, buyer, "open the room and follow Buy It Now", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, id)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="buy-now-open"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="buy-now-open"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="buy-page"] [data-testid="buy-confirm"]`)))
	do(t, buyer, "confirm", chromedp.Click(chromedp.CSS(`[data-testid="buy-confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="result-bought"]`)))
	if got := eval[string](t, buyer, `location.pathname + location.search`); got != fmt.Sprintf("/auctions/%d?bought=1", id) {
		t.Errorf("after buying: at %q", got)
	}
}
