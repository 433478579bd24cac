package web

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gavel/app/i18n"
	"gavel/app/notify"
)

// langSet stores the chosen language in a cookie and returns to the page.
func (s *Server) langSet(c *fiber.Ctx) error {
	l, ok := i18n.Parse(c.FormValue("lang"))
	if !ok {
		return fiber.ErrBadRequest
	}
	c.Cookie(&fiber.Cookie{
		Name:     langCookie,
		Value:    string(l),
		Path:     "/",
		Expires:  time.Now().AddDate(1, 0, 0),
		HTTPOnly: true,
		Secure:   s.Config.Secure(),
		SameSite: fiber.CookieSameSiteLaxMode,
	})
	if u := currentUser(c); u != nil {
		// Their mails follow the language they choose.
		if err := notify.SetLang(c.UserContext(), s.DB, u.ID, l); err != nil {
			return err
		}
	}
	return c.Redirect(SafeNext(c.FormValue("next")), fiber.StatusSeeOther)
}

// SafeNext returns next when it is a path on this site, and "/" otherwise:
// no scheme, no host, no protocol-relative "//" or "/\" tricks.
func SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	return next
}
