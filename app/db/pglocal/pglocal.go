// Package pglocal runs a private PostgreSQL server from the PostgreSQL
// binaries installed on the machine (it never downloads anything). It backs
// `go run ./app` when no DATABASE_URL is given (data in DATA_DIR/postgres,
// reused across runs) and the tests (a throwaway temporary cluster).
//
// Choices worth knowing:
//
//   - The server listens only on a unix socket inside the data directory
//     (listen_addresses is empty), so it never conflicts with another server's TCP
//     port. A unix socket path must stay under ~100 bytes; when
//     <Dir>/.s.PGSQL.5432 would be longer (or Dir has a comma, which a DSN's
//     host= cannot carry), the server listens on 127.0.0.1 instead, on a port
//     found free by binding :0 (and creates no socket).
//   - initdb and postgres refuse to run as root. When the caller is root they
//     run as the "postgres" system user; the data directory is chowned to it
//     and every parent directory must be searchable by it.
//   - The server runs in its own process group, so Ctrl-C on the terminal
//     reaches only the app, which then calls Stop. On Linux it also gets
//     SIGINT (fast shutdown) when the app dies, even by kill -9; the next
//     Start waits for such a dying server and clears stale postmaster.pid
//     files.
//   - initdb syncs its files to disk unless Options.Settings has fsync=off
//     (a throwaway cluster), in which case it runs with --no-sync as well.
//   - Server output goes to server.log inside the data directory; its tail
//     is included in start errors.
package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries is returned (wrapped, with instructions) when no directory
// holding the PostgreSQL server binaries initdb and postgres can be found.
var ErrNoBinaries = errors.New("pglocal: PostgreSQL server binaries (initdb, postgres) not found")

// searchDirs lists the places FindBinDir looks after pg_config, best first
// within each pattern (highest version). Tests replace it.
var searchDirs = []string{
	"/usr/lib/postgresql/*/bin",
	"/opt/homebrew/opt/postgresql*/bin",
	"/usr/local/opt/postgresql*/bin",
	"/opt/homebrew/bin",
	"/usr/local/bin",
}

// systemUser is the account initdb and postgres run as when we are root.
var systemUser = "postgres"

const (
	superuser     = "gavel"
	socketPort    = 5432 // only names the socket file, inside our own dir
	maxSocketPath = 100  // sun_path is 104 (macOS) or 108 (Linux) bytes
	startTimeout  = 30 * time.Second
)

// staleWait is how long Start lets a leftover server for its data directory
// finish shutting down by itself before signalling it. Tests shorten it.
var staleWait = 15 * time.Second

