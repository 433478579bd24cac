package auction

import (
	"fmt"
	"time"
)

// Lot is one auction's state as the judge sees it: the auction row and the
// accounts of the people a batch concerns, as read under their locks.
// Maximums live here and nowhere a page reads: only LeaderMax, the
// leader's, matters to the rules (every other maximum is at most the
// price once beaten).
type Lot struct {
	ID         int64
	SellerID   int64
	Title      string
	Status     string
	StartPrice int64
	Price      int64 // the price: the start price before any bid
	LeaderID   int64 // 0 before the first bid
	LeaderMax  int64 // the leader's maximum; 0 with no leader
	BidCount   int
	EndsAt     time.Time
	// ScheduledEnd is the end as listed; soft close moves EndsAt up to
	// ScheduledEnd plus the cap.
	ScheduledEnd time.Time
	Extensions   int
	SoftClose    bool
	// Reserve is the seller's hidden minimum (0: none); BuyNow the price
	// that ends the auction at once (0: none). Both are fixed once bid on.
	Reserve int64
	BuyNow  int64
	// EndReason is set once a purchase has ended the auction (ReasonBought),
	// within the batch that judged it.
	EndReason string

	// Accounts are the bidders' (and the leader's) money by user id.
	Accounts map[int64]*Account
}

// Account is a user's money as a batch holds it locked.
type Account struct {
	Nick    string
	Balance int64
	// Committed is the sum of the user's maximums on the open auctions they
	// lead, this one included.
	Committed int64
	// Suspended by an operator: may not bid.
	Suspended bool
}

// MinNext is the least maximum a bidder who does not lead may submit:
// the start price before any bid, else the price plus its increment.
func (l *Lot) MinNext() int64 { return minNext(l.BidCount, l.StartPrice, l.Price) }

// ReserveMet reports whether the price has reached the reserve (false
// without one, and before any bid).
func (l *Lot) ReserveMet() bool { return reserveMet(l.Reserve, l.BidCount, l.Price) }

// BuyNowOffered reports whether Buy It Now may be used now: the auction has
// a price for it, runs, and has no bid yet (with a reserve: the reserve is
// not met yet).
func (l *Lot) BuyNowOffered() bool {
	return buyNowOffered(l.Status, l.EndReason, l.BuyNow, l.Reserve > 0, l.BidCount, l.ReserveMet())
}

// lift is eBay's reserve rule: a price p below the reserve goes up to it
// at once when the leader's maximum reaches it (and so stays within it).
func (l *Lot) lift(p, leaderMax int64) int64 {
	if l.Reserve > 0 && p < l.Reserve && leaderMax >= l.Reserve {
		return l.Reserve
	}
	return p
}

// SoftClose is the anti-sniping rule: a submission that changes the price
// or the leader less than Window before the end moves the end to Window
// after it, never past the scheduled end plus Cap.
type SoftClose struct {
	Window time.Duration
	Cap    time.Duration
}

// Default soft close: eBay-like auctions end hard, but Gavel's extend by
// two minutes, for at most an hour in all.
const (
	DefaultSoftCloseWindow = 2 * time.Minute
	DefaultSoftCloseCap    = time.Hour
)

// Submission is one bidder's maximum, or (Buy) a purchase at the Buy It
// Now price Max, as the judge takes it.
type Submission struct {
	BidderID int64
	Max      int64
	Message  string
	// Buy: a purchase at the Buy It Now price, which the buyer confirmed
	// as Max.
	Buy bool
}

// Row is a bid row to insert. Auto rows are placed by the site for a
// leader whose maximum answered another bid.
type Row struct {
	BidderID int64
	Amount   int64
	Message  string
	Auto     bool
	// Purchase: the Buy It Now row that ended the auction.
	Purchase bool
	// The lot's state just after this row.
	Price    int64
	LeaderID int64
	BidCount int
	// PrevLeader is who led before this row, when the row takes the lead
	// from them (0 otherwise).
	PrevLeader int64
}

// Result says what happened to one submission.
type Result int

