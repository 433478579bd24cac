package web_test

// Fuzz targets for what the web layer decodes from strangers: every form
// (through the real app, over HTTP, on a real database), next= redirects,
// ?auctions= lists and the WebSocket frames it writes. `go test` runs the
// seeds; `go test -run '^$' -fuzz '^FuzzBidForm$' -fuzztime 30s ./app/web`
// explores.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/auth"
	"gavel/app/config"
	"gavel/app/db"
	"gavel/app/db/dbtest"
	"gavel/app/web"
)

// fuzzApp is the real app on a loopback listener and a fresh database,
// with one signed-in client; rate limits are lifted so that the fuzzer is
// never answered 429.
type fuzzApp struct {
	url    string
	db     *bun.DB
	c      *http.Client
	csrf   string
	userID int64
	image  int64 // a photo of the user's, for auctions listed as fixtures
	seller int64 // someone else, whose auctions the user bids on
}

var fuzzCSRF = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

func startFuzzApp(tb testing.TB) *fuzzApp {
	tb.Helper()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"APP_ENV": "development", "DEV_LOGIN": "1"}[k]
	})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg.BaseURL = "http://" + ln.Addr().String()
	cfg.DatabaseURL = dbtest.URL(tb)
	bdb, err := db.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { bdb.Close() })
	authSvc, err := auth.NewService(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	bidder := auction.NewBidder(bdb, auction.BidderOptions{Logger: log})
	tb.Cleanup(bidder.Close)
	lots := 1 << 30
	srv := web.New(web.Deps{Config: cfg, DB: bdb, Log: log, Auth: authSvc, Bidder: bidder, Sweeper: auction.NewSweeper(bdb, log),
		Limits: web.Limits{Window: time.Minute, Login: lots, DepositUser: lots, DepositIP: lots, Bid: lots, Listing: lots}})
	go srv.Serve(ln)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	a := &fuzzApp{url: cfg.BaseURL, db: bdb, c: newFuzzClient()}
	if st, _, body := a.devLogin(tb, a.c, "fuzzer"); st != http.StatusSeeOther {
		tb.Fatalf("dev login: %d %s", st, body)
	}
	a.csrf = a.token(tb, a.c)
	if err := bdb.QueryRow(`SELECT id FROM users WHERE nick = 'fuzzer'`).Scan(&a.userID); err != nil {
		tb.Fatal(err)
	}
	if err := bdb.QueryRow(`INSERT INTO users (provider, provider_user_id, nick) VALUES ('dev', 'fuzz-seller', 'fuzz-seller') RETURNING id`).
		Scan(&a.seller); err != nil {
		tb.Fatal(err)
	}
	pngBytes := tinyPNG(tb)
	if err := bdb.QueryRow(`INSERT INTO images (owner_id, large, large_type, thumb, thumb_type, width, height)
		VALUES (?, ?, 'image/png', ?, 'image/png', 4, 4) RETURNING id`, a.seller, pngBytes, pngBytes).Scan(&a.image); err != nil {
		tb.Fatal(err)
	}
	return a
}

func newFuzzClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func tinyPNG(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func (a *fuzzApp) do(tb testing.TB, c *http.Client, req *http.Request) (int, string, string) {
	tb.Helper()
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// post sends vals as a form (with the client's CSRF token) as htmx does.
func (a *fuzzApp) post(tb testing.TB, c *http.Client, csrf, path string, vals url.Values) (int, string, string) {
	tb.Helper()
	vals.Set("_csrf", csrf)
	req, _ := http.NewRequest("POST", a.url+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return a.do(tb, c, req)
}

func (a *fuzzApp) token(tb testing.TB, c *http.Client) string {
	tb.Helper()
	req, _ := http.NewRequest("GET", a.url+"/no-such-page", nil)
	_, _, body := a.do(tb, c, req)
	m := fuzzCSRF.FindStringSubmatch(body)
	if m == nil {
		tb.Fatal("no csrf-token meta")
	}
	return m[1]
}

// devLogin walks the dev login with nick, as a browser does.
func (a *fuzzApp) devLogin(tb testing.TB, c *http.Client, nick string) (int, string, string) {
	tb.Helper()
	req, _ := http.NewRequest("GET", a.url+"/auth/dev", nil)
	st, loc, body := a.do(tb, c, req)
	if st != http.StatusSeeOther {
		tb.Fatalf("GET /auth/dev: %d %s", st, body)
	}
	req, _ = http.NewRequest("GET", a.url+loc, nil)
	_, _, body = a.do(tb, c, req)
	state := regexp.MustCompile(`name="state" value="([^"]*)"`).FindStringSubmatch(body)
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]*)"`).FindStringSubmatch(body)
	if state == nil || csrf == nil {
		tb.Fatalf("no state or _csrf on the dev login form")
	}
	vals := url.Values{"nick": {nick}, "state": {state[1]}}
	vals.Set("_csrf", csrf[1])
	req, _ = http.NewRequest("POST", a.url+"/auth/dev/form", strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(tb, c, req)
}

func (a *fuzzApp) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := a.db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// digits is s's ASCII digits without leading zeros: what any accepted
// reading of an amount must come to.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if d := strings.TrimLeft(b.String(), "0"); d != "" {
		return d
	}
	return "0"
}

func noServerError(tb testing.TB, what string, status int, body string) {
	tb.Helper()
	if status >= 500 {
		tb.Fatalf("%s: %d (a stranger's input must never be a server error)\n%.300s", what, status, body)
	}
}

var amountSeeds = []string{"", "0", "1", "1000", "15000", "1,000", " 2000 ", "+5000", "-5000", "1e3", "0x10", "1_000", "１２３",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "1000000000000", "1000000000001", "12.5", "₩1,000",
	"1 000", "\x00", "\xff\xfe", "<script>", "%", strings.Repeat("9", 5000)}

// formKey is the bid form's one-time key as the site makes them.
var formKey = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// FuzzBidForm posts any amount, message and one-time key as a bid (a
// maximum) on a fresh auction. Never a 5xx; a refusal leaves no row; an
// acceptance leaves exactly one, at the start price, and a stored maximum
// of the digits that were typed; sent again with the same well-formed
// key, it is answered as the first time and placed once.
func FuzzBidForm(f *testing.F) {
	for _, s := range amountSeeds {
		f.Add(s, "hello", "")
	}
	f.Add("5000", strings.Repeat("가", 101), "")
	f.Add("5000", "line\nbreak\r\nand\rcr\x00nul\u202e", "")
	f.Add("5000", "keyed", "0123456789abcdef")
	f.Add("5000", "keyed", strings.Repeat("k", 64))
	f.Add("5000", "keyed", strings.Repeat("k", 65))
	f.Add("5000", "keyed", "short")
	f.Add("5000", "keyed", "0123456789abcdef\x00")
	f.Add("5000", "keyed", "'; DROP TABLE bids; --0123456789")
	a := startFuzzApp(f)
	f.Fuzz(func(t *testing.T, amount, message, key string) {
		var id int64
		if err := a.db.QueryRow(`INSERT INTO auctions (seller_id, title, image_id, start_price, current_price, ends_at)
			VALUES (?, 'Fuzz lot', ?, 1000, 1000, now() + interval '1 hour') RETURNING id`, a.seller, a.image).Scan(&id); err != nil {
			t.Fatal(err)
		}
		vals := func() url.Values { return url.Values{"amount": {amount}, "message": {message}, "key": {key}} }
		path := "/auctions/" + strconv.FormatInt(id, 10) + "/bids"
		st, _, body := a.post(t, a.c, a.csrf, path, vals())
		noServerError(t, fmt.Sprintf("bid %q %q key %q", amount, message, key), st, body)
		rows := a.count(t, `SELECT count(*) FROM bids WHERE auction_id = ?`, id)
		switch {
		case st == http.StatusOK:
			// The first bid on a lot leads at the start price; what was
			// typed is the bidder's maximum.
			var price, maximum int64
			if err := a.db.QueryRow(`SELECT b.amount, m.amount FROM bids b JOIN maximums m USING (auction_id, bidder_id)
				WHERE b.auction_id = ?`, id).Scan(&price, &maximum); err != nil || rows != 1 {
				t.Fatalf("bid %q accepted: %d rows (%v)", amount, rows, err)
			}
			if price != 1000 || strconv.FormatInt(maximum, 10) != digits(amount) {
				t.Fatalf("bid %q stored as a row of %d and a maximum of %d", amount, price, maximum)
			}
			if formKey.MatchString(key) {
				again, _, body := a.post(t, a.c, a.csrf, path, vals())
				if again != http.StatusOK || a.count(t, `SELECT count(*) FROM bids WHERE auction_id = ?`, id) != 1 {
					t.Fatalf("bid %q with key %q sent again: %d, %d rows\n%.300s", amount, key, again,
						a.count(t, `SELECT count(*) FROM bids WHERE auction_id = ?`, id), body)
				}
			}
		case rows != 0:
			t.Fatalf("bid %q refused with %d, yet %d rows", amount, st, rows)
		}
	})
}

