//go:build !race

package fault_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"gavel/app/db/dbtest"
	"gavel/views"
)

// startHAProxy runs Debian's haproxy in front of backends (round robin, no
// stickiness, health checks on /readyz every 200 ms) on addr. Without
// haproxy the test skips, except under CI, where it fails.
func startHAProxy(t testing.TB, addr string, backends map[string]string) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("haproxy is not installed, and CI is set: .ci/run installs it")
		}
		t.Skip("haproxy is not installed (apt-get install haproxy); CI runs this test")
	}
	var servers strings.Builder
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range backends {
			if !yield(n) {
				return
			}
		}
	}) {
		fmt.Fprintf(&servers, "    server %s %s check\n", name, backends[name])
	}
	cfg := fmt.Sprintf(`global
    maxconn 2000
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h
    timeout http-request 10s
    option redispatch
    retries 3
frontend gavel
    bind %s
    http-request set-header X-Real-IP %%[src]
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 1 rise 2
    http-response set-header X-Gavel-Backend %%s
%s`, addr, servers.String())
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy config: %v\n%s", err, out)
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy output:\n%s", tail(out.String(), 40))
		}
	})
}

// TestThreeInstancesBehindHAProxyShareSessionsRowsAndDrainCleanly puts
// three instances behind HAProxy, round robin and no sticky sessions. A
// sign-in spread over several instances works; a bid placed on any
// instance reaches the sockets held by all three within a second; SSE and
// WebSocket work through the proxy; and an instance stopped gracefully
// mid-stream closes its sockets with 1012, the proxy routes around it, and
// its pages, reconnecting through the proxy to the others, miss no row.
func TestThreeInstancesBehindHAProxyShareSessionsRowsAndDrainCleanly(t *testing.T) {
	dbURL := dbtest.URL(t)
	bdb := openDB(t, dbURL)
	proxyAddr := freeAddr(t)
	proxy := "http://" + proxyAddr
	env := map[string]string{"BASE_URL": proxy, "TRUSTED_PROXIES": "127.0.0.1"}
	ins := map[string]*instance{}
	backends := map[string]string{}
	for _, name := range []string{"g1", "g2", "g3"} {
		in := newInstance(t, name, dbURL, env)
		in.Start()
		ins[name] = in
		backends[name] = in.Addr
	}
	for _, in := range ins {
		in.WaitReady(20 * time.Second)
	}
	startHAProxy(t, proxyAddr, backends)
	// Every backend up in the proxy's eyes: answers come from all three.
	seen := map[string]bool{}
	if !waitUntil(10*time.Second, func() bool {
		resp, err := http.Get(proxy + "/readyz")
		if err == nil {
			resp.Body.Close()
			seen[resp.Header.Get("X-Gavel-Backend")] = true
		}
		return seen["g1"] && seen["g2"] && seen["g3"]
	}) {
		t.Fatalf("the proxy did not reach all three instances: %v", seen)
	}

	// Sign-in through the proxy: its four requests land on different
	// instances, and the session works on all of them.
	bidders := loginAll(t, "bidder", 2, 10*time.Second, proxy)
	for _, b := range bidders {
		b.mu.Lock()
		distinct := map[string]bool{}
		for _, be := range b.backends {
			distinct[be] = true
		}
		b.mu.Unlock()
		if len(distinct) < 2 {
			t.Errorf("a sign-in went to one instance only (%v): round robin is off", distinct)
		}
	}
	seller, img := newSeller(t, bdb, "seller")
	lot := newAuction(t, bdb, seller, img, "Lot", 10_000, time.Minute)

	// Pages through the proxy: one socket on each instance, and an SSE
	// stream.
	sockets := map[string]*wsClient{}
	for i := 0; i < 12 && len(sockets) < 3; i++ {
		ws, err := dialSocket(t, proxy, proxy, lot, nil)
		if err != nil {
			t.Fatalf("socket through the proxy: %v", err)
		}
		if ws.Backend == "" {
			t.Fatal("the upgrade carried no X-Gavel-Backend")
		}
		if sockets[ws.Backend] == nil {
			sockets[ws.Backend] = ws
		}
	}
	if len(sockets) < 3 {
		t.Fatalf("sockets landed on %d instances, want all 3", len(sockets))
	}
	events, err := openEvents(t, proxy+"/events?auctions="+strconv.FormatInt(lot, 10))
	if err != nil {
		t.Fatalf("SSE through the proxy: %v", err)
	}
	if err := events.next(views.CountdownEvent(lot), 3*time.Second); err != nil {
		t.Fatalf("SSE through the proxy: %v", err)
	}

	price := int64(10_000)
	turn := 0
	// placeOn bids on base as the bidder who is not leading and returns
	// the new row's id and when the bid was sent.
	placeOn := func(base string) (int64, time.Time) {
		t.Helper()
		b := bidders[turn%2]
		turn++
		sent := time.Now()
		out, st, err := b.bid(base, lot, price+1_000, "bid "+strconv.Itoa(turn))
		if out != accepted {
			t.Fatalf("bid on %s: %v %d %v", base, out, st, err)
		}
		price += 1_000
		var id int64
		if err := bdb.QueryRow(`SELECT max(id) FROM bids WHERE auction_id = ?`, lot).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id, sent
	}
	for _, name := range []string{"g1", "g2", "g3"} {
		id, at := placeOn(ins[name].URL)
		for on, ws := range sockets {
			if !waitUntil(time.Until(at.Add(time.Second)), func() bool { _, ok := ws.sawAt(id); return ok }) {
				t.Errorf("a bid on %s did not reach the socket on %s within 1 s of being sent", name, on)
				continue
			}
			got, _ := ws.sawAt(id)
			t.Logf("bid on %s reached the socket on %s after %v", name, on, got.Sub(at).Round(time.Microsecond))
		}
	}
	placeOn(proxy)

	// Drain g2 mid-stream.
	g2 := sockets["g2"]
	ins["g2"].Term()
	select {
	case <-g2.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the socket on g2 stayed open after g2 stopped")
	}
	if code := g2.closeCode(); code != websocket.CloseServiceRestart {
		t.Errorf("the socket on the stopped instance closed with %d, want 1012 (htmx reconnects)", code)
	}
	// While the page is away, bids keep coming through the proxy, which
	// routes around the stopped instance.
	for range 3 {
		placeOn(proxy)
	}
	for i := range 10 {
		if st := status(proxy+"/", 5*time.Second); st != http.StatusOK {
			t.Errorf("GET / #%d through the proxy with g2 stopped: %d", i, st)
		}
	}
	// The page's SSE stream: ended if it was on g2 (the page's EventSource
	// reconnects), and a new one through the proxy ticks.
	if events.resp.Header.Get("X-Gavel-Backend") == "g2" {
		select {
		case <-events.done:
		case <-time.After(5 * time.Second):
			t.Error("the SSE stream on the stopped instance stayed open")
		}
	}
	events2, err := openEvents(t, proxy+"/events?auctions="+strconv.FormatInt(lot, 10))
	if err != nil {
		t.Fatalf("SSE through the proxy with g2 stopped: %v", err)
	}
	if err := events2.next(views.CountdownEvent(lot), 3*time.Second); err != nil {
		t.Errorf("SSE through the proxy with g2 stopped: %v", err)
	}
	// The page reconnects, as htmx does on 1012, and lands elsewhere.
	again, err := dialSocket(t, proxy, proxy, lot, nil)
	if err != nil {
		t.Fatalf("reconnect through the proxy: %v", err)
	}
	if again.Backend == "g2" {
		t.Errorf("the proxy sent the reconnect to the stopped instance")
	}
	last, _ := placeOn(proxy)
	if !waitUntil(time.Second, func() bool { _, ok := again.sawAt(last); return ok }) {
		t.Errorf("the reconnected page did not get a new bid")
	}
	var ids []int64
	rows, err := bdb.Query(`SELECT id FROM bids WHERE auction_id = ? ORDER BY id`, lot)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	pages := map[string]func(int64) bool{
		"g1": func(id int64) bool { _, ok := sockets["g1"].sawAt(id); return ok },
		"g3": func(id int64) bool { _, ok := sockets["g3"].sawAt(id); return ok },
		"g2, reconnected": func(id int64) bool {
			_, before := g2.sawAt(id)
			_, after := again.sawAt(id)
			return before || after
		},
	}
	for name, has := range pages {
		var missed []int64
		for _, id := range ids {
			if !has(id) {
				missed = append(missed, id)
			}
		}
		if len(missed) > 0 {
			t.Errorf("the page on %s missed rows %v of %v", name, missed, ids)
		}
	}
}
