package auction

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// retryable reports a transaction PostgreSQL aborted only because of its
// timing with others (serialization failure, deadlock): running it again
// can succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// lockWait bounds getting a connection and the batch's locks: a little
// more than the pool's lock_timeout (5 s), after which PostgreSQL gives up
// waiting itself. Nothing is written by then, so giving up is safe.
const lockWait = 6 * time.Second

// errUnconfirmed marks a batch whose COMMIT got no answer: it may or may not
// have taken effect, and must be found out, never run again blindly.
type errUnconfirmed struct {
	err error
	// at is the time the batch stamped its rows with, to find them by;
	// rows how many it wrote.
	at   time.Time
	rows int
	// maxes are the maximums it wrote, to look for when it wrote no row.
	maxes map[int64]int64
	// answer gives the answers, should it have committed, with the ids
	// its rows took.
	answer func(ids []int64) []result
}

func (e *errUnconfirmed) Error() string { return "commit bids: " + e.err.Error() }
func (e *errUnconfirmed) Unwrap() error { return e.err }

// runBatch judges batch, in order, against auction auctionID in one
// transaction and commits what it accepted. It returns one result per
// request; an error means nothing was committed, or (errUnconfirmed) that
// nobody knows yet.
//
// The batch talks to pgx directly, on a connection of the pool, so that it
// can pipeline: two round trips whatever the batch holds. The first sends
// BEGIN and the statement that locks the auction and the accounts (and
// reads the time); the judge decides; the second sends the one statement
// that writes everything, and COMMIT. The locks are held for one round
// trip and the commit. Statements use $n parameters with fixed texts, so
// pgx prepares each once per connection.
func (b *Bidder) runBatch(ctx context.Context, auctionID int64, batch []*request) (res []result, err error) {
	// A connection, and the locks, within lockWait: a database that does
	// not answer is found out in seconds, not at the batch's deadline.
	cctx, cancel := context.WithTimeout(ctx, lockWait)
	conn, err := b.db.DB.Conn(cctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("bid batch: %w", err)
	}
	defer conn.Close()
	rawErr := conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		res, err = b.runBatchOn(ctx, pc, auctionID, batch)
		var uc *errUnconfirmed
		if errors.As(err, &uc) && !pc.IsClosed() {
			// In no known state: never hand it out again.
			pc.Close(context.WithoutCancel(ctx)) //nolint:errcheck // closing is all that is left to do
		}
		if pc.IsClosed() {
			return driver.ErrBadConn // the pool must not hand it out again
		}
		return nil
	})
	if err == nil && rawErr != nil && !errors.Is(rawErr, driver.ErrBadConn) {
		err = fmt.Errorf("bid batch: %w", rawErr)
	}
	return res, err
}

