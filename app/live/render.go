package live

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/a-h/templ"

	"gavel/app/i18n"
	"gavel/views"
	"gavel/views/parts"
)

// html renders c into a new slice: the message every subscriber shares.
func (h *Hub) html(c templ.Component) []byte {
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		h.log.Error("live: render", "err", err)
		return nil
	}
	return buf.Bytes()
}

// sse renders c as one SSE frame of event name. templ output has no
// newlines in practice; any it has become further data lines, which the
// client joins back with newlines. EventSource ends a line at CR, LF or
// CRLF, so each of them starts a new data line: user text with a bare CR
// can never begin a field of its own.
func (h *Hub) sse(name string, c templ.Component) []byte {
	body := h.html(c)
	if body == nil {
		return nil
	}
	var buf bytes.Buffer
	buf.Grow(len(body) + len(name) + 20)
	buf.WriteString("event: ")
	buf.WriteString(name)
	buf.WriteByte('\n')
	for len(body) > 0 {
		line := body
		rest := []byte(nil)
		if i := bytes.IndexAny(body, "\r\n"); i >= 0 {
			line, rest = body[:i], body[i+1:]
			if body[i] == '\r' && len(rest) > 0 && rest[0] == '\n' {
				rest = rest[1:]
			}
		}
		buf.WriteString("data: ")
		buf.Write(line)
		buf.WriteByte('\n')
		body = rest
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// Message is one rendered message: the same value is queued to every
// subscriber it concerns. Never modify Data.
type Message struct {
	Data []byte
	once sync.Once
	enc  any
}

func newMessage(b []byte) *Message {
	if b == nil {
		return nil
	}
	return &Message{Data: b}
}

// Encoded returns encode(m.Data), computed on first use and then shared:
// a transport frames a message once for all its connections.
func (m *Message) Encoded(encode func([]byte) any) any {
	m.once.Do(func() { m.enc = encode(m.Data) })
	return m.enc
}

// perLang renders one message per language on first use.
type perLang struct {
	render func(p *i18n.Printer) []byte
	done   map[i18n.Lang]*Message
}

func (m *perLang) get(l i18n.Lang) *Message {
	if b, ok := m.done[l]; ok {
		return b
	}
	if m.done == nil {
		m.done = map[i18n.Lang]*Message{}
	}
	b := newMessage(m.render(i18n.For(l)))
	m.done[l] = b
	return b
}

// cached keeps the last message rendered for a key, so that subscribers
// joining in a burst (a reconnect storm after a deploy) share one render.
type cached struct {
	key [2]int64
	msg *perLang
}

func (c *cached) get(key [2]int64, render func(p *i18n.Printer) []byte) *perLang {
	if c.msg == nil || c.key != key {
		c.key, c.msg = key, &perLang{render: render}
	}
	return c.msg
}

// countdownFrame is r's countdown at now. A joining subscriber may get one
// rendered up to a tenth of a second earlier. h.mu is held.
func (h *Hub) countdownFrame(r *room, now time.Time) *perLang {
	st := h.view(r.st)
	return r.cdMsg.get([2]int64{int64(r.version), now.UnixMilli() / 100}, func(p *i18n.Printer) []byte {
		return h.sse(views.CountdownEvent(st.ID), parts.Countdown(p, st, now))
	})
}

// statusFrame is r's result. h.mu is held.
func (h *Hub) statusFrame(r *room) *perLang {
	st := h.view(r.st)
	return r.statusMsg.get([2]int64{int64(r.version)}, func(p *i18n.Printer) []byte {
		return h.sse(views.StatusEvent(st.ID), parts.Result(p, st, parts.InPage))
	})
}

// syncMessage is the first message of a socket on r. h.mu is held.
func (h *Hub) syncMessage(r *room, phase parts.Phase, now time.Time) *perLang {
	st, rows := h.view(r.st), r.rows
	return r.syncMsg.get([2]int64{int64(r.version), int64(phase)}, func(p *i18n.Printer) []byte {
		return h.html(parts.SyncMessage(p, st, rows, now))
	})
}

// sendCountdownTo queues r's countdown (and the result, once it is over)
// to s. h.mu is held.
func (h *Hub) sendCountdownTo(r *room, s *Sub, now time.Time, phase parts.Phase) {
	r.sse[s] = true
	h.send(s, h.countdownFrame(r, now).get(s.lang))
	if phase != parts.PhaseOpen {
		h.send(s, h.statusFrame(r).get(s.lang))
	}
}

// sendCountdowns queues the countdown of r (and the result, once it is
// over) to all its SSE subscribers. h.mu is held.
func (h *Hub) sendCountdowns(r *room, now time.Time) {
	phase := h.view(r.st).PhaseAt(now)
	for s := range r.sse {
		h.sendCountdownTo(r, s, now, phase)
	}
	r.sentPhase = phase
}

// sendSync queues the full state and latest rows of r to all its sockets.
// h.mu is held.
func (h *Hub) sendSync(r *room, now time.Time) {
	if !r.rowsLoaded {
		return
	}
	msg := h.syncMessage(r, h.view(r.st).PhaseAt(now), now)
	for s := range r.ws {
		r.ws[s] = true
		h.send(s, msg.get(s.lang))
	}
}

// syncWaiting queues the first messages to r's subscribers that have had
// none, once r is loaded (and, for sockets, its rows). h.mu is held.
func (h *Hub) syncWaiting(r *room) {
	if r == nil || !r.loaded || len(r.waiting) == 0 {
		return
	}
	now := h.opt.Now()
	phase := h.view(r.st).PhaseAt(now)
	keep := r.waiting[:0]
	for _, s := range r.waiting {
		if s.dead {
			continue
		}
		if s.kind == kindSSE {
			if synced, ok := r.sse[s]; ok && !synced {
				h.sendCountdownTo(r, s, now, phase)
				if s.summaries {
					// The price and bids as they are now: the page may
					// have been drawn before the latest bid.
					h.send(s, h.summaryFrame(r).get(s.lang))
				}
			}
			continue
		}
		if synced, ok := r.ws[s]; !ok || synced {
			continue
		}
		if !r.rowsLoaded {
			keep = append(keep, s)
			continue
		}
		r.ws[s] = true
		h.send(s, h.syncMessage(r, phase, now).get(s.lang))
	}
	clear(r.waiting[len(keep):])
	r.waiting = keep
	if len(keep) == 0 {
		r.waiting = nil
	}
}