// FindBinDir locates a directory holding initdb and postgres: the one
// `pg_config --bindir` reports if pg_config is on PATH and that directory
// has both; else the highest-versioned /usr/lib/postgresql/*/bin; else the
// Homebrew locations; else wherever initdb and postgres are found on PATH.
// The error wraps ErrNoBinaries and says how to fix it.
func FindBinDir() (string, error) {
	if pgc, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgc, "--bindir").Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); hasBinaries(dir) {
				return dir, nil
			}
		}
	}
	for _, pattern := range searchDirs {
		matches, _ := filepath.Glob(pattern)
		sort.Slice(matches, func(i, j int) bool { return versionLess(matches[j], matches[i]) })
		for _, dir := range matches {
			if hasBinaries(dir) {
				return dir, nil
			}
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && hasBinaries(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if hasBinaries(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	return "", fmt.Errorf("%w (looked at pg_config --bindir, %s and PATH): install the PostgreSQL server packages "+
		"(e.g. `apt-get install postgresql`, `brew install postgresql`) or set DATABASE_URL to use an existing server",
		ErrNoBinaries, strings.Join(searchDirs, ", "))
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// versionLess compares the digit runs in two paths numerically
// (so .../9.6/bin < .../15/bin and postgresql@14 < postgresql@17).
func versionLess(a, b string) bool {
	return slices.Compare(versionOf(a), versionOf(b)) < 0
}

func versionOf(path string) []int {
	var v []int
	for _, f := range strings.FieldsFunc(path, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		v = append(v, n)
	}
	return v
}

// Options configures Start.
type Options struct {
	Dir      string            // required: the cluster's data directory (PGDATA); created if missing
	Database string            // database to ensure exists after start (default "gavel")
	Settings map[string]string // extra `-c name=value` server settings (e.g. fsync=off for throwaway test clusters)
	Logger   *slog.Logger      // optional; nil = discard
}

// Server is a running private PostgreSQL server started by Start.
type Server struct {
	dir     string
	host    string // socket directory, or 127.0.0.1
	port    int
	logPath string
	logFrom int64 // server.log offset where this run's output begins
	log     *slog.Logger
	proc    *os.Process
	done    chan struct{} // closed when the server process has exited
	waitErr error         // valid after done is closed

	lock *os.File // flock held while this process owns the cluster

	stopOnce sync.Once
	stopErr  error
}

// ErrInUse is returned when another live process already runs a server on
// the data directory.
var ErrInUse = errors.New("pglocal: the data directory is in use by another running process")

// lockDir takes an exclusive flock on DIR.lock, beside the data directory.
// The kernel drops it when its holder dies, even by kill -9, so a crashed
// app never blocks the next start, while a second live app is refused
// instead of shutting down the first one's database.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s): stop it or set another DATA_DIR", ErrInUse, dir)
		}
		return nil, fmt.Errorf("pglocal: lock %s: %w", dir, err)
	}
	return f, nil
}

// runAs is the account the server binaries run as; nil means ourselves.
type runAs struct {
	uid, gid uint32
	gids     []uint32
}

// Start initialises the cluster on first use (initdb with superuser "gavel",
// trust authentication, UTF8, --no-locale) or reuses the existing one, then
// starts the server and waits until it accepts connections (up to 30 s; the
// error includes the tail of the server log), and creates Options.Database
// if missing. The server keeps running until Stop, not until ctx ends.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("pglocal: Options.Dir is required")
	}
	if opts.Database == "" {
		opts.Database = "gavel"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := prepareDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	_, err = os.Stat(filepath.Join(dir, "PG_VERSION"))
	fresh := errors.Is(err, os.ErrNotExist)
	if entries, _ := os.ReadDir(dir); fresh && len(entries) > 0 {
		return nil, fmt.Errorf("pglocal: %s is not empty but holds no PostgreSQL cluster (no PG_VERSION); empty or remove it", dir)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			lock.Close()
		}
	}()
	as, err := account(dir)
	if err != nil {
		return nil, err
	}
	if err := clearStalePid(ctx, dir, log); err != nil {
		return nil, err
	}
	if fresh {
		if err := initdb(bin, dir, as, opts.Settings["fsync"] == "off", log); err != nil {
			return nil, err
		}
	}
	s := &Server{dir: dir, log: log, logPath: filepath.Join(dir, "server.log"), done: make(chan struct{}), lock: lock}
	if err := s.launch(bin, as, opts.Settings); err != nil {
		return nil, err
	}
	started = true // from here on Stop releases the lock
	if err := s.ready(ctx, opts.Database); err != nil {
		_ = s.Stop()
		return nil, err
	}
	log.Info("postgres ready", "dir", dir, "url", s.URL(opts.Database))
	return s, nil
}

// prepareDir creates the data directory (0700) and any missing parents
// (0755, chmod-ed explicitly since they are ours) and returns its real path.
func prepareDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var missing []string
	for p := abs; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		mode := os.FileMode(0o755)
		if i == 0 {
			mode = 0o700
		}
		if err := os.Mkdir(missing[i], mode); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("pglocal: create data directory: %w", err)
		}
		if err := os.Chmod(missing[i], mode); err != nil {
			return "", fmt.Errorf("pglocal: %w", err)
		}
	}
	return filepath.EvalSymlinks(abs)
}

// account returns nil unless we are root; then it looks up the postgres
// system user, hands it the data directory and checks it can reach it.
func account(dir string) (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(systemUser)
	if err != nil {
		return nil, fmt.Errorf("pglocal: running as root, but PostgreSQL refuses to run as root and there is no %q system user to run it as "+
			"(install the PostgreSQL server package, which creates it, or run as an ordinary user): %w", systemUser, err)
	}
	as := &runAs{uid: atou32(u.Uid), gid: atou32(u.Gid)}
	ids, _ := u.GroupIds()
	for _, g := range append(ids, u.Gid) {
		as.gids = append(as.gids, atou32(g))
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("pglocal: %w", err)
		}
		if !as.canSearch(fi) {
			return nil, fmt.Errorf("pglocal: PostgreSQL runs as user %q (we are root), which cannot reach the data directory %s: "+
				"parent directory %s (mode %v) is not searchable by it; make it so (e.g. chmod o+x) or use another directory",
				systemUser, dir, p, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	// Hand the data directory over if it is not the postgres user's yet.
	if fi, err := os.Stat(dir); err == nil && fi.Sys().(*syscall.Stat_t).Uid != as.uid {
		err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, int(as.uid), int(as.gid))
		})
		if err != nil {
			return nil, fmt.Errorf("pglocal: chown data directory to %q: %w", systemUser, err)
		}
	}
	return as, nil
}

