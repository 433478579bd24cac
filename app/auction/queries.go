package auction

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/uptrace/bun"

	gdb "gavel/app/db"
)

// Auction is one listing with the nicks of the people around it. It never
// holds a maximum: those are read for their owner alone (MaxOf).
type Auction struct {
	ID           int64     `bun:"id"`
	SellerID     int64     `bun:"seller_id"`
	Seller       string    `bun:"seller"` // nick
	Title        string    `bun:"title"`
	Description  string    `bun:"description"`
	ImageID      int64     `bun:"image_id"`
	StartPrice   int64     `bun:"start_price"`
	CurrentPrice int64     `bun:"current_price"` // the leading bid, or the start price
	LeaderID     int64     `bun:"leader_id"`     // 0 before the first bid
	Leader       string    `bun:"leader"`
	BidCount     int       `bun:"bid_count"`
	StartsAt     time.Time `bun:"starts_at"`
	EndsAt       time.Time `bun:"ends_at"` // soft close may move it
	ScheduledEnd time.Time `bun:"scheduled_end"`
	Extensions   int       `bun:"extensions"` // how often soft close moved the end
	SoftClose    bool      `bun:"soft_close"`
	Hidden       bool      `bun:"hidden"`        // by an operator, from the lists
	CancelReason string    `bun:"cancel_reason"` // why an operator cancelled it
	// HasReserve and ReserveMet say where the reserve stands; its amount is
	// never read here.
	HasReserve bool   `bun:"has_reserve"`
	ReserveMet bool   `bun:"reserve_met"`
	BuyNow     int64  `bun:"buy_now"`    // the Buy It Now price; 0: none
	EndReason  string `bun:"end_reason"` // ReasonBought, ReasonReserveNotMet or ""

	Status     string    `bun:"status"`
	WinnerID   int64     `bun:"winner_id"` // set once sold
	Winner     string    `bun:"winner"`
	FinalPrice int64     `bun:"final_price"`
	SettledAt  time.Time `bun:"settled_at"` // zero while open
	CreatedAt  time.Time `bun:"created_at"`

	// Read by Get only (zero in lists): every photo (image ids, the cover
	// first), the addenda oldest first, the auction this one relists and
	// the one that relists it (0: none), and the seller's last edit.
	Photos       []int64    `bun:"photos,array"`
	Addenda      []Addendum `bun:"-"`
	AddendaJSON  []byte     `bun:"addenda"`
	RelistedFrom int64      `bun:"relisted_from"`
	RelistedAs   int64      `bun:"relisted_as"`
	EditedAt     time.Time  `bun:"edited_at"`
}

// MinNext is the least amount the next bid may be.
func (a *Auction) MinNext() int64 { return minNext(a.BidCount, a.StartPrice, a.CurrentPrice) }

// Bid is one accepted bid with its bidder's nick.
type Bid struct {
	ID        int64     `bun:"id"`
	AuctionID int64     `bun:"auction_id"`
	BidderID  int64     `bun:"bidder_id"`
	Bidder    string    `bun:"bidder"` // nick
	Amount    int64     `bun:"amount"`
	Message   string    `bun:"message"`
	Auto      bool      `bun:"auto"`     // placed by the site for a maximum
	Purchase  bool      `bun:"purchase"` // the Buy It Now purchase
	CreatedAt time.Time `bun:"created_at"`
}

// PageSize is how many auctions a list page shows.
const PageSize = 24

// MaxBidsPage bounds RecentBids, and the "my" lists are capped at MaxMine.
const (
	MaxBidsPage = 50
	MaxMine     = 100
)

// auctionCols selects an Auction from "auctions a" joined to its people.
// Nullable columns are coalesced so that scanning never meets a NULL.
const auctionCols = `a.id, a.seller_id, s.nick AS seller, a.title, a.description, a.image_id,
	a.start_price, a.current_price, COALESCE(a.leader_id, 0) AS leader_id, COALESCE(l.nick, '') AS leader,
	a.bid_count, a.starts_at, a.ends_at, a.scheduled_end, a.extensions, a.soft_close, a.hidden, a.cancel_reason, a.status, COALESCE(a.winner_id, 0) AS winner_id,
	COALESCE(w.nick, '') AS winner, COALESCE(a.final_price, 0) AS final_price,
	COALESCE(a.settled_at, 'epoch') AS settled_at, a.created_at,
	a.reserve IS NOT NULL AS has_reserve, COALESCE(a.bid_count > 0 AND a.current_price >= a.reserve, false) AS reserve_met,
	COALESCE(a.buy_now, 0) AS buy_now, COALESCE(a.end_reason, '') AS end_reason`

const auctionFrom = ` FROM auctions a
	JOIN users s ON s.id = a.seller_id
	LEFT JOIN users l ON l.id = a.leader_id
	LEFT JOIN users w ON w.id = a.winner_id `

