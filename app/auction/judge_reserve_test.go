package auction_test

import (
	"errors"
	"testing"
	"time"

	"gavel/app/auction"
)

// The feature spec's reserve example: S 10,000, R 50,000.
func TestJudgeReserveLiftsThePriceToIt(t *testing.T) {
	const A, B, C = 2, 3, 4
	l := newLot(10_000, 1e9, 1e9, 1e9)
	l.Reserve = 50_000
	steps := []struct {
		name   string
		bidder int64
		max    int64
		result auction.Result
		rows   []row
		price  int64
		met    bool
	}{
		{"A max 40,000: the start price, not met", A, 40_000, auction.Leading, []row{{A, 10_000, false}}, 10_000, false},
		{"B max 60,000: lifted to the reserve, met", B, 60_000, auction.Leading, []row{{A, 40_000, true}, {B, 50_000, false}}, 50_000, true},
		{"C max 55,000: proxy rules above the reserve", C, 55_000, auction.Outbid, []row{{C, 55_000, false}, {B, 57_000, true}}, 57_000, true},
	}
	for _, s := range steps {
		v := rules.Judge(l, t0, auction.Submission{BidderID: s.bidder, Max: s.max})
		if v.Err != nil {
			t.Fatalf("%s: refused: %v", s.name, v.Err)
		}
		if v.Result != s.result || !equalRows(rowsOf(v), s.rows) || l.Price != s.price || l.ReserveMet() != s.met {
			t.Errorf("%s: %v %v price %d met %v, want %v %v %d %v", s.name, v.Result, rowsOf(v), l.Price, l.ReserveMet(),
				s.result, s.rows, s.price, s.met)
		}
	}

	// A first maximum at or above the reserve opens at the reserve.
	l = newLot(10_000, 1e9)
	l.Reserve = 30_000
	if v := rules.Judge(l, t0, auction.Submission{BidderID: A, Max: 30_000}); v.Err != nil || !equalRows(rowsOf(v), []row{{A, 30_000, false}}) || !l.ReserveMet() {
		t.Errorf("first bid at the reserve: %v %v, met %v", v.Err, rowsOf(v), l.ReserveMet())
	}

	// A leader raising their maximum to the reserve lifts the price to it,
	// a row of their own (and, in the last minutes, an extension); a raise
	// below it shows nothing.
	l = newLot(10_000, 1e9)
	l.Reserve = 30_000
	rules.Judge(l, t0, auction.Submission{BidderID: A, Max: 20_000})
	if v := rules.Judge(l, t0, auction.Submission{BidderID: A, Max: 25_000}); v.Err != nil || v.Result != auction.Raised || len(v.Rows) != 0 || l.Price != 10_000 {
		t.Errorf("raise below the reserve: %v %v %v, price %d", v.Err, v.Result, rowsOf(v), l.Price)
	}
	late := l.EndsAt.Add(-time.Minute)
	v := rules.Judge(l, late, auction.Submission{BidderID: A, Max: 35_000})
	if v.Err != nil || v.Result != auction.Raised || !equalRows(rowsOf(v), []row{{A, 30_000, false}}) || l.Price != 30_000 || !l.ReserveMet() || !v.Extended {
		t.Errorf("raise to the reserve: %v %v %v, price %d, extended %v", v.Err, v.Result, rowsOf(v), l.Price, v.Extended)
	}
	if l.Accounts[A].Committed != 35_000 {
		t.Errorf("committed %d, want the new maximum", l.Accounts[A].Committed)
	}
}

// Buy It Now is offered before any bid; without a reserve the first bid
// withdraws it, with one it stays until the reserve is met (the feature
// spec's examples).
func TestJudgeBuyItNowOfferedAndWithdrawn(t *testing.T) {
	const A, B = 2, 3
	l := newLot(10_000, 1e9, 1e9)
	l.BuyNow = 15_000
	if !l.BuyNowOffered() {
		t.Fatal("not offered before any bid")
	}
	rules.Judge(l, t0, auction.Submission{BidderID: A, Max: 12_000})
	if l.BuyNowOffered() {
		t.Error("still offered after the first bid, without a reserve")
	}
	if v := rules.Judge(l, t0, auction.Submission{BidderID: B, Max: 15_000, Buy: true}); !errors.Is(v.Err, auction.ErrBuyGone) || len(v.Rows) != 0 {
		t.Errorf("buy after a bid: %v", v.Err)
	}

	l = newLot(10_000, 1e9, 1e9)
	l.Reserve, l.BuyNow = 20_000, 25_000
	rules.Judge(l, t0, auction.Submission{BidderID: A, Max: 18_000})
	if !l.BuyNowOffered() || l.Price != 10_000 {
		t.Errorf("with the reserve not met: offered %v, price %d", l.BuyNowOffered(), l.Price)
	}
	rules.Judge(l, t0, auction.Submission{BidderID: B, Max: 30_000})
	if l.BuyNowOffered() || l.Price != 20_000 || !l.ReserveMet() {
		t.Errorf("with the reserve met: offered %v, price %d", l.BuyNowOffered(), l.Price)
	}
}

