package web_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/fasthttp/websocket"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	"gavel/app/live"
	"gavel/app/server"
	"gavel/app/web"
	"gavel/views"
)

func TestSSECountdownsTickEachSecondThenTurnIntoTheResult(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t))
	seller := newUser(t, a.DB, "seller")
	bidder := newUser(t, a.DB, "bidder")
	one := newAuction(t, a.DB, seller, "Lamp", 10_000, 3500*time.Millisecond)
	two := newAuction(t, a.DB, seller, "Chair", 10_000, 4500*time.Millisecond)
	bid(t, a.DB, one, bidder, 12_000, "mine") // a lone maximum leads at the start price

	s := openSSE(t, fmt.Sprintf("%s/events?auctions=%d,%d", a.URL, one, two), "Accept-Language", "en")
	h := s.Resp.Header
	if s.Resp.StatusCode != 200 || h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-cache" ||
		h.Get("X-Accel-Buffering") != "no" || h.Get("Content-Encoding") != "" {
		t.Fatalf("status %d, headers %v", s.Resp.StatusCode, h)
	}

	// Each countdown changes from one second to the next, reading the end
	// time too (for pages without JavaScript).
	for _, id := range []int64{one, two} {
		// The first countdown comes on subscribing, the next on the next
		// whole second: they may read the same; a third must differ.
		first := fragment(t, s.next(t, views.CountdownEvent(id), 3*time.Second).Data)
		second := fragment(t, s.next(t, views.CountdownEvent(id), 3*time.Second).Data)
		if first.Find(".countdown__left").Text() == second.Find(".countdown__left").Text() {
			second = fragment(t, s.next(t, views.CountdownEvent(id), 3*time.Second).Data)
		}
		if got, _ := first.Attr("id"); got != views.CountdownID(id) {
			t.Errorf("countdown id %q", got)
		}
		if sw, _ := first.Attr("sse-swap"); sw != views.CountdownEvent(id) {
			t.Errorf("sse-swap %q", sw)
		}
		if role, _ := first.Attr("role"); role != "timer" {
			t.Errorf("role %q", role)
		}
		if live, _ := first.Attr("aria-live"); live != "off" {
			t.Errorf("a ticking countdown must not be announced: aria-live %q", live)
		}
		if first.Find("time[datetime]").Length() != 1 || !strings.Contains(first.Text(), "left") {
			t.Errorf("open countdown: %q", first.Text())
		}
		if first.Find(".countdown__left").Text() == second.Find(".countdown__left").Text() {
			t.Errorf("countdown did not change: %q", first.Text())
		}
	}

	// At the end: "ended", and the bid form becomes the result.
	for {
		cd := fragment(t, s.next(t, views.CountdownEvent(one), 4*time.Second).Data)
		if p, _ := cd.Attr("data-phase"); p == "ended" {
			if !cd.HasClass("countdown--ended") {
				t.Error("ended countdown lacks countdown--ended")
			}
			break
		}
	}
	ended := fragment(t, s.next(t, views.StatusEvent(one), time.Second).Data)
	if id, _ := ended.Attr("id"); id != views.BidFormID(one) || !ended.HasClass("result") {
		t.Errorf("status fragment: %v", ended.Nodes[0].Attr)
	}
	if sw, _ := ended.Attr("sse-swap"); sw != views.StatusEvent(one) {
		t.Errorf("the result must take the settled result too: sse-swap %q", sw)
	}

	// After settlement the winner and price appear in the countdown (list
	// page) and the result (room).
	settle(t, a.DB)
	cd := fragment(t, s.next(t, views.CountdownEvent(one), 3*time.Second).Data)
	if p, _ := cd.Attr("data-phase"); p != "sold" || !strings.Contains(cd.Text(), "₩10,000") || !strings.Contains(cd.Text(), "bidder") {
		t.Errorf("sold countdown: %q", cd.Text())
	}
	sold := fragment(t, s.next(t, views.StatusEvent(one), time.Second).Data)
	if !sold.HasClass("result--sold") || !strings.Contains(sold.Text(), "bidder") || !strings.Contains(sold.Text(), "₩10,000") {
		t.Errorf("sold result: %q %v", sold.Text(), sold.Nodes[0].Attr)
	}

	// Two ends a second after one: on a slow machine it was due already,
	// and settled, when one was. Either way "ended" (if it came) turns into
	// "unsold".
	deadline := time.Now().Add(8 * time.Second)
	for {
		res := fragment(t, s.next(t, views.StatusEvent(two), time.Until(deadline)).Data)
		if res.HasClass("result--unsold") {
			break
		}
		if !res.HasClass("result") || res.HasClass("result--sold") {
			t.Fatalf("result of two: %v", res.Nodes[0].Attr)
		}
		if _, err := auction.NewSweeper(a.DB, nil).SettleDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSSERejectsBadListsAndCapsStreamsPerAddress(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t), func(_ *live.Options, d *web.Deps) { d.StreamsPerIP = 2 })
	seller := newUser(t, a.DB, "seller")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	for _, q := range []string{"?auctions=x", "?auctions=1,,2", "?auctions=-3", "?auctions=" + strings.Join(many, ","), ""} {
		resp, err := http.Get(a.URL + "/events" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%q: %d, want 400", q, resp.StatusCode)
		}
	}
	u := fmt.Sprintf("%s/events?auctions=%d", a.URL, id)
	openSSE(t, u)
	openSSE(t, u)
	if s := openSSE(t, u); s.Resp.StatusCode != 429 {
		t.Errorf("third stream from one address: %d, want 429", s.Resp.StatusCode)
	}
}

