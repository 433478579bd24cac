// Package wallet reads a user's money (balance, what their leading bids
// commit, the ledger) and takes demo deposits. Balances move only through
// ledger rows: the ledger_apply trigger keeps users.balance equal to their
// sum. Plain Go on bun.IDB; no HTTP here.
package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// PageSize is how many ledger rows one page shows.
const PageSize = 20

// Summary is a user's money at a glance.
type Summary struct {
	Balance   int64 // sum of the ledger
	Committed int64 // the user's maximums on the open auctions they lead
}

// Available is what the user can still bid.
func (s Summary) Available() int64 { return s.Balance - s.Committed }

// Summarize reads userID's balance and commitments in one statement, so the
// two agree with each other.
func Summarize(ctx context.Context, db bun.IDB, userID int64) (Summary, error) {
	var s Summary
	err := db.NewRaw(`SELECT u.balance,
			(SELECT coalesce(sum(amount), 0) FROM commitments WHERE user_id = u.id)
		FROM users u WHERE u.id = ?`, userID).Scan(ctx, &s.Balance, &s.Committed)
	if err != nil {
		return s, fmt.Errorf("wallet summary: %w", err)
	}
	return s, nil
}

// Entry is one ledger row.
type Entry struct {
	ID        int64     `bun:"id"`
	Kind      string    `bun:"kind"` // signup, deposit, purchase, sale
	Amount    int64     `bun:"amount"`
	AuctionID *int64    `bun:"auction_id"`
	Title     string    `bun:"title"` // of the auction, for purchases and sales
	CreatedAt time.Time `bun:"created_at"`
}

// History returns a page of userID's ledger, newest first: the rows older
// than before (0: the newest page), and the id to pass as before for the
// next page (0 when there is none).
func History(ctx context.Context, db bun.IDB, userID, before int64) ([]Entry, int64, error) {
	var rows []Entry
	err := db.NewRaw(`SELECT l.id, l.kind, l.amount, l.auction_id, coalesce(a.title, '') AS title, l.created_at
		FROM ledger l LEFT JOIN auctions a ON a.id = l.auction_id
		WHERE l.user_id = ? AND (? = 0 OR l.id < ?)
		ORDER BY l.id DESC LIMIT ?`, userID, before, before, PageSize+1).Scan(ctx, &rows)
	if err != nil {
		return nil, 0, fmt.Errorf("wallet history: %w", err)
	}
	var next int64
	if len(rows) > PageSize {
		rows = rows[:PageSize]
		next = rows[PageSize-1].ID
	}
	return rows, next, nil
}

// Limits bound deposits.
type Limits struct {
	Min, Max int64 // one deposit
	DailyCap int64 // all of one user's deposits in any 24 hours
}

// Deposit errors.
var (
	ErrTooSmall = errors.New("deposit below the minimum")
	ErrTooLarge = errors.New("deposit above the maximum")
)

// CapError says a deposit would pass the rolling 24-hour cap, and how much
// may still be deposited.
type CapError struct{ Remaining int64 }

func (e *CapError) Error() string {
	return fmt.Sprintf("deposit passes the daily cap (%d left)", e.Remaining)
}

// DepositWindow is the rolling window of the daily cap.
const DepositWindow = 24 * time.Hour

// Deposit credits amount to userID with a 'deposit' ledger row. In one
// transaction it locks the user's row, so that concurrent deposits of one
// user take turns and the cap check sees every earlier one.
func Deposit(ctx context.Context, db *bun.DB, userID, amount int64, lim Limits) error {
	if amount < lim.Min {
		return ErrTooSmall
	}
	if amount > lim.Max {
		return ErrTooLarge
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var id int64
		if err := tx.NewRaw(`SELECT id FROM users WHERE id = ? FOR UPDATE`, userID).Scan(ctx, &id); err != nil {
			return err
		}
		// clock_timestamp, not now(): now() is when this transaction began,
		// which may be long before it got the lock.
		var recent int64
		if err := tx.NewRaw(`SELECT coalesce(sum(amount), 0) FROM ledger
			WHERE user_id = ? AND kind = 'deposit' AND created_at > clock_timestamp() - ?::interval`,
			userID, fmt.Sprintf("%d seconds", int64(DepositWindow/time.Second))).Scan(ctx, &recent); err != nil {
			return err
		}
		if recent+amount > lim.DailyCap {
			return &CapError{Remaining: max(lim.DailyCap-recent, 0)}
		}
		_, err := tx.NewRaw(`INSERT INTO ledger (user_id, kind, amount, created_at) VALUES (?, 'deposit', ?, clock_timestamp())`,
			userID, amount).Exec(ctx)
		return err
	})
	var ce *CapError
	if err != nil && !errors.As(err, &ce) {
		return fmt.Errorf("deposit: %w", err)
	}
	return err
}
