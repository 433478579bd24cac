package web

import (
	"github.com/gofiber/fiber/v2"

	"gavel/app/auction"
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

// mySelling lists the user's listings with their status and result.
func (s *Server) mySelling(c *fiber.Ctx) error {
	list, err := auction.MySelling(c.UserContext(), s.DB, currentUser(c).ID)
	if err != nil {
		return err
	}
	v := s.view(c, printer(c).T("me.selling.title"))
	rows := make([]pages.Mine, 0, len(list))
	for i := range list {
		rows = append(rows, s.mine(&list[i]))
		if list[i].Status == auction.StatusOpen {
			v.Watch = append(v.Watch, list[i].ID)
		}
	}
	return render(c, fiber.StatusOK, pages.MySelling(v, rows, s.Now()))
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
