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

// bidderRow is a bidder's user row as locked by a batch, with the money they
// have committed on other open auctions.
type bidderRow struct {
	balance   int64
	nick      string
	committed int64
}

// runBatch judges batch, in order, against auction auctionID in one
// transaction and commits the accepted bids. It returns one result per
// request; an error means nothing was committed.
func (b *Bidder) runBatch(ctx context.Context, auctionID int64, batch []*request) (_ []result, err error) {
	res := make([]result, len(batch))
	btx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin bid batch: %w", err)
	}
	// The batch's statements go straight to database/sql with $n
	// parameters rather than through bun, which inlines arguments: fixed
	// statement texts let pgx prepare each once per connection instead of
	// preparing a new text on every call, which would double the round
	// trips made while the auction is locked.
	tx := btx.Tx
	defer func() {
		if err != nil {
			btx.Rollback() //nolint:errcheck // the transaction failed already; its error is the one to report
		}
	}()

	// The auction row alone (no join: FOR UPDATE on an outer join is
	// refused, and we want nothing else locked yet).
	var st lockedAuction
	err = tx.QueryRowContext(ctx, `SELECT seller_id, title, status, start_price, current_price,
		COALESCE(leader_id, 0), bid_count, ends_at FROM auctions WHERE id = $1 FOR UPDATE`, auctionID).
		Scan(&st.sellerID, &st.title, &st.status, &st.startPrice, &st.price, &st.leaderID, &st.count, &st.endsAt)
	if errors.Is(err, sql.ErrNoRows) {
		for i := range res {
			res[i].err = ErrNotFound
		}
		return res, btx.Rollback()
	}
	if err != nil {
		return nil, fmt.Errorf("lock auction %d: %w", auctionID, err)
	}

	var ids []int64
	for _, req := range batch {
		if id := req.in.BidderID; id != st.sellerID && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	var bidders map[int64]*bidderRow
	var now time.Time
	if st.status == StatusOpen && len(ids) > 0 {
		if bidders, now, err = lockBidders(ctx, tx, auctionID, ids); err != nil {
			return nil, err
		}
	}
	running := st.status == StatusOpen && now.Before(st.endsAt)

	type accepted struct {
		i          int
		bidder     *bidderRow
		prevLeader int64
	}
	var acc []accepted
	for i, req := range batch {
		in := req.in
		bidder := bidders[in.BidderID]
		next := minNext(st.count, st.startPrice, st.price)
		switch {
		case in.BidderID == st.sellerID:
			res[i].err = ErrOwnAuction
		case !running:
			res[i].err = ErrEnded
		case bidder == nil:
			res[i].err = fmt.Errorf("place bid: bidder %d does not exist", in.BidderID)
		case in.Amount < next && st.count == 0:
			res[i].err = withAmount(ErrBelowStart, next)
		case in.Amount < next:
			res[i].err = withAmount(ErrTooLow, next)
		case in.BidderID == st.leaderID:
			res[i].err = ErrAlreadyLeading
		case bidder.balance-bidder.committed < in.Amount:
			res[i].err = withAmount(ErrInsufficientFunds, max(0, bidder.balance-bidder.committed))
		default:
			acc = append(acc, accepted{i: i, bidder: bidder, prevLeader: st.leaderID})
			st.price, st.leaderID = in.Amount, in.BidderID
			st.count++
		}
	}
	if len(acc) == 0 {
		return res, btx.Rollback()
	}

	// One INSERT for the batch. created_at is the time read under the locks:
	// the bids_guard trigger checks it against ends_at. unnest yields the
	// rows in array order, so ids are taken in the order bids were judged.
	bidderIDs := make([]int64, len(acc))
	amounts := make([]int64, len(acc))
	messages := make([]string, len(acc))
	for k, a := range acc {
		in := batch[a.i].in
		bidderIDs[k], amounts[k], messages[k] = in.BidderID, in.Amount, in.Message
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO bids (auction_id, bidder_id, amount, message, created_at)
		SELECT $1, u.b, u.a, u.m, $5 FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS u(b, a, m)
		RETURNING id, amount`, auctionID, bidderIDs, amounts, messages, now)
	if err != nil {
		return nil, fmt.Errorf("insert bids: %w", err)
	}
	// Accepted amounts strictly increase, so the amount names its bid
	// whatever order RETURNING uses.
	idByAmount := make(map[int64]int64, len(acc))
	for rows.Next() {
		var id, amount int64
		if err = rows.Scan(&id, &amount); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insert bids: %w", err)
		}
		idByAmount[amount] = id
	}
	if err = rows.Close(); err != nil {
		return nil, fmt.Errorf("insert bids: %w", err)
	}
	if err = rows.Err(); err != nil {
		return nil, fmt.Errorf("insert bids: %w", err)
	}

	payloads := make([]string, len(acc))
	count := st.count - len(acc)
	for k, a := range acc {
		in := batch[a.i].in
		count++
		bid := Bid{ID: idByAmount[in.Amount], AuctionID: auctionID, BidderID: in.BidderID, Bidder: a.bidder.nick,
			Amount: in.Amount, Message: in.Message, CreatedAt: now}
		res[a.i].bid = bid
		ev := Event{
			Kind: EventBid, AuctionID: auctionID, SellerID: st.sellerID, Title: st.title,
			Status: StatusOpen, Price: in.Amount, MinNext: minNext(count, st.startPrice, in.Amount),
			BidCount: count, EndsAt: st.endsAt, LeaderID: in.BidderID, Leader: a.bidder.nick,
			BidID: bid.ID, BidderID: in.BidderID, Bidder: a.bidder.nick, Amount: in.Amount,
			Message: in.Message, At: now, PrevLeader: a.prevLeader,
		}
		if payloads[k], err = encodeEvent(ev); err != nil {
			return nil, err
		}
	}
	// The auction's new state and the notifications in one statement: a
	// data-modifying WITH runs whether or not its result is read.
	if _, err = tx.ExecContext(ctx, `WITH u AS (
			UPDATE auctions SET current_price = $2, leader_id = $3, bid_count = $4 WHERE id = $1)
		SELECT pg_notify($5, p) FROM unnest($6::text[]) AS p`,
		auctionID, st.price, st.leaderID, st.count, Channel, payloads); err != nil {
		return nil, fmt.Errorf("update auction %d: %w", auctionID, err)
	}
	if err = btx.Commit(); err != nil {
		return nil, fmt.Errorf("commit bids: %w", err)
	}
	return res, nil
}

// lockBidders locks the bidders' user rows, then reads what each has
// committed on other open auctions, and the time.
//
// The rows are locked in id order: every writer and the sweeper lock users
// that way, so two of them can never wait on each other in a cycle.
// FOR NO KEY UPDATE rather than FOR UPDATE, because inserting a bid or a
// listing takes KEY SHARE on the user row, and that need not wait.
//
// The commitments are read by a second statement, after the locks are held:
// under READ COMMITTED it sees every bid committed by the writers we waited
// for. The time is read there too, after every wait, so a bid is never
// stamped earlier than the moment it was judged.
func lockBidders(ctx context.Context, tx *sql.Tx, auctionID int64, ids []int64) (map[int64]*bidderRow, time.Time, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, balance, nick FROM users WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, ids)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("lock bidders: %w", err)
	}
	bidders := make(map[int64]*bidderRow, len(ids))
	for rows.Next() {
		var id int64
		u := &bidderRow{}
		if err := rows.Scan(&id, &u.balance, &u.nick); err != nil {
			rows.Close()
			return nil, time.Time{}, fmt.Errorf("lock bidders: %w", err)
		}
		bidders[id] = u
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("lock bidders: %w", err)
	}

	rows, err = tx.QueryContext(ctx, `SELECT u.id, COALESCE(sum(a.current_price), 0)::bigint, clock_timestamp()
		FROM unnest($1::bigint[]) AS u(id)
		LEFT JOIN auctions a ON a.leader_id = u.id AND a.status = 'open' AND a.id <> $2
		GROUP BY u.id`, ids, auctionID)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read commitments: %w", err)
	}
	defer rows.Close()
	var now time.Time
	for rows.Next() {
		var id, committed int64
		if err := rows.Scan(&id, &committed, &now); err != nil {
			return nil, time.Time{}, fmt.Errorf("read commitments: %w", err)
		}
		if u := bidders[id]; u != nil {
			u.committed = committed
		}
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("read commitments: %w", err)
	}
	return bidders, now, nil
}
