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
	s.Metrics.Request(route, c.Method(), status, time.Since(start))
	return err
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
