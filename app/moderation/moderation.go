// Package moderation is what operators (ADMINS) may do: cancel any auction
// (moving a sale's money back), hide a listing from the lists, suspend a
// user; each action writes a row of the append-only log in the same
// transaction. Plain Go on bun; no HTTP here.
package moderation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"gavel/app/auction"
)

// Refusals; each carries the message key the page shows.
var (
	ErrReason      = &Error{"admin.err.reason"}       // a reason is required (at most 500 characters)
	ErrNotFound    = &Error{"admin.err.not_found"}    // no such auction or user
	ErrFinished    = &Error{"admin.err.finished"}     // already cancelled, or ended unsold
	ErrSellerShort = &Error{"admin.err.seller_short"} // the seller no longer has the sale's money
)

// Error is a refused action.
type Error struct{ key string }

func (e *Error) Error() string { return "moderation: " + e.key }

// Key is the i18n message key of the refusal.
func (e *Error) Key() string { return e.key }

// MaxReason bounds a reason, in characters.
const MaxReason = 500

func checkReason(r string) (string, error) {
	r = strings.TrimSpace(auction.CleanText(r))
	if r == "" || utf8.RuneCountInString(r) > MaxReason {
		return "", ErrReason
	}
	return r, nil
}

func logAction(ctx context.Context, tx bun.IDB, admin int64, action string, auctionID, userID int64, reason string) error {
	var a, u any
	if auctionID != 0 {
		a = auctionID
	}
	if userID != 0 {
		u = userID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO moderation_log (admin_id, action, auction_id, user_id, reason) VALUES (?, ?, ?, ?, ?)`,
		admin, action, a, u, reason)
	return err
}

// Cancel cancels auction id for operator admin, at any stage, with reason
// (shown to bidders). An open auction's leader is released from their
// maximum; a sold one's price goes back from the seller to the winner
// (refund and reversal rows): balances end as before the sale.
func Cancel(ctx context.Context, db bun.IDB, admin, id int64, reason string) error {
	reason, err := checkReason(reason)
	if err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return cancel(ctx, tx, admin, id, reason)
	})
}

func cancel(ctx context.Context, tx bun.Tx, admin, id int64, reason string) error {
	var status string
	var seller, winner, price int64
	err := tx.QueryRowContext(ctx, `SELECT status, seller_id, COALESCE(winner_id, 0), COALESCE(final_price, 0)
		FROM auctions WHERE id = ? FOR UPDATE`, id).Scan(&status, &seller, &winner, &price)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("cancel auction %d: %w", id, err)
	}
	switch status {
	case auction.StatusCancelled, auction.StatusUnsold:
		return ErrFinished
	case auction.StatusSold:
		// Both users in id order, as every writer locks them.
		var left int64
		if err := tx.QueryRowContext(ctx, `SELECT max(CASE WHEN id = ? THEN balance - committed END)
			FROM (SELECT id, balance, committed FROM users WHERE id IN (?, ?) ORDER BY id FOR NO KEY UPDATE) u`,
			seller, seller, winner).Scan(&left); err != nil {
			return fmt.Errorf("cancel auction %d: %w", id, err)
		}
		if left < price {
			return ErrSellerShort
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger (user_id, kind, amount, auction_id)
			VALUES (?, 'reversal', ?, ?), (?, 'refund', ?, ?)`, seller, -price, id, winner, price, id); err != nil {
			return fmt.Errorf("cancel auction %d: %w", id, err)
		}
	}
	// The status change releases an open auction's leader (the
	// auctions_commit trigger); the notification tells every open page.
	if _, err := tx.ExecContext(ctx, `UPDATE auctions SET status = 'cancelled', cancel_reason = ?,
		settled_at = COALESCE(settled_at, now()) WHERE id = ?`, reason, id); err != nil {
		return fmt.Errorf("cancel auction %d: %w", id, err)
	}
	if err := auction.NotifyCancelled(ctx, tx, id); err != nil {
		return err
	}
	return logAction(ctx, tx, admin, "cancel", id, 0, reason)
}

