package auction

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// retryable reports a transaction PostgreSQL aborted only because of its
// timing with others (serialization failure, deadlock): running it again
// can succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// errUnconfirmed marks a batch whose COMMIT failed without saying whether
// it took effect: it must be found out, never run again blindly.
type errUnconfirmed struct {
	err error
	ids []int64 // the bid rows the batch inserted, to look for
	// maxes are the maximums it wrote, to look for when it inserted no row.
	maxes map[int64]int64
	res   []result // the answers, should it have committed
}

func (e *errUnconfirmed) Error() string { return "commit bids: " + e.err.Error() }
func (e *errUnconfirmed) Unwrap() error { return e.err }

// runBatch judges batch, in order, against auction auctionID in one
// transaction and commits what it accepted. It returns one result per
// request; an error means nothing was committed, or (errUnconfirmed) that
// nobody knows yet.
//
// The transaction makes four round trips whatever the batch holds: BEGIN,
// lock the auction and the accounts (reading the time), write everything
// in one statement, COMMIT. Its statements go straight to database/sql with
// $n parameters rather than through bun, which inlines arguments: fixed
// statement texts let pgx prepare each once per connection.
func (b *Bidder) runBatch(ctx context.Context, auctionID int64, batch []*request) (_ []result, err error) {
	res := make([]result, len(batch))
	// The transaction's own context outlives the statements' deadline, so
	// that a COMMIT is never cut short by it: database/sql rolls back when
	// the BeginTx context ends, and a COMMIT cut off mid-flight leaves the
	// outcome unknown.
	txCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*batchTimeout)
	defer cancel()
	tx, err := b.db.DB.BeginTx(txCtx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin bid batch: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback() //nolint:errcheck // nothing to keep; the batch's own error is the one to report
		}
	}()

	var ids []int64
	for _, req := range batch {
		if id := req.in.BidderID; !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	l, now, err := lockLot(ctx, tx, auctionID, ids)
	if errors.Is(err, sql.ErrNoRows) {
		for i := range res {
			res[i].err = ErrNotFound
		}
		return res, nil
	}
	if err != nil {
		return nil, err
	}

	var rows []Row
	maxes := map[int64]int64{}
	for i, req := range batch {
		in := req.in
		v := b.rules.Judge(l, now, Submission{BidderID: in.BidderID, Max: in.Amount, Message: in.Message})
		if v.Err != nil {
			res[i].err = v.Err
			continue
		}
		maxes[in.BidderID] = max(maxes[in.BidderID], in.Amount)
		res[i].placed = Placed{Result: v.Result, Max: in.Amount, Price: l.Price, MinNext: l.MinNext(),
			Leading: l.LeaderID == in.BidderID, EndsAt: l.EndsAt, Extended: v.Extended}
		res[i].rows = len(v.Rows)
		rows = append(rows, v.Rows...)
	}
	if len(maxes) == 0 {
		return res, nil
	}

	if b.beforeWrite != nil {
		b.beforeWrite()
	}
	rowIDs, err := b.write(ctx, tx, l, now, rows, maxes)
	if err != nil {
		return nil, err
	}
	// Rows were inserted in judging order, and ids are taken in that order:
	// the k-th id is the k-th row, whatever the amounts.
	k := 0
	for i := range res {
		if res[i].err != nil {
			continue
		}
		for _, r := range rows[k : k+res[i].rows] {
			res[i].placed.Bids = append(res[i].placed.Bids, Bid{ID: rowIDs[k], AuctionID: auctionID, BidderID: r.BidderID,
				Bidder: l.Accounts[r.BidderID].Nick, Amount: r.Amount, Message: r.Message, Auto: r.Auto, CreatedAt: now})
			k++
		}
	}
	if b.beforeCommit != nil {
		b.beforeCommit()
	}
	if err = tx.Commit(); err != nil {
		committed = true // whatever happened, a rollback cannot change it now
		return nil, &errUnconfirmed{err: err, ids: rowIDs, maxes: maxes, res: res}
	}
	committed = true
	return res, nil
}

