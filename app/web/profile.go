package web

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

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
	m.Prefs = s.prefsView(notify.Prefs{Lead: notify.DefaultLead, Mail: map[string]bool{}})
	if p, err := notify.GetPrefs(c.UserContext(), s.DB, u.ID); err == nil {
		m.Prefs = s.prefsView(p)
	}
	return m
}

func (s *Server) prefsView(p notify.Prefs) pages.Prefs {
	return pages.Prefs{Lead: p.Lead, Leads: notify.Leads, MailTo: p.MailTo, ProviderEmail: p.ProviderEmail,
		Mail: p.Mail, MailKinds: notify.MailKinds, Sends: s.Notify.Mails()}
}

// prefsUpdate saves the notification settings: the reminder lead, the
// mail address and the mails wanted. A refused field changes nothing. A
// plain form post redirects back; htmx gets the form alone.
func (s *Server) prefsUpdate(c *fiber.Ctx) error {
	u := currentUser(c)
	ctx := c.UserContext()
	p := printer(c)
	cur, err := notify.GetPrefs(ctx, s.DB, u.ID)
	if err != nil {
		return err
	}
	m := s.prefsView(cur)
	m.MailTo = strings.Clone(strings.TrimSpace(c.FormValue("mail_to")))
	kinds := map[string]bool{}
	for _, k := range notify.MailKinds {
		kinds[k] = c.FormValue("mail_"+k) == "1"
	}
	m.Mail = kinds
	lead, err := strconv.Atoi(c.FormValue("remind_before"))
	valid := err == nil && slices.Contains(notify.Leads, lead)
	if !valid {
		m.Error = p.T("profile.remind.bad")
	} else {
		m.Lead = lead
	}
	if to := m.MailTo; to != "" && !notify.ValidAddress(to) {
		m.MailError = p.T("profile.mail_to.bad")
	}
	if m.Error != "" || m.MailError != "" {
		v := s.view(c, p.T("profile.title"))
		if !isFragment(c) {
			pm := s.profileView(c, u)
			pm.Prefs = m
			return render(c, fiber.StatusUnprocessableEntity, pages.Profile(v, pm))
		}
		return render(c, fiber.StatusUnprocessableEntity, pages.PrefsForm(v, m))
	}
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := notify.SetLead(ctx, tx, u.ID, lead); err != nil {
			return err
		}
		if err := notify.SetMail(ctx, tx, u.ID, m.MailTo, kinds); err != nil {
			return err
		}
		return notify.SetLang(ctx, tx, u.ID, p.Lang())
	})
	if err != nil {
		return err
	}
	if !isFragment(c) {
		return c.Redirect("/me/profile?saved=1", fiber.StatusSeeOther)
	}
	m.Saved = true
	return render(c, fiber.StatusOK, pages.PrefsForm(s.view(c, p.T("profile.title")), m))
}

func (s *Server) renderProfile(c *fiber.Ctx, status int, m pages.ProfileView) error {
	v := s.view(c, printer(c).T("profile.title"))
	// The header shows the nickname too: htmx gets it out of band.
	return page(c, status, pages.Profile(v, m), templ.Join(pages.ProfileForm(v, m), layout.UserBox(v, true)))
}
