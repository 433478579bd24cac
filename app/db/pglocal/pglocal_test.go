package pglocal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// throwaway are the settings every test cluster uses.
var throwaway = map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

// tempBase makes a directory under os.TempDir() that the postgres user can
// reach when the tests run as root (t.TempDir() is 0700) and removes it,
// after the servers in it are stopped, at the end of the test.
func tempBase(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp(os.TempDir(), "pglocal-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	return base
}

// syncBuffer collects log output; Start and Stop log from the test goroutine
// only, but keep it race-proof anyway.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func start(t *testing.T, dir string, logs *syncBuffer) *Server {
	t.Helper()
	opts := Options{Dir: dir, Settings: throwaway}
	if logs != nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
		assertNoPostgres(t, dir)
	})
	return s
}

func connect(t *testing.T, s *Server) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("gavel"))
	if err != nil {
		t.Fatalf("connect %s: %v", s.URL("gavel"), err)
	}
	return conn
}

func exec1(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func readNote(t *testing.T, s *Server) string {
	t.Helper()
	conn := connect(t, s)
	defer conn.Close(context.Background())
	var note string
	if err := conn.QueryRow(context.Background(), "SELECT note FROM notes").Scan(&note); err != nil {
		t.Fatalf("read back: %v", err)
	}
	return note
}

// postgresFor lists the pids of postgres processes working on dir (the
// postmaster names it in its arguments; every backend has it as cwd).
func postgresFor(t *testing.T, dir string) []int {
	t.Helper()
	if runtime.GOOS != "linux" {
		return nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		cwd, _ := os.Readlink("/proc/" + e.Name() + "/cwd")
		if !bytes.Contains(cmdline, []byte("postgres")) {
			continue
		}
		if cwd == real || bytes.Contains(cmdline, []byte(real+"\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func assertNoPostgres(t *testing.T, dir string) {
	t.Helper()
	if pids := postgresFor(t, dir); len(pids) > 0 {
		t.Errorf("postgres processes still running on %s: %v", dir, pids)
	}
}

func TestStartStopReuse(t *testing.T) {
	dir := filepath.Join(tempBase(t), "my data", "postgres") // parents created by Start
	logs := &syncBuffer{}
	goroutines := runtime.NumGoroutine()

	t0 := time.Now()
	s := start(t, dir, logs)
	t.Logf("fresh cluster up in %v: %s", time.Since(t0).Round(time.Millisecond), s.URL("gavel"))
	if !strings.Contains(s.URL("gavel"), "host=%2F") {
		t.Errorf("URL %q: want the unix socket form", s.URL("gavel"))
	}
	if _, err := os.Stat(filepath.Join(dir, ".s.PGSQL.5432")); err != nil {
		t.Errorf("no socket in the data dir: %v", err)
	}
	if _, err := Start(context.Background(), Options{Dir: dir}); !errors.Is(err, ErrInUse) {
		t.Fatalf("a second Start while the first runs: %v, want ErrInUse", err)
	}
	conn := connect(t, s)
	exec1(t, conn, "CREATE TABLE notes (note text)")
	exec1(t, conn, "INSERT INTO notes VALUES ('still here')")
	conn.Close(context.Background())
	fi, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	assertNoPostgres(t, dir)
	for end := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > goroutines && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines after Stop, %d before Start", n, goroutines)
	}

	t0 = time.Now()
	s2 := start(t, dir, logs)
	t.Logf("reused cluster up in %v", time.Since(t0).Round(time.Millisecond))
	if got := readNote(t, s2); got != "still here" {
		t.Errorf("note = %q", got)
	}
	fi2, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi2.ModTime().Equal(fi.ModTime()) {
		t.Errorf("PG_VERSION rewritten: initdb ran again")
	}
	if n := strings.Count(logs.String(), "initdb: creating"); n != 1 {
		t.Errorf("initdb ran %d times, want 1; logs:\n%s", n, logs)
	}
}

func TestStalePidFile(t *testing.T) {
	dir := filepath.Join(tempBase(t), "pg")
	s := start(t, dir, nil)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{dead.Process.Pid, os.Getpid()} { // dead; alive but not postgres
		t.Run(strconv.Itoa(pid), func(t *testing.T) {
			pidFile := filepath.Join(dir, "postmaster.pid")
			content := fmt.Sprintf("%d\n%s\n1700000000\n5432\n%s\n\n  5432001         0\nready   \n", pid, dir, dir)
			if err := os.WriteFile(pidFile, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			s := start(t, dir, nil)
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHelperProcess is the app in TestKill9: it starts a server, writes a
// row, says "ready" and waits to be killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("PGLOCAL_HELPER_DIR")
	if dir == "" {
		t.Skip("helper for TestKill9")
	}
	s, err := Start(context.Background(), Options{Dir: dir, Settings: throwaway})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	conn := connect(t, s)
	exec1(t, conn, "CREATE TABLE notes (note text)")
	exec1(t, conn, "INSERT INTO notes VALUES ('survived kill -9')")
	fmt.Println("ready")
	select {}
}

func TestKill9(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on Pdeathsig")
	}
	dir := filepath.Join(tempBase(t), "pg")
	app := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	app.Env = append(os.Environ(), "PGLOCAL_HELPER_DIR="+dir)
	app.Stderr = os.Stderr
	out, err := app.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if strings.TrimSpace(l) != "ready" {
			app.Process.Kill()
			app.Wait()
			t.Fatalf("helper: %q", l)
		}
	case <-time.After(time.Minute):
		app.Process.Kill()
		app.Wait()
		t.Fatal("helper did not get ready")
	}
	if len(postgresFor(t, dir)) == 0 {
		t.Fatal("helper's postgres not found in /proc")
	}
	if err := app.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	app.Wait()

	t0 := time.Now()
	logs := &syncBuffer{}
	s := start(t, dir, logs)
	t.Logf("logs:\n%s", logs)
	if took := time.Since(t0); took > 20*time.Second {
		t.Errorf("Start after kill -9 took %v", took)
	} else {
		t.Logf("Start after kill -9 took %v", took.Round(time.Millisecond))
	}
	if got := readNote(t, s); got != "survived kill -9" {
		t.Errorf("note = %q", got)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	assertNoPostgres(t, dir)
}

// TestLiveLeftover: a server still running on the directory (an app that
// is gone without its server noticing) is waited for, then stopped.
func TestLiveLeftover(t *testing.T) {
	old := staleWait
	staleWait = time.Second
	t.Cleanup(func() { staleWait = old })
	dir := filepath.Join(tempBase(t), "pg")
	orphan := start(t, dir, nil)
	conn := connect(t, orphan)
	exec1(t, conn, "CREATE TABLE notes (note text)")
	exec1(t, conn, "INSERT INTO notes VALUES ('from the orphan')")
	conn.Close(context.Background())
	// The app that owned it is gone: the kernel dropped its flock.
	orphan.lock.Close()

	logs := &syncBuffer{}
	t0 := time.Now()
	s := start(t, dir, logs)
	took := time.Since(t0)
	if !strings.Contains(logs.String(), "still running") || took < staleWait {
		t.Errorf("Start did not wait for the leftover server (took %v); logs:\n%s", took, logs)
	}
	select {
	case <-orphan.done:
	default:
		t.Error("leftover server still running")
	}
	if got := readNote(t, s); got != "from the orphan" {
		t.Errorf("note = %q", got)
	}
}

func TestLongDirUsesTCP(t *testing.T) {
	base := tempBase(t)
	for name, dir := range map[string]string{
		"long":  filepath.Join(base, strings.Repeat("long-directory-name-", 6), "pg"),
		"comma": filepath.Join(base, "a,b", "pg"), // pgx would read host=a,b as two hosts
	} {
		t.Run(name, func(t *testing.T) {
			s := start(t, dir, nil)
			if !strings.Contains(s.URL("gavel"), "@127.0.0.1:") {
				t.Errorf("URL %q: want the TCP form", s.URL("gavel"))
			}
			if _, err := os.Stat(filepath.Join(s.dir, ".s.PGSQL.5432")); err == nil {
				t.Error("a unix socket was created too")
			}
			conn := connect(t, s)
			defer conn.Close(context.Background())
			exec1(t, conn, "SELECT 1")
		})
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if !hasBinaries(dir) {
		t.Errorf("FindBinDir = %s, which lacks initdb/postgres", dir)
	}
	t.Log(dir)
}

func TestFindBinDirNone(t *testing.T) {
	t.Setenv("PATH", "")
	old := searchDirs
	searchDirs = []string{filepath.Join(t.TempDir(), "no-such-postgresql", "*", "bin")}
	t.Cleanup(func() { searchDirs = old })
	_, err := FindBinDir()
	t.Log(err)
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	for _, hint := range []string{"apt-get install postgresql", "brew install postgresql", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q lacks %q", err, hint)
		}
	}
}

func TestVersionOrder(t *testing.T) {
	if !versionLess("/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/15/bin") ||
		!versionLess("/opt/homebrew/opt/postgresql@14/bin", "/opt/homebrew/opt/postgresql@17/bin") {
		t.Error("versions not compared numerically")
	}
}

func TestRootUnreachableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	private := t.TempDir() // 0700, owned by root
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{Dir: filepath.Join(private, "pg")})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), private) || !strings.Contains(err.Error(), "not searchable") {
		t.Fatalf("err = %v, want one naming %s as not searchable", err, private)
	}
}

func TestRootWithoutSystemUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root needs the postgres user")
	}
	old := systemUser
	systemUser = "no-such-user-pglocal"
	t.Cleanup(func() { systemUser = old })
	_, err := Start(context.Background(), Options{Dir: filepath.Join(tempBase(t), "pg")})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "no-such-user-pglocal") {
		t.Fatalf("err = %v, want one naming the missing user", err)
	}
}
