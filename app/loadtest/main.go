// Command loadtest drives a running Gavel over real HTTP, on 127.0.0.1 only,
// for a bounded time: the front page (anonymous and signed in), an auction
// room with 200 bids, and N bidders bidding the minimum on one hot item
// (or, with -spread, each submitting a maximum up to that many increments
// above the minimum, as proxy bidders do) while watchers hold its
// WebSocket and its event stream. Every client signs in through the dev
// login and posts with the CSRF token its pages carry, as a browser does.
//
// It reports requests per second, p50 and p99 latency, accepted and refused
// bids, the server's CPU and resident memory (with -pid; -pgpid adds the
// PostgreSQL server and its backends), the longest waits between the
// streams' countdown ticks, and, with -db, checks the hot
// auction in the database afterwards: bid amounts rise (only an automatic
// row may equal the one before), every bid answered "accepted" is there
// exactly once (each bidder has one row of their own per such answer; a
// bid at the minimum, at its amount), and the auction row agrees.
//
// The server must trust 127.0.0.1 as a proxy (TRUSTED_PROXIES=127.0.0.1):
// each client names its own X-Real-IP, so the per-address login limit
// counts clients, not the tool.
//
//	go run ./app/loadtest -url http://127.0.0.1:8080 -pid $(pgrep -n gavel) -db "$DATABASE_URL"
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"html"
	"iter"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/valyala/fasthttp"

	"gavel/app/auction"
	"gavel/static"
)

type options struct {
	base      string
	duration  time.Duration
	conns     int
	bidders   int
	accounts  int
	watchers  int
	streams   int
	pid       int
	pgpid     int
	dbURL     string
	scenarios string
	items     int
	roomBids  int
	spread    int
	profile   string
}

func main() {
	var o options
	flag.StringVar(&o.base, "url", "http://127.0.0.1:8080", "Gavel's address (loopback only)")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "length of each scenario (at most 10m)")
	flag.IntVar(&o.conns, "c", 50, "concurrent connections for the page scenarios")
	flag.IntVar(&o.bidders, "bidders", 32, "concurrent bidders on the hot item")
	flag.IntVar(&o.accounts, "accounts", 1, "accounts each bidder rotates through (the server allows 60 bids a minute per user)")
	flag.IntVar(&o.watchers, "watchers", 100, "WebSocket watchers of the hot item")
	flag.IntVar(&o.streams, "sse", 100, "SSE watchers of the hot item (its countdown)")
	flag.IntVar(&o.pid, "pid", 0, "the server's process id, for its CPU and memory")
	flag.IntVar(&o.pgpid, "pgpid", 0, "the PostgreSQL postmaster's process id (it and its children are counted)")
	flag.StringVar(&o.dbURL, "db", "", "the server's database, to check the hot auction afterwards")
	flag.StringVar(&o.scenarios, "s", "front,front-signed,room,hot", "scenarios to run, in order")
	flag.IntVar(&o.items, "items", 20, "open items listed for the front page")
	flag.IntVar(&o.roomBids, "room-bids", 200, "bids on the room scenario's auction")
	flag.IntVar(&o.spread, "spread", 0, "hot item: each bid is a maximum up to this many increments above the minimum, at random (0: the minimum)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write the tool's own CPU profile to this file")
	flag.Parse()
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if _, err := run(o); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// run runs o's scenarios in order, printing each one's figures, and
// returns them.
func run(o options) ([]*result, error) {
	u, err := url.Parse(o.base)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%s is not a loopback address: this tool only drives a local server", u.Hostname())
	}
	if o.duration <= 0 || o.duration > 10*time.Minute {
		return nil, errors.New("-d must be between 0 and 10m")
	}
	o.base = strings.TrimRight(o.base, "/")
	run := strconv.FormatInt(time.Now().UnixNano()%1e8, 36)
	fmt.Printf("# gavel load test %s at %s, %s per scenario\n", run, o.base, o.duration)

	// A few listings per seller: the site limits listings per user.
	var seller *client
	var items []int64
	for i := range o.items + 1 {
		if i%10 == 0 {
			if seller, err = signIn(o.base, fmt.Sprintf("s%s%d", run, i/10), 1+i/10); err != nil {
				return nil, fmt.Errorf("seller: %w", err)
			}
		}
		if i == o.items {
			break // the last seller lists the hot item
		}
		id, err := seller.sell(fmt.Sprintf("Item %d of %s", i+1, run))
		if err != nil {
			return nil, err
		}
		items = append(items, id)
	}
	fmt.Printf("# listed %d items\n", len(items))

	var results []*result
	for _, sc := range strings.Split(o.scenarios, ",") {
		var r *result
		var err error
		switch strings.TrimSpace(sc) {
		case "front":
			r, err = pages(o, "GET / anonymous", nil, "/")
		case "front-signed":
			var cs []*client
			for i := range o.conns {
				c, err := signIn(o.base, fmt.Sprintf("f%s%d", run, i), 100+i)
				if err != nil {
					return nil, err
				}
				cs = append(cs, c)
			}
			r, err = pages(o, "GET / signed in", cs, "/")
		case "room":
			if len(items) == 0 {
				return nil, errors.New("room: no items")
			}
			if err := placeBids(o, run, items[0], o.roomBids); err != nil {
				return nil, err
			}
			var cs []*client
			for i := range o.conns {
				c, err := signIn(o.base, fmt.Sprintf("r%s%d", run, i), 200+i)
				if err != nil {
					return nil, err
				}
				cs = append(cs, c)
			}
			r, err = pages(o, fmt.Sprintf("room with %d bids, signed in", o.roomBids), cs, fmt.Sprintf("/auctions/%d", items[0]))
		case "hot":
			id, err2 := seller.sell("Hot item " + run)
			if err2 != nil {
				return nil, err2
			}
			r, err = hot(o, run, id)
		default:
			return nil, fmt.Errorf("unknown scenario %q", sc)
		}
		if err != nil {
			return nil, err
		}
		r.print()
		results = append(results, r)
	}
	return results, nil
}

