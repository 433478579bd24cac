package auction_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gavel/app/auction"
)

// These tests run the judge alone: no database, no clock.

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const seller = 1

// newLot is an open auction starting at start that ends in an hour, with
// accounts 2, 3, 4, … holding the balances given.
func newLot(start int64, balances ...int64) *auction.Lot {
	l := &auction.Lot{ID: 7, SellerID: seller, Status: auction.StatusOpen, StartPrice: start, Price: start,
		EndsAt: t0.Add(time.Hour), ScheduledEnd: t0.Add(time.Hour), SoftClose: true, Accounts: map[int64]*auction.Account{}}
	for i, b := range balances {
		id := int64(i + 2)
		l.Accounts[id] = &auction.Account{Nick: fmt.Sprintf("u%d", id), Balance: b}
	}
	return l
}

var rules = auction.SoftClose{Window: 2 * time.Minute, Cap: time.Hour}

type row struct {
	bidder, amount int64
	auto           bool
}

func rowsOf(v auction.Verdict) []row {
	var out []row
	for _, r := range v.Rows {
		out = append(out, row{r.BidderID, r.Amount, r.Auto})
	}
	return out
}

func equalRows(a, b []row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The worked example, step by step: S = 10,000 and the increment
// table as it is.
func TestJudgeWorkedExample(t *testing.T) {
	const A, B, C, D, E = 2, 3, 4, 5, 6
	l := newLot(10_000, 1e9, 1e9, 1e9, 1e9, 1e9)
	steps := []struct {
		name    string
		bidder  int64
		max     int64
		err     *auction.Error
		errAmt  int64
		result  auction.Result
		rows    []row
		price   int64
		leader  int64
		minNext int64
	}{
		{"A max 30,000 leads at the start", A, 30_000, nil, 0, auction.Leading, []row{{A, 10_000, false}}, 10_000, A, 11_000},
		{"B max 15,000 is answered by A", B, 15_000, nil, 0, auction.Outbid, []row{{B, 15_000, false}, {A, 16_000, true}}, 16_000, A, 17_000},
		{"C ties A: the earlier maximum wins", C, 30_000, nil, 0, auction.Outbid, []row{{C, 30_000, false}, {A, 30_000, true}}, 30_000, A, 31_000},
		{"D max 30,500 is below the minimum", D, 30_500, auction.ErrTooLow, 31_000, 0, nil, 30_000, A, 31_000},
		{"D max 45,000 leads by one increment", D, 45_000, nil, 0, auction.Leading, []row{{D, 31_000, false}}, 31_000, D, 32_000},
		{"E max 45,500 beats D by less than an increment", E, 45_500, nil, 0, auction.Leading, []row{{D, 45_000, true}, {E, 45_500, false}}, 45_500, E, 46_500},
		{"E raises to 60,000 silently", E, 60_000, nil, 0, auction.Raised, nil, 45_500, E, 46_500},
		{"D max 58,000 is answered by E", D, 58_000, nil, 0, auction.Outbid, []row{{D, 58_000, false}, {E, 60_000, true}}, 60_000, E, 62_000},
	}
	for _, s := range steps {
		v := rules.Judge(l, t0, auction.Submission{BidderID: s.bidder, Max: s.max})
		if s.err != nil {
			var ae *auction.Error
			if !errors.Is(v.Err, s.err) || !errors.As(v.Err, &ae) || ae.Amount != s.errAmt {
				t.Fatalf("%s: got %v, want %v (%d)", s.name, v.Err, s.err, s.errAmt)
			}
		} else if v.Err != nil {
			t.Fatalf("%s: refused: %v", s.name, v.Err)
		}
		if v.Result != s.result || !equalRows(rowsOf(v), s.rows) {
			t.Errorf("%s: %v %v, want %v %v", s.name, v.Result, rowsOf(v), s.result, s.rows)
		}
		if l.Price != s.price || l.LeaderID != s.leader || l.MinNext() != s.minNext {
			t.Errorf("%s: price %d leader %d min %d, want %d %d %d", s.name, l.Price, l.LeaderID, l.MinNext(), s.price, s.leader, s.minNext)
		}
	}
	if l.LeaderMax != 60_000 || l.Accounts[E].Committed != 60_000 || l.Accounts[D].Committed != 0 || l.Accounts[A].Committed != 0 {
		t.Errorf("after the example: leader max %d, committed E %d D %d A %d", l.LeaderMax,
			l.Accounts[E].Committed, l.Accounts[D].Committed, l.Accounts[A].Committed)
	}
	if l.BidCount != 10 || l.EndsAt != t0.Add(time.Hour) {
		t.Errorf("bid count %d, ends %v", l.BidCount, l.EndsAt)
	}
}

func TestJudgeRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(l *auction.Lot)
		sub    auction.Submission
		at     time.Time
		want   *auction.Error
		amount int64
	}{
		{"the seller", nil, auction.Submission{BidderID: seller, Max: 5_000}, t0, auction.ErrOwnAuction, 0},
		{"at the end", nil, auction.Submission{BidderID: 2, Max: 5_000}, t0.Add(time.Hour), auction.ErrEnded, 0},
		{"closed", func(l *auction.Lot) { l.Status = auction.StatusSold }, auction.Submission{BidderID: 2, Max: 5_000}, t0, auction.ErrEnded, 0},
		{"below the start", nil, auction.Submission{BidderID: 2, Max: 4_999}, t0, auction.ErrBelowStart, 5_000},
		{"zero", nil, auction.Submission{BidderID: 2, Max: 0}, t0, auction.ErrInvalidAmount, 0},
		{"over the cap", nil, auction.Submission{BidderID: 2, Max: auction.MaxAmount + 1}, t0, auction.ErrInvalidAmount, 0},
		{"more than the balance", nil, auction.Submission{BidderID: 3, Max: 20_001}, t0, auction.ErrInsufficientFunds, 20_000},
		{"funds held by a maximum elsewhere", func(l *auction.Lot) { l.Accounts[3].Committed = 15_000 },
			auction.Submission{BidderID: 3, Max: 5_001}, t0, auction.ErrInsufficientFunds, 5_000},
		{"the leader not raising", func(l *auction.Lot) {
			rules.Judge(l, t0, auction.Submission{BidderID: 2, Max: 8_000})
		}, auction.Submission{BidderID: 2, Max: 8_000}, t0, auction.ErrMaxNotHigher, 8_000},
		{"the leader raising past their funds", func(l *auction.Lot) {
			rules.Judge(l, t0, auction.Submission{BidderID: 3, Max: 8_000})
		}, auction.Submission{BidderID: 3, Max: 20_001}, t0, auction.ErrInsufficientFunds, 20_000},
	} {
		l := newLot(5_000, 1e9, 20_000)
		if tc.setup != nil {
			tc.setup(l)
		}
		before := *l
		committed := map[int64]int64{}
		for id, a := range l.Accounts {
			committed[id] = a.Committed
		}
		v := rules.Judge(l, tc.at, tc.sub)
		var ae *auction.Error
		if !errors.Is(v.Err, tc.want) || !errors.As(v.Err, &ae) || ae.Amount != tc.amount {
			t.Errorf("%s: got %v, want %v (%d)", tc.name, v.Err, tc.want, tc.amount)
		}
		if len(v.Rows) != 0 || l.Price != before.Price || l.LeaderID != before.LeaderID || l.LeaderMax != before.LeaderMax ||
			l.BidCount != before.BidCount || l.EndsAt != before.EndsAt {
			t.Errorf("%s: a refusal changed the lot: %+v -> %+v", tc.name, before, *l)
		}
		for id, a := range l.Accounts {
			if a.Committed != committed[id] {
				t.Errorf("%s: a refusal changed %d's commitment", tc.name, id)
			}
		}
	}
	// A bidder the batch could not find is an error, not a refusal.
	l := newLot(5_000)
	if v := rules.Judge(l, t0, auction.Submission{BidderID: 9, Max: 5_000}); v.Err == nil {
		t.Error("a bidder without an account was accepted")
	} else if ae := (*auction.Error)(nil); errors.As(v.Err, &ae) {
		t.Errorf("a missing bidder is a refusal: %v", v.Err)
	}
}

