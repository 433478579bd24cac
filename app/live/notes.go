package live

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"gavel/app/i18n"
	"gavel/app/notify"
	"gavel/views"
	"gavel/views/parts"
)

// Personal notifications: rows first (migration 0030's triggers write
// them with their cause), then pushed to the user's SSE streams on every
// instance, each frame carrying the row's id as its SSE id. A stream
// starts after a given id (the page's newest, or the Last-Event-ID of a
// reconnect) and is sent what came after it; after every (re)connect of
// the LISTEN connection each open stream is sent the rows it has not had,
// so an outage loses nothing.

// noteMsg is what the listener hands the notes loop: a row announced on
// notify.Channel, or (resync) the news that a new connection is listening.
type noteMsg struct {
	id, user int64
	resync   bool
}

// sentKept is how many delivered ids a stream remembers, so that a row
// arriving both live and in a replay is sent once.
const sentKept = 128

// noteState is a stream's place in its user's notifications. Guarded by
// h.mu.
type noteState struct {
	floor int64   // rows at or below it were the page's own
	sent  []int64 // the latest ids delivered, oldest first
}

func (n *noteState) has(id int64) bool { return id <= n.floor || slices.Contains(n.sent, id) }

func (n *noteState) add(id int64) {
	if len(n.sent) >= sentKept {
		n.sent = append(n.sent[:0], n.sent[1:]...)
	}
	n.sent = append(n.sent, id)
}

// WatchNotes is WatchCountdowns for a signed-in user whose page has seen
// their notifications up to id after (the page's newest, or a reconnect's
// Last-Event-ID); the ones after it are queued at once. after < 0 means
// "from now". user must not be 0.
func (h *Hub) WatchNotes(ctx context.Context, lang i18n.Lang, ids []int64, user, after int64, opts ...WatchOption) (*Sub, error) {
	if after < 0 {
		_, last, err := notify.Bell(ctx, h.opt.DB, user)
		if err != nil {
			return nil, err
		}
		after = last
	}
	n := max(len(ids), 1)
	s := &Sub{h: h, kind: kindSSE, lang: lang, ids: ids, user: user,
		max: h.opt.Queue * n, notes: &noteState{floor: after}}
	for _, o := range opts {
		o(s)
	}
	if err := h.subscribe(ctx, s); err != nil {
		return nil, err
	}
	// Registered first, read second: a row committed meanwhile comes
	// live, in the replay or both, and is sent once.
	list, err := notify.Since(ctx, h.opt.DB, user, after)
	if err != nil {
		s.Close()
		return nil, err
	}
	if len(list) > 0 {
		counts, err := notify.UnreadCounts(ctx, h.opt.DB, []int64{user})
		if err != nil {
			s.Close()
			return nil, err
		}
		h.mu.Lock()
		h.deliver(list, counts, s)
		h.mu.Unlock()
	}
	return s, nil
}

// notesLoop delivers announced rows to the streams of their users on this
// instance, reading each batch in one query; after a listener (re)connect
// it sends every open stream what it has not had.
func (h *Hub) notesLoop(ctx context.Context) {
	for {
		var m noteMsg
		select {
		case <-ctx.Done():
			return
		case m = <-h.noteq:
		}
		var ids []int64
		resync := false
		for {
			if m.resync {
				resync = true
			} else if h.hasUser(m.user) {
				ids = append(ids, m.id)
			}
			if len(ids) >= maxBatch {
				break
			}
			select {
			case m = <-h.noteq:
				continue
			default:
			}
			break
		}
		if h.notesLost.Swap(false) {
			resync = true
		}
		if resync {
			h.retry(ctx, "live: notes resync", h.resyncNotes)
		}
		if len(ids) > 0 {
			h.retry(ctx, "live: notes", func(ctx context.Context) error { return h.loadAndDeliver(ctx, ids) })
		}
	}
}

// retry runs fn until it succeeds or ctx ends, backing off between tries.
func (h *Hub) retry(ctx context.Context, what string, fn func(context.Context) error) {
	wait := h.opt.Backoff
	for {
		err := fn(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		h.log.Error(what, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, backoffMax)
	}
}

func (h *Hub) hasUser(user int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.users[user]) > 0
}

func (h *Hub) loadAndDeliver(ctx context.Context, ids []int64) error {
	list, counts, err := notify.ByID(ctx, h.opt.DB, ids)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deliver(list, counts, nil)
	return nil
}

// resyncNotes sends every open notification stream the rows after its
// floor that it has not had.
func (h *Hub) resyncNotes(ctx context.Context) error {
	h.mu.Lock()
	floors := map[int64]int64{}
	for u, subs := range h.users {
		for s := range subs {
			if s.notes == nil {
				continue
			}
			if f, ok := floors[u]; !ok || s.notes.floor < f {
				floors[u] = s.notes.floor
			}
		}
	}
	h.mu.Unlock()
	for u, floor := range floors {
		list, err := notify.Since(ctx, h.opt.DB, u, floor)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			continue
		}
		counts, err := notify.UnreadCounts(ctx, h.opt.DB, []int64{u})
		if err != nil {
			return err
		}
		h.mu.Lock()
		h.deliver(list, counts, nil)
		h.mu.Unlock()
	}
	return nil
}

// deliver queues each row of list (oldest first) to its user's streams
// that have not had it — only to only, when set — rendered once per
// language; a stream gets what is new to it as one message. h.mu is held.
func (h *Hub) deliver(list []notify.Notification, counts map[int64]int, only *Sub) {
	byUser := map[int64][]*notify.Notification{}
	for i := range list {
		byUser[list[i].UserID] = append(byUser[list[i].UserID], &list[i])
	}
	for u, notes := range byUser {
		frames := make([]*perLang, len(notes))
		for i, n := range notes {
			unread := counts[u]
			frames[i] = &perLang{render: func(p *i18n.Printer) []byte {
				return h.sseID(views.NoticeEvent, n.ID, parts.LiveNote(p, n, unread))
			}}
		}
		for s := range h.users[u] {
			if s.notes == nil || s.dead || (only != nil && s != only) {
				continue
			}
			var buf []byte
			for i, n := range notes {
				if s.notes.has(n.ID) {
					continue
				}
				s.notes.add(n.ID)
				if m := frames[i].get(s.lang); m != nil {
					buf = append(buf, m.Data...)
				}
			}
			if len(buf) > 0 {
				h.send(s, newMessage(buf))
			}
		}
	}
}

// sseID is sse with the event's id (a notification's row id): EventSource
// sends the last one back as Last-Event-ID when it reconnects.
func (h *Hub) sseID(name string, id int64, c templ.Component) []byte {
	frame := h.sse(name, c)
	if frame == nil {
		return nil
	}
	return append(strconv.AppendInt([]byte("id: "), id, 10), append([]byte{'\n'}, frame...)...)
}
