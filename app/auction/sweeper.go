package auction

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Sweeper settles auctions whose end has passed. Every instance runs one:
// each auction is claimed with FOR UPDATE SKIP LOCKED and settled in the
// same transaction as its ledger moves, so any number of sweepers settle it
// exactly once, and one that starts after downtime simply catches up.
type Sweeper struct {
	db   *bun.DB
	log  *slog.Logger
	wake chan struct{}
	// maxSleep bounds the wait between sweeps, so an auction closes within
	// about this long of its end even when nothing wakes the sweeper.
	maxSleep time.Duration
}

// NewSweeper returns a sweeper over db; logger may be nil. Start it with Run.
func NewSweeper(db *bun.DB, logger *slog.Logger) *Sweeper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sweeper{db: db, log: logger, wake: make(chan struct{}, 1), maxSleep: 250 * time.Millisecond}
}

// Wake makes a sleeping sweeper look for due auctions now.
func (s *Sweeper) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// keyLife is how long a bid form's key is remembered: a retry comes within
// seconds, a stale tab's form may be posted hours later.
const keyLife = 24 * time.Hour

// Run settles due auctions until ctx ends, then returns nil. Now and then
// it also forgets bid form keys past keyLife.
func (s *Sweeper) Run(ctx context.Context) error {
	var purged time.Time
	for {
		if time.Since(purged) > time.Hour {
			purged = time.Now()
			if _, err := s.db.ExecContext(ctx, `DELETE FROM bid_keys WHERE created_at < now() - ?::interval`,
				fmt.Sprintf("%d seconds", int64(keyLife/time.Second))); err != nil && ctx.Err() == nil {
				s.log.Error("forget old bid keys", "err", err)
			}
		}
		wait := s.maxSleep
		if _, err := s.SettleDue(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Error("settle auctions", "err", err)
			}
		} else if next, err := s.untilNext(ctx); err == nil && next < wait {
			// An auction still due now was skipped because a bid batch held
			// its lock: look again soon, without spinning.
			wait = max(next, 25*time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// untilNext asks the database how long until the next open auction ends:
// its clock, not ours, decides when an auction is due.
func (s *Sweeper) untilNext(ctx context.Context) (time.Duration, error) {
	var us sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT (extract(epoch FROM min(ends_at) - now()) * 1000000)::bigint
		FROM auctions WHERE status = 'open'`).Scan(&us)
	if err != nil {
		return 0, err
	}
	if !us.Valid {
		return s.maxSleep, nil
	}
	// A hair past the end, so the auction is due when we look.
	return time.Duration(us.Int64)*time.Microsecond + time.Millisecond, nil
}

// SettleDue settles every auction due now, one transaction each, and
// returns how many it settled. An auction that fails to settle is logged
// and skipped until the next call, so it cannot hold up the others.
func (s *Sweeper) SettleDue(ctx context.Context) (int, error) {
	n := 0
	var failed []int64
	var firstErr error
	for ctx.Err() == nil {
		id, err := settleOne(ctx, s.db, failed)
		if err != nil {
			var se *settleError
			if !errors.As(err, &se) {
				return n, err
			}
			s.log.Error("settle auction", "auction", se.id, "err", se.err)
			failed = append(failed, se.id)
			firstErr = cmpOr(firstErr, err)
			continue
		}
		if id == 0 {
			break
		}
		n++
	}
	return n, firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// settleError is a failure to settle one claimed auction.
type settleError struct {
	id  int64
	err error
}

func (e *settleError) Error() string { return fmt.Sprintf("settle auction %d: %v", e.id, e.err) }
func (e *settleError) Unwrap() error { return e.err }

// settleOne claims the due auction that ended first, skipping those in
// skip, settles it, and returns its id (0 when none is due).
func settleOne(ctx context.Context, db bun.IDB, skip []int64) (int64, error) {
	var id int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// SKIP LOCKED: an auction another sweeper is settling, or a bid batch
		// holds, is left for later instead of waited for. A batch that holds
		// it finds it open and before its end only if it got there first;
		// one that extended its end has moved it out of "ends_at <= now()"
		// by the time the row is free, and PostgreSQL checks the condition
		// again on the row it locks.
		l, err := claim(ctx, tx, `status = 'open' AND ends_at <= now() AND id <> ALL(?::bigint[])
			ORDER BY ends_at LIMIT 1 FOR UPDATE SKIP LOCKED`, pgArrayOf(skip))
		if errors.Is(err, sql.ErrNoRows) {
			id = 0
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim due auction: %w", err)
		}
		id = l.ID
		if err := settle(ctx, tx, l); err != nil {
			return &settleError{id, err}
		}
		return nil
	})
	return id, err
}

// claim reads and locks the auction row that where (with its ORDER BY and
// locking clause) picks.
func claim(ctx context.Context, tx bun.IDB, where string, args ...any) (*Lot, error) {
	l := &Lot{}
	err := tx.QueryRowContext(ctx, `SELECT id, seller_id, title, status, start_price, current_price,
		COALESCE(leader_id, 0), COALESCE(leader_max, 0), bid_count, ends_at, scheduled_end, extensions, soft_close,
		COALESCE(reserve, 0), COALESCE(buy_now, 0), COALESCE(end_reason, '')
		FROM auctions WHERE `+where, args...).
		Scan(&l.ID, &l.SellerID, &l.Title, &l.Status, &l.StartPrice, &l.Price, &l.LeaderID, &l.LeaderMax,
			&l.BidCount, &l.EndsAt, &l.ScheduledEnd, &l.Extensions, &l.SoftClose, &l.Reserve, &l.BuyNow, &l.EndReason)
	return l, err
}

// settle closes lot l, open and past its end, whose row tx holds locked: sold
// to its leader at the price, with the money moved in the same
// transaction; or unsold when nobody bid, or when the price stayed below
// the reserve (no money moves, and the leader's maximum is no longer
// committed). The event goes out at commit.
func settle(ctx context.Context, tx bun.Tx, l *Lot) error {
	steps, err := settlement(l)
	if err != nil {
		return err
	}
	for _, st := range steps {
		if _, err := tx.Tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return err
		}
	}
	return nil
}

// stmt is one SQL statement with $n parameters, for database/sql and pgx
// alike.
type stmt struct {
	sql  string
	args []any
}

// settlement is the statements that close l, in order: the sweeper runs
// them one by one, a bid batch that took a purchase sends them with its
// write, before its COMMIT. l.EndReason is ReasonBought after a purchase.
func settlement(l *Lot) ([]stmt, error) {
	ev := l.event(EventClosed)
	ev.EndReason = l.EndReason
	var steps []stmt
	if l.BidCount == 0 || (l.Reserve > 0 && l.Price < l.Reserve) {
		ev.Status = StatusUnsold
		var reason any // NULL: nobody bid
		if l.BidCount > 0 {
			ev.EndReason, reason = ReasonReserveNotMet, ReasonReserveNotMet
		}
		// Leaving 'open' releases the leader's commitment (the
		// auctions_commit trigger).
		steps = append(steps, stmt{`UPDATE auctions SET status = 'unsold', settled_at = now(), end_reason = $2 WHERE id = $1`,
			[]any{l.ID, reason}})
	} else {
		ev.Status = StatusSold
		var reason any
		if l.EndReason != "" {
			reason = l.EndReason
		}
		steps = append(steps,
			// Both users in id order, like every bid batch, before the
			// triggers update them (a batch holds them already).
			stmt{`SELECT id FROM users WHERE id IN ($1, $2) ORDER BY id FOR NO KEY UPDATE`, []any{l.SellerID, l.LeaderID}},
			// The status first: it releases the winner's commitment (their
			// maximum), which must go before the price leaves their balance.
			stmt{`UPDATE auctions SET status = 'sold', winner_id = leader_id, final_price = current_price,
				settled_at = now(), end_reason = $2 WHERE id = $1`, []any{l.ID, reason}},
			// The unique index ledger_settles_once makes a second payment
			// impossible even if everything above were wrong.
			stmt{`INSERT INTO ledger (user_id, kind, amount, auction_id) VALUES ($1, 'purchase', $2, $3), ($4, 'sale', $5, $3)`,
				[]any{l.LeaderID, -l.Price, l.ID, l.SellerID, l.Price}})
	}
	payload, err := encodeEvent(ev)
	if err != nil {
		return nil, err
	}
	// The leader's nick (the winner's, once sold) joins the event here, so
	// that nothing has to be read before.
	return append(steps, stmt{`SELECT pg_notify($1::text, CASE WHEN u.nick IS NULL THEN $2::text
			ELSE jsonb_set($2::jsonb, '{leader}', to_jsonb(u.nick))::text END)
		FROM (SELECT 1) one LEFT JOIN users u ON u.id = $3`, []any{Channel, payload, l.LeaderID}}), nil
}

// pgArrayOf is ids as a PostgreSQL array, never NULL: "<> ALL(NULL)" would
// match nothing.
func pgArrayOf(ids []int64) any {
	if ids == nil {
		ids = []int64{}
	}
	return pgdialect.Array(ids)
}
