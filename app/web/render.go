package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"gavel/app/auth"
	"gavel/app/db"
	"gavel/app/i18n"
	"gavel/views"
	"gavel/views/pages"
)

// view builds the per-request view context.
func (s *Server) view(c *fiber.Ctx, title string) views.Ctx {
	v := views.Ctx{
		P:       printer(c),
		Path:    strings.Clone(string(c.Request().RequestURI())),
		CSRF:    csrfToken(c),
		Dev:     !s.Config.IsProduction(),
		Title:   title,
		BaseURL: s.Config.BaseURL,
	}
	if u := currentUser(c); u != nil {
		v.User = &views.User{ID: u.ID, Nick: u.Nick, Balance: u.Balance, Avatar: u.AvatarURL}
		// A fragment has no header to show the bell in; an error page
		// (the database may be what failed) does without it.
		if !isFragment(c) && c.Locals(localNoBell) == nil {
			s.bell(c, &v)
		}
	}
	return v
}

// localNoBell, when set, keeps the bell's query off the page.
const localNoBell = "notify.nobell"

// currentUser returns the signed-in user, or nil.
func currentUser(c *fiber.Ctx) *auth.User {
	u, _ := c.Locals(localUser).(*auth.User)
	return u
}

// csrfToken returns the request's CSRF token ("" before the CSRF
// middleware ran).
func csrfToken(c *fiber.Ctx) string {
	t, _ := c.Locals(localCSRF).(string)
	return t
}

// requireUser sends signed-out visitors to the login page, and back here
// after they sign in.
func requireUser(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Next()
	}
	next := "/login?next=" + url.QueryEscape(SafeNext(string(c.Request().RequestURI())))
	if c.Method() != fiber.MethodGet {
		// After a sign-in, come back to the page the form was on, not to
		// the form's target.
		next = "/login?next=" + url.QueryEscape(SafeNext(refererPath(c)))
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", next)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// refererPath returns the path of a same-origin Referer, or "/".
func refererPath(c *fiber.Ctx) string {
	u, err := url.Parse(c.Get(fiber.HeaderReferer))
	if err != nil || u.Host != string(c.Request().Host()) {
		return "/"
	}
	return u.RequestURI()
}

// isFragment reports whether htmx asked for a fragment rather than a page:
// an htmx request that is not a boosted navigation.
func isFragment(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true"
}

// render draws comp into the response's (pooled) body buffer, which is
// sent only once the handler returns, so a failing component becomes a
// clean error page instead of half a page under a 200.
func render(c *fiber.Ctx, status int, comp templ.Component) error {
	resp := c.Response()
	resp.ResetBody()
	if err := comp.Render(c.UserContext(), resp.BodyWriter()); err != nil {
		resp.ResetBody()
		return err
	}
	addVary(c, "HX-Request")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Status(status)
	return nil
}

// addVary adds names to the answer's Vary. After the language middleware
// alone, as almost always, the result is known without parsing the
// header as c.Vary does on each addition.
func addVary(c *fiber.Ctx, names string) {
	if string(c.Response().Header.Peek(fiber.HeaderVary)) == languageVary {
		c.Set(fiber.HeaderVary, languageVary+", "+names)
		return
	}
	c.Vary(strings.Split(names, ", ")...)
}

// page renders full for a normal request and fragment for an htmx one.
func page(c *fiber.Ctx, status int, full, fragment templ.Component) error {
	if isFragment(c) {
		return render(c, status, fragment)
	}
	return render(c, status, full)
}

// pageAssembled is page for a page holding the marks of asm's parts:
// rendered, then written with the parts in place and token in their
// holes.
func pageAssembled(c *fiber.Ctx, asm *assembly, token string, full, fragment templ.Component) error {
	comp := full
	if isFragment(c) {
		comp = fragment
	}
	buf := scratch.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); scratch.Put(buf) }()
	if err := comp.Render(c.UserContext(), buf); err != nil {
		return err
	}
	if !asm.fits(buf.Bytes()) {
		return errors.New("the page's part marks do not match its parts")
	}
	sendParts(c, func(w io.Writer, gzip bool) { asm.write(w, gzip, buf.Bytes(), token) })
	return nil
}

// pageError is a refusal answered with status and a specific catalog
// message on the one error page (e.g. the CSRF or sign-in state pages).
type pageError struct {
	status int
	key    string
}

func (e *pageError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.key) }

// refuse returns a pageError.
func refuse(status int, key string) error { return &pageError{status: status, key: key} }

// statusOf is the HTTP status an error answers with.
func statusOf(err error) int {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe.status
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	if db.Unavailable(err) {
		// The database is down or stuck: "try again shortly", and the
		// load balancer's view matches /readyz.
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusInternalServerError
}

// errorMessages maps statuses to catalog keys; others fall back to 500/400.
var errorMessages = map[int]string{
	400: "error.400", 403: "error.403", 404: "error.404", 405: "error.405",
	413: "error.413", 429: "error.429", 500: "error.500", 503: "error.503",
}

// handleError is the one ErrorHandler: it logs unexpected errors once with
// the request id and shows a friendly page. err.Error() never reaches the
// browser.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status := statusOf(err)
	if status >= 500 {
		s.Log.Error("request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "err", err)
	}
	key, ok := errorMessages[status]
	if pe := (*pageError)(nil); errors.As(err, &pe) {
		key, ok = pe.key, true
	}
	if !ok {
		key = "error.400"
		if status >= 500 {
			key = "error.500"
		}
	}
	// Errors fasthttp answers before any middleware (a body over its
	// limit) reach here too: the error page is a page like any other.
	setPageHeaders(&c.Response().Header)
	c.Locals(localNoBell, true)
	v := s.view(c, printer(c).T("error.title"))
	e := pages.ErrorView{Status: status, Message: v.T(key), RequestID: requestID(c)}
	if rerr := page(c, status, pages.Error(v, e), pages.ErrorBody(v, e)); rerr != nil {
		s.Log.Error("render error page", "request_id", requestID(c), "err", rerr)
		return c.Status(status).SendString(i18n.For(i18n.Korean).T(key))
	}
	return nil
}

func (s *Server) notFound(c *fiber.Ctx) error {
	c.Locals(localUnmatched, true)
	return fiber.ErrNotFound
}

// sendParts answers with the body write writes, gzip-encoded when the
// client takes it (the compression middleware leaves an encoded body
// alone).
func sendParts(c *fiber.Ctx, write func(w io.Writer, gzip bool)) {
	addVary(c, "HX-Request, "+fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Status(fiber.StatusOK)
	resp := c.Response()
	resp.ResetBody()
	gz := c.Request().Header.HasAcceptEncoding("gzip")
	if gz {
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	write(resp.BodyWriter(), gz)
}
