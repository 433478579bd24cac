// Package notify is the watch list and the notification rows: what a user
// watches, what they have been told, and the reads the bell, the
// notifications page and the live layer make. Notifications are written by
// the database's triggers (migration 0030) in the transaction of their
// cause; this package reads them, marks them read and forgets old ones.
// No HTTP in it.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Channel is the PostgreSQL NOTIFY channel on which every new notification
// is announced as "ID USER".
const Channel = "gavel_notes"

// Kinds of notification.
const (
	KindOutbid        = "outbid"
	KindOutbidAuto    = "outbid_auto" // outbid by someone's automatic bid
	KindAutoBid       = "auto_bid"    // an automatic bid was placed for you
	KindWon           = "won"
	KindLost          = "lost"
	KindSold          = "sold"
	KindUnsold        = "unsold"
	KindCancelled     = "cancelled"
	KindReserveNotMet = "reserve_not_met"
	KindBoughtNow     = "bought_now"
	KindEndingSoon    = "ending_soon"
)

// Kinds lists every kind, for the gallery and tests.
var Kinds = []string{KindOutbid, KindOutbidAuto, KindAutoBid, KindWon, KindLost, KindSold, KindUnsold,
	KindCancelled, KindReserveNotMet, KindBoughtNow, KindEndingSoon}

// Notification is one row with what a page needs to show it: the
// auction's title and, once sold, the winner's nick. Amount is a public
// price, never a maximum.
type Notification struct {
	ID        int64      `bun:"id"`
	UserID    int64      `bun:"user_id"`
	AuctionID int64      `bun:"auction_id"`
	Kind      string     `bun:"kind"`
	Amount    int64      `bun:"amount"`
	CreatedAt time.Time  `bun:"created_at"`
	ReadAt    *time.Time `bun:"read_at"`
	Title     string     `bun:"title"`
	Winner    string     `bun:"winner"`
	EndsAt    time.Time  `bun:"ends_at"`
	SellerID  int64      `bun:"seller_id"`
	// EndReason is why the auction ended when not by time: "bought" or
	// "reserve_not_met" ("" otherwise).
	EndReason string `bun:"end_reason"`
}

// Unread reports whether n has not been read.
func (n *Notification) Unread() bool { return n.ReadAt == nil }

const noteCols = `n.id, n.user_id, n.auction_id, n.kind, n.amount, n.created_at, n.read_at,
	a.title, COALESCE(w.nick, '') AS winner, a.ends_at, a.seller_id, COALESCE(a.end_reason, '') AS end_reason`

const noteFrom = ` FROM notifications n JOIN auctions a ON a.id = n.auction_id
	LEFT JOIN users w ON w.id = a.winner_id `

// PageSize is how many notifications /me/notifications shows at once.
const PageSize = 30

// MaxReplay bounds the notifications a (re)connecting stream is sent.
const MaxReplay = 100

// Page returns user's notifications newest first, those with an id below
// before (0: from the newest), and whether there are more.
func Page(ctx context.Context, db bun.IDB, user, before int64) ([]Notification, bool, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	var list []Notification
	err := db.NewRaw(`SELECT `+noteCols+noteFrom+`WHERE n.user_id = ? AND n.id < ? ORDER BY n.id DESC LIMIT ?`,
		user, before, PageSize+1).Scan(ctx, &list)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("notifications of %d: %w", user, err)
	}
	more := len(list) > PageSize
	if more {
		list = list[:PageSize]
	}
	return list, more, nil
}

// Since returns user's notifications with an id above after, oldest
// first: at most MaxReplay, the newest of them.
func Since(ctx context.Context, db bun.IDB, user, after int64) ([]Notification, error) {
	var list []Notification
	err := db.NewRaw(`SELECT * FROM (SELECT `+noteCols+noteFrom+`WHERE n.user_id = ? AND n.id > ?
		ORDER BY n.id DESC LIMIT ?) x ORDER BY id`, user, after, MaxReplay).Scan(ctx, &list)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("notifications of %d since %d: %w", user, after, err)
	}
	return list, nil
}

// ByID returns the notifications ids (those that still exist: a merged
// one has a new id), oldest first, with the unread count of each one's
// user.
func ByID(ctx context.Context, db bun.IDB, ids []int64) ([]Notification, map[int64]int, error) {
	var list []Notification
	err := db.NewRaw(`SELECT `+noteCols+noteFrom+`WHERE n.id = ANY(?::bigint[]) ORDER BY n.id`, pgdialect.Array(ids)).Scan(ctx, &list)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("notifications %v: %w", ids, err)
	}
	users := make([]int64, 0, len(list))
	for _, n := range list {
		users = append(users, n.UserID)
	}
	counts, err := UnreadCounts(ctx, db, users)
	return list, counts, err
}

// UnreadCounts returns the unread count of each user (absent: none).
func UnreadCounts(ctx context.Context, db bun.IDB, users []int64) (map[int64]int, error) {
	counts := map[int64]int{}
	if len(users) == 0 {
		return counts, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT user_id, count(*) FROM notifications
		WHERE user_id = ANY(?::bigint[]) AND read_at IS NULL GROUP BY user_id`, pgdialect.Array(users))
	if err != nil {
		return nil, fmt.Errorf("unread counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u int64
		var n int
		if err := rows.Scan(&u, &n); err != nil {
			return nil, err
		}
		counts[u] = n
	}
	return counts, rows.Err()
}

// Bell is what the header shows: the unread count, and the newest
// notification's id (the page's stream sends what comes after it).
func Bell(ctx context.Context, db bun.IDB, user int64) (unread int, last int64, err error) {
	err = db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL),
		COALESCE((SELECT max(id) FROM notifications WHERE user_id = ?), 0)`, user, user).Scan(&unread, &last)
	if err != nil {
		return 0, 0, fmt.Errorf("bell of %d: %w", user, err)
	}
	return unread, last, nil
}

// MarkAllRead marks every unread notification of user read, up to id
// upTo (0: all), and returns how many.
func MarkAllRead(ctx context.Context, db bun.IDB, user, upTo int64) (int, error) {
	if upTo <= 0 {
		upTo = 1<<63 - 1
	}
	res, err := db.ExecContext(ctx, `UPDATE notifications SET read_at = now()
		WHERE user_id = ? AND read_at IS NULL AND id <= ?`, user, upTo)
	if err != nil {
		return 0, fmt.Errorf("mark read for %d: %w", user, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Retention is how long a read notification is kept.
const Retention = 90 * 24 * time.Hour

// PurgeRead deletes the notifications read more than age ago and returns
// how many.
func PurgeRead(ctx context.Context, db bun.IDB, age time.Duration) (int, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM notifications WHERE read_at < now() - ?::interval`,
		strconv.FormatInt(int64(age/time.Second), 10)+" seconds")
	if err != nil {
		return 0, fmt.Errorf("purge read notifications: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ParseNote parses a payload of Channel: "ID USER".
func ParseNote(payload string) (id, user int64, ok bool) {
	a, b, found := strings.Cut(payload, " ")
	if !found {
		return 0, 0, false
	}
	id, err1 := strconv.ParseInt(a, 10, 64)
	user, err2 := strconv.ParseInt(b, 10, 64)
	return id, user, err1 == nil && err2 == nil && id > 0 && user > 0
}
