package live

import (
	"testing"
	"time"

	"gavel/app/auction"
)

// A "closed" event that arrives while a room's first load is in flight
// must survive the load's older snapshot; before, every viewer on the
// instance saw "ended, awaiting result" until the room emptied.
func TestFirstLoadNeverOverwritesANewerEvent(t *testing.T) {
	h := &Hub{}
	now := time.Now()
	r := newRoom(7)
	r.loading = true
	closed := auction.Event{Kind: auction.EventClosed, AuctionID: 7, Status: auction.StatusSold, Price: 12_000,
		BidCount: 3, EndsAt: now.Add(-time.Second), Leader: "alice"}
	if !applyClosed(r, &closed) {
		t.Fatal("the closed event was not applied")
	}
	h.applyLoad(r, loaded{st: auction.State{ID: 7, Status: auction.StatusOpen, Price: 12_000, BidCount: 3,
		EndsAt: now.Add(-time.Second)}}, now)
	if r.st.Status != auction.StatusSold || r.st.Leader != "alice" {
		t.Errorf("after the load: %+v", r.st)
	}
	// A newer snapshot still wins over an older event.
	r = newRoom(8)
	r.loading = true
	bid := auction.Event{Kind: auction.EventBid, AuctionID: 8, Status: auction.StatusOpen, Price: 10_000, BidCount: 1,
		EndsAt: now.Add(time.Hour), BidID: 1}
	applyBid(r, &bid)
	h.applyLoad(r, loaded{st: auction.State{ID: 8, Status: auction.StatusOpen, Price: 11_000, BidCount: 2,
		EndsAt: now.Add(time.Hour)}}, now)
	if r.st.BidCount != 2 || r.st.Price != 11_000 {
		t.Errorf("a newer snapshot lost to an older event: %+v", r.st)
	}
}
