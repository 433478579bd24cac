package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// dbClock is the database's clock as this instance reads it: its own
// clock corrected by the offset measured against the database. Bids are
// accepted by the database's clock; pages decide "ended" by this one, so
// an instance whose clock drifts says the same as the bid form's answer.
type dbClock struct {
	local  func() time.Time
	offset atomic.Int64 // nanoseconds to add to local
}

// Now is the corrected time.
func (c *dbClock) Now() time.Time { return c.local().Add(time.Duration(c.offset.Load())) }

// measure reads the database's clock once and keeps the offset, taking
// the local time halfway through the round trip.
func (c *dbClock) measure(ctx context.Context, db *bun.DB) error {
	t0 := c.local()
	var dbNow time.Time
	if err := db.QueryRowContext(ctx, `SELECT clock_timestamp()`).Scan(&dbNow); err != nil {
		return err
	}
	t1 := c.local()
	c.offset.Store(int64(dbNow.Sub(t0.Add(t1.Sub(t0) / 2))))
	return nil
}

// run measures again every minute until ctx ends (clocks drift; NTP steps).
func (c *dbClock) run(ctx context.Context, db *bun.DB) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			c.measure(mctx, db) //nolint:errcheck // the last offset stands until the database answers
			cancel()
		}
	}
}
