package auth

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/markbates/goth"
	"golang.org/x/oauth2"
)

// DevProvider is the development login as a goth.Provider, so it takes the
// same path as the real ones: its "auth URL" is our own nickname form, and
// "authorizing" reads the nickname the form posted. The provider user id is
// the lower-cased nickname, so the same nickname is the same account.
type DevProvider struct{ name string }

// NewDevProvider returns the dev login provider.
func NewDevProvider() *DevProvider { return &DevProvider{name: DevProviderName} }

// DevFormPath is the dev login's nickname form.
const DevFormPath = "/auth/dev/form"

// Name implements goth.Provider.
func (p *DevProvider) Name() string { return p.name }

// SetName implements goth.Provider.
func (p *DevProvider) SetName(name string) { p.name = name }

// Debug implements goth.Provider.
func (p *DevProvider) Debug(bool) {}

// BeginAuth implements goth.Provider: the auth URL is the nickname form.
func (p *DevProvider) BeginAuth(state string) (goth.Session, error) {
	return &DevSession{AuthURL: DevFormPath + "?state=" + url.QueryEscape(state)}, nil
}

// UnmarshalSession implements goth.Provider.
func (p *DevProvider) UnmarshalSession(data string) (goth.Session, error) {
	s := new(DevSession)
	err := json.Unmarshal([]byte(data), s)
	return s, err
}

// FetchUser implements goth.Provider.
func (p *DevProvider) FetchUser(gs goth.Session) (goth.User, error) {
	s, ok := gs.(*DevSession)
	if !ok || s.Nick == "" {
		return goth.User{}, errors.New("dev login: not authorized")
	}
	return goth.User{Provider: p.name, UserID: strings.ToLower(s.Nick), NickName: s.Nick}, nil
}

// RefreshToken implements goth.Provider; the dev login has no tokens.
func (p *DevProvider) RefreshToken(string) (*oauth2.Token, error) {
	return nil, errors.New("dev login: no refresh tokens")
}

// RefreshTokenAvailable implements goth.Provider.
func (p *DevProvider) RefreshTokenAvailable() bool { return false }

// DevSession is the dev login's goth.Session.
type DevSession struct {
	AuthURL string
	Nick    string
}

// GetAuthURL implements goth.Session.
func (s *DevSession) GetAuthURL() (string, error) { return s.AuthURL, nil }

// Marshal implements goth.Session.
func (s *DevSession) Marshal() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Authorize implements goth.Session: it takes the posted nickname.
func (s *DevSession) Authorize(_ goth.Provider, params goth.Params) (string, error) {
	nick, err := NormalizeNick(params.Get("nick"))
	if err != nil {
		return "", err
	}
	s.Nick = nick
	return "dev", nil
}
