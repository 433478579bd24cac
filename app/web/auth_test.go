package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/oauth2-proxy/mockoidc"

	"gavel/app/auth"
	"gavel/app/config"
	"gavel/app/web"
)

// startOIDC runs an in-process OpenID Connect provider and the app
// configured with it (and without the dev login).
func startOIDC(t *testing.T) (*testApp, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	a := start(t, map[string]string{
		"OIDC_KEY": m.ClientID, "OIDC_SECRET": m.ClientSecret, "OIDC_ISSUER": m.Issuer(),
		"DEV_LOGIN": "false", "STARTING_BALANCE": "500000",
	})
	return a, m
}

// oidcToCallback starts an OIDC sign-in and lets the provider approve it:
// it returns the callback URL the provider sent the browser to (not yet
// visited) and the authorization URL.
func oidcToCallback(t *testing.T, a *testApp, next string) (callback, authURL string) {
	t.Helper()
	path := "/auth/oidc"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	resp, _ := a.get(t, path)
	authURL = resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || authURL == "" {
		t.Fatalf("GET %s: %d to %q", path, resp.StatusCode, authURL)
	}
	resp, err := a.Client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback = resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(callback, a.URL+"/auth/oidc/callback?") {
		t.Fatalf("provider authorize: %d to %q", resp.StatusCode, callback)
	}
	return callback, authURL
}

func countUsers(t *testing.T, a *testApp) int {
	t.Helper()
	n, err := a.DB.NewRaw(`SELECT 1 FROM users`).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := n.RowsAffected()
	return int(rows)
}

func TestOIDCSignInCreatesTheUserOnceThenFindsIt(t *testing.T) {
	t.Parallel()
	a, m := startOIDC(t)

	_, doc := a.get(t, "/login")
	if doc.Find(`[data-testid="provider-oidc"]`).Length() != 1 || doc.Find(`[data-testid^="provider-"]`).Length() != 1 {
		t.Fatalf("login page providers: %q", doc.Find(".providers").Text())
	}

	m.QueueUser(&mockoidc.MockUser{Subject: "sub-42", Email: "ann@example.com", PreferredUsername: "ann"})
	anon := a.sessionID()
	callback, authURL := oidcToCallback(t, a, "/wallet")
	u, _ := url.Parse(authURL)
	if q := u.Query(); q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || len(q.Get("state")) < 40 {
		t.Errorf("authorization request lacks PKCE or a strong state: %s", u.RawQuery)
	}
	resp, _ := a.get(t, strings.TrimPrefix(callback, a.URL))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/wallet" {
		t.Fatalf("callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if sid := a.sessionID(); sid == "" || sid == anon {
		t.Errorf("session id not rotated at sign-in: before %q after %q", anon, sid)
	}
	_, doc = a.get(t, "/wallet")
	if got := doc.Find(`[data-testid="nick"]`).Text(); !strings.Contains(got, "ann") {
		t.Errorf("header after sign-in: %q", got)
	}
	if got := doc.Find(`[data-testid="wallet-balance"]`).Text(); got != "₩500,000" {
		t.Errorf("starting balance: %q", got)
	}

	var id1 int64
	var nick, email, provider, puid string
	if err := a.DB.NewRaw(`SELECT id, nick, email, provider, provider_user_id FROM users`).
		Scan(context.Background(), &id1, &nick, &email, &provider, &puid); err != nil {
		t.Fatal(err)
	}
	if nick != "ann" || provider != "oidc" || puid != "sub-42" || email != "ann@example.com" {
		t.Errorf("user row: %q %q %q %q", nick, provider, puid, email)
	}

	// Sign out, sign in again: the same account, no second welcome credit.
	if resp, _ := a.postForm(t, "/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-42", Email: "ann@example.com", PreferredUsername: "ann"})
	callback, _ = oidcToCallback(t, a, "")
	resp, _ = a.get(t, strings.TrimPrefix(callback, a.URL))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("second callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := countUsers(t, a); n != 1 {
		t.Errorf("%d users after two sign-ins, want 1", n)
	}
	var signups int
	a.DB.NewRaw(`SELECT count(*) FROM ledger WHERE kind = 'signup'`).Scan(context.Background(), &signups)
	if signups != 1 {
		t.Errorf("%d signup credits, want 1", signups)
	}
	_, doc = a.get(t, "/")
	if got := doc.Find(`[data-testid="nick"]`).Text(); !strings.Contains(got, "ann") {
		t.Errorf("header after the second sign-in: %q", got)
	}
}