// Get returns auction id, or ErrNotFound. It reads one row by primary key
// and three users by theirs: the same cost whatever the number of bids.
func Get(ctx context.Context, db bun.IDB, id int64) (*Auction, error) {
	var a Auction
	err := gdb.Query(ctx, db, &a, `SELECT `+auctionCols+getCols+auctionFrom+`WHERE a.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get auction %d: %w", id, err)
	}
	a.SettledAt, a.EditedAt = zeroEpoch(a.SettledAt), zeroEpoch(a.EditedAt)
	if err := json.Unmarshal(a.AddendaJSON, &a.Addenda); err != nil {
		return nil, fmt.Errorf("get auction %d: addenda: %w", id, err)
	}
	a.AddendaJSON = nil
	return &a, nil
}

// getCols are what Get reads beyond auctionCols: each an indexed lookup.
const getCols = `,
	ARRAY(SELECT p.image_id FROM auction_photos p WHERE p.auction_id = a.id ORDER BY p.position) AS photos,
	(SELECT COALESCE(json_agg(json_build_object('body', d.body, 'at', d.created_at) ORDER BY d.id), '[]')
	 FROM auction_addenda d WHERE d.auction_id = a.id) AS addenda,
	COALESCE(a.relisted_from, 0) AS relisted_from,
	COALESCE((SELECT r.id FROM auctions r WHERE r.relisted_from = a.id), 0) AS relisted_as,
	COALESCE(a.edited_at, 'epoch') AS edited_at`

func zeroEpoch(t time.Time) time.Time {
	if t.Unix() == 0 {
		return time.Time{}
	}
	return t
}

// Page is one page of a list of auctions.
type Page struct {
	Items   []Auction
	Page    int // 1-based
	HasMore bool
}

func listPage(ctx context.Context, db bun.IDB, page int, where, order string, args ...any) (Page, error) {
	page = max(page, 1)
	var items []Auction
	q := `SELECT ` + auctionCols + auctionFrom + `WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	args = append(args, PageSize+1, (page-1)*PageSize)
	if err := db.NewRaw(q, args...).Scan(ctx, &items); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Page{}, fmt.Errorf("list auctions: %w", err)
	}
	p := Page{Page: page}
	if len(items) > PageSize {
		items, p.HasMore = items[:PageSize], true
	}
	for i := range items {
		items[i].SettledAt = zeroEpoch(items[i].SettledAt)
	}
	p.Items = items
	return p, nil
}

// LikePattern matches s anywhere, with LIKE's wildcards in s taken
// literally: a search for "100%" must not match everything.
func LikePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ListOpen lists the auctions still running, ending soonest first, whose
// title contains search (any case; empty matches all).
func ListOpen(ctx context.Context, db bun.IDB, search string, page int) (Page, error) {
	where := `a.status = 'open' AND a.ends_at > now() AND NOT a.hidden`
	args := []any{}
	if s := strings.TrimSpace(CleanText(search)); s != "" {
		where += ` AND a.title ILIKE ?`
		args = append(args, LikePattern(s))
	}
	return listPage(ctx, db, page, where, `a.ends_at, a.id`, args...)
}

// ListNew lists the running auctions, newest first.
func ListNew(ctx context.Context, db bun.IDB, page int) (Page, error) {
	return listPage(ctx, db, page, `a.status = 'open' AND a.ends_at > now() AND NOT a.hidden`, `a.created_at DESC, a.id DESC`)
}

// ListEnded lists sold and unsold auctions, most recently settled first.
func ListEnded(ctx context.Context, db bun.IDB, page int) (Page, error) {
	return listPage(ctx, db, page, `a.status IN ('sold', 'unsold') AND NOT a.hidden`, `a.settled_at DESC, a.id DESC`)
}

// RecentBids returns up to limit (at most MaxBidsPage) bids of an auction,
// newest first, older than bid beforeID (0: the newest). It walks the
// bids_by_auction index backwards, so its cost does not grow with the
// number of bids.
func RecentBids(ctx context.Context, db bun.IDB, auctionID, beforeID int64, limit int) ([]Bid, error) {
	if limit <= 0 || limit > MaxBidsPage {
		limit = MaxBidsPage
	}
	if beforeID <= 0 {
		beforeID = math.MaxInt64
	}
	var bids []Bid
	err := gdb.Query(ctx, db, &bids, `SELECT b.id, b.auction_id, b.bidder_id, u.nick AS bidder, b.amount, b.message, b.auto, b.purchase, b.created_at
		FROM bids b JOIN users u ON u.id = b.bidder_id
		WHERE b.auction_id = $1 AND b.id < $2 ORDER BY b.id DESC LIMIT $3`, auctionID, beforeID, limit)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("recent bids of %d: %w", auctionID, err)
	}
	return bids, nil
}

