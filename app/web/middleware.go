package web

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/valyala/fasthttp"

	"gavel/app/i18n"
)

// accessLog writes one structured line per request.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		// The ErrorHandler runs after this middleware returns; report the
		// status it will choose.
		status = statusOf(err)
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.Log.Log(c.UserContext(), level, "request",
		"method", c.Method(),
		"path", c.Path(),
		"status", status,
		"duration", time.Since(start).Round(time.Microsecond),
		"ip", clientIP(c).String(),
		"request_id", requestID(c),
	)
	return err
}

func (s *Server) logPanic(c *fiber.Ctx, e any) {
	s.Log.Error("panic", "request_id", requestID(c), "panic", fmt.Sprint(e), "stack", string(debug.Stack()))
}

// requestIDs gives each request an id, in the X-Request-ID header of its
// answer, its log line and its error page: the one a proxy in front sent,
// when it is plausible (at most 128 visible ASCII characters), else a new
// one. The header's value is copied: fasthttp reuses a request's bytes for
// the next one on its connection, and a WebSocket keeps its request's
// locals for as long as it stays open. (Fiber's requestid middleware keeps
// the header's own bytes.)
func requestIDs(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if plausibleRequestID(id) {
		id = strings.Clone(id)
	} else {
		id = utils.UUID()
	}
	c.Set(fiber.HeaderXRequestID, id)
	c.Locals(requestIDKey, id)
	return c.Next()
}

const requestIDKey = "requestid"

func plausibleRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := range len(id) {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestID returns the id requestIDs gave this request.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey).(string)
	return id
}

// csp allows scripts, styles and connections only from Gavel itself; images
// also from https (provider avatars). No inline script or style, no eval.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func securityHeaders(secure bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := &c.Response().Header
		h.Set("X-Content-Type-Options", "nosniff")
		if secure {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		if c.Path() == "/events" || isSocketUpgrade(c) {
			// No document: the page policies mean nothing to an event
			// stream or a socket, and a hijacked connection keeps its
			// response headers in memory for its whole life. Anything
			// else, an error page at a socket's URL included, is a page.
			return c.Next()
		}
		setPageHeaders(h)
		return c.Next()
	}
}

// setPageHeaders sets the policies of an HTML document.
func setPageHeaders(h *fasthttp.ResponseHeader) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// isSocketUpgrade reports whether c is a WebSocket upgrade request for an
// auction's socket (/auctions/ID/ws), the one route that upgrades.
func isSocketUpgrade(c *fiber.Ctx) bool {
	if !websocket.IsWebSocketUpgrade(c) {
		return false
	}
	id, ok := strings.CutPrefix(c.Path(), "/auctions/")
	if !ok {
		return false
	}
	id, ok = strings.CutSuffix(id, "/ws")
	if !ok || id == "" {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// isStream reports whether path is a long-lived stream (SSE, WebSocket),
// which compression would buffer and break.
func isStream(path string) bool {
	return path == "/events" || strings.HasSuffix(path, "/ws")
}

// compressExceptStreams compresses pages at the fastest level (gzip was a
// fifth of a cached front page's CPU at the default level); streams, images and htmx answers to posts (a form of a few
// hundred bytes) go as they are.
func compressExceptStreams() fiber.Handler {
	return compress.New(compress.Config{
		Level: compress.LevelBestSpeed,
		Next: func(c *fiber.Ctx) bool {
			p := c.Path()
			if c.Method() == fiber.MethodPost && c.Get("HX-Request") == "true" {
				return true
			}
			return isStream(p) || strings.HasPrefix(p, "/images/")
		},
	})
}

// language chooses the request's language and keeps its printer in locals.
func (s *Server) language(c *fiber.Ctx) error {
	// ?lang= in the URL first (shared links and crawlers, which keep no
	// cookie), then the switcher's cookie, then Accept-Language.
	chosen := c.Cookies(langCookie)
	if l, ok := i18n.Parse(c.Query("lang")); ok {
		chosen = string(l)
	}
	c.Locals(localPrinter, i18n.For(i18n.Choose(chosen, c.Get(fiber.HeaderAcceptLanguage))))
	if len(c.Response().Header.Peek(fiber.HeaderVary)) == 0 {
		c.Set(fiber.HeaderVary, languageVary)
	} else {
		c.Vary(fiber.HeaderAcceptLanguage, fiber.HeaderCookie)
	}
	return c.Next()
}

// languageVary is the Vary of every answer the language middleware saw:
// the language comes from the Accept-Language header or a cookie.
const languageVary = fiber.HeaderAcceptLanguage + ", " + fiber.HeaderCookie

// printer returns the request's printer (Korean before the language
// middleware ran, e.g. for a 404 of a static file).
func printer(c *fiber.Ctx) *i18n.Printer {
	if p, ok := c.Locals(localPrinter).(*i18n.Printer); ok {
		return p
	}
	return i18n.For(i18n.Korean)
}

// Locals keys.
const (
	localPrinter = "printer"
	localUser    = "user" // *auth.User, set by the session middleware
	localCSRF    = "csrf" // the CSRF token, set by the CSRF middleware
	localSession = "sid"  // string: the signed-in session's id
	langCookie   = "lang"
)