func (a *runAs) canSearch(fi os.FileInfo) bool {
	st := fi.Sys().(*syscall.Stat_t)
	switch {
	case st.Uid == a.uid:
		return fi.Mode()&0o100 != 0
	case slices.Contains(a.gids, st.Gid):
		return fi.Mode()&0o010 != 0
	default:
		return fi.Mode()&0o001 != 0
	}
}

func atou32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

func command(as *runAs, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = sysProcAttr()
	if as != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid, Groups: as.gids}
	}
	return cmd
}

func initdb(bin, dir string, as *runAs, noSync bool, log *slog.Logger) error {
	args := []string{"-D", dir, "-U", superuser, "--auth=trust", "-E", "UTF8", "--no-locale"}
	if noSync {
		args = append(args, "--no-sync")
	}
	log.Info("initdb: creating PostgreSQL cluster", "dir", dir)
	start := time.Now()
	if out, err := command(as, dir, filepath.Join(bin, "initdb"), args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pglocal: initdb %s: %w\n%s", dir, err, out)
	}
	log.Info("initdb: done", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// launch starts postgres. The goroutine that starts it keeps its OS thread
// locked until the server exits: Linux sends Pdeathsig when the *thread*
// that forked the child ends, not only when the process does.
func (s *Server) launch(bin string, as *runAs, settings map[string]string) error {
	logf, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	defer logf.Close() // the child keeps its own copy
	if fi, err := logf.Stat(); err == nil {
		s.logFrom = fi.Size()
	}
	if as != nil {
		_ = logf.Chown(int(as.uid), int(as.gid))
	}
	args := []string{"-D", s.dir}
	// pgx reads a comma in host= as a list of hosts, so such dirs use TCP too.
	if len(filepath.Join(s.dir, ".s.PGSQL."+strconv.Itoa(socketPort))) <= maxSocketPath && !strings.Contains(s.dir, ",") {
		s.host, s.port = s.dir, socketPort
		args = append(args, "-c", "listen_addresses=", "-c", "unix_socket_directories="+quoteListItem(s.dir))
	} else {
		if s.port, err = freePort(); err != nil {
			return err
		}
		s.host = "127.0.0.1"
		s.log.Info("data directory path too long for a unix socket; using TCP", "dir", s.dir, "port", s.port)
		args = append(args, "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=")
	}
	args = append(args, "-p", strconv.Itoa(s.port))
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		args = append(args, "-c", k+"="+settings[k])
	}
	cmd := command(as, s.dir, filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		s.proc = cmd.Process
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pglocal: start postgres: %w", err)
	}
	return nil
}

// quoteListItem quotes a path for a comma-separated server setting such as
// unix_socket_directories, so spaces and commas in it survive.
func quoteListItem(path string) string {
	return `"` + strings.ReplaceAll(path, `"`, `""`) + `"`
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglocal: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ready waits until the server accepts connections, then creates dbname.
func (s *Server) ready(ctx context.Context, dbname string) error {
	deadline := time.Now().Add(startTimeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.URL("postgres"))
		cancel()
		if err == nil {
			defer conn.Close(context.Background())
			return createDB(ctx, conn, dbname)
		}
		select {
		case <-s.done:
			return fmt.Errorf("pglocal: postgres exited during startup (%v); server log %s:\n%s", s.waitErr, s.logPath, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("pglocal: waiting for postgres: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pglocal: postgres did not accept connections within %v (last error: %v); server log %s:\n%s",
				startTimeout, err, s.logPath, s.logTail())
		}
	}
}

func createDB(ctx context.Context, conn *pgx.Conn, name string) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("pglocal: create database %q: %w", name, err)
		}
	}
	return nil
}

// logTail returns up to the last 2 KiB this run wrote to server.log.
func (s *Server) logTail() string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	from := s.logFrom
	if fi, err := f.Stat(); err == nil && fi.Size()-from > 2048 {
		from = fi.Size() - 2048
	}
	_, _ = f.Seek(from, io.SeekStart)
	b, _ := io.ReadAll(f)
	return string(bytes.TrimSpace(b))
}

