package web_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"gavel/app/web"
)

// Tests of the security review's smaller findings (issue #11).

func TestHugePageNumberIsClampedNotAServerError(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	for _, q := range []string{"page=384307168202282327", "view=new&page=9223372036854775807", "view=ended&page=99999999999", "q=x&page=384307168202282327"} {
		resp, _ := a.get(t, "/?"+q)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/?%s: %d, want 200", q, resp.StatusCode)
		}
	}
}

func TestPageAtASocketURLWithoutAnUpgradeKeepsCSPAndFrameHeaders(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	for _, path := range []string{"/auctions/1/ws", "/no/such/ws", "/auctions/x/ws"} {
		resp, _ := a.get(t, path)
		if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s (%d): CSP %q, X-Frame-Options %q", path, resp.StatusCode,
				resp.Header.Get("Content-Security-Policy"), resp.Header.Get("X-Frame-Options"))
		}
	}
}

func TestDepositFlashComesFromTheDepositNotTheURL(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"DEPOSIT_MAX": "10000", "DEPOSIT_DAILY_CAP": "20000"})
	a.loginDev(t, "flashuser")
	_, doc := a.get(t, "/wallet?deposited=1000000000", "Accept-Language", "en")
	if got := doc.Find(`[data-testid="flash"]`).Text(); got != "" {
		t.Errorf("a forged link shows the flash %q", got)
	}
	resp, _ := a.postForm(t, "/wallet/deposits", url.Values{"amount": {"7000"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deposit: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if strings.Contains(loc, "7000") {
		t.Errorf("the amount is in the URL: %q", loc)
	}
	_, doc = a.get(t, loc, "Accept-Language", "en")
	if got := doc.Find(`[data-testid="flash"]`).Text(); got != "₩7,000 was added to your wallet." {
		t.Errorf("flash after the deposit: %q", got)
	}
	_, doc = a.get(t, loc, "Accept-Language", "en")
	if got := doc.Find(`[data-testid="flash"]`).Text(); got != "" {
		t.Errorf("the flash shows twice: %q", got)
	}
	// Another user's link cannot show this user's flash either.
	resp, _ = a.postForm(t, "/wallet/deposits", url.Values{"amount": {"3000"}})
	other := a.as(t, "flashother")
	_, doc = other.get(t, resp.Header.Get("Location"), "Accept-Language", "en")
	if got := doc.Find(`[data-testid="flash"]`).Text(); got != "" {
		t.Errorf("another user sees %q", got)
	}
}

func TestSignInStartsAreRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	a := start(t, nil, withLimits(web.Limits{Login: 3}))
	var last int
	for range 4 {
		resp, _ := a.newClient().get(t, "/auth/dev")
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("the 4th GET /auth/dev in a minute: %d, want 429", last)
	}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestClientAddressIsAValidRealIPHeaderElseThePeerAndIPv6CountsPer64(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	a := start(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"}, withLimits(web.Limits{Login: 2}), func(d *web.Deps) {
		d.Log = slog.New(slog.NewTextHandler(logs, nil))
	})
	get := func(path, realIP string) int {
		req, _ := http.NewRequest("GET", a.URL+path, nil)
		req.Header["X-Real-Ip"] = []string{realIP}
		resp, _ := a.newClient().do(t, req)
		return resp.StatusCode
	}
	for header, want := range map[string]string{
		"":               "ip=127.0.0.1 ",
		"not-an-ip":      "ip=127.0.0.1 ",
		"203.0.113.9":    "ip=203.0.113.9 ",
		"::ffff:1.2.3.4": "ip=1.2.3.4 ",
	} {
		path := "/healthz?h=" + url.QueryEscape(header)
		get(path, header)
		var line string
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, "path=/healthz") && strings.Contains(l, "msg=request") {
				line = l
			}
		}
		if !strings.Contains(line, want) {
			t.Errorf("X-Real-IP %q: logged %q, want %q", header, strings.TrimSpace(line), want)
		}
	}
	// Two addresses of one /64 share a bucket, however spelt; another /64
	// has its own.
	get("/auth/dev", "2001:db8:1:2::a")
	get("/auth/dev", "2001:db8:1:2:ffff::b")
	if got := get("/auth/dev", "2001:DB8:1:2:0:0:0:c"); got != http.StatusTooManyRequests {
		t.Errorf("third start from one /64: %d, want 429", got)
	}
	if got := get("/auth/dev", "2001:db8:1:3::a"); got != http.StatusSeeOther {
		t.Errorf("start from another /64: %d, want 303", got)
	}
}

func TestNewListingsAreRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"RATE_LISTING": "2"})
	a.loginDev(t, "seller1")
	a.sell(t, "One", 1000, "24h0m0s")
	a.sell(t, "Two", 1000, "24h0m0s")
	resp, doc := a.postMultipart(t, "/auctions", url.Values{
		"title": {"Three"}, "start_price": {"1000"}, "duration": {"24h0m0s"},
	}, "photo.png", photo(t), "Accept-Language", "en")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third listing in an hour: %d, want 429", resp.StatusCode)
	}
	if got := doc.Find("main").Text(); !strings.Contains(got, "You have listed too many items") {
		t.Errorf("429 page: %q", strings.TrimSpace(got))
	}
	// Another seller is not held back.
	b := a.as(t, "seller2")
	id := b.sell(t, "Other", 1000, "24h0m0s")
	// Edits have a budget of their own: using it up leaves the new
	// listings alone, and the refusal says which was used up.
	edit := fmt.Sprintf("/auctions/%d/edit", id)
	for i := range 2 {
		if resp, doc := b.postPhotos(t, edit, editVals(fmt.Sprint("Other ", i), ""), nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit %d: %d %s", i+1, resp.StatusCode, doc.Find(".field__error").Text())
		}
	}
	resp, doc = b.postPhotos(t, edit, editVals("Other 3", ""), nil, "Accept-Language", "en")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(doc.Find("main").Text(), "You have edited your listings too often") {
		t.Errorf("third edit in an hour: %d %q, want 429 naming edits", resp.StatusCode, strings.TrimSpace(doc.Find("main").Text()))
	}
	b.sell(t, "Second after the edits", 1000, "24h0m0s")
}

func TestProfileRefusesInvisibleAndLookalikeNicknamesWithAMessage(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	a.as(t, "alice")
	a.loginDev(t, "changer2")
	for _, tc := range []struct{ nick, lang, want string }{
		{".dot", "en", "Your nickname must start with a letter or a digit."},
		{"-dash", "ko", "닉네임은 글자나 숫자로 시작해야 합니다."},
		{"ㅤㅤ", "en", "Your nickname may only use letters, digits, spaces, '.', '_' and '-'."},
		{"bob\u200b", "en", "Your nickname may only use letters, digits, spaces, '.', '_' and '-'."},
		{"a1ice", "en", "Someone else already uses that nickname."},
		{"ａｌｉｃｅ", "en", "Someone else already uses that nickname."},
	} {
		resp, doc := a.postForm(t, "/me/profile", url.Values{"nick": {tc.nick}}, "Accept-Language", tc.lang)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%q: status %d", tc.nick, resp.StatusCode)
		}
		if got := doc.Find(`[data-testid="error-nick"]`).Text(); got != tc.want {
			t.Errorf("%q (%s): error %q, want %q", tc.nick, tc.lang, got, tc.want)
		}
	}
}
