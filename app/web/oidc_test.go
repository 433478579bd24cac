package web_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// tokenTamper sits in front of a mock OpenID Connect provider's token
// endpoint: it records the form the app sent and lets a test rewrite the
// id_token the provider answered.
type tokenTamper struct {
	mu          sync.Mutex
	redirectURI string
	edit        func(idToken string) string
}

func (tt *tokenTamper) set(edit func(string) string) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.edit = edit
}

func (tt *tokenTamper) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != mockoidc.TokenEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		r.ParseForm()
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		tt.mu.Lock()
		tt.redirectURI = r.Form.Get("redirect_uri")
		edit := tt.edit
		tt.mu.Unlock()
		body := rec.Body.Bytes()
		var resp map[string]any
		if edit != nil && json.Unmarshal(body, &resp) == nil {
			if tok, ok := resp["id_token"].(string); ok {
				resp["id_token"] = edit(tok)
				body, _ = json.Marshal(resp)
			}
		}
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// startTamperedOIDC is startOIDC with a tokenTamper in front of the
// provider.
func startTamperedOIDC(t *testing.T) (*testApp, *mockoidc.MockOIDC, *tokenTamper) {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	tt := &tokenTamper{}
	m.AddMiddleware(tt.middleware)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	a := start(t, map[string]string{
		"OIDC_KEY": m.ClientID, "OIDC_SECRET": m.ClientSecret, "OIDC_ISSUER": m.Issuer(),
		"DEV_LOGIN": "false",
	})
	return a, m, tt
}

// resign returns token with its claims changed by edit (nil: unchanged)
// and signed RS256 by key, keeping the header (so the key id still names
// the provider's key).
func resign(t *testing.T, token string, key *rsa.PrivateKey, edit func(claims map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(claims)
	}
	payload, _ := json.Marshal(claims)
	input := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestOIDCRefusesForgedAndMisdirectedIDTokens(t *testing.T) {
	t.Parallel()
	a, m, tt := startTamperedOIDC(t)
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	real := m.Keypair.PrivateKey
	for name, edit := range map[string]func(string) string{
		"signed by another key": func(tok string) string { return resign(t, tok, attacker, nil) },
		"unsigned (alg none)": func(tok string) string {
			parts := strings.Split(tok, ".")
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
		},
		"another subject, old signature": func(tok string) string {
			parts := strings.Split(tok, ".")
			forged := resign(t, tok, attacker, func(c map[string]any) { c["sub"] = "admin" })
			return strings.Join(append(strings.Split(forged, ".")[:2], parts[2]), ".")
		},
		"wrong nonce": func(tok string) string {
			return resign(t, tok, real, func(c map[string]any) { c["nonce"] = "replayed-from-elsewhere" })
		},
		"no nonce": func(tok string) string {
			return resign(t, tok, real, func(c map[string]any) { delete(c, "nonce") })
		},
		"another audience": func(tok string) string {
			return resign(t, tok, real, func(c map[string]any) { c["aud"] = []string{"some-other-client"} })
		},
		"another issuer": func(tok string) string {
			return resign(t, tok, real, func(c map[string]any) { c["iss"] = "https://evil.example" })
		},
		"expired": func(tok string) string {
			return resign(t, tok, real, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
		},
		"no exp": func(tok string) string {
			return resign(t, tok, real, func(c map[string]any) { delete(c, "exp") })
		},
	} {
		t.Run(name, func(t *testing.T) {
			tt.set(edit)
			c := a.newClient()
			m.QueueUser(&mockoidc.MockUser{Subject: "victim", Email: "v@example.com", PreferredUsername: "victim"})
			callback, _ := oidcToCallback(t, c, "")
			resp, _ := c.get(t, strings.TrimPrefix(callback, a.URL))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("callback with a token %s: %d, want 400", name, resp.StatusCode)
			}
			if n := countUsers(t, a); n != 0 {
				t.Errorf("a token %s created %d users", name, n)
			}
		})
	}

	// The untouched token signs in (the cases above fail for their flaw).
	tt.set(nil)
	m.QueueUser(&mockoidc.MockUser{Subject: "ann", Email: "ann@example.com", PreferredUsername: "ann"})
	callback, _ := oidcToCallback(t, a, "")
	if resp, _ := a.get(t, strings.TrimPrefix(callback, a.URL)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("untouched token: %d", resp.StatusCode)
	}
}

func TestOIDCSendsANonceAndNeverForwardsTheCallersRedirectURI(t *testing.T) {
	t.Parallel()
	a, m, tt := startTamperedOIDC(t)
	m.QueueUser(&mockoidc.MockUser{Subject: "bo", Email: "bo@example.com", PreferredUsername: "bo"})
	callback, authURL := oidcToCallback(t, a, "")
	u, _ := url.Parse(authURL)
	if n := u.Query().Get("nonce"); len(n) < 40 {
		t.Errorf("authorization request nonce %q", n)
	}
	own := a.URL + "/auth/oidc/callback"
	if got := u.Query().Get("redirect_uri"); got != own {
		t.Errorf("authorization redirect_uri %q, want %q", got, own)
	}
	cb, _ := url.Parse(callback)
	q := cb.Query()
	q.Set("redirect_uri", "https://evil.example/steal")
	resp, _ := a.get(t, "/auth/oidc/callback?"+q.Encode())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	tt.mu.Lock()
	sent := tt.redirectURI
	tt.mu.Unlock()
	if sent != own {
		t.Errorf("token request redirect_uri %q, want %q", sent, own)
	}
	var n int
	a.DB.NewRaw(`SELECT count(*) FROM users WHERE provider = 'oidc' AND provider_user_id = 'bo'`).Scan(context.Background(), &n)
	if n != 1 {
		t.Errorf("%d users bo", n)
	}
}

func TestOIDCTakesTheProfileFromUserinfoWhenTheIDTokenHasNone(t *testing.T) {
	t.Parallel()
	a, m, tt := startTamperedOIDC(t)
	real := m.Keypair.PrivateKey
	tt.set(func(tok string) string {
		return resign(t, tok, real, func(c map[string]any) {
			delete(c, "email")
			delete(c, "preferred_username")
		})
	})
	m.QueueUser(&mockoidc.MockUser{Subject: "cy", Email: "cy@example.com", PreferredUsername: "cyrus"})
	callback, _ := oidcToCallback(t, a, "")
	if resp, _ := a.get(t, strings.TrimPrefix(callback, a.URL)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	var nick, email string
	if err := a.DB.NewRaw(`SELECT nick, email FROM users WHERE provider = 'oidc' AND provider_user_id = 'cy'`).
		Scan(context.Background(), &nick, &email); err != nil {
		t.Fatal(err)
	}
	if nick != "cyrus" || email != "cy@example.com" {
		t.Errorf("profile from userinfo: nick %q, email %q", nick, email)
	}
}
