package auction

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Create lists a new auction for in.SellerID and returns its id. A listing
// that breaks a rule comes back as FieldErrors. The auction starts at the
// database's now(), so every instance agrees on its end whatever their
// clocks. short is the configured extra duration (0: none), as for
// Durations.
func Create(ctx context.Context, db bun.IDB, in CreateInput, short time.Duration) (int64, error) {
	if fe := in.Validate(short); fe != nil {
		return 0, fe
	}
	photos := in.Photos
	if len(photos) == 0 {
		photos = []int64{in.ImageID}
	}
	var relisted any
	if in.RelistedFrom > 0 {
		relisted = in.RelistedFrom
	}
	var id int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The image must be the seller's own upload: ids are guessable, and
		// listing someone else's photo is not allowed. The INSERT … SELECT
		// makes that check and the insert one statement.
		err := tx.QueryRowContext(ctx, `INSERT INTO auctions
			(seller_id, title, description, image_id, start_price, current_price, starts_at, ends_at, soft_close,
			 reserve, buy_now, relisted_from)
			SELECT ?, ?, ?, i.id, ?, ?, now(), now() + ? * interval '1 microsecond', ?, NULLIF(?, 0), NULLIF(?, 0), ?
			FROM images i WHERE i.id = ? AND i.owner_id = ?
			RETURNING id`,
			in.SellerID, in.Title, in.Description, in.StartPrice, in.StartPrice, in.Duration.Microseconds(), !in.HardEnd,
			in.Reserve, in.BuyNow, relisted, in.ImageID, in.SellerID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return FieldErrors{FieldImage: "auction.image_invalid"}
		}
		if err != nil {
			return fmt.Errorf("create auction: %w", err)
		}
		return setPhotos(ctx, tx, id, in.SellerID, photos)
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// Cancel withdraws auction id for its seller, which is allowed only while it
// is open and has no bid. It waits for the auction's row lock, so a bid
// being committed either lands first (and Cancel is refused) or not at all.
func Cancel(ctx context.Context, db bun.IDB, id, sellerID int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		l, err := claim(ctx, tx, `id = ? FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("cancel auction %d: %w", id, err)
		}
		if l.SellerID != sellerID {
			return ErrNotSeller
		}
		var running bool
		if err := tx.QueryRowContext(ctx, `SELECT ?::timestamptz > now()`, l.EndsAt).Scan(&running); err != nil {
			return fmt.Errorf("cancel auction %d: %w", id, err)
		}
		if l.Status != StatusOpen || l.BidCount > 0 || !running {
			return ErrCannotCancel
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auctions SET status = 'cancelled', settled_at = now() WHERE id = ?`, id); err != nil {
			return fmt.Errorf("cancel auction %d: %w", id, err)
		}
		ev := l.event(EventClosed)
		ev.Status = StatusCancelled
		return notify(ctx, tx, ev)
	})
}

// NotifyCancelled announces to every live page that auction id, which tx
// has just cancelled (and holds locked), is cancelled, with its reason.
func NotifyCancelled(ctx context.Context, tx bun.IDB, id int64) error {
	l, err := claim(ctx, tx, `id = ?`, id)
	if err != nil {
		return fmt.Errorf("announce cancel of %d: %w", id, err)
	}
	ev := l.event(EventClosed)
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(l.nick, ''), a.cancel_reason FROM auctions a
		LEFT JOIN users l ON l.id = a.leader_id WHERE a.id = ?`, id).Scan(&ev.Leader, &ev.Reason); err != nil {
		return fmt.Errorf("announce cancel of %d: %w", id, err)
	}
	return notify(ctx, tx, ev)
}

// notify queues events on Channel; PostgreSQL delivers them at commit, in
// order, and drops them on rollback.
func notify(ctx context.Context, tx bun.IDB, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	payloads := make([]string, len(events))
	for i, e := range events {
		var err error
		if payloads[i], err = encodeEvent(e); err != nil {
			return err
		}
	}
	// One round trip for the lot; unnest yields the payloads in array order.
	_, err := tx.ExecContext(ctx, `SELECT pg_notify(?, p) FROM unnest(?::text[]) AS p`, Channel, pgdialect.Array(payloads))
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

func encodeEvent(e Event) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("encode event: %w", err)
	}
	return string(b), nil
}
