package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/markbates/goth"
	"github.com/markbates/goth/providers/github"
	"github.com/markbates/goth/providers/google"
	"github.com/markbates/goth/providers/kakao"
	"github.com/markbates/goth/providers/naver"

	"gavel/app/config"
)

// DevProviderName is the name of the nickname-only development login.
const DevProviderName = "dev"

// PendingTTL bounds how long a started sign-in may take.
const PendingTTL = 10 * time.Minute

// Sign-in errors.
var (
	// ErrUnknownProvider: no provider of that name is configured.
	ErrUnknownProvider = errors.New("unknown login provider")
	// ErrState: the state is missing, wrong, already used or too old.
	ErrState = errors.New("invalid or expired login state")
	// ErrDenied: the provider said the user declined or failed to sign in.
	ErrDenied = errors.New("the provider refused the sign-in")
)

// Service holds the login providers switched on by configuration. The
// providers are goth's, constructed directly and owned here: nothing is
// registered with goth's global list.
type Service struct {
	providers map[string]goth.Provider
	names     []string // in the order /login shows them
}

// NewService builds the providers of cfg. Callback URLs are
// BASE_URL/auth/NAME/callback. The OpenID Connect provider reads its
// issuer's discovery document, so the issuer must answer at start.
func NewService(cfg *config.Config) (*Service, error) {
	if cfg.DevLogin && cfg.IsProduction() {
		return nil, fmt.Errorf("auth: the dev login cannot be on in production")
	}
	s := &Service{providers: map[string]goth.Provider{}}
	client := &http.Client{Timeout: 15 * time.Second}
	for _, pc := range cfg.Providers {
		callback := cfg.BaseURL + "/auth/" + pc.Name + "/callback"
		var p goth.Provider
		switch pc.Name {
		case "github":
			gp := github.New(pc.Key, pc.Secret, callback, "read:user")
			gp.HTTPClient = client
			p = gp
		case "google":
			gp := google.New(pc.Key, pc.Secret, callback, "openid", "profile", "email")
			gp.HTTPClient = client
			p = gp
		case "kakao":
			kp := kakao.New(pc.Key, pc.Secret, callback)
			kp.HTTPClient = client
			p = kp
		case "naver":
			np := naver.New(pc.Key, pc.Secret, callback)
			np.HTTPClient = client
			p = np
		case "oidc":
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			op, err := NewOIDCProvider(ctx, client, pc.Issuer, pc.Key, pc.Secret, callback)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("OIDC_ISSUER: discovery at %s: %w", pc.Issuer, err)
			}
			p = op
		default:
			return nil, fmt.Errorf("auth: unknown provider %q", pc.Name)
		}
		p.SetName(pc.Name)
		s.add(p)
	}
	if cfg.DevLogin {
		s.add(NewDevProvider())
	}
	return s, nil
}

func (s *Service) add(p goth.Provider) {
	s.providers[p.Name()] = p
	s.names = append(s.names, p.Name())
}

// Names lists the configured providers, the dev login last.
func (s *Service) Names() []string { return append([]string(nil), s.names...) }

// Has reports whether provider name is configured.
func (s *Service) Has(name string) bool {
	_, ok := s.providers[name]
	return ok
}

// supportsPKCE reports whether the provider passes a code_verifier to the
// token endpoint. Only the OpenID Connect one does (OIDCSession.Authorize
// reads "code_verifier" from the params); goth's github, google, kakao and
// naver ignore it, so sending them a challenge would break the exchange.
func supportsPKCE(p goth.Provider) bool {
	_, ok := p.(*OIDCProvider)
	return ok
}

// Pending is a started sign-in, kept in the server-side session until the
// callback: one-time random state, PKCE verifier, goth's own session.
type Pending struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Verifier string `json:"v,omitempty"`
	Session  string `json:"g"`
	Started  int64  `json:"t"` // unix seconds
}

// Marshal encodes p for the session store.
func (p Pending) Marshal() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// ParsePending decodes a Pending from the session ("" is an error).
func ParsePending(s string) (Pending, error) {
	var p Pending
	if s == "" {
		return p, ErrState
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return p, ErrState
	}
	return p, nil
}

// Begin starts a sign-in with provider name: it returns the URL to send the
// browser to and what to keep in the session for the callback.
func (s *Service) Begin(name string) (string, Pending, error) {
	p, ok := s.providers[name]
	if !ok {
		return "", Pending{}, ErrUnknownProvider
	}
	pend := Pending{Provider: name, State: randomToken(32), Started: time.Now().Unix()}
	gs, err := p.BeginAuth(pend.State)
	if err != nil {
		return "", Pending{}, fmt.Errorf("begin %s sign-in: %w", name, err)
	}
	authURL, err := gs.GetAuthURL()
	if err != nil {
		return "", Pending{}, fmt.Errorf("begin %s sign-in: %w", name, err)
	}
	if supportsPKCE(p) {
		pend.Verifier = randomToken(32)
		u, err := url.Parse(authURL)
		if err != nil {
			return "", Pending{}, fmt.Errorf("begin %s sign-in: %w", name, err)
		}
		q := u.Query()
		q.Set("code_challenge", pkceChallenge(pend.Verifier))
		q.Set("code_challenge_method", "S256")
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	pend.Session = gs.Marshal()
	return authURL, pend, nil
}

// Complete finishes a sign-in: it checks the callback's state against the
// pending one (constant time, once, within PendingTTL), lets goth exchange
// the code, and fetches the user. params are the callback's query (or the
// dev form's fields).
func (s *Service) Complete(name string, pend Pending, params url.Values) (Identity, error) {
	p, ok := s.providers[name]
	if !ok {
		return Identity{}, ErrUnknownProvider
	}
	if pend.Provider != name || !SameToken(pend.State, params.Get("state")) ||
		time.Since(time.Unix(pend.Started, 0)) > PendingTTL {
		return Identity{}, ErrState
	}
	if params.Get("error") != "" {
		return Identity{}, ErrDenied
	}
	gs, err := p.UnmarshalSession(pend.Session)
	if err != nil {
		return Identity{}, fmt.Errorf("%s sign-in: %w", name, err)
	}
	ap := url.Values{}
	for k, v := range params {
		ap[k] = v
	}
	ap.Del("code_verifier") // only ever from our session
	ap.Del("redirect_uri")  // only ever our own callback URL
	if pend.Verifier != "" {
		ap.Set("code_verifier", pend.Verifier)
	}
	if _, err := gs.Authorize(p, ap); err != nil {
		return Identity{}, fmt.Errorf("%s sign-in: %w: %w", name, ErrDenied, err)
	}
	gu, err := p.FetchUser(gs)
	if err != nil {
		return Identity{}, fmt.Errorf("%s sign-in: fetch user: %w", name, err)
	}
	if gu.UserID == "" {
		return Identity{}, fmt.Errorf("%s sign-in: the provider gave no user id", name)
	}
	nick := gu.NickName
	if nick == "" {
		nick = gu.Name
	}
	return Identity{
		Provider:       name,
		ProviderUserID: gu.UserID,
		Nick:           nick,
		Email:          gu.Email,
		AvatarURL:      safeAvatar(gu.AvatarURL),
	}, nil
}

// safeAvatar keeps only https avatar URLs: the CSP allows images from https.
func safeAvatar(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return u.String()
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics on a broken source)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SameToken compares a secret token with a presented one in constant time;
// an empty token never matches.
func SameToken(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewSessionID returns a new random session id (or CSRF token): 256 bits.
func NewSessionID() string { return randomToken(32) }
