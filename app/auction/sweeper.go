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
		COALESCE(leader_id, 0), COALESCE(leader_max, 0), bid_count, ends_at, scheduled_end, extensions, soft_close
		FROM auctions WHERE `+where, args...).
		Scan(&l.ID, &l.SellerID, &l.Title, &l.Status, &l.StartPrice, &l.Price, &l.LeaderID, &l.LeaderMax,
			&l.BidCount, &l.EndsAt, &l.ScheduledEnd, &l.Extensions, &l.SoftClose)
	return l, err
}

// settle closes lot l, open and past its end, whose row tx holds locked: sold
// to its leader at the price, with the money moved in the same
// transaction, or unsold when nobody bid. The event goes out at commit.
func settle(ctx context.Context, tx bun.IDB, l *Lot) error {
	ev := l.event(EventClosed)
	if l.BidCount == 0 {
		ev.Status = StatusUnsold
		if _, err := tx.ExecContext(ctx, `UPDATE auctions SET status = 'unsold', settled_at = now() WHERE id = ?`, l.ID); err != nil {
			return err
		}
		return notify(ctx, tx, ev)
	}
	ev.Status = StatusSold
	// Both users in id order, like every bid batch, before the triggers
	// update them.
	if _, err := tx.ExecContext(ctx, `SELECT id FROM users WHERE id IN (?, ?) ORDER BY id FOR NO KEY UPDATE`,
		l.SellerID, l.LeaderID); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT nick FROM users WHERE id = ?`, l.LeaderID).Scan(&ev.Leader); err != nil {
		return err
	}
	// The status first: it releases the winner's commitment (their
	// maximum), which must go before the price leaves their balance.
	if _, err := tx.ExecContext(ctx, `UPDATE auctions SET status = 'sold', winner_id = leader_id,
		final_price = current_price, settled_at = now() WHERE id = ?`, l.ID); err != nil {
		return err
	}
	// The unique index ledger_settles_once makes a second payment
	// impossible even if everything above were wrong.
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger (user_id, kind, amount, auction_id)
		VALUES (?, 'purchase', ?, ?), (?, 'sale', ?, ?)`,
		l.LeaderID, -l.Price, l.ID, l.SellerID, l.Price, l.ID); err != nil {
		return err
	}
	return notify(ctx, tx, ev)
}

// pgArrayOf is ids as a PostgreSQL array, never NULL: "<> ALL(NULL)" would
// match nothing.
func pgArrayOf(ids []int64) any {
	if ids == nil {
		ids = []int64{}
	}
	return pgdialect.Array(ids)
}