// FuzzDepositForm posts any amount as a deposit: never a 5xx; a refusal
// moves no money; an acceptance writes one ledger row of the typed digits.
func FuzzDepositForm(f *testing.F) {
	for _, s := range amountSeeds {
		f.Add(s)
	}
	a := startFuzzApp(f)
	f.Fuzz(func(t *testing.T, amount string) {
		before := a.count(t, `SELECT count(*) FROM ledger WHERE user_id = ?`, a.userID)
		st, _, body := a.post(t, a.c, a.csrf, "/wallet/deposits", url.Values{"amount": {amount}})
		noServerError(t, fmt.Sprintf("deposit %q", amount), st, body)
		after := a.count(t, `SELECT count(*) FROM ledger WHERE user_id = ?`, a.userID)
		switch {
		case st == http.StatusSeeOther || st == http.StatusOK:
			var got int64
			if err := a.db.QueryRow(`SELECT amount FROM ledger WHERE user_id = ? ORDER BY id DESC LIMIT 1`, a.userID).Scan(&got); err != nil ||
				after != before+1 || strconv.FormatInt(got, 10) != digits(amount) {
				t.Fatalf("deposit %q accepted (%d): ledger rows %d -> %d, last %d (%v)", amount, st, before, after, got, err)
			}
		case after != before:
			t.Fatalf("deposit %q refused with %d, yet ledger rows %d -> %d", amount, st, before, after)
		}
	})
}