func listMine(ctx context.Context, db bun.IDB, what, extra, where, order string, args ...any) ([]Auction, error) {
	var items []Auction
	args = append(args, MaxMine)
	err := db.NewRaw(`SELECT `+auctionCols+extra+auctionFrom+`WHERE `+where+` ORDER BY `+order+` LIMIT ?`, args...).Scan(ctx, &items)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for i := range items {
		items[i].SettledAt = zeroEpoch(items[i].SettledAt)
	}
	return items, nil
}

// MyWon lists the auctions userID won (item, FinalPrice, SettledAt), latest
// first, at most MaxMine.
func MyWon(ctx context.Context, db bun.IDB, userID int64) ([]Auction, error) {
	return listMine(ctx, db, "won auctions", "", `a.winner_id = ?`, `a.settled_at DESC, a.id DESC`, userID)
}

// MySelling lists userID's listings in the given statuses (none: every
// status), newest first, at most MaxMine, each with RelistedAs.
func MySelling(ctx context.Context, db bun.IDB, userID int64, statuses ...string) ([]Auction, error) {
	where, args := `a.seller_id = ?`, []any{userID}
	if len(statuses) > 0 {
		where += ` AND a.status IN (?)`
		args = append(args, bun.In(statuses))
	}
	return listMine(ctx, db, "selling auctions", relistedAsCol, where, `a.id DESC`, args...)
}

// relistedAsCol adds RelistedAs to a list of auctions.
const relistedAsCol = `, COALESCE((SELECT r.id FROM auctions r WHERE r.relisted_from = a.id), 0) AS relisted_as`

// Standings of a bidder in an auction they bid on.
const (
	StandingLeading = "leading" // open, and their bid leads
	StandingOutbid  = "outbid"  // open, someone bid more
	StandingWon     = "won"
	StandingLost    = "lost"
)

// MyBid is an auction a user bid on, with their maximum and where that
// leaves them.
type MyBid struct {
	Auction
	MyMax    int64  `bun:"my_max"` // the user's own maximum
	Standing string `bun:"-"`
}

// MyBids lists the auctions userID bid on, most recently bid first, at most
// MaxMine.
func MyBids(ctx context.Context, db bun.IDB, userID int64) ([]MyBid, error) {
	var items []MyBid
	err := db.NewRaw(`SELECT `+auctionCols+`, COALESCE(m.amount, mb.top) AS my_max
		FROM (SELECT auction_id, max(amount) AS top, max(id) AS last_id
		      FROM bids WHERE bidder_id = ? AND NOT auto GROUP BY auction_id
		      ORDER BY last_id DESC LIMIT ?) mb
		JOIN auctions a ON a.id = mb.auction_id
		LEFT JOIN maximums m ON m.auction_id = mb.auction_id AND m.bidder_id = ?
		JOIN users s ON s.id = a.seller_id
		LEFT JOIN users l ON l.id = a.leader_id
		LEFT JOIN users w ON w.id = a.winner_id
		ORDER BY mb.last_id DESC`, userID, MaxMine, userID).Scan(ctx, &items)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("my bids: %w", err)
	}
	for i := range items {
		it := &items[i]
		it.SettledAt = zeroEpoch(it.SettledAt)
		switch {
		case it.Status == StatusOpen && it.LeaderID == userID:
			it.Standing = StandingLeading
		case it.Status == StatusOpen:
			it.Standing = StandingOutbid
		case it.WinnerID == userID:
			it.Standing = StandingWon
		default:
			it.Standing = StandingLost
		}
	}
	return items, nil
}

// MaxOf returns userID's maximum on an auction (0 when they have none).
// Only userID may be shown it.
//
// It is read for every bid answered and room shown to a bidder, so it
// passes real parameters: one statement, prepared once per connection
// (bun would inline the values into a new text each time).
func MaxOf(ctx context.Context, db *bun.DB, auctionID, userID int64) (int64, error) {
	var m int64
	err := db.DB.QueryRowContext(ctx, `SELECT amount FROM maximums WHERE auction_id = $1 AND bidder_id = $2`, auctionID, userID).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("maximum of %d on %d: %w", userID, auctionID, err)
	}
	return m, nil
}

// ReserveOf returns the reserve of auction auctionID when sellerID is its
// seller (0 when it has none, or for anyone else). Only the seller may be
// shown it.
func ReserveOf(ctx context.Context, db bun.IDB, auctionID, sellerID int64) (int64, error) {
	var r int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(reserve, 0) FROM auctions WHERE id = ? AND seller_id = ?`, auctionID, sellerID).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reserve of %d: %w", auctionID, err)
	}
	return r, nil
}
