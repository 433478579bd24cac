package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// photoFile writes a small JPEG for the sell form's file input.
func photoFile(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for x := range 320 {
		for y := range 240 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// signIn uses the dev login the way a person does: the header's sign-in
// button, the dev provider, a nickname.
func signIn(t *testing.T, ctx context.Context, a *app, nick string) {
	t.Helper()
	do(t, ctx, "open the login page",
		chromedp.Navigate(a.URL+"/"),
		chromedp.Click(chromedp.CSS(`.user-box a.btn`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="provider-dev"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="provider-dev"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dev-nick`)),
		chromedp.SendKeys(chromedp.CSS(`#dev-nick`), nick),
		chromedp.Submit(chromedp.CSS(`[data-testid="dev-login-form"]`)),
	)
	waitFor(t, ctx, 10*time.Second, nick+" signed in",
		fmt.Sprintf(`(document.querySelector('[data-testid="nick"]')||{}).textContent?.includes(%q)`, nick))
}

// sellItem lists an item through the sell form and returns the room's id.
func sellItem(t *testing.T, ctx context.Context, a *app, title string, price int64, duration string) int64 {
	t.Helper()
	do(t, ctx, "fill the sell form",
		chromedp.Navigate(a.URL+"/auctions/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sell-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#title`), title),
		chromedp.SendKeys(chromedp.CSS(`#start_price`), strconv.FormatInt(price, 10)),
		chromedp.SetValue(chromedp.CSS(`#duration`), duration),
		chromedp.SetUploadFiles(chromedp.CSS(`#image`), []string{photoFile(t)}),
		chromedp.Submit(chromedp.CSS(`[data-testid="sell-form"]`)),
	)
	waitFor(t, ctx, 10*time.Second, "the new room", `document.querySelector('[data-testid="room"]') !== null`)
	loc := eval[string](t, ctx, `location.pathname`)
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/auctions/"), 10, 64)
	if err != nil {
		t.Fatalf("after selling, at %q", loc)
	}
	return id
}

// placeBid types an amount into the room's form and submits it.
func placeBid(t *testing.T, ctx context.Context, amount int64) {
	t.Helper()
	want := strconv.FormatInt(amount, 10)
	do(t, ctx, "bid "+want,
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-amount"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="bid-amount"]`), ""),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="bid-amount"]`), want),
	)
	// The socket's first sync (or a bid) swaps in a fresh field with the
	// new minimum: if that happened while the keys were sent, the field
	// holds something else. Set it again, as a person would retype it.
	for range 10 {
		if eval[string](t, ctx, `document.querySelector('[data-testid="bid-amount"]').value`) == want {
			break
		}
		do(t, ctx, "retype the bid", chromedp.SetValue(chromedp.CSS(`[data-testid="bid-amount"]`), want))
	}
	do(t, ctx, "submit the bid", chromedp.Click(chromedp.CSS(`[data-testid="bid-submit"]`)))
}

// pageText is the trimmed text of the first element matching sel, or "".
func pageText(sel string) string {
	return fmt.Sprintf(`((document.querySelector(%q)||{}).textContent||"").trim()`, sel)
}

func TestSellerListsAnItemAndSeesItsCountdownRunning(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller := b.user("seller", true)
	signIn(t, seller, a, "seller")
	id := sellItem(t, seller, a, "Film camera", 30_000, "1h0m0s")
	if got := text(t, seller, `[data-testid="flash"]`); got == "" {
		t.Error("no confirmation after listing")
	}
	do(t, seller, "open home", chromedp.Navigate(a.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="card"]`)))
	if got := text(t, seller, `[data-testid="card"] .card__title`); got != "Film camera" {
		t.Errorf("card title %q", got)
	}
	waitFor(t, seller, 5*time.Second, "the card's photo", `(img => img.complete && img.naturalWidth > 0)(document.querySelector('[data-testid="card"] img'))`)
	first := eval[string](t, seller, pageText(`[data-testid="card"] [data-testid="countdown"] .countdown__left`))
	waitFor(t, seller, 5*time.Second, "the countdown to tick",
		fmt.Sprintf(`%s !== %q && %s !== ""`, pageText(`[data-testid="card"] [data-testid="countdown"] .countdown__left`), first,
			pageText(`[data-testid="card"] [data-testid="countdown"] .countdown__left`)))
	_ = id
}

// backToBack hands the page's EventSource two frames for the element sel
// in one go, as the server sends a tick and a closing a few milliseconds
// apart: the element's own markup, marked "first" then "second". The
// element each frame puts in place must listen before the next arrives
// (htmx wires a swapped element up when it settles, 20 ms later by
// default), so the mark read right after is the second.
func backToBack(sel string) string {
	return fmt.Sprintf(`(() => {
		const src = document.body["htmx-internal-data"].sseEventSource;
		const frame = mark => {
			const el = document.querySelector(%[1]q);
			const copy = el.cloneNode(true);
			copy.dataset.frame = mark;
			src.dispatchEvent(new MessageEvent(el.getAttribute("sse-swap"), {data: copy.outerHTML}));
		};
		frame("first");
		frame("second");
		return document.querySelector(%[1]q).dataset.frame;
	})()`, sel)
}

// A countdown or bid panel swapped over SSE listens again at once: a
// closing that follows a tick within milliseconds still lands.
func TestFramesBackToBackOverSSEBothLand(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller, bee := b.user("seller", true), b.user("bee", true)
	signIn(t, seller, a, "seller")
	id := sellItem(t, seller, a, "Mantel clock", 10_000, "1h0m0s")
	signIn(t, bee, a, "bee")
	do(t, bee, "open the room", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, id)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	waitFor(t, bee, 5*time.Second, "the stream", `document.body["htmx-internal-data"]?.sseEventSource?.readyState === EventSource.OPEN`)
	for _, sel := range []string{`[data-testid="countdown"]`, `.bid-panel`} {
		if got := eval[string](t, bee, backToBack(sel)); got != "second" {
			t.Errorf("%s after two frames back to back: %q, want the second", sel, got)
		}
	}
	// The stream goes on swapping the countdown after them.
	waitFor(t, bee, 3*time.Second, "the next tick", `document.querySelector('[data-testid="countdown"]').dataset.frame === undefined`)
}

func TestTwoBiddersSeeEachOtherWithoutReloading(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller, bee, cee := b.user("seller", true), b.user("bee", true), b.user("cee", true)
	signIn(t, seller, a, "seller")
	id := sellItem(t, seller, a, "Desk lamp", 10_000, "1h0m0s")
	signIn(t, bee, a, "bee")
	signIn(t, cee, a, "cee")
	room := fmt.Sprintf("%s/auctions/%d", a.URL, id)
	for _, ctx := range []context.Context{bee, cee} {
		do(t, ctx, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	}
	// Let both sockets connect before bidding.
	time.Sleep(500 * time.Millisecond)
	emptyShown := `getComputedStyle(document.querySelector('[data-testid="bids-empty"]')).display !== "none"`
	if !eval[bool](t, cee, emptyShown) {
		t.Error("an auction without bids does not say so")
	}

	placeBid(t, bee, 10_000)
	start := time.Now()
	waitFor(t, cee, time.Second, "bee's row on cee's page", `[...document.querySelectorAll('[data-testid="bid-row"]')].some(r => r.textContent.includes("bee"))`)
	t.Logf("bee's bid reached cee's page in %v", time.Since(start).Round(time.Millisecond))
	if eval[bool](t, cee, emptyShown) {
		t.Error("the 'no bids yet' message stays after the first bid")
	}
	waitFor(t, cee, time.Second, "the new price on cee's page", pageText(`[data-testid="price"]`)+` === "₩10,000"`)
	waitFor(t, cee, time.Second, "the new minimum on cee's page", pageText(`[data-testid="min-bid"]`)+`.includes("₩11,000")`)
	// cee had not touched the amount: its prefilled value follows the price.
	waitFor(t, cee, time.Second, "cee's prefilled amount", `document.querySelector('[data-testid="bid-amount"]').value === "11000"`)
	// bee's own page got the row once, not twice.
	waitFor(t, bee, time.Second, "bee's own row", `document.querySelectorAll('[data-testid="bid-row"]').length === 1`)

	placeBid(t, cee, 11_000)
	waitFor(t, bee, time.Second, "cee's row on bee's page", `[...document.querySelectorAll('[data-testid="bid-row"]')].some(r => r.textContent.includes("cee"))`)
	waitFor(t, bee, 2*time.Second, "the outbid notice", pageText(`#notices [data-testid="notice"]`)+` !== ""`)
	if got := text(t, bee, `[data-testid="leader"]`); got != "cee" {
		t.Errorf("leader on bee's page %q", got)
	}
	if n := eval[int](t, bee, `document.querySelectorAll('[data-testid="bid-row"]').length`); n != 2 {
		t.Errorf("bee's page has %d rows, want 2", n)
	}
}

func TestRefusedBidsShowTheirMessageAndChangeNothing(t *testing.T) {
	a := startApp(t, map[string]string{"SHORT_AUCTION": "6s"})
	b := newBrowser(t)
	seller, bee := b.user("seller", true), b.user("bee", true)
	signIn(t, seller, a, "seller")
	id := sellItem(t, seller, a, "Teapot", 20_000, "1h0m0s")
	signIn(t, bee, a, "bee")

	do(t, bee, "open the room", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, id)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	placeBid(t, bee, 15_000)
	waitFor(t, bee, 5*time.Second, "the too-low message", pageText(`[data-testid="bid-error"]`)+`.includes("₩20,000")`)
	if n := eval[int](t, bee, `document.querySelectorAll('[data-testid="bid-row"]').length`); n != 0 {
		t.Errorf("a refused bid added %d rows", n)
	}
	if got := text(t, bee, `[data-testid="price"]`); got != "₩20,000" {
		t.Errorf("price after a refused bid %q", got)
	}
	if v := eval[string](t, bee, `document.querySelector('[data-testid="bid-amount"]').getAttribute("aria-invalid")`); v != "true" {
		t.Error("the refused amount is not marked invalid")
	}

	// The seller's own room has no form, and says why.
	do(t, seller, "open own room", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, id)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="own-auction"]`)))
	if n := eval[int](t, seller, `document.querySelectorAll('[data-testid="bid-form"]').length`); n != 0 {
		t.Error("the seller is offered a bid form on their own auction")
	}

	// A page without JavaScript keeps its form past the end; a bid then is
	// refused with the reason.
	nojs := b.user("late", false)
	signIn(t, nojs, a, "late")
	short := sellItem(t, seller, a, "Quick sale", 1_000, "6s")
	do(t, nojs, "open the short room", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, short)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	// Past the end the page states (the database's clock decides; the
	// page's time is the server's, to the second).
	end, err := time.Parse(time.RFC3339, eval[string](t, nojs, `document.querySelector('[data-testid="ends-at"] time').getAttribute("datetime")`))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(end.Add(1500 * time.Millisecond)))
	placeBidNoJS(t, nojs, 1_000)
	// The form is gone from the answered page (the result stands there), so
	// the reason is the page's flash.
	waitFor(t, nojs, 5*time.Second, "the ended message", pageText(`[data-testid="flash"]`)+` !== ""`)
	if got := text(t, nojs, `[data-testid="flash"]`); !strings.Contains(got, "종료") {
		t.Errorf("late bid message %q", got)
	}
}

// placeBidNoJS fills the plain form and submits it (no htmx).
func placeBidNoJS(t *testing.T, ctx context.Context, amount int64) {
	t.Helper()
	do(t, ctx, "plain bid",
		chromedp.SetValue(chromedp.CSS(`[data-testid="bid-amount"]`), strconv.FormatInt(amount, 10)),
		chromedp.Click(chromedp.CSS(`[data-testid="bid-submit"]`)),
	)
}

func TestShortAuctionEndsWhileBothPagesAreOpenAndMoneyMoves(t *testing.T) {
	// A window shorter than the time left when bee bids: the end stays.
	a := startApp(t, map[string]string{"SHORT_AUCTION": "8s", "SOFT_CLOSE_WINDOW": "1s", "SOFT_CLOSE_CAP": "1s"})
	b := newBrowser(t)
	seller, bee := b.user("seller", true), b.user("bee", true)
	signIn(t, seller, a, "seller")
	signIn(t, bee, a, "bee")
	id := sellItem(t, seller, a, "Clock", 50_000, "8s")
	room := fmt.Sprintf("%s/auctions/%d", a.URL, id)
	do(t, bee, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	do(t, seller, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="own-auction"]`)))
	placeBid(t, bee, 50_000)
	waitFor(t, seller, 2*time.Second, "bee's row", pageText(`[data-testid="bid-row"]`)+`.includes("bee")`)

	for name, ctx := range map[string]context.Context{"bee": bee, "seller": seller} {
		waitFor(t, ctx, 15*time.Second, name+": the form becomes the result", `document.querySelector('[data-testid="result"]') !== null`)
		waitFor(t, ctx, 5*time.Second, name+": winner and price", pageText(`[data-testid="result"]`)+`.includes("bee") && `+pageText(`[data-testid="result"]`)+`.includes("₩50,000")`)
		waitFor(t, ctx, 5*time.Second, name+": the countdown shows the sale", pageText(`[data-testid="countdown"]`)+`.includes("₩50,000")`)
	}
	do(t, bee, "bee's wallet", chromedp.Navigate(a.URL+"/wallet"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="wallet-balance"]`)))
	if got := text(t, bee, `[data-testid="wallet-balance"]`); got != "₩950,000" {
		t.Errorf("winner's balance %q, want ₩950,000", got)
	}
	do(t, seller, "seller's wallet", chromedp.Navigate(a.URL+"/wallet"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="wallet-balance"]`)))
	if got := text(t, seller, `[data-testid="wallet-balance"]`); got != "₩1,050,000" {
		t.Errorf("seller's balance %q, want ₩1,050,000", got)
	}
	do(t, bee, "won page", chromedp.Navigate(a.URL+"/me/won"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="won"]`)))
	if got := text(t, bee, `[data-testid="won"] tbody`); !strings.Contains(got, "Clock") || !strings.Contains(got, "₩50,000") {
		t.Errorf("won page %q", got)
	}
}

func TestWithoutJavaScriptEverythingStillWorks(t *testing.T) {
	a := startApp(t, map[string]string{"SHORT_AUCTION": "10s", "SOFT_CLOSE_WINDOW": "1s", "SOFT_CLOSE_CAP": "1s"})
	b := newBrowser(t)
	seller := b.user("seller", true)
	signIn(t, seller, a, "seller")
	id := sellItem(t, seller, a, "Bicycle", 100_000, "10s")

	nojs := b.user("plain", false)
	if on := eval[bool](t, nojs, `true`); !on {
		t.Fatal("evaluation is off")
	}
	do(t, nojs, "browse", chromedp.Navigate(a.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="card"]`)))
	if got := text(t, nojs, `[data-testid="card"] [data-testid="countdown"] .countdown__end`); got == "" {
		t.Error("without JavaScript the card shows no end time")
	}
	signIn(t, nojs, a, "plain")
	do(t, nojs, "open the room", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, id)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	placeBidNoJS(t, nojs, 100_000)
	waitFor(t, nojs, 5*time.Second, "redirect back with the row", `location.search === "?bid=leading" && document.querySelectorAll('[data-testid="bid-row"]').length === 1`)
	if got := text(t, nojs, `[data-testid="bid-row"]`); !strings.Contains(got, "plain") || !strings.Contains(got, "₩100,000") {
		t.Errorf("row %q", got)
	}
	// Wait for the end the page states and the sweeper (within a second),
	// then a reload shows the result.
	end, err := time.Parse(time.RFC3339, eval[string](t, nojs, `document.querySelector('[data-testid="ends-at"] time').getAttribute("datetime")`))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(end.Add(2500 * time.Millisecond)))
	do(t, nojs, "reload", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, id)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="result"]`)))
	if got := text(t, nojs, `[data-testid="result"]`); !strings.Contains(got, "plain") || !strings.Contains(got, "₩100,000") {
		t.Errorf("result after reload %q", got)
	}
}

func TestKeyboardOnlyBiddingAndLiveRegions(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller, bee := b.user("seller", true), b.user("bee", true)
	signIn(t, seller, a, "seller")
	id := sellItem(t, seller, a, "Typewriter", 70_000, "1h0m0s")
	signIn(t, bee, a, "bee")
	do(t, bee, "open the room", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, id)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))

	if live := eval[string](t, bee, `document.querySelector('[data-testid="bid-history"] [aria-live]').getAttribute("aria-live")`); live != "polite" {
		t.Errorf("bid history aria-live %q", live)
	}
	if live := eval[string](t, bee, `document.querySelector('[data-testid="countdown"]').getAttribute("aria-live") || "none"`); live != "off" && live != "none" {
		t.Errorf("the ticking countdown is announced: aria-live %q", live)
	}
	if in := eval[bool](t, bee, `!!document.querySelector('[data-testid="countdown"]').closest('[aria-live]:not([aria-live="off"])')`); in {
		t.Error("the countdown sits inside a live region")
	}
	// Tab from the top of the page to the amount field, type, press Enter.
	for i := 0; i < 40; i++ {
		if eval[bool](t, bee, `document.activeElement && document.activeElement.matches('[data-testid="bid-amount"]')`) {
			break
		}
		do(t, bee, "tab", chromedp.KeyEvent("\t"))
	}
	if !eval[bool](t, bee, `document.activeElement.matches('[data-testid="bid-amount"]')`) {
		t.Fatal("the amount field cannot be reached with Tab")
	}
	do(t, bee, "type and submit with Enter", chromedp.KeyEvent("\r"))
	waitFor(t, bee, 5*time.Second, "the keyboard bid's row", `document.querySelectorAll('[data-testid="bid-row"]').length === 1`)
	for _, v := range axeViolations(t, bee) {
		t.Errorf("room: %s", v)
	}
}

func TestEveryPageIsAccessibleAndTranslated(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller, bee := b.user("seller", true), b.user("bee", true)
	signIn(t, seller, a, "seller")
	id := sellItem(t, seller, a, "Radio", 30_000, "1h0m0s")
	signIn(t, bee, a, "bee")
	do(t, bee, "bid", chromedp.Navigate(fmt.Sprintf("%s/auctions/%d", a.URL, id)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	placeBid(t, bee, 30_000)
	waitFor(t, bee, 5*time.Second, "the row", `document.querySelectorAll('[data-testid="bid-row"]').length === 1`)

	pages := []string{"/", fmt.Sprintf("/auctions/%d", id), "/auctions/new", "/wallet", "/me/bids", "/me/won", "/me/selling", "/me/profile", "/login"}
	for _, lang := range []string{"ko", "en"} {
		if lang == "en" {
			do(t, bee, "switch to English", chromedp.Navigate(a.URL+"/"), chromedp.Click(chromedp.CSS(`.lang-switch button[value="en"]`)))
			waitFor(t, bee, 5*time.Second, "English", `document.documentElement.lang === "en"`)
		}
		for _, p := range pages {
			do(t, bee, "open "+p, chromedp.Navigate(a.URL+p), chromedp.WaitVisible(chromedp.CSS("h1")))
			if got := eval[string](t, bee, `document.documentElement.lang`); got != lang {
				t.Errorf("%s: html lang %q, want %s", p, got, lang)
			}
			if lang == "en" {
				if txt := eval[string](t, bee, visibleLabels); hangul(txt) {
					t.Errorf("%s in English still shows Korean: %q", p, txt)
				}
			}
			for _, v := range axeViolations(t, bee) {
				t.Errorf("%s (%s): %s", p, lang, v)
			}
		}
	}
}

// Two bidders, one with a maximum: the other is outbid automatically and
// both pages show it live; then a bid inside the soft-close window moves
// the end on both pages at once. A page without JavaScript bids too.
func TestMaximumsAnswerLiveAndABidInTheWindowExtendsTheEnd(t *testing.T) {
	a := startApp(t, map[string]string{"SHORT_AUCTION": "25s", "SOFT_CLOSE_WINDOW": "10s", "SOFT_CLOSE_CAP": "1m"})
	b := newBrowser(t)
	seller, bee, cee := b.user("seller", true), b.user("bee", true), b.user("cee", true)
	signIn(t, seller, a, "seller")
	signIn(t, bee, a, "bee")
	signIn(t, cee, a, "cee")
	id := sellItem(t, seller, a, "Radio", 10_000, "25s")
	room := fmt.Sprintf("%s/auctions/%d", a.URL, id)
	for name, ctx := range map[string]context.Context{"bee": bee, "cee": cee} {
		do(t, ctx, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
		// A tick proves the page's SSE stream (which carries its notices)
		// is up; notices sent before it are not kept yet.
		first := eval[string](t, ctx, pageText(`[data-testid="countdown"] .countdown__left`))
		waitFor(t, ctx, 5*time.Second, name+": a countdown tick",
			fmt.Sprintf(`%s !== %q`, pageText(`[data-testid="countdown"] .countdown__left`), first))
	}
	time.Sleep(500 * time.Millisecond) // both sockets connected

	placeBid(t, bee, 30_000)
	waitFor(t, bee, 3*time.Second, "bee leads with a maximum", pageText(`[data-testid="my-standing"]`)+`.includes("₩30,000")`)
	waitFor(t, cee, 2*time.Second, "bee's row at the start price", pageText(`[data-testid="price"]`)+` === "₩10,000"`)
	if got := eval[string](t, cee, `document.body.innerHTML`); strings.Contains(got, "30,000") {
		t.Error("bee's maximum shows on cee's page")
	}

	placeBid(t, cee, 15_000)
	waitFor(t, cee, 3*time.Second, "cee is told an earlier maximum answered",
		`document.querySelector('[data-testid="bid-placed"]')?.dataset.outcome === "outbid"`)
	for name, ctx := range map[string]context.Context{"bee": bee, "cee": cee} {
		waitFor(t, ctx, 2*time.Second, name+": the automatic answer, live",
			`[...document.querySelectorAll('[data-testid="bid-row"]')].some(r => r.textContent.includes("bee") && r.querySelector('[data-testid="auto-bid"]') && r.textContent.includes("₩16,000"))`)
		waitFor(t, ctx, time.Second, name+": the price", pageText(`[data-testid="price"]`)+` === "₩16,000"`)
	}
	// bee's other tab (this one) hears nothing: bee still leads. cee's
	// page shows cee's own notice of the automatic outbid.
	waitFor(t, cee, 3*time.Second, "cee's notice", pageText(`#notices [data-testid="notice"]`)+` !== ""`)

	// Into the last ten seconds: both countdowns say a bid now extends.
	for name, ctx := range map[string]context.Context{"bee": bee, "cee": cee} {
		waitFor(t, ctx, 25*time.Second, name+": the window notice", `document.querySelector('[data-testid="soft-close-window"]') !== null`)
	}
	before := eval[string](t, bee, `document.querySelector('[data-testid="ends-at"] time').getAttribute("datetime")`)
	placeBid(t, cee, 40_000) // past bee's 30,000: cee leads one increment above it
	waitFor(t, cee, 3*time.Second, "cee leads", `document.querySelector('[data-testid="bid-placed"]')?.dataset.outcome === "leading"`)
	for name, ctx := range map[string]context.Context{"bee": bee, "cee": cee} {
		waitFor(t, ctx, 3*time.Second, name+": the end moved, live",
			fmt.Sprintf(`document.querySelector('[data-testid="ends-at"] time').getAttribute("datetime") > %q`, before))
		waitFor(t, ctx, 3*time.Second, name+": extended ×1", `document.querySelector('[data-testid="countdown"] [data-testid="extended"]') !== null`)
		waitFor(t, ctx, 2*time.Second, name+": cee leads at 31,000", pageText(`[data-testid="leader"]`)+` === "cee" && `+pageText(`[data-testid="price"]`)+` === "₩31,000"`)
	}
	waitFor(t, bee, 3*time.Second, "bee is told of being outbid", pageText(`#notices [data-testid="notice"]`)+` !== ""`)
	// bee's own standing in the room follows, without naming an amount.
	waitFor(t, bee, 3*time.Second, "bee's standing turns to outbid",
		`document.querySelector('[data-testid="my-standing"]')?.classList.contains("standing--outbid")`)

	// Without JavaScript: a plain post and redirect, with the outcome.
	nojs := b.user("plain", false)
	signIn(t, nojs, a, "plain")
	do(t, nojs, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	placeBidNoJS(t, nojs, 32_000) // below cee's maximum: answered at once
	waitFor(t, nojs, 5*time.Second, "redirected back, told it was answered",
		`location.search.startsWith("?bid=outbid") && document.querySelector('[data-testid="bid-placed"]')?.dataset.outcome === "outbid"`)
}
