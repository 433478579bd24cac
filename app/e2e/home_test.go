package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLanguageSwitchChangesEveryLabel switches the home page from Korean to
// English with the header's switcher and checks the labels a visitor sees.
func TestLanguageSwitchChangesEveryLabel(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	ctx := b.user("visitor", true)
	do(t, ctx, "open home", chromedp.Navigate(a.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "ko" {
		t.Fatalf("default page language %q, want ko", lang)
	}
	ko := eval[string](t, ctx, visibleLabels)
	do(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`.lang-switch button[value="en"]`)))
	waitFor(t, ctx, 5*time.Second, "English page", `document.documentElement.lang === "en"`)
	if got := text(t, ctx, "h1"); got != "Open auctions" {
		t.Errorf("English h1 %q", got)
	}
	en := eval[string](t, ctx, visibleLabels)
	if hangul(en) {
		t.Errorf("English page still shows Korean: %q", en)
	}
	if !hangul(ko) {
		t.Errorf("Korean page shows no Korean: %q", ko)
	}
}

// TestHomePageIsAccessible runs axe-core's WCAG 2.1 AA rules (labels,
// landmarks, contrast, language) on the home page in both languages.
func TestHomePageIsAccessible(t *testing.T) {
	a := startApp(t, nil)
	b := newBrowser(t)
	for _, lang := range []string{"ko", "en"} {
		ctx := b.user("visitor-"+lang, true)
		do(t, ctx, "open home", chromedp.Navigate(a.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
		if lang == "en" {
			do(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`.lang-switch button[value="en"]`)))
			waitFor(t, ctx, 5*time.Second, "English page", `document.documentElement.lang === "en"`)
		}
		for _, v := range axeViolations(t, ctx) {
			t.Errorf("%s: %s", lang, v)
		}
	}
}

func hangul(s string) bool {
	for _, r := range s {
		if r >= 0xAC00 && r <= 0xD7A3 {
			return true
		}
	}
	return false
}

// visibleLabels is the page's text without the language switcher, whose
// buttons name each language in its own script.
const visibleLabels = `(() => {
	const body = document.body.cloneNode(true);
	body.querySelectorAll(".lang-switch, script").forEach(e => e.remove());
	return body.textContent.replace(/\s+/g, " ");
})()`