func TestJudgeSoftClose(t *testing.T) {
	const A, B = 2, 3
	end := t0.Add(time.Hour)
	in := func(l *auction.Lot, before time.Duration, sub auction.Submission) auction.Verdict {
		return rules.Judge(l, l.EndsAt.Add(-before), sub)
	}

	l := newLot(1_000, 1e9, 1e9)
	if v := in(l, 3*time.Minute, auction.Submission{BidderID: A, Max: 1_000}); v.Extended || !l.EndsAt.Equal(end) {
		t.Errorf("a bid before the window extended the end to %v", l.EndsAt)
	}
	v := in(l, 30*time.Second, auction.Submission{BidderID: B, Max: 2_000})
	if !v.Extended || !l.EndsAt.Equal(end.Add(-30*time.Second+2*time.Minute)) || l.Extensions != 1 {
		t.Errorf("a bid in the window: extended %v to %v (×%d)", v.Extended, l.EndsAt, l.Extensions)
	}
	// B raising their own maximum in the window changes nothing visible.
	ends := l.EndsAt
	if v := in(l, time.Second, auction.Submission{BidderID: B, Max: 9_000}); v.Result != auction.Raised || v.Extended || !l.EndsAt.Equal(ends) {
		t.Errorf("a raise in the window: %v extended %v, ends %v", v.Result, v.Extended, l.EndsAt)
	}
	// An outbid submission moves the price, so it extends too.
	if v := in(l, time.Second, auction.Submission{BidderID: A, Max: 3_000}); v.Result != auction.Outbid || !v.Extended {
		t.Errorf("an answered bid in the window: %v, extended %v", v.Result, v.Extended)
	}
	// Bidding on in the last second: the end never passes the cap.
	for i := 0; i < 100 && !l.EndsAt.Equal(end.Add(time.Hour)); i++ {
		next := l.MinNext()
		bidder := int64(A)
		if l.LeaderID == A {
			bidder = B
		}
		if v := in(l, time.Second, auction.Submission{BidderID: bidder, Max: max(next, l.LeaderMax+auction.Increment(l.LeaderMax))}); v.Err != nil {
			t.Fatal(v.Err)
		}
	}
	if !l.EndsAt.Equal(end.Add(time.Hour)) {
		t.Fatalf("never reached the cap: ends %v", l.EndsAt)
	}
	n := l.Extensions
	if v := in(l, time.Second, auction.Submission{BidderID: A + B - l.LeaderID, Max: l.LeaderMax + 100_000}); v.Err != nil || v.Extended || l.Extensions != n {
		t.Errorf("past the cap: %v, extended %v", v.Err, v.Extended)
	}

	// Soft close off for this auction: the end is hard.
	l = newLot(1_000, 1e9, 1e9)
	l.SoftClose = false
	if v := in(l, time.Second, auction.Submission{BidderID: A, Max: 1_000}); v.Extended || !l.EndsAt.Equal(end) {
		t.Errorf("a hard-close auction was extended to %v", l.EndsAt)
	}
	// And off for the site (a zero window).
	l = newLot(1_000, 1e9, 1e9)
	if v := (auction.SoftClose{}).Judge(l, end.Add(-time.Second), auction.Submission{BidderID: A, Max: 1_000}); v.Extended {
		t.Error("a zero window extended the end")
	}
}

