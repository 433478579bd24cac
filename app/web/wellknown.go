package web

import (
	"github.com/gofiber/fiber/v2"

	"gavel/static"
)

// robotsTxt keeps crawlers off the pages that are personal or only
// redirect to the login.
const robotsTxt = "User-agent: *\nDisallow: /auth/\nDisallow: /me/\nDisallow: /wallet\nDisallow: /login\nDisallow: /events\n"

// favicon answers the browsers' automatic /favicon.ico with the site icon
// (SVG, which every current browser takes at that address too).
func favicon(c *fiber.Ctx) error {
	body, err := static.FS.ReadFile("img/favicon.svg")
	if err != nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(body)
}

// robots answers /robots.txt.
func robots(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.SendString(robotsTxt)
}
