package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gavel/app/auth"
	"gavel/app/moderation"
	"gavel/views/pages"
)

// adminMax bounds each list of the operators' page.
const adminMax = 50

// requireAdmin lets operators (ADMINS) through; anyone else signed in gets
// 403. Mount it after requireUser.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	if u := currentUser(c); u == nil || !s.Config.IsAdmin(u.Provider, u.ProviderUserID) {
		return refuse(fiber.StatusForbidden, "admin.forbidden")
	}
	return c.Next()
}

// suspendedOut signs a suspended user out: their session no longer names
// anyone, so they can neither bid nor list.
func suspendedOut(c *fiber.Ctx) error {
	if u, _ := c.Locals(localUser).(*auth.User); u != nil && u.SuspendedAt != nil {
		c.Locals(localUser, nil)
	}
	return c.Next()
}

// adminShow is the operators' page: search, results, log.
func (s *Server) adminShow(c *fiber.Ctx) error {
	return s.renderAdmin(c, fiber.StatusOK, "")
}

func (s *Server) renderAdmin(c *fiber.Ctx, status int, refusal string) error {
	a := pages.Admin{Query: strings.Clone(c.Query("q")), Error: refusal}
	var err error
	if a.Users, a.Auctions, err = moderation.Search(c.UserContext(), s.DB, a.Query, adminMax); err != nil {
		return err
	}
	if a.Log, err = moderation.Log(c.UserContext(), s.DB, adminMax); err != nil {
		return err
	}
	v := s.view(c, printer(c).T("admin.title"))
	v.NoIndex = true
	return render(c, status, pages.AdminPage(v, a))
}

// adminAction runs one action on the :id of the path and comes back to
// the page, or shows the page with the refusal.
func (s *Server) adminAction(do func(c *fiber.Ctx, admin, id int64, reason string) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := strconv.ParseInt(c.Params("id"), 10, 64)
		if err != nil || id <= 0 {
			return fiber.ErrNotFound
		}
		err = do(c, currentUser(c).ID, id, strings.Clone(c.FormValue("reason")))
		var me *moderation.Error
		if errors.As(err, &me) {
			status := fiber.StatusUnprocessableEntity
			if errors.Is(err, moderation.ErrNotFound) {
				status = fiber.StatusNotFound
			} else if errors.Is(err, moderation.ErrFinished) || errors.Is(err, moderation.ErrSellerShort) {
				status = fiber.StatusConflict
			}
			return s.renderAdmin(c, status, printer(c).T(me.Key()))
		}
		if err != nil {
			return err
		}
		s.Sweeper.Wake()
		return c.Redirect("/admin", fiber.StatusSeeOther)
	}
}

func (s *Server) adminRoutes() {
	g := s.app.Group("/admin", requireUser, s.requireAdmin)
	g.Get("/", s.adminShow)
	g.Post("/auctions/:id/cancel", s.adminAction(func(c *fiber.Ctx, admin, id int64, reason string) error {
		return moderation.Cancel(c.UserContext(), s.DB, admin, id, reason)
	}))
	g.Post("/auctions/:id/hide", s.adminAction(func(c *fiber.Ctx, admin, id int64, reason string) error {
		return moderation.SetHidden(c.UserContext(), s.DB, admin, id, true, reason)
	}))
	g.Post("/auctions/:id/unhide", s.adminAction(func(c *fiber.Ctx, admin, id int64, reason string) error {
		return moderation.SetHidden(c.UserContext(), s.DB, admin, id, false, reason)
	}))
	g.Post("/users/:id/suspend", s.adminAction(func(c *fiber.Ctx, admin, id int64, reason string) error {
		return moderation.Suspend(c.UserContext(), s.DB, admin, id, reason, c.FormValue("cancel_leading") != "")
	}))
	g.Post("/users/:id/unsuspend", s.adminAction(func(c *fiber.Ctx, admin, id int64, reason string) error {
		return moderation.Unsuspend(c.UserContext(), s.DB, admin, id, reason)
	}))
}
