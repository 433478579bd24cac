package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gavel/app/auction"
	"gavel/app/media"
	"gavel/app/web"
)

// photo is a small real PNG.
func photo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// postMultipart posts a multipart form with one file, like the sell form.
func (a *testApp) postMultipart(t *testing.T, path string, vals url.Values, file string, body []byte, header ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if vals.Get("_csrf") == "" {
		vals.Set("_csrf", a.csrf(t))
	}
	for k, vs := range vals {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if file != "" {
		fw, _ := w.CreateFormFile("image", file)
		fw.Write(body)
	}
	w.Close()
	req, _ := http.NewRequest("POST", a.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return a.do(t, req)
}

// sell lists an item through the sell form and returns the auction's id.
func (a *testApp) sell(t *testing.T, title string, price int64, duration string) int64 {
	t.Helper()
	resp, doc := a.postMultipart(t, "/auctions", url.Values{
		"title": {title}, "description": {"A fine thing"}, "start_price": {strconv.FormatInt(price, 10)}, "duration": {duration},
	}, "photo.png", photo(t))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/auctions/") {
		t.Fatalf("sell %q: %d %q %s", title, resp.StatusCode, loc, doc.Find(".field__error").Text())
	}
	id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(loc, "/auctions/"), "?created=1"), 10, 64)
	if err != nil {
		t.Fatalf("redirect %q", loc)
	}
	return id
}

// bid posts a bid as htmx does and returns the status and the form.
func (a *testApp) bid(t *testing.T, id, amount int64, msg string) (int, *goquery.Document) {
	t.Helper()
	resp, doc := a.postForm(t, fmt.Sprintf("/auctions/%d/bids", id),
		url.Values{"amount": {strconv.FormatInt(amount, 10)}, "message": {msg}}, "HX-Request", "true")
	return resp.StatusCode, doc
}

func count(t *testing.T, a *testApp, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSellFormShowsEveryFieldErrorInlineAndStoresNothing(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"APP_ENV": "development"})
	seller := a.as(t, "seller")
	for _, htmx := range []bool{true, false} {
		var header []string
		if htmx {
			header = []string{"HX-Request", "true"}
		}
		resp, doc := seller.postMultipart(t, "/auctions", url.Values{
			"title": {"   "}, "description": {strings.Repeat("x", 2001)}, "start_price": {"12.5"}, "duration": {"5h"},
		}, "", nil, header...)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("htmx %v: status %d", htmx, resp.StatusCode)
		}
		for _, field := range []string{"title", "description", "start_price", "duration", "image"} {
			if doc.Find(`[data-testid="error-`+field+`"]`).Text() == "" {
				t.Errorf("htmx %v: no inline error for %s", htmx, field)
			}
			if v, _ := doc.Find("#" + field).Attr("aria-invalid"); v != "true" {
				t.Errorf("htmx %v: %s not marked invalid", htmx, field)
			}
		}
		if got := doc.Find(`[data-testid="error-start_price"]`).Text(); !strings.Contains(got, "정수") {
			t.Errorf("a fractional price should ask for whole won: %q", got)
		}
		full := doc.Find("header.site-header").Length() == 1
		if full == htmx {
			t.Errorf("htmx %v: full page %v", htmx, full)
		}
	}
	if n := count(t, a, "SELECT count(*) FROM auctions") + count(t, a, "SELECT count(*) FROM images"); n != 0 {
		t.Errorf("refused listings stored %d rows", n)
	}
}

