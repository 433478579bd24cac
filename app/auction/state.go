package auction

import "time"

// State is what anyone may know of an auction at a moment: everything but
// maximums. Pages, the live layer's cache and events all carry it; views
// map it to what they show.
type State struct {
	ID         int64
	SellerID   int64
	Title      string
	Status     string
	StartPrice int64
	Price      int64 // the price; the final price once sold
	BidCount   int
	Leader     string // the leader's nick (the winner once sold); "" before any bid
	EndsAt     time.Time
	// Scheduled is the end as listed; soft close (when SoftClose) moves
	// EndsAt, Extensions times so far.
	Scheduled  time.Time
	Extensions int
	SoftClose  bool
	// Reason is why an operator cancelled it ("" otherwise).
	Reason string
	// HasReserve: the seller set a reserve; ReserveMet: the price reached
	// it. The reserve itself is the seller's alone.
	HasReserve bool
	ReserveMet bool
	// BuyNow is the Buy It Now price (0: none); whether it is still offered
	// is BuyNowOffered.
	BuyNow int64
	// EndReason is why it ended, when not plainly by time: ReasonBought or
	// ReasonReserveNotMet ("" otherwise).
	EndReason string
}

// MinNext is the least maximum a bidder who does not lead may submit.
func (s State) MinNext() int64 { return minNext(s.BidCount, s.StartPrice, s.Price) }

// BuyNowOffered reports whether Buy It Now may be used now.
func (s State) BuyNowOffered() bool {
	st := s.Status
	if st == "" {
		st = StatusOpen
	}
	return buyNowOffered(st, s.EndReason, s.BuyNow, s.HasReserve, s.BidCount, s.ReserveMet)
}

// Closed reports whether the auction is sold, unsold or cancelled.
func (s State) Closed() bool { return s.Status != StatusOpen && s.Status != "" }

// State is the auction's public state; once sold, at its final price and
// with its winner.
func (a *Auction) State() State {
	st := State{ID: a.ID, SellerID: a.SellerID, Title: a.Title, Status: a.Status, StartPrice: a.StartPrice,
		Price: a.CurrentPrice, BidCount: a.BidCount, Leader: a.Leader, EndsAt: a.EndsAt,
		Scheduled: a.ScheduledEnd, Extensions: a.Extensions, SoftClose: a.SoftClose, Reason: a.CancelReason,
		HasReserve: a.HasReserve, ReserveMet: a.ReserveMet, BuyNow: a.BuyNow, EndReason: a.EndReason}
	if a.Status == StatusSold {
		st.Price, st.Leader = a.FinalPrice, a.Winner
	}
	return st
}

// State is the state the event leaves its auction in.
func (e *Event) State() State {
	st := State{ID: e.AuctionID, SellerID: e.SellerID, Title: e.Title, Status: e.Status, StartPrice: e.StartPrice,
		Price: e.Price, BidCount: e.BidCount, Leader: e.Leader, EndsAt: e.EndsAt,
		Scheduled: e.Scheduled, Extensions: e.Extensions, SoftClose: e.SoftClose, Reason: e.Reason,
		HasReserve: e.HasReserve, ReserveMet: e.ReserveMet, BuyNow: e.BuyNow, EndReason: e.EndReason}
	if st.Status == "" {
		st.Status = StatusOpen
	}
	return st
}

// event is an event of kind about l, carrying l's state.
func (l *Lot) event(kind string) Event {
	return Event{Kind: kind, AuctionID: l.ID, SellerID: l.SellerID, Title: l.Title, Status: l.Status,
		StartPrice: l.StartPrice, Price: l.Price, MinNext: l.MinNext(), BidCount: l.BidCount,
		EndsAt: l.EndsAt, Scheduled: l.ScheduledEnd, Extensions: l.Extensions, SoftClose: l.SoftClose,
		LeaderID: l.LeaderID, HasReserve: l.Reserve > 0, ReserveMet: l.ReserveMet(), BuyNow: l.BuyNow}
}
