package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// observe records each answered request's latency by its route pattern
// ("/auctions/:id", not the id), method and status. Streams are left out:
// their "latency" is their life. Unmatched paths count as "other".
func (s *Server) observe(c *fiber.Ctx) error {
	if s.Metrics == nil || isStream(c.Path()) {
		return c.Next()
	}
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = statusOf(err)
	}
	route := "other"
	if r := c.Route(); r != nil && c.Locals(localUnmatched) == nil {
		route = r.Path
	}
	s.Metrics.Request(route, methodLabel(c.Method()), status, time.Since(start))
	return err
}

// methodLabel is a constant for c.Method(), whose bytes fasthttp reuses
// for the connection's next request (a "POST" label kept as is would read
// "GETT" after a GET): a label outlives the request.
func methodLabel(m string) string {
	for _, k := range []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut,
		fiber.MethodPatch, fiber.MethodDelete, fiber.MethodOptions} {
		if m == k {
			return k
		}
	}
	return "other"
}

// localUnmatched marks a request no route took (the 404 fallback).
const localUnmatched = "unmatched"

// total is how many streams are open.
func (c *streamCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.n {
		n += k
	}
	return n
}
