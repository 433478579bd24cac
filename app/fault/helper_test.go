//go:build !race

package fault_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/fasthttp/websocket"
	"github.com/uptrace/bun"

	"gavel/app/db"
	"gavel/app/db/dbtest"
)

// gavelBin is the app binary, built once per test run exactly as
// `go build ./app` builds it.
var gavelBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gavel-fault-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gavelBin = filepath.Join(dir, "gavel")
	out, err := exec.Command("go", "build", "-o", gavelBin, "gavel/app").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "fault: go build gavel/app: %v\n%s", err, out)
		return 1
	}
	return dbtest.Run(m)
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is one Gavel process. Its address stays the same across
// restarts, as a load balancer's backend does.
type instance struct {
	t    testing.TB
	Name string
	Addr string // 127.0.0.1:PORT
	URL  string // http://Addr
	env  []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncBuffer // every run's output, for the failure report
}

// newInstance prepares (does not start) an instance on the database at
// dbURL. env adds or overrides variables; BASE_URL defaults to its own URL.
func newInstance(t testing.TB, name, dbURL string, env map[string]string) *instance {
	t.Helper()
	in := &instance{t: t, Name: name, Addr: freeAddr(t), out: &syncBuffer{}}
	in.URL = "http://" + in.Addr
	vars := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"),
		"ADDR": in.Addr, "BASE_URL": in.URL, "DATABASE_URL": dbURL, "APP_ENV": "development",
		"DEV_LOGIN": "1",
	}
	for k, v := range env {
		vars[k] = v
	}
	for k, v := range vars {
		in.env = append(in.env, k+"="+v)
	}
	t.Cleanup(func() {
		in.Kill()
		if t.Failed() {
			// Request lines would drown the rest.
			var keep []string
			for _, l := range strings.Split(in.out.String(), "\n") {
				if !strings.Contains(l, "msg=request ") {
					keep = append(keep, l)
				}
			}
			t.Logf("output of instance %s (request lines left out):\n%s", in.Name, tail(strings.Join(keep, "\n"), 60))
		}
	})
	return in
}

// startInstance starts an instance and waits until it is ready.
func startInstance(t testing.TB, name, dbURL string, env map[string]string) *instance {
	t.Helper()
	in := newInstance(t, name, dbURL, env)
	in.Start()
	in.WaitReady(20 * time.Second)
	return in
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// Start runs the binary (it must not be running).
func (in *instance) Start() {
	in.t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	cmd := exec.Command(gavelBin)
	cmd.Env = in.env
	fmt.Fprintf(in.out, "--- %s: start %s\n", time.Now().Format("15:04:05.000"), in.Name)
	cmd.Stdout, cmd.Stderr = in.out, in.out
	if err := cmd.Start(); err != nil {
		in.t.Fatalf("start %s: %v", in.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(in.out, "--- %s: %s exited: %v\n", time.Now().Format("15:04:05.000"), in.Name, err)
		close(exited)
	}()
	in.cmd, in.exited = cmd, exited
}

// WaitReady waits until /readyz answers 200.
func (in *instance) WaitReady(within time.Duration) {
	in.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if status(in.URL+"/readyz", time.Second) == http.StatusOK {
			return
		}
		in.mu.Lock()
		exited := in.exited
		in.mu.Unlock()
		select {
		case <-exited:
			in.t.Fatalf("instance %s exited before it was ready:\n%s", in.Name, tail(in.out.String(), 30))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("instance %s not ready within %v", in.Name, within)
		}
	}
}

// Kill sends SIGKILL (kill -9) and waits for the process to go.
func (in *instance) Kill() { in.signal(syscall.SIGKILL, 5*time.Second) }

// Term sends SIGTERM (a graceful stop: drain, close sockets with 1012) and
// waits for the process to exit.
func (in *instance) Term() { in.signal(syscall.SIGTERM, 20*time.Second) }

func (in *instance) signal(sig syscall.Signal, within time.Duration) {
	in.mu.Lock()
	cmd, exited := in.cmd, in.exited
	in.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(within):
		_ = cmd.Process.Kill()
		<-exited
		in.t.Errorf("instance %s did not exit within %v of %v", in.Name, within, sig)
	}
}

