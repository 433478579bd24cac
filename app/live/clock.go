package live

import (
	"context"
	"time"

	"gavel/app/i18n"
	"gavel/views"
	"gavel/views/parts"
)

// clock ticks on every whole period (whole seconds by default) and sends
// each watched countdown: one render per auction and language, the same
// bytes to every stream.
func (h *Hub) clock(ctx context.Context) {
	t := time.NewTimer(h.untilTick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.tick(h.opt.Now())
		t.Reset(h.untilTick())
	}
}

// untilTick is the wait until just after the next whole period, so that
// every instance shows the same second.
func (h *Hub) untilTick() time.Duration {
	now := h.opt.Now()
	return now.Truncate(h.opt.Tick).Add(h.opt.Tick).Sub(now) + time.Millisecond
}

type tickJob struct {
	r       *room
	st      parts.State
	version uint64
	langs   []i18n.Lang
	phase   parts.Phase
	changed bool       // the phase differs from the one last sent
	frames  []*Message // per langs[i]: countdown, then the result when the phase changed
	status  []*Message
}

// tick renders outside the lock from a snapshot, then queues under it only
// to rooms whose state did not change meanwhile (an event's own messages,
// queued in between, are newer).
func (h *Hub) tick(now time.Time) {
	var jobs []tickJob
	h.mu.Lock()
	for _, r := range h.rooms {
		if !r.loaded || len(r.sse) == 0 {
			continue
		}
		st := h.view(r.st)
		phase := st.PhaseAt(now)
		// Open countdowns change every tick; an ended or closed one only
		// when its phase changes (events send the closed one themselves).
		if phase != parts.PhaseOpen && phase == r.sentPhase {
			continue
		}
		j := tickJob{r: r, st: st, version: r.version, phase: phase, changed: phase != r.sentPhase}
		for s, synced := range r.sse {
			if synced && !hasLang(j.langs, s.lang) {
				j.langs = append(j.langs, s.lang)
			}
		}
		jobs = append(jobs, j)
	}
	h.mu.Unlock()

	for i := range jobs {
		j := &jobs[i]
		for _, l := range j.langs {
			p := i18n.For(l)
			j.frames = append(j.frames, newMessage(h.sse(views.CountdownEvent(j.st.ID), parts.Countdown(p, j.st, now))))
			if j.changed {
				j.status = append(j.status, newMessage(h.sse(views.StatusEvent(j.st.ID), parts.Result(p, j.st, parts.InPage))))
			}
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range jobs {
		j := &jobs[i]
		// Every other writer of sentPhase also bumps version.
		if h.rooms[j.st.ID] != j.r || j.r.version != j.version {
			continue
		}
		for s, synced := range j.r.sse {
			if !synced {
				continue
			}
			k := langIndex(j.langs, s.lang)
			if k < 0 {
				continue // joined meanwhile: it had its own first countdown
			}
			h.send(s, j.frames[k])
			if j.changed {
				h.send(s, j.status[k])
			}
		}
		j.r.sentPhase = j.phase
	}
}

func hasLang(ls []i18n.Lang, l i18n.Lang) bool { return langIndex(ls, l) >= 0 }

func langIndex(ls []i18n.Lang, l i18n.Lang) int {
	for i, x := range ls {
		if x == l {
			return i
		}
	}
	return -1
}
