package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// MaxWatches is how many auctions one user may watch at once.
const MaxWatches = 300

// Errors of Watch.
var (
	ErrTooManyWatches = errors.New("notify: watch list full")
	ErrOwnAuction     = errors.New("notify: a seller does not watch their own listing")
	ErrNoAuction      = errors.New("notify: no such auction")
)

// Watch adds (on) or removes auction from user's watch list; both are
// idempotent. It returns whether the user watches it afterwards. A full
// list (MaxWatches) or the seller's own listing is refused and changes
// nothing. Concurrent adds of one user are serialised on their user row,
// so the cap holds.
//
// added, when not nil, runs in the transaction that adds a watch (its
// ending-soon reminder is queued there).
func Watch(ctx context.Context, db bun.IDB, user, auction int64, on bool, added func(ctx context.Context, tx bun.Tx) error) (bool, error) {
	if !on {
		if _, err := db.ExecContext(ctx, `DELETE FROM watches WHERE user_id = ? AND auction_id = ?`, user, auction); err != nil {
			return false, fmt.Errorf("unwatch %d: %w", auction, err)
		}
		return false, nil
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var seller int64
		if err := tx.QueryRowContext(ctx, `SELECT seller_id FROM auctions WHERE id = ?`, auction).Scan(&seller); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNoAuction
			}
			return err
		}
		if seller == user {
			return ErrOwnAuction
		}
		// FOR NO KEY UPDATE would conflict with the bid writer's lock on
		// the same row; an advisory lock on the user serialises adds alone.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?, ?::int)`, watchLockSpace, user%(1<<31)); err != nil {
			return err
		}
		var n int
		var already bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*), bool_or(auction_id = ?) FROM watches WHERE user_id = ?`,
			auction, user).Scan(&n, &sqlBool{&already}); err != nil {
			return err
		}
		if already {
			return nil
		}
		if n >= MaxWatches {
			return ErrTooManyWatches
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO watches (user_id, auction_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, user, auction); err != nil {
			return err
		}
		if added != nil {
			return added(ctx, tx)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrTooManyWatches) || errors.Is(err, ErrOwnAuction) || errors.Is(err, ErrNoAuction) {
			return false, err
		}
		return false, fmt.Errorf("watch %d: %w", auction, err)
	}
	return true, nil
}

// watchLockSpace is the first key of Watch's advisory lock.
const watchLockSpace = 12

// sqlBool scans a nullable boolean (false when NULL).
type sqlBool struct{ b *bool }

func (s *sqlBool) Scan(v any) error {
	var nb sql.NullBool
	if err := nb.Scan(v); err != nil {
		return err
	}
	*s.b = nb.Valid && nb.Bool
	return nil
}

// Watching reports whether user watches auction.
func Watching(ctx context.Context, db bun.IDB, user, auction int64) (bool, error) {
	var ok bool
	err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM watches WHERE user_id = ? AND auction_id = ?)`,
		user, auction).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("watching %d: %w", auction, err)
	}
	return ok, nil
}

// WatcherCounts returns how many users watch each of auctions (absent:
// none). It says how many, never who: for the seller's own pages.
func WatcherCounts(ctx context.Context, db bun.IDB, auctions []int64) (map[int64]int, error) {
	counts := map[int64]int{}
	if len(auctions) == 0 {
		return counts, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT auction_id, count(*) FROM watches
		WHERE auction_id = ANY(?::bigint[]) GROUP BY auction_id`, pgdialect.Array(auctions))
	if err != nil {
		return nil, fmt.Errorf("watcher counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a int64
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return nil, err
		}
		counts[a] = n
	}
	return counts, rows.Err()
}
