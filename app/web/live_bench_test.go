package web_test

// Live benchmarks: their own load tool, on 127.0.0.1 only. The server runs
// as a separate process (this test binary re-executed with
// GAVEL_LIVE_BENCH_SERVER set) so that its RSS and CPU time are the
// server's alone. They run only with -bench, e.g.
//
//	go test -run '^$' -bench 'Fanout|Idle' -benchtime 2s ./app/web/

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/uptrace/bun"

	"gavel/app/config"
	"gavel/app/db"
	"gavel/app/db/dbtest"
	"gavel/app/live"
	"gavel/app/web"
)

const benchServerEnv = "GAVEL_LIVE_BENCH_SERVER"

func benchServerWanted() bool { return os.Getenv(benchServerEnv) != "" }

// raiseFileLimit lifts the soft file-descriptor limit to the hard one
// (20,000 here): 10,000 connections need as many descriptors.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// runBenchServer is the server process: one instance with its live layer
// on the database named by the environment, its address on stdout, until
// stdin closes.
func runBenchServer() {
	raiseFileLimit()
	dbURL := os.Getenv(benchServerEnv)
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	cfg.BaseURL = "http://" + ln.Addr().String()
	cfg.DatabaseURL = dbURL
	bdb, err := db.Open(context.Background(), dbURL)
	if err != nil {
		panic(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	hub := live.New(live.Options{DB: bdb, DatabaseURL: dbURL, Log: log})
	srv := web.New(web.Deps{Config: cfg, DB: bdb, Log: log, Live: hub, StreamsPerIP: 1 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	go hub.Run(ctx)
	go srv.Serve(ln)
	for up, _ := hub.Listening(); !up; up, _ = hub.Listening() {
		time.Sleep(10 * time.Millisecond)
	}
	// GAVEL_LIVE_BENCH_CPU: a CPU profile of the server's whole run.
	if path := os.Getenv("GAVEL_LIVE_BENCH_CPU"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	fmt.Println("ADDR", ln.Addr().String())
	// SIGUSR1: collect garbage and return free memory to the OS, so that
	// RSS shows what connections hold rather than GC slack.
	gc := make(chan os.Signal, 1)
	signal.Notify(gc, syscall.SIGUSR1)
	go func() {
		for range gc {
			debug.FreeOSMemory()
			if path := os.Getenv("GAVEL_LIVE_BENCH_HEAP"); path != "" {
				if f, err := os.Create(path); err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	go func() { io.Copy(io.Discard, os.Stdin); stop <- syscall.SIGTERM }()
	<-stop
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(sctx)
	scancel()
	cancel()
	hub.Close()
	bdb.Close()
}

// benchServer is a server process seen from the benchmark.
type benchServer struct {
	cmd  *exec.Cmd
	addr string
	url  string
}

func startBenchServer(b *testing.B, dbURL string) *benchServer {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"="+dbURL)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		b.Fatalf("bench server: %q %v", line, err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
	return &benchServer{cmd: cmd, addr: addr, url: "http://" + addr}
}

// rssKB is the server's resident set, from /proc.
func (s *benchServer) rssKB(b *testing.B) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(raw)
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// rssAfterGCKB is the server's resident set after a forced collection.
func (s *benchServer) rssAfterGCKB(b *testing.B) int64 {
	s.cmd.Process.Signal(syscall.SIGUSR1)
	time.Sleep(time.Second)
	return s.rssKB(b)
}

// cpu is the server's user+system CPU time so far, and the part of it
// spent in the kernel.
func (s *benchServer) cpu(b *testing.B) (all, sys time.Duration) {
	return processCPU(b, s.cmd.Process.Pid)
}

// processCPU reads a process's user and system CPU time from /proc.
func processCPU(b *testing.B, pid int) (all, sys time.Duration) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): utime is the
	// 14th field of the line, stime the 15th, in clock ticks (100 Hz).
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, time.Duration(st) * 10 * time.Millisecond
}

// benchFixture is a database with a seller, two bidders and auctions.
type benchFixture struct {
	url      string
	db       *bun.DB
	seller   int64
	bidders  [2]int64
	auctions []int64
}

func newBenchFixture(b *testing.B, auctions int) *benchFixture {
	b.Helper()
	f := &benchFixture{url: dbtest.URL(b)}
	bdb, err := db.Open(context.Background(), f.url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bdb.Close() })
	f.db = bdb
	f.seller = newUser(b, bdb, "seller")
	f.bidders = [2]int64{newUser(b, bdb, "alice"), newUser(b, bdb, "bob")}
	if _, err := bdb.Exec(`INSERT INTO ledger (user_id, kind, amount) VALUES (?, 'deposit', 900000000000), (?, 'deposit', 900000000000)`,
		f.bidders[0], f.bidders[1]); err != nil {
		b.Fatal(err)
	}
	for i := range auctions {
		f.auctions = append(f.auctions, newAuction(b, bdb, f.seller, fmt.Sprintf("Lot %d", i), 1000, time.Hour))
	}
	return f
}

// dialMany opens n sockets (or streams) with a few dialers at a time.
func dialMany[T any](b *testing.B, n int, dial func(i int) (T, error)) []T {
	out := make([]T, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := dial(i)
				if err != nil {
					failed.Store(err)
					return
				}
				out[i] = c
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("dial: %v", err)
	}
	return out
}

// BenchmarkIdleSSE10000 opens 10,000 SSE streams, each watching one of 100
// open auctions (so each gets a countdown every second), and reports the
// server's RSS growth per stream and its CPU use while ticking them.
func BenchmarkIdleSSE10000(b *testing.B) {
	raiseFileLimit()
	const n = 10000
	f := newBenchFixture(b, 100)
	srv := startBenchServer(b, f.url)
	warm := openRawSSE(b, srv, f.auctions, 100)
	time.Sleep(2 * time.Second)
	before, beforeGC := srv.rssKB(b), srv.rssAfterGCKB(b)
	conns := openRawSSE(b, srv, f.auctions, n)
	time.Sleep(3 * time.Second) // let the stream goroutines and buffers settle
	after, afterGC := srv.rssKB(b), srv.rssAfterGCKB(b)
	cpu0, _ := srv.cpu(b)
	wall0 := time.Now()
	for b.Loop() {
		time.Sleep(10 * time.Second)
	}
	cpu1, _ := srv.cpu(b)
	cpu := float64(cpu1-cpu0) / float64(time.Since(wall0))
	for _, c := range append(conns, warm...) {
		c.Close()
	}
	b.ReportMetric(float64(after-before)/n, "KB/stream")
	b.ReportMetric(float64(afterGC-beforeGC)/n, "KB/stream-after-GC")
	b.ReportMetric(float64(after)/1024, "rss-MB")
	b.ReportMetric(cpu*100, "cpu-%")
}

// openRawSSE opens n streams with plain TCP, each read into a small
// buffer so that its countdowns never back up.
func openRawSSE(b *testing.B, srv *benchServer, auctions []int64, n int) []net.Conn {
	conns := dialMany(b, n, func(i int) (net.Conn, error) {
		c, err := net.Dial("tcp", srv.addr)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(c, "GET /events?auctions=%d HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n",
			auctions[i%len(auctions)], srv.addr)
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			return nil, err
		}
		go func() {
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}()
		return c, nil
	})
	return conns
}

// BenchmarkIdleWS10000 opens 10,000 sockets on one auction that nobody
// bids on, and reports the server's RSS growth per socket.
func BenchmarkIdleWS10000(b *testing.B) {
	raiseFileLimit()
	const n = 10000
	f := newBenchFixture(b, 1)
	srv := startBenchServer(b, f.url)
	u := fmt.Sprintf("ws://%s/auctions/%d/ws", srv.addr, f.auctions[0])
	dialer := &websocket.Dialer{ReadBufferSize: 512, WriteBufferSize: 256, HandshakeTimeout: 10 * time.Second}
	dial := func(int) (*websocket.Conn, error) {
		c, _, err := dialer.Dial(u, http.Header{"Origin": {srv.url}})
		if err != nil {
			return nil, err
		}
		if _, _, err := c.ReadMessage(); err != nil {
			return nil, err
		}
		// Read on, so pings are answered, with no goroutine per socket
		// here: the benchmark lasts less than a ping period.
		return c, nil
	}
	warm := dialMany(b, 100, dial)
	time.Sleep(2 * time.Second)
	before, beforeGC := srv.rssKB(b), srv.rssAfterGCKB(b)
	conns := dialMany(b, n, dial)
	time.Sleep(3 * time.Second)
	after, afterGC := srv.rssKB(b), srv.rssAfterGCKB(b)
	for b.Loop() {
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range append(conns, warm...) {
		c.Close()
	}
	b.ReportMetric(float64(after-before)/n, "KB/socket")
	b.ReportMetric(float64(afterGC-beforeGC)/n, "KB/socket-after-GC")
	b.ReportMetric(float64(after)/1024, "rss-MB")
}
