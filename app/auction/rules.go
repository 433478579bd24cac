// Package auction is Gavel's auction engine as plain Go: the rules of
// selling and bidding, the batched bid writer, settlement, and the queries
// behind the pages. It speaks to PostgreSQL through bun and knows nothing of
// HTTP or HTML; refusals carry i18n message keys for the web layer to show.
package auction

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Money bounds, in won. The schema caps every amount at MaxAmount so that
// sums of many stay far inside bigint.
const (
	MinAmount int64 = 1
	MaxAmount int64 = 1_000_000_000_000
)

// Text limits, in characters (the schema's CHECKs count the same way).
const (
	MaxTitle       = 100
	MaxDescription = 2000
	MaxMessage     = 100
)

// Auction statuses.
const (
	StatusOpen      = "open"
	StatusSold      = "sold"
	StatusUnsold    = "unsold"
	StatusCancelled = "cancelled"
)

// Why an auction ended, when it was not the plain end of its time: the
// auctions.end_reason column.
const (
	// ReasonReserveNotMet: it ended with bids, all below the reserve, unsold.
	ReasonReserveNotMet = "reserve_not_met"
	// ReasonBought: a purchase at the Buy It Now price ended it, sold.
	ReasonBought = "bought"
)

// reserveMet reports whether a price reached the reserve (none: false).
func reserveMet(reserve int64, bidCount int, price int64) bool {
	return reserve > 0 && bidCount > 0 && price >= reserve
}

// buyNowOffered is eBay's rule for showing Buy It Now: an open auction with
// a price for it, before any bid, or with a reserve until it is met.
func buyNowOffered(status, endReason string, buyNow int64, hasReserve bool, bidCount int, met bool) bool {
	if status != StatusOpen || endReason != "" || buyNow <= 0 {
		return false
	}
	if hasReserve {
		return !met
	}
	return bidCount == 0
}

// MinBuyNow is the least Buy It Now price a start price allows: 30 % over
// it, rounded up (eBay's rule).
func MinBuyNow(start int64) int64 { return (start*13 + 9) / 10 }

// DefaultDuration is the duration the sell form preselects.
const DefaultDuration = 24 * time.Hour

// Increment is the smallest raise over a leading bid of price. The table
// rises with the price like eBay's: each row applies while the price is
// below its bound.
func Increment(price int64) int64 {
	increments := [...]struct{ below, step int64 }{
		{10_000, 500},
		{50_000, 1_000},
		{100_000, 2_000},
		{500_000, 5_000},
		{1_000_000, 10_000},
		{5_000_000, 50_000},
		{10_000_000, 100_000},
		{50_000_000, 500_000},
	}
	for _, r := range increments {
		if price < r.below {
			return r.step
		}
	}
	return 1_000_000
}

// minNext is the least acceptable next bid: the start price before any bid,
// else the leading bid plus its increment.
func minNext(bidCount int, startPrice, currentPrice int64) int64 {
	if bidCount == 0 {
		return startPrice
	}
	return currentPrice + Increment(currentPrice)
}

// Durations lists the auction lengths a seller may choose, shortest first.
// short is the configured extra one (config.ShortAuction; 0 for none), for
// development and tests.
func Durations(short time.Duration) []time.Duration {
	d := []time.Duration{10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour, 168 * time.Hour}
	if short > 0 && short < d[0] {
		d = append([]time.Duration{short}, d...)
	}
	return d
}

// Error is an action refused by a rule. Its text is for logs; users see the
// message named by Key, formatted with Args.
type Error struct {
	key string
	// Amount is the money the message shows: the minimum acceptable bid for
	// ErrTooLow and ErrBelowStart, the available funds for
	// ErrInsufficientFunds, the bidder's own maximum for ErrMaxNotHigher;
	// zero otherwise.
	Amount int64
}

// Error describes the refusal for logs.
func (e *Error) Error() string {
	if e.Amount != 0 {
		return fmt.Sprintf("auction: %s (%d)", e.key, e.Amount)
	}
	return "auction: " + e.key
}

// Key is the i18n message key of the refusal.
func (e *Error) Key() string { return e.key }

