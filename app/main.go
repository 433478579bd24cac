// Command gavel runs the Gavel auction site: `go run ./app` serves it,
// `go run ./app demo` serves it with demo listings and bidders (development
// only), and `go run ./app migrate status|up|down` manages the schema.
//
// main is wiring only: config -> database (a private Postgres when no
// DATABASE_URL is set) -> migrations -> services -> web -> serve, and a
// graceful stop on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/config"
	"gavel/app/db"
	"gavel/app/db/pglocal"
	"gavel/app/logbuf"
	"gavel/app/server"
)

// gcPercent is the garbage-collection target when GOGC is not set.
const gcPercent = 400

// shutdownGrace bounds a graceful stop.
const shutdownGrace = 10 * time.Second

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gavel:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if os.Getenv("GOGC") == "" {
		// A small live heap, and allocation on every request: collect
		// when the heap is five times the live data, not twice.
		debug.SetGCPercent(gcPercent)
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	// One line per request: written together every 100 ms (a warning at
	// once), not with a system call each.
	lw := logbuf.New(os.Stderr, 100*time.Millisecond)
	defer lw.Close()
	var handler slog.Handler = slog.NewTextHandler(lw, &slog.HandlerOptions{Level: cfg.LogLevel})
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: cfg.LogLevel})
	}
	log := slog.New(logbuf.Handler(handler, lw))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "postgres"))
		if err != nil {
			return fmt.Errorf("DATA_DIR: %w", err)
		}
		log.Info("starting private postgres", "dir", dir)
		pg, err := pglocal.Start(ctx, pglocal.Options{Dir: dir, Database: "gavel", Logger: log})
		if err != nil {
			return err
		}
		defer func() {
			if err := pg.Stop(); err != nil {
				log.Error("stop private postgres", "err", err)
			}
		}()
		dbURL = pg.URL("gavel")
	}
	// The live layer opens its own LISTEN connection to the same database.
	cfg.DatabaseURL = dbURL
	bdb, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer bdb.Close()

	demoMode := len(args) == 1 && args[0] == "demo"
	if len(args) > 0 && !demoMode {
		return command(ctx, bdb, args)
	}
	applied, err := db.Up(ctx, bdb)
	if err != nil {
		return err
	}
	for _, m := range applied {
		log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	return serve(ctx, cfg, bdb, log, demoMode)
}

func serve(ctx context.Context, cfg *config.Config, bdb *bun.DB, log *slog.Logger, demoMode bool) error {
	srv, err := server.New(cfg, bdb, log, func(p *server.Parts) { p.Demo = demoMode })
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ADDR: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("Gavel is running at http://%s (press Ctrl-C to stop)\n", ln.Addr())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
	}
	return nil
}

// command runs `migrate status|up|down`.
func command(ctx context.Context, bdb *bun.DB, args []string) error {
	if args[0] != "migrate" || len(args) != 2 {
		return fmt.Errorf("usage: gavel [demo | migrate status|up|down]")
	}
	switch args[1] {
	case "status":
		list, err := db.Status(ctx, bdb)
		if err != nil {
			return err
		}
		for _, m := range list {
			state := "pending"
			if m.Applied != nil {
				state = "applied " + m.Applied.Format(time.RFC3339)
			}
			fmt.Printf("%04d_%s\t%s\n", m.Version, m.Name, state)
		}
	case "up":
		applied, err := db.Up(ctx, bdb)
		if err != nil {
			return err
		}
		for _, m := range applied {
			fmt.Printf("applied %04d_%s\n", m.Version, m.Name)
		}
		if len(applied) == 0 {
			fmt.Println("nothing to apply")
		}
	case "down":
		m, err := db.Down(ctx, bdb)
		if errors.Is(err, db.ErrNothingToRollBack) {
			fmt.Println("nothing to roll back")
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Printf("rolled back %04d_%s\n", m.Version, m.Name)
	default:
		return fmt.Errorf("usage: gavel migrate status|up|down")
	}
	return nil
}
