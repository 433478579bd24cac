package web_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"gavel/app/auction"
	"gavel/app/auth"
	"gavel/app/db/dbtest"
	"gavel/app/i18n"
	"gavel/app/server/servertest"
	"gavel/app/web"
)

// statements records every statement the app's pool sends, as the pgx
// driver sees it (bun and database/sql calls alike).
type statements struct {
	mu   sync.Mutex
	sqls []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	s.sqls = append(s.sqls, d.SQL)
	s.mu.Unlock()
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns what was recorded since the last call.
func (s *statements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sqls
	s.sqls = nil
	return out
}

var writeSQL = regexp.MustCompile(`(?is)^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|CREATE|ALTER|DROP)\b|\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|pg_notify|nextval)\b`)

// countingDB is the app's pool, with every statement recorded, plus a
// running auth cache on it (as server.New gives every instance).
func countingDB(t *testing.T, rec *statements) func(*web.Deps) {
	return func(d *web.Deps) {
		cfg, err := pgx.ParseConfig(d.Config.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Tracer = rec
		bdb := bun.NewDB(stdlib.OpenDB(*cfg), pgdialect.New())
		t.Cleanup(func() { bdb.Close() })
		d.DB = bdb // the instance's cache reads through it too
	}
}

// listening waits for a's auth cache to hear the database's notices.
func listening(t *testing.T, a *testApp) *testApp {
	t.Helper()
	waitFor(t, 5*time.Second, "the auth cache's listener", a.Server.Cache.Listening)
	return a
}

func TestAGetWritesNothingAndACachedSessionIsNotRead(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	a := listening(t, start(t, nil, countingDB(t, rec)))
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 1000, "24h")
	var imageID int64
	if err := a.DB.NewRaw(`SELECT image_id FROM auctions WHERE id = ?`, id).Scan(context.Background(), &imageID); err != nil {
		t.Fatal(err)
	}
	img := "/images/" + strconv.FormatInt(imageID, 10)
	room := "/auctions/" + strconv.FormatInt(id, 10)
	gets := []string{"/", "/?view=new", "/?view=ended", "/?q=lamp", room, room + "/bids", "/login", "/no-such-page",
		img, img + "/thumb", "/favicon.ico", "/robots.txt", "/static/css/app.css"}

	// Anonymous, cookieless visitors (a crawler, a link preview).
	rec.take()
	for _, p := range gets {
		resp, _ := a.newClient().get(t, p)
		if resp.StatusCode >= 500 {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
	}
	qs := rec.take()
	if len(qs) == 0 {
		t.Fatal("no statement recorded: the hook is not on the app's pool")
	}
	for _, q := range qs {
		if writeSQL.MatchString(q) {
			t.Errorf("an anonymous GET wrote: %s", q)
		}
		if strings.Contains(q, "sessions") {
			t.Errorf("an anonymous GET touched sessions: %s", q)
		}
	}
	var rows int
	a.DB.NewRaw(`SELECT count(*) FROM sessions`).Scan(context.Background(), &rows)
	if rows != 1 {
		t.Errorf("%d session rows after anonymous visits, want the seller's only", rows)
	}

	// Files carry no cookie, whoever asks.
	for _, p := range []string{img, img + "/thumb", "/favicon.ico", "/robots.txt", "/static/css/app.css"} {
		for _, b := range []*testApp{a.newClient(), seller} {
			resp, _ := b.get(t, p)
			if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("GET %s set cookies: %q", p, sc)
			}
		}
	}

	// Signed in: once this instance has seen the session and the user, no
	// page reads them again, and no GET writes.
	seller.get(t, "/")
	rec.take()
	for _, p := range append(gets, "/wallet", "/me/selling", "/me/profile") {
		seller.get(t, p)
	}
	for _, q := range rec.take() {
		if writeSQL.MatchString(q) {
			t.Errorf("a signed-in GET wrote: %s", q)
		}
		if strings.Contains(q, "FROM sessions") || strings.Contains(q, "FROM users WHERE id = $1") {
			t.Errorf("a cached session or user was read again: %s", q)
		}
	}
}

// The cache must not be what hides the reads above: without its listener it
// reads on every request (nothing may be trusted while notices could be
// missed).
func TestWithoutItsListenerTheCacheReadsEveryTime(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	a := start(t, nil, countingDB(t, rec), func(d *web.Deps) { d.Cache = auth.NewCache(d.DB, "", d.Log) })
	b := a.as(t, "reader")
	b.get(t, "/")
	rec.take()
	b.get(t, "/")
	var reads int
	for _, q := range rec.take() {
		if strings.Contains(q, "FROM sessions WHERE key = $1") {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("%d session reads for a page without the listener, want 1", reads)
	}
}

// A logout wins over requests that were in flight when it came: nothing
// those requests do afterwards brings the session back.
func TestLogoutCannotBeUndoneByRequestsInFlight(t *testing.T) {
	t.Parallel()
	a := listening(t, start(t, nil))
	for round := range 5 {
		b := a.as(t, "leaver"+strconv.Itoa(round))
		sid := b.sessionID()
		token := b.csrf(t)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := []string{"/", "/wallet", "/favicon.ico", "/me/profile"}[i%4]
				req, _ := http.NewRequest("GET", a.URL+path, nil)
				req.Header.Set("Cookie", web.SessionCookie+"="+sid)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
		}
		resp, _ := b.postForm(t, "/logout", url.Values{"_csrf": {token}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		wg.Wait()
		if n := count(t, a, `SELECT count(*) FROM sessions WHERE key = ?`, sid); n != 0 {
			t.Fatalf("round %d: the session row is back after logout", round)
		}
		thief := a.newClient()
		u, _ := url.Parse(a.URL)
		thief.Client.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: sid, Path: "/"}})
		resp, _ = thief.get(t, "/wallet")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("round %d: the old cookie still opens /wallet (%d)", round, resp.StatusCode)
		}
	}
}

