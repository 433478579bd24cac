package live

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gavel/app/auction"
	"gavel/app/i18n"
)

// The bids of one transaction reach a socket as one message even when the
// listener hands them over apart: a page never shows the state halfway
// through a transaction (the proxy's automatic bid without the bid that
// caused it, a reserve not yet met).
func TestOneTransactionIsOneMessageWhenItsNotificationsArriveApart(t *testing.T) {
	h := New(Options{})
	end := time.Now().Add(time.Hour)
	r := newRoom(7)
	r.st = auction.State{ID: 7, Status: auction.StatusOpen, StartPrice: 10_000, Price: 10_000, BidCount: 1, EndsAt: end}
	r.loaded, r.rowsLoaded = true, true
	s := &Sub{h: h, kind: kindWS, lang: i18n.English, ids: []int64{7}, max: DefaultQueue}
	r.ws[s] = true
	h.rooms[7] = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.dispatch(ctx) }()
	defer func() { cancel(); <-done }()

	payload := func(id int64, bidder string, amount int64, count int, more bool) note {
		b, err := json.Marshal(auction.Event{Kind: auction.EventBid, AuctionID: 7, Status: auction.StatusOpen,
			StartPrice: 10_000, Price: amount, BidCount: count, EndsAt: end, BidID: id, Bidder: bidder, Amount: amount,
			Leader: bidder, More: more})
		if err != nil {
			t.Fatal(err)
		}
		return note{payload: string(b)}
	}
	taken := func() []*Message {
		h.mu.Lock()
		defer h.mu.Unlock()
		got, _ := s.Take(nil)
		return got
	}

	h.notes <- payload(101, "alice", 15_000, 2, true)
	for len(h.notes) > 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the dispatcher has had it a while
	if got := taken(); len(got) != 0 {
		t.Fatalf("%d messages before the transaction's last notification: %s", len(got), got[0].Data)
	}
	h.notes <- payload(102, "bob", 23_300, 3, false)
	var got []*Message
	for deadline := time.Now().Add(3 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		got = taken()
	}
	if len(got) != 1 {
		t.Fatalf("%d messages for one transaction, want 1", len(got))
	}
	if html := string(got[0].Data); !strings.Contains(html, "alice") || !strings.Contains(html, "bob") {
		t.Errorf("the message lacks a row of the transaction: %s", html)
	}
}
