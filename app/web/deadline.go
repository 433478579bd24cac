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
	// uploadTimeout covers POST /auctions, which may wait for a decode
	// slot and decode a large photo before it writes.
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
	if c.Method() == fiber.MethodPost && c.Path() == "/auctions" {
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
