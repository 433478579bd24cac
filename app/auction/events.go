package auction

import "time"

// Channel is the PostgreSQL NOTIFY channel that carries auction events from
// the transaction that made them to every instance's live layer.
const Channel = "gavel_events"

// Event kinds.
const (
	EventBid    = "bid"    // a bid was accepted
	EventClosed = "closed" // the auction was settled (sold or unsold) or cancelled
)

// Event is the JSON payload of one notification. It carries everything the
// live layer needs to render its fragments without reading the database,
// and never a maximum: every instance's live layer and logs see it.
// Payloads stay far below NOTIFY's 8000-byte limit: nick ≤ 20 and message ≤
// 100 characters.
type Event struct {
	Kind      string `json:"kind"`
	AuctionID int64  `json:"auction_id"`
	SellerID  int64  `json:"seller_id"`
	Title     string `json:"title,omitempty"` // for personal notices

	// The auction's state after the event.
	Status     string    `json:"status"` // open, sold, unsold, cancelled
	Price      int64     `json:"price"`  // current price (final price when sold)
	MinNext    int64     `json:"min_next"`
	BidCount   int       `json:"bid_count"`
	EndsAt     time.Time `json:"ends_at"`
	StartPrice int64     `json:"start_price,omitempty"`
	// Scheduled is the end as listed; soft close (when SoftClose) has
	// moved EndsAt Extensions times.
	Scheduled  time.Time `json:"scheduled,omitzero"`
	Extensions int       `json:"extensions,omitempty"`
	SoftClose  bool      `json:"soft_close,omitempty"`
	// Reason is why an operator cancelled the auction (shown to bidders).
	Reason string `json:"reason,omitempty"`
	// The reserve's standing (never its amount), the Buy It Now price, and
	// why the auction ended (closed events: ReasonBought,
	// ReasonReserveNotMet).
	HasReserve bool   `json:"has_reserve,omitempty"`
	ReserveMet bool   `json:"reserve_met,omitempty"`
	BuyNow     int64  `json:"buy_now,omitempty"`
	EndReason  string `json:"end_reason,omitempty"`
	LeaderID   int64  `json:"leader_id,omitempty"`
	Leader     string `json:"leader,omitempty"` // leader's nick

	// Bid events: the accepted bid, and who it outbid (0 when none).
	BidID      int64     `json:"bid_id,omitempty"`
	BidderID   int64     `json:"bidder_id,omitempty"`
	Bidder     string    `json:"bidder,omitempty"`
	Amount     int64     `json:"amount,omitempty"`
	Auto       bool      `json:"auto,omitempty"`     // an automatic bid for a maximum
	Purchase   bool      `json:"purchase,omitempty"` // the Buy It Now purchase
	Message    string    `json:"message,omitempty"`
	At         time.Time `json:"at,omitzero"`
	PrevLeader int64     `json:"prev_leader,omitempty"`

	// More says that another event of the same transaction follows, so
	// that a listener can apply the transaction as one change.
	More bool `json:"more,omitempty"`
}