func TestJudgeBuyItNowEndsTheAuctionAtOnce(t *testing.T) {
	const A, B, C = 2, 3, 4
	l := newLot(10_000, 100_000, 100_000, 100_000)
	l.Reserve, l.BuyNow = 50_000, 60_000
	rules.Judge(l, t0, auction.Submission{BidderID: A, Max: 40_000})
	at := l.EndsAt.Add(-time.Minute) // inside the soft-close window: no extension for a purchase
	v := rules.Judge(l, at, auction.Submission{BidderID: B, Max: 60_000, Buy: true})
	if v.Err != nil || v.Result != auction.Bought {
		t.Fatalf("buy: %v %v", v.Err, v.Result)
	}
	if len(v.Rows) != 1 || v.Rows[0].BidderID != B || v.Rows[0].Amount != 60_000 || !v.Rows[0].Purchase || v.Rows[0].PrevLeader != A || v.Extended {
		t.Errorf("rows %+v, extended %v", v.Rows, v.Extended)
	}
	if l.Price != 60_000 || l.LeaderID != B || !l.EndsAt.Equal(at) || l.EndReason != auction.ReasonBought || l.BuyNowOffered() {
		t.Errorf("lot after the purchase: %+v", l)
	}
	if l.Accounts[A].Committed != 0 || l.Accounts[B].Committed != 0 || l.Accounts[B].Balance != 40_000 {
		t.Errorf("accounts: A committed %d, B committed %d balance %d", l.Accounts[A].Committed, l.Accounts[B].Committed, l.Accounts[B].Balance)
	}
	// Whatever comes after it in the same batch is refused, and says why.
	for _, sub := range []auction.Submission{{BidderID: C, Max: 90_000}, {BidderID: C, Max: 60_000, Buy: true}, {BidderID: A, Max: 90_000}} {
		if v := rules.Judge(l, at, sub); !errors.Is(v.Err, auction.ErrBought) || len(v.Rows) != 0 {
			t.Errorf("%+v after the purchase: %v", sub, v.Err)
		}
	}
}

func TestJudgeBuyItNowRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(l *auction.Lot)
		sub    auction.Submission
		at     time.Time
		want   *auction.Error
		amount int64
	}{
		{"the seller", nil, auction.Submission{BidderID: seller, Max: 15_000, Buy: true}, t0, auction.ErrBuyOwn, 0},
		{"insufficient funds", nil, auction.Submission{BidderID: 3, Max: 15_000, Buy: true}, t0, auction.ErrInsufficientFunds, 9_000},
		{"no Buy It Now price", func(l *auction.Lot) { l.BuyNow = 0 }, auction.Submission{BidderID: 2, Max: 15_000, Buy: true}, t0, auction.ErrBuyGone, 0},
		{"a price other than confirmed", nil, auction.Submission{BidderID: 2, Max: 14_000, Buy: true}, t0, auction.ErrBuyChanged, 15_000},
		{"at the end", nil, auction.Submission{BidderID: 2, Max: 15_000, Buy: true}, t0.Add(time.Hour), auction.ErrEnded, 0},
		{"closed", func(l *auction.Lot) { l.Status = auction.StatusCancelled }, auction.Submission{BidderID: 2, Max: 15_000, Buy: true}, t0, auction.ErrEnded, 0},
		{"suspended", func(l *auction.Lot) { l.Accounts[2].Suspended = true }, auction.Submission{BidderID: 2, Max: 15_000, Buy: true}, t0, auction.ErrSuspended, 0},
		{"funds held by other maximums", func(l *auction.Lot) { l.Accounts[2].Committed = 990_000 }, auction.Submission{BidderID: 2, Max: 15_000, Buy: true}, t0, auction.ErrInsufficientFunds, 10_000},
	} {
		l := newLot(10_000, 1_000_000, 9_000)
		l.BuyNow = 15_000
		if tc.setup != nil {
			tc.setup(l)
		}
		before := *l
		v := rules.Judge(l, tc.at, tc.sub)
		var ae *auction.Error
		if !errors.Is(v.Err, tc.want) || !errors.As(v.Err, &ae) || ae.Amount != tc.amount {
			t.Errorf("%s: got %v, want %v (%d)", tc.name, v.Err, tc.want, tc.amount)
		}
		if len(v.Rows) != 0 || l.Price != before.Price || l.LeaderID != before.LeaderID || l.EndsAt != before.EndsAt || l.EndReason != "" {
			t.Errorf("%s: a refusal changed the lot", tc.name)
		}
	}

	// The leader (reserve not met) may buy: their own maximum's hold
	// counts towards the price.
	l := newLot(10_000, 20_000)
	l.Reserve, l.BuyNow = 18_000, 20_000
	rules.Judge(l, t0, auction.Submission{BidderID: 2, Max: 15_000})
	if v := rules.Judge(l, t0, auction.Submission{BidderID: 2, Max: 20_000, Buy: true}); v.Err != nil || v.Rows[0].PrevLeader != 0 {
		t.Errorf("the leader buying: %v %+v", v.Err, v.Rows)
	}
	if a := l.Accounts[2]; a.Committed != 0 || a.Balance != 0 {
		t.Errorf("the leader after buying: %+v", a)
	}
}
