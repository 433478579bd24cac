package live

import (
	"strings"
	"testing"

	"github.com/a-h/templ"

	"gavel/views"
	"gavel/views/parts"
)

// eventSource parses an SSE stream as the WHATWG EventSource does (lines end
// at CRLF, LF or a lone CR; data lines are joined with LF; an event is
// dispatched at a blank line) and returns the events as type, data pairs.
func eventSource(stream []byte) [][2]string {
	s := strings.ReplaceAll(string(stream), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var events [][2]string
	typ, data, hasData := "", "", false
	for _, line := range strings.Split(s, "\n") {
		if line == "" {
			if hasData {
				if typ == "" {
					typ = "message"
				}
				events = append(events, [2]string{typ, strings.TrimSuffix(data, "\n")})
			}
			typ, data, hasData = "", "", false
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			typ = value
		case "data":
			data += value + "\n"
			hasData = true
		}
	}
	return events
}

// FuzzSSEFrame renders a personal notice (the SSE message that carries a
// seller's title and the catalog's text to other users) and reads it back
// as a browser would: exactly one event, of the notice's name, whose data
// is the rendered HTML. Anything else would let a title forge events.
func FuzzSSEFrame(f *testing.F) {
	for _, s := range []string{"", "Brass lamp", "a\nb", "a\r\nb", "<b>x</b>", "data: x", "\n\nevent: status-1\ndata: closed\n\n",
		"가나다", "\x00", "\u2028\u2029", "\xff", "x\revent: status-42\rdata: Auction closed\r\r"} {
		f.Add(s, "You were outbid")
	}
	h := New(Options{})
	f.Fuzz(func(t *testing.T, title, text string) {
		c := parts.Notice(title, views.AuctionURL(1), text)
		body := h.html(c)
		// A lone CR ends a line for the browser as LF does: sse() splits on
		// it too (issue #11 finding 7), so it can never start an event.
		frame := h.sse(views.NoticeEvent, c)
		evs := eventSource(frame)
		want := strings.TrimSuffix(lineBreaks(string(body)), "\n")
		if len(evs) != 1 || evs[0][0] != views.NoticeEvent || evs[0][1] != want {
			t.Fatalf("title %q, text %q: the browser reads %q, want one %q event carrying %q", title, text, evs, views.NoticeEvent, want)
		}
	})
}

// lineBreaks is s with its CRLFs and lone CRs as LFs, as EventSource
// reads line ends.
func lineBreaks(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// FuzzSSEFrameRaw frames arbitrary markup (any component's output) and
// checks the same: one event, the markup intact but for line endings.
func FuzzSSEFrameRaw(f *testing.F) {
	for _, s := range []string{"", "x", "a\nb\n", "\n", "\n\n\n", "data: y\n\nevent: z"} {
		f.Add(s)
	}
	h := New(Options{})
	f.Fuzz(func(t *testing.T, markup string) {
		frame := h.sse("ev", templ.Raw(markup))
		evs := eventSource(frame)
		want := strings.TrimSuffix(lineBreaks(markup), "\n")
		if markup == "" {
			// Nothing rendered: no data line, and the browser dispatches
			// nothing (no component renders empty).
			if len(evs) != 0 {
				t.Fatalf("empty markup: the browser reads %q", evs)
			}
			return
		}
		if len(evs) != 1 || evs[0][0] != "ev" || evs[0][1] != want {
			t.Fatalf("markup %q: the browser reads %q, want one \"ev\" event carrying %q", markup, evs, want)
		}
	})
}