func TestSellingWithAPhotoOpensTheRoomAndServesTheImage(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	if resp, _ := a.get(t, "/auctions/new"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fauctions%2Fnew" {
		t.Fatalf("signed-out sell form: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	seller := a.as(t, "seller")
	_, doc := seller.get(t, "/auctions/new")
	if sel := doc.Find(`#duration option[selected]`).AttrOr("value", ""); sel != "24h0m0s" {
		t.Errorf("default duration %q, want a day", sel)
	}
	id := seller.sell(t, "Vintage camera", 50_000, "1h0m0s")

	_, doc = seller.get(t, fmt.Sprintf("/auctions/%d?created=1", id))
	if got := doc.Find(".room__title").Text(); got != "Vintage camera" {
		t.Errorf("room title %q", got)
	}
	if doc.Find(`[data-testid="flash"]`).Length() != 1 || doc.Find(`[data-testid="cancel"]`).Length() != 1 {
		t.Error("the seller sees no flash or no cancel button")
	}
	src, _ := doc.Find("img.room__photo").Attr("src")
	for _, path := range []string{src, src + "/thumb"} {
		resp, err := a.Client.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	if resp, _ := a.get(t, "/images/99999"); resp.StatusCode != 404 {
		t.Errorf("missing image: %d", resp.StatusCode)
	}

	_, doc = a.get(t, "/")
	card := doc.Find(`[data-testid="card"]`)
	if card.Length() != 1 || !strings.Contains(card.Find(".card__price").Text(), "₩50,000") ||
		card.Find(`[data-testid="countdown"]`).Length() != 1 {
		t.Errorf("home card: %q", card.Text())
	}
	if sse, _ := doc.Find("body").Attr("sse-connect"); sse != fmt.Sprintf("/events?auctions=%d&lang=ko", id) {
		t.Errorf("home streams %q", sse)
	}
}

func TestUploadsAreSniffedNotTrusted(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	resp, doc := seller.postMultipart(t, "/auctions", url.Values{
		"title": {"Trap"}, "start_price": {"1000"}, "duration": {"1h0m0s"},
	}, "cute.jpg", []byte("<html><script>alert(1)</script></html>"))
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-image"]`).Text() == "" {
		t.Fatalf("an HTML file named .jpg: %d %q", resp.StatusCode, doc.Find(".field__error").Text())
	}
	if n := count(t, a, "SELECT count(*) FROM images"); n != 0 {
		t.Errorf("stored %d images", n)
	}
}

func TestBidRulesAnswerWithTheirMessageStatusAndChangeNothing(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 10_000, "1h0m0s")
	b := a.as(t, "bidder-b")
	c := a.as(t, "bidder-c")

	if code, doc := b.bid(t, id, 10_000, "first!"); code != 200 || doc.Find(`[data-testid="bid-placed"]`).Length() != 1 {
		t.Fatalf("first bid: %d %q", code, doc.Text())
	} else if v, _ := doc.Find(`[data-testid="bid-amount"]`).Attr("value"); v != "11000" {
		t.Errorf("the answered form should prefill the next minimum, got %q", v)
	}

	before := count(t, a, "SELECT count(*) FROM bids")
	for _, tc := range []struct {
		who    *testApp
		amount string
		status int
		want   string
	}{
		{c, "10500", 409, "₩11,000"},     // below current + increment, says the minimum
		{b, "10000", 409, "이미 최고"},       // leading: only a higher maximum
		{seller, "20000", 403, "자신의 경매"}, // own auction
		{c, "abc", 422, ""},              // not a number
		{c, "10000000000000", 422, ""},   // above the bound
		{c, "-5", 422, ""},               // below the bound
		{c, "1,000,000,000", 409, "잔액"},  // more than the funds
		{c, "11000", 422, "100"},         // message too long (below)
	} {
		msg := ""
		if tc.want == "100" {
			msg = strings.Repeat("가", 101)
		}
		resp, doc := tc.who.postForm(t, fmt.Sprintf("/auctions/%d/bids", id),
			url.Values{"amount": {tc.amount}, "message": {msg}}, "HX-Request", "true")
		got := strings.TrimSpace(doc.Find(`[data-testid="bid-error"]`).Text())
		if resp.StatusCode != tc.status || got == "" || !strings.Contains(got, tc.want) {
			t.Errorf("bid %s: %d %q, want %d with %q", tc.amount, resp.StatusCode, got, tc.status, tc.want)
		}
	}
	if after := count(t, a, "SELECT count(*) FROM bids"); after != before {
		t.Errorf("refused bids changed the bids: %d -> %d", before, after)
	}
	var price int64
	a.DB.NewRaw("SELECT current_price FROM auctions WHERE id = ?", id).Scan(context.Background(), &price)
	if price != 10_000 {
		t.Errorf("price after refusals: %d", price)
	}

	// English bidders read English.
	en := a.as(t, "bidder-en")
	en.postForm(t, "/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	if _, doc := en.bid(t, id, 10_100, ""); !strings.Contains(doc.Find(`[data-testid="bid-error"]`).Text(), "₩11,000") ||
		!strings.Contains(doc.Find(`[data-testid="bid-error"]`).Text(), "minimum") {
		t.Errorf("English refusal: %q", doc.Find(`[data-testid="bid-error"]`).Text())
	}

	// Signed out: sent to sign in, back to the room afterwards.
	guest := a.newClient()
	guest.get(t, fmt.Sprintf("/auctions/%d", id))
	resp, _ := guest.postForm(t, fmt.Sprintf("/auctions/%d/bids", id), url.Values{"amount": {"50000"}},
		"Referer", fmt.Sprintf("%s/auctions/%d", a.URL, id))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/login?next=%%2Fauctions%%2F%d", id) {
		t.Errorf("signed-out bid: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := c.postForm(t, "/auctions/424242/bids", url.Values{"amount": {"50000"}}, "HX-Request", "true"); resp.StatusCode != 404 {
		t.Errorf("bid on a missing auction: %d", resp.StatusCode)
	}
}

func TestBidWithoutJavaScriptRedirectsToTheRoomWithTheNewRow(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	id := a.as(t, "seller").sell(t, "Chair", 5_000, "1h0m0s")
	b := a.as(t, "bidder")
	resp, _ := b.postForm(t, fmt.Sprintf("/auctions/%d/bids", id), url.Values{"amount": {"5000"}, "message": {"mine"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/auctions/%d?bid=leading", id) {
		t.Fatalf("plain bid: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc := b.get(t, resp.Header.Get("Location"))
	row := doc.Find(`[data-testid="bid-row"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "bidder") || !strings.Contains(row.Text(), "₩5,000") || !strings.Contains(row.Text(), "mine") {
		t.Errorf("row after the redirect: %q", row.Text())
	}
	if doc.Find(`[data-testid="bid-placed"]`).Length() != 1 {
		t.Error("no confirmation after the redirect")
	}
	// A refused plain bid shows the whole room with the reason by the form.
	resp, doc = a.as(t, "other").postForm(t, fmt.Sprintf("/auctions/%d/bids", id), url.Values{"amount": {"5000"}})
	if resp.StatusCode != 409 || doc.Find(`[data-testid="room"]`).Length() != 1 || doc.Find(`[data-testid="bid-error"]`).Length() != 1 {
		t.Errorf("plain refusal: %d", resp.StatusCode)
	}
}

func TestBidsAreRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	a := start(t, nil, withLimits(web.Limits{Bid: 2}))
	id := a.as(t, "seller").sell(t, "Pen", 1_000, "1h0m0s")
	b := a.as(t, "bidder")
	b.bid(t, id, 1_000, "")
	b.bid(t, id, 1_000, "") // refused (leading) but counted
	code, doc := b.bid(t, id, 5_000, "")
	if code != http.StatusTooManyRequests || !strings.Contains(doc.Find(`[data-testid="bid-error"]`).Text(), "잦습니다") {
		t.Errorf("third bid in the window: %d %q", code, doc.Find(`[data-testid="bid-error"]`).Text())
	}
	// Another user is not limited by b's bids.
	if code, _ := a.as(t, "other").bid(t, id, 1_500, ""); code != 200 {
		t.Errorf("another user's bid: %d", code)
	}
}

func TestSellerCancelsBeforeTheFirstBidOnly(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	first := seller.sell(t, "Kept", 1_000, "1h0m0s")
	second := seller.sell(t, "Withdrawn", 1_000, "1h0m0s")
	a.as(t, "bidder").bid(t, first, 1_000, "")
	if resp, _ := a.as(t, "stranger").postForm(t, fmt.Sprintf("/auctions/%d/cancel", second), url.Values{}); resp.StatusCode != 403 {
		t.Errorf("a stranger cancels: %d", resp.StatusCode)
	}
	if resp, _ := seller.postForm(t, fmt.Sprintf("/auctions/%d/cancel", first), url.Values{}); resp.StatusCode != 409 {
		t.Errorf("cancel after a bid: %d", resp.StatusCode)
	}
	if resp, _ := seller.postForm(t, fmt.Sprintf("/auctions/%d/cancel", second), url.Values{}); resp.StatusCode != 303 {
		t.Errorf("cancel: %d", resp.StatusCode)
	}
	_, doc := seller.get(t, fmt.Sprintf("/auctions/%d", second))
	if doc.Find(`[data-testid="result"]`).Length() != 1 || doc.Find(`[data-testid="bid-form"]`).Length() != 0 {
		t.Error("a cancelled auction still shows a bid form")
	}
}

func TestMyPagesAfterSettlement(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	won := seller.sell(t, "Won item", 1_000, "1h0m0s")
	lost := seller.sell(t, "Lost item", 1_000, "1h0m0s")
	b, c := a.as(t, "bee"), a.as(t, "cee")
	for _, bid := range []struct {
		by     *testApp
		id, at int64
	}{{b, won, 1_000}, {b, lost, 1_000}, {c, lost, 1_500}} {
		if st, _ := bid.by.bid(t, bid.id, bid.at, ""); st != 200 {
			t.Fatalf("bid %d on %d: %d", bid.at, bid.id, st)
		}
	}
	// The won item's time is up (however slow the machine was so far).
	if _, err := a.DB.Exec(`UPDATE auctions SET ends_at = now() WHERE id = ?`, won); err != nil {
		t.Fatal(err)
	}
	if n, err := auction.NewSweeper(a.DB, nil).SettleDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("settled %d, %v", n, err)
	}
	_, doc := b.get(t, "/me/won")
	if rows := doc.Find(`[data-testid="won"] tbody tr`); rows.Length() != 1 || !strings.Contains(rows.Text(), "Won item") || !strings.Contains(rows.Text(), "₩1,000") {
		t.Errorf("won page: %q", doc.Find("main").Text())
	}
	_, doc = b.get(t, "/me/bids")
	standings := map[string]string{}
	doc.Find(`[data-testid="my-bid"]`).Each(func(_ int, s *goquery.Selection) {
		standings[s.Find("a").Text()] = s.Find(`[data-testid="standing"]`).Text()
	})
	if standings["Won item"] != "낙찰" || standings["Lost item"] != "더 높은 입찰 있음" {
		t.Errorf("standings: %v", standings)
	}
	_, doc = seller.get(t, "/me/selling")
	if n := doc.Find(`[data-testid="selling"] tbody tr`).Length(); n != 2 {
		t.Errorf("selling rows: %d", n)
	}
	_, doc = c.get(t, "/me/won")
	if doc.Find(`[data-testid="empty"]`).Length() != 1 {
		t.Error("an empty won page has no empty state")
	}
	if resp, _ := a.get(t, "/me/bids"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed-out my bids: %d", resp.StatusCode)
	}
	_, doc = a.get(t, "/?view=ended")
	if !strings.Contains(doc.Find(`[data-testid="cards"]`).Text(), "Won item") {
		t.Errorf("ended view: %q", doc.Find("main").Text())
	}
}

func TestListSearchViewsAndPages(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	ctx := context.Background()
	sellerID := a.newClient().loginDev(t, "seller")
	img, err := media.Process(bytes.NewReader(photo(t)))
	if err != nil {
		t.Fatal(err)
	}
	imageID, err := media.Save(ctx, a.DB, sellerID, img)
	if err != nil {
		t.Fatal(err)
	}
	for i := range auction.PageSize + 2 {
		title := fmt.Sprintf("Item %02d", i)
		if i == 0 {
			title = "100% cotton shirt"
		}
		if _, err := auction.Create(ctx, a.DB, auction.CreateInput{SellerID: sellerID, Title: title, StartPrice: 1000,
			Duration: time.Hour, ImageID: imageID}, 0); err != nil {
			t.Fatal(err)
		}
	}
	_, doc := a.get(t, "/")
	if n := doc.Find(`[data-testid="card"]`).Length(); n != auction.PageSize {
		t.Errorf("first page: %d cards", n)
	}
	next, _ := doc.Find(`.pager a[rel="next"]`).Attr("href")
	_, doc = a.get(t, next)
	if n := doc.Find(`[data-testid="card"]`).Length(); n != 2 {
		t.Errorf("second page (%s): %d cards", next, n)
	}
	_, doc = a.get(t, "/?q="+url.QueryEscape("100%"))
	if n := doc.Find(`[data-testid="card"]`).Length(); n != 1 {
		t.Errorf("search for 100%%: %d cards (LIKE wildcards must be literal)", n)
	}
	_, doc = a.get(t, "/?q=nothing-like-it")
	if !strings.Contains(doc.Find(`[data-testid="empty"]`).Text(), "nothing-like-it") {
		t.Error("an empty search does not say what was searched")
	}
	_, doc = a.get(t, "/?view=new")
	if cur, _ := doc.Find(`.tabs a[aria-current="page"]`).Attr("href"); cur != "/?view=new" {
		t.Errorf("current tab %q", cur)
	}
}

func TestRoomShowsTheLatest50BidsAndPagesOlderOnes(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	id := a.as(t, "seller").sell(t, "Popular", 1_000, "1h0m0s")
	bidders := []*testApp{a.as(t, "one"), a.as(t, "two")}
	amount := int64(1_000)
	for i := range 60 {
		if code, doc := bidders[i%2].bid(t, id, amount, strconv.Itoa(i)); code != 200 {
			t.Fatalf("bid %d: %d %q", i, code, doc.Text())
		}
		amount += auction.Increment(amount)
	}
	_, doc := a.get(t, fmt.Sprintf("/auctions/%d", id))
	rows := doc.Find(`[data-testid="bid-row"]`)
	if rows.Length() != 50 || rows.First().Find(".bid-row__message").Text() != "59" {
		t.Fatalf("room rows: %d, first %q", rows.Length(), rows.First().Text())
	}
	older, _ := doc.Find(`[data-testid="older-bids"]`).Attr("href")
	_, doc = a.get(t, older)
	rows = doc.Find(`[data-testid="bid-row"]`)
	if rows.Length() != 10 || rows.First().Find(".bid-row__message").Text() != "9" || doc.Find(`[data-testid="older-bids"]`).Length() != 0 {
		t.Errorf("older page: %d rows, first %q", rows.Length(), rows.First().Text())
	}
}
