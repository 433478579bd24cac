package web

import (
	"errors"
	"strings"

	"github.com/a-h/templ"

	"github.com/gofiber/fiber/v2"

	"gavel/app/auth"
	"gavel/views/layout"
	"gavel/views/pages"
)

// profileShow is the signed-in user's profile.
func (s *Server) profileShow(c *fiber.Ctx) error {
	u := currentUser(c)
	m := s.profileView(c, u)
	m.Saved = c.Query("saved") == "1"
	return s.renderProfile(c, fiber.StatusOK, m)
}

// profileUpdate changes the nickname. A plain form post redirects back;
// htmx gets the form alone, with the message in it.
func (s *Server) profileUpdate(c *fiber.Ctx) error {
	u := currentUser(c)
	nick, err := auth.SetNick(c.UserContext(), s.DB, u.ID, strings.Clone(c.FormValue("nick")))
	s.Cache.ForgetUser(u.ID)
	m := s.profileView(c, u)
	m.Nick = nick
	if err != nil {
		var known bool
		for _, e := range []error{auth.ErrNickLength, auth.ErrNickChars, auth.ErrNickStart, auth.ErrNickTaken} {
			known = known || errors.Is(err, e)
		}
		if !known {
			return err
		}
		m.Error = printer(c).T(nickErrorKey(err))
		return s.renderProfile(c, fiber.StatusUnprocessableEntity, m)
	}
	if !isFragment(c) {
		return c.Redirect("/me/profile?saved=1", fiber.StatusSeeOther)
	}
	u.Nick = nick
	m.Saved = true
	return s.renderProfile(c, fiber.StatusOK, m)
}

func (s *Server) profileView(c *fiber.Ctx, u *auth.User) pages.ProfileView {
	return pages.ProfileView{Nick: u.Nick, Avatar: u.AvatarURL, Provider: providerLabel(c, u.Provider)}
}

func (s *Server) renderProfile(c *fiber.Ctx, status int, m pages.ProfileView) error {
	v := s.view(c, printer(c).T("profile.title"))
	// The header shows the nickname too: htmx gets it out of band.
	return page(c, status, pages.Profile(v, m), templ.Join(pages.ProfileForm(v, m), layout.UserBox(v, true)))
}
