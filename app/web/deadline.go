package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Per-request deadlines: the database work of a request must finish within
// these, so that with the database stuck (a frozen host, a network that
// drops packets, where no statement_timeout can fire) a page answers 503
// quickly instead of holding the client, a worker and a pooled connection.
const (
	requestTimeout = 5 * time.Second
	// uploadTimeout covers POST /auctions and /auctions/:id/edit, which
	// may wait for decode slots and decode up to eight photos before they
	// write (each decode gets at most what is left of it).
	uploadTimeout = 30 * time.Second
)

// requestDeadline gives the request's context a deadline. The live
// streams keep theirs: they outlive their handler. A bid's commit is not
// cut by it (PlaceBid runs without the request's cancellation).
func requestDeadline(c *fiber.Ctx) error {
	if isStream(c.Path()) {
		return c.Next()
	}
	d := requestTimeout
	if c.Method() == fiber.MethodPost && isUploadPath([]byte(c.Path())) {
		d = uploadTimeout
	}
	parent := c.UserContext()
	ctx, cancel := context.WithTimeout(parent, d)
	defer cancel()
	c.SetUserContext(ctx)
	err := c.Next()
	// The error page renders after this returns: not under a spent
	// deadline.
	c.SetUserContext(parent)
	return err
}
