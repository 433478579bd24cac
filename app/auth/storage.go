package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
)

// SessionStorage is a fiber.Storage kept in the sessions table, so that any
// instance serves any request. Expired rows read as missing and are deleted
// when read; DeleteExpired sweeps the rest.
type SessionStorage struct {
	db      bun.IDB
	timeout time.Duration
}

// NewSessionStorage returns the Postgres session storage.
func NewSessionStorage(db bun.IDB) *SessionStorage {
	return &SessionStorage{db: db, timeout: 5 * time.Second}
}

// fiber.Storage has no context: each call gets its own deadline.
func (s *SessionStorage) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// Get returns the data of key, or nil when it is missing or expired (an
// expired row is deleted on the way).
func (s *SessionStorage) Get(key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	var data []byte
	err := s.db.NewRaw(`WITH gone AS (DELETE FROM sessions WHERE key = ? AND expires_at <= now())
		SELECT data FROM sessions WHERE key = ? AND (expires_at IS NULL OR expires_at > now())`,
		key, key).Scan(ctx, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session get: %w", err)
	}
	return data, nil
}

// Set stores val under key for exp (0: no expiry).
func (s *SessionStorage) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	var expires *time.Time
	if exp > 0 {
		t := time.Now().Add(exp)
		expires = &t
	}
	_, err := s.db.NewRaw(`INSERT INTO sessions (key, data, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
		key, val, expires).Exec(ctx)
	if err != nil {
		return fmt.Errorf("session set: %w", err)
	}
	return nil
}

// Take returns the data of key and deletes it in one statement, so that
// of two concurrent callers only one gets it; nil when it is missing or
// expired.
func (s *SessionStorage) Take(key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	var data []byte
	err := s.db.NewRaw(`DELETE FROM sessions WHERE key = ?
		RETURNING CASE WHEN expires_at IS NULL OR expires_at > now() THEN data END`, key).Scan(ctx, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session take: %w", err)
	}
	return data, nil
}

// Delete removes key.
func (s *SessionStorage) Delete(key string) error {
	if key == "" {
		return nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.db.NewRaw(`DELETE FROM sessions WHERE key = ?`, key).Exec(ctx); err != nil {
		return fmt.Errorf("session delete: %w", err)
	}
	return nil
}

// Reset removes every session.
func (s *SessionStorage) Reset() error {
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.db.NewRaw(`DELETE FROM sessions`).Exec(ctx); err != nil {
		return fmt.Errorf("session reset: %w", err)
	}
	return nil
}

// Close does nothing: the pool belongs to the caller.
func (s *SessionStorage) Close() error { return nil }

// DeleteExpired removes every expired session and says how many.
func (s *SessionStorage) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.NewRaw(`DELETE FROM sessions WHERE expires_at <= now()`).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SweepExpired calls DeleteExpired every interval until ctx ends.
func (s *SessionStorage) SweepExpired(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.DeleteExpired(ctx); err != nil {
				log.Warn("session sweep", "err", err)
			} else if n > 0 {
				log.Info("session sweep", "deleted", n)
			}
		}
	}
}
