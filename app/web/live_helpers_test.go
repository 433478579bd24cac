package web_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/fasthttp/websocket"
	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/fixture"
	"gavel/app/live"
	"gavel/app/server"
	"gavel/app/server/servertest"
	"gavel/app/web"
)

// liveApp is one instance with its live layer, on a real listener and a
// database that other instances may share.
type liveApp struct {
	URL     string
	Server  *web.Server
	Hub     *live.Hub
	DB      *bun.DB
	AppName string // the LISTEN connection's application_name
	Stop    func()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startLive starts an instance on dbURL, assembled as main does; tune may
// change its live options and web dependencies. Settlement is the test's
// to run (settle).
func startLive(t testing.TB, dbURL string, tune ...func(*live.Options, *web.Deps)) *liveApp {
	t.Helper()
	return startLiveParts(t, dbURL, func(p *server.Parts) {
		for _, f := range tune {
			f(&p.Live, &p.Web)
		}
	})
}

// startLiveParts is startLive with any part of the instance tuned.
func startLiveParts(t testing.TB, dbURL string, tune func(*server.Parts)) *liveApp {
	t.Helper()
	name := "gavel-live-test-" + randomHex(4)
	inst := servertest.Start(t, dbURL, nil, func(p *server.Parts) {
		p.ManualSettle = true
		p.Live.AppName = name
		tune(p)
	})
	hub := inst.Server.Hub()
	a := &liveApp{URL: inst.URL, Server: inst.Server.Web(), Hub: hub, DB: inst.DB, AppName: name, Stop: inst.Stop}
	waitFor(t, 5*time.Second, "the listener", func() bool { up, _ := hub.Listening(); return up })
	return a
}

func waitFor(t testing.TB, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Fixtures: users and images as rows (as sign-in and the photo intake
// write them), auctions, bids and settlement through the auction service.

func newUser(t testing.TB, bdb *bun.DB, nick string) int64 {
	t.Helper()
	return fixture.User(t, bdb, nick, 100_000_000)
}

func newAuction(t testing.TB, bdb *bun.DB, seller int64, title string, start int64, lasts time.Duration) int64 {
	t.Helper()
	return fixture.Auction(t, bdb, seller, title, start, lasts)
}

// bid places a bid (a maximum) through the auction service's writer, which
// commits it and notifies every instance, and returns the last row it
// added.
func bid(t testing.TB, bdb *bun.DB, auctionID, bidder, amount int64, msg string) auction.Bid {
	t.Helper()
	b := auction.NewBidder(bdb, auction.BidderOptions{})
	defer b.Close()
	got, err := b.PlaceBid(context.Background(), auction.BidInput{AuctionID: auctionID, BidderID: bidder, Amount: amount, Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Bids) == 0 {
		t.Fatalf("bid %d by %d added no row (%v)", amount, bidder, got.Result)
	}
	return got.Bids[len(got.Bids)-1]
}

// settle runs the sweeper once, as every instance does in the background.
func settle(t testing.TB, bdb *bun.DB) {
	t.Helper()
	if n, err := auction.NewSweeper(bdb, nil).SettleDue(context.Background()); err != nil || n == 0 {
		t.Fatalf("settle: %d, %v", n, err)
	}
}

type bidIn struct {
	Bidder  int64
	Amount  int64
	Message string
}

// commitBurst commits many bids through the service's writer in one
// transaction (one notification each), as a full batch would, without its
// pacing: a test needs megabytes of messages in seconds.
func commitBurst(t testing.TB, bdb *bun.DB, auctionID int64, bids ...bidIn) {
	t.Helper()
	b := auction.NewBidder(bdb, auction.BidderOptions{MaxBatch: len(bids)})
	defer b.Close()
	ins := make([]auction.BidInput, len(bids))
	for i, x := range bids {
		ins[i] = auction.BidInput{BidderID: x.Bidder, Amount: x.Amount, Message: x.Message}
	}
	_, errs := b.PlaceRun(auctionID, ins)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("burst bid %d: %v", i, err)
		}
	}
}

// SSE client: plain net/http reading the stream.

type sseEvent struct{ Name, Data, ID string }

type sseClient struct {
	Resp   *http.Response
	Events chan sseEvent
	Done   chan struct{} // closed when the stream ends
}

func openSSE(t testing.TB, url string, header ...string) *sseClient {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	c := &sseClient{Resp: resp, Events: make(chan sseEvent, 1024), Done: make(chan struct{})}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		close(c.Done)
		return c
	}
	go func() {
		defer close(c.Done)
		r := bufio.NewReader(resp.Body)
		var ev sseEvent
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case line == "":
				if ev.Name != "" || ev.Data != "" {
					select {
					case c.Events <- ev:
					default: // the test stopped reading
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[len("id: "):]
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				if ev.Data != "" {
					ev.Data += "\n"
				}
				ev.Data += line[len("data: "):]
			}
		}
	}()
	return c
}

// next returns the next event named name.
func (c *sseClient) next(t testing.TB, name string, within time.Duration) sseEvent {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case ev := <-c.Events:
			if ev.Name == name {
				return ev
			}
		case <-c.Done:
			t.Fatalf("stream ended while waiting for %q", name)
		case <-timeout:
			t.Fatalf("no %q event within %s", name, within)
		}
	}
}

// WebSocket client.

func wsURL(a *liveApp, auctionID int64) string {
	return "ws" + strings.TrimPrefix(a.URL, "http") + "/auctions/" + strconv.FormatInt(auctionID, 10) + "/ws"
}

func dialWS(t testing.TB, a *liveApp, auctionID int64) *websocket.Conn {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL(a, auctionID), http.Header{"Origin": {a.URL}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readFrame reads one message and parses it as htmx does: in a template,
// where a <tbody> may stand on its own.
func readFrame(t testing.TB, conn *websocket.Conn, within time.Duration) *goquery.Selection {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(within))
	typ, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("frame type %d, want text", typ)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<template>" + string(msg) + "</template>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc.Find("template")
}

// fragment parses an SSE event's data.
func fragment(t testing.TB, data string) *goquery.Selection {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<template>" + data + "</template>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc.Find("template").Children().First()
}

var _ = io.Discard
