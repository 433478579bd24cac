package auction

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Listing limits.
const (
	// MaxPhotos is how many photos a listing may show; the first is the
	// cover.
	MaxPhotos = 8
	// MaxAddendum is the length of one addendum, MaxAddenda how many an
	// auction may gain.
	MaxAddendum = 500
	MaxAddenda  = 5
)

// EventEdited announces that a listing's text or photos changed (an edit,
// a reordered or removed photo, an addendum, a relisting): open rooms
// fetch the listing again.
const EventEdited = "edited"

// Refusals of the seller's changes to a listing. A missing auction is
// ErrNotFound, somebody else's ErrNotSeller.
var (
	ErrCannotEdit      = &Error{key: "auction.cannot_edit"}
	ErrCannotAddend    = &Error{key: "auction.cannot_addend"}
	ErrTooManyAddenda  = &Error{key: "auction.too_many_addenda"}
	ErrAddendumEmpty   = &Error{key: "auction.addendum_empty"}
	ErrAddendumTooLong = &Error{key: "auction.addendum_too_long"}
	ErrNoSuchPhoto     = &Error{key: "auction.no_such_photo"}
	ErrLastPhoto       = &Error{key: "auction.last_photo"}
	ErrCannotRelist    = &Error{key: "auction.cannot_relist"}
	ErrRelisted        = &Error{key: "auction.already_relisted"}
)