// Two instances on one database: a logout or a nickname change on one takes
// effect on the other (which had both cached) within a second.
func TestLogoutAndProfileChangeReachTheOtherInstanceWithinASecond(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	one := listening(t, startOn(t, dbURL, nil))
	two := listening(t, startOn(t, dbURL, nil))
	b := one.as(t, "roamer")
	sid := b.sessionID()
	on2 := two.newClient()
	u2, _ := url.Parse(two.URL)
	on2.Client.Jar.SetCookies(u2, []*http.Cookie{{Name: web.SessionCookie, Value: sid, Path: "/"}})
	nickOn2 := func() string {
		_, doc := on2.get(t, "/me/profile")
		return strings.TrimSpace(doc.Find(`[data-testid="nick"]`).Text())
	}
	if got := nickOn2(); !strings.Contains(got, "roamer") {
		t.Fatalf("instance two does not know the session: nick %q", got)
	}
	nickOn2() // now surely cached there

	resp, doc := b.postForm(t, "/me/profile", url.Values{"nick": {"wanderer"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("profile change: %d %s", resp.StatusCode, doc.Find("main").Text())
	}
	deadline := time.Now().Add(time.Second)
	for !strings.Contains(nickOn2(), "wanderer") {
		if time.Now().After(deadline) {
			t.Fatalf("instance two still shows %q a second after the change", nickOn2())
		}
		time.Sleep(20 * time.Millisecond)
	}

	if resp, _ := b.postForm(t, "/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	deadline = time.Now().Add(time.Second)
	for {
		resp, _ := on2.get(t, "/wallet")
		if resp.StatusCode == http.StatusSeeOther {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("instance two still serves the session a second after logout")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The CSRF token comes from the header or the form body only: in a URL it
// would leak through logs and Referer headers.
func TestCSRFTokenInTheQueryStringIsRefused(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	b := a.as(t, "querier")
	token := b.csrf(t)
	resp, _ := b.postForm(t, "/me/profile?_csrf="+url.QueryEscape(token), url.Values{"nick": {"changed"}, "_csrf": {""}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("token in the query string: %d, want 403", resp.StatusCode)
	}
	resp, _ = b.postForm(t, "/me/profile", url.Values{"nick": {"changed"}, "_csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("token in the body: %d, want 303", resp.StatusCode)
	}
	// A token is bound to its session: another browser's is worthless.
	c := a.as(t, "other")
	resp, _ = c.postForm(t, "/me/profile", url.Values{"nick": {"stolen"}, "_csrf": {token}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", resp.StatusCode)
	}
	// A foreign Origin is refused even with the right token.
	resp, _ = b.postForm(t, "/me/profile", url.Values{"nick": {"changed2"}, "_csrf": {token}}, "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: %d, want 403", resp.StatusCode)
	}
}

// The front page reads its list once per change: repeated views cost no
// query, a bid shows on its card without one, and a new listing, a nick
// change or a settlement appears within a second.
func TestFrontPageIsReadOncePerChange(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	a := start(t, nil, countingDB(t, rec), noLimits)
	waitFor(t, 5*time.Second, "the cache's listener", a.Server.Cache.Listening)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 1000, "24h")
	bidder := a.as(t, "bidder")
	rival := a.as(t, "rival")
	visitor := a.newClient()
	listReads := func() int {
		n := 0
		for _, q := range rec.take() {
			if strings.Contains(q, "FROM auctions a") && strings.Contains(q, "OFFSET") {
				n++
			}
		}
		return n
	}
	price := func() string {
		_, doc := visitor.get(t, "/")
		return doc.Find(`[data-testid="card"] .card__price`).First().Text()
	}
	within := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not on the front page within a second", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	visitor.get(t, "/")
	rec.take()
	for range 5 {
		visitor.get(t, "/")
		bidder.get(t, "/")
	}
	if n := listReads(); n != 0 {
		t.Errorf("%d list queries for 10 unchanged front pages, want 0", n)
	}
	// The cards are kept rendered per language.
	for range 2 {
		for lang, want := range map[string]string{"en": "0 bids", "ko": "입찰 0건"} {
			_, doc := visitor.get(t, "/", "Accept-Language", lang)
			if got := doc.Find(`[data-testid="card"] .card__meta`).First().Text(); !strings.Contains(got, want) {
				t.Errorf("front page in %s: card says %q, want %q", lang, got, want)
			}
		}
	}

	if st, doc := bidder.bid(t, id, 1000, ""); st != http.StatusOK {
		t.Fatalf("bid: %d %s", st, doc.Text())
	}
	if st, doc := rival.bid(t, id, 1500, ""); st != http.StatusOK {
		t.Fatalf("bid: %d %s", st, doc.Text())
	}
	within("the bid's price", func() bool { return strings.Contains(price(), "1,500") })
	if n := listReads(); n != 0 {
		t.Errorf("%d list queries to show a bid, want 0 (the event carries the state)", n)
	}

	seller.sell(t, "Chair", 500, "1h")
	within("a new listing", func() bool {
		_, doc := visitor.get(t, "/")
		return doc.Find(`[data-testid="card"]`).Length() == 2
	})
	resp, _ := seller.postForm(t, "/me/profile", url.Values{"nick": {"trader"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("profile: %d", resp.StatusCode)
	}
	within("the seller's new nick", func() bool {
		_, doc := visitor.get(t, "/")
		return strings.Contains(doc.Find(`[data-testid="cards"]`).Text(), "trader")
	})
	rec.take()
	for range 5 {
		visitor.get(t, "/")
	}
	if n := listReads(); n > 1 {
		t.Errorf("%d list queries for 5 views after the change, want at most 1", n)
	}
}

// Under concurrent requests every signed-in browser is served as itself:
// nothing the cache keeps may alias a request's reused buffers.
func TestEveryBrowserIsItselfUnderConcurrentRequests(t *testing.T) {
	t.Parallel()
	a := listening(t, start(t, nil, noLimits))
	waitFor(t, 5*time.Second, "the cache's listener", a.Server.Cache.Listening)
	var bs []*testApp
	for i := range 12 {
		bs = append(bs, a.as(t, "twin"+strconv.Itoa(i)))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrong := 0
	for i, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				req, _ := http.NewRequest("GET", a.URL+"/me/profile", nil)
				resp, err := b.Client.Do(req)
				if err != nil {
					continue
				}
				body := new(strings.Builder)
				_, _ = io.Copy(body, resp.Body)
				resp.Body.Close()
				if !strings.Contains(body.String(), `value="twin`+strconv.Itoa(i)+`"`) {
					mu.Lock()
					wrong++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if wrong > 0 {
		t.Errorf("%d of %d pages showed someone else's account", wrong, 12*40)
	}
}

// The auction room reads its auction and bids once per change: repeated
// views cost no query, a new bid appears at the top from its notice, and a
// user's change (their nick on the rows) drops the copy.
func TestRoomIsReadOncePerChange(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	a := start(t, nil, countingDB(t, rec), noLimits)
	waitFor(t, 5*time.Second, "the cache's listener", a.Server.Cache.Listening)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 1000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	visitor := a.newClient()
	room := "/auctions/" + strconv.FormatInt(id, 10)
	if st, _ := alice.bid(t, id, 1000, "first"); st != http.StatusOK {
		t.Fatalf("bid: %d", st)
	}
	roomReads := func() int {
		n := 0
		for _, q := range rec.take() {
			if strings.Contains(q, "WHERE a.id =") || strings.Contains(q, "FROM bids b JOIN users u") {
				n++
			}
		}
		return n
	}
	rows := func() []string {
		_, doc := visitor.get(t, room)
		var out []string
		doc.Find(`[data-testid="bid-row"] .bid-row__bidder`).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
		return out
	}
	within := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not in the room within a second", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	within("alice's bid", func() bool { return len(rows()) == 1 })
	rec.take()
	for range 5 {
		rows()
		bob.get(t, room)
	}
	if n := roomReads(); n != 0 {
		t.Errorf("%d room queries for 10 unchanged views, want 0", n)
	}
	if st, _ := bob.bid(t, id, 1500, "second"); st != http.StatusOK {
		t.Fatalf("bid: %d", st)
	}
	within("bob's bid on top", func() bool { r := rows(); return len(r) == 2 && r[0] == "bob" && r[1] == "alice" })
	_, doc := visitor.get(t, room)
	if got := doc.Find(`[data-testid="price"]`).First().Text(); !strings.Contains(got, "1,500") {
		t.Errorf("price after bob's bid: %q", got)
	}
	rec.take() // the bid answer reads the room itself
	rows()
	if n := roomReads(); n != 0 {
		t.Errorf("%d room queries to show a bid, want 0 (the notice carries it)", n)
	}
	if resp, _ := bob.postForm(t, "/me/profile", url.Values{"nick": {"robert"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("profile: %d", resp.StatusCode)
	}
	within("bob's new nick on his row", func() bool { r := rows(); return len(r) == 2 && r[0] == "robert" })
	// The history is kept rendered per language.
	for range 2 {
		for lang, want := range map[string]string{"en": "Bid history", "ko": "입찰 기록"} {
			_, doc := visitor.get(t, room, "Accept-Language", lang)
			if got := doc.Find(`[data-testid="bid-history"] h2`).Text(); got != want {
				t.Errorf("room in %s: history titled %q, want %q", lang, got, want)
			}
		}
	}
}

// An operator's hide takes a listing off every instance's cached front page
// and a suspension signs the user out there, within a second.
func TestHideAndSuspendReachACachedInstanceWithinASecond(t *testing.T) {
	t.Parallel()
	a := listening(t, start(t, nil))
	seller := a.as(t, "hider")
	id := seller.sell(t, "Lamp", 1000, "24h")
	visitor := a.newClient()
	cards := func() int { _, doc := visitor.get(t, "/"); return doc.Find(`[data-testid="card"]`).Length() }
	if cards() != 1 || cards() != 1 {
		t.Fatal("the listing is not on the front page")
	}
	if resp, _ := seller.get(t, "/wallet"); resp.StatusCode != http.StatusOK {
		t.Fatalf("wallet before: %d", resp.StatusCode)
	}
	a.DB.ExecContext(context.Background(), `UPDATE auctions SET hidden = true WHERE id = ?`, id)
	a.DB.ExecContext(context.Background(), `UPDATE users SET suspended_at = now() WHERE nick = 'hider'`)
	deadline := time.Now().Add(time.Second)
	for cards() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a hidden listing is still on the cached front page after a second")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		resp, _ := seller.get(t, "/wallet")
		if resp.StatusCode == http.StatusSeeOther {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a suspended user still opens /wallet after a second")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Signed-out visitors share one rendered (and compressed) front page, and
// each still gets their own CSRF token, which works for them only.
func TestSignedOutVisitorsShareTheFrontPageButNotTheirTokens(t *testing.T) {
	t.Parallel()
	a := listening(t, start(t, nil))
	a.as(t, "seller").sell(t, "Lamp", 1000, "24h")
	raw := func(c *testApp, enc string) (string, string) {
		t.Helper()
		b := rawGet(t, c, "/", enc)
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(b))
		token, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
		if token == "" || doc.Find(`[data-testid="card"]`).Length() != 1 {
			t.Fatalf("%s: no token or no card in %.300s", enc, b)
		}
		return b, token
	}
	one, two := a.newClient(), a.newClient()
	one.get(t, "/") // each keeps its CSRF cookie from here on
	two.get(t, "/")
	pages := map[string]string{}
	var tokens [2]string
	for i, c := range []*testApp{one, two} {
		for _, enc := range []string{"gzip", "identity", "gzip"} {
			page, token := raw(c, enc)
			if tokens[i] == "" {
				tokens[i] = token
			}
			if token != tokens[i] {
				t.Fatalf("visitor %d: token changed from %s to %s", i, tokens[i], token)
			}
			if n := strings.Count(page, token); n < 2 {
				t.Errorf("visitor %d: token appears %d times, want the meta and the forms", i, n)
			}
			pages[strings.ReplaceAll(page, token, "TOKEN")] = enc
		}
	}
	if tokens[0] == tokens[1] {
		t.Fatal("two visitors got the same token")
	}
	if len(pages) != 1 {
		t.Errorf("the pages differ beyond the token: %d versions", len(pages))
	}
	lang := func(c *testApp, token string) int {
		resp, _ := c.postForm(t, "/lang", url.Values{"lang": {"en"}, "_csrf": {token}, "next": {"/"}})
		return resp.StatusCode
	}
	if st := lang(one, tokens[1]); st != http.StatusForbidden {
		t.Errorf("a visitor posting the other's token: %d, want 403", st)
	}
	if st := lang(one, tokens[0]); st != http.StatusSeeOther {
		t.Errorf("a visitor posting their own token: %d, want 303", st)
	}
}

// rawGet gets path with Accept-Encoding enc ("gzip" or "identity"),
// checks the answer is 200 and encoded as asked, and returns the body
// decoded (gzip's reader checks the CRC and size at the end).
func rawGet(t *testing.T, c *testApp, path, enc string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.URL+path, nil)
	req.Header.Set("Accept-Encoding", enc)
	// A transport that leaves the body as sent, so the test sees the gzip.
	hc := &http.Client{Jar: c.Client.Jar, Transport: &http.Transport{DisableCompression: true}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := io.Reader(resp.Body)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("%s body: %v", enc, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != map[string]string{"gzip": "gzip", "identity": ""}[enc] {
		t.Fatalf("%s: %d, Content-Encoding %q", enc, resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	return string(b)
}

// A signed-in visitor's front page is assembled from the shared cards and
// watch toggles, kept compressed, around what is theirs: gzipped or not it
// is the same page, and it is theirs (their token in every form, their
// toggles, their name).
func TestSignedInFrontPageIsAssembledAroundTheSharedCards(t *testing.T) {
	t.Parallel()
	a := listening(t, start(t, nil, noLimits))
	seller := a.as(t, "seller")
	lamp := seller.sell(t, "Lamp", 1000, "24h")
	vase := seller.sell(t, "Vase", 1000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	alice.postForm(t, fmt.Sprintf("/auctions/%d/watch", lamp), url.Values{"watch": {"1"}})
	for _, c := range []struct {
		app     *testApp
		nick    string
		watched int64
	}{{alice, "alice", lamp}, {bob, "bob", 0}} {
		for _, path := range []string{"/", "/?view=new"} {
			c.app.get(t, path) // the second visit is served from the cache
			// A second boundary between two fetches changes the
			// countdowns: the plain page must equal one of its neighbours.
			z1, plain, z2 := rawGet(t, c.app, path, "gzip"), rawGet(t, c.app, path, "identity"), rawGet(t, c.app, path, "gzip")
			if plain != z1 && plain != z2 {
				t.Errorf("%s %s: the gzip page differs from the plain one", c.nick, path)
			}
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(z2))
			token, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
			forms := doc.Find(`[data-testid="watch-form"] input[name="_csrf"]`)
			if token == "" || forms.Length() != 2 {
				t.Fatalf("%s %s: token %q, %d watch forms", c.nick, path, token, forms.Length())
			}
			forms.Each(func(_ int, in *goquery.Selection) {
				if v, _ := in.Attr("value"); v != token {
					t.Errorf("%s %s: a watch form carries %q, the page %q", c.nick, path, v, token)
				}
			})
			for _, id := range []int64{lamp, vase} {
				want := fmt.Sprint(id == c.watched)
				if p, _ := doc.Find(fmt.Sprintf(`#auction-%d [data-testid="watch"]`, id)).Attr("aria-pressed"); p != want {
					t.Errorf("%s %s: card %d pressed %q, want %s", c.nick, path, id, p, want)
				}
			}
			if !strings.Contains(z2, c.nick) {
				t.Errorf("%s %s: their name is not on the page", c.nick, path)
			}
		}
	}
}

// A bid's htmx answer is drawn from the bid's own outcome, and a refusal's
// from the room cache and the refusal: neither reads the auction back.
func TestABidsAnswerDoesNotReadTheAuctionBack(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	a := listening(t, start(t, nil, countingDB(t, rec), noLimits))
	id := a.as(t, "seller").sell(t, "Lamp", 1000, "24h")
	bidder, rival := a.as(t, "bidder"), a.as(t, "rival")
	token := bidder.csrf(t)
	bidder.get(t, fmt.Sprintf("/auctions/%d", id)) // the room is cached
	// sent is the statements of the last post.
	var sent []string
	post := func(amount string) (int, *goquery.Document) {
		rec.take()
		resp, doc := bidder.postForm(t, fmt.Sprintf("/auctions/%d/bids", id),
			url.Values{"amount": {amount}, "_csrf": {token}}, "HX-Request", "true")
		sent = rec.take()
		for _, q := range sent {
			if strings.Contains(q, "FROM auctions a") && strings.Contains(q, "WHERE a.id =") {
				t.Errorf("the answer to a bid of %s read the auction back: %s", amount, q)
			}
		}
		return resp.StatusCode, doc
	}
	minBid := func(doc *goquery.Document) string {
		v, _ := doc.Find(`[data-testid="min-bid"]`).Attr("data-amount")
		return v
	}
	st, doc := post("1000")
	if st != http.StatusOK || doc.Find(`[data-testid="bid-placed"]`).AttrOr("data-outcome", "") != "leading" {
		t.Fatalf("first bid: %d %s", st, doc.Text())
	}
	if got := minBid(doc); got != "1500" {
		t.Errorf("after a bid of 1,000 the form asks at least %s, want 1500", got)
	}
	// The rival outbids (a maximum of 5,000 puts the price at 1,500); the
	// bidder, not knowing it, bids the old minimum.
	if st, doc := rival.bid(t, id, 5000, ""); st != http.StatusOK {
		t.Fatalf("rival: %d %s", st, doc.Text())
	}
	st, doc = post("1500")
	if st != http.StatusConflict || doc.Find(`[data-testid="bid-error"]`).Length() != 1 {
		t.Fatalf("a bid below the rival's: %d %s", st, doc.Text())
	}
	if got := minBid(doc); got != "2000" {
		t.Errorf("after a refusal the form asks at least %s, want 2000", got)
	}
	// The bidder's own maximum, read once for the refusal above, is kept:
	// the next refusal reads nothing at all of the auction.
	st, doc = post("1500")
	if st != http.StatusConflict || !strings.Contains(doc.Find(`[data-testid="my-standing"]`).Text(), "1,000") {
		t.Fatalf("a second refusal: %d, standing %q", st, doc.Find(`[data-testid="my-standing"]`).Text())
	}
	for _, q := range sent {
		if strings.Contains(q, "FROM maximums") {
			t.Errorf("a second refusal read the bidder's maximum again: %s", q)
		}
	}
}

// A change of a user's money alone (a deposit, a maximum committed or
// released) reaches every instance with the new amounts: the cached copy is
// patched, the page shows them within a second, and the user is not read
// again.
func TestAMoneyChangePatchesTheCachedUserWithoutReadingIt(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	a := listening(t, start(t, nil, countingDB(t, rec)))
	alice := a.as(t, "alice")
	balance := func() string {
		_, doc := alice.get(t, "/wallet")
		return strings.TrimSpace(doc.Find(`[data-testid="user-box"] [data-testid="balance"]`).Text())
	}
	before := balance()
	balance() // the user is cached from here on
	rec.take()
	// As another instance's transaction would: the ledger moves the balance.
	if _, err := a.DB.Exec(`INSERT INTO ledger (user_id, kind, amount) SELECT id, 'deposit', 123457 FROM users WHERE nick = 'alice'`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for balance() == before {
		if time.Now().After(deadline) {
			t.Fatalf("the balance still shows %s a second after a deposit", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var want int64
	a.DB.NewRaw(`SELECT balance FROM users WHERE nick = 'alice'`).Scan(context.Background(), &want)
	if got := balance(); !strings.Contains(got, i18n.For(i18n.Korean).Money(want)) && !strings.Contains(got, i18n.For(i18n.English).Money(want)) {
		t.Errorf("the balance shows %q, the database %d", got, want)
	}
	for _, q := range rec.take() {
		if strings.Contains(q, "FROM users WHERE id = $1") {
			t.Errorf("the cached user was read again: %s", q)
		}
	}
}

// A maximum raised elsewhere (another instance's writer) reaches this
// instance with its amount: the bidder's standing shows it within a second,
// and the maximum is not read again.
func TestARaisedMaximumReachesTheCacheWithItsAmount(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	a := listening(t, start(t, nil, countingDB(t, rec), noLimits))
	id := a.as(t, "seller").sell(t, "Lamp", 1000, "24h")
	bidder := a.as(t, "bidder")
	bidderID := bidder.loginDev(t, "bidder")
	if st, doc := bidder.bid(t, id, 1000, ""); st != http.StatusOK {
		t.Fatalf("bid: %d %s", st, doc.Text())
	}
	room := fmt.Sprintf("/auctions/%d", id)
	standing := func() string {
		_, doc := bidder.get(t, room)
		return doc.Find(`[data-testid="my-standing"]`).Text()
	}
	waitFor(t, time.Second, "the standing at 1,000", func() bool { return strings.Contains(standing(), "1,000") })

	b := auction.NewBidder(a.DB, auction.BidderOptions{})
	defer b.Close()
	if p, err := b.PlaceBid(context.Background(), auction.BidInput{AuctionID: id, BidderID: bidderID, Amount: 3000}); err != nil || p.Result != auction.Raised {
		t.Fatalf("raise: %+v, %v", p, err)
	}
	rec.take()
	waitFor(t, time.Second, "the standing at 3,000", func() bool { return strings.Contains(standing(), "3,000") })
	for _, q := range rec.take() {
		if strings.Contains(q, "FROM maximums") {
			t.Errorf("the raised maximum was read, not taken from its notice: %s", q)
		}
	}
}

// A tab's list is kept under its own name, not under the bytes of the
// request that asked for it: the next request on the connection reuses
// them ("new" read "xyz" after a search for xyz).
func TestTabsAreKeptUnderTheirNamesWhateverTheConnectionAsksNext(t *testing.T) {
	t.Parallel()
	a := start(t, nil, noLimits)
	waitFor(t, 5*time.Second, "the cache's listener", a.Server.Cache.Listening)
	a.as(t, "seller").sell(t, "Lamp", 1000, "24h")
	// The listing's notice, arriving meanwhile, may drop what was kept:
	// then ask again.
	var got string
	for range 20 {
		servertest.OneConnection(t, a.URL, "GET /?view=new", "GET /?view=xyz", "GET /?view=ended", "GET /?view=abcde")
		if got = strings.Join(web.ListKeys(a.Server), " "); got == "ended/1 new/1" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("lists kept: %q, want the two tabs", got)
}

// The reads behind a room (the auction, its latest bids) send their
// values apart from their text: every auction is read with the same
// statements, which each connection prepares once.
func TestTwoRoomsAreReadWithTheSameStatements(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	a := listening(t, start(t, nil, countingDB(t, rec)))
	seller := a.as(t, "seller")
	ids := []int64{seller.sell(t, "Lamp", 1000, "24h"), seller.sell(t, "Vase", 2000, "24h")}
	visitor := a.newClient()
	for _, id := range ids {
		rec.take()
		visitor.get(t, fmt.Sprintf("/auctions/%d", id))
		sqls := strings.Join(rec.take(), "\n")
		for _, want := range []string{"WHERE a.id = $1", "WHERE b.auction_id = $1"} {
			if !strings.Contains(sqls, want) {
				t.Errorf("room %d: no statement with %q", id, want)
			}
		}
		for _, inlined := range []string{fmt.Sprintf("a.id = %d", id), fmt.Sprintf("b.auction_id = %d", id)} {
			if strings.Contains(sqls, inlined) {
				t.Errorf("room %d: a statement with its id in its text (%q)", id, inlined)
			}
		}
	}
}
