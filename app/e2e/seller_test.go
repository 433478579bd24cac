package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// photoFiles writes n distinct noisy JPEGs (about 100 KB each) for the
// sell form's multiple file input.
func photoFiles(t *testing.T, n int) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, 320+i, 240))
		for x := range img.Bounds().Dx() {
			for y := range 240 {
				img.Set(x, y, color.RGBA{uint8(rand.IntN(256)), uint8(y), uint8(i * 25), 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("photo%d.jpg", i+1))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// shown is whether the nth gallery photo (1-based) is displayed.
func shown(n int) string {
	return fmt.Sprintf(`getComputedStyle(document.querySelectorAll('[data-testid="gallery-photo"]')[%d]).display !== "none"`, n-1)
}

func TestSellerUploadsSeveralPhotosWithProgressAndBiddersSeeTheGalleryAndEditsLive(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	seller := b.user("seller", true)
	signIn(t, seller, a, "seller")

	// Nine photos: refused with the reason, after the upload's progress
	// showed. A recorder, added after the page's own script, notes what the
	// progress bar said at each htmx:xhr:progress event.
	do(t, seller, "fill the sell form with nine photos",
		chromedp.Navigate(a.URL+"/auctions/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sell-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#title`), "Tea set"),
		chromedp.SendKeys(chromedp.CSS(`#start_price`), "20000"),
		chromedp.SetUploadFiles(chromedp.CSS(`#image`), photoFiles(t, 9)),
	)
	eval[bool](t, seller, `window.__progress = []; document.addEventListener("htmx:xhr:progress", () => {
		const box = document.querySelector("[data-upload-progress]");
		window.__progress.push({hidden: box.hidden, value: box.querySelector("progress").value});
	}); true`)
	do(t, seller, "submit nine", chromedp.Click(chromedp.CSS(`[data-testid="sell-form"] button[type="submit"]`)))
	waitFor(t, seller, 10*time.Second, "the refusal", `(document.querySelector('[data-testid="error-image"]')||{}).textContent?.includes("8")`)
	if !eval[bool](t, seller, `window.__progress.some(p => !p.hidden && p.value > 0)`) {
		t.Errorf("the upload's progress never showed: %v", eval[any](t, seller, `window.__progress`))
	}

	// Three photos: listed, the first as the cover.
	do(t, seller, "sell with three photos",
		chromedp.SetUploadFiles(chromedp.CSS(`#image`), photoFiles(t, 3)),
		chromedp.Click(chromedp.CSS(`[data-testid="sell-form"] button[type="submit"]`)),
	)
	waitFor(t, seller, 10*time.Second, "the new room", `document.querySelector('[data-testid="room"]') !== null`)
	room := eval[string](t, seller, `location.href.split("?")[0]`)

	// Without JavaScript the gallery shows the cover, and a thumbnail
	// shows its photo instead.
	plain := b.user("plain", false)
	do(t, plain, "open the room without JavaScript", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="gallery"]`)))
	if n := eval[int](t, plain, `document.querySelectorAll('[data-testid="gallery-photo"]').length`); n != 3 {
		t.Fatalf("%d photos in the gallery", n)
	}
	if !eval[bool](t, plain, shown(1)) || eval[bool](t, plain, shown(3)) {
		t.Error("the cover alone should show first")
	}
	do(t, plain, "choose the third photo", chromedp.Click(chromedp.CSS(`.gallery__thumbs li:nth-child(3) [data-testid="gallery-thumb"]`)))
	waitFor(t, plain, 5*time.Second, "the third photo", shown(3)+` && !(`+shown(1)+`)`)
	waitFor(t, plain, 5*time.Second, "the third photo to load",
		`(img => img.complete && img.naturalWidth > 0)(document.querySelectorAll('[data-testid="gallery-photo"] img')[2])`)

	// A bidder watching the room sees the seller's edit without reloading.
	bidder := b.user("bidder", true)
	signIn(t, bidder, a, "bidder")
	do(t, bidder, "open the room", chromedp.Navigate(room), chromedp.WaitVisible(chromedp.CSS(`[data-testid="bid-form"]`)))
	eval[bool](t, bidder, `window.__same = true`)
	time.Sleep(500 * time.Millisecond) // the socket connects
	do(t, seller, "edit the title",
		chromedp.Navigate(room+"/edit"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="edit-form"]`)),
		chromedp.SetValue(chromedp.CSS(`#title`), "Tea set for six"),
		chromedp.Click(chromedp.CSS(`[data-testid="edit-submit"]`)),
	)
	waitFor(t, seller, 10*time.Second, "the seller back in the room", `document.querySelector('[data-testid="room"]') !== null`)
	waitFor(t, bidder, 5*time.Second, "the new title on the bidder's page",
		pageText(`[data-testid="room-title"]`)+` === "Tea set for six"`)
	if !eval[bool](t, bidder, `window.__same === true`) {
		t.Error("the bidder's page reloaded instead of updating")
	}
	if n := eval[int](t, bidder, `document.querySelectorAll('[data-testid="gallery-photo"]').length`); n != 3 {
		t.Errorf("the refreshed gallery has %d photos", n)
	}

	// The seller's pages pass the accessibility checks: the room with its
	// gallery, the edit page, the dashboard.
	for _, path := range []string{room, room + "/edit", a.URL + "/me/selling", a.URL + "/me/selling?status=running"} {
		do(t, seller, "open "+path, chromedp.Navigate(path), chromedp.WaitVisible(chromedp.CSS(`main`)))
		for _, v := range axeViolations(t, seller) {
			t.Errorf("%s: %s", path, v)
		}
	}
}

// TestSellerScreenshots writes PNGs of the seller's pages (a room with
// several photos and an addendum, the edit page, the dashboard) into
// GAVEL_SCREENSHOTS, like TestScreenshots; skipped without it.
func TestSellerScreenshots(t *testing.T) {
	dir := os.Getenv("GAVEL_SCREENSHOTS")
	if dir == "" {
		t.Skip("set GAVEL_SCREENSHOTS=DIR to write screenshots (task screenshots)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, nil)
	b := newBrowser(t)
	seller := b.user("seller", true)
	signIn(t, seller, a, "camera_kim")
	do(t, seller, "sell with four photos",
		chromedp.Navigate(a.URL+"/auctions/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sell-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#title`), "Leica M3 (1957)"),
		chromedp.SendKeys(chromedp.CSS(`#description`), "Shutter serviced in 2023."),
		chromedp.SendKeys(chromedp.CSS(`#start_price`), "120000"),
		chromedp.SetUploadFiles(chromedp.CSS(`#image`), photoFiles(t, 4)),
		chromedp.Click(chromedp.CSS(`[data-testid="sell-form"] button[type="submit"]`)),
	)
	waitFor(t, seller, 10*time.Second, "the new room", `document.querySelector('[data-testid="room"]') !== null`)
	room := eval[string](t, seller, `location.href.split("?")[0]`)
	for name, path := range map[string]string{"seller-room": room, "seller-edit": room + "/edit", "seller-dashboard": a.URL + "/me/selling?lang=en", "seller-sell": a.URL + "/auctions/new"} {
		do(t, seller, "open "+path, chromedp.Navigate(path), chromedp.WaitVisible(chromedp.CSS("h1")))
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(seller, 20*time.Second)
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
