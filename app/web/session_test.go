package web_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gavel/app/config"
	"gavel/app/web"
)

func TestSessionsEndWhenIdleOrTooOld(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	ctx := context.Background()
	signedOut := func(b *testApp) bool {
		t.Helper()
		resp, _ := b.get(t, "/wallet")
		return resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login")
	}

	// Idle lifetime: the row expires IdleLifetime after the last request.
	idle := a.as(t, "idler")
	idle.get(t, "/")
	var expires time.Time
	if err := a.DB.NewRaw(`SELECT expires_at FROM sessions WHERE key = ?`, idle.sessionID()).Scan(ctx, &expires); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expires); d < web.IdleLifetime-time.Minute || d > web.IdleLifetime {
		t.Errorf("session expires in %v, want about %v", d, web.IdleLifetime)
	}
	// The row's trigger tells the instance to drop its cached copy, which
	// takes effect within a second (the notice crosses the LISTEN
	// connection).
	a.DB.ExecContext(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE key = ?`, idle.sessionID())
	waitFor(t, 2*time.Second, "an idle-expired session to sign out", func() bool { return signedOut(idle) })

	// Absolute lifetime: the sign-in time stored in the session is enforced
	// however recently the session was used.
	old := a.as(t, "oldtimer")
	key := old.sessionID()
	var raw []byte
	if err := a.DB.NewRaw(`SELECT data FROM sessions WHERE key = ?`, key).Scan(ctx, &raw); err != nil {
		t.Fatal(err)
	}
	data := map[string]any{}
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&data); err != nil {
		t.Fatal(err)
	}
	if _, ok := data["login_at"].(int64); !ok {
		t.Fatalf("no sign-in time in the session: %v", data)
	}
	data["login_at"] = time.Now().Add(-web.AbsoluteLifetime - time.Minute).Unix()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&data); err != nil {
		t.Fatal(err)
	}
	a.DB.ExecContext(ctx, `UPDATE sessions SET data = ? WHERE key = ?`, buf.Bytes(), key)
	waitFor(t, 2*time.Second, "a sign-in older than the absolute lifetime to sign out", func() bool { return signedOut(old) })
	var n int
	a.DB.NewRaw(`SELECT count(*) FROM sessions WHERE key = ?`, key).Scan(ctx, &n)
	if n != 0 {
		t.Error("the too-old session row was not deleted")
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	resp, _ := a.get(t, "/")
	var csrfCookie bool
	for _, c := range resp.Cookies() {
		switch c.Name {
		case web.SessionCookie:
			t.Errorf("a visitor got a session cookie: %+v", c)
		case web.CSRFCookie:
			csrfCookie = true
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
				t.Errorf("csrf cookie over http: %+v", c)
			}
		}
	}
	if !csrfCookie {
		t.Error("no csrf cookie for a visitor (their forms need a token)")
	}
	a.loginDev(t, "flagger")
	u, _ := url.Parse(a.URL)
	var found bool
	for _, c := range a.Client.Jar.Cookies(u) {
		found = found || c.Name == web.SessionCookie
	}
	if !found {
		t.Error("no session cookie after sign-in")
	}

	// Behind TLS (an https BASE_URL) the cookies are Secure.
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"BASE_URL": "https://gavel.example", "DEV_LOGIN": "false"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := web.New(web.Deps{Config: cfg, DB: a.DB, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	resp, err = srv.App().Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if (c.Name == web.SessionCookie || c.Name == web.CSRFCookie) && !c.Secure {
			t.Errorf("%s not Secure behind TLS", c.Name)
		}
	}
}
