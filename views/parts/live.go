// Package parts holds fragments shared by pages, the SSE stream and the
// WebSocket: a page renders them in place, the live layer renders the same
// components again when something changes.
package parts

import (
	"time"

	"gavel/app/auction"
)

// Auction statuses, as package auction defines them.
const (
	StatusOpen      = auction.StatusOpen
	StatusSold      = auction.StatusSold
	StatusUnsold    = auction.StatusUnsold
	StatusCancelled = auction.StatusCancelled
)

// State is what the live fragments show of an auction.
type State struct {
	ID       int64
	Status   string // open, sold, unsold, cancelled
	Price    int64  // the leading bid, the start price before any, the final price once sold
	MinNext  int64  // the least acceptable next bid
	BidCount int
	EndsAt   time.Time
	Leader   string // the leading bidder's nick (the winner once sold); "" before the first bid

	// Extensions counts how often soft close moved the end.
	Extensions int
	// Window is the soft-close window: a bid this close to the end moves
	// it, up to Until. Zero for an auction that ends when scheduled.
	Window time.Duration
	Until  time.Time
	// Reason is why an operator cancelled the auction.
	Reason string
	// HasReserve: the seller set a reserve (never shown); ReserveMet: the
	// price reached it.
	HasReserve bool
	ReserveMet bool
	// BuyNow is the Buy It Now price, 0 when the auction has none;
	// BuyNowOpen says it is still offered.
	BuyNow     int64
	BuyNowOpen bool
	// EndReason is why it ended: auction.ReasonBought,
	// auction.ReasonReserveNotMet, or "".
	EndReason string
}

// Why an auction ended, as package auction names it.
const (
	ReasonBought        = auction.ReasonBought
	ReasonReserveNotMet = auction.ReasonReserveNotMet
)

// StateOf is what the fragments show of st, an auction's public state,
// under the site's soft-close rule sc.
func StateOf(st auction.State, sc auction.SoftClose) State {
	v := State{ID: st.ID, Status: st.Status, Price: st.Price, MinNext: st.MinNext(), BidCount: st.BidCount,
		EndsAt: st.EndsAt, Leader: st.Leader, Extensions: st.Extensions, Reason: st.Reason,
		HasReserve: st.HasReserve, ReserveMet: st.ReserveMet, BuyNow: st.BuyNow, BuyNowOpen: st.BuyNowOffered(), EndReason: st.EndReason}
	v.Window, v.Until = sc.For(st.SoftClose, st.Scheduled)
	return v
}

// InWindow reports whether a bid at now would move the end.
func (s State) InWindow(now time.Time) bool {
	return s.Window > 0 && s.PhaseAt(now) == PhaseOpen && s.EndsAt.Sub(now) < s.Window && s.EndsAt.Before(s.Until)
}

// Bid is one row of the bid history.
type Bid struct {
	ID      int64
	Bidder  string // nick
	Amount  int64
	Message string
	At      time.Time
	Auto    bool // placed by the site for the bidder's maximum
	// Purchase: the Buy It Now purchase that ended the auction.
	Purchase bool
	New      bool // just arrived: highlighted (bid-row--new)
}

// Swap says how a fragment is placed: InPage as part of a page, OOB as an
// htmx out-of-band swap of the element with the same id (WebSocket
// messages).
type Swap string

// Swap modes.
const (
	InPage Swap = ""
	OOB    Swap = "true"
)

// Phase is where an auction stands at a moment.
type Phase int

// Phases, in the order an auction goes through them.
const (
	PhaseOpen   Phase = iota // taking bids
	PhaseEnded               // past its end, not settled yet
	PhaseClosed              // sold, unsold or cancelled
)

// endingSoon is when the countdown turns to the accent colour.
const endingSoon = 5 * time.Minute

// PhaseAt returns the auction's phase at now.
func (s State) PhaseAt(now time.Time) Phase {
	switch {
	case s.Status != StatusOpen && s.Status != "":
		return PhaseClosed
	case !now.Before(s.EndsAt):
		return PhaseEnded
	default:
		return PhaseOpen
	}
}

// Left is the time left at now, rounded up to the second so that the
// countdown reads 00:00:00 only once the auction has ended.
func (s State) Left(now time.Time) time.Duration {
	d := s.EndsAt.Sub(now)
	if d <= 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

func countdownClass(s State, now time.Time) string {
	switch {
	case s.PhaseAt(now) != PhaseOpen:
		return "countdown countdown--ended"
	case s.Left(now) <= endingSoon:
		return "countdown countdown--ending"
	}
	return "countdown"
}

func resultClass(s State) string {
	switch s.Status {
	case StatusSold:
		return "result result--sold"
	case StatusUnsold, StatusCancelled:
		return "result result--unsold"
	}
	return "result"
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func phaseName(s State, now time.Time) string {
	switch s.PhaseAt(now) {
	case PhaseOpen:
		return "open"
	case PhaseEnded:
		return "ended"
	}
	return s.Status
}