// SetHidden hides auction id from the lists and search (or shows it
// again), for operator admin with reason. Its room stays reachable.
func SetHidden(ctx context.Context, db bun.IDB, admin, id int64, hidden bool, reason string) error {
	reason, err := checkReason(reason)
	if err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auctions SET hidden = ? WHERE id = ?`, hidden, id)
		if err != nil {
			return fmt.Errorf("hide auction %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		action := "hide"
		if !hidden {
			action = "unhide"
		}
		return logAction(ctx, tx, admin, action, id, 0, reason)
	})
}

// Suspend suspends user for operator admin with reason: they are signed
// out everywhere and can neither bid nor list. With cancelLeading, the
// open auctions they lead are cancelled too (same reason); otherwise their
// leading bids stand. Unsuspend lifts it.
func Suspend(ctx context.Context, db bun.IDB, admin, user int64, reason string, cancelLeading bool) error {
	reason, err := checkReason(reason)
	if err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET suspended_at = COALESCE(suspended_at, now()) WHERE id = ?`, user)
		if err != nil {
			return fmt.Errorf("suspend user %d: %w", user, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if cancelLeading {
			var ids []int64
			if err := tx.NewRaw(`SELECT id FROM auctions WHERE leader_id = ? AND status = 'open' ORDER BY id`, user).Scan(ctx, &ids); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			for _, id := range ids {
				if err := cancel(ctx, tx, admin, id, reason); err != nil {
					return err
				}
			}
		}
		return logAction(ctx, tx, admin, "suspend", 0, user, reason)
	})
}

// Unsuspend lifts user's suspension.
func Unsuspend(ctx context.Context, db bun.IDB, admin, user int64, reason string) error {
	reason, err := checkReason(reason)
	if err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET suspended_at = NULL WHERE id = ?`, user)
		if err != nil {
			return fmt.Errorf("unsuspend user %d: %w", user, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return logAction(ctx, tx, admin, "unsuspend", 0, user, reason)
	})
}

// Entry is one row of the log, with the names it points at.
type Entry struct {
	ID        int64     `bun:"id"`
	Admin     string    `bun:"admin"`
	Action    string    `bun:"action"`
	AuctionID int64     `bun:"auction_id"`
	Auction   string    `bun:"auction"`
	UserID    int64     `bun:"user_id"`
	User      string    `bun:"user_nick"`
	Reason    string    `bun:"reason"`
	At        time.Time `bun:"created_at"`
}

// Log returns the latest limit actions, newest first.
func Log(ctx context.Context, db bun.IDB, limit int) ([]Entry, error) {
	var out []Entry
	err := db.NewRaw(`SELECT m.id, ad.nick AS admin, m.action, COALESCE(m.auction_id, 0) AS auction_id,
			COALESCE(a.title, '') AS auction, COALESCE(m.user_id, 0) AS user_id, COALESCE(u.nick, '') AS user_nick,
			m.reason, m.created_at
		FROM moderation_log m JOIN users ad ON ad.id = m.admin_id
		LEFT JOIN auctions a ON a.id = m.auction_id LEFT JOIN users u ON u.id = m.user_id
		ORDER BY m.id DESC LIMIT ?`, limit).Scan(ctx, &out)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("moderation log: %w", err)
	}
	return out, nil
}

// UserRow is a user as the operators' page lists them.
type UserRow struct {
	ID          int64      `bun:"id"`
	Provider    string     `bun:"provider"`
	ProviderID  string     `bun:"provider_user_id"`
	Nick        string     `bun:"nick"`
	Balance     int64      `bun:"balance"`
	SuspendedAt *time.Time `bun:"suspended_at"`
}

// AuctionRow is an auction as the operators' page lists it.
type AuctionRow struct {
	ID       int64  `bun:"id"`
	Title    string `bun:"title"`
	Seller   string `bun:"seller"`
	Status   string `bun:"status"`
	Price    int64  `bun:"current_price"`
	BidCount int    `bun:"bid_count"`
	Hidden   bool   `bun:"hidden"`
}

// Search finds users by nickname and auctions by title (or number),
// q anywhere, at most limit of each; an empty q lists the newest.
func Search(ctx context.Context, db bun.IDB, q string, limit int) ([]UserRow, []AuctionRow, error) {
	pat := auction.LikePattern(strings.TrimSpace(q))
	var users []UserRow
	if err := db.NewRaw(`SELECT id, provider, provider_user_id, nick, balance, suspended_at FROM users
		WHERE nick ILIKE ? ORDER BY id DESC LIMIT ?`, pat, limit).Scan(ctx, &users); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("search users: %w", err)
	}
	var auctions []AuctionRow
	if err := db.NewRaw(`SELECT a.id, a.title, s.nick AS seller, a.status, a.current_price, a.bid_count, a.hidden
		FROM auctions a JOIN users s ON s.id = a.seller_id
		WHERE a.title ILIKE ? OR a.id::text = ? ORDER BY a.id DESC LIMIT ?`, pat, strings.TrimSpace(q), limit).Scan(ctx, &auctions); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("search auctions: %w", err)
	}
	return users, auctions, nil
}