// Addendum is text a seller added to a description after the first bid.
type Addendum struct {
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"at"`
}

// Photos returns auction id's photos (image ids), the cover first.
func Photos(ctx context.Context, db bun.IDB, id int64) ([]int64, error) {
	var ids []int64
	err := db.NewRaw(`SELECT image_id FROM auction_photos WHERE auction_id = ? ORDER BY position`, id).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("photos of %d: %w", id, err)
	}
	return ids, nil
}

// setPhotos makes ids (the cover first) auction id's photos and its cover,
// within tx, which holds the auction's row. Every image must be sellerID's.
func setPhotos(ctx context.Context, tx bun.IDB, id, sellerID int64, ids []int64) error {
	if len(ids) == 0 || len(ids) > MaxPhotos {
		return FieldErrors{FieldImage: "auction.photos_count"}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM auction_photos WHERE auction_id = ?`, id); err != nil {
		return fmt.Errorf("photos of %d: %w", id, err)
	}
	// Only the seller's own uploads: image ids are guessable.
	res, err := tx.ExecContext(ctx, `INSERT INTO auction_photos (auction_id, image_id, position)
		SELECT ?, i.id, u.ord - 1 FROM unnest(?::bigint[]) WITH ORDINALITY AS u(id, ord)
		JOIN images i ON i.id = u.id AND i.owner_id = ?`, id, pgdialect.Array(ids), sellerID)
	if err != nil {
		return fmt.Errorf("photos of %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(ids)) {
		return FieldErrors{FieldImage: "auction.image_invalid"}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE auctions SET image_id = ? WHERE id = ? AND image_id <> ?`, ids[0], id, ids[0]); err != nil {
		return fmt.Errorf("cover of %d: %w", id, err)
	}
	return nil
}

// listingRow is what the seller's changes check under the auction's lock.
type listingRow struct {
	SellerID     int64
	StartPrice   int64
	Status       string
	BidCount     int
	Running      bool // its end is still ahead
	Hidden       bool
	CancelReason string
}

// lockListing locks auction id's row for a change by sellerID and returns
// it, or ErrNotFound / ErrNotSeller. The bid writer locks the same row, so
// a bid is judged either before the change (which then sees it) or after.
func lockListing(ctx context.Context, tx bun.IDB, id, sellerID int64) (listingRow, error) {
	var r listingRow
	err := tx.QueryRowContext(ctx, `SELECT seller_id, start_price, status, bid_count, ends_at > now(), hidden, cancel_reason
		FROM auctions WHERE id = ? FOR UPDATE`, id).
		Scan(&r.SellerID, &r.StartPrice, &r.Status, &r.BidCount, &r.Running, &r.Hidden, &r.CancelReason)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("lock auction %d: %w", id, err)
	}
	if r.SellerID != sellerID {
		return r, ErrNotSeller
	}
	return r, nil
}

// editable reports whether the listing may still change freely: open,
// running and without a bid.
func (r listingRow) editable() bool { return r.Status == StatusOpen && r.Running && r.BidCount == 0 }

// notifyEdited announces at commit that auction id's listing changed.
func notifyEdited(ctx context.Context, tx bun.IDB, id int64) error {
	l, err := claim(ctx, tx, `id = ?`, id)
	if err != nil {
		return fmt.Errorf("announce edit of %d: %w", id, err)
	}
	return notify(ctx, tx, l.event(EventEdited))
}

// EditInput is a seller's edit of a listing before its first bid: the new
// title and description, the photos in their new order (image ids, the
// cover first; nil keeps the order they have), and new uploads to add
// after them.
type EditInput struct {
	AuctionID   int64
	SellerID    int64
	Title       string
	Description string
	Photos      []int64
	Add         []int64
	// SetPrices: Reserve and BuyNow (0: none) replace the auction's, checked
	// against its start price as on the sell form. Without it they stay.
	SetPrices       bool
	Reserve, BuyNow int64
}

// Validate checks an edit without the database (trimming its text in
// place) and returns its field errors, nil when none.
func (in *EditInput) Validate() FieldErrors {
	fe := FieldErrors{}
	in.Title = strings.TrimSpace(CleanText(in.Title))
	in.Description = strings.TrimSpace(CleanText(in.Description))
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		fe[FieldTitle] = "auction.title_required"
	case n > MaxTitle:
		fe[FieldTitle] = "auction.title_too_long"
	}
	if utf8.RuneCountInString(in.Description) > MaxDescription {
		fe[FieldDescription] = "auction.description_too_long"
	}
	if in.Photos != nil {
		if k := photosKey(in.Photos); k != "" {
			fe[FieldImage] = k
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// photosKey is what is wrong with a list of photos ("" when nothing).
func photosKey(ids []int64) string {
	switch {
	case len(ids) == 0:
		return "auction.image_required"
	case len(ids) > MaxPhotos:
		return "auction.photos_count"
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if id <= 0 || seen[id] {
			return "auction.image_invalid"
		}
		seen[id] = true
	}
	return ""
}

// Edit changes a listing's title, description and photos, which only its
// seller may do, and only while it runs without a bid (ErrCannotEdit).
func Edit(ctx context.Context, db bun.IDB, in EditInput) error {
	if fe := in.Validate(); fe != nil {
		return fe
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockListing(ctx, tx, in.AuctionID, in.SellerID)
		if err != nil {
			return err
		}
		if !r.editable() {
			return ErrCannotEdit
		}
		if in.SetPrices {
			// Before the first bid nothing depends on them yet: no
			// maximum has met the reserve, Buy It Now is still offered.
			fe := FieldErrors{}
			if checkPrices(fe, r.StartPrice, true, in.Reserve, in.BuyNow); len(fe) > 0 {
				return fe
			}
			if _, err := tx.ExecContext(ctx, `UPDATE auctions SET reserve = NULLIF(?, 0), buy_now = NULLIF(?, 0) WHERE id = ?`,
				in.Reserve, in.BuyNow, in.AuctionID); err != nil {
				return fmt.Errorf("edit auction %d: %w", in.AuctionID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auctions SET title = ?, description = ?, edited_at = now() WHERE id = ?`,
			in.Title, in.Description, in.AuctionID); err != nil {
			return fmt.Errorf("edit auction %d: %w", in.AuctionID, err)
		}
		photos := in.Photos
		if photos == nil {
			// Read under the lock: a move or removal just before stands.
			if photos, err = Photos(ctx, tx, in.AuctionID); err != nil {
				return err
			}
		}
		photos = append(slices.Clone(photos), in.Add...)
		if k := photosKey(photos); k != "" {
			return FieldErrors{FieldImage: k}
		}
		if err := setPhotos(ctx, tx, in.AuctionID, in.SellerID, photos); err != nil {
			return err
		}
		return notifyEdited(ctx, tx, in.AuctionID)
	})
}

// MovePhoto moves photo image of auction id to position to (0 is the
// cover; past the end is the end), before the first bid.
func MovePhoto(ctx context.Context, db bun.IDB, id, sellerID, image int64, to int) error {
	return changePhotos(ctx, db, id, sellerID, func(ids []int64) ([]int64, error) {
		i := slices.Index(ids, image)
		if i < 0 {
			return nil, ErrNoSuchPhoto
		}
		ids = slices.Delete(ids, i, i+1)
		to = min(max(to, 0), len(ids))
		return slices.Insert(ids, to, image), nil
	})
}

// RemovePhoto takes photo image off auction id, before the first bid; the
// last one stays (ErrLastPhoto). The image itself is kept: a relisted
// auction may share it.
func RemovePhoto(ctx context.Context, db bun.IDB, id, sellerID, image int64) error {
	return changePhotos(ctx, db, id, sellerID, func(ids []int64) ([]int64, error) {
		i := slices.Index(ids, image)
		if i < 0 {
			return nil, ErrNoSuchPhoto
		}
		if len(ids) == 1 {
			return nil, ErrLastPhoto
		}
		return slices.Delete(ids, i, i+1), nil
	})
}