// write stores what the judge decided, in one statement: the bid rows, the
// maximums, the auction's new state and one notification per row. A
// data-modifying WITH runs whether or not its result is read. It returns
// the new rows' ids in row order.
func (b *Bidder) write(ctx context.Context, tx *sql.Tx, l *Lot, now time.Time, rows []Row, maxes map[int64]int64) ([]int64, error) {
	n := len(rows)
	bidders, amounts, autos := make([]int64, n), make([]int64, n), make([]bool, n)
	messages, payloads := make([]string, n), make([]string, n)
	window, until := b.rules.For(l.SoftClose, l.ScheduledEnd)
	for k, r := range rows {
		bidders[k], amounts[k], messages[k], autos[k] = r.BidderID, r.Amount, r.Message, r.Auto
		ev := Event{
			Kind: EventBid, AuctionID: l.ID, SellerID: l.SellerID, Title: l.Title,
			Status: StatusOpen, Price: r.Price, MinNext: minNext(r.BidCount, l.StartPrice, r.Price),
			BidCount: r.BidCount, EndsAt: l.EndsAt, Extensions: l.Extensions, Window: window, Until: until,
			LeaderID: r.LeaderID, Leader: l.Accounts[r.LeaderID].Nick,
			BidderID: r.BidderID, Bidder: l.Accounts[r.BidderID].Nick, Amount: r.Amount, Auto: r.Auto,
			Message: r.Message, At: now, PrevLeader: r.PrevLeader,
		}
		var err error
		if payloads[k], err = encodeEvent(ev); err != nil {
			return nil, err
		}
	}
	maxBidders, maxAmounts := make([]int64, 0, len(maxes)), make([]int64, 0, len(maxes))
	for id, m := range maxes {
		maxBidders, maxAmounts = append(maxBidders, id), append(maxAmounts, m)
	}
	var leader, leaderMax sql.NullInt64
	if l.LeaderID != 0 {
		leader = sql.NullInt64{Int64: l.LeaderID, Valid: true}
		leaderMax = sql.NullInt64{Int64: l.LeaderMax, Valid: true}
	}
	// unnest … WITH ORDINALITY ORDER BY keeps the rows in judging order, and
	// each takes the next id as it is inserted. Each notification gets its
	// row's id and is sent in that order (the select list is evaluated after
	// the sort).
	q, err := tx.QueryContext(ctx, `WITH ins AS (
			INSERT INTO bids (auction_id, bidder_id, amount, message, auto, created_at)
			SELECT $1, r.b, r.a, r.m, r.x, $6 FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bool[])
				WITH ORDINALITY AS r(b, a, m, x, n) ORDER BY r.n
			RETURNING id),
		mx AS (
			INSERT INTO maximums AS m (auction_id, bidder_id, amount)
			SELECT $1, x.b, x.a FROM unnest($7::bigint[], $8::bigint[]) AS x(b, a)
			ON CONFLICT (auction_id, bidder_id) DO UPDATE SET amount = excluded.amount, updated_at = now()
				WHERE m.amount < excluded.amount),
		up AS (
			UPDATE auctions SET current_price = $9, leader_id = $10, leader_max = $11, bid_count = $12,
				ends_at = $13, extensions = $14
			WHERE id = $1),
		ids AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM ins)
		SELECT ids.id, pg_notify($15, jsonb_set(p.payload::jsonb, '{bid_id}', to_jsonb(ids.id))::text)
		FROM ids JOIN unnest($16::text[]) WITH ORDINALITY AS p(payload, n) ON p.n = ids.n
		ORDER BY ids.n`,
		l.ID, bidders, amounts, messages, autos, now, maxBidders, maxAmounts,
		l.Price, leader, leaderMax, l.BidCount, l.EndsAt, l.Extensions, Channel, payloads)
	if err != nil {
		return nil, fmt.Errorf("write bids on %d: %w", l.ID, err)
	}
	defer q.Close()
	ids := make([]int64, 0, n)
	for q.Next() {
		var id int64
		var ignored sql.RawBytes
		if err := q.Scan(&id, &ignored); err != nil {
			return nil, fmt.Errorf("write bids on %d: %w", l.ID, err)
		}
		ids = append(ids, id)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("write bids on %d: %w", l.ID, err)
	}
	if err := q.Close(); err != nil {
		return nil, fmt.Errorf("write bids on %d: %w", l.ID, err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("write bids on %d: %d ids for %d rows", l.ID, len(ids), n)
	}
	return ids, nil
}

// lockLot locks auction auctionID, then the accounts of users ids and of
// its leader, and returns the lot and the time read once every lock is
// held: one statement.
//
// The auction's row is locked first, alone (FOR UPDATE on an outer join is
// refused): the WITH is not inlined, as it locks, and the users' rows are
// reached through it, so they are locked after it. They are locked in id
// order: every writer and the sweeper lock users that way, so two of them
// can never wait on each other in a cycle. FOR NO KEY UPDATE rather than
// FOR UPDATE, because inserting a bid or a listing takes KEY SHARE on the
// user row, and that need not wait. The seller's row is locked too when
// they are among ids (they are refused all the same).
//
// Everything the judge reads comes from locked rows, and after a wait
// PostgreSQL returns a row as the transaction we waited for left it: the
// leader, and each user's committed, are current whatever ran meanwhile.
// The clock is read by the outer query as each locked row comes up, so the
// latest reading follows every wait, and a bid is never stamped earlier
// than the moment it was judged.
func lockLot(ctx context.Context, tx *sql.Tx, auctionID int64, ids []int64) (*Lot, time.Time, error) {
	rows, err := tx.QueryContext(ctx, `WITH a AS (
			SELECT id, seller_id, title, status, start_price, current_price, leader_id, leader_max,
				bid_count, ends_at, scheduled_end, extensions, soft_close
			FROM auctions WHERE id = $1 FOR UPDATE)
		SELECT a.seller_id, a.title, a.status, a.start_price, a.current_price, COALESCE(a.leader_id, 0),
			COALESCE(a.leader_max, 0), a.bid_count, a.ends_at, a.scheduled_end, a.extensions, a.soft_close,
			COALESCE(u.id, 0), COALESCE(u.balance, 0), COALESCE(u.committed, 0), COALESCE(u.nick, ''), clock_timestamp()
		FROM a LEFT JOIN LATERAL (
			SELECT id, balance, committed, nick FROM users
			WHERE a.status = 'open' AND (id = ANY($2) OR id = a.leader_id)
			ORDER BY id FOR NO KEY UPDATE) u ON true`, auctionID, ids)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("lock auction %d: %w", auctionID, err)
	}
	defer rows.Close()
	l := &Lot{ID: auctionID, Accounts: make(map[int64]*Account, len(ids)+1)}
	var now time.Time
	n := 0
	for rows.Next() {
		n++
		var id int64
		var t time.Time
		a := &Account{}
		if err := rows.Scan(&l.SellerID, &l.Title, &l.Status, &l.StartPrice, &l.Price, &l.LeaderID, &l.LeaderMax,
			&l.BidCount, &l.EndsAt, &l.ScheduledEnd, &l.Extensions, &l.SoftClose,
			&id, &a.Balance, &a.Committed, &a.Nick, &t); err != nil {
			return nil, time.Time{}, fmt.Errorf("lock auction %d: %w", auctionID, err)
		}
		if id != 0 {
			l.Accounts[id] = a
		}
		if t.After(now) {
			now = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("lock auction %d: %w", auctionID, err)
	}
	if n == 0 {
		return nil, time.Time{}, sql.ErrNoRows
	}
	return l, now, nil
}