func TestOIDCSignInRefusesTamperedAndReplayedState(t *testing.T) {
	t.Parallel()
	a, _ := startOIDC(t)
	callback, _ := oidcToCallback(t, a, "")
	u, _ := url.Parse(callback)
	q := u.Query()
	genuine := u.RequestURI()
	q.Set("state", q.Get("state")+"x")
	u.RawQuery = q.Encode()
	tampered := u.RequestURI()

	for _, tc := range []struct{ name, path string }{
		{"tampered", tampered},
		{"genuine after the tampered one used the state up", genuine},
	} {
		resp, doc := a.get(t, tc.path, "Accept-Language", "en")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.name, resp.StatusCode)
		}
		if got := doc.Find(`[data-testid="error-page"] h1`).Text(); !strings.Contains(got, "sign-in request has expired") {
			t.Errorf("%s: page says %q", tc.name, got)
		}
	}
	if n := countUsers(t, a); n != 0 {
		t.Errorf("%d users created by refused callbacks", n)
	}
	if resp, _ := a.get(t, "/wallet"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a refused callback signed the browser in: /wallet %d", resp.StatusCode)
	}

	// A successful callback cannot be replayed either.
	callback, _ = oidcToCallback(t, a, "")
	if resp, _ := a.get(t, strings.TrimPrefix(callback, a.URL)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("genuine callback: %d", resp.StatusCode)
	}
	if resp, _ := a.get(t, strings.TrimPrefix(callback, a.URL)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback: %d, want 400", resp.StatusCode)
	}
	// A callback with no sign-in started in this browser.
	other := a.newClient()
	if resp, _ := other.get(t, strings.TrimPrefix(callback, a.URL)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback in another browser: %d, want 400", resp.StatusCode)
	}
	if n := countUsers(t, a); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

func TestSignInNextAcceptsOnlySameSitePaths(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	for next, want := range map[string]string{
		"https://evil.example": "/",
		"//evil.example/x":     "/",
		"/wallet?x=1":          "/wallet?x=1",
	} {
		b := a.newClient()
		resp, _ := b.get(t, "/auth/dev?next="+url.QueryEscape(next))
		_, doc := b.get(t, resp.Header.Get("Location"))
		state, _ := doc.Find(`input[name="state"]`).Attr("value")
		resp, _ = b.postForm(t, "/auth/dev/form", url.Values{"nick": {"nexter"}, "state": {state}})
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("next=%q: %d to %q, want %q", next, resp.StatusCode, got, want)
		}
	}
	// The login page passes next on to the provider links.
	_, doc := a.get(t, "/login?next="+url.QueryEscape("/wallet"))
	if href, _ := doc.Find(`[data-testid="provider-dev"]`).Attr("href"); href != "/auth/dev?next=%2Fwallet" {
		t.Errorf("provider link: %q", href)
	}
}

