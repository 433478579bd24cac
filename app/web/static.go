package web

import (
	"mime"
	"path"

	"github.com/gofiber/fiber/v2"

	"gavel/static"
)

// staticFile serves the embedded files. A request that names the current
// version (?v=HASH, as static.URL writes it) may be cached for a year; any
// other is revalidated with the ETag.
func staticFile(c *fiber.Ctx) error {
	name := path.Clean(c.Params("*"))
	version := static.Version(name)
	if version == "" {
		return fiber.ErrNotFound
	}
	etag := `"` + version + `"`
	c.Set(fiber.HeaderETag, etag)
	if c.Query("v") == version {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	body, err := static.FS.ReadFile(name)
	if err != nil {
		return fiber.ErrNotFound
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		c.Set(fiber.HeaderContentType, t)
	}
	return c.Send(body)
}
