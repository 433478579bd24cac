//go:build linux

package pglocal

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestFreezeHangsOpenConnectionsAndThawResumesThem: a frozen server keeps
// its connections but answers nothing, on open connections or new ones;
// thawed, it serves again.
func TestFreezeHangsOpenConnectionsAndThawResumesThem(t *testing.T) {
	s := start(t, tempBase(t)+"/pg", nil)
	conn := connect(t, s)
	defer conn.Close(context.Background())
	exec1(t, conn, "SELECT 1")
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	thawed := false
	defer func() {
		if !thawed {
			s.Thaw()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := conn.Exec(ctx, "SELECT 1")
	cancel()
	if err == nil {
		t.Fatal("a frozen server answered on an open connection")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	c2, err := pgx.Connect(ctx, s.URL("gavel"))
	cancel()
	if err == nil {
		c2.Close(context.Background())
		t.Fatal("a frozen server took a new connection")
	}
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	thawed = true
	// pgx closes a connection whose query was cut by its context: a new
	// one works, as a pool's next connection would.
	c3 := connect(t, s)
	defer c3.Close(context.Background())
	exec1(t, c3, "SELECT 1")
}