func TestWebSocketSyncsThenGetsACommittedBidAsRowAndOOBFragments(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t))
	id, alice, bob := lampAndTwoBidders(t, a)
	bid(t, a.DB, id, alice, 10_000, "first")

	conn := dialWS(t, a, id)
	sync := readFrame(t, conn, 3*time.Second)
	rows := sync.Find("tbody#" + views.BidRowsID)
	if oob, _ := rows.Attr("hx-swap-oob"); oob != "innerHTML" || rows.Find("tr.bid-row").Length() != 1 {
		t.Fatalf("sync rows: oob %q, %d rows", oob, rows.Find("tr").Length())
	}
	if got := sync.Find("#" + views.LeaderID(id)).Text(); !strings.Contains(got, "alice") {
		t.Errorf("sync leader %q", got)
	}

	ev := bid(t, a.DB, id, bob, 11_000, "<b>hi</b>")
	msg := readFrame(t, conn, 3*time.Second)
	rows = msg.Find("tbody#" + views.BidRowsID)
	if oob, _ := rows.Attr("hx-swap-oob"); oob != "afterbegin" {
		t.Errorf("rows oob %q", oob)
	}
	row := rows.Find("tr#" + views.BidRowID(ev.ID))
	if row.Length() != 1 || !row.HasClass("bid-row") || !row.HasClass("bid-row--new") {
		t.Fatalf("new row: %d", row.Length())
	}
	if row.Find(".bid-row__amount").Text() != "₩11,000" || row.Find(".bid-row__message").Text() != "<b>hi</b>" ||
		row.Find("b").Length() != 0 {
		t.Errorf("row: %q", row.Text())
	}
	for sel, want := range map[string]string{
		"#" + views.PriceID(id):    "₩11,000",
		"#" + views.BidCountID(id): "2",
		"#" + views.MinBidID(id):   "₩12,000",
		"#" + views.LeaderID(id):   "bob",
		"#" + views.EndsAtID(id):   "",
	} {
		el := msg.Children().Filter(sel)
		if el.Length() != 1 {
			t.Errorf("%s: not a top-level OOB fragment", sel)
			continue
		}
		if oob, _ := el.Attr("hx-swap-oob"); oob != "true" {
			t.Errorf("%s: hx-swap-oob %q", sel, oob)
		}
		if !strings.Contains(el.Text(), want) {
			t.Errorf("%s: %q, want %q", sel, el.Text(), want)
		}
	}
	if msg.Find("#"+views.BidFormID(id)).Length() != 0 {
		t.Error("a bid must not replace the bid form")
	}
	// The prefilled amount follows the price only in an input nobody has
	// touched: what a bidder types is never replaced.
	amount := msg.Children().Filter("#" + views.AmountID(id))
	if v, _ := amount.Attr("value"); v != "12000" {
		t.Errorf("prefilled amount %q", v)
	}
	if oob, _ := amount.Attr("hx-swap-oob"); !strings.Contains(oob, ":not(:focus):not(:user-valid):not(:user-invalid)") {
		t.Errorf("amount oob %q", oob)
	}
}