// TestJudgeKeepsEveryInvariant judges many random sequences of
// submissions and checks, after every step, what DESIGN.md promises of
// maximums, prices, funds and the end.
func TestJudgeKeepsEveryInvariant(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 42))
		n := 2 + rng.IntN(5)
		balances := make([]int64, n)
		for i := range balances {
			balances[i] = int64(1+rng.IntN(40)) * 5_000
		}
		l := newLot(int64(1+rng.IntN(20))*500, balances...)
		l.SoftClose = rng.IntN(4) != 0
		// Half the lots have a reserve, a third a Buy It Now price.
		if rng.IntN(2) == 0 {
			l.Reserve = l.StartPrice + int64(rng.IntN(40))*500
		}
		if rng.IntN(3) == 0 {
			l.BuyNow = max(auction.MinBuyNow(l.StartPrice), l.Reserve) + int64(rng.IntN(20))*500
		}
		bought := false
		type maxAt struct {
			amount int64
			step   int
		}
		maxes := map[int64]maxAt{}
		var last int64
		now := t0
		for step := range 60 {
			now = now.Add(time.Duration(rng.IntN(120)) * time.Second)
			bidder := int64(2 + rng.IntN(n))
			if rng.IntN(20) == 0 {
				bidder = seller
			}
			var amount int64
			switch rng.IntN(4) {
			case 0:
				amount = l.MinNext()
			case 1:
				amount = l.MinNext() + int64(rng.IntN(10))*auction.Increment(l.Price)
			case 2:
				amount = l.LeaderMax + int64(rng.IntN(3)-1)*auction.Increment(l.LeaderMax)
			default:
				amount = int64(rng.IntN(200_000))
			}
			buy := l.BuyNow > 0 && rng.IntN(8) == 0
			if buy {
				amount = l.BuyNow
			}
			before := *l
			offered := l.BuyNowOffered()
			balance := int64(0)
			if a := l.Accounts[bidder]; a != nil {
				balance = a.Balance
			}
			v := rules.Judge(l, now, auction.Submission{BidderID: bidder, Max: amount, Buy: buy})
			where := fmt.Sprintf("seed %d step %d (%d bids %d at %v, buy %v)", seed, step, bidder, amount, now.Sub(t0), buy)
			if bought {
				if !errors.Is(v.Err, auction.ErrBought) && !errors.Is(v.Err, auction.ErrOwnAuction) && !errors.Is(v.Err, auction.ErrBuyOwn) {
					t.Fatalf("%s: after a purchase: %v", where, v.Err)
				}
				continue
			}
			if v.Err != nil {
				if len(v.Rows) != 0 || l.Price != before.Price || l.LeaderID != before.LeaderID || l.EndsAt != before.EndsAt {
					t.Fatalf("%s: refused (%v) but changed the lot", where, v.Err)
				}
				continue
			}
			if bidder == seller || !now.Before(before.EndsAt) {
				t.Fatalf("%s: accepted from the seller or after the end", where)
			}
			if buy {
				// Offered, and it ends the auction at once at that price,
				// sold to the buyer, with nothing left committed.
				if !offered || v.Result != auction.Bought || len(v.Rows) != 1 || !v.Rows[0].Purchase || v.Rows[0].Amount != l.BuyNow ||
					l.Price != l.BuyNow || l.LeaderID != bidder || !l.EndsAt.Equal(now) || v.Rows[0].Amount < last {
					t.Fatalf("%s: purchase %+v, lot %+v (offered %v)", where, v, l, offered)
				}
				for id, a := range l.Accounts {
					if a.Committed != 0 {
						t.Fatalf("%s: %d still commits %d after the purchase", where, id, a.Committed)
					}
				}
				if l.Accounts[bidder].Balance != balance-l.BuyNow {
					t.Fatalf("%s: the buyer's balance %d, was %d", where, l.Accounts[bidder].Balance, balance)
				}
				bought = true
				continue
			}
			if offered && l.BuyNowOffered() && l.ReserveMet() {
				t.Fatalf("%s: Buy It Now offered with the reserve met", where)
			}
			if l.BuyNowOffered() && l.Reserve == 0 && l.BidCount > 0 {
				t.Fatalf("%s: Buy It Now offered after a bid without a reserve", where)
			}
			if m := maxes[bidder]; amount > m.amount {
				maxes[bidder] = maxAt{amount, step}
			}
			for _, r := range v.Rows {
				if r.Amount < last {
					t.Fatalf("%s: row %d after %d", where, r.Amount, last)
				}
				if r.Amount > maxes[r.BidderID].amount {
					t.Fatalf("%s: row of %d for %d, above their maximum", where, r.Amount, r.BidderID)
				}
				last = r.Amount
			}
			// A raise shows nothing, unless it reached the reserve: then the
			// price goes up to it, and only then.
			lifted := before.Reserve > 0 && before.Price < before.Reserve && amount >= before.Reserve
			if v.Result == auction.Raised && !lifted && (len(v.Rows) != 0 || l.Price != before.Price || l.EndsAt != before.EndsAt) {
				t.Fatalf("%s: a raise changed what shows", where)
			}
			if v.Result == auction.Raised && lifted && (len(v.Rows) != 1 || l.Price != l.Reserve) {
				t.Fatalf("%s: a raise to the reserve: rows %v, price %d", where, rowsOf(v), l.Price)
			}
			// The leader holds the highest maximum, the earliest on ties;
			// the price lies between the second-highest and theirs.
			lead := maxes[l.LeaderID]
			second := int64(0)
			for id, m := range maxes {
				if id == l.LeaderID {
					continue
				}
				second = max(second, m.amount)
				if m.amount > lead.amount || (m.amount == lead.amount && m.step < lead.step) {
					t.Fatalf("%s: %d's maximum %d beats the leader %d's %d", where, id, m.amount, l.LeaderID, lead.amount)
				}
			}
			if l.LeaderMax != lead.amount || l.Price > l.LeaderMax || l.Price < second || l.Price < l.StartPrice {
				t.Fatalf("%s: price %d, leader max %d (recorded %d), second %d", where, l.Price, l.LeaderMax, lead.amount, second)
			}
			// And no higher than needed: one increment over the second, or
			// the start price when nobody else bid. (It may be lower: a
			// leader who tied and then raised their maximum moved nothing.)
			want := l.StartPrice
			if second > 0 {
				want = max(want, min(l.LeaderMax, second+auction.Increment(second)))
			}
			if l.Reserve > 0 && want < l.Reserve && l.LeaderMax >= l.Reserve {
				want = l.Reserve // a maximum at or above the reserve lifts the price to it
			}
			if l.Reserve > 0 && l.LeaderMax >= l.Reserve && l.Price < l.Reserve {
				t.Fatalf("%s: price %d below the reserve %d that the leader's maximum %d reaches", where, l.Price, l.Reserve, l.LeaderMax)
			}
			if l.Price > want {
				t.Fatalf("%s: price %d, want %d (second-highest maximum %d)", where, l.Price, want, second)
			}
			// Commitments are the leader's maximum, within their balance.
			for id, a := range l.Accounts {
				want := int64(0)
				if id == l.LeaderID {
					want = l.LeaderMax
				}
				if a.Committed != want || a.Committed > a.Balance {
					t.Fatalf("%s: %d commits %d of %d, want %d", where, id, a.Committed, a.Balance, want)
				}
			}
			if l.EndsAt.After(l.ScheduledEnd.Add(rules.Cap)) || l.EndsAt.Before(before.EndsAt) {
				t.Fatalf("%s: end %v moved wrong (was %v)", where, l.EndsAt, before.EndsAt)
			}
			if v.Extended != !l.EndsAt.Equal(before.EndsAt) || (v.Extended && !l.SoftClose) {
				t.Fatalf("%s: extended %v, end %v -> %v", where, v.Extended, before.EndsAt, l.EndsAt)
			}
		}
	}
}
