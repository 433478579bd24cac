package web

// The watch list and the notifications page: POST /auctions/:id/watch,
// GET /me/watching, GET /me/notifications, POST /me/notifications/read.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"gavel/app/auction"
	"gavel/app/notify"
	"gavel/views"
	"gavel/views/pages"
	"gavel/views/parts"
)

// bell fills in the header's unread count and the newest notification's
// id for a signed-in user. A failed read shows no count rather than
// failing the page.
func (s *Server) bell(c *fiber.Ctx, v *views.Ctx) {
	if v.User == nil {
		return
	}
	mine, err := s.personal.get(c.UserContext(), s.DB, v.User.ID)
	if err != nil {
		s.Log.Warn("bell", "request_id", requestID(c), "err", err)
		return
	}
	v.Unread, v.LastNote = mine.unread, mine.last
}

// watchToggle sets whether the signed-in user watches the auction (the
// form says which: watch=1 or watch=0, so a repeated post changes nothing
// more). htmx gets the toggle back; a plain post goes back to next.
func (s *Server) watchToggle(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	p := printer(c)
	var on bool
	switch c.FormValue("watch") {
	case "1":
		on = true
	case "0":
	default:
		return fiber.ErrBadRequest
	}
	next := views.AuctionURL(id)
	if raw := c.FormValue("next"); raw != "" {
		next = SafeNext(raw)
	}
	u := currentUser(c)
	watching, err := s.Notify.Watch(c.UserContext(), s.DB, u.ID, id, on)
	s.personal.forget(u.ID) // this instance's next page shows it, not waiting for the notice
	var status int
	var msg string
	switch {
	case errors.Is(err, notify.ErrNoAuction):
		return fiber.ErrNotFound
	case errors.Is(err, notify.ErrTooManyWatches):
		status, msg = fiber.StatusUnprocessableEntity, p.T("watch.too_many", notify.MaxWatches)
	case errors.Is(err, notify.ErrOwnAuction):
		status, msg = fiber.StatusUnprocessableEntity, p.T("watch.own")
	case err != nil:
		return err
	}
	if msg == "" && !isFragment(c) {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	if msg != "" && !isFragment(c) {
		v := s.view(c, p.T("error.title"))
		e := pages.ErrorView{Status: status, Message: msg, RequestID: requestID(c)}
		return render(c, status, pages.Error(v, e))
	}
	if status == 0 {
		status = fiber.StatusOK
	}
	if msg != "" {
		// Refused: the toggle keeps the state it had.
		watching = !on
	}
	return render(c, status, parts.WatchButton(p, csrfToken(c), id, watching, next, msg))
}

// myWatching lists the auctions the user watches: open ones by end time,
// then the recently ended.
func (s *Server) myWatching(c *fiber.Ctx) error {
	list, err := auction.Watched(c.UserContext(), s.DB, currentUser(c).ID)
	if err != nil {
		return err
	}
	v := s.view(c, printer(c).T("me.watching.title"))
	var open, ended []pages.Mine
	for i := range list {
		if list[i].Status == auction.StatusOpen {
			open = append(open, s.mine(&list[i]))
			v.Watch = append(v.Watch, list[i].ID)
		} else {
			ended = append(ended, s.mine(&list[i]))
		}
	}
	return render(c, fiber.StatusOK, pages.WatchingPage(v, open, ended, s.Now()))
}

// myNotifications is one page of the user's notifications, newest first.
func (s *Server) myNotifications(c *fiber.Ctx) error {
	before, err := strconv.ParseInt(c.Query("before", "0"), 10, 64)
	if err != nil || before < 0 {
		return fiber.ErrBadRequest
	}
	list, more, err := notify.Page(c.UserContext(), s.DB, currentUser(c).ID, before)
	if err != nil {
		return err
	}
	m := pages.Notifications{Items: list, Marked: c.Query("marked") == "1"}
	if more {
		m.Older = list[len(list)-1].ID
	}
	v := s.view(c, printer(c).T("notes.title"))
	m.Upto = v.LastNote
	return render(c, fiber.StatusOK, pages.NotificationsPage(v, m))
}

// notificationsRead marks the user's notifications read, up to the newest
// the page showed (upto), and goes back to the page.
func (s *Server) notificationsRead(c *fiber.Ctx) error {
	upto, err := strconv.ParseInt(c.FormValue("upto", "0"), 10, 64)
	if err != nil || upto < 0 {
		return fiber.ErrBadRequest
	}
	_, err = notify.MarkAllRead(c.UserContext(), s.DB, currentUser(c).ID, upto)
	s.personal.forget(currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.Redirect("/me/notifications?marked=1", fiber.StatusSeeOther)
}

// roomWatch fills in the room's watch toggle (a signed-in bidder) or its
// watcher count (the seller).
func (s *Server) roomWatch(c *fiber.Ctx, r *pages.Room) error {
	u := currentUser(c)
	if u == nil {
		return nil
	}
	ctx := c.UserContext()
	if r.Viewer == pages.Seller || r.Viewer == pages.SellerCan {
		counts, err := notify.WatcherCounts(ctx, s.DB, []int64{r.ID})
		if err != nil {
			return err
		}
		r.Watch = pages.RoomWatch{Count: true, Watchers: counts[r.ID]}
		return nil
	}
	mine, err := s.personal.get(ctx, s.DB, u.ID)
	if err != nil {
		return err
	}
	r.Watch = pages.RoomWatch{Toggle: true, Watching: mine.watched[r.ID]}
	return nil
}

// unsubscribe turns off the kind of mail a signed link names. It needs no
// session: the link is the proof. Doing it again changes nothing.
func (s *Server) unsubscribe(c *fiber.Ctx) error {
	p := printer(c)
	v := s.view(c, p.T("unsub.title"))
	v.NoIndex = true
	user, kind, ok := notify.ParseUnsubscribe(s.MailKey, c.Query("t"))
	if !ok {
		return render(c, fiber.StatusBadRequest, pages.Unsubscribe(v, "", false))
	}
	if err := notify.Unsubscribe(c.UserContext(), s.DB, user, kind); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, pages.Unsubscribe(v, p.T(pages.MailKindKeys[kind]), true))
}

// devMail is the development letter opener: the mails that would have
// been sent (development only: the route is not registered in production).
func (s *Server) devMail(c *fiber.Ctx) error {
	list, err := notify.Latest(c.UserContext(), s.DB, 50)
	if err != nil {
		return err
	}
	v := s.view(c, printer(c).T("devmail.title"))
	v.NoIndex = true
	return render(c, fiber.StatusOK, pages.DevMail(v, list))
}

// cardWatches fills the watch slots of grid, l's cards rendered once for
// every visitor (nil: not kept), with the signed-in visitor's toggles,
// themselves kept rendered in r when it is not nil. When grid is kept, so
// are the cards with the toggles as every visitor watching the same of
// them sees them: they are returned as shared, with tokenHole for the
// visitor's token, instead of a component.
func (s *Server) cardWatches(c *fiber.Ctx, v views.Ctx, l pages.List, grid []byte, r *renders) (_ templ.Component, shared *spliced, _ error) {
	if v.User == nil || len(l.Cards) == 0 {
		return l.Grid, nil, nil
	}
	kept := grid != nil
	if grid == nil {
		var buf bytes.Buffer
		if err := pages.Cards(v, l.Cards, l.Now).Render(c.UserContext(), &buf); err != nil {
			return nil, nil, err
		}
		grid = buf.Bytes()
	}
	mine, err := s.personal.get(c.UserContext(), s.DB, v.User.ID)
	if err != nil {
		return nil, nil, err
	}
	watched := mine.watched
	lang := string(v.P.Lang())
	// fill writes the grid with each toggle, and token in their forms.
	fill := func(ctx context.Context, w io.Writer, token string) error {
		rest := grid
		for {
			before, id, after, ok := views.CutWatchSlot(rest)
			if _, err := w.Write(before); err != nil || !ok {
				return err
			}
			rest = after
			on := watched[id]
			pieces, err := r.watchButton(buttonKey{lang, v.Path, id, on}, func() ([]byte, error) {
				var buf bytes.Buffer
				err := parts.WatchButton(v.P, tokenHole, id, on, v.Path, "").Render(ctx, &buf)
				return buf.Bytes(), err
			})
			if err != nil {
				return err
			}
			if pieces == nil {
				if err := parts.WatchButton(v.P, token, id, on, v.Path, "").Render(ctx, w); err != nil {
					return err
				}
				continue
			}
			for i, p := range pieces {
				if i > 0 {
					io.WriteString(w, token)
				}
				w.Write(p)
			}
		}
	}
	if kept {
		var set []byte // the indexes of the watched cards
		for i, card := range l.Cards {
			if watched[card.ID] {
				set = append(set, byte(i))
			}
		}
		sp, err := r.watchedGrid(gridKey{lang, v.Path, string(set)}, l.Now.Unix(), func() ([]byte, error) {
			var buf bytes.Buffer
			err := fill(c.UserContext(), &buf, tokenHole)
			return buf.Bytes(), err
		})
		if err != nil || sp != nil {
			return nil, sp, err
		}
	}
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error { return fill(ctx, w, v.CSRF) }), nil, nil
}