func TestBidCommittedOnOneInstanceReachesASocketOnAnother(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t)
	a := startLive(t, u)
	b := startLive(t, u)
	seller := newUser(t, a.DB, "seller")
	alice := newUser(t, a.DB, "alice")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	conn := dialWS(t, b, id)
	readFrame(t, conn, 3*time.Second) // sync
	ev := bid(t, a.DB, id, alice, 10_000, "")
	if readFrame(t, conn, 3*time.Second).Find("#"+views.BidRowID(ev.ID)).Length() != 1 {
		t.Error("the row did not reach the other instance")
	}
}

func TestLostListenerIsReplacedAndABidInTheGapReachesThePage(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t), func(o *live.Options, _ *web.Deps) { o.Backoff = time.Second })
	seller := newUser(t, a.DB, "seller")
	alice := newUser(t, a.DB, "alice")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	conn := dialWS(t, a, id)
	readFrame(t, conn, 3*time.Second)
	_, before := a.Hub.Listening()

	var killed int
	if err := a.DB.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?`,
		a.AppName).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate the listener: %v (%d)", err, killed)
	}
	waitFor(t, 3*time.Second, "the hub to notice", func() bool { up, _ := a.Hub.Listening(); return !up })
	ev := bid(t, a.DB, id, alice, 10_000, "in the gap")
	waitFor(t, 10*time.Second, "a new listener", func() bool { up, n := a.Hub.Listening(); return up && n > before })

	msg := readFrame(t, conn, 3*time.Second)
	rows := msg.Find("tbody#" + views.BidRowsID)
	if oob, _ := rows.Attr("hx-swap-oob"); oob != "innerHTML" || rows.Find("#"+views.BidRowID(ev.ID)).Length() != 1 {
		t.Errorf("resync after the gap: oob %q, rows %d", oob, rows.Find("tr").Length())
	}
	if got := msg.Find("#" + views.PriceID(id)).Text(); got != "₩10,000" {
		t.Errorf("price after resync %q", got)
	}
}

// slowDialer's sockets have the smallest receive buffer, so a client that
// never reads blocks the server after a few kilobytes.
var slowDialer = &websocket.Dialer{
	ReadBufferSize: 256,
	NetDial: func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
			return errors.Join(err, serr)
		}}
		return d.Dial(network, addr)
	},
}

// dialSlowWS opens a socket whose client takes at most about a kilobyte
// until it reads.
func dialSlowWS(t *testing.T, a *liveApp, id int64) *websocket.Conn {
	t.Helper()
	conn, _, err := slowDialer.Dial(wsURL(a, id), http.Header{"Origin": {a.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitForBytes waits until conn's socket has bytes to read, and reads
// none of them.
func waitForBytes(t *testing.T, conn *websocket.Conn, within time.Duration) {
	t.Helper()
	nc := conn.NetConn()
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(within))
	var n int
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, perr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return perr != syscall.EAGAIN // else wait until it is readable
	})
	if err = errors.Join(err, perr); err != nil || n == 0 {
		t.Fatalf("waiting for bytes: %d, %v", n, err)
	}
}

// lampAndTwoBidders lists an hour-long auction and signs up alice and bob.
func lampAndTwoBidders(t *testing.T, a *liveApp) (id, alice, bob int64) {
	t.Helper()
	seller := newUser(t, a.DB, "seller")
	alice, bob = newUser(t, a.DB, "alice"), newUser(t, a.DB, "bob")
	// Enough for the longest burst's maximums.
	for _, u := range []int64{alice, bob} {
		if _, err := a.DB.Exec(`INSERT INTO ledger (user_id, kind, amount) VALUES (?, 'deposit', 900000000000)`, u); err != nil {
			t.Fatal(err)
		}
	}
	return newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour), alice, bob
}

func TestSocketThatNeverReadsIsDroppedWhileOthersKeepReceiving(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t), func(o *live.Options, _ *web.Deps) { o.Queue = 16 })
	id, alice, bob := lampAndTwoBidders(t, a)

	dialSlowWS(t, a, id) // and never read
	fast := dialWS(t, a, id)
	readFrame(t, fast, 3*time.Second)
	waitFor(t, 3*time.Second, "both sockets", func() bool { _, ws := a.Hub.Subscribers(); return ws == 2 })

	// Enough bytes to fill what the kernel buffers for the stuck socket
	// (its send buffer grows to tcp_wmem's 4 MB on loopback).
	const rounds = 600
	got := make(chan int, 1)
	go func() {
		n := 0
		for {
			fast.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, m, err := fast.ReadMessage()
			if err != nil {
				t.Logf("reader: %v", err)
				got <- n
				return
			}
			n += strings.Count(string(m), "<tr ")
			if n == rounds*10 {
				got <- n
				return
			}
		}
	}()
	msg := strings.Repeat("🔨", 100)
	amount := int64(10_000)
	for range rounds {
		var bids []bidIn
		for k := range 10 {
			bids = append(bids, bidIn{[]int64{alice, bob}[k%2], amount, msg})
			amount += auction.Increment(amount)
		}
		commitBurst(t, a.DB, id, bids...)
	}
	if n := <-got; n != rounds*10 {
		t.Errorf("the reading socket got %d of %d rows", n, rounds*10)
	}
	waitFor(t, 5*time.Second, "the slow socket to be dropped", func() bool { _, ws := a.Hub.Subscribers(); return ws == 1 })
}

func TestFramesTheClientTakesInPartsArriveWholeAndInOrder(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t), func(o *live.Options, _ *web.Deps) { o.Queue = 1000 })
	id, alice, bob := lampAndTwoBidders(t, a)

	conn := dialSlowWS(t, a, id)
	readFrame(t, conn, 3*time.Second)
	// 3,000 rows of about 700 bytes (2.2 MB) while the page reads nothing:
	// more than the connection takes (the page's tiny window makes the
	// server's kernel send 576-byte segments, and tcp_wmem's 4 MB of send
	// buffer then holds only about 1.6 MB of them), so a frame goes out in
	// part, and its rest and the frames after it wait for the client.
	const n = 3000
	var bids []bidIn
	amount := int64(10_000)
	for k := range n {
		bids = append(bids, bidIn{[]int64{alice, bob}[k%2], amount, strings.Repeat("🔨", 100)})
		amount += auction.Increment(amount)
	}
	commitBurst(t, a.DB, id, bids...)
	// The page starts reading well after the burst reached it. Its window
	// (~870 bytes) is one and a half of the 576-byte segments the server's
	// kernel sends it, which sends the last half only when its persist
	// timer fires (a retransmission timeout: 200 ms and up). A page that
	// starts reading before that may not open its window to a whole
	// segment again for as long as it reads: it then gets ~300 bytes per
	// timer, 1.4 KB/s, a 700 KB frame in minutes.
	waitForBytes(t, conn, 10*time.Second)
	time.Sleep(time.Second)
	// A ping meanwhile: its pong waits for the frame under way.
	pong := make(chan string, 1)
	conn.SetPongHandler(func(s string) error { pong <- s; return nil })
	if err := conn.WriteControl(websocket.PingMessage, []byte("still there?"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := a.DB.NewSelect().Table("bids").Column("id").Where("auction_id = ?", id).Order("id").Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	// The hub sends bids that come together in one message; whatever the
	// split, every row arrives once. The rows must keep coming (a frame
	// within wsWriteWait, as long as the server waits for the page) and
	// all arrive within a minute.
	var got []int64
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%d of the %d rows arrived", len(got), len(ids))
		}
	})
	end := time.Now().Add(time.Minute)
	for len(got) < len(ids) {
		within := min(10*time.Second, time.Until(end))
		rows := readFrame(t, conn, within).Find("tbody#" + views.BidRowsID + " tr.bid-row")
		rows.Each(func(_ int, row *goquery.Selection) {
			id, _ := row.Attr("id")
			got = append(got, mustInt(t, strings.TrimPrefix(id, "bid-")))
		})
	}
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Fatalf("rows %v…, want %v…", got[:5], ids[:5])
	}
	// A page that closes gets its code back (after the pong, which came
	// after the frames), and the socket ends.
	if err := conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"),
		time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, _, err := conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after close: %v", err)
	}
	select {
	case got := <-pong:
		if got != "still there?" {
			t.Errorf("pong %q", got)
		}
	default:
		t.Error("no pong")
	}
	waitFor(t, 3*time.Second, "the socket to end", func() bool { _, ws := a.Hub.Subscribers(); return ws == 0 })
}

func TestSSEStreamThatNeverReadsIsDroppedWhileOthersKeepReceiving(t *testing.T) {
	t.Parallel()
	// A fast clock fills the kernel's buffers for the stuck stream in
	// seconds rather than minutes.
	a := startLive(t, dbtest.URL(t), func(o *live.Options, _ *web.Deps) { o.Queue = 5; o.Tick = 10 * time.Millisecond })
	seller := newUser(t, a.DB, "seller")
	var ids []string
	for i := range 100 {
		ids = append(ids, fmt.Sprint(newAuction(t, a.DB, seller, fmt.Sprintf("Lot %d", i), 10_000, time.Hour)))
	}
	u := a.URL + "/events?auctions=" + strings.Join(ids, ",")
	conn, err := slowDialer.NetDial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n", strings.TrimPrefix(u, a.URL))
	reader := openSSE(t, u)
	waitFor(t, 3*time.Second, "both streams", func() bool { sse, _ := a.Hub.Subscribers(); return sse == 2 })
	waitFor(t, 15*time.Second, "the slow stream to be dropped", func() bool { sse, _ := a.Hub.Subscribers(); return sse == 1 })
	// The reader still gets its countdowns.
	for range 3 {
		reader.next(t, views.CountdownEvent(mustInt(t, ids[0])), 3*time.Second)
	}
}

func mustInt(t testing.TB, s string) int64 {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWebSocketFromAnotherOriginIsForbiddenAndPageFramesDoNothing(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t))
	seller := newUser(t, a.DB, "seller")
	alice := newUser(t, a.DB, "alice")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)

	for _, origin := range []string{"http://evil.example", ""} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		_, resp, err := websocket.DefaultDialer.Dial(wsURL(a, id), h)
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Errorf("origin %q: err %v, resp %v", origin, err, resp)
		}
	}
	if _, resp, _ := websocket.DefaultDialer.Dial(wsURL(a, 999999), http.Header{"Origin": {a.URL}}); resp == nil || resp.StatusCode != 404 {
		t.Errorf("unknown auction: %v", resp)
	}

	conn := dialWS(t, a, id)
	readFrame(t, conn, 3*time.Second)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"amount":"99999","HEADERS":{}}`)); err != nil {
		t.Fatal(err)
	}
	ev := bid(t, a.DB, id, alice, 10_000, "")
	if readFrame(t, conn, 3*time.Second).Find("#"+views.BidRowID(ev.ID)).Length() != 1 {
		t.Error("the socket stopped working after a page frame")
	}
	var n int
	a.DB.QueryRow(`SELECT count(*) FROM bids`).Scan(&n)
	if n != 1 {
		t.Errorf("%d bids: a frame from the page must not bid", n)
	}
}

