package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/uptrace/bun"

	"gavel/app/db/dbtest"
	"gavel/app/server"
	"gavel/app/server/servertest"
	"gavel/app/web"
)

func TestMain(m *testing.M) {
	if benchServerWanted() {
		runBenchServer() // a live benchmark's server process: see live_bench_test.go
		return
	}
	dbtest.Main(m)
}

// testApp is the real app on a real loopback listener.
type testApp struct {
	URL    string
	Client *http.Client
	Server *web.Server
	DB     *bun.DB
}

// start runs an instance, assembled as main does (server.New), configured
// by env (as if from the environment) on a fresh database; opts may change
// its web dependencies (e.g. rate limits) before it is built. Settlement
// is the test's to run (settle).
func start(t *testing.T, env map[string]string, opts ...func(*web.Deps)) *testApp {
	t.Helper()
	return startOn(t, dbtest.URL(t), env, opts...)
}

// startOn is start on the database at dbURL (several instances may share
// one).
func startOn(t *testing.T, dbURL string, env map[string]string, opts ...func(*web.Deps)) *testApp {
	t.Helper()
	inst := servertest.Start(t, dbURL, env, func(p *server.Parts) {
		p.ManualSettle = true
		for _, o := range opts {
			o(&p.Web)
		}
	})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &testApp{URL: inst.URL, Client: client, Server: inst.Server.Web(), DB: inst.DB}
}

func (a *testApp) get(t *testing.T, path string, header ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return a.do(t, req)
}

func (a *testApp) do(t *testing.T, req *http.Request) (*http.Response, *goquery.Document) {
	t.Helper()
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, _ := a.get(t, path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	// Readiness follows the database.
	a.DB.Close()
	if resp, _ := a.get(t, "/readyz"); resp.StatusCode != 503 {
		t.Errorf("readyz with the database closed: %d, want 503", resp.StatusCode)
	}
	if resp, _ := a.get(t, "/healthz"); resp.StatusCode != 200 {
		t.Errorf("healthz must not depend on the database: %d", resp.StatusCode)
	}
}

func TestHomePageHasSecurityHeadersAndNoInlineScript(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	resp, doc := a.get(t, "/")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP: %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: %v", resp.Header)
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src, ok := s.Attr("src"); !ok || !strings.HasPrefix(src, "/static/js/") {
			t.Errorf("inline or foreign script: %v", s.Nodes[0].Attr)
		}
	})
	if doc.Find("[style]").Length() != 0 || doc.Find("style").Length() != 0 {
		t.Error("inline styles break the CSP")
	}
	if doc.Find(`meta[name="csrf-token"]`).Length() != 1 {
		t.Error("no csrf-token meta")
	}
	cfg, _ := doc.Find(`meta[name="htmx-config"]`).Attr("content")
	if !strings.Contains(cfg, `"includeIndicatorStyles":false`) || !strings.Contains(cfg, `"allowEval":false`) {
		t.Errorf("htmx-config: %q", cfg)
	}
	if doc.Find(`[data-testid="empty"]`).Length() != 1 {
		t.Error("no empty state on an empty home page")
	}
}

func TestStaticFilesAreVersionedAndCached(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	_, doc := a.get(t, "/")
	href, _ := doc.Find(`link[rel="stylesheet"]`).Attr("href")
	if !strings.Contains(href, "?v=") {
		t.Fatalf("stylesheet link has no version: %q", href)
	}
	resp, _ := a.get(t, href)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("versioned css: %d %v", resp.StatusCode, resp.Header)
	}
	etag := resp.Header.Get("ETag")
	resp, _ = a.get(t, "/static/css/app.css", "If-None-Match", etag)
	if resp.StatusCode != 304 {
		t.Errorf("revalidation with the ETag: %d, want 304", resp.StatusCode)
	}
	for _, js := range []string{"js/htmx.min.js", "js/htmx-ext-sse.min.js", "js/htmx-ext-ws.min.js"} {
		if resp, _ := a.get(t, "/static/"+js); resp.StatusCode != 200 {
			t.Errorf("%s: %d", js, resp.StatusCode)
		}
	}
	if resp, _ := a.get(t, "/static/../go.mod"); resp.StatusCode != 404 {
		t.Errorf("path escape: %d", resp.StatusCode)
	}
}

func TestErrorPagesAreFriendlyAndLocalized(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	resp, doc := a.get(t, "/no/such/page", "Accept-Language", "en-US")
	if resp.StatusCode != 404 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := doc.Find(`[data-testid="error-page"] h1`).Text(); got != "We couldn't find that page." {
		t.Errorf("404 message: %q", got)
	}
	if lang, _ := doc.Find("html").Attr("lang"); lang != "en" {
		t.Errorf("html lang %q", lang)
	}
	resp, doc = a.get(t, "/no/such/page")
	if got := doc.Find(`[data-testid="error-page"] h1`).Text(); got != "페이지를 찾을 수 없습니다." {
		t.Errorf("Korean 404 message: %q", got)
	}
	// htmx gets the fragment alone.
	resp, doc = a.get(t, "/no/such/page", "HX-Request", "true")
	if doc.Find("header.site-header").Length() != 0 || doc.Find(`[data-testid="error-page"]`).Length() != 1 {
		t.Error("htmx request got a full page for an error")
	}
	if got := varies(resp); got != "Accept-Language Cookie HX-Request" {
		t.Errorf("Vary of an error: %q", got)
	}
	// A page that may be gzipped varies by encoding too.
	resp, _ = a.get(t, "/", "Accept-Encoding", "gzip")
	if got := varies(resp); got != "Accept-Language Cookie HX-Request Accept-Encoding" {
		t.Errorf("Vary of the front page: %q", got)
	}
}

// varies is the fields of resp's Vary, in order, separated by spaces.
func varies(resp *http.Response) string {
	var fields []string
	for _, v := range resp.Header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			fields = append(fields, strings.TrimSpace(f))
		}
	}
	return strings.Join(fields, " ")
}

func TestLanguageSwitchSetsCookieAndRedirectsSafely(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	form := url.Values{"lang": {"en"}, "next": {"/?page=2"}}
	resp, _ := a.postForm(t, "/lang", form)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/?page=2" {
		t.Fatalf("switch: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc := a.get(t, "/")
	if got := doc.Find("h1").First().Text(); got != "Open auctions" {
		t.Errorf("after switching to English the title reads %q", got)
	}
	if p, _ := doc.Find(`.lang-switch button[value="en"]`).Attr("aria-pressed"); p != "true" {
		t.Error("the switcher does not mark English as current")
	}
}

func TestSafeNextOnlyAcceptsSameSitePaths(t *testing.T) {
	for in, want := range map[string]string{
		"/auctions/3":           "/auctions/3",
		"/?q=a%20b":             "/?q=a%20b",
		"":                      "/",
		"https://evil.example":  "/",
		"//evil.example/x":      "/",
		"/\\evil.example":       "/",
		"javascript:alert(1)":   "/",
		"evil.example":          "/",
		"/x\r\nSet-Cookie: a=b": "/",
	} {
		if got := web.SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