func changePhotos(ctx context.Context, db bun.IDB, id, sellerID int64, change func([]int64) ([]int64, error)) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockListing(ctx, tx, id, sellerID)
		if err != nil {
			return err
		}
		if !r.editable() {
			return ErrCannotEdit
		}
		ids, err := Photos(ctx, tx, id)
		if err != nil {
			return err
		}
		if ids, err = change(ids); err != nil {
			return err
		}
		if err := setPhotos(ctx, tx, id, sellerID, ids); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auctions SET edited_at = now() WHERE id = ?`, id); err != nil {
			return fmt.Errorf("edit auction %d: %w", id, err)
		}
		return notifyEdited(ctx, tx, id)
	})
}

// AddAddendum adds text to the description of auction id once it has
// bids (before, the seller edits the description itself) and while it
// runs: at most MaxAddenda of at most MaxAddendum characters.
func AddAddendum(ctx context.Context, db bun.IDB, id, sellerID int64, body string) error {
	body = strings.TrimSpace(CleanText(body))
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		return ErrAddendumEmpty
	case n > MaxAddendum:
		return ErrAddendumTooLong
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockListing(ctx, tx, id, sellerID)
		if err != nil {
			return err
		}
		if r.Status != StatusOpen || !r.Running || r.BidCount == 0 {
			return ErrCannotAddend
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM auction_addenda WHERE auction_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("addenda of %d: %w", id, err)
		}
		if n >= MaxAddenda {
			return ErrTooManyAddenda
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO auction_addenda (auction_id, body) VALUES (?, ?)`, id, body); err != nil {
			return fmt.Errorf("add addendum to %d: %w", id, err)
		}
		return notifyEdited(ctx, tx, id)
	})
}

// RelistInput relists an unsold or cancelled auction: the same text,
// photos, reserve and Buy It Now price, a new duration, and a start price
// (0: the same; never higher).
type RelistInput struct {
	AuctionID  int64
	SellerID   int64
	Duration   time.Duration
	StartPrice int64
}

// Relist lists auction in.AuctionID again for its seller and returns the
// new auction's id. Only an unsold auction, or one its seller cancelled,
// may be relisted (one an operator cancelled or hid may not), and only
// once: the old one links to the new. short is the configured extra
// duration, as for Durations.
func Relist(ctx context.Context, db bun.IDB, in RelistInput, short time.Duration) (int64, error) {
	var id int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockListing(ctx, tx, in.AuctionID, in.SellerID)
		if err != nil {
			return err
		}
		if !(r.Status == StatusUnsold || r.Status == StatusCancelled && r.CancelReason == "") || r.Hidden {
			return ErrCannotRelist
		}
		var relisted bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM auctions WHERE relisted_from = ?)`, in.AuctionID).Scan(&relisted); err != nil {
			return fmt.Errorf("relist %d: %w", in.AuctionID, err)
		}
		if relisted {
			return ErrRelisted
		}
		var old CreateInput
		var hardEnd bool
		if err := tx.QueryRowContext(ctx, `SELECT title, description, start_price, NOT soft_close,
			COALESCE(reserve, 0), COALESCE(buy_now, 0) FROM auctions WHERE id = ?`, in.AuctionID).
			Scan(&old.Title, &old.Description, &old.StartPrice, &hardEnd, &old.Reserve, &old.BuyNow); err != nil {
			return fmt.Errorf("relist %d: %w", in.AuctionID, err)
		}
		photos, err := Photos(ctx, tx, in.AuctionID)
		if err != nil {
			return err
		}
		// The reserve and Buy It Now price stay: a lower start price keeps
		// both valid (each is only bounded below by it).
		c := CreateInput{SellerID: in.SellerID, Title: old.Title, Description: old.Description, StartPrice: old.StartPrice,
			Duration: in.Duration, Photos: photos, HardEnd: hardEnd, Reserve: old.Reserve, BuyNow: old.BuyNow}
		if in.StartPrice != 0 {
			if in.StartPrice > old.StartPrice {
				return FieldErrors{FieldStartPrice: "auction.relist_price_higher"}
			}
			c.StartPrice = in.StartPrice
		}
		c.RelistedFrom = in.AuctionID
		id, err = Create(ctx, tx, c, short)
		if err != nil {
			return err
		}
		return notifyEdited(ctx, tx, in.AuctionID)
	})
	return id, err
}

// RelistedAs is the auction that relists auction id (0: none).
func RelistedAs(ctx context.Context, db bun.IDB, id int64) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT id FROM auctions WHERE relisted_from = ?`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("relisting of %d: %w", id, err)
	}
	return n, nil
}
