package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/gofiber/fiber/v2"

	"gavel/app/auth"
	"gavel/app/notify"
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
	m := pages.ProfileView{Nick: u.Nick, Avatar: u.AvatarURL, Provider: providerLabel(c, u.Provider)}
	m.Prefs = pages.Prefs{Lead: notify.DefaultLead, Leads: notify.Leads}
	if lead, err := notify.Lead(c.UserContext(), s.DB, u.ID); err == nil {
		m.Prefs.Lead = lead
	}
	return m
}

// prefsUpdate saves the notification settings. A plain form post
// redirects back; htmx gets the form alone.
func (s *Server) prefsUpdate(c *fiber.Ctx) error {
	u := currentUser(c)
	m := pages.Prefs{Leads: notify.Leads}
	lead, err := strconv.Atoi(c.FormValue("remind_before"))
	if err == nil {
		err = notify.SetLead(c.UserContext(), s.DB, u.ID, lead)
	}
	if err != nil {
		if !errors.Is(err, notify.ErrBadLead) && !errors.Is(err, strconv.ErrSyntax) && !errors.Is(err, strconv.ErrRange) {
			return err
		}
		v := s.view(c, printer(c).T("profile.title"))
		m.Lead, m.Error = notify.DefaultLead, v.T("profile.remind.bad")
		if cur, err := notify.Lead(c.UserContext(), s.DB, u.ID); err == nil {
			m.Lead = cur
		}
		if !isFragment(c) {
			pm := s.profileView(c, u)
			pm.Prefs = m
			return render(c, fiber.StatusUnprocessableEntity, pages.Profile(v, pm))
		}
		return render(c, fiber.StatusUnprocessableEntity, pages.PrefsForm(v, m))
	}
	if !isFragment(c) {
		return c.Redirect("/me/profile?saved=1", fiber.StatusSeeOther)
	}
	m.Lead, m.Saved = lead, true
	return render(c, fiber.StatusOK, pages.PrefsForm(s.view(c, printer(c).T("profile.title")), m))
}

func (s *Server) renderProfile(c *fiber.Ctx, status int, m pages.ProfileView) error {
	v := s.view(c, printer(c).T("profile.title"))
	// The header shows the nickname too: htmx gets it out of band.
	return page(c, status, pages.Profile(v, m), templ.Join(pages.ProfileForm(v, m), layout.UserBox(v, true)))
}