func TestThousandConnectsAndDisconnectsLeaveNoGoroutines(t *testing.T) {
	// Not parallel: it counts the process's goroutines. The job queue's
	// goroutines come and go on their own schedule: it runs none here.
	a := startLiveParts(t, dbtest.URL(t), func(p *server.Parts) { p.Notify.NoWork = true })
	seller := newUser(t, a.DB, "seller")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	settle := func() int {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	// Warm up pools and the room, then count.
	c := dialWS(t, a, id)
	readFrame(t, c, 3*time.Second)
	c.Close()
	before := settle()
	for i := range 1000 {
		if i%2 == 0 {
			conn, _, err := websocket.DefaultDialer.Dial(wsURL(a, id), http.Header{"Origin": {a.URL}})
			if err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, _, err := conn.ReadMessage(); err != nil {
				t.Fatal(err)
			}
			conn.Close()
		} else {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/events?auctions=%d", a.URL, id), nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			resp.Body.Read(buf)
			cancel()
			resp.Body.Close()
		}
	}
	tr.CloseIdleConnections()
	deadline := time.Now().Add(40 * time.Second) // a vanished SSE client is found by a write: within a tick
	subs := func() int { sse, ws := a.Hub.Subscribers(); return sse + ws }
	after := settle()
	for (after > before+5 || subs() != 0) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		after = settle()
	}
	if after > before+5 {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, after, buf[:n])
	}
	if sse, ws := a.Hub.Subscribers(); sse+ws != 0 {
		t.Errorf("%d SSE and %d WebSocket subscribers left", sse, ws)
	}
}

