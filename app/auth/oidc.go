package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/markbates/goth"
	"golang.org/x/oauth2"
)

// OIDCProvider is an OpenID Connect login as a goth.Provider. goth's own
// openidConnect provider never checks the id_token's signature, sends no
// nonce, panics on a token without exp and forwards a redirect_uri taken
// from the callback's query; this one verifies the id_token with go-oidc
// (signature against the issuer's JWKS, iss, aud, exp), requires the nonce
// it sent, and always uses its own callback URL.
type OIDCProvider struct {
	name     string
	client   *http.Client
	config   oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

// oidcExchangeTimeout bounds the token request and the key set fetch of
// one callback.
const oidcExchangeTimeout = 15 * time.Second

// NewOIDCProvider reads issuer's discovery document (go-oidc checks that it
// names the same issuer) and returns the provider for client key/secret,
// with callback as its only redirect URI.
func NewOIDCProvider(ctx context.Context, client *http.Client, issuer, key, secret, callback string) (*OIDCProvider, error) {
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), issuer)
	if err != nil {
		return nil, err
	}
	return &OIDCProvider{
		name:   "oidc",
		client: client,
		config: oauth2.Config{
			ClientID: key, ClientSecret: secret, RedirectURL: callback,
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: key}),
	}, nil
}

// Name implements goth.Provider.
func (p *OIDCProvider) Name() string { return p.name }

// SetName implements goth.Provider.
func (p *OIDCProvider) SetName(name string) { p.name = name }

// Debug implements goth.Provider.
func (p *OIDCProvider) Debug(bool) {}

// BeginAuth implements goth.Provider: the authorization URL carries state
// and a fresh nonce, which the session keeps for the callback (PKCE is
// added by Service.Begin).
func (p *OIDCProvider) BeginAuth(state string) (goth.Session, error) {
	nonce := randomToken(32)
	return &OIDCSession{
		AuthURL: p.config.AuthCodeURL(state, oidc.Nonce(nonce)),
		Nonce:   nonce,
	}, nil
}

// UnmarshalSession implements goth.Provider.
func (p *OIDCProvider) UnmarshalSession(data string) (goth.Session, error) {
	s := new(OIDCSession)
	err := json.Unmarshal([]byte(data), s)
	return s, err
}

// FetchUser implements goth.Provider: the user is what the verified
// id_token says.
func (p *OIDCProvider) FetchUser(gs goth.Session) (goth.User, error) {
	s, ok := gs.(*OIDCSession)
	if !ok || s.Subject == "" {
		return goth.User{}, errors.New("oidc: not authorized")
	}
	return goth.User{
		Provider: p.name, UserID: s.Subject, Email: s.Email,
		NickName: s.Nick, Name: s.Name, AvatarURL: s.Picture,
	}, nil
}

// RefreshToken implements goth.Provider; Gavel keeps no tokens.
func (p *OIDCProvider) RefreshToken(string) (*oauth2.Token, error) {
	return nil, errors.New("oidc: no refresh tokens")
}

// RefreshTokenAvailable implements goth.Provider.
func (p *OIDCProvider) RefreshTokenAvailable() bool { return false }

// OIDCSession is the OpenID Connect provider's goth.Session: the nonce
// until the callback, then the verified claims.
type OIDCSession struct {
	AuthURL string `json:"u"`
	Nonce   string `json:"n"`

	Subject string `json:"sub,omitempty"`
	Email   string `json:"email,omitempty"`
	Nick    string `json:"nick,omitempty"`
	Name    string `json:"name,omitempty"`
	Picture string `json:"picture,omitempty"`
}

// GetAuthURL implements goth.Session.
func (s *OIDCSession) GetAuthURL() (string, error) { return s.AuthURL, nil }

// Marshal implements goth.Session.
func (s *OIDCSession) Marshal() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Authorize implements goth.Session: it exchanges the code (with the PKCE
// verifier Service.Complete put in params, from the server-side pending
// sign-in) at the token endpoint, and accepts the id_token only when its
// signature, issuer, audience, expiry and nonce are right. Any
// redirect_uri in params is ignored.
func (s *OIDCSession) Authorize(gp goth.Provider, params goth.Params) (string, error) {
	p, ok := gp.(*OIDCProvider)
	if !ok {
		return "", errors.New("oidc: wrong provider")
	}
	code := params.Get("code")
	if code == "" {
		return "", errors.New("oidc: no code")
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(context.Background(), p.client), oidcExchangeTimeout)
	defer cancel()
	var opts []oauth2.AuthCodeOption
	if v := params.Get("code_verifier"); v != "" {
		opts = append(opts, oauth2.VerifierOption(v))
	}
	tok, err := p.config.Exchange(ctx, code, opts...)
	if err != nil {
		return "", fmt.Errorf("oidc: token exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", errors.New("oidc: no id_token in the token response")
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("oidc: id_token refused: %w", err)
	}
	if !SameToken(s.Nonce, idt.Nonce) {
		return "", errors.New("oidc: id_token refused: wrong nonce")
	}
	var claims profileClaims
	if err := idt.Claims(&claims); err != nil {
		return "", fmt.Errorf("oidc: id_token claims: %w", err)
	}
	if claims.empty() && p.provider.UserInfoEndpoint() != "" {
		// Some issuers keep the profile out of the id_token: ask the
		// userinfo endpoint, and take its answer only for the same
		// subject (OpenID Connect Core 5.3.2).
		ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err == nil && ui.Subject == idt.Subject {
			var more profileClaims
			if ui.Claims(&more) == nil {
				claims = more
			}
		}
	}
	s.Subject, s.Email, s.Name, s.Picture = idt.Subject, claims.Email, claims.Name, claims.Picture
	s.Nick = claims.PreferredUsername
	if s.Nick == "" {
		s.Nick = claims.Nickname
	}
	s.Nonce = "" // used
	return tok.AccessToken, nil
}

// profileClaims are the standard claims a Gavel account takes.
type profileClaims struct {
	Email             string `json:"email"`
	PreferredUsername string `json:"preferred_username"`
	Nickname          string `json:"nickname"`
	Name              string `json:"name"`
	Picture           string `json:"picture"`
}

func (c profileClaims) empty() bool {
	return c.Email == "" && c.PreferredUsername == "" && c.Nickname == "" && c.Name == ""
}
