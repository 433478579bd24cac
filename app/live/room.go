package live

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	gdb "gavel/app/db"
	"gavel/views/parts"
)

// room is the cached state of one watched auction and its subscribers. The
// bool of sse and ws says whether the subscriber has had its first
// messages; broadcasts go only to those that have, so that nothing reaches
// a page before the state it applies to.
type room struct {
	id int64
	// st is the auction's state, as the domain has it; fragments get it
	// through Hub.view when they are rendered.
	st     auction.State
	seller int64
	title  string
	// listing stamps the listing's text and photos as last loaded (its
	// edit time, addenda and relisting): a resync that finds another
	// tells the sockets to fetch it, since an edit in the gap was missed.
	listing string

	loaded, loading         bool // st came from the database
	rowsLoaded, rowsLoading bool
	rows                    []parts.Bid // newest first, at most MaxRows

	sentPhase parts.Phase // the last phase the SSE subscribers were sent
	version   uint64      // bumped by every change of st

	sse map[*Sub]bool
	ws  map[*Sub]bool
	// waiting are the subscribers that have not had their first messages
	// yet (dead ones included until the next syncWaiting).
	waiting []*Sub

	cdMsg, statusMsg, syncMsg, summaryMsg cached
}

func newRoom(id int64) *room {
	return &room{id: id, st: auction.State{ID: id}, sse: map[*Sub]bool{}, ws: map[*Sub]bool{}}
}

func (r *room) empty() bool { return len(r.sse) == 0 && len(r.ws) == 0 }

// rank orders states of one auction in time: every bid adds one to the
// count and closing comes last.
func rank(st auction.State) int {
	n := st.BidCount * 2
	if st.Closed() {
		n++
	}
	return n
}

// view is what the fragments show of st. It is the only place the live
// layer maps the domain's state to the views'.
func (h *Hub) view(st auction.State) parts.State { return parts.StateOf(st, h.opt.SoftClose) }

// loaded is what the database says of an auction.
type loaded struct {
	st       auction.State
	seller   int64
	title    string
	listing  string
	rows     []parts.Bid
	withRows bool
}

// applyLoad merges l into r: the newer state wins (events may have
// arrived while the query ran), and rows are the union of both.
//
// A room that is not loaded yet may still hold a state: one applied from an
// event that arrived while its first load ran. Only a state at least as
// new replaces it, or a "closed" event would be lost to an older snapshot.
func (h *Hub) applyLoad(r *room, l loaded, now time.Time) {
	if r.st.Status == "" || rank(l.st) >= rank(r.st) {
		r.st = l.st
	}
	r.seller, r.title, r.listing = l.seller, l.title, l.listing
	if !r.loaded {
		r.sentPhase = h.view(r.st).PhaseAt(now)
	}
	r.loaded, r.loading = true, false
	r.version++
	if l.withRows {
		r.rows = mergeRows(r.rows, l.rows)
		r.rowsLoaded, r.rowsLoading = true, false
	}
}

func mergeRows(a, b []parts.Bid) []parts.Bid {
	all := make([]parts.Bid, 0, len(a)+len(b))
	for _, x := range a {
		x.New = false
		all = append(all, x)
	}
	all = append(all, b...)
	slices.SortFunc(all, func(x, y parts.Bid) int { return cmp.Compare(y.ID, x.ID) })
	all = slices.CompactFunc(all, func(x, y parts.Bid) bool { return x.ID == y.ID })
	if len(all) > MaxRows {
		all = all[:MaxRows]
	}
	return all
}

// applyBid applies a bid event to r; it reports false for one r already
// reflects (a notification delivered after a reload that saw it).
func applyBid(r *room, ev *auction.Event) bool {
	st := ev.State()
	if (r.loaded || r.st.Status != "") && rank(st) <= rank(r.st) {
		return false
	}
	r.st = st
	r.seller, r.title = ev.SellerID, ev.Title
	r.version++
	b := parts.Bid{ID: ev.BidID, Bidder: ev.Bidder, Amount: ev.Amount, Message: ev.Message, At: ev.At, Auto: ev.Auto, Purchase: ev.Purchase}
	r.rows = mergeRows(r.rows, []parts.Bid{b})
	return true
}

// applyClosed applies a closed event to r, once (and an operator's cancel
// of a sale after it).
func applyClosed(r *room, ev *auction.Event) bool {
	// Closing comes once, except that an operator may cancel a sale.
	if r.st.Closed() && (ev.Status != auction.StatusCancelled || r.st.Status == auction.StatusCancelled) {
		return false
	}
	r.st = ev.State()
	r.version++
	return true
}

// load reads the state, and for rooms waiting for them the latest rows, of
// rooms rs: two queries whatever their number, in one read-only snapshot,
// so that no row is newer than the state it comes with (the events of
// newer rows would add them to the page again).
func (h *Hub) load(ctx context.Context, rs []*room) (out map[int64]loaded, err error) {
	err = h.opt.DB.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		func(ctx context.Context, tx bun.Tx) error {
			var err error
			out, err = h.loadIn(ctx, tx, rs)
			return err
		})
	return out, err
}

