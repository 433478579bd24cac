package web_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// metaOf is the content of the <meta> whose property or name is key.
func metaOf(doc *goquery.Document, key string) string {
	sel := doc.Find(fmt.Sprintf(`meta[property=%q], meta[name=%q]`, key, key))
	v, _ := sel.Attr("content")
	return v
}

// A link to an auction, as a chat app or crawler fetches it (no cookie):
// OpenGraph and Twitter tags with the title, the price and the photo as an
// absolute URL, a canonical URL and the page in both languages.
func TestAuctionPagesDescribeThemselvesToLinkPreviews(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000"}, noLimits)
	id := a.as(t, "seller").sell(t, "Leica M3", 120_000, "1h0m0s")
	a.as(t, "bidder").bid(t, id, 130_000, "")
	room := fmt.Sprintf("/auctions/%d", id)

	for lang, want := range map[string]string{"en": "Now ₩120,000 · 1 bids", "ko": "현재가 ₩120,000 · 입찰 1건"} {
		resp, doc := a.newClient().get(t, room+"?lang="+lang)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", lang, resp.StatusCode)
		}
		if got := doc.Find("html").AttrOr("lang", ""); got != lang {
			t.Errorf("?lang=%s served %q", lang, got)
		}
		if got := metaOf(doc, "og:title"); got != "Leica M3" {
			t.Errorf("%s og:title %q", lang, got)
		}
		if got := metaOf(doc, "og:description"); !strings.HasPrefix(got, want) || !strings.Contains(got, "A fine thing") {
			t.Errorf("%s og:description %q, want it to start with %q", lang, got, want)
		}
		if got := metaOf(doc, "description"); got != metaOf(doc, "og:description") {
			t.Errorf("%s description %q", lang, got)
		}
		img := metaOf(doc, "og:image")
		if !strings.HasPrefix(img, a.URL+"/images/") || metaOf(doc, "twitter:image") != img || metaOf(doc, "twitter:card") != "summary_large_image" {
			t.Errorf("%s image %q, twitter %q %q", lang, img, metaOf(doc, "twitter:image"), metaOf(doc, "twitter:card"))
		} else if resp, err := http.Get(img); err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
			t.Errorf("the preview image does not load: %v", err)
		}
		canonical := doc.Find(`link[rel="canonical"]`).AttrOr("href", "")
		if canonical != a.URL+room+"?lang="+lang || metaOf(doc, "og:url") != canonical || metaOf(doc, "og:type") != "product" {
			t.Errorf("%s canonical %q og:url %q type %q", lang, canonical, metaOf(doc, "og:url"), metaOf(doc, "og:type"))
		}
		alt := map[string]string{}
		doc.Find(`link[rel="alternate"]`).Each(func(_ int, s *goquery.Selection) { alt[s.AttrOr("hreflang", "")] = s.AttrOr("href", "") })
		if alt["ko"] != a.URL+room+"?lang=ko" || alt["en"] != a.URL+room+"?lang=en" || alt["x-default"] != a.URL+room {
			t.Errorf("%s alternates %v", lang, alt)
		}
	}
	// The bidder's maximum is nobody's business, in previews too.
	_, doc := a.newClient().get(t, room)
	if html, _ := doc.Html(); strings.Contains(html, "130,000") {
		t.Error("the maximum shows in the page")
	}
}

func TestSitemapListsOpenAuctionsInBothLanguages(t *testing.T) {
	t.Parallel()
	a := start(t, nil, noLimits)
	seller := a.as(t, "seller")
	open := seller.sell(t, "Lamp", 1_000, "1h0m0s")
	gone := seller.sell(t, "Chair", 1_000, "1h0m0s")
	seller.postForm(t, fmt.Sprintf("/auctions/%d/cancel", gone), nil)
	resp, err := http.Get(a.URL + "/sitemap.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("sitemap: %d %q cookie %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Set-Cookie"))
	}
	var doc struct {
		URLs []struct {
			Loc string `xml:"loc"`
			Alt []struct {
				HrefLang string `xml:"hreflang,attr"`
			} `xml:"link"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	locs := map[string]bool{}
	for _, u := range doc.URLs {
		locs[u.Loc] = true
		if len(u.Alt) != 2 {
			t.Errorf("%s has %d alternates", u.Loc, len(u.Alt))
		}
	}
	for _, want := range []string{"/?lang=ko", "/?lang=en", fmt.Sprintf("/auctions/%d?lang=ko", open), fmt.Sprintf("/auctions/%d?lang=en", open)} {
		if !locs[a.URL+want] {
			t.Errorf("the sitemap lacks %s (has %v)", want, locs)
		}
	}
	if locs[fmt.Sprintf("%s/auctions/%d?lang=ko", a.URL, gone)] || len(doc.URLs) != 4 {
		t.Errorf("the sitemap lists %d URLs: %v", len(doc.URLs), locs)
	}
}

// A page whose language came from its URL streams in that language too:
// its SSE and WebSocket URLs carry it.
func TestAPageInTheURLsLanguageStreamsInIt(t *testing.T) {
	t.Parallel()
	a := start(t, nil, noLimits)
	id := a.as(t, "seller").sell(t, "Lamp", 1_000, "1h0m0s")
	_, doc := a.newClient().get(t, fmt.Sprintf("/auctions/%d?lang=en", id), "Accept-Language", "ko")
	events := doc.Find("body").AttrOr("sse-connect", "")
	ws := doc.Find(`[data-testid="bid-history"]`).AttrOr("ws-connect", "")
	if !strings.HasSuffix(events, "lang=en") || !strings.HasSuffix(ws, "?lang=en") {
		t.Fatalf("stream URLs %q and %q", events, ws)
	}
	s := openSSE(t, a.URL+events, "Accept-Language", "ko")
	if cd := fragment(t, s.next(t, fmt.Sprintf("countdown-%d", id), 3*time.Second).Data); !strings.Contains(cd.Text(), "left") {
		t.Errorf("the stream speaks %q", cd.Text())
	}
}
