// Package servertest starts real Gavel instances for tests, assembled by
// server.New exactly as main does, on a loopback port.
package servertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/config"
	"gavel/app/db"
	"gavel/app/server"
)

// Instance is one running Gavel.
type Instance struct {
	URL  string  // http://127.0.0.1:PORT
	DB   *bun.DB // its connection pool
	Stop func()  // shuts it down (also done when the test ends); safe to call twice
	// Server is the instance itself (its web app, metrics and debug
	// addresses).
	Server *server.Server
}

// Start runs an instance on the database at dbURL, configured by env as if
// from the environment (BASE_URL and DATABASE_URL are set for it), with
// its parts tuned by tune. With go test -v, its warnings are logged.
func Start(t testing.TB, dbURL string, env map[string]string, tune ...server.Tuning) *Instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "BASE_URL":
			return base
		case "DATABASE_URL":
			return dbURL
		}
		return env[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := db.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := server.New(cfg, bdb, log, tune...)
	if err != nil {
		bdb.Close()
		t.Fatal(err)
	}
	go srv.Serve(ln)
	stop := sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shut down the instance: %v", err)
		}
		bdb.Close()
	})
	t.Cleanup(stop)
	return &Instance{URL: base, DB: bdb, Stop: stop, Server: srv}
}

// OneConnection sends requests ("METHOD /path", no body) to the instance at
// baseURL one after another on a single connection, the last one closing
// it, and reads every answer. fasthttp reuses a connection's buffers for
// its next request, so this finds a value kept past the request it came
// from.
func OneConnection(t testing.TB, baseURL string, requests ...string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	for i, r := range requests {
		closing := ""
		if i == len(requests)-1 {
			closing = "Connection: close\r\n"
		}
		fmt.Fprintf(&b, "%s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n%s\r\n", r, closing)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Fatal(err)
	}
}
