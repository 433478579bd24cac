package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"gavel/app/auth"
)

// Session lifetimes: a session unused for IdleLifetime ends (use pushes
// the end back, written at most once per touchEvery); a sign-in lasts at
// most AbsoluteLifetime however busy.
const (
	IdleLifetime     = 7 * 24 * time.Hour
	AbsoluteLifetime = 30 * 24 * time.Hour
	touchEvery       = 24 * time.Hour
)

// Cookie names. The session cookie exists only while signed in; the login
// cookie only while a sign-in is under way; the CSRF cookie holds the
// random half of the double-submit token.
const (
	SessionCookie = "gavel_session"
	LoginCookie   = "gavel_login"
	CSRFCookie    = "gavel_csrf"
)

// A started sign-in is kept server-side under the login cookie's id
// (pendingKey), never in a session: signed-out visitors have none.
type pendingLogin struct {
	Pending string `json:"p"` // auth.Pending, marshalled
	Next    string `json:"n"` // where to go afterwards
}

// pendingKey is the storage key of login id's started sign-in.
func pendingKey(id string) string { return "login:" + id }

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole site;
// maxAge < 0 deletes it.
func (s *Server) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: s.Config.Secure(), SameSite: "Lax"}
	if maxAge < 0 {
		ck.Value, ck.MaxAge, ck.Expires = "", -1, time.Unix(1, 0)
	} else {
		ck.MaxAge = int(maxAge / time.Second)
		ck.Expires = time.Now().Add(maxAge)
	}
	c.Cookie(ck)
}

// sessionUser puts the signed-in user in locals: the session and the user
// come from the instance's cache (no database round trip once seen), which
// every instance's change reaches within a moment. Nothing is written,
// except the idle end of a session once a day (an UPDATE, which a logout
// that came first cannot see undone). A sign-in older than
// AbsoluteLifetime ends here.
func (s *Server) sessionUser(c *fiber.Ctx) error {
	id := c.Cookies(SessionCookie)
	if id == "" {
		return c.Next()
	}
	id = strings.Clone(id) // Fiber reuses the buffer under it
	ctx := c.UserContext()
	sess, ok, err := s.Cache.Session(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		s.setCookie(c, SessionCookie, "", -1)
		return c.Next()
	}
	now := time.Now()
	if now.Sub(sess.LoginAt) > AbsoluteLifetime {
		if err := auth.DeleteSession(ctx, s.DB, id); err != nil {
			return err
		}
		s.Cache.ForgetSession(id)
		s.setCookie(c, SessionCookie, "", -1)
		return c.Next()
	}
	if sess.ExpiresAt.Sub(now) < IdleLifetime-touchEvery {
		if err := auth.TouchSession(ctx, s.DB, id, now.Add(IdleLifetime)); err != nil {
			return err
		}
		s.Cache.ForgetSession(id)
	}
	u, err := s.Cache.User(ctx, sess.UserID)
	if err == auth.ErrNoUser {
		return c.Next()
	}
	if err != nil {
		return err
	}
	c.Locals(localUser, u)
	c.Locals(localSession, id)
	return c.Next()
}

// csrfGuard keeps every unsafe request to forms this site served: a signed
// double submit. The CSRF cookie holds a random value; the token in pages
// (the _csrf field, the X-CSRF-Token header htmx sends) is an HMAC of it
// and of the session id under a secret every instance shares, so it needs
// no server-side state (signed-out visitors get no session row) and a
// token minted for one session is worthless in another. The token is read
// from the header or the form body only, never the query string (URLs end
// up in logs and Referer headers). A browser that names a foreign Origin,
// or says Sec-Fetch-Site: cross-site, is refused before any token check.
// Streams are skipped (they are GETs with no forms).
func (s *Server) csrfGuard() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if isStream(c.Path()) {
			return c.Next()
		}
		nonce := c.Cookies(CSRFCookie)
		if !validNonce(nonce) {
			nonce = auth.NewSessionID()
			s.setCookie(c, CSRFCookie, nonce, AbsoluteLifetime)
		} else {
			nonce = strings.Clone(nonce)
		}
		want := s.csrfFor(nonce, c.Cookies(SessionCookie))
		c.Locals(localCSRF, want)
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
			return c.Next()
		}
		reason := ""
		switch {
		case c.Get("Sec-Fetch-Site") == "cross-site":
			reason = "cross-site fetch"
		case c.Get(fiber.HeaderOrigin) != "" && !s.sameOrigin(c, c.Get(fiber.HeaderOrigin)):
			reason = "foreign origin"
		case subtle.ConstantTimeCompare([]byte(want), []byte(formToken(c))) != 1:
			reason = "token mismatch"
		}
		if reason != "" {
			s.Log.Info("csrf refused", "request_id", requestID(c), "path", c.Path(), "reason", reason)
			return refuse(fiber.StatusForbidden, "auth.csrf")
		}
		return c.Next()
	}
}

// csrfFor is the token of CSRF cookie nonce for session cookie sid.
func (s *Server) csrfFor(nonce, sid string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("gavel-csrf\x00"))
	m.Write([]byte(nonce))
	m.Write([]byte{0})
	m.Write([]byte(sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validNonce accepts what auth.NewSessionID makes (43 base64url bytes).
func validNonce(n string) bool {
	if len(n) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(n)
	return err == nil
}

// formToken is the CSRF token the request carries: the X-CSRF-Token
// header, else the _csrf field of a urlencoded or multipart body.
func formToken(c *fiber.Ctx) string {
	if t := c.Get("X-CSRF-Token"); t != "" {
		return t
	}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		f, err := c.MultipartForm()
		if err != nil || len(f.Value["_csrf"]) == 0 {
			return ""
		}
		return f.Value["_csrf"][0]
	}
	return string(c.Request().PostArgs().Peek("_csrf"))
}

// signIn starts a fresh session for userID under a new id (a planted or
// stolen pre-login cookie is worthless) and ends the one the browser had.
// The CSRF token changes with the session id.
func (s *Server) signIn(c *fiber.Ctx, userID int64) error {
	ctx := c.UserContext()
	if old := c.Cookies(SessionCookie); old != "" {
		if err := auth.DeleteSession(ctx, s.DB, old); err != nil {
			return err
		}
		s.Cache.ForgetSession(old)
	}
	sess, err := auth.CreateSession(ctx, s.DB, userID, IdleLifetime)
	if err != nil {
		return err
	}
	s.setCookie(c, SessionCookie, sess.ID, AbsoluteLifetime)
	return nil
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
