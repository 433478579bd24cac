package web

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// A request's id outlives its request (a WebSocket keeps its locals while
// it is open) unchanged, though the next request on the connection reuses
// the bytes it came in; an implausible one is replaced.
func TestRequestIDsAreTheirOwnAndPlausible(t *testing.T) {
	app := fiber.New()
	app.Use(requestIDs)
	var kept []string
	app.Get("/", func(c *fiber.Ctx) error {
		kept = append(kept, requestID(c))
		return c.SendString(requestID(c))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	long := strings.Repeat("x", 129)
	ids := []string{"first-id-1", "other-id-2", "has space", long}
	for i, id := range ids {
		closing := ""
		if i == len(ids)-1 {
			closing = "Connection: close\r\n"
		}
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Request-ID: %s\r\n%s\r\n", id, closing)
	}
	br := bufio.NewReader(conn)
	var echoed []string
	for range ids {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		echoed = append(echoed, resp.Header.Get("X-Request-ID"))
	}
	if len(kept) != len(ids) || kept[0] != ids[0] || kept[1] != ids[1] {
		t.Fatalf("kept ids %q, want %q and %q first", kept, ids[0], ids[1])
	}
	for i, id := range echoed {
		if id != kept[i] {
			t.Errorf("answer %d carries id %q, its request kept %q", i, id, kept[i])
		}
	}
	for i, bad := range ids[2:] {
		if got := kept[2+i]; got == bad || !plausibleRequestID(got) {
			t.Errorf("an implausible id (%q) became %q", bad, got)
		}
	}
}
