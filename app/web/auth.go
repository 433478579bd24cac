package web

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gavel/app/auth"
	"gavel/views/pages"
)

// providerLabels are the catalog keys of the providers' shown names.
var providerLabels = map[string]string{
	"github": "auth.provider.github",
	"google": "auth.provider.google",
	"kakao":  "auth.provider.kakao",
	"naver":  "auth.provider.naver",
	"oidc":   "auth.provider.oidc",
	"dev":    "auth.provider.dev",
}

func providerLabel(c *fiber.Ctx, name string) string {
	if key, ok := providerLabels[name]; ok {
		return printer(c).T(key)
	}
	return name
}

// loginPage lists exactly the configured providers; a signed-in visitor
// goes straight on to next.
func (s *Server) loginPage(c *fiber.Ctx) error {
	next := SafeNext(c.Query("next"))
	if currentUser(c) != nil {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	var m pages.LoginView
	for _, name := range s.Auth.Names() {
		u := "/auth/" + name
		if next != "/" {
			u += "?next=" + url.QueryEscape(next)
		}
		m.Providers = append(m.Providers, pages.ProviderLink{Name: name, Label: providerLabel(c, name), URL: u})
	}
	v := s.view(c, printer(c).T("auth.login.title"))
	v.NoIndex = true
	return page(c, fiber.StatusOK, pages.Login(v, m), pages.LoginBody(v, m))
}

// authBegin starts a sign-in: a one-time state (and PKCE verifier) is kept
// server-side beside the session (pendingLogin) with where to return, and
// the browser goes to the provider.
func (s *Server) authBegin(c *fiber.Ctx) error {
	name := strings.Clone(c.Params("provider"))
	if !s.Auth.Has(name) {
		return fiber.ErrNotFound
	}
	authURL, pend, err := s.Auth.Begin(name)
	if err != nil {
		return err
	}
	// The started sign-in gets its own short-lived id: still no session.
	id := c.Cookies(LoginCookie)
	if !validNonce(id) {
		id = auth.NewSessionID()
		s.setCookie(c, LoginCookie, id, auth.PendingTTL)
	} else {
		id = strings.Clone(id)
	}
	raw, _ := json.Marshal(pendingLogin{Pending: pend.Marshal(), Next: SafeNext(c.Query("next"))})
	if err := s.sessionRows.Set(pendingKey(id), raw, auth.PendingTTL); err != nil {
		return err
	}
	return c.Redirect(authURL, fiber.StatusSeeOther)
}

// authCallback is where a provider sends the browser back.
func (s *Server) authCallback(c *fiber.Ctx) error {
	name := strings.Clone(c.Params("provider"))
	if !s.Auth.Has(name) || name == auth.DevProviderName {
		// The dev login completes by its form's POST only.
		return fiber.ErrNotFound
	}
	params, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return fiber.ErrBadRequest
	}
	return s.finishLogin(c, name, params)
}

// devLoginForm is the dev provider's "auth URL": it asks for a nickname.
func (s *Server) devLoginForm(c *fiber.Ctx) error {
	m := pages.DevLoginView{State: strings.Clone(c.Query("state"))}
	return s.renderDevLogin(c, fiber.StatusOK, m)
}

func (s *Server) renderDevLogin(c *fiber.Ctx, status int, m pages.DevLoginView) error {
	v := s.view(c, printer(c).T("auth.dev.title"))
	v.NoIndex = true
	return page(c, status, pages.DevLogin(v, m), pages.DevLoginBody(v, m))
}

// devLoginSubmit signs in as the posted nickname, through the same path as
// a provider's callback.
func (s *Server) devLoginSubmit(c *fiber.Ctx) error {
	nick, state := strings.Clone(c.FormValue("nick")), strings.Clone(c.FormValue("state"))
	if _, err := auth.NormalizeNick(nick); err != nil {
		m := pages.DevLoginView{State: state, Nick: nick, Error: printer(c).T(nickErrorKey(err))}
		return s.renderDevLogin(c, fiber.StatusUnprocessableEntity, m)
	}
	return s.finishLogin(c, auth.DevProviderName, url.Values{"state": {state}, "nick": {nick}})
}

// finishLogin consumes the pending sign-in (whatever happens next, its state
// cannot be used again), lets the provider confirm who this is, finds or
// creates the account and starts a new session for it.
func (s *Server) finishLogin(c *fiber.Ctx, name string, params url.Values) error {
	var started pendingLogin
	if id := c.Cookies(LoginCookie); id != "" {
		raw, err := s.sessionRows.Take(pendingKey(id))
		if err != nil {
			return err
		}
		if raw != nil && json.Unmarshal(raw, &started) != nil {
			started = pendingLogin{}
		}
		s.setCookie(c, LoginCookie, "", -1)
	}
	next := started.Next

	id, err := func() (auth.Identity, error) {
		pend, err := auth.ParsePending(started.Pending)
		if err != nil {
			return auth.Identity{}, err
		}
		return s.Auth.Complete(name, pend, params)
	}()
	if err != nil {
		switch {
		case errors.Is(err, auth.ErrState):
			s.Log.Info("sign-in refused: bad state", "request_id", requestID(c), "provider", name)
			return refuse(fiber.StatusBadRequest, "auth.state_invalid")
		case errors.Is(err, auth.ErrDenied):
			s.Log.Warn("sign-in refused by provider", "request_id", requestID(c), "provider", name, "err", err)
			return refuse(fiber.StatusBadRequest, "auth.denied")
		}
		return err
	}
	u, _, err := auth.FindOrCreate(c.UserContext(), s.DB, id, s.Config.StartingBalance)
	if err != nil {
		return err
	}
	if err := s.signIn(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(SafeNext(next), fiber.StatusSeeOther)
}

// logout ends the session: its row is deleted (so the cookie is worthless
// even if kept) and every instance drops its cached copy. Requests still in
// flight write no session, so none can bring it back.
func (s *Server) logout(c *fiber.Ctx) error {
	if id := c.Cookies(SessionCookie); id != "" {
		if err := auth.DeleteSession(c.UserContext(), s.DB, id); err != nil {
			return err
		}
		s.Cache.ForgetSession(id)
	}
	s.setCookie(c, SessionCookie, "", -1)
	return c.Redirect("/", fiber.StatusSeeOther)
}

// nickErrorKey is the catalog message of a nickname error.
func nickErrorKey(err error) string {
	switch {
	case errors.Is(err, auth.ErrNickTaken):
		return "profile.nick.taken"
	case errors.Is(err, auth.ErrNickChars):
		return "profile.nick.chars"
	case errors.Is(err, auth.ErrNickStart):
		return "profile.nick.start"
	default:
		return "profile.nick.length"
	}
}