// Results of an accepted submission.
const (
	// Leading: the submission leads at the new price.
	Leading Result = iota + 1
	// Outbid: placed, but an earlier, higher (or equal) maximum answered it
	// at once.
	Outbid
	// Raised: the leader raised their own maximum; nothing else changed
	// (except that a maximum reaching the reserve lifts the price to it).
	Raised
	// Bought: a purchase at the Buy It Now price ended the auction.
	Bought
)

// String names r for logs and tests.
func (r Result) String() string {
	switch r {
	case Leading:
		return "leading"
	case Outbid:
		return "outbid"
	case Raised:
		return "raised"
	case Bought:
		return "bought"
	}
	return fmt.Sprintf("Result(%d)", int(r))
}

// Verdict is the judge's answer to one submission: a refusal (Err), or
// what it changed. The lot it was judged on is left in the new state.
type Verdict struct {
	Err    error
	Result Result
	Rows   []Row // zero, one or two, in the order they are inserted
	// Extended is set when the submission moved the end.
	Extended bool
}

// Judge decides sub against l at now, under the auction's and the
// accounts' locks, and applies it to l. It is the whole of the bidding
// rules (eBay's proxy bidding with soft close) and touches nothing else:
// no SQL, no clock, no I/O.
func (sc SoftClose) Judge(l *Lot, now time.Time, sub Submission) Verdict {
	if sub.Buy {
		return sc.buy(l, now, sub)
	}
	x := sub.BidderID
	m := sub.Max
	switch {
	case x == l.SellerID:
		return Verdict{Err: ErrOwnAuction}
	case l.EndReason == ReasonBought:
		return Verdict{Err: ErrBought}
	case l.Status != StatusOpen || !now.Before(l.EndsAt):
		return Verdict{Err: ErrEnded}
	case m < MinAmount || m > MaxAmount:
		return Verdict{Err: ErrInvalidAmount}
	}
	acct := l.Accounts[x]
	if acct == nil {
		return Verdict{Err: fmt.Errorf("place bid: bidder %d does not exist", x)}
	}
	if acct.Suspended {
		return Verdict{Err: ErrSuspended}
	}
	var v Verdict
	row := func(bidder, amount int64, msg string, auto bool, leader, prev int64) {
		l.BidCount++
		l.Price = amount
		v.Rows = append(v.Rows, Row{BidderID: bidder, Amount: amount, Message: msg, Auto: auto,
			Price: amount, LeaderID: leader, BidCount: l.BidCount, PrevLeader: prev})
	}
	avail := acct.Balance - acct.Committed
	if x == l.LeaderID {
		// The leader's maximum is committed already: only the rise needs
		// funds. Nothing shows and nothing extends, unless the new maximum
		// reaches the reserve: then the price goes up to it.
		avail += l.LeaderMax
		switch {
		case m <= l.LeaderMax:
			return Verdict{Err: withAmount(ErrMaxNotHigher, l.LeaderMax)}
		case avail < m:
			return Verdict{Err: withAmount(ErrInsufficientFunds, max(0, avail))}
		}
		acct.Committed += m - l.LeaderMax
		l.LeaderMax = m
		v.Result = Raised
		if p := l.lift(l.Price, m); p != l.Price {
			row(x, p, sub.Message, false, x, 0)
			v.Extended = sc.extend(l, now)
		}
		return v
	}
	if next := l.MinNext(); m < next {
		if l.BidCount == 0 {
			return Verdict{Err: withAmount(ErrBelowStart, next)}
		}
		return Verdict{Err: withAmount(ErrTooLow, next)}
	}
	if avail < m {
		return Verdict{Err: withAmount(ErrInsufficientFunds, max(0, avail))}
	}

	switch {
	case l.BidCount == 0:
		row(x, l.lift(l.StartPrice, m), sub.Message, false, x, 0)
		l.LeaderID, l.LeaderMax = x, m
		acct.Committed += m
		v.Result = Leading
	case m > l.LeaderMax:
		old, oldMax := l.LeaderID, l.LeaderMax
		if oldMax > l.Price {
			// The old leader's maximum bid in full before being beaten.
			row(old, oldMax, "", true, old, 0)
		}
		row(x, l.lift(min(m, oldMax+Increment(oldMax)), m), sub.Message, false, x, old)
		if oa := l.Accounts[old]; oa != nil {
			oa.Committed -= oldMax
		}
		l.LeaderID, l.LeaderMax = x, m
		acct.Committed += m
		v.Result = Leading
	default:
		// An earlier maximum wins ties: the leader answers at once.
		row(x, m, sub.Message, false, l.LeaderID, 0)
		row(l.LeaderID, l.lift(min(l.LeaderMax, m+Increment(m)), l.LeaderMax), "", true, l.LeaderID, 0)
		v.Result = Outbid
	}
	v.Extended = sc.extend(l, now)
	return v
}

