package web_test

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestGalleryShowsEveryStateInBothLanguagesInDevelopmentOnly(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	resp, doc := a.get(t, "/dev/components")
	if resp.StatusCode != 200 {
		t.Fatalf("gallery: %d", resp.StatusCode)
	}
	specimens := doc.Find(`[data-testid="specimen"]`)
	ko, en := specimens.Filter(`[lang="ko"]`).Length(), specimens.Filter(`[lang="en"]`).Length()
	if ko == 0 || ko != en {
		t.Fatalf("specimens: %d Korean, %d English", ko, en)
	}
	for _, testid := range []string{"countdown", "result", "bid-row", "card", "bid-form", "bid-error", "sell-form", "empty", "notice", "flash",
		"my-standing", "auto-bid", "extended", "soft-close-window", "bid-extended", "hard-end",
		"reserve", "buy-now", "buy-now-open", "buy-dialog", "buy-error", "buy-confirm", "purchase-bid", "result-bought",
		"result-reserve-not-met", "card-buy-now", "sell-reserve", "sell-buy-now", "error-reserve", "error-buy_now", "my-reserve",
		"gallery", "gallery-thumb", "addendum", "relisted-as", "relisted-from", "relist-form", "upload-progress", "edit-form",
		"edit-photo", "make-cover", "remove-photo", "addendum-form", "error-addendum", "summary", "selling-filters", "row-relist"} {
		if doc.Find(`[data-testid="specimen"] [data-testid="`+testid+`"]`).Length() == 0 {
			t.Errorf("the gallery has no %s", testid)
		}
	}
	outcomes := map[string]bool{}
	doc.Find(`[data-testid="specimen"] [data-testid="bid-placed"]`).Each(func(_ int, s *goquery.Selection) { outcomes[s.AttrOr("data-outcome", "")] = true })
	for _, o := range []string{"leading", "outbid", "raised"} {
		if !outcomes[o] {
			t.Errorf("no bid answer %q in the gallery (have %v)", o, outcomes)
		}
	}
	phases := map[string]bool{}
	doc.Find(`[data-testid="countdown"]`).Each(func(_ int, s *goquery.Selection) { phases[s.AttrOr("class", "")] = true })
	for _, class := range []string{"countdown", "countdown countdown--ending", "countdown countdown--ended"} {
		if !phases[class] {
			t.Errorf("no countdown in state %q (have %v)", class, phases)
		}
	}

	prod := start(t, map[string]string{"APP_ENV": "production", "BASE_URL": "https://gavel.example", "GITHUB_KEY": "k", "GITHUB_SECRET": "s"})
	if resp, _ := prod.get(t, "/dev/components"); resp.StatusCode != 404 {
		t.Errorf("gallery in production: %d", resp.StatusCode)
	}
	if resp, _ := prod.get(t, "/dev/mail"); resp.StatusCode != 404 {
		t.Errorf("the letter opener in production: %d", resp.StatusCode)
	}
}
