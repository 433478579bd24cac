package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	migrations "gavel/sql"
)

// migrateLockKey is the advisory lock every instance takes while migrating,
// so concurrent starts apply each migration once. A session lock vanishes
// with its connection: a crash leaves nothing behind to clean up.
const migrateLockKey = 0x6761_7665_6c // "gavel"

// Migration is one numbered step of the schema.
type Migration struct {
	Version int
	Name    string
	Up      string
	Down    string
	Applied *time.Time // nil when not applied
}

var migrationFile = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$`)

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	return parseMigrations(migrations.FS)
}

// Status lists every migration with the time it was applied, if it was.
func Status(ctx context.Context, db *bun.DB) ([]Migration, error) {
	return status(ctx, db, migrations.FS)
}

// Up applies every pending migration, each in its own transaction that also
// records it, so a migration is marked applied only when it succeeded.
// It returns the migrations it applied.
func Up(ctx context.Context, db *bun.DB) ([]Migration, error) {
	return up(ctx, db, migrations.FS)
}

// Down rolls back the latest applied migration and returns it.
func Down(ctx context.Context, db *bun.DB) (Migration, error) {
	return down(ctx, db, migrations.FS)
}

func parseMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		mig := byVersion[v]
		if mig == nil {
			mig = &Migration{Version: v, Name: m[2]}
			byVersion[v] = mig
		} else if mig.Name != m[2] {
			return nil, fmt.Errorf("migration %04d has two names: %s and %s", v, mig.Name, m[2])
		}
		if m[3] == "up" {
			mig.Up = string(body)
		} else {
			mig.Down = string(body)
		}
	}
	list := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		if m.Up == "" || m.Down == "" {
			return nil, fmt.Errorf("migration %04d_%s needs both .up.sql and .down.sql", m.Version, m.Name)
		}
		list = append(list, *m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Version < list[j].Version })
	return list, nil
}

// withLock runs fn on one connection that holds the migration lock.
func withLock(ctx context.Context, db *bun.DB, fn func(conn bun.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A migration may rightly take longer than the pool's statement and
	// lock timeouts, and so may waiting for another instance's migration.
	for _, set := range []string{"SET statement_timeout = 0", "SET lock_timeout = 0"} {
		if _, err := conn.ExecContext(ctx, set); err != nil {
			return err
		}
	}
	defer func() {
		rctx := context.WithoutCancel(ctx)
		conn.ExecContext(rctx, "RESET statement_timeout") //nolint:errcheck // a broken connection is discarded anyway
		conn.ExecContext(rctx, "RESET lock_timeout")      //nolint:errcheck // as above
	}()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrateLockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrateLockKey) //nolint:errcheck // the lock also ends with the connection
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return fn(conn)
}

func status(ctx context.Context, db *bun.DB, fsys fs.FS) ([]Migration, error) {
	list, err := parseMigrations(fsys)
	if err != nil {
		return nil, err
	}
	err = withLock(ctx, db, func(conn bun.Conn) error { return markApplied(ctx, conn, list) })
	return list, err
}

func markApplied(ctx context.Context, conn bun.Conn, list []Migration) error {
	rows, err := conn.QueryContext(ctx, "SELECT version, applied_at FROM schema_migrations")
	if err != nil {
		return err
	}
	defer rows.Close()
	applied := map[int]time.Time{}
	for rows.Next() {
		var v int
		var at time.Time
		if err := rows.Scan(&v, &at); err != nil {
			return err
		}
		applied[v] = at
	}
	for i := range list {
		if at, ok := applied[list[i].Version]; ok {
			list[i].Applied = &at
		}
	}
	return rows.Err()
}

func up(ctx context.Context, db *bun.DB, fsys fs.FS) ([]Migration, error) {
	list, err := parseMigrations(fsys)
	if err != nil {
		return nil, err
	}
	var done []Migration
	err = withLock(ctx, db, func(conn bun.Conn) error {
		if err := markApplied(ctx, conn, list); err != nil {
			return err
		}
		for _, m := range list {
			if m.Applied != nil {
				continue
			}
			err := conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, m.Up); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.Version, m.Name)
				return err
			})
			if err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			done = append(done, m)
		}
		return nil
	})
	return done, err
}

// ErrNothingToRollBack is returned by Down when no migration is applied.
var ErrNothingToRollBack = errors.New("no migration is applied")

func down(ctx context.Context, db *bun.DB, fsys fs.FS) (Migration, error) {
	list, err := parseMigrations(fsys)
	if err != nil {
		return Migration{}, err
	}
	var last Migration
	err = withLock(ctx, db, func(conn bun.Conn) error {
		if err := markApplied(ctx, conn, list); err != nil {
			return err
		}
		var found bool
		for _, m := range list {
			if m.Applied != nil {
				last, found = m, true
			}
		}
		if !found {
			return ErrNothingToRollBack
		}
		return conn.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, last.Down); err != nil {
				return fmt.Errorf("migration %04d_%s down: %w", last.Version, last.Name, err)
			}
			_, err := tx.ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = ?", last.Version)
			return err
		})
	})
	return last, err
}
