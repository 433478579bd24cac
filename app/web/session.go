package web

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/session"

	"gavel/app/auth"
)

// Session lifetimes: a session unused for IdleLifetime ends (every request
// that touches it pushes the end back); a sign-in lasts at most
// AbsoluteLifetime however busy.
const (
	IdleLifetime     = 7 * 24 * time.Hour
	AbsoluteLifetime = 30 * 24 * time.Hour
)

// Cookie names.
const (
	SessionCookie = "gavel_session"
	CSRFCookie    = "gavel_csrf"
)

// Session keys (gob-encoded: basic types only).
const (
	sessUserID  = "uid"      // int64: the signed-in user
	sessLoginAt = "login_at" // int64 unix seconds: when they signed in
	sessCSRF    = "csrf"     // the CSRF middleware's token
)

// A started sign-in is kept beside the session, not in it: the CSRF
// middleware rewrites the whole session on every page view, and a view
// that loaded it before the sign-in started (another tab, a late favicon)
// would write it back without the pending state.
type pendingLogin struct {
	Pending string `json:"p"` // auth.Pending, marshalled
	Next    string `json:"n"` // where to go afterwards
}

// pendingKey is the storage key of session id's started sign-in.
func pendingKey(id string) string { return "login:" + id }

func newSessionStore(storage fiber.Storage, secure bool) *session.Store {
	return session.New(session.Config{
		Storage:        storage,
		Expiration:     IdleLifetime,
		KeyLookup:      "cookie:" + SessionCookie,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   secure,
		CookieSameSite: "Lax",
		KeyGenerator:   auth.NewSessionID,
	})
}

// sessionUser puts the signed-in user, fresh from the database, in locals.
// A sign-in older than AbsoluteLifetime ends here.
func (s *Server) sessionUser(c *fiber.Ctx) error {
	if c.Cookies(SessionCookie) == "" {
		return c.Next()
	}
	sess, err := s.sessions.Get(c)
	if err != nil {
		return err
	}
	uid, _ := sess.Get(sessUserID).(int64)
	if uid == 0 {
		return c.Next()
	}
	loginAt, _ := sess.Get(sessLoginAt).(int64)
	if time.Since(time.Unix(loginAt, 0)) > AbsoluteLifetime {
		if err := sess.Destroy(); err != nil {
			return err
		}
		return c.Next()
	}
	u, err := auth.UserByID(c.UserContext(), s.DB, uid)
	if errors.Is(err, auth.ErrNoUser) {
		return c.Next()
	}
	if err != nil {
		return err
	}
	c.Locals(localUser, u)
	return c.Next()
}

// csrfGuard is Fiber's CSRF middleware with the token kept in the
// server-side session (and mirrored in an HttpOnly cookie, its double
// submit). Unsafe methods must send it in X-CSRF-Token (htmx, from the
// layout's hx-headers) or the _csrf form field. Saving the token also
// refreshes the session's idle lifetime. Streams are skipped: they are
// GETs, and one would otherwise write the session for every reconnect.
func (s *Server) csrfGuard() fiber.Handler {
	return csrf.New(csrf.Config{
		Next:           func(c *fiber.Ctx) bool { return isStream(c.Path()) },
		Session:        s.sessions,
		SessionKey:     sessCSRF,
		CookieName:     CSRFCookie,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.Config.Secure(),
		CookieSameSite: "Lax",
		Expiration:     IdleLifetime,
		ContextKey:     localCSRF,
		KeyGenerator:   auth.NewSessionID,
		Extractor: func(c *fiber.Ctx) (string, error) {
			if t := c.Get(csrf.HeaderName); t != "" {
				return t, nil
			}
			if t := c.FormValue("_csrf"); t != "" {
				return t, nil
			}
			return "", csrf.ErrTokenNotFound
		},
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			s.Log.Info("csrf refused", "request_id", requestID(c), "path", c.Path(), "reason", err.Error())
			return refuse(fiber.StatusForbidden, "auth.csrf")
		},
	})
}

// signIn starts a fresh session for userID: a new id (the old one is
// deleted, so a planted or stolen pre-login id is worthless), no data
// carried over (the CSRF token is renewed on the next page).
func (s *Server) signIn(c *fiber.Ctx, sess *session.Session, userID int64) error {
	if err := sess.Reset(); err != nil {
		return err
	}
	sess.Set(sessUserID, userID)
	sess.Set(sessLoginAt, time.Now().Unix())
	return sess.Save()
}

// rateLimit allows max requests per key per window, then answers 429 with
// the catalog message msgKey.
func rateLimit(max int, window time.Duration, key func(*fiber.Ctx) string, msgKey string) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:          max,
		Expiration:   window,
		KeyGenerator: key,
		LimitReached: func(*fiber.Ctx) error { return refuse(fiber.StatusTooManyRequests, msgKey) },
	})
}

func byIP(prefix string) func(*fiber.Ctx) string {
	return func(c *fiber.Ctx) string { return prefix + clientKey(c) }
}

func byUser(prefix string) func(*fiber.Ctx) string {
	return func(c *fiber.Ctx) string {
		if u := currentUser(c); u != nil {
			return prefix + strconv.FormatInt(u.ID, 10)
		}
		return prefix + "ip:" + clientKey(c)
	}
}