func (b *Bidder) runBatchOn(ctx context.Context, pc *pgx.Conn, auctionID int64, batch []*request) (_ []result, err error) {
	b.batches.Add(1)
	res := make([]result, len(batch))
	open := false // a transaction is open on pc that nothing has ended
	defer func() {
		if open && !pc.IsClosed() {
			// Nothing to keep; the batch's own error is the one to report.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			pc.Exec(rctx, "ROLLBACK") //nolint:errcheck // a failed rollback closes the connection, which ends the transaction too
			cancel()
		}
	}()

	var ids, keyBidders []int64
	var keys []string
	buying := false // a purchase needs the seller's account too, for its settlement
	for _, req := range batch {
		buying = buying || req.in.Buy
		if id := req.in.BidderID; !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		if req.in.Key != "" {
			keyBidders, keys = append(keyBidders, req.in.BidderID), append(keys, req.in.Key)
		}
	}
	open = true
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	began := time.Now()
	l, now, answered, err := lockLot(lctx, pc, auctionID, ids, buying, keyBidders, keys)
	b.metrics.BidRoundTrip("lock", time.Since(began))
	cancel()
	if errors.Is(err, pgx.ErrNoRows) {
		for i := range res {
			res[i].err = ErrNotFound
		}
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	b.saw(l) // committed: read under the lock

	var rows []Row
	maxes := map[int64]int64{}
	var fresh []keyAnswer // the keys of this batch's accepted submissions
	same := map[submissionKey]int{}
	for i, req := range batch {
		in := req.in
		k := submissionKey{in.BidderID, in.Key}
		if in.Key != "" {
			// Placed before: answered as then. Twice in this batch: the
			// second gets the first's answer (filled in below).
			if p, ok := answered[k]; ok {
				res[i].placed = p
				continue
			}
			if j, ok := same[k]; ok {
				res[i].copyOf = j + 1
				continue
			}
			same[k] = i
		}
		v := b.rules.Judge(l, now, Submission{BidderID: in.BidderID, Max: in.Amount, Message: in.Message, Buy: in.Buy})
		if v.Err != nil {
			res[i].err = v.Err
			continue
		}
		maxes[in.BidderID] = max(maxes[in.BidderID], in.Amount)
		res[i].placed = Placed{Result: v.Result, Max: in.Amount, Price: l.Price, MinNext: l.MinNext(),
			Leading: l.LeaderID == in.BidderID, EndsAt: l.EndsAt, Extended: v.Extended}
		res[i].rows = len(v.Rows)
		rows = append(rows, v.Rows...)
		if in.Key != "" {
			fresh = append(fresh, keyAnswer{k, res[i].placed})
		}
	}
	defer copyAnswers(res)
	if len(maxes) == 0 {
		return res, nil // and the deferred ROLLBACK lets the locks go
	}

	if b.beforeWrite != nil {
		b.beforeWrite()
	}
	began = time.Now()
	rowIDs, err := b.writeAndCommit(ctx, pc, l, now, rows, maxes, fresh)
	b.metrics.BidRoundTrip("write", time.Since(began))
	var uc *errUnconfirmed
	if errors.As(err, &uc) {
		open = false
		uc.at, uc.rows, uc.maxes = now, len(rows), maxes
		uc.answer = func(ids []int64) []result {
			fillBids(res, rows, ids, l, now)
			copyAnswers(res)
			return res
		}
		return nil, uc
	}
	if err != nil {
		return nil, err
	}
	open = false
	b.saw(l)
	fillBids(res, rows, rowIDs, l, now)
	return res, nil
}

// submissionKey names a submission by its bidder and form key.
type submissionKey struct {
	bidder int64
	key    string
}

// keyAnswer is a keyed submission's answer, kept for its repeats.
type keyAnswer struct {
	k      submissionKey
	placed Placed
}

// copyAnswers gives each repeat of a keyed submission within one batch the
// answer of its first.
func copyAnswers(res []result) {
	for i := range res {
		if j := res[i].copyOf; j > 0 {
			res[i].placed, res[i].err, res[i].rows = res[j-1].placed, res[j-1].err, 0
		}
	}
}

// fillBids gives each accepted result its rows. Rows were inserted in
// judging order, and ids are taken in that order: the k-th id is the k-th
// row, whatever the amounts.
func fillBids(res []result, rows []Row, ids []int64, l *Lot, now time.Time) {
	k := 0
	for i := range res {
		if res[i].err != nil || res[i].rows == 0 {
			continue
		}
		res[i].placed.Bids = nil
		for _, r := range rows[k : k+res[i].rows] {
			res[i].placed.Bids = append(res[i].placed.Bids, Bid{ID: ids[k], AuctionID: l.ID, BidderID: r.BidderID,
				Bidder: l.Accounts[r.BidderID].Nick, Amount: r.Amount, Message: r.Message, Auto: r.Auto, Purchase: r.Purchase, CreatedAt: now})
			k++
		}
	}
}

// writeAndCommit stores what the judge decided, in one statement, and
// commits, in one round trip: the bid rows, the maximums, the auction's new
// state and one notification per row. A data-modifying WITH runs whether
// or not its result is read. It returns the new rows' ids in row order. A
// COMMIT that got no answer is an *errUnconfirmed; one PostgreSQL refused
// (it rolled back) is a plain error.
func (b *Bidder) writeAndCommit(ctx context.Context, pc *pgx.Conn, l *Lot, now time.Time, rows []Row, maxes map[int64]int64, keyed []keyAnswer) ([]int64, error) {
	n := len(rows)
	bidders, amounts, autos, purchases := make([]int64, n), make([]int64, n), make([]bool, n), make([]bool, n)
	messages, payloads := make([]string, n), make([]string, n)
	for k, r := range rows {
		bidders[k], amounts[k], messages[k], autos[k], purchases[k] = r.BidderID, r.Amount, r.Message, r.Auto, r.Purchase
		// The state after this row; the end is the one after the batch.
		ev := l.event(EventBid)
		ev.Price, ev.MinNext, ev.BidCount = r.Price, minNext(r.BidCount, l.StartPrice, r.Price), r.BidCount
		ev.LeaderID, ev.Leader = r.LeaderID, l.Accounts[r.LeaderID].Nick
		ev.BidderID, ev.Bidder, ev.Amount, ev.Auto = r.BidderID, l.Accounts[r.BidderID].Nick, r.Amount, r.Auto
		ev.Message, ev.At, ev.PrevLeader, ev.Purchase = r.Message, now, r.PrevLeader, r.Purchase
		ev.ReserveMet = reserveMet(l.Reserve, r.BidCount, r.Price)
		// A purchase's closing follows its row in this transaction.
		ev.More = k < n-1 || l.EndReason == ReasonBought
		var err error
		if payloads[k], err = encodeEvent(ev); err != nil {
			return nil, err
		}
	}
	maxBidders, maxAmounts := make([]int64, 0, len(maxes)), make([]int64, 0, len(maxes))
	for id, m := range maxes {
		maxBidders, maxAmounts = append(maxBidders, id), append(maxAmounts, m)
	}
	keyBidders, keys, answers := make([]int64, len(keyed)), make([]string, len(keyed)), make([]string, len(keyed))
	for i, ka := range keyed {
		a, err := json.Marshal(ka.placed)
		if err != nil {
			return nil, fmt.Errorf("encode answer: %w", err)
		}
		keyBidders[i], keys[i], answers[i] = ka.k.bidder, ka.k.key, string(a)
	}
	var leader, leaderMax *int64
	if l.LeaderID != 0 {
		leader, leaderMax = &l.LeaderID, &l.LeaderMax
	}
	// unnest … WITH ORDINALITY ORDER BY keeps the rows in judging order, and
	// each takes the next id as it is inserted. Each notification gets its
	// row's id and is sent in that order (the select list is evaluated after
	// the sort).
	var pb pgx.Batch
	pb.Queue(`WITH ins AS (
			INSERT INTO bids (auction_id, bidder_id, amount, message, auto, purchase, created_at)
			SELECT $1, r.b, r.a, r.m, r.x, r.p, $6 FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bool[], $20::bool[])
				WITH ORDINALITY AS r(b, a, m, x, p, n) ORDER BY r.n
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
		ks AS (
			INSERT INTO bid_keys (bidder_id, key, auction_id, answer)
			SELECT k.b, k.k, $1, k.a::jsonb FROM unnest($17::bigint[], $18::text[], $19::text[]) AS k(b, k, a)),
		ids AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM ins)
		SELECT ids.id, pg_notify($15, jsonb_set(p.payload::jsonb, '{bid_id}', to_jsonb(ids.id))::text)
		FROM ids JOIN unnest($16::text[]) WITH ORDINALITY AS p(payload, n) ON p.n = ids.n
		ORDER BY ids.n`,
		l.ID, bidders, amounts, messages, autos, now, maxBidders, maxAmounts,
		l.Price, leader, leaderMax, l.BidCount, l.EndsAt, l.Extensions, Channel, payloads, keyBidders, keys, answers, purchases)
	if l.EndReason == ReasonBought {
		// A purchase ends the auction at once and is settled with it. The
		// auction is still 'open' for the write above (the bids_guard
		// trigger checks that), and is sold by these.
		steps, err := settlement(l)
		if err != nil {
			return nil, err
		}
		for _, st := range steps {
			pb.Queue(st.sql, st.args...)
		}
	}
	pb.Queue("COMMIT")
	// The round trip's own context outlives the batch's deadline: a COMMIT
	// cut off mid-flight would leave the outcome unknown for nothing.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*batchTimeout)
	defer cancel()
	br := pc.SendBatch(cctx, &pb)
	ids := make([]int64, 0, n)
	q, err := br.Query()
	// Behind the write: the settlement of a purchase, if the batch took
	// one, then the COMMIT.
	after := len(pb.QueuedQueries) - 1
	if err == nil {
		for q.Next() {
			var id int64
			if err = q.Scan(&id, nil); err != nil {
				break
			}
			ids = append(ids, id)
		}
		q.Close()
		if err == nil {
			err = q.Err()
		}
	}
	if err != nil {
		br.Close()
		if !pc.IsClosed() {
			// PostgreSQL refused the write; the COMMIT behind it was
			// skipped, and the caller rolls back.
			return nil, fmt.Errorf("write bids on %d: %w", l.ID, err)
		}
		return nil, &errUnconfirmed{err: err}
	}
	for range after {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	cerr := br.Close()
	if err == nil {
		err = cerr
	}
	var pe *pgconn.PgError
	switch {
	case err == nil:
	case errors.As(err, &pe):
		// Refused at COMMIT (a deferred check): rolled back for sure.
		return nil, fmt.Errorf("commit bids on %d: %w", l.ID, err)
	default:
		return nil, &errUnconfirmed{err: err}
	}
	if len(ids) != n {
		return nil, fmt.Errorf("write bids on %d: %d ids for %d rows", l.ID, len(ids), n)
	}
	return ids, nil
}

// lockLot locks auction auctionID, then the accounts of users ids and of
// its leader, and returns the lot and the time read once every lock is
// held: one statement, sent with the BEGIN.
//
// The auction's row is locked first, alone (FOR UPDATE on an outer join is
// refused): the WITH is not inlined, as it locks, and the users' rows are
// reached through it, so they are locked after it. They are locked in id
// order: every writer and the sweeper lock users that way, so two of them
// can never wait on each other in a cycle. FOR NO KEY UPDATE rather than
// FOR UPDATE, because inserting a bid or a listing takes KEY SHARE on the
// user row, and that need not wait. The seller's row is locked too when
// they are among ids (they are refused all the same), and when seller is
// set: a purchase is settled in the batch, and pays them.
//
// Everything the judge reads comes from locked rows, and after a wait
// PostgreSQL returns a row as the transaction we waited for left it: the
// leader, and each user's committed, are current whatever ran meanwhile.
// The clock is read by the outer query as each locked row comes up, so the
// latest reading follows every wait, and a bid is never stamped earlier
// than the moment it was judged.
func lockLot(ctx context.Context, pc *pgx.Conn, auctionID int64, ids []int64, seller bool, keyBidders []int64, keys []string) (*Lot, time.Time, map[submissionKey]Placed, error) {
	var pb pgx.Batch
	pb.Queue("BEGIN")
	pb.Queue(`WITH a AS (
			SELECT id, seller_id, title, status, start_price, current_price, leader_id, leader_max,
				bid_count, ends_at, scheduled_end, extensions, soft_close, reserve, buy_now, end_reason
			FROM auctions WHERE id = $1 FOR UPDATE)
		SELECT a.seller_id, a.title, a.status, a.start_price, a.current_price, COALESCE(a.leader_id, 0),
			COALESCE(a.leader_max, 0), a.bid_count, a.ends_at, a.scheduled_end, a.extensions, a.soft_close,
			COALESCE(a.reserve, 0), COALESCE(a.buy_now, 0), COALESCE(a.end_reason, ''),
			COALESCE(u.id, 0), COALESCE(u.balance, 0), COALESCE(u.committed, 0), COALESCE(u.nick, ''),
			COALESCE(u.suspended, false), clock_timestamp()
		FROM a LEFT JOIN LATERAL (
			SELECT id, balance, committed, nick, suspended_at IS NOT NULL AS suspended FROM users
			WHERE a.status = 'open' AND (id = ANY($2) OR id = a.leader_id OR ($3 AND id = a.seller_id))
			ORDER BY id FOR NO KEY UPDATE) u ON true`, auctionID, ids, seller)
	// The keys already placed, read once the locks are held (a statement of
	// its own, so it sees every batch committed before them).
	if len(keys) > 0 {
		pb.Queue(`SELECT k.bidder_id, k.key, k.answer FROM bid_keys k
			JOIN unnest($1::bigint[], $2::text[]) AS x(b, k) ON k.bidder_id = x.b AND k.key = x.k`, keyBidders, keys)
	}
	br := pc.SendBatch(ctx, &pb)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("begin bid batch: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("lock auction %d: %w", auctionID, err)
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
			&l.BidCount, &l.EndsAt, &l.ScheduledEnd, &l.Extensions, &l.SoftClose, &l.Reserve, &l.BuyNow, &l.EndReason,
			&id, &a.Balance, &a.Committed, &a.Nick, &a.Suspended, &t); err != nil {
			return nil, time.Time{}, nil, fmt.Errorf("lock auction %d: %w", auctionID, err)
		}
		if id != 0 {
			l.Accounts[id] = a
		}
		if t.After(now) {
			now = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("lock auction %d: %w", auctionID, err)
	}
	rows.Close()
	if n == 0 {
		return nil, time.Time{}, nil, pgx.ErrNoRows
	}
	answered := map[submissionKey]Placed{}
	if len(keys) == 0 {
		return l, now, answered, nil
	}
	kr, err := br.Query()
	if err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("read bid keys: %w", err)
	}
	defer kr.Close()
	for kr.Next() {
		var k submissionKey
		var answer []byte
		var p Placed
		if err := kr.Scan(&k.bidder, &k.key, &answer); err != nil {
			return nil, time.Time{}, nil, fmt.Errorf("read bid keys: %w", err)
		}
		if err := json.Unmarshal(answer, &p); err != nil {
			return nil, time.Time{}, nil, fmt.Errorf("read bid keys: %w", err)
		}
		answered[k] = p
	}
	if err := kr.Err(); err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("read bid keys: %w", err)
	}
	return l, now, answered, nil
}
