package auction_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/db"
	"gavel/app/db/dbtest"
	fixtures "gavel/app/fixture"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fixture is a fresh database with helpers that write rows the way the rest
// of the site would (users with a signup ledger row, an uploaded image).
type fixture struct {
	t   testing.TB
	db  *bun.DB
	ctx context.Context
	n   int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return &fixture{t: t, db: dbtest.New(t), ctx: context.Background()}
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.ExecContext(f.ctx, q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f *fixture) int64(q string, args ...any) int64 {
	f.t.Helper()
	var v int64
	if err := f.db.QueryRowContext(f.ctx, q, args...).Scan(&v); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return v
}

// user signs a user up with balance won (a signup ledger row).
func (f *fixture) user(nick string, balance int64) int64 {
	f.t.Helper()
	return fixtures.User(f.t, f.db, nick, balance)
}

func (f *fixture) image(owner int64) int64 {
	f.t.Helper()
	return fixtures.Image(f.t, f.db, owner)
}

// auction lists an hour-long auction through Create.
func (f *fixture) auction(seller, start int64) int64 {
	f.t.Helper()
	f.n++
	return fixtures.Auction(f.t, f.db, seller, fmt.Sprintf("item %d", f.n), start, time.Hour)
}

// endedAuction inserts an auction that ended an hour ago, with bids placed
// while it ran (amounts in order, alternating between bidders, each bid its
// bidder's maximum), as if no sweeper had been running since.
func (f *fixture) endedAuction(seller, start int64, bidders []int64, amounts ...int64) int64 {
	f.t.Helper()
	f.n++
	id := f.int64(`INSERT INTO auctions (seller_id, title, image_id, start_price, current_price, starts_at, ends_at)
		VALUES (?, ?, ?, ?, ?, now() - interval '2 hours', now() - interval '1 hour') RETURNING id`,
		seller, fmt.Sprintf("ended %d", f.n), f.image(seller), start, start)
	var leader int64
	err := f.db.RunInTx(f.ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Back-dated rows: the bids_guard trigger would refuse a time
		// before this transaction began.
		if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		for i, amt := range amounts {
			leader = bidders[i%len(bidders)]
			if _, err := tx.ExecContext(ctx, `INSERT INTO bids (auction_id, bidder_id, amount, created_at)
				VALUES (?, ?, ?, now() - interval '90 minutes')`, id, leader, amt); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO maximums (auction_id, bidder_id, amount) VALUES (?, ?, ?)
				ON CONFLICT (auction_id, bidder_id) DO UPDATE SET amount = excluded.amount`, id, leader, amt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(amounts) > 0 {
		last := amounts[len(amounts)-1]
		f.exec(`UPDATE auctions SET current_price = ?, leader_id = ?, leader_max = ?, bid_count = ? WHERE id = ?`,
			last, leader, last, len(amounts), id)
	}
	return id
}

// snapshot is everything a refused bid must leave as it was.
type snapshot struct {
	price, leader, count, bids, ledger, balances int64
	status                                       string
}

func (f *fixture) snap(id int64) snapshot {
	f.t.Helper()
	var s snapshot
	err := f.db.QueryRowContext(f.ctx, `SELECT current_price, COALESCE(leader_id, 0), bid_count, status,
		(SELECT count(*) FROM bids WHERE auction_id = a.id), (SELECT count(*) FROM ledger),
		(SELECT sum(balance) FROM users)
		FROM auctions a WHERE id = ?`, id).Scan(&s.price, &s.leader, &s.count, &s.status, &s.bids, &s.ledger, &s.balances)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// checkInvariants verifies, in SQL over the whole database, what DESIGN.md
// promises under any load.
func (f *fixture) checkInvariants() {
	f.t.Helper()
	t := f.t
	// 1. Bid rows never decrease; a bidder's own bid rises by the increment
	// over the one before it (past an automatic bid, above it), the first
	// is at least the start price; nobody's own bid follows their own row;
	// the auction row agrees with its last bid.
	// A purchase (Buy It Now) is at its fixed price: it never falls, but
	// need not be an increment over the row before, and may follow the
	// buyer's own bid.
	rows, err := f.db.QueryContext(f.ctx, `SELECT b.auction_id, b.id, b.amount, b.bidder_id, b.auto, b.purchase, a.start_price, COALESCE(a.reserve, 0)
		FROM bids b JOIN auctions a ON a.id = b.auction_id ORDER BY b.auction_id, b.id`)
	if err != nil {
		t.Fatal(err)
	}
	type last struct {
		amount, bidder, count int64
		auto                  bool
	}
	lasts := map[int64]*last{}
	for rows.Next() {
		var aid, id, amount, bidder, start, reserve int64
		var auto, purchase bool
		if err := rows.Scan(&aid, &id, &amount, &bidder, &auto, &purchase, &start, &reserve); err != nil {
			t.Fatal(err)
		}
		l := lasts[aid]
		switch {
		case l == nil && amount < start:
			t.Errorf("auction %d: first bid %d is below the start price %d", aid, amount, start)
		case l != nil && amount < l.amount:
			t.Errorf("auction %d: bid %d of %d follows a higher %d", aid, id, amount, l.amount)
		case purchase:
		case l != nil && !auto && !l.auto && amount < l.amount+auction.Increment(l.amount):
			t.Errorf("auction %d: bid %d of %d follows %d without the increment", aid, id, amount, l.amount)
		case l != nil && !auto && l.auto && amount <= l.amount:
			t.Errorf("auction %d: bid %d of %d does not beat the automatic %d", aid, id, amount, l.amount)
		case l != nil && !auto && bidder == l.bidder && !(amount == reserve && l.amount < reserve):
			// (An automatic bid may follow its bidder's own row: their
			// maximum answering a higher one; so may the leader's row at the
			// reserve, when they raised their maximum to reach it.)
			t.Errorf("auction %d: bid %d outbids its own bidder", aid, id)
		}
		if l == nil {
			l = &last{}
			lasts[aid] = l
		}
		l.amount, l.bidder, l.auto = amount, bidder, auto
		l.count++
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for aid, l := range lasts {
		var price, leader, count int64
		if err := f.db.QueryRowContext(f.ctx, `SELECT current_price, COALESCE(leader_id, 0), bid_count FROM auctions WHERE id = ?`, aid).
			Scan(&price, &leader, &count); err != nil {
			t.Fatal(err)
		}
		if price != l.amount || leader != l.bidder || count != l.count {
			t.Errorf("auction %d: row says price %d leader %d count %d; bids say %d %d %d", aid, price, leader, count, l.amount, l.bidder, l.count)
		}
	}
	for q, what := range map[string]string{
		`SELECT count(*) FROM bids b JOIN auctions a ON a.id = b.auction_id WHERE b.created_at > a.ends_at`:                                                                                      "bids after the end",
		`SELECT count(*) FROM bids b JOIN auctions a ON a.id = b.auction_id WHERE b.bidder_id = a.seller_id`:                                                                                     "bids by the seller",
		`SELECT count(*) FROM auctions a WHERE bid_count <> (SELECT count(*) FROM bids WHERE auction_id = a.id)`:                                                                                 "auctions whose bid_count is wrong",
		`SELECT count(*) FROM auctions a WHERE ends_at > scheduled_end + interval '1 hour'`:                                                                                                      "auctions extended past the cap",
		`SELECT count(*) FROM auctions a WHERE leader_id IS NOT NULL AND leader_max < current_price`:                                                                                             "leaders whose maximum is below the price",
		`SELECT count(*) FROM auctions a WHERE leader_id IS NOT NULL AND leader_max <> (SELECT amount FROM maximums WHERE auction_id = a.id AND bidder_id = a.leader_id)`:                        "leaders whose maximum is not their recorded one",
		`SELECT count(*) FROM maximums m JOIN auctions a ON a.id = m.auction_id WHERE m.bidder_id <> a.leader_id AND m.amount > a.leader_max`:                                                    "maximums above the leader's",
		`SELECT count(*) FROM maximums m JOIN auctions a ON a.id = m.auction_id WHERE m.bidder_id <> a.leader_id AND m.amount > a.current_price`:                                                 "prices below a beaten maximum",
		`SELECT count(*) FROM users u WHERE committed <> COALESCE((SELECT amount FROM commitments WHERE user_id = u.id), 0)`:                                                                     "users whose committed is not their commitments",
		`SELECT count(*) FROM users u WHERE balance < COALESCE((SELECT amount FROM commitments WHERE user_id = u.id), 0)`:                                                                        "users committed beyond their balance",
		`SELECT count(*) FROM users u WHERE balance <> (SELECT COALESCE(sum(amount), 0) FROM ledger WHERE user_id = u.id)`:                                                                       "users whose balance is not their ledger's sum",
		`SELECT (SELECT COALESCE(sum(balance), 0) FROM users) - (SELECT COALESCE(sum(amount), 0) FROM ledger WHERE kind IN ('signup', 'deposit'))`:                                               "won created or destroyed",
		`SELECT count(*) FROM (SELECT auction_id FROM ledger WHERE kind IN ('purchase', 'sale') GROUP BY auction_id HAVING count(*) <> 2) x`:                                                     "auctions not paid exactly once",
		`SELECT count(*) FROM auctions a WHERE status = 'sold' AND NOT EXISTS (SELECT 1 FROM ledger WHERE auction_id = a.id)`:                                                                    "sold auctions without ledger rows",
		`SELECT count(*) FROM auctions a WHERE status = 'unsold' AND EXISTS (SELECT 1 FROM ledger WHERE auction_id = a.id)`:                                                                      "unsold auctions with money moved",
		`SELECT count(*) FROM auctions a WHERE status IN ('sold', 'unsold') AND (current_price >= COALESCE(reserve, 0) AND bid_count > 0) <> (status = 'sold')`:                                  "auctions whose outcome is not their reserve's",
		`SELECT count(*) FROM auctions a WHERE (end_reason IS NOT DISTINCT FROM 'bought') <> EXISTS (SELECT 1 FROM bids WHERE auction_id = a.id AND purchase)`:                                   "purchases without their outcome",
		`SELECT count(*) FROM bids b WHERE purchase AND id <> (SELECT max(id) FROM bids WHERE auction_id = b.auction_id)`:                                                                        "bids after a purchase",
		`SELECT count(*) FROM bids b JOIN auctions a ON a.id = b.auction_id WHERE b.purchase AND (b.amount <> a.buy_now OR a.status NOT IN ('sold', 'cancelled') OR a.leader_id <> b.bidder_id)`: "purchases not sold at the Buy It Now price",
	} {
		if n := f.int64(q); n != 0 {
			t.Errorf("%s: %d", what, n)
		}
	}
}

// refusal asserts err is the auction refusal want, with its message key.
func refusal(t testing.TB, err error, want *auction.Error) *auction.Error {
	t.Helper()
	var ae *auction.Error
	if !errors.As(err, &ae) || !errors.Is(err, want) {
		t.Fatalf("got %v, want refusal %s", err, want.Key())
	}
	if ae.Key() != want.Key() {
		t.Fatalf("key %s, want %s", ae.Key(), want.Key())
	}
	return ae
}

func newBidder(t testing.TB, db *bun.DB, opts auction.BidderOptions) *auction.Bidder {
	b := auction.NewBidder(db, opts)
	t.Cleanup(b.Close)
	return b
}

// openDB opens another pool on url: a second instance of the site.
func openDB(t testing.TB, url string) *bun.DB {
	t.Helper()
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