// status GETs url and returns the status, or 0 when there was no answer
// within d.
func status(u string, d time.Duration) int {
	c := &http.Client{Timeout: d}
	resp, err := c.Get(u)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// openDB opens a pool on url for the test's own checks.
func openDB(t testing.TB, u string) *bun.DB {
	t.Helper()
	bdb, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	return bdb
}

// Fixtures, written as the app writes them.

// newSeller adds a user with a photo and returns both ids.
func newSeller(t testing.TB, bdb *bun.DB, nick string) (user, image int64) {
	t.Helper()
	ctx := context.Background()
	if err := bdb.QueryRowContext(ctx, `INSERT INTO users (provider, provider_user_id, nick) VALUES ('dev', ?, ?) RETURNING id`,
		strings.ToLower(nick), nick).Scan(&user); err != nil {
		t.Fatal(err)
	}
	// A 1×1 PNG is all an image row needs here: nothing decodes it.
	png := []byte("\x89PNG\r\n\x1a\n")
	if err := bdb.QueryRowContext(ctx, `INSERT INTO images (owner_id, large, large_type, thumb, thumb_type, width, height)
		VALUES (?, ?, 'image/png', ?, 'image/png', 1, 1) RETURNING id`, user, png, png).Scan(&image); err != nil {
		t.Fatal(err)
	}
	return user, image
}

// newAuction lists an auction that ends lasts after the database's now.
func newAuction(t testing.TB, bdb *bun.DB, seller, image int64, title string, start int64, lasts time.Duration) int64 {
	t.Helper()
	var id int64
	if err := bdb.QueryRowContext(context.Background(), `INSERT INTO auctions
		(seller_id, title, image_id, start_price, current_price, ends_at)
		VALUES (?, ?, ?, ?, ?, now() + ? * interval '1 millisecond') RETURNING id`,
		seller, title, image, start, start, lasts.Milliseconds()).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// browser is one user agent: a cookie jar shared by every instance (they
// are all on 127.0.0.1, and cookies ignore the port), and the client
// address it claims through X-Real-IP (instances trust 127.0.0.1 as a
// proxy), so per-IP limits count it alone.
type browser struct {
	jar      *cookiejar.Jar
	c        *http.Client
	ip       string
	mu       sync.Mutex
	csrf     string
	backends []string // X-Gavel-Backend of each answer (behind the proxy)
}

func newBrowser(ip string, timeout time.Duration) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{jar: jar, ip: ip, c: &http.Client{Jar: jar, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, []byte, error) {
	if b.ip != "" {
		req.Header.Set("X-Real-IP", b.ip)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if be := resp.Header.Get("X-Gavel-Backend"); be != "" {
		b.mu.Lock()
		b.backends = append(b.backends, be)
		b.mu.Unlock()
	}
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func (b *browser) get(base, path string) (*http.Response, []byte, error) {
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		return nil, nil, err
	}
	return b.do(req)
}

func (b *browser) post(base, path string, vals url.Values, header ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequest("POST", base+path, strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

// login signs in through the dev login as a browser does, each step on the
// next of bases (round robin: no instance sees the whole sign-in), and
// keeps the CSRF token of the signed-in session.
func (b *browser) login(nick string, bases ...string) error {
	base := func(i int) string { return bases[i%len(bases)] }
	resp, _, err := b.get(base(0), "/auth/dev")
	if err != nil {
		return fmt.Errorf("login %s: %w", nick, err)
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/auth/dev/form?state=") {
		return fmt.Errorf("login %s: GET /auth/dev: %d to %q", nick, resp.StatusCode, loc)
	}
	_, body, err := b.get(base(1), loc)
	if err != nil {
		return fmt.Errorf("login %s: %w", nick, err)
	}
	doc, _ := goquery.NewDocumentFromReader(bytes.NewReader(body))
	form := doc.Find(`form[data-testid="dev-login-form"]`)
	state, _ := form.Find(`input[name="state"]`).Attr("value")
	csrf, _ := form.Find(`input[name="_csrf"]`).Attr("value")
	resp, body, err = b.post(base(2), "/auth/dev/form", url.Values{"nick": {nick}, "state": {state}, "_csrf": {csrf}})
	if err != nil {
		return fmt.Errorf("login %s: %w", nick, err)
	}
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("login %s: POST: %d %s", nick, resp.StatusCode, tail(string(body), 5))
	}
	return b.refreshCSRF(base(3))
}

// refreshCSRF reads the session's CSRF token from a page, as htmx does.
func (b *browser) refreshCSRF(base string) error {
	_, body, err := b.get(base, "/me/bids")
	if err != nil {
		return fmt.Errorf("csrf: %w", err)
	}
	m := csrfMeta.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("csrf: no csrf-token meta on /me/bids (signed out?)")
	}
	b.mu.Lock()
	b.csrf = string(m[1])
	b.mu.Unlock()
	return nil
}

// loginAll signs in n browsers (nicks prefix1…prefixN, client addresses
// 10.0.x.y) in parallel, each through bases in turn.
func loginAll(t testing.TB, prefix string, n int, timeout time.Duration, bases ...string) []*browser {
	t.Helper()
	bs := make([]*browser, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range bs {
		bs[i] = newBrowser(fmt.Sprintf("10.0.%d.%d", i/200, i%200+1), timeout)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rotated := make([]string, 0, len(bases))
			for j := range bases {
				rotated = append(rotated, bases[(i+j)%len(bases)])
			}
			errs <- bs[i].login(fmt.Sprintf("%s%d", prefix, i+1), rotated...)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return bs
}

// outcome is how a bid was answered.
type outcome int

const (
	unknown  outcome = iota // no answer, a 5xx (503: the database is away, the bid may or may not have committed)
	accepted                // 200: committed
	refused                 // a 4xx: the rules, the rate limit or the form said no
)

func (o outcome) String() string { return [...]string{"unknown", "accepted", "refused"}[o] }

var placedOutcome = regexp.MustCompile(`data-testid="bid-placed" data-outcome="([a-z]+)"`)

// bid posts a bid (a maximum) as htmx does and classifies the answer.
func (b *browser) bid(base string, auctionID, amount int64, msg string) (outcome, int, error) {
	o, st, _, err := b.bidKind(base, auctionID, amount, msg, "")
	return o, st, err
}

// newKey is a bid form's one-time key, as the page makes one.
func newKey() string {
	k := make([]byte, 12)
	rand.Read(k)
	return hex.EncodeToString(k)
}

// bidKind is bid with the form's one-time key (none when ""), and what an
// accepted bid did: "leading" or "outbid" (a row of its own), "raised" (the
// leader's maximum rose; no row).
func (b *browser) bidKind(base string, auctionID, amount int64, msg, key string) (outcome, int, string, error) {
	b.mu.Lock()
	csrf := b.csrf
	b.mu.Unlock()
	vals := url.Values{"amount": {strconv.FormatInt(amount, 10)}, "message": {msg}, "_csrf": {csrf}}
	if key != "" {
		vals.Set("key", key)
	}
	resp, body, err := b.post(base, "/auctions/"+strconv.FormatInt(auctionID, 10)+"/bids", vals, "HX-Request", "true")
	if err != nil {
		return unknown, 0, "", err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		m := placedOutcome.FindSubmatch(body)
		if m == nil {
			return unknown, resp.StatusCode, "", fmt.Errorf("200 without \"bid placed\": %s", tail(string(body), 3))
		}
		return accepted, resp.StatusCode, string(m[1]), nil
	case resp.StatusCode == http.StatusForbidden && bytes.Contains(body, []byte(`data-testid="error-page"`)):
		// The CSRF check refused the request before any bid was looked
		// at: not an answer about the bid. The page asks for a reload.
		return unknown, resp.StatusCode, "csrf", nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return refused, resp.StatusCode, "", nil
	}
	return unknown, resp.StatusCode, "", nil
}

// wsClient is one page's socket on an auction: it records every bid row id
// it is sent (live rows and the resync a (re)connect brings), and keeps the
// page's bid table as htmx would: a sync replaces it (innerHTML), live rows
// go on top (afterbegin).
type wsClient struct {
	conn    *websocket.Conn
	Backend string // X-Gavel-Backend of the upgrade (behind the proxy)
	mu      sync.Mutex
	seen    map[int64]time.Time
	table   []int64 // newest first
	closed  chan struct{}
	code    int // close code, once closed
}

var bidRowsSwap = regexp.MustCompile(`<tbody id="bid-rows" hx-swap-oob="([a-zA-Z]+)"`)

var bidRowID = regexp.MustCompile(`id="bid-(\d+)"`)

func dialSocket(t testing.TB, base string, origin string, auctionID int64, jar http.CookieJar) (*wsClient, error) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/auctions/" + strconv.FormatInt(auctionID, 10) + "/ws"
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Jar: jar}
	conn, resp, err := d.Dial(u, http.Header{"Origin": {origin}})
	if err != nil {
		return nil, err
	}
	c := watchSocket(t, conn)
	if resp != nil {
		c.Backend = resp.Header.Get("X-Gavel-Backend")
	}
	return c, nil
}

// watchSocket starts reading conn as a page does.
func watchSocket(t testing.TB, conn *websocket.Conn) *wsClient {
	c := &wsClient{conn: conn, seen: map[int64]time.Time{}, closed: make(chan struct{})}
	t.Cleanup(func() { conn.Close() })
	go func() {
		defer close(c.closed)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				c.mu.Lock()
				if errors.As(err, &ce) {
					c.code = ce.Code
				} else {
					c.code = websocket.CloseAbnormalClosure
				}
				c.mu.Unlock()
				return
			}
			now := time.Now()
			c.mu.Lock()
			var rows []int64
			for _, m := range bidRowID.FindAllSubmatch(msg, -1) {
				id, _ := strconv.ParseInt(string(m[1]), 10, 64)
				rows = append(rows, id)
				if _, ok := c.seen[id]; !ok {
					c.seen[id] = now
				}
			}
			if m := bidRowsSwap.FindSubmatch(msg); m != nil {
				switch string(m[1]) {
				case "innerHTML":
					c.table = rows
				case "afterbegin":
					c.table = append(rows, c.table...)
				}
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// sawAt reports when the socket first showed bid row id.
func (c *wsClient) sawAt(id int64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.seen[id]
	return at, ok
}

// checkTable fails unless the page's bid table is the auction's newest
// rows with none missing: its rows are, in order, the newest len(table)
// rows of the database, and there are at least min(all rows, atLeast).
func (c *wsClient) checkTable(t testing.TB, page string, bdb *bun.DB, auctionID int64, atLeast int) {
	t.Helper()
	var ids []int64
	rows, err := bdb.Query(`SELECT id FROM bids WHERE auction_id = ? ORDER BY id DESC`, auctionID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	c.mu.Lock()
	table := slices.Clone(c.table)
	c.mu.Unlock()
	if len(table) < min(len(ids), atLeast) || len(table) > len(ids) || !slices.Equal(table, ids[:len(table)]) {
		n := min(len(ids), len(table)+3)
		t.Errorf("the page on %s shows rows %v; the newest rows are %v", page, table, ids[:n])
	}
}

func (c *wsClient) closeCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code
}

// waitUntil polls ok every 20 ms for up to d.
func waitUntil(d time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sseStream reads an SSE stream's event names as they come.
type sseStream struct {
	resp   *http.Response
	events chan string
	done   chan struct{}
}

func openEvents(t testing.TB, u string) (*sseStream, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/event-stream")
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	s := &sseStream{resp: resp, events: make(chan string, 4096), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if name, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "event: "); ok {
				select {
				case s.events <- name:
				default:
				}
			}
		}
	}()
	return s, nil
}

// next waits for an event called name.
func (s *sseStream) next(name string, within time.Duration) error {
	timeout := time.After(within)
	for {
		select {
		case ev := <-s.events:
			if ev == name {
				return nil
			}
		case <-s.done:
			return fmt.Errorf("stream ended before a %q event", name)
		case <-timeout:
			return fmt.Errorf("no %q event within %v", name, within)
		}
	}
}