func (h *Hub) loadIn(ctx context.Context, db bun.IDB, rs []*room) (map[int64]loaded, error) {
	ids := make([]int64, 0, len(rs))
	var rowIDs []int64
	for _, r := range rs {
		ids = append(ids, r.id)
		if r.rowsLoading || r.rowsLoaded {
			rowIDs = append(rowIDs, r.id)
		}
	}
	var states []struct {
		ID         int64     `bun:"id"`
		SellerID   int64     `bun:"seller_id"`
		Title      string    `bun:"title"`
		Status     string    `bun:"status"`
		StartPrice int64     `bun:"start_price"`
		Price      int64     `bun:"current_price"`
		BidCount   int       `bun:"bid_count"`
		EndsAt     time.Time `bun:"ends_at"`
		Scheduled  time.Time `bun:"scheduled_end"`
		Extensions int       `bun:"extensions"`
		SoftClose  bool      `bun:"soft_close"`
		Leader     string    `bun:"leader"`
		HasReserve bool      `bun:"has_reserve"`
		ReserveMet bool      `bun:"reserve_met"`
		BuyNow     int64     `bun:"buy_now"`
		EndReason  string    `bun:"end_reason"`
		Listing    string    `bun:"listing"`
	}
	// The reserve's standing, never its amount.
	err := gdb.Query(ctx, db, &states, `SELECT a.id, a.seller_id, a.title, a.status, a.start_price, a.current_price,
		a.bid_count, a.ends_at, a.scheduled_end, a.extensions, a.soft_close, COALESCE(l.nick, '') AS leader,
		a.reserve IS NOT NULL AS has_reserve, COALESCE(a.bid_count > 0 AND a.current_price >= a.reserve, false) AS reserve_met,
		COALESCE(a.buy_now, 0) AS buy_now, COALESCE(a.end_reason, '') AS end_reason,
		COALESCE(a.edited_at::text, '') || '/' || (SELECT count(*) FROM auction_addenda d WHERE d.auction_id = a.id)
			|| '/' || COALESCE((SELECT r.id FROM auctions r WHERE r.relisted_from = a.id), 0) AS listing
		FROM auctions a LEFT JOIN users l ON l.id = a.leader_id
		WHERE a.id = ANY($1::bigint[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("live: load auctions: %w", err)
	}
	out := make(map[int64]loaded, len(states))
	for _, s := range states {
		st := auction.State{ID: s.ID, SellerID: s.SellerID, Title: s.Title, Status: s.Status, StartPrice: s.StartPrice,
			Price: s.Price, BidCount: s.BidCount, Leader: s.Leader, EndsAt: s.EndsAt, Scheduled: s.Scheduled,
			Extensions: s.Extensions, SoftClose: s.SoftClose,
			HasReserve: s.HasReserve, ReserveMet: s.ReserveMet, BuyNow: s.BuyNow, EndReason: s.EndReason}
		out[s.ID] = loaded{seller: s.SellerID, title: s.Title, st: st, listing: s.Listing}
	}
	if len(rowIDs) == 0 {
		return out, nil
	}
	var bids []struct {
		AuctionID int64     `bun:"auction_id"`
		ID        int64     `bun:"id"`
		Bidder    string    `bun:"bidder"`
		Amount    int64     `bun:"amount"`
		Message   string    `bun:"message"`
		Auto      bool      `bun:"auto"`
		Purchase  bool      `bun:"purchase"`
		CreatedAt time.Time `bun:"created_at"`
	}
	// The latest rows of each auction, each walking bids_by_auction
	// backwards.
	err = gdb.Query(ctx, db, &bids, `SELECT b.auction_id, b.id, u.nick AS bidder, b.amount, b.message, b.auto, b.purchase, b.created_at
		FROM unnest($1::bigint[]) AS w(id)
		CROSS JOIN LATERAL (SELECT * FROM bids WHERE auction_id = w.id ORDER BY id DESC LIMIT $2) b
		JOIN users u ON u.id = b.bidder_id
		ORDER BY b.auction_id, b.id DESC`, rowIDs, MaxRows)
	if err != nil {
		return nil, fmt.Errorf("live: load bids: %w", err)
	}
	for _, id := range rowIDs {
		if l, ok := out[id]; ok {
			l.withRows = true
			out[id] = l
		}
	}
	for _, b := range bids {
		l := out[b.AuctionID]
		l.rows = append(l.rows, parts.Bid{ID: b.ID, Bidder: b.Bidder, Amount: b.Amount, Message: b.Message, At: b.CreatedAt, Auto: b.Auto, Purchase: b.Purchase})
		out[b.AuctionID] = l
	}
	return out, nil
}
