package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A bidder who watches an auction and leaves a maximum, then closes its
// page, learns of being outbid on another open page at once (the bell's
// count over that page's stream), and finds the notification after a
// reload.
func TestOutbidShowsLiveOnTheBellOfAnotherPageAndStaysAfterAReload(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller, ann, ben := b.user("seller", true), b.user("ann", true), b.user("ben", true)
	signIn(t, seller, a, "seller")
	id := sellItem(t, seller, a, "Desk lamp", 10_000, "1h0m0s")
	signIn(t, ann, a, "ann")
	signIn(t, ben, a, "ben")
	room := fmt.Sprintf("%s/auctions/%d", a.URL, id)

	// Ann's other page: her watch list, open in a second browser where
	// she is signed in too.
	other := b.user("ann-other", true)
	signIn(t, other, a, "ann")
	do(t, ann, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	do(t, ann, "watch it", chromedp.Click(chromedp.CSS(`[data-testid="watch"]`)))
	waitFor(t, ann, 3*time.Second, "the toggle pressed", `document.querySelector('[data-testid="watch"]').getAttribute("aria-pressed") === "true"`)
	placeBid(t, ann, 50_000)
	waitFor(t, ann, 3*time.Second, "ann's bid placed", `document.querySelector('[data-testid="bid-placed"]') !== null`)
	do(t, ann, "close the room", chromedp.Navigate("about:blank"))

	do(t, other, "open the watch list", chromedp.Navigate(a.URL+"/me/watching"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="watched"]`)))
	waitFor(t, other, 3*time.Second, "ann's bell, nothing unread", pageText(`[data-testid="bell-count"]`)+` === "" && document.querySelector('[data-testid="bell"]') !== null`)
	// A tick proves the page's stream is up.
	waitFor(t, other, 5*time.Second, "the stream", `document.querySelector('[data-testid="watched"] [data-testid="countdown"]') !== null`)
	time.Sleep(1500 * time.Millisecond)

	do(t, ben, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	placeBid(t, ben, 60_000)
	start := time.Now()
	waitFor(t, other, 5*time.Second, "ann's bell to count the outbid", pageText(`[data-testid="bell-count"]`)+` === "1"`)
	t.Logf("the outbid reached ann's other page in %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, other, time.Second, "the notice", pageText(`#notices [data-testid="notice"]`)+` !== ""`)

	do(t, other, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bell"]`)))
	waitFor(t, other, 3*time.Second, "the bell after a reload", pageText(`[data-testid="bell-count"]`)+` === "1"`)
	do(t, other, "open the bell", chromedp.Click(chromedp.CSS(`[data-testid="bell"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="notifications"]`)))
	waitFor(t, other, 3*time.Second, "one notification, linking to the room",
		fmt.Sprintf(`document.querySelectorAll('[data-testid="note"]').length === 1 && document.querySelector('[data-testid="note"] a').getAttribute("href") === %q`,
			fmt.Sprintf("/auctions/%d", id)))
	do(t, other, "mark all read", chromedp.Click(chromedp.CSS(`[data-testid="mark-all-read"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)))
	waitFor(t, other, 3*time.Second, "the bell after marking read", pageText(`[data-testid="bell-count"]`)+` === ""`)
}
