// Package db connects Gavel to PostgreSQL and applies its migrations.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Limits every pooled connection gets, unless the URL sets its own
// (connect_timeout=…, statement_timeout=…, lock_timeout=…): with the
// database gone or stuck, a request fails within seconds instead of
// hanging, and its page answers 503.
const (
	// ConnectTimeout bounds dialling and the startup handshake. A server
	// that accepts the connection but never answers (a host gone dark, a
	// full backlog) would otherwise hold a request, or the start, forever.
	ConnectTimeout = 5 * time.Second
	// StatementTimeout is far above any statement of a request, a bid
	// batch or the sweeper, and below the bidder's 30 s batch deadline.
	StatementTimeout = 15 * time.Second
	// LockTimeout: bid batches hold an auction's row for milliseconds, so
	// a wait this long means a stuck holder.
	LockTimeout = 5 * time.Second
)

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = ConnectTimeout
	}
	setDefault(cfg.RuntimeParams, "statement_timeout", StatementTimeout)
	setDefault(cfg.RuntimeParams, "lock_timeout", LockTimeout)
	sqldb := stdlib.OpenDB(*cfg)
	// Bidding holds one connection per hot auction for a batch; pages and the
	// sweeper need a few more. Postgres' default max_connections is 100, and
	// several instances share it.
	sqldb.SetMaxOpenConns(24)
	sqldb.SetMaxIdleConns(24)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	bdb := bun.NewDB(sqldb, pgdialect.New())
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := bdb.PingContext(pctx); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return bdb, nil
}

func setDefault(params map[string]string, name string, d time.Duration) {
	if _, ok := params[name]; !ok {
		params[name] = fmt.Sprint(d.Milliseconds())
	}
}

// Unavailable reports whether err means the database could not be reached
// or stopped answering (refused or timed-out connections, a server
// shutting down or starting up, a broken connection, a statement or lock
// timeout), as opposed to an error in what was asked. Pages answer such
// errors with 503: try again shortly.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; class 57: operator intervention
		// (admin shutdown, cannot connect now, statement timeout); 55P03:
		// lock timeout.
		return pe.Code[:2] == "08" || pe.Code[:2] == "57" || pe.Code == "55P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