// Is makes errors.Is(err, ErrTooLow) true for a refusal of that kind
// whatever amount it carries.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.key == e.key
}

// Args returns the message's arguments, with money formatted by money (the
// request's i18n Printer.Money): p.T(e.Key(), e.Args(p.Money)...).
func (e *Error) Args(money func(int64) string) []any {
	switch e.key {
	case ErrTooLow.key, ErrBelowStart.key, ErrInsufficientFunds.key, ErrMaxNotHigher.key, ErrBuyChanged.key:
		return []any{money(e.Amount)}
	}
	return nil
}

func withAmount(kind *Error, amount int64) *Error { return &Error{key: kind.key, Amount: amount} }

// Refusals. Match them with errors.Is; read the amount with errors.As.
var (
	ErrNotFound      = &Error{key: "bid.not_found"}
	ErrOwnAuction    = &Error{key: "bid.own_auction"}
	ErrEnded         = &Error{key: "bid.ended"}
	ErrInvalidAmount = &Error{key: "bid.amount_invalid"}
	ErrBelowStart    = &Error{key: "bid.below_start"}
	ErrTooLow        = &Error{key: "bid.too_low"}
	// ErrMaxNotHigher refuses a leader's maximum that does not exceed the
	// one they have (Amount: their maximum, which only they see).
	ErrMaxNotHigher      = &Error{key: "bid.max_not_higher"}
	ErrInsufficientFunds = &Error{key: "bid.insufficient_funds"}
	ErrMessageTooLong    = &Error{key: "bid.message_too_long"}
	ErrSuspended         = &Error{key: "bid.suspended"}
	// ErrBought refuses anything after a purchase ended the auction.
	ErrBought = &Error{key: "bid.bought"}
	// Buy It Now's own refusals: the seller's own item; not offered any
	// more (a bid came first, or the reserve is met); a price other than
	// the one confirmed (Amount: the price now).
	ErrBuyOwn     = &Error{key: "buy.own_auction"}
	ErrBuyGone    = &Error{key: "buy.gone"}
	ErrBuyChanged = &Error{key: "buy.price_changed"}
	// ErrClosed is returned once the Bidder is shutting down.
	ErrClosed = &Error{key: "bid.unavailable"}
	// ErrUnconfirmed: the database stopped answering while committing, and
	// whether the bid was taken is not known yet; a reload will show it.
	ErrUnconfirmed = &Error{key: "bid.unconfirmed"}

	// Cancel's refusals; a missing auction is ErrNotFound everywhere.
	ErrNotSeller    = &Error{key: "auction.not_seller"}
	ErrCannotCancel = &Error{key: "auction.cannot_cancel"}
)

// FieldErrors maps a form field to the message key of what is wrong with
// it, so the sell form can show each next to its field.
type FieldErrors map[string]string

// Error lists the fields and keys, for logs.
func (f FieldErrors) Error() string {
	parts := make([]string, 0, len(f))
	for k, v := range f {
		parts = append(parts, k+": "+v)
	}
	return "auction: invalid listing (" + strings.Join(parts, ", ") + ")"
}

// Form field names used as FieldErrors keys.
const (
	FieldTitle       = "title"
	FieldDescription = "description"
	FieldStartPrice  = "start_price"
	FieldDuration    = "duration"
	FieldImage       = "image"
	FieldReserve     = "reserve"
	FieldBuyNow      = "buy_now"
)

// CreateInput is a new listing as the seller entered it.
type CreateInput struct {
	SellerID    int64
	Title       string
	Description string
	StartPrice  int64
	Duration    time.Duration
	// ImageID is the cover; Photos, when given, are every photo in order
	// (the cover first, which then sets ImageID).
	ImageID int64
	Photos  []int64
	// RelistedFrom is the auction this one relists (0: a new listing).
	RelistedFrom int64
	// HardEnd turns soft close off: the auction ends when scheduled,
	// whatever is bid in its last minutes.
	HardEnd bool
	// Reserve is the hidden minimum price (0: none), at least the start
	// price; BuyNow the price that ends the auction at once (0: none), at
	// least MinBuyNow(StartPrice) and the reserve.
	Reserve int64
	BuyNow  int64
}

