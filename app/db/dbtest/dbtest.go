// Package dbtest hands each test an isolated, migrated database on a real
// PostgreSQL: the server named by TEST_DATABASE_URL or DATABASE_URL when set,
// otherwise a private server started from the installed binaries in a
// temporary directory and stopped when the test binary ends.
//
// A package that uses it runs its tests through Main:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/db"
	"gavel/app/db/pglocal"
)

var (
	mu       sync.Mutex
	started  bool
	startErr error
	adminURL string // a URL whose database we only use to CREATE/DROP others
	template string // a migrated database cloned for each test
	server   *pglocal.Server
	tmpDir   string
)

// Main runs the tests, then drops the template database and stops the
// private server, if one was started. It exits with the tests' code.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main without the exit: it runs the tests, cleans up and returns
// the tests' code, for a TestMain with cleanup of its own to do.
func Run(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if template != "" {
		if admin, err := db.Open(context.Background(), adminURL); err == nil {
			admin.Exec("DROP DATABASE IF EXISTS " + template + " WITH (FORCE)") //nolint:errcheck // best effort on the way out
			admin.Close()
		}
	}
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "dbtest: stop private postgres:", err)
		}
		os.RemoveAll(tmpDir)
	}
	return code
}

// ServerURL returns a URL for database name on the test server, starting the
// server on first use.
func serverURL(name string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if !started {
		started = true
		startErr = start()
	}
	if startErr != nil {
		return "", startErr
	}
	return withDatabase(adminURL, name)
}

func start() error {
	ctx := context.Background()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = os.Getenv("DATABASE_URL")
	}
	if base == "" {
		removeAbandoned()
		dir, err := os.MkdirTemp("", "gavel-test-")
		if err != nil {
			return err
		}
		// The server may run as the postgres user (when tests run as root):
		// it must be able to enter this directory.
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		tmpDir = dir
		server, err = pglocal.Start(ctx, pglocal.Options{Dir: dir + "/pg", Database: "gavel"})
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("start private postgres for tests: %w", err)
		}
		base = server.URL("gavel")
	}
	adminURL = base
	template = "gavel_tmpl_" + randomSuffix()
	admin, err := db.Open(ctx, adminURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+template); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	tmplURL, err := withDatabase(adminURL, template)
	if err != nil {
		return err
	}
	tdb, err := db.Open(ctx, tmplURL)
	if err != nil {
		return err
	}
	defer tdb.Close()
	if _, err := db.Up(ctx, tdb); err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	return nil
}

// removeAbandoned deletes the private servers' directories of test
// binaries that died without cleaning up (a timeout, a kill): the kernel
// stopped their postgres and dropped their flock on pg.lock, so a lock we
// can take belongs to nobody.
func removeAbandoned() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "gavel-test-*"))
	for _, dir := range dirs {
		// A binary starting right now creates pg.lock a moment before it
		// locks it: leave young directories alone.
		if fi, err := os.Stat(dir); err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		f, err := os.Open(filepath.Join(dir, "pg.lock"))
		if err != nil {
			continue // not ours yet, or being created right now
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(dir)
		}
		f.Close()
	}
}

// URL creates a fresh migrated database for this test and returns its URL;
// the database is dropped when the test ends. Use it where the test needs
// the URL itself (a second app instance, a LISTEN connection).
func URL(t testing.TB) string {
	t.Helper()
	return create(t, true)
}

// New returns a connection pool to a fresh migrated database of this test.
func New(t testing.TB) *bun.DB {
	t.Helper()
	return open(t, URL(t))
}

// NewEmpty returns a fresh database with no migrations applied, for tests
// of the migrator itself, and its URL.
func NewEmpty(t testing.TB) (*bun.DB, string) {
	t.Helper()
	u := create(t, false)
	return open(t, u), u
}

func open(t testing.TB, u string) *bun.DB {
	t.Helper()
	bdb, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	return bdb
}

func create(t testing.TB, migrated bool) string {
	t.Helper()
	admin, err := serverURL("")
	if err != nil {
		t.Fatal(err)
	}
	name := "gavel_t_" + randomSuffix()
	stmt := "CREATE DATABASE " + name
	if migrated {
		stmt += " TEMPLATE " + template
	}
	adb, err := db.Open(context.Background(), admin)
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	// Postgres refuses to copy a template that another CREATE DATABASE is
	// reading at the same moment; tests create theirs one at a time.
	mu.Lock()
	_, err = adb.Exec(stmt)
	mu.Unlock()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		adb, err := db.Open(context.Background(), admin)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer adb.Close()
		if _, err := adb.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// withDatabase returns base with its database name replaced; an empty name
// keeps base's own.
func withDatabase(base, name string) (string, error) {
	if name == "" {
		return base, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("test database URL: %w", err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("dbname")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
