package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gavel/app/web"
)

// Helpers for handler tests. Every test app client has its own cookie jar;
// several users share one server through newClient / as.

// newClient returns another browser on the same server: same URL, server
// and database, its own cookie jar (signed out).
func (a *testApp) newClient() *testApp {
	jar, _ := cookiejar.New(nil)
	b := *a
	b.Client = &http.Client{Jar: jar, Timeout: a.Client.Timeout, CheckRedirect: a.Client.CheckRedirect}
	return &b
}

// as returns a new browser on the same server, signed in through the dev
// login as nick (the account is created on first use).
func (a *testApp) as(t *testing.T, nick string) *testApp {
	t.Helper()
	b := a.newClient()
	b.loginDev(t, nick)
	return b
}

// loginDev signs this client in as nick through the dev login over HTTP,
// exactly as a browser does (GET /auth/dev, the form, POST), and returns
// the user's id.
func (a *testApp) loginDev(t *testing.T, nick string) int64 {
	t.Helper()
	resp, _ := a.get(t, "/auth/dev")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/auth/dev/form?state=") {
		t.Fatalf("GET /auth/dev: %d to %q", resp.StatusCode, loc)
	}
	_, doc := a.get(t, loc)
	state, _ := doc.Find(`form[data-testid="dev-login-form"] input[name="state"]`).Attr("value")
	csrf, _ := doc.Find(`form[data-testid="dev-login-form"] input[name="_csrf"]`).Attr("value")
	resp, doc = a.postForm(t, "/auth/dev/form", url.Values{"nick": {nick}, "state": {state}, "_csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dev login as %q: %d %s", nick, resp.StatusCode, strings.TrimSpace(doc.Find("main").Text()))
	}
	var id int64
	if err := a.DB.NewRaw(`SELECT id FROM users WHERE provider = 'dev' AND provider_user_id = ?`,
		strings.ToLower(strings.TrimSpace(nick))).Scan(context.Background(), &id); err != nil {
		t.Fatalf("dev login as %q: no user: %v", nick, err)
	}
	return id
}

// csrf returns this client's CSRF token, read from a page's
// <meta name="csrf-token"> as htmx would.
func (a *testApp) csrf(t *testing.T) string {
	t.Helper()
	_, doc := a.get(t, "/login")
	token, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	if token == "" {
		// Signed in: /login redirects; any page carries the meta.
		_, doc = a.get(t, "/no-such-page-for-csrf")
		token, _ = doc.Find(`meta[name="csrf-token"]`).Attr("content")
	}
	if token == "" {
		t.Fatal("no csrf-token meta on the page")
	}
	return token
}

// postForm posts vals as a form, with the client's CSRF token added as
// _csrf unless vals already has one (set it to test a wrong token). header
// is name, value pairs.
func (a *testApp) postForm(t *testing.T, path string, vals url.Values, header ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	if vals == nil {
		vals = url.Values{}
	}
	if _, ok := vals["_csrf"]; !ok {
		vals.Set("_csrf", a.csrf(t))
	}
	req, _ := http.NewRequest("POST", a.URL+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return a.do(t, req)
}

// cookie returns the value of this client's cookie name ("" when none).
func (a *testApp) cookie(name string) string {
	u, _ := url.Parse(a.URL)
	for _, c := range a.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// sessionID returns this client's session cookie.
func (a *testApp) sessionID() string { return a.cookie(web.SessionCookie) }

// withLimits sets the rate limits of a test app (a start option).
func withLimits(l web.Limits) func(*web.Deps) {
	return func(d *web.Deps) { d.Limits = l }
}

// noLimits lifts the rate limits for tests that post a lot.
var noLimits = withLimits(web.Limits{Window: time.Minute, Login: 1 << 20, DepositUser: 1 << 20, DepositIP: 1 << 20})
