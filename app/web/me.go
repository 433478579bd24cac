package web

import (
	"github.com/gofiber/fiber/v2"

	"gavel/app/auction"
	"gavel/app/notify"
	"gavel/views"
	"gavel/views/pages"
)

func (s *Server) mine(a *auction.Auction) pages.Mine {
	return pages.Mine{ID: a.ID, Title: a.Title, State: s.stateOf(a), SettledAt: a.SettledAt}
}

// myWon lists the auctions the signed-in user won, with the price paid.
func (s *Server) myWon(c *fiber.Ctx) error {
	list, err := auction.MyWon(c.UserContext(), s.DB, currentUser(c).ID)
	if err != nil {
		return err
	}
	rows := make([]pages.Mine, 0, len(list))
	for i := range list {
		rows = append(rows, s.mine(&list[i]))
	}
	v := s.view(c, printer(c).T("me.won.title"))
	return render(c, fiber.StatusOK, pages.MyWon(v, rows))
}

// mySelling is the seller's dashboard: every listing, or those running,
// sold or unsold (unsold and cancelled: the relistable ones), each with
// its live countdown, price and bids, and what the seller may still do.
func (s *Server) mySelling(c *fiber.Ctx) error {
	filter := c.Query("status")
	statuses, ok := sellingFilters[filter]
	if !ok {
		return refuse(fiber.StatusBadRequest, "selling.bad_filter")
	}
	list, err := auction.MySelling(c.UserContext(), s.DB, currentUser(c).ID, statuses...)
	if err != nil {
		return err
	}
	v := s.view(c, printer(c).T("me.selling.title"))
	v.Summaries = true
	ids := make([]int64, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	watchers, err := notify.WatcherCounts(c.UserContext(), s.DB, ids)
	if err != nil {
		return err
	}
	d := pages.Selling{Filter: filter, Now: s.Now(), Rows: make([]pages.Mine, 0, len(list))}
	for i := range list {
		a := &list[i]
		m := s.mine(a)
		m.Thumb = views.ImageURL(a.ImageID, true)
		running := a.Status == auction.StatusOpen && d.Now.Before(a.EndsAt)
		m.CanEdit = running && a.BidCount == 0
		m.CanAddend = running && a.BidCount > 0
		m.RelistedAs = a.RelistedAs
		m.CanRelist = relistable(a)
		m.Watchers = watchers[a.ID]
		d.Rows = append(d.Rows, m)
		if a.Status == auction.StatusOpen {
			v.Watch = append(v.Watch, a.ID)
		}
	}
	return render(c, fiber.StatusOK, pages.MySelling(v, d))
}

// myBids lists the auctions the user bid on and where they stand.
func (s *Server) myBids(c *fiber.Ctx) error {
	list, err := auction.MyBids(c.UserContext(), s.DB, currentUser(c).ID)
	if err != nil {
		return err
	}
	v := s.view(c, printer(c).T("me.bids.title"))
	rows := make([]pages.Mine, 0, len(list))
	for i := range list {
		m := s.mine(&list[i].Auction)
		m.MyMax, m.Standing = list[i].MyMax, list[i].Standing
		rows = append(rows, m)
		if list[i].Status == auction.StatusOpen {
			v.Watch = append(v.Watch, list[i].ID)
		}
	}
	return render(c, fiber.StatusOK, pages.MyBids(v, rows, s.Now()))
}