// buy judges a purchase at the Buy It Now price: offered still (nobody bid,
// or the reserve is not met), confirmed at that price, and covered by the
// buyer's funds. It takes the lead at that price and ends the auction at
// now, whatever soft close would do; the batch settles it in the same
// transaction. Every later submission in the batch is refused.
func (sc SoftClose) buy(l *Lot, now time.Time, sub Submission) Verdict {
	x := sub.BidderID
	switch {
	case x == l.SellerID:
		return Verdict{Err: ErrBuyOwn}
	case l.EndReason == ReasonBought:
		return Verdict{Err: ErrBought}
	case l.Status != StatusOpen || !now.Before(l.EndsAt):
		return Verdict{Err: ErrEnded}
	case !l.BuyNowOffered():
		return Verdict{Err: ErrBuyGone}
	case sub.Max != l.BuyNow:
		return Verdict{Err: withAmount(ErrBuyChanged, l.BuyNow)}
	}
	acct := l.Accounts[x]
	if acct == nil {
		return Verdict{Err: fmt.Errorf("buy now: buyer %d does not exist", x)}
	}
	if acct.Suspended {
		return Verdict{Err: ErrSuspended}
	}
	avail := acct.Balance - acct.Committed
	if x == l.LeaderID {
		avail += l.LeaderMax
	}
	if avail < l.BuyNow {
		return Verdict{Err: withAmount(ErrInsufficientFunds, max(0, avail))}
	}
	prev := l.LeaderID
	if oa := l.Accounts[prev]; oa != nil {
		oa.Committed -= l.LeaderMax
	}
	if prev == x {
		prev = 0
	}
	l.BidCount++
	l.Price, l.LeaderID, l.LeaderMax = l.BuyNow, x, l.BuyNow
	l.EndsAt, l.EndReason = now, ReasonBought
	// Settled in the same transaction: the price leaves the balance, and
	// nothing stays committed.
	acct.Balance -= l.BuyNow
	return Verdict{Result: Bought, Rows: []Row{{BidderID: x, Amount: l.BuyNow, Purchase: true,
		Price: l.Price, LeaderID: x, BidCount: l.BidCount, PrevLeader: prev}}}
}

// extend applies soft close to a submission that changed the price or the
// leader at now, and reports whether the end moved.
func (sc SoftClose) extend(l *Lot, now time.Time) bool {
	if !l.SoftClose || sc.Window <= 0 || l.EndsAt.Sub(now) >= sc.Window {
		return false
	}
	end := now.Add(sc.Window)
	if limit := l.ScheduledEnd.Add(sc.Cap); end.After(limit) {
		end = limit
	}
	if !end.After(l.EndsAt) {
		return false
	}
	l.EndsAt = end
	l.Extensions++
	return true
}

// For says how soft close applies to an auction (on for it or not,
// scheduled to end at scheduled): the window, and the latest end it may
// reach; both zero when its end is hard.
func (sc SoftClose) For(on bool, scheduled time.Time) (time.Duration, time.Time) {
	if !on || sc.Window <= 0 {
		return 0, time.Time{}
	}
	return sc.Window, scheduled.Add(sc.Cap)
}
