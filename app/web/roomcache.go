package web

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"gavel/app/auction"
	"gavel/app/auth"
	"gavel/views/pages"
	"gavel/views/parts"
)

// roomMax bounds the rooms kept: a room is its row, 50 bids and their
// rendered history per language (about 40 KB); seenMax bounds the bid
// counts remembered.
const (
	roomMax = 1_000
	seenMax = 100_000
)

// roomCache keeps, per auction this instance has shown, its row and its
// latest bids, so a room view costs no query until something changes. A
// bid's notice brings the cached room up to date when it is the next bid
// (bid counts are consecutive); anything else about the auction (a gap, a
// settlement, a cancel, a moved end, a nickname change) drops it. A read
// under way when a newer bid was announced is not kept. Nothing is kept
// while the LISTEN connection is down.
type roomCache struct {
	cache *auth.Cache

	mu    sync.Mutex
	rooms map[int64]roomEntry
	seen  map[int64]int // the highest bid count announced, by auction
	epoch uint64
}

type roomEntry struct {
	a    auction.Auction
	bids []auction.Bid // newest first, at most auction.MaxBidsPage
	r    *renders      // the bid history, rendered per language
}

func newRoomCache(c *auth.Cache) *roomCache {
	r := &roomCache{cache: c, rooms: map[int64]roomEntry{}, seen: map[int64]int{}}
	if c != nil {
		c.OnNotify(auction.Channel, r.event)
		c.OnNotify(ListsChannel, func(p string) {
			id, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				r.flush()
				return
			}
			r.drop(id)
		})
		c.OnNotify(auth.Channel, func(p string) {
			if p == "" || strings.HasPrefix(p, "n:") {
				r.flush()
			}
		})
	}
	return r
}

func (r *roomCache) flush() {
	r.mu.Lock()
	r.epoch++
	r.rooms = map[int64]roomEntry{}
	r.seen = map[int64]int{}
	r.mu.Unlock()
}

func (r *roomCache) drop(id int64) {
	r.mu.Lock()
	r.epoch++
	delete(r.rooms, id)
	r.mu.Unlock()
}

func (r *roomCache) event(payload string) {
	var e auction.Event
	if payload == "" || json.Unmarshal([]byte(payload), &e) != nil {
		r.flush()
		return
	}
	if e.Kind != auction.EventBid {
		r.drop(e.AuctionID)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.BidCount > r.seen[e.AuctionID] {
		if len(r.seen) >= seenMax {
			r.seen = map[int64]int{}
			r.rooms = map[int64]roomEntry{}
			r.epoch++
		}
		r.seen[e.AuctionID] = e.BidCount
	}
	ent, ok := r.rooms[e.AuctionID]
	if !ok || e.BidCount <= ent.a.BidCount {
		return // not kept, or a bid the read already saw
	}
	if e.BidCount != ent.a.BidCount+1 || e.Status != auction.StatusOpen || !e.EndsAt.Equal(ent.a.EndsAt) ||
		e.Extensions != ent.a.Extensions {
		delete(r.rooms, e.AuctionID)
		return
	}
	a := ent.a
	a.CurrentPrice, a.BidCount, a.LeaderID, a.Leader, a.ReserveMet = e.Price, e.BidCount, e.LeaderID, e.Leader, e.ReserveMet
	bids := make([]auction.Bid, 0, min(len(ent.bids)+1, auction.MaxBidsPage))
	bids = append(bids, auction.Bid{ID: e.BidID, AuctionID: e.AuctionID, BidderID: e.BidderID, Bidder: e.Bidder,
		Amount: e.Amount, Auto: e.Auto, Purchase: e.Purchase, Message: e.Message, CreatedAt: e.At})
	bids = append(bids, ent.bids[:min(len(ent.bids), auction.MaxBidsPage-1)]...)
	r.rooms[e.AuctionID] = roomEntry{a: a, bids: bids, r: &renders{}}
}

// get returns auction id and its latest bids, from memory when it can,
// with the renders of its history (nil when it is not kept).
func (r *roomCache) get(ctx context.Context, id int64, read func(context.Context) (*auction.Auction, []auction.Bid, error)) (*auction.Auction, []auction.Bid, *renders, error) {
	r.mu.Lock()
	ent, ok := r.rooms[id]
	epoch := r.epoch
	r.mu.Unlock()
	if ok {
		a := ent.a
		return &a, ent.bids, ent.r, nil
	}
	a, bids, err := read(ctx)
	if err != nil || r.cache == nil || !r.cache.Listening() {
		return a, bids, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.epoch != epoch || r.seen[id] > a.BidCount || len(bids) > auction.MaxBidsPage {
		return a, bids, nil, nil
	}
	if len(r.rooms) >= roomMax {
		r.rooms = map[int64]roomEntry{}
	}
	ent = roomEntry{a: *a, bids: bids, r: &renders{}}
	r.rooms[id] = ent
	return a, bids, ent.r, nil
}

// roomCached is roomWithBids (the latest bids) from the room cache.
func (s *Server) roomCached(c *fiber.Ctx, id int64) (pages.Room, error) {
	a, bids, history, err := s.cachedAuction(c, id)
	if err != nil {
		return pages.Room{}, err
	}
	r, err := s.roomOf(c, a)
	if err != nil {
		return r, err
	}
	for _, b := range bids {
		r.Bids = append(r.Bids, parts.Bid{ID: b.ID, Bidder: b.Bidder, Amount: b.Amount, Message: b.Message, At: b.CreatedAt, Auto: b.Auto, Purchase: b.Purchase})
	}
	if len(bids) == auction.MaxBidsPage {
		r.OlderBefore = bids[len(bids)-1].ID
	}
	if history != nil {
		p := printer(c)
		b, err := history.get(string(p.Lang()), 0, func() ([]byte, error) {
			var buf bytes.Buffer
			err := parts.BidHistory(p, r.ID, r.Bids).Render(c.UserContext(), &buf)
			return buf.Bytes(), err
		})
		if err != nil {
			return r, err
		}
		r.History = rawHTML(b)
	}
	return r, nil
}

// cachedAuction is auction id and its latest bids from the room cache,
// with the renders of its history (nil when it is not kept).
func (s *Server) cachedAuction(c *fiber.Ctx, id int64) (*auction.Auction, []auction.Bid, *renders, error) {
	a, bids, history, err := s.rooms.get(c.UserContext(), id, func(ctx context.Context) (*auction.Auction, []auction.Bid, error) {
		a, err := auction.Get(ctx, s.DB, id)
		if err != nil {
			return nil, nil, err
		}
		bids, err := auction.RecentBids(ctx, s.DB, id, 0, auction.MaxBidsPage)
		return a, bids, err
	})
	if err == auction.ErrNotFound {
		return nil, nil, nil, fiber.ErrNotFound
	}
	return a, bids, history, err
}

// forgetChanged drops every cached list, room and user of this instance,
// after a change here (an operator's action) whose notices are still on
// their way.
func (s *Server) forgetChanged() {
	s.lists.flush()
	s.rooms.flush()
	s.Cache.Forget()
}
