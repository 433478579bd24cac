//go:build !race

package fault_test

import (
	"errors"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	"gavel/app/live"
)

// serverWriteWait is how long an instance waits for a client to take a
// frame before it closes the connection (wsWriteWait in app/web).
const serverWriteWait = 10 * time.Second

// TestPageThatStopsReadingHoldsUpNoOne opens twenty pages on an auction and
// one more that stops reading (a tiny receive buffer, as a phone on a dead
// link), then places a hundred bids. The others get every row, the last
// within a second of its bid, each ending up with the newest rows and none
// missing. The stalled page, when it reads again, has been either closed
// with 1013 (htmx reconnects and resynchronises) or sent everything whole;
// never a gap. Only a page that took longer to take its frames than the
// instance waits for a client may find its connection closed without a
// close frame (1006, after which htmx reconnects too).
func TestPageThatStopsReadingHoldsUpNoOne(t *testing.T) {
	dbURL := dbtest.URL(t)
	bdb := openDB(t, dbURL)
	a := startInstance(t, "a", dbURL, map[string]string{"TRUSTED_PROXIES": "127.0.0.1", "STARTING_BALANCE": "1000000000"})
	bidders := loginAll(t, "bidder", 2, 10*time.Second, a.URL)
	seller, img := newSeller(t, bdb, "seller")
	lot := newAuction(t, bdb, seller, img, "Lot", 10_000, time.Minute)

	var pages []*wsClient
	for range 20 {
		ws, err := dialSocket(t, a.URL, a.URL, lot, nil)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, ws)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDial: func(network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
			return errors.Join(err, serr)
		}}
		return nd.Dial(network, addr)
	}}
	stalled, _, err := d.Dial("ws"+a.URL[len("http"):]+"/auctions/"+strconv.FormatInt(lot, 10)+"/ws", http.Header{"Origin": {a.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalledAt := time.Now()

	price := int64(10_000)
	var lastAnswered time.Time
	for i := range 100 {
		price += 2 * auction.Increment(price)
		out, st, err := bidders[i%2].bid(a.URL, lot, price, "bid "+strconv.Itoa(i))
		if out != accepted {
			t.Fatalf("bid %d: %v %d %v", i, out, st, err)
		}
		lastAnswered = time.Now()
	}
	var last int64
	if err := bdb.QueryRow(`SELECT max(id) FROM bids WHERE auction_id = ?`, lot).Scan(&last); err != nil {
		t.Fatal(err)
	}
	for i, ws := range pages {
		if !waitUntil(time.Until(lastAnswered.Add(time.Second)), func() bool { _, ok := ws.sawAt(last); return ok }) {
			t.Errorf("page %d did not get the last row within 1 s of its bid (closed with %d)", i, ws.closeCode())
			continue
		}
		ws.checkTable(t, "page "+strconv.Itoa(i), bdb, lot, live.MaxRows)
	}

	// The stalled page, read at last: either the instance dropped it with
	// 1013 (it fell behind), or everything it was sent waited for it in
	// the socket's buffers, and its table is whole. Through a 1 KB receive
	// window that can take a while (one small segment per acknowledgement),
	// so what fails is a page that stops getting anything, not a slow one.
	var total int
	if err := bdb.QueryRow(`SELECT count(*) FROM bids WHERE auction_id = ?`, lot).Scan(&total); err != nil {
		t.Fatal(err)
	}
	late := watchSocket(t, stalled)
	began := time.Now()
	t.Logf("the stalled page read nothing for %v", began.Sub(stalledAt).Round(time.Millisecond))
	const quiet = 15 * time.Second
	seen, since := 0, time.Now()
	for {
		late.mu.Lock()
		n := len(late.seen)
		late.mu.Unlock()
		if n > seen {
			seen, since = n, time.Now()
		}
		select {
		case <-late.closed:
			switch code := late.closeCode(); {
			case code == websocket.CloseTryAgainLater:
				t.Logf("the stalled page was dropped with 1013 after %d rows", n)
			case code == websocket.CloseAbnormalClosure && time.Since(stalledAt) > serverWriteWait:
				// It took what was sent so slowly (through a 1 KB window, a
				// busy machine's kernel trickles it) that the instance gave
				// up handing it the close frame and closed the connection,
				// as it does with a client that stops taking data. htmx
				// reconnects after 1006 as after 1013.
				t.Logf("the stalled page was cut off after %d rows, %v after it stalled", n, time.Since(stalledAt).Round(time.Millisecond))
			default:
				t.Errorf("the stalled page was closed with %d after %d rows, %v after it stalled; want 1013 (reconnect)",
					code, n, time.Since(stalledAt).Round(time.Millisecond))
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if n >= total {
			break
		}
		if time.Since(since) > quiet {
			port := strconv.Itoa(stalled.LocalAddr().(*net.TCPAddr).Port)
			ss, _ := exec.Command("ss", "-tnoi", "( sport = :"+port+" or dport = :"+port+" )").CombinedOutput()
			t.Fatalf("the stalled page got %d rows, then nothing for %v, and was not closed; its connection:\n%s", n, quiet, ss)
		}
	}
	late.checkTable(t, "the stalled page", bdb, lot, live.MaxRows)
	t.Logf("the stalled page caught up with %d rows in %v", seen, time.Since(began).Round(time.Millisecond))
}