// CleanText makes user text storable and safe to frame: PostgreSQL text refuses
// NUL and invalid UTF-8, and one such byte must not turn a form into a
// server error. Line ends become "\n" (browsers post a textarea's as CRLF),
// a tab a space, and every other control character (C0, DEL, C1) is
// dropped: a bare CR is a line end to EventSource, so a title carrying one
// could forge events in other users' streams.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\r':
			return '\n'
		case r == '\t':
			return ' '
		case r < 0x20, r >= 0x7f && r < 0xa0:
			return -1
		}
		return r
	}, s)
}

// Validate checks a listing without the database and returns its field
// errors (nil when none). It trims the title and description in place.
// short is the configured extra duration, as for Durations.
func (in *CreateInput) Validate(short time.Duration) FieldErrors {
	fe := FieldErrors{}
	in.Title = strings.TrimSpace(CleanText(in.Title))
	in.Description = strings.TrimSpace(CleanText(in.Description))
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		fe[FieldTitle] = "auction.title_required"
	case n > MaxTitle:
		fe[FieldTitle] = "auction.title_too_long"
	}
	if utf8.RuneCountInString(in.Description) > MaxDescription {
		fe[FieldDescription] = "auction.description_too_long"
	}
	if in.StartPrice < MinAmount || in.StartPrice > MaxAmount {
		fe[FieldStartPrice] = "auction.price_invalid"
	}
	allowed := false
	for _, d := range Durations(short) {
		allowed = allowed || d == in.Duration
	}
	if !allowed {
		fe[FieldDuration] = "auction.duration_invalid"
	}
	if len(in.Photos) > 0 {
		in.ImageID = in.Photos[0]
		if k := photosKey(in.Photos); k != "" {
			fe[FieldImage] = k
		}
	} else if in.ImageID <= 0 {
		fe[FieldImage] = "auction.image_required"
	}
	checkPrices(fe, in.StartPrice, fe[FieldStartPrice] == "", in.Reserve, in.BuyNow)
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// checkPrices adds to fe what is wrong with a reserve and a Buy It Now
// price (each 0 for none) over start price start (startOK: a valid one).
// The sell form and the edit before the first bid share it.
func checkPrices(fe FieldErrors, start int64, startOK bool, reserve, buyNow int64) {
	switch {
	case reserve == 0:
	case reserve < 0 || reserve > MaxAmount:
		fe[FieldReserve] = "auction.reserve_invalid"
	case startOK && reserve < start:
		fe[FieldReserve] = "auction.reserve_below_start"
	}
	switch {
	case buyNow == 0:
	case buyNow < 0 || buyNow > MaxAmount:
		fe[FieldBuyNow] = "auction.buy_now_invalid"
	case startOK && buyNow < MinBuyNow(start):
		fe[FieldBuyNow] = "auction.buy_now_below_start"
	case fe[FieldReserve] == "" && buyNow < reserve:
		fe[FieldBuyNow] = "auction.buy_now_below_reserve"
	}
}

// BidInput is one bid as the bidder entered it.
type BidInput struct {
	AuctionID int64
	BidderID  int64
	// Amount is the bidder's maximum: the site bids for them up to it, one
	// increment at a time.
	Amount  int64
	Message string
	// Key is the bid form's one-time key (optional): a submission with a
	// key already placed is answered as it was then, not judged again.
	Key string
	// Buy makes it a purchase at the Buy It Now price, Amount, which the
	// buyer confirmed.
	Buy bool
}

// check applies the rules that need no database, cleans the message, and
// drops a key that is not one the site makes.
func (in *BidInput) check() error {
	if !validKey(in.Key) {
		in.Key = ""
	}
	if in.Amount < MinAmount || in.Amount > MaxAmount {
		return ErrInvalidAmount
	}
	in.Message = strings.TrimSpace(CleanText(in.Message))
	if utf8.RuneCountInString(in.Message) > MaxMessage {
		return ErrMessageTooLong
	}
	return nil
}

// validKey reports whether k looks like a bid form's key: 16 to 64 letters,
// digits, '-' or '_'.
func validKey(k string) bool {
	if len(k) < 16 || len(k) > 64 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
