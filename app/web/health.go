package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz answers while the process runs.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// readyz answers 200 when the database answers, 503 otherwise or while
// shutting down, so a load balancer stops sending traffic.
func (s *Server) readyz(c *fiber.Ctx) error {
	select {
	case <-s.stopping.Done():
		return c.Status(fiber.StatusServiceUnavailable).SendString("shutting down")
	default:
	}
	// Well inside the 2 s a load balancer's check may wait: a database
	// that hangs must show as not ready, not as a check that timed out.
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
	defer cancel()
	if err := s.DB.PingContext(ctx); err != nil {
		s.Log.Warn("readiness: database unreachable", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unreachable")
	}
	return c.SendString("ready")
}
