package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gavel/app/db/dbtest"
	"gavel/app/live"
	"gavel/app/web"
	"gavel/views"
)

func TestBodiesOverTheSmallLimitGet413ExceptOnTheUploadRoute(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	a.loginDev(t, "bigbody")
	big := strings.Repeat("x", 200<<10)
	// The server answers as soon as it reads the headers and closes, so a
	// client still sending the body may get a reset instead of the answer:
	// declare the length and send none of it.
	resp, doc := declareBody(t, a, "/wallet/deposits", len(big))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("200 KB deposit form: %d, want 413", resp.StatusCode)
	}
	// fasthttp answers before any middleware; the page is still Gavel's,
	// with the page policies.
	if doc.Find(`[data-testid="error-page"]`).Length() != 1 || resp.Header.Get("X-Frame-Options") != "DENY" ||
		resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("413 page: %q, headers %v", doc.Text(), resp.Header)
	}
	if resp, _ := declareBody(t, a, "/lang", len(big)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("200 KB language form: %d, want 413", resp.StatusCode)
	}
	// A small form still works; the sell form takes a 2 MB body.
	if resp, _ := a.postForm(t, "/wallet/deposits", url.Values{"amount": {"5000"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("small deposit form: %d", resp.StatusCode)
	}
	resp, _ = a.postMultipart(t, "/auctions", url.Values{
		"title": {"Big photo"}, "start_price": {"1000"}, "duration": {"24h0m0s"}, "description": {big},
	}, "photo.png", append(photo(t), make([]byte, 2<<20)...))
	if resp.StatusCode == http.StatusRequestEntityTooLarge {
		t.Errorf("2 MB sell form: 413")
	}
}

// declareBody sends a form POST's headers announcing n bytes of body, none
// of which follow, and reads the answer.
func declareBody(t *testing.T, a *testApp, path string, n int) (*http.Response, *goquery.Document) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAccept-Language: en\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", path, n)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc
}

func TestLiveStreamsOutliveTheWriteTimeoutThatCutsASlowReader(t *testing.T) {
	t.Parallel()
	const writeTimeout = time.Second
	a := startLive(t, dbtest.URL(t), func(_ *live.Options, d *web.Deps) { d.WriteTimeout = writeTimeout })
	id, alice, _ := lampAndTwoBidders(t, a)

	// The timeout is in force: a client that never reads a big photo loses
	// its connection instead of holding a goroutine and the body. (The
	// socket buffers on both sides hold about 4 MB of the 9.)
	const size = 9 << 20
	var img int64
	if err := a.DB.QueryRow(`INSERT INTO images (owner_id, large, large_type, thumb, thumb_type, width, height)
		VALUES (?, decode(repeat('ab', ?), 'hex'), 'image/jpeg', '\x00', 'image/jpeg', 1, 1) RETURNING id`, alice, size).Scan(&img); err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	fmt.Fprintf(raw, "GET /images/%d HTTP/1.1\r\nHost: x\r\n\r\n", img)

	sse := openSSE(t, fmt.Sprintf("%s/events?auctions=%d", a.URL, id))
	ws := dialWS(t, a, id)
	readFrame(t, ws, 3*time.Second)

	time.Sleep(3 * writeTimeout)

	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _ := io.Copy(io.Discard, raw)
	if n >= size {
		t.Errorf("a client that did not read for %s still got the whole %d-byte photo", 3*writeTimeout, n)
	}

	// Both streams, open for three timeouts, still carry what happens.
	drain := time.After(10 * time.Millisecond)
	for done := false; !done; {
		select {
		case <-sse.Events:
		case <-drain:
			done = true
		}
	}
	sse.next(t, views.CountdownEvent(id), 3*time.Second)
	ev := bid(t, a.DB, id, alice, 10_000, "after the timeout")
	if frame := readFrame(t, ws, 3*time.Second); frame.Find("#"+views.BidRowID(ev.ID)).Length() != 1 {
		t.Error("the socket did not bring the new bid row")
	}
}

func TestConnectionsPerPeerAreCapped(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"CONNS_PER_IP": "3"})
	addr := strings.TrimPrefix(a.URL, "http://")
	var open []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	// Give the server the time to accept all three before the fourth.
	probe := func() string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		line, _, _ := strings.Cut(string(b), "\r\n")
		return line
	}
	time.Sleep(100 * time.Millisecond)
	if got := probe(); got != "HTTP/1.1 429 Too Many Requests" {
		t.Errorf("a fourth connection: %q, want 429", got)
	}
	open[0].Close()
	waitFor(t, 3*time.Second, "a freed slot", func() bool { return probe() == "HTTP/1.1 200 OK" })
}