// FuzzSellForm posts any title, description, price and duration with a
// real photo: never a 5xx; a listing exists exactly when it was accepted,
// at the typed price.
func FuzzSellForm(f *testing.F) {
	for _, s := range amountSeeds {
		f.Add("A fine lamp", "Brass", s, "1h")
	}
	for _, d := range []string{"", "10m", "1h", "168h", "169h", "-1h", "1ns", "9999999h", "1h0m0s", "abc"} {
		f.Add("Lamp", "", "5000", d)
	}
	f.Add("", "", "", "")
	f.Add(strings.Repeat("x", 101), strings.Repeat("y", 2001), "5000", "1h")
	f.Add(" \t\n", "\x00", "5000", "1h")
	a := startFuzzApp(f)
	photo := tinyPNG(f)
	f.Fuzz(func(t *testing.T, title, description, price, duration string) {
		before := a.count(t, `SELECT count(*) FROM auctions WHERE seller_id = ?`, a.userID)
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"title": title, "description": description, "start_price": price, "duration": duration, "_csrf": a.csrf} {
			w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("image", "p.png")
		fw.Write(photo)
		w.Close()
		req, _ := http.NewRequest("POST", a.url+"/auctions", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		st, _, body := a.do(t, a.c, req)
		noServerError(t, fmt.Sprintf("sell %q %q %q %q", title, description, price, duration), st, body)
		after := a.count(t, `SELECT count(*) FROM auctions WHERE seller_id = ?`, a.userID)
		switch {
		case st == http.StatusSeeOther:
			var got int64
			if err := a.db.QueryRow(`SELECT start_price FROM auctions WHERE seller_id = ? ORDER BY id DESC LIMIT 1`, a.userID).Scan(&got); err != nil ||
				after != before+1 || strconv.FormatInt(got, 10) != digits(price) {
				t.Fatalf("sell at %q accepted: auctions %d -> %d, price %d (%v)", price, before, after, got, err)
			}
		case after != before:
			t.Fatalf("sell refused with %d, yet auctions %d -> %d", st, before, after)
		}
	})
}

// FuzzProfileForm posts any nickname: never a 5xx, and what is stored
// passes the schema's own checks (it would be a 5xx otherwise).
func FuzzProfileForm(f *testing.F) {
	for _, s := range []string{"", "a", "ab", "alice", " alice ", "ALICE", "fuzz-seller", strings.Repeat("x", 21), "가나다",
		"a\x00b", "a\u200bb", "alice\ufe0f", "\u3164\u3164", "<b>hi</b>", "\xff\xfe"} {
		f.Add(s)
	}
	a := startFuzzApp(f)
	f.Fuzz(func(t *testing.T, nick string) {
		st, _, body := a.post(t, a.c, a.csrf, "/me/profile", url.Values{"nick": {nick}})
		noServerError(t, fmt.Sprintf("nick %q", nick), st, body)
	})
}

// FuzzDevLoginForm signs in with any nickname: never a 5xx; a successful
// sign-in redirects to a path on this site.
func FuzzDevLoginForm(f *testing.F) {
	for _, s := range []string{"", "a", "bob", " bob ", strings.Repeat("x", 21), "가나다", "a\x00b", "\xff", "fuzzer"} {
		f.Add(s)
	}
	a := startFuzzApp(f)
	f.Fuzz(func(t *testing.T, nick string) {
		st, loc, body := a.devLogin(t, newFuzzClient(), nick)
		noServerError(t, fmt.Sprintf("dev login %q", nick), st, body)
		if st == http.StatusSeeOther && web.SafeNext(loc) != loc {
			t.Fatalf("dev login %q redirects off site: %q", nick, loc)
		}
	})
}

// FuzzLangForm posts any language and next=: never a 5xx, and the redirect
// stays on this site.
func FuzzLangForm(f *testing.F) {
	for _, s := range nextSeeds {
		f.Add("en", s)
	}
	f.Add("xx", "/")
	f.Add("", "")
	a := startFuzzApp(f)
	f.Fuzz(func(t *testing.T, lang, next string) {
		st, loc, body := a.post(t, a.c, a.csrf, "/lang", url.Values{"lang": {lang}, "next": {next}})
		noServerError(t, fmt.Sprintf("lang %q next %q", lang, next), st, body)
		if st == http.StatusSeeOther {
			checkLocal(t, next, loc)
		}
	})
}

var nextSeeds = []string{"", "/", "/auctions/1", "/me/bids?page=2", "//evil.example", "/\\evil.example", "\\\\evil.example",
	"https://evil.example", "http:/evil.example", "javascript:alert(1)", "/%2F/evil.example", "/\t/evil.example", "/\r\nSet-Cookie: x=1",
	"/ /evil.example", "/.//evil.example", "/@evil.example", "/auctions/1#frag", "relative", "./x", " /x", "/\x00", "/%0d%0a"}

// checkLocal fails unless loc, read as a browser reads a Location (which
// drops tabs and newlines and takes a backslash for a slash), stays on the
// site's own origin.
func checkLocal(t *testing.T, next, loc string) {
	t.Helper()
	base, _ := url.Parse("https://gavel.example/auctions/7")
	browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
	u, err := base.Parse(browser)
	if err != nil {
		t.Fatalf("next %q: redirect %q does not parse: %v", next, loc, err)
	}
	if u.Scheme != "https" || u.Host != "gavel.example" || !strings.HasPrefix(loc, "/") {
		t.Fatalf("next %q: redirect %q leaves the site (%s)", next, loc, u)
	}
}

// FuzzSafeNext: whatever next= holds, the redirect stays on the site, and a
// plain local path is kept as it is.
func FuzzSafeNext(f *testing.F) {
	for _, s := range nextSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := web.SafeNext(next)
		if got != "/" && got != next {
			t.Fatalf("SafeNext(%q) = %q: neither the input nor /", next, got)
		}
		checkLocal(t, next, got)
		if ok, _ := regexp.MatchString(`^/[a-z0-9/]*$`, next); ok && !strings.HasPrefix(next, "//") && got != next {
			t.Fatalf("SafeNext(%q) = %q: a plain local path was dropped", next, got)
		}
	})
}

