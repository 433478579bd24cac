//go:build !race

package fault_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"gavel/app/db"
)

// TestUnreachableDatabaseAtStartStopsWithOneLineNotAHang starts the binary
// against a port nobody listens on and against a server that accepts the
// connection but never answers (a host gone dark): either way the process
// exits non-zero within the connect timeout, saying in one line what is
// wrong.
func TestUnreachableDatabaseAtStartStopsWithOneLineNotAHang(t *testing.T) {
	t.Parallel()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn // open, never answered
	t.Cleanup(func() {
		silent.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	for _, tc := range []struct {
		name, addr string
		within     time.Duration
	}{
		{"refused", freeAddr(t), 3 * time.Second},
		{"silent", silent.Addr().String(), db.ConnectTimeout + 3*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstance(t, "gavel-"+tc.name, "postgres://gavel:secret-password@"+tc.addr+"/gavel?sslmode=disable", nil)
			start := time.Now()
			in.Start()
			select {
			case <-in.exited:
			case <-time.After(tc.within):
				t.Fatalf("still running %v after start: it hangs on the database", tc.within)
			}
			took := time.Since(start)
			if code := in.cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			var lines []string
			for _, l := range strings.Split(in.out.String(), "\n") {
				if l != "" && !strings.HasPrefix(l, "--- ") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "gavel: connect to database: ") {
				t.Fatalf("output is not one line naming the database:\n%s", strings.Join(lines, "\n"))
			}
			if strings.Contains(lines[0], "secret-password") {
				t.Errorf("the error shows the password: %s", lines[0])
			}
			t.Logf("exited after %v: %s", took.Round(time.Millisecond), lines[0])
		})
	}
}