// URL returns a DSN usable by pgx for the named database: the unix socket
// form postgres://gavel@/DBNAME?host=SOCKETDIR&port=PORT&sslmode=disable,
// or postgres://gavel@127.0.0.1:PORT/DBNAME?sslmode=disable over TCP.
func (s *Server) URL(dbname string) string {
	if strings.HasPrefix(s.host, "/") {
		return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable", superuser, uriEscape(dbname), uriEscape(s.host), s.port)
	}
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", superuser, net.JoinHostPort(s.host, strconv.Itoa(s.port)), uriEscape(dbname))
}

// uriEscape percent-encodes a URI component the way libpq and pgx decode
// it: they do not read '+' as a space.
func uriEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// Stop shuts the server down (fast shutdown with SIGINT, then SIGQUIT and
// finally SIGKILL if it takes too long) and waits for it to exit. It is safe
// to call more than once and from several goroutines.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		exited := func() bool {
			select {
			case <-s.done:
				return true
			default:
				return false
			}
		}
		_ = escalate(context.Background(), s.log, s.proc.Pid, func(sig syscall.Signal) { _ = s.proc.Signal(sig) }, exited,
			step{syscall.SIGINT, 15 * time.Second}, step{syscall.SIGQUIT, 10 * time.Second}, step{syscall.SIGKILL, time.Minute})
		<-s.done
		if s.waitErr != nil {
			s.stopErr = fmt.Errorf("pglocal: postgres exit: %w", s.waitErr)
		}
		s.lock.Close()
		s.log.Info("postgres stopped", "dir", s.dir)
	})
	return s.stopErr
}

type step struct {
	sig  syscall.Signal // 0: just wait
	wait time.Duration
}

// escalate sends each step's signal in turn and waits up to its duration
// for exited to report true, which escalate returns.
func escalate(ctx context.Context, log *slog.Logger, pid int, signal func(syscall.Signal), exited func() bool, steps ...step) error {
	for _, st := range steps {
		if st.sig != 0 {
			log.Debug("signalling postgres", "pid", pid, "signal", st.sig)
			signal(st.sig)
		}
		for end := time.Now().Add(st.wait); time.Now().Before(end); {
			if exited() {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		log.Warn("postgres slow to exit", "pid", pid, "waited", st.wait)
	}
	if exited() {
		return nil
	}
	return fmt.Errorf("postgres pid %d would not exit", pid)
}

// clearStalePid deals with a postmaster.pid left by an earlier run: a dead
// pid (or one reused by an unrelated process) is removed; a live postgres
// for this directory is most likely shutting down because its parent app
// died, so we wait for it, then ask it (SIGINT, then SIGQUIT) to stop.
func clearStalePid(ctx context.Context, dir string, log *slog.Logger) error {
	pidFile := filepath.Join(dir, "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	if pid > 0 && processAlive(pid) && isPostgresFor(pid, dir) {
		log.Warn("a postgres for this data directory is still running; waiting for it to exit", "pid", pid)
		err := escalate(ctx, log, pid, func(sig syscall.Signal) { _ = syscall.Kill(pid, sig) }, func() bool { return !processAlive(pid) },
			step{0, staleWait}, step{syscall.SIGINT, 10 * time.Second}, step{syscall.SIGQUIT, 10 * time.Second})
		if err != nil {
			return fmt.Errorf("pglocal: leftover postgres on %s: %w", dir, err)
		}
	}
	if err := os.Remove(pidFile); err == nil {
		log.Info("removed stale postmaster.pid", "pid", pid)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pglocal: remove stale %s: %w", pidFile, err)
	}
	return nil
}

// Freeze stops the server and every backend (SIGSTOP) without closing a
// connection: to its clients the database hangs, as a host that is
// swapping or cut off by the network does. Thaw resumes it. For fault
// tests; Linux only (the backends are found through /proc).
func (s *Server) Freeze() error { return s.signalAll(syscall.SIGSTOP) }

// Thaw resumes a server stopped by Freeze.
func (s *Server) Thaw() error { return s.signalAll(syscall.SIGCONT) }

// signalAll signals the server and its children. Each backend calls
// setsid(), so the server's process group does not reach them.
func (s *Server) signalAll(sig syscall.Signal) error {
	select {
	case <-s.done:
		return errors.New("pglocal: the server has exited")
	default:
	}
	// The server first: stopped, it forks no backend the list would miss.
	if err := syscall.Kill(s.proc.Pid, sig); err != nil {
		return fmt.Errorf("pglocal: signal %v: %w", sig, err)
	}
	kids, err := children(s.proc.Pid)
	if err != nil {
		return err
	}
	for _, pid := range kids {
		_ = syscall.Kill(pid, sig) // a backend may have just exited
	}
	return nil
}
