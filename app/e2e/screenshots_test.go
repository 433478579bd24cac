package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestScreenshots writes PNGs of the home page, an auction room mid-bidding,
// the wallet and the component gallery, in Korean and English, into the
// folder named by GAVEL_SCREENSHOTS (`task screenshots`). Without it the
// test is skipped: it is a tool for looking at the pages, not a check.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("GAVEL_SCREENSHOTS")
	if dir == "" {
		t.Skip("set GAVEL_SCREENSHOTS=DIR to write screenshots (task screenshots)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, nil)
	b := newBrowser(t)
	seller, bee, cee := b.user("seller", true), b.user("bee", true), b.user("cee", true)
	signIn(t, seller, a, "camera_kim")
	id := sellItem(t, seller, a, "Leica M3 (1957)", 120_000, "24h0m0s")
	sellItem(t, seller, a, "Brass desk lamp", 35_000, "1h0m0s")
	signIn(t, bee, a, "민지")
	signIn(t, cee, a, "Jordan")
	room := fmt.Sprintf("%s/auctions/%d", a.URL, id)
	amount := int64(120_000)
	for i, ctx := range []context.Context{bee, cee, bee, cee} {
		do(t, ctx, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
		placeBid(t, ctx, amount)
		waitFor(t, ctx, 5*time.Second, "the row", fmt.Sprintf(`document.querySelectorAll('[data-testid="bid-row"]').length >= %d`, i+1))
		amount += 10_000
	}
	shots := map[string]string{"home": "/", "room": fmt.Sprintf("/auctions/%d", id), "wallet": "/wallet", "gallery": "/dev/components"}
	for _, lang := range []string{"ko", "en"} {
		if lang == "en" {
			do(t, bee, "switch to English", chromedp.Navigate(a.URL+"/"), chromedp.Click(chromedp.CSS(`.lang-switch button[value="en"]`)))
			waitFor(t, bee, 5*time.Second, "English", `document.documentElement.lang === "en"`)
		}
		for name, path := range shots {
			do(t, bee, "open "+path, chromedp.Navigate(a.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
			time.Sleep(300 * time.Millisecond) // fonts and the photo
			ctx, cancel := context.WithTimeout(bee, 20*time.Second)
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			cancel()
			if err != nil {
				t.Fatalf("screenshot of %s: %v", path, err)
			}
			if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
				t.Fatalf("screenshot of %s is no PNG: %v", path, err)
			}
			file := filepath.Join(dir, name+"-"+lang+".png")
			if err := os.WriteFile(file, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", file)
		}
	}
}
