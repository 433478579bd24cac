package live

import (
	"bytes"
	"context"
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
// client joins back with newlines.
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
	for line := range bytes.Lines(body) {
		buf.WriteString("data: ")
		buf.Write(bytes.TrimRight(line, "\r\n"))
		buf.WriteByte('\n')
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// perLang renders one message per language on first use.
type perLang struct {
	render func(p *i18n.Printer) []byte
	done   map[i18n.Lang][]byte
}

func (m *perLang) get(l i18n.Lang) []byte {
	if b, ok := m.done[l]; ok {
		return b
	}
	if m.done == nil {
		m.done = map[i18n.Lang][]byte{}
	}
	b := m.render(i18n.For(l))
	m.done[l] = b
	return b
}

func (h *Hub) countdownFrame(st parts.State, now time.Time) *perLang {
	return &perLang{render: func(p *i18n.Printer) []byte {
		return h.sse(views.CountdownEvent(st.ID), parts.Countdown(p, st, now))
	}}
}

func (h *Hub) statusFrame(st parts.State) *perLang {
	return &perLang{render: func(p *i18n.Printer) []byte {
		return h.sse(views.StatusEvent(st.ID), parts.Result(p, st, parts.InPage))
	}}
}

func (h *Hub) syncMessage(r *room, now time.Time) *perLang {
	st, rows := r.st, r.rows
	return &perLang{render: func(p *i18n.Printer) []byte {
		return h.html(parts.SyncMessage(p, st, rows, now))
	}}
}

// sendCountdowns queues the countdown of r (and the result, once it is
// over) to its SSE subscribers; all of them, or only those not yet synced.
// h.mu is held.
func (h *Hub) sendCountdowns(r *room, now time.Time, onlyNew bool) {
	phase := r.st.PhaseAt(now)
	cd := h.countdownFrame(r.st, now)
	status := h.statusFrame(r.st)
	for s, synced := range r.sse {
		if onlyNew && synced {
			continue
		}
		r.sse[s] = true
		h.send(s, cd.get(s.lang))
		if phase != parts.PhaseOpen {
			h.send(s, status.get(s.lang))
		}
	}
	if !onlyNew {
		r.sentPhase = phase
	}
}

// sendSync queues the full state and latest rows of r to its sockets: all
// of them, or only those not yet synced. h.mu is held.
func (h *Hub) sendSync(r *room, now time.Time, onlyNew bool) {
	if !r.rowsLoaded {
		return
	}
	msg := h.syncMessage(r, now)
	for s, synced := range r.ws {
		if onlyNew && synced {
			continue
		}
		r.ws[s] = true
		h.send(s, msg.get(s.lang))
	}
}

// syncWaiting queues the first messages to r's subscribers that have had
// none, once r is loaded. h.mu is held.
func (h *Hub) syncWaiting(r *room) {
	if r == nil || !r.loaded {
		return
	}
	now := h.opt.Now()
	h.sendCountdowns(r, now, true)
	h.sendSync(r, now, true)
}