// FuzzParseWatch: ?auctions= yields positive, distinct ids, at most
// MaxWatch, each written in the input; or a refusal.
func FuzzParseWatch(f *testing.F) {
	for _, s := range []string{"", "1", "1,2,3", "3,3,3", "0", "-1", "1,,2", " 4 , 5 ", "a", "9223372036854775807", "9223372036854775808",
		strings.Repeat("1,", 100) + "1", strings.TrimSuffix(strings.Repeat("7,", 101), ","), "+1", "０"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		ids, ok := web.ParseWatch(q)
		if !ok {
			if ids != nil {
				t.Fatalf("ParseWatch(%q) refused but returned %v", q, ids)
			}
			return
		}
		if len(ids) > web.MaxWatch {
			t.Fatalf("ParseWatch(%q): %d ids", q, len(ids))
		}
		seen := map[int64]bool{}
		parts := strings.Split(q, ",")
		for _, id := range ids {
			if id <= 0 || seen[id] {
				t.Fatalf("ParseWatch(%q) = %v: id %d not positive or repeated", q, ids, id)
			}
			seen[id] = true
			found := false
			for _, p := range parts {
				n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
				found = found || (err == nil && n == id)
			}
			if !found {
				t.Fatalf("ParseWatch(%q) = %v: %d is not in the input", q, ids, id)
			}
		}
	})
}

// FuzzWebSocketFrame reads the frames the server writes with a decoder
// written from RFC 6455 §5.2: one final, unmasked frame of the opcode,
// the payload length in its shortest form, the payload intact.
func FuzzWebSocketFrame(f *testing.F) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		f.Add(byte(0x1), bytes.Repeat([]byte("x"), n))
	}
	f.Add(byte(0x9), []byte{})
	f.Add(byte(0x8), []byte{0x03, 0xf4})
	f.Fuzz(func(t *testing.T, op byte, payload []byte) {
		op &= 0x0f
		fr := web.Frame(op, payload)
		if len(fr) < 2 || fr[0] != 0x80|op {
			t.Fatalf("first byte %#x, want FIN and op %#x", fr[0], op)
		}
		if fr[1]&0x80 != 0 {
			t.Fatal("a server frame must not be masked")
		}
		n, head := uint64(fr[1]&0x7f), 2
		switch n {
		case 126:
			n, head = uint64(binary.BigEndian.Uint16(fr[2:4])), 4
			if n < 126 {
				t.Fatalf("length %d in the 16-bit form", n)
			}
		case 127:
			n, head = binary.BigEndian.Uint64(fr[2:10]), 10
			if n <= 0xffff || n>>63 != 0 {
				t.Fatalf("length %d in the 64-bit form", n)
			}
		}
		if n != uint64(len(payload)) || len(fr) != head+len(payload) || !bytes.Equal(fr[head:], payload) {
			t.Fatalf("frame of %d bytes carries length %d, head %d: payload not intact", len(payload), n, head)
		}
	})
}

// TestCloseFramesCarryTheirCode checks the close frames htmx reconnects on.
func TestCloseFramesCarryTheirCode(t *testing.T) {
	for _, code := range []int{1000, 1012, 1013} {
		fr := web.CloseFrame(code)
		if len(fr) != 4 || fr[0] != 0x88 || fr[1] != 2 || int(binary.BigEndian.Uint16(fr[2:])) != code {
			t.Errorf("close frame %d: % x", code, fr)
		}
	}
}