// Page views while a sign-in is under way (another tab, a late favicon)
// must not cancel it.
func TestPageViewsDuringASignInDoNotLoseIt(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	ctx := context.Background()
	a.get(t, "/")
	resp, _ := a.get(t, "/auth/dev?next=%2Fwallet")
	_, doc := a.get(t, resp.Header.Get("Location"))
	state, _ := doc.Find(`input[name="state"]`).Attr("value")
	a.get(t, "/")
	a.get(t, "/favicon.ico")
	a.get(t, "/login")
	resp, doc = a.postForm(t, "/auth/dev/form", url.Values{"nick": {"tabby"}, "state": {state}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/wallet" {
		t.Fatalf("sign-in after a stale save: %d to %q: %s", resp.StatusCode, resp.Header.Get("Location"),
			strings.TrimSpace(doc.Find("main").Text()))
	}
	// The state was used up: posting it again is refused.
	b := a.newClient()
	b.get(t, "/")
	resp, _ = b.postForm(t, "/auth/dev/form", url.Values{"nick": {"tabby"}, "state": {state}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed state from another browser: %d, want 400", resp.StatusCode)
	}
	var left int
	a.DB.NewRaw(`SELECT count(*) FROM sessions WHERE key LIKE 'login:%'`).Scan(ctx, &left)
	if left != 0 {
		t.Errorf("%d started sign-ins left after use", left)
	}
}

func TestSessionIDChangesAtLoginAndLogoutDestroysIt(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	a.get(t, "/")
	if a.sessionID() != "" {
		t.Fatal("an anonymous visitor got a session cookie")
	}
	// A session id planted before the sign-in is not the one signed in.
	u, _ := url.Parse(a.URL)
	planted := "planted-" + strings.Repeat("x", 35)
	a.Client.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: planted, Path: "/"}})
	a.loginDev(t, "Rotator")
	signedIn := a.sessionID()
	if signedIn == "" || signedIn == planted {
		t.Fatalf("session id not rotated: %q then %q", planted, signedIn)
	}
	var n int
	a.DB.NewRaw(`SELECT count(*) FROM sessions WHERE key = ?`, planted).Scan(context.Background(), &n)
	if n != 0 {
		t.Error("the planted session id has a row")
	}

	resp, _ := a.postForm(t, "/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	a.DB.NewRaw(`SELECT count(*) FROM sessions WHERE key = ?`, signedIn).Scan(context.Background(), &n)
	if n != 0 {
		t.Error("logout left the session row")
	}
	// A browser that kept the old cookie is signed out.
	thief := a.newClient()
	thief.Client.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: signedIn, Path: "/"}})
	resp, _ = thief.get(t, "/wallet")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("old cookie after logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSignedOutWalletRedirectsToLoginWithNext(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	resp, _ := a.get(t, "/wallet")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fwallet" {
		t.Errorf("signed-out /wallet: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = a.get(t, "/me/profile")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fme%2Fprofile" {
		t.Errorf("signed-out /me/profile: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestHeaderShowsNickAndBalanceAfterLogin(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1234000"})
	_, doc := a.get(t, "/")
	if doc.Find(`[data-testid="nick"]`).Length() != 0 {
		t.Fatal("signed-out header shows a user")
	}
	a.loginDev(t, "헤더테스트")
	_, doc = a.get(t, "/", "Accept-Language", "en")
	if got := doc.Find(`[data-testid="nick"]`).Text(); got != "Hello, 헤더테스트" {
		t.Errorf("nick in header: %q", got)
	}
	if got := doc.Find(`[data-testid="balance"]`).Text(); got != "₩1,234,000" {
		t.Errorf("balance in header: %q", got)
	}
}

func TestDevLoginIsOffInProductionAndAbsentWhenDisabled(t *testing.T) {
	t.Parallel()
	prod := map[string]string{"APP_ENV": "production", "BASE_URL": "https://gavel.example",
		"GITHUB_KEY": "k", "GITHUB_SECRET": "s", "DEV_LOGIN": "true"}
	if _, err := config.Load(func(k string) string { return prod[k] }); err == nil {
		t.Error("production config with DEV_LOGIN=true loaded")
	}
	if _, err := auth.NewService(&config.Config{Env: config.Production, DevLogin: true}); err == nil {
		t.Error("auth.NewService built a dev provider in production")
	}

	a := start(t, map[string]string{"DEV_LOGIN": "false", "GITHUB_KEY": "k", "GITHUB_SECRET": "s"})
	_, doc := a.get(t, "/login")
	if doc.Find(`[data-testid="provider-dev"]`).Length() != 0 || doc.Find(`[data-testid="provider-github"]`).Length() != 1 {
		t.Errorf("login page with the dev login off: %q", doc.Find(".providers").Text())
	}
	for _, path := range []string{"/auth/dev", "/auth/dev/form?state=x", "/auth/dev/callback?state=x&nick=abc"} {
		if resp, _ := a.get(t, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s with the dev login off: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := a.postForm(t, "/auth/dev/form", url.Values{"nick": {"sneaky"}, "state": {"x"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST dev form with the dev login off: %d, want 404", resp.StatusCode)
	}
	if n := countUsers(t, a); n != 0 {
		t.Errorf("%d users", n)
	}
}

func TestLoginPageListsExactlyTheConfiguredProviders(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{
		"GITHUB_KEY": "k", "GITHUB_SECRET": "s", "GOOGLE_KEY": "k", "GOOGLE_SECRET": "s",
		"KAKAO_KEY": "k", "KAKAO_SECRET": "s", "NAVER_KEY": "k", "NAVER_SECRET": "s",
	})
	_, doc := a.get(t, "/login")
	var got []string
	doc.Find(`[data-testid^="provider-"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-testid")
		got = append(got, strings.TrimPrefix(id, "provider-"))
	})
	if strings.Join(got, ",") != "github,google,kakao,naver,dev" {
		t.Errorf("providers on /login: %v", got)
	}
	// Each real provider's begin redirects to its own authorization
	// endpoint with our callback and a state (never contacted here).
	for _, p := range []struct{ name, host string }{
		{"github", "github.com"}, {"google", "accounts.google.com"}, {"kakao", "kauth.kakao.com"}, {"naver", "nid.naver.com"},
	} {
		resp, _ := a.get(t, "/auth/"+p.name)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Host != p.host ||
			loc.Query().Get("redirect_uri") != a.URL+"/auth/"+p.name+"/callback" || loc.Query().Get("state") == "" {
			t.Errorf("%s begin: %d to %v", p.name, resp.StatusCode, loc)
		}
	}
	if resp, _ := a.get(t, "/auth/facebook"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown provider: %d", resp.StatusCode)
	}
}

func TestLoginAttemptsAreRateLimited(t *testing.T) {
	t.Parallel()
	a := start(t, nil, withLimits(web.Limits{Login: 2}))
	for i := 0; i < 2; i++ {
		a.newClient().loginDev(t, "limited")
	}
	b := a.newClient()
	resp, _ := b.get(t, "/auth/dev")
	_, doc := b.get(t, resp.Header.Get("Location"))
	state, _ := doc.Find(`input[name="state"]`).Attr("value")
	resp, doc = b.postForm(t, "/auth/dev/form", url.Values{"nick": {"limited"}, "state": {state}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third sign-in in a minute: %d, want 429", resp.StatusCode)
	}
	if got := doc.Find(`[data-testid="error-page"] h1`).Text(); !strings.Contains(got, "Too many sign-in attempts") {
		t.Errorf("429 page says %q", got)
	}
	if resp, _ := b.get(t, "/wallet"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("rate-limited attempt signed in: %d", resp.StatusCode)
	}
}

func TestDevLoginRejectsBadNicknamesWithAMessage(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	resp, _ := a.get(t, "/auth/dev")
	_, doc := a.get(t, resp.Header.Get("Location"))
	state, _ := doc.Find(`input[name="state"]`).Attr("value")
	resp, doc = a.postForm(t, "/auth/dev/form", url.Values{"nick": {" x "}, "state": {state}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("one-letter nick: %d", resp.StatusCode)
	}
	if got := doc.Find(`[data-testid="error-nick"]`).Text(); got != "닉네임은 2자 이상 20자 이하로 입력해 주세요." {
		t.Errorf("error: %q", got)
	}
	// The state was not used up: the corrected form signs in.
	resp, _ = a.postForm(t, "/auth/dev/form", url.Values{"nick": {"xy"}, "state": {state}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("corrected nick: %d", resp.StatusCode)
	}
}

func TestRateLimitsCountTheClientATrustedProxyNames(t *testing.T) {
	t.Parallel()
	for _, trusted := range []bool{true, false} {
		env := map[string]string{}
		if trusted {
			env["TRUSTED_PROXIES"] = "127.0.0.1"
		}
		a := start(t, env, withLimits(web.Limits{Login: 1}))
		attempt := func(ip string) int {
			c := a.newClient()
			// The proxy names the client on every request, the start of
			// the sign-in (itself throttled) included.
			resp, _ := c.get(t, "/auth/dev", "X-Real-IP", ip)
			_, doc := c.get(t, resp.Header.Get("Location"), "X-Real-IP", ip)
			state, _ := doc.Find(`input[name="state"]`).Attr("value")
			resp, _ = c.postForm(t, "/auth/dev/form", url.Values{"nick": {"n" + ip}, "state": {state}}, "X-Real-IP", ip)
			return resp.StatusCode
		}
		first, other, again := attempt("203.0.113.1"), attempt("203.0.113.2"), attempt("203.0.113.1")
		wantOther := http.StatusSeeOther
		if !trusted {
			// Without trusted proxies the header is ignored: both
			// "clients" are this one peer, already at its limit.
			wantOther = http.StatusTooManyRequests
		}
		if first != http.StatusSeeOther || other != wantOther || again != http.StatusTooManyRequests {
			t.Errorf("trusted %v: first %d, other client %d (want %d), first again %d", trusted, first, other, wantOther, again)
		}
	}
}
