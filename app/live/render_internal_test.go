package live

import (
	"bytes"
	"testing"

	"gavel/views/parts"
)

// sseEvents parses a stream as EventSource does (CR, LF and CRLF each end
// a line; a blank line dispatches) and returns the dispatched event names.
func sseEvents(stream []byte) []string {
	var names []string
	name, data := "", false
	for len(stream) > 0 {
		line := stream
		stream = nil
		if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
			crlf := line[i] == '\r' && i+1 < len(line) && line[i+1] == '\n'
			line, stream = line[:i], line[i+1:]
			if crlf {
				stream = stream[1:]
			}
		}
		switch {
		case len(line) == 0:
			if data {
				names = append(names, name)
			}
			name, data = "", false
		case bytes.HasPrefix(line, []byte("event:")):
			name = string(bytes.TrimSpace(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			data = true
		}
	}
	return names
}

func TestSSEFrameOfATitleWithBareCRsIsOneEvent(t *testing.T) {
	h := &Hub{}
	title := "x\r\revent: status-42\rdata: Auction closed\r\r"
	frame := h.sse("notice", parts.Notice(title, "/auctions/7", "You were outbid"))
	if got := sseEvents(frame); len(got) != 1 || got[0] != "notice" {
		t.Fatalf("the frame dispatches %q, want one \"notice\" event:\n%q", got, frame)
	}
}