// client is one browser: its cookies, its address, its last CSRF token.
// It speaks HTTP/1.1 through fasthttp's client, which costs the tool a
// fraction of net/http's CPU per request: the tool shares the server's
// cores, so what it spends is taken from the server being measured.
type client struct {
	base    string
	hc      *fasthttp.HostClient
	req     *fasthttp.Request
	resp    *fasthttp.Response
	cookies map[string]string // nil: a crawler, which keeps none
	ip      string
	csrf    string
	nick    string
	limit   int64 // the minimum bid it last saw
	// light skips reading the CSRF token from pages (the page scenarios
	// need none, and the scan costs the tool CPU the server would use).
	light bool
}

func newClient(base string, n int) *client {
	u, _ := url.Parse(base)
	return &client{base: base, cookies: map[string]string{}, ip: fmt.Sprintf("127.%d.%d.%d", 1+n/65536%250, n/256%256, n%256),
		hc:  &fasthttp.HostClient{Addr: u.Host, MaxConns: 4, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second},
		req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
}

var (
	csrfMark  = []byte(`name="csrf-token" content="`)
	stateMark = []byte(`name="state" value="`)
)

// attr returns the attribute value that follows mark in b, unescaped, or "".
func attr(b, mark []byte) string {
	i := bytes.Index(b, mark)
	if i < 0 {
		return ""
	}
	v := b[i+len(mark):]
	if j := bytes.IndexByte(v, '"'); j >= 0 {
		return html.UnescapeString(string(v[:j]))
	}
	return ""
}

// response is an answer, valid until the client's next request.
type response struct {
	status   int
	body     []byte // as sent: gzip-encoded when gzip is set
	gzip     bool
	location string
}

// do sends one request with the client's cookies and keeps the cookies the
// answer sets. header holds name, value pairs.
func (c *client) do(method, path string, body []byte, ctype string, header ...string) (response, error) {
	req, resp := c.req, c.resp
	req.Reset()
	resp.Reset()
	req.Header.SetMethod(method)
	req.SetRequestURI(c.base + path)
	req.Header.Set("X-Real-IP", c.ip)
	if ctype != "" {
		req.Header.SetContentType(ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for k, v := range c.cookies {
		req.Header.SetCookie(k, v)
	}
	if body != nil {
		req.SetBodyRaw(body)
	}
	if err := c.hc.Do(req, resp); err != nil {
		return response{}, err
	}
	if c.cookies != nil {
		for k, v := range resp.Header.Cookies() {
			ck := fasthttp.AcquireCookie()
			if ck.ParseBytes(v) == nil {
				if len(ck.Value()) == 0 || ck.MaxAge() < 0 || (!ck.Expire().IsZero() && ck.Expire().Before(time.Now())) {
					delete(c.cookies, string(k))
				} else {
					c.cookies[string(k)] = string(ck.Value())
				}
			}
			fasthttp.ReleaseCookie(ck)
		}
	}
	r := response{status: resp.StatusCode(), body: resp.Body(), gzip: bytes.Equal(resp.Header.ContentEncoding(), []byte("gzip")),
		location: string(resp.Header.Peek("Location"))}
	if !c.light && !r.gzip {
		if t := attr(r.body, csrfMark); t != "" {
			c.csrf = t
		}
	}
	return r, nil
}

// signIn signs a new browser in through the dev login as nick.
func signIn(base, nick string, n int) (*client, error) {
	c := newClient(base, n)
	c.nick = nick
	r, err := c.do("GET", "/auth/dev", nil, "")
	if err != nil || r.status != http.StatusSeeOther {
		return nil, fmt.Errorf("GET /auth/dev: %d %v", r.status, err)
	}
	r, err = c.do("GET", r.location, nil, "")
	state := attr(r.body, stateMark)
	if err != nil || r.status != 200 || state == "" || c.csrf == "" {
		return nil, fmt.Errorf("dev login form: %d %v", r.status, err)
	}
	form := url.Values{"nick": {nick}, "state": {state}, "_csrf": {c.csrf}}
	r, err = c.do("POST", "/auth/dev/form", []byte(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil || r.status != http.StatusSeeOther {
		return nil, fmt.Errorf("dev login as %s: %d %v", nick, r.status, err)
	}
	if _, err := c.do("GET", "/login", nil, ""); err != nil { // a page, for the new CSRF token
		return nil, err
	}
	if _, err := c.do("GET", "/no-such-page", nil, ""); err != nil {
		return nil, err
	}
	return c, nil
}

// sell lists an item with the sample photo, for 24 hours.
func (c *client) sell(title string) (int64, error) {
	photo, err := static.FS.ReadFile("img/sample.jpg")
	if err != nil {
		return 0, err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range map[string]string{"title": title, "description": "load test", "start_price": "1000", "duration": "24h0m0s", "_csrf": c.csrf} {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("image", "sample.jpg")
	fw.Write(photo)
	w.Close()
	r, err := c.do("POST", "/auctions", body.Bytes(), w.FormDataContentType())
	if err != nil || r.status != http.StatusSeeOther {
		return 0, fmt.Errorf("sell: %d %v %.200s", r.status, err, r.body)
	}
	loc := strings.TrimPrefix(r.location, "/auctions/")
	if i := strings.IndexAny(loc, "?/"); i >= 0 {
		loc = loc[:i]
	}
	return strconv.ParseInt(loc, 10, 64)
}

// bid posts the minimum it last saw (as htmx does), or, with spread, a
// maximum up to spread increments above it, and learns the next minimum
// from the answer.
func (c *client) bid(id int64, spread int) (status int, amount int64, err error) {
	amount = c.limit
	if amount == 0 {
		amount = 1000
	}
	if spread > 0 {
		amount += rand.Int64N(int64(spread)+1) * auction.Increment(amount)
	}
	form := url.Values{"amount": {strconv.FormatInt(amount, 10)}, "_csrf": {c.csrf}}
	r, err := c.do("POST", fmt.Sprintf("/auctions/%d/bids", id), []byte(form.Encode()),
		"application/x-www-form-urlencoded", "HX-Request", "true", "X-CSRF-Token", c.csrf, "Accept-Encoding", "gzip")
	if err != nil {
		return 0, amount, err
	}
	b := r.body
	if r.gzip {
		if b, err = c.resp.BodyGunzip(); err != nil {
			return 0, amount, err
		}
	}
	if i := bytes.Index(b, []byte(`data-testid="bid-amount"`)); i >= 0 {
		// The input's min is written before its testid.
		seg := b[max(i-600, 0):i]
		if j := bytes.LastIndex(seg, []byte(`min="`)); j >= 0 {
			c.limit, _ = strconv.ParseInt(attr(seg[j:], []byte(`min="`)), 10, 64)
		}
	}
	if r.status == http.StatusOK && bytes.Contains(b, []byte(`data-outcome="raised"`)) {
		// The leader raised their maximum: accepted, but no row.
		return statusRaised, amount, nil
	}
	return r.status, amount, nil
}

// statusRaised stands for a 200 that raised the leader's own maximum.
const statusRaised = -1

// placeBids puts n bids on auction id, from enough accounts to stay within
// the per-user limit.
func placeBids(o options, run string, id int64, n int) error {
	var bs []*client
	for i := range max(n/40+2, 2) {
		c, err := signIn(o.base, fmt.Sprintf("p%s%d", run, i), 300+i)
		if err != nil {
			return err
		}
		bs = append(bs, c)
	}
	var limit int64
	for i := 0; i < n; {
		c := bs[i%len(bs)]
		c.limit = limit
		st, _, err := c.bid(id, 0)
		if err != nil {
			return err
		}
		limit = c.limit
		if st == http.StatusOK || st == statusRaised {
			i++
		} else if st != http.StatusConflict {
			return fmt.Errorf("pre-bid: %d", st)
		}
	}
	fmt.Printf("# placed %d bids on auction %d\n", n, id)
	return nil
}

// result is one scenario's figures.
type result struct {
	name             string
	n                int
	errs, non2xx     int
	elapsed          time.Duration
	lat              []time.Duration
	accepted, refuse int
	raised           int // leaders' raises of their own maximum (no row)
	limited          int
	cpu              time.Duration
	toolCPU          time.Duration // this process's own
	pgCPU            time.Duration
	rssKB            int64
	frames           int64
	watchLat         []time.Duration
	dropped          int64
	streams          *streams
	check            string
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func (r *result) print() {
	secs := r.elapsed.Seconds()
	fmt.Printf("%-34s req/s %8.1f  p50 %7.2fms  p99 %7.2fms  n %d  errors %d  non-2xx %d",
		r.name, float64(r.n)/secs, ms(pct(r.lat, .5)), ms(pct(r.lat, .99)), r.n, r.errs, r.non2xx)
	if r.accepted+r.refuse+r.limited > 0 {
		fmt.Printf("  accepted/s %.1f  raised %d  refused %d  limited %d", float64(r.accepted)/secs, r.raised, r.refuse, r.limited)
	}
	if r.frames > 0 || len(r.watchLat) > 0 {
		fmt.Printf("  ws frames %d  bid->row p50 %.2fms p99 %.2fms  dropped %d", r.frames, ms(pct(r.watchLat, .5)), ms(pct(r.watchLat, .99)), r.dropped)
	}
	if r.cpu > 0 {
		fmt.Printf("  server cpu %.0f%%  %.0fus/req  rss %dMB", 100*r.cpu.Seconds()/secs, float64(r.cpu.Microseconds())/float64(max(r.n, 1)), r.rssKB/1024)
	}
	if r.pgCPU > 0 {
		fmt.Printf("  pg cpu %.0f%%", 100*r.pgCPU.Seconds()/secs)
	}
	if r.toolCPU > 0 {
		fmt.Printf("  tool cpu %.0f%%  %.0fus/req", 100*r.toolCPU.Seconds()/secs, float64(r.toolCPU.Microseconds())/float64(max(r.n, 1)))
	}
	if st := r.streams; st != nil {
		fmt.Printf("  sse %d streams: events %d  tick gap p99 %.0fms max %.0fms  dropped %d",
			st.n, st.events, ms(pct(st.gaps, .99)), ms(pct(st.gaps, 1)), st.dropped)
	}
	if r.check != "" {
		fmt.Printf("  db: %s", r.check)
	}
	fmt.Println()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measure runs work on conns goroutines for the duration and collects
// latencies; work returns the status (0 for a transport error).
func measure(o options, name string, workers int, work func(i int) int) *result {
	r := &result{name: name}
	cpu0, pg0, self0 := procCPU(o.pid), treeCPU(o.pgpid), procCPU(os.Getpid())
	var mu sync.Mutex
	deadline := time.Now().Add(o.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var errs, non2xx int
			for time.Now().Before(deadline) {
				t := time.Now()
				st := work(i)
				lat = append(lat, time.Since(t))
				switch {
				case st == 0:
					errs++
				case st >= 300 && st != http.StatusConflict && st != http.StatusTooManyRequests:
					non2xx++
				}
			}
			mu.Lock()
			r.lat = append(r.lat, lat...)
			r.errs += errs
			r.non2xx += non2xx
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.n = len(r.lat)
	r.toolCPU = procCPU(os.Getpid()) - self0
	if o.pid > 0 {
		r.cpu = procCPU(o.pid) - cpu0
		r.rssKB = procRSS(o.pid)
	}
	if o.pgpid > 0 {
		r.pgCPU = treeCPU(o.pgpid) - pg0
	}
	return r
}

// pages GETs path on o.conns connections; signed-in clients when cs is set.
func pages(o options, name string, cs []*client, path string) (*result, error) {
	anon := make([]*client, o.conns)
	for i := range anon {
		anon[i] = newClient(o.base, 1000+i)
		anon[i].cookies = nil // a crawler: no cookies kept
		anon[i].light = true
	}
	for _, c := range cs {
		c.light = true
	}
	return measure(o, name, o.conns, func(i int) int {
		c := anon[i]
		if cs != nil {
			c = cs[i%len(cs)]
		}
		r, err := c.do("GET", path, nil, "", "Accept-Encoding", "gzip")
		if err != nil {
			return 0
		}
		return r.status
	}), nil
}

// hot runs o.bidders bidders bidding the minimum on auction id while
// o.watchers sockets and o.streams event streams watch it.
func hot(o options, run string, id int64) (*result, error) {
	accounts := max(o.accounts, 1)
	bidders := make([][]*client, o.bidders)
	for i := range bidders {
		for k := range accounts {
			c, err := signIn(o.base, fmt.Sprintf("b%s%d_%d", run, i, k), 1000+i*accounts+k)
			if err != nil {
				return nil, err
			}
			c.light = true
			bidders[i] = append(bidders[i], c)
		}
	}
	// Answers "accepted": the watchers time each row at a submitted amount
	// from its POST, the check finds each in the table.
	var acceptedMu sync.Mutex
	sent := map[int64]time.Time{}
	var accepted []answer

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var frames, dropped atomic.Int64
	var watchMu sync.Mutex
	var watchLat []time.Duration
	u, _ := url.Parse(o.base)
	wsURL := "ws://" + u.Host + fmt.Sprintf("/auctions/%d/ws", id)
	var wwg sync.WaitGroup
	for i := range o.watchers {
		h := http.Header{"Origin": {o.base}, "X-Real-IP": {fmt.Sprintf("127.9.%d.%d", i/256, i%256)}}
		conn, _, err := websocket.DefaultDialer.Dial(wsURL, h)
		if err != nil {
			return nil, fmt.Errorf("watcher %d: %w", i, err)
		}
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			defer conn.Close()
			go func() { <-ctx.Done(); conn.Close() }()
			for {
				_, msg, err := conn.ReadMessage()
				if err != nil {
					if ctx.Err() == nil {
						dropped.Add(1)
					}
					return
				}
				now := time.Now()
				frames.Add(1)
				for a := range rowAmounts(msg) {
					acceptedMu.Lock()
					t, ok := sent[a]
					acceptedMu.Unlock()
					if ok {
						watchMu.Lock()
						watchLat = append(watchLat, now.Sub(t))
						watchMu.Unlock()
					}
				}
			}
		}()
	}
	sse, err := watchStreams(ctx, o.base, id, o.streams)
	if err != nil {
		return nil, err
	}
	var acc, raised, ref, lim atomic.Int64
	turn := make([]int, o.bidders)
	limits := make([]int64, o.bidders) // the minimum each bidder saw last
	kind := ""
	if o.spread > 0 {
		kind = " (maximums)"
	}
	name := fmt.Sprintf("hot item, %d bidders%s, %d+%d watchers", o.bidders, kind, o.watchers, o.streams)
	r := measure(o, name, o.bidders, func(i int) int {
		c := bidders[i][turn[i]%accounts]
		turn[i]++
		c.limit = limits[i]
		t := time.Now()
		st, amount, err := c.bid(id, o.spread)
		limits[i] = c.limit
		if err != nil {
			return 0
		}
		switch st {
		case http.StatusOK:
			acc.Add(1)
			acceptedMu.Lock()
			accepted = append(accepted, answer{c.nick, amount})
			sent[amount] = t
			acceptedMu.Unlock()
		case statusRaised:
			raised.Add(1)
			st = http.StatusOK
		case http.StatusConflict:
			ref.Add(1)
		case http.StatusTooManyRequests:
			lim.Add(1)
		}
		return st
	})
	time.Sleep(500 * time.Millisecond) // the last rows reach the watchers
	cancel()
	wwg.Wait()
	r.streams = sse.wait()
	r.accepted, r.raised, r.refuse, r.limited = int(acc.Load()), int(raised.Load()), int(ref.Load()), int(lim.Load())
	r.frames, r.dropped, r.watchLat = frames.Load(), dropped.Load(), watchLat
	if o.dbURL != "" {
		r.check = checkDB(o.dbURL, id, accepted, o.spread == 0)
	}
	return r, nil
}

// streams are SSE watchers of one auction, as its room page opens: what
// they got, and the gaps between a stream's events. The countdown ticks
// each second, so a gap much over a second is a late tick.
type streams struct {
	n, events, dropped int64
	gaps               []time.Duration
	mu                 sync.Mutex
	wg                 sync.WaitGroup
}

// watchStreams opens n event streams on auction id, each from its own
// address (the site caps streams per address), until ctx ends.
func watchStreams(ctx context.Context, base string, id int64, n int) (*streams, error) {
	st := &streams{n: int64(n)}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	for i := range n {
		req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/events?auctions=%d", base, id), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("X-Real-IP", fmt.Sprintf("127.8.%d.%d", i/256, i%256))
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("event stream %d: %w", i, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("event stream %d: %s", i, resp.Status)
		}
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			defer resp.Body.Close()
			var gaps []time.Duration
			var events int64
			var last time.Time
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if !bytes.HasPrefix(sc.Bytes(), []byte("event:")) {
					continue
				}
				now := time.Now()
				if events++; !last.IsZero() {
					gaps = append(gaps, now.Sub(last))
				}
				last = now
			}
			st.mu.Lock()
			defer st.mu.Unlock()
			if ctx.Err() == nil {
				st.dropped++
			}
			st.events += events
			st.gaps = append(st.gaps, gaps...)
		}()
	}
	return st, nil
}

// wait waits for the streams to end (their context ends them) and returns
// st.
func (st *streams) wait() *streams {
	st.wg.Wait()
	return st
}

// rowAmounts yields the amount of each bid row in a live frame.
func rowAmounts(msg []byte) iter.Seq[int64] {
	mark := []byte(`bid-row__amount"><span class="money">`)
	return func(yield func(int64) bool) {
		for {
			i := bytes.Index(msg, mark)
			if i < 0 {
				return
			}
			msg = msg[i+len(mark):]
			for len(msg) > 0 && (msg[0] < '0' || msg[0] > '9') {
				msg = msg[1:]
			}
			var a int64
			for ; len(msg) > 0 && (msg[0] == ',' || msg[0] >= '0' && msg[0] <= '9'); msg = msg[1:] {
				if msg[0] != ',' {
					a = 10*a + int64(msg[0]-'0')
				}
			}
			if !yield(a) {
				return
			}
		}
	}
}

// answer is a bid answered "accepted" that added a row: who submitted it,
// and the amount.
type answer struct {
	nick   string
	amount int64
}

// checkDB checks auction id's bids: rising amounts in id order (an
// automatic row may equal the one before); each bidder with one row of
// their own (not automatic) per answer "accepted" (a leader's raise of
// their own maximum adds none and is not among them), and, when exact (each
// bid was the minimum, so its row is at its amount), each answer's amount
// there once by its bidder; and the auction row's price and count matching
// its rows.
func checkDB(dbURL string, id int64, accepted []answer, exact bool) string {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return "open: " + err.Error()
	}
	defer db.Close()
	// Since proxy bidding, rows the site placed for a maximum are marked
	// auto and may equal the bid they answer; a server without the column
	// has none.
	var hasAuto bool
	db.QueryRow(`SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'bids' AND column_name = 'auto')`).Scan(&hasAuto)
	autoCol := "false"
	if hasAuto {
		autoCol = "b.auto"
	}
	rows, err := db.Query(`SELECT b.amount, u.provider_user_id, `+autoCol+` FROM bids b JOIN users u ON u.id = b.bidder_id
		WHERE b.auction_id = $1 ORDER BY b.id`, id)
	if err != nil {
		return "query: " + err.Error()
	}
	defer rows.Close()
	var last int64
	invalid, n := 0, 0
	type own struct {
		who    string
		amount int64
	}
	at := map[own]bool{}      // rows of one's own, by bidder and amount
	byWho := map[string]int{} // rows of one's own, by bidder
	for rows.Next() {
		var a int64
		var who string
		var auto bool
		rows.Scan(&a, &who, &auto)
		if a < last || (a == last && !auto) {
			invalid++
		}
		last = a
		if !auto {
			who = strings.ToLower(who)
			at[own{who, a}] = true
			byWho[who]++
		}
		n++
	}
	missing, dup := 0, 0
	var examples []string
	want := map[string]int{}
	for _, ans := range accepted {
		who := strings.ToLower(ans.nick)
		want[who]++
		if !exact {
			continue
		}
		// A second row at the amount is one nobody was told of: the
		// count by bidder below finds it.
		if !at[own{who, ans.amount}] {
			missing++
			if len(examples) < 3 {
				examples = append(examples, fmt.Sprintf("%d by %s", ans.amount, ans.nick))
			}
		}
	}
	for who, k := range want {
		if !exact && k > byWho[who] {
			missing += k - byWho[who]
			if len(examples) < 3 {
				examples = append(examples, fmt.Sprintf("%s: %d answers, %d rows", who, k, byWho[who]))
			}
		}
	}
	for who, k := range byWho {
		if k > want[who] {
			dup += k - want[who] // rows nobody was told were accepted
		}
	}
	var price int64
	var count int
	db.QueryRow(`SELECT current_price, bid_count FROM auctions WHERE id = $1`, id).Scan(&price, &count)
	ok := invalid == 0 && missing == 0 && dup == 0 && count == n && (n == 0 || price == last)
	verdict := "OK"
	if !ok {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s (%d rows, %d invalid, %d accepted answers: %d missing %v, %d duplicated or unanswered; row count %d price %d)",
		verdict, n, invalid, len(accepted), missing, examples, dup, count, price)
}
