package db_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"gavel/app/db"
	"gavel/app/db/dbtest"
)

// TestPoolConnectionsCarryStatementAndLockTimeouts: every pooled
// connection has the statement and lock timeouts, and a URL that sets its
// own keeps them.
func TestPoolConnectionsCarryStatementAndLockTimeouts(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t)
	for _, tc := range []struct{ url, stmt, lock string }{
		{u, "15s", "5s"},
		{u + "&statement_timeout=2500&lock_timeout=700", "2500ms", "700ms"},
	} {
		bdb, err := db.Open(context.Background(), tc.url)
		if err != nil {
			t.Fatal(err)
		}
		var stmt, lock string
		if err := bdb.QueryRow(`SELECT current_setting('statement_timeout'), current_setting('lock_timeout')`).Scan(&stmt, &lock); err != nil {
			t.Fatal(err)
		}
		bdb.Close()
		if stmt != tc.stmt || lock != tc.lock {
			t.Errorf("%s: statement_timeout %s, lock_timeout %s; want %s, %s", tc.url, stmt, lock, tc.stmt, tc.lock)
		}
	}
}

// TestMigrationsLiftThePoolTimeouts: a migration may run longer than the
// statement timeout a request gets.
func TestMigrationsLiftThePoolTimeouts(t *testing.T) {
	t.Parallel()
	_, u := dbtest.NewEmpty(t)
	bdb, err := db.Open(context.Background(), u+"&statement_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if _, err := db.Up(context.Background(), bdb); err != nil {
		t.Fatalf("migrations under a 1 ms statement timeout: %v", err)
	}
	if _, err := bdb.Exec(`SELECT pg_sleep(0.05)`); !db.Unavailable(err) {
		t.Errorf("a statement past the pool's timeout: %v, want a timeout (the migrator must not leave it lifted)", err)
	}
}

// TestUnavailableTellsAnOutageFromABadQuery: what pages answer 503 for.
func TestUnavailableTellsAnOutageFromABadQuery(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, refused := db.Open(context.Background(), "postgres://gavel@"+addr+"/gavel?sslmode=disable")
	bdb := dbtest.New(t)
	_, syntax := bdb.Exec(`SELEC 1`)
	_, unique := bdb.Exec(`INSERT INTO users (provider, provider_user_id, nick) VALUES ('x', '1', 'dup'), ('x', '1', 'dup2')`)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused connection", refused, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"statement timeout", fmt.Errorf("page: %w", &pgconn.PgError{Code: "57014"}), true},
		{"lock timeout", &pgconn.PgError{Code: "55P03"}, true},
		{"request deadline", fmt.Errorf("load: %w", context.DeadlineExceeded), true},
		{"syntax error", syntax, false},
		{"unique violation", unique, false},
		{"no error", nil, false},
		{"other", errors.New("template: bad"), false},
	} {
		if tc.err == nil && tc.want {
			t.Fatalf("%s: no error to classify", tc.name)
		}
		if got := db.Unavailable(tc.err); got != tc.want {
			t.Errorf("%s (%v): Unavailable = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
