package live

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"gavel/app/auction"
	"gavel/app/i18n"
	"gavel/views"
	"gavel/views/parts"
)

// note is what the listener hands the dispatcher: a notification's
// payload, or (resync) the news that a new connection is listening.
type note struct {
	payload string
	resync  bool
}

// maxBatch bounds the notifications handled as one batch.
const maxBatch = 1024

// dispatch applies notifications in order. It takes every one already
// waiting as one batch, and waits for the rest of a transaction whose
// events are not all in yet (auction.Event.More), so that the bids of one
// transaction (the bid writer commits up to a hundred at once) reach each
// socket as one message, never a state halfway through it, nor a burst
// that would overflow its queue.
func (h *Hub) dispatch(ctx context.Context) {
	batch := make([]auction.Event, 0, 64)
	for {
		var n note
		select {
		case <-ctx.Done():
			return
		case n = <-h.notes:
		}
		batch = batch[:0]
		for {
			if n.resync {
				h.handleEvents(batch)
				batch = batch[:0]
				h.resyncUntilDone(ctx)
			} else if ev, ok := h.parse(n.payload); ok {
				batch = append(batch, ev)
			}
			if len(batch) >= maxBatch {
				break
			}
			// PostgreSQL delivers a transaction's notifications together:
			// the rest are a moment away, or a resync stands for them.
			if len(batch) > 0 && batch[len(batch)-1].More {
				select {
				case n = <-h.notes:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case n = <-h.notes:
				continue
			default:
			}
			break
		}
		h.handleEvents(batch)
	}
}

// resyncUntilDone reloads every watched auction, retrying while the
// database refuses: notifications wait meanwhile, in order.
func (h *Hub) resyncUntilDone(ctx context.Context) {
	wait := h.opt.Backoff
	for {
		err := h.resync(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		h.log.Error("live: resync", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, backoffMax)
	}
}

func (h *Hub) parse(payload string) (auction.Event, bool) {
	var ev auction.Event
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		h.log.Error("live: bad notification", "err", err, "payload", payload)
		return ev, false
	}
	return ev, true
}

// handleEvents applies events in order, each run of bids on one auction
// as one change. Everything is queued under h.mu, so a subscriber that
// joins concurrently gets either the state before (and then these
// messages) or the state after (and not these messages).
func (h *Hub) handleEvents(evs []auction.Event) {
	if len(evs) == 0 {
		return
	}
	now := h.opt.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := 0; i < len(evs); {
		ev := &evs[i]
		switch ev.Kind {
		case auction.EventBid:
			j := i + 1
			for j < len(evs) && evs[j].Kind == auction.EventBid && evs[j].AuctionID == ev.AuctionID {
				j++
			}
			h.handleBids(evs[i:j], now)
			i = j
		case auction.EventClosed:
			h.handleClosed(ev, now)
			i++
		case auction.EventEdited:
			h.handleEdited(ev)
			i++
		default:
			h.log.Warn("live: unknown event kind", "kind", ev.Kind)
			i++
		}
	}
}

// handleBids applies a run of bids on one auction. h.mu is held.
func (h *Hub) handleBids(run []auction.Event, now time.Time) {
	last := &run[len(run)-1]
	if r := h.rooms[last.AuctionID]; r != nil {
		ends := r.st.EndsAt
		var rows []parts.Bid
		for k := range run {
			if applyBid(r, &run[k]) {
				ev := &run[k]
				rows = append(rows, parts.Bid{ID: ev.BidID, Bidder: ev.Bidder, Amount: ev.Amount, Message: ev.Message, At: ev.At,
					Auto: ev.Auto, Purchase: ev.Purchase, New: true})
			}
		}
		if len(rows) > 0 && r.loaded {
			slices.Reverse(rows) // newest first
			st := h.view(r.st)
			msg := &perLang{render: func(p *i18n.Printer) []byte { return h.html(parts.BidMessage(p, st, rows)) }}
			for s, synced := range r.ws {
				if synced {
					h.send(s, msg.get(s.lang))
				}
			}
			switch {
			case last.Purchase:
				// Bought: the closing follows in the same transaction and
				// sends the result itself. An "ended, settling" frame
				// right before it would replace the elements whose SSE
				// listeners the result needs, and the result could arrive
				// before htmx has set them up again.
				r.sentPhase = parts.PhaseEnded
			case !ends.Equal(r.st.EndsAt):
				// An extended end shows at once, not at the next tick.
				h.sendCountdowns(r, now)
			}
			h.sendSummaries(r)
		}
	}
	// Whom the run outbid is told by the notification rows the database
	// wrote with it (notes.go).
}

// handleClosed applies an auction's closing.
// h.mu is held.
func (h *Hub) handleClosed(ev *auction.Event, now time.Time) {
	if r := h.rooms[ev.AuctionID]; r != nil && applyClosed(r, ev) && r.loaded {
		h.sendCountdowns(r, now)
		h.sendSummaries(r)
		st := h.view(r.st)
		msg := &perLang{render: func(p *i18n.Printer) []byte { return h.html(parts.SyncMessageNoRows(p, st)) }}
		for s, synced := range r.ws {
			if synced {
				h.send(s, msg.get(s.lang))
			}
		}
	}
	// Seller, winner and bidders are told by notification rows (notes.go).
}

// handleEdited tells every socket on the auction that its listing
// changed: the message makes the page fetch the listing's fragments
// (which can be longer than a notification may carry). h.mu is held.
func (h *Hub) handleEdited(ev *auction.Event) {
	r := h.rooms[ev.AuctionID]
	if r == nil || !r.loaded {
		return
	}
	r.title, r.st.Title = ev.Title, ev.Title
	if st := ev.State(); !r.st.Closed() && st.Status == auction.StatusOpen && st.BidCount == r.st.BidCount {
		// An edit before the first bid may change the reserve and Buy It
		// Now price: fragments rendered from now on carry them.
		r.st = st
		r.version++
	}
	// Unknown until the next load: a resync then refreshes once more.
	r.listing = ""
	h.sendListingRefresh(r)
}

// sendListingRefresh tells r's synced sockets to fetch its listing.
// h.mu is held.
func (h *Hub) sendListingRefresh(r *room) {
	id := r.id
	msg := &perLang{render: func(p *i18n.Printer) []byte { return h.html(parts.ListingRefresh(p, id)) }}
	for s, synced := range r.ws {
		if synced {
			h.send(s, msg.get(s.lang))
		}
	}
}

// summaryFrame is r's price and bid count, for the seller's dashboard.
// h.mu is held.
func (h *Hub) summaryFrame(r *room) *perLang {
	st := h.view(r.st)
	return r.summaryMsg.get([2]int64{int64(r.version)}, func(p *i18n.Printer) []byte {
		return h.sse(views.SummaryEvent(st.ID), parts.Summary(p, st))
	})
}

// sendSummaries queues r's price and bid count to its SSE subscribers
// that asked for them and have had their first messages. h.mu is held.
func (h *Hub) sendSummaries(r *room) {
	for s, synced := range r.sse {
		if synced && s.summaries {
			h.send(s, h.summaryFrame(r).get(s.lang))
		}
	}
}
