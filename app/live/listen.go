package live

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"gavel/app/auction"
	"gavel/app/notify"
)

// Reconnect backoff of the LISTEN connection.
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
)

// listen keeps one LISTEN connection open for as long as ctx lasts. After
// every connect — the first too, since pages may have subscribed before it
// — it reloads every watched auction and resends their state: whatever was
// committed while no connection listened reaches the pages that way.
func (h *Hub) listen(ctx context.Context) {
	wait := h.opt.Backoff
	for ctx.Err() == nil {
		err := h.listenOnce(ctx)
		h.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("live: listener lost; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = max(min(wait*2, backoffMax), h.opt.Backoff)
		if err == nil {
			wait = h.opt.Backoff
		}
	}
}

// listenOnce connects, listens, resynchronises, then delivers
// notifications until the connection fails. It returns nil when it had
// been up (the next attempt may come at once).
func (h *Hub) listenOnce(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(h.opt.DatabaseURL)
	if err != nil {
		return err
	}
	cfg.RuntimeParams["application_name"] = h.opt.AppName
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	for _, ch := range []string{auction.Channel, notify.Channel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	// The dispatcher reloads every watched auction before it applies the
	// notifications that follow; those the reload already saw are skipped
	// by rank.
	if !h.enqueue(ctx, note{resync: true}) || !h.enqueueNote(ctx, noteMsg{resync: true}) {
		return nil
	}
	h.listening.Store(true)
	n := h.connects.Add(1)
	h.log.Info("live: listening", "channel", auction.Channel, "connects", n)
	for {
		nt, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if nt.Channel == notify.Channel {
			if id, user, ok := notify.ParseNote(nt.Payload); ok && !h.enqueueNote(ctx, noteMsg{id: id, user: user}) {
				return nil
			}
			continue
		}
		if !h.enqueue(ctx, note{payload: nt.Payload}) {
			return nil
		}
	}
}

// enqueue hands n to the dispatcher; if it lags, the listener waits (and
// PostgreSQL keeps the notifications meanwhile).
func (h *Hub) enqueue(ctx context.Context, n note) bool {
	select {
	case h.notes <- n:
		return true
	case <-ctx.Done():
		return false
	}
}

// enqueueNote hands m to the notes loop without ever waiting: the
// listener also carries every bid. When the loop lags so far that its
// queue is full, m is dropped and the loop resends every open stream what
// it has not had (the rows are the truth; the notification only a nudge).
func (h *Hub) enqueueNote(ctx context.Context, m noteMsg) bool {
	select {
	case h.noteq <- m:
	default:
		h.notesLost.Store(true)
	}
	return ctx.Err() == nil
}

// resync reloads every cached auction and sends the full state to all its
// subscribers.
func (h *Hub) resync(ctx context.Context) error {
	h.mu.Lock()
	rs := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rs = append(rs, r)
	}
	h.mu.Unlock()
	if len(rs) == 0 {
		return nil
	}
	loaded, err := h.load(ctx, rs)
	if err != nil {
		return err
	}
	now := h.opt.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range rs {
		l, ok := loaded[r.id]
		if !ok || h.rooms[r.id] != r {
			continue
		}
		edited := r.loaded && r.listing != l.listing
		h.applyLoad(r, l, now)
		h.sendCountdowns(r, now)
		h.sendSummaries(r)
		h.sendSync(r, now)
		if edited {
			h.sendListingRefresh(r)
		}
	}
	return nil
}