func TestShutdownClosesSocketsWith1012AndEndsStreams(t *testing.T) {
	t.Parallel()
	a := startLive(t, dbtest.URL(t))
	seller := newUser(t, a.DB, "seller")
	id := newAuction(t, a.DB, seller, "Lamp", 10_000, time.Hour)
	conn := dialWS(t, a, id)
	readFrame(t, conn, 3*time.Second)
	s := openSSE(t, fmt.Sprintf("%s/events?auctions=%d", a.URL, id))
	s.next(t, views.CountdownEvent(id), 3*time.Second)

	stopped := make(chan struct{})
	go func() { a.Stop(); close(stopped) }()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := conn.ReadMessage()
	if !websocket.IsCloseError(err, 1012) {
		t.Errorf("socket closed with %v, want 1012", err)
	}
	select {
	case <-s.Done:
	case <-time.After(5 * time.Second):
		t.Error("the SSE stream did not end")
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Error("shutdown hangs")
	}
}

// cookies is the Cookie header a's browser sends to the site.
func (a *testApp) cookies(t *testing.T) string {
	u, _ := url.Parse(a.URL)
	var parts []string
	for _, c := range a.Client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func TestSignedInPagesGetOutbidWonAndSoldNotices(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	alice := a.as(t, "alice")
	bob := a.as(t, "bob")
	sellerID := seller.loginDev(t, "seller")
	aliceID := alice.loginDev(t, "alice")
	bobID := bob.loginDev(t, "bob")
	a.DB.Exec(`INSERT INTO ledger (user_id, kind, amount) VALUES (?, 'deposit', 1000000), (?, 'deposit', 1000000)`, aliceID, bobID)
	id := newAuction(t, a.DB, sellerID, "Lamp <3", 10_000, 4*time.Second)

	// No auctions to watch: the stream carries the user's notices alone.
	streams := map[string]*sseClient{}
	for nick, c := range map[string]*testApp{"seller": seller, "alice": alice, "bob": bob} {
		streams[nick] = openSSE(t, a.URL+"/events", "Cookie", c.cookies(t), "Accept-Language", "en")
		if streams[nick].Resp.StatusCode != 200 {
			t.Fatalf("%s: /events %d", nick, streams[nick].Resp.StatusCode)
		}
	}
	if s := openSSE(t, a.URL+"/events"); s.Resp.StatusCode != 400 {
		t.Errorf("signed out, nothing to watch: %d, want 400", s.Resp.StatusCode)
	}
	bid(t, a.DB, id, aliceID, 10_000, "")
	bid(t, a.DB, id, bobID, 11_000, "")
	n := fragment(t, streams["alice"].next(t, views.NoticeEvent, 3*time.Second).Data)
	if role, _ := n.Attr("role"); !n.HasClass("notice") || role != "status" {
		t.Errorf("notice: %v", n.Nodes[0].Attr)
	}
	if href, _ := n.Find("a").Attr("href"); href != views.AuctionURL(id) || n.Find("a").Text() != "Lamp <3" ||
		!strings.Contains(n.Text(), "outbid") || !strings.Contains(n.Text(), "₩11,000") {
		t.Errorf("outbid notice: %q", n.Text())
	}
	waitFor(t, 10*time.Second, "the end", func() bool {
		var over bool
		a.DB.QueryRow(`SELECT now() > ends_at FROM auctions WHERE id = ?`, id).Scan(&over)
		return over
	})
	settle(t, a.DB)
	if n := fragment(t, streams["bob"].next(t, views.NoticeEvent, 3*time.Second).Data); !strings.Contains(n.Text(), "You won it for ₩11,000") {
		t.Errorf("won notice: %q", n.Text())
	}
	if n := fragment(t, streams["seller"].next(t, views.NoticeEvent, 3*time.Second).Data); !strings.Contains(n.Text(), "Sold to bob for ₩11,000") {
		t.Errorf("sold notice: %q", n.Text())
	}
}
