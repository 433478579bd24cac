package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gavel/app/db/dbtest"
	"gavel/app/server"
	"gavel/app/server/servertest"
)

// The demo, with no other setup and no input: within a minute a newcomer
// sees the countdown tick, a live bid row arrive and an auction settle.
func TestDemoModeComesAliveWithinAMinute(t *testing.T) {
	a := servertest.Start(t, dbtest.URL(t), nil, func(p *server.Parts) { p.Demo = true })
	b := newBrowser(t)
	guest := b.user("guest", true)
	started := time.Now()
	// The demo lists its items as it starts: a page is a snapshot, so
	// look again until they are all there.
	for deadline := time.Now().Add(30 * time.Second); ; {
		do(t, guest, "open home", chromedp.Navigate(a.URL+"/"), chromedp.WaitReady(chromedp.CSS(`body`)))
		if eval[int](t, guest, `document.querySelectorAll('[data-testid="card"]').length`) >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo listed fewer than five items in 30 s")
		}
		time.Sleep(500 * time.Millisecond)
	}
	first := eval[string](t, guest, pageText(`[data-testid="card"] [data-testid="countdown"] .countdown__left`))
	waitFor(t, guest, 5*time.Second, "a countdown to tick",
		fmt.Sprintf(`%s !== %q`, pageText(`[data-testid="card"] [data-testid="countdown"] .countdown__left`), first))

	// The list is ending soonest first: the first card is the radio,
	// which ends on time 45 s after it was listed.
	do(t, guest, "open the soonest room", chromedp.Click(chromedp.CSS(`[data-testid="card"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-history"]`)))
	if title := eval[string](t, guest, pageText(`h1`)); !strings.Contains(title, "radio") {
		t.Fatalf("the soonest room is %q", title)
	}
	rows := eval[int](t, guest, `document.querySelectorAll('[data-testid="bid-row"]').length`)
	waitFor(t, guest, time.Until(started.Add(60*time.Second)), "a demo bid, live",
		fmt.Sprintf(`document.querySelectorAll('[data-testid="bid-row"]').length > %d`, rows))
	waitFor(t, guest, time.Until(started.Add(60*time.Second)), "the auction to settle",
		`document.querySelector('[data-testid="result"]')?.classList.contains("result--sold")`)
	t.Logf("alive and settled %v after start", time.Since(started).Round(time.Second))
}
