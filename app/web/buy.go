package web

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gavel/app/auction"
	"gavel/app/wallet"
	"gavel/views"
	"gavel/views/pages"
)

// buyConfirm is the Buy It Now confirmation of auction id for the signed-in
// user, as the auction stands now, with the reason it cannot be used (a
// refusal shown, none when it can) and the status that answers with.
func (s *Server) buyConfirm(c *fiber.Ctx, id int64) (pages.BuyConfirm, int, error) {
	ctx := c.UserContext()
	a, err := auction.Get(ctx, s.DB, id)
	if errors.Is(err, auction.ErrNotFound) {
		return pages.BuyConfirm{}, 0, fiber.ErrNotFound
	}
	if err != nil {
		return pages.BuyConfirm{}, 0, err
	}
	if a.BuyNow == 0 {
		return pages.BuyConfirm{}, 0, fiber.ErrNotFound // no Buy It Now to confirm
	}
	u := currentUser(c)
	st := a.State()
	b := pages.BuyConfirm{ID: id, Title: a.Title, Price: a.BuyNow}
	var why *auction.Error
	switch {
	case u.ID == a.SellerID:
		why = auction.ErrBuyOwn
	case a.EndReason == auction.ReasonBought:
		why = auction.ErrBought
	case st.Closed() || !s.Now().Before(a.EndsAt):
		why = auction.ErrEnded
	case !st.BuyNowOffered():
		why = auction.ErrBuyGone
	}
	if why != nil {
		b.Error = printer(c).T(why.Key())
		return b, bidStatus(why), nil
	}
	sum, err := wallet.Summarize(ctx, s.DB, u.ID)
	if err != nil {
		return b, 0, err
	}
	b.Offered, b.Available = true, sum.Available()
	if a.LeaderID == u.ID {
		// Their own maximum here is held already, and goes to the price.
		if m, err := auction.MaxOf(ctx, s.DB, id, u.ID); err == nil {
			b.Available += m
		}
	}
	return b, fiber.StatusOK, nil
}

// buyForm is the confirmation step of Buy It Now: a dialog in the room
// with htmx, a page of its own without.
func (s *Server) buyForm(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	b, status, err := s.buyConfirm(c, id)
	if err != nil {
		return err
	}
	v := s.view(c, printer(c).T("buy.title"))
	return page(c, status, pages.BuyPage(v, b), pages.BuyDialog(v, b))
}

// buyCreate buys the auction at its Buy It Now price, through the same
// per-auction writer as bids. Accepted, the auction is sold and settled
// before this answers, and the room (reloaded) shows it; every other open
// page learns it over its live streams. A refusal answers with the
// confirmation again, the reason and a 4xx, and changes nothing.
func (s *Server) buyCreate(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	p := printer(c)
	price, perr := strconv.ParseInt(strings.TrimSpace(c.FormValue("price")), 10, 64)
	if perr != nil {
		err = auction.ErrInvalidAmount
	} else {
		// Judged and committed even if the client goes away: the answer
		// must say what happened.
		_, err = s.Bidder.BuyNow(context.WithoutCancel(c.UserContext()), id, u.ID, price, strings.Clone(c.FormValue("key")))
	}
	var ae *auction.Error
	if errors.As(err, &ae) {
		b, _, berr := s.buyConfirm(c, id)
		if berr != nil {
			return berr
		}
		b.Error = p.T(ae.Key(), ae.Args(p.Money)...)
		v := s.view(c, p.T("buy.title"))
		return page(c, bidStatus(err), pages.BuyPage(v, b), pages.BuyDialog(v, b))
	}
	if err != nil {
		return err
	}
	s.maxes.forget(id, u.ID)
	return redirect(c, views.AuctionURL(id)+"?bought=1")
}
