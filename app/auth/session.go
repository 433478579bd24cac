package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/gob"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Session is a signed-in browser: a row of the sessions table, created at
// sign-in under a fresh random id and deleted at logout. Signed-out
// visitors have none.
type Session struct {
	ID        string
	UserID    int64
	LoginAt   time.Time
	ExpiresAt time.Time
}

// Session data keys. The data column keeps the gob-encoded map that
// Fiber's session store wrote, so rows written by either stay readable.
const (
	sessUserID  = "uid"      // int64
	sessLoginAt = "login_at" // int64 unix seconds
)

// The hot statements pass $n parameters through database/sql (bun inlines
// values, which makes every session key a new statement text for pgx to
// prepare).
const (
	selectSession = `SELECT data, expires_at FROM sessions WHERE key = $1`
	selectUser    = `SELECT id, provider, provider_user_id, nick, email, avatar_url, balance, committed, suspended_at, created_at
		FROM users WHERE id = $1`
)

// CreateSession starts a session for userID that stays valid for idle
// (refreshed by Touch) and returns its new id.
func CreateSession(ctx context.Context, db bun.IDB, userID int64, idle time.Duration) (Session, error) {
	now := time.Now()
	s := Session{ID: NewSessionID(), UserID: userID, LoginAt: now.Truncate(time.Second), ExpiresAt: now.Add(idle)}
	data, err := encodeSession(s)
	if err != nil {
		return Session{}, err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sessions (key, data, expires_at) VALUES (?, ?, ?)`,
		s.ID, data, s.ExpiresAt); err != nil {
		return Session{}, fmt.Errorf("create session: %w", err)
	}
	return s, nil
}

// DeleteSession ends session id everywhere: the row goes, and its trigger
// tells every instance to drop its cached copy.
func DeleteSession(ctx context.Context, db bun.IDB, id string) error {
	if id == "" {
		return nil
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE key = ?`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// TouchSession moves the idle end of session id to until. It only updates:
// a session deleted meanwhile (a logout) stays deleted.
func TouchSession(ctx context.Context, db *bun.DB, id string, until time.Time) error {
	if _, err := db.DB.ExecContext(ctx, `UPDATE sessions SET expires_at = $2 WHERE key = $1`, id, until); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// loadSession reads session id; ok is false when it is missing, expired or
// not a signed-in session.
func loadSession(ctx context.Context, db *bun.DB, id string) (s Session, ok bool, err error) {
	var data []byte
	var expires sql.NullTime
	err = db.DB.QueryRowContext(ctx, selectSession, id).Scan(&data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, fmt.Errorf("load session: %w", err)
	}
	m := map[string]any{}
	if gob.NewDecoder(bytes.NewReader(data)).Decode(&m) != nil {
		return Session{}, false, nil
	}
	uid, _ := m[sessUserID].(int64)
	loginAt, _ := m[sessLoginAt].(int64)
	if uid == 0 {
		return Session{}, false, nil
	}
	s = Session{ID: id, UserID: uid, LoginAt: time.Unix(loginAt, 0)}
	if expires.Valid {
		s.ExpiresAt = expires.Time
	} else {
		s.ExpiresAt = time.Now().Add(100 * 365 * 24 * time.Hour)
	}
	return s, true, nil
}

func encodeSession(s Session) ([]byte, error) {
	var buf bytes.Buffer
	m := map[string]any{sessUserID: s.UserID, sessLoginAt: s.LoginAt.Unix()}
	if err := gob.NewEncoder(&buf).Encode(&m); err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	return buf.Bytes(), nil
}

// loadUser reads user id with a fixed, parameterised statement.
func loadUser(ctx context.Context, db *bun.DB, id int64) (*User, error) {
	u := new(User)
	err := db.DB.QueryRowContext(ctx, selectUser, id).Scan(&u.ID, &u.Provider, &u.ProviderUserID,
		&u.Nick, &u.Email, &u.AvatarURL, &u.Balance, &u.Committed, &u.SuspendedAt, &u.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("load user %d: %w", id, err)
	}
	return u, nil
}

// Secret returns the shared secret called name, made (32 random bytes) by
// whichever instance asks first; every instance gets the same bytes.
func Secret(ctx context.Context, db bun.IDB, name string) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	if _, err := db.ExecContext(ctx, `INSERT INTO server_secrets (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`, name, b); err != nil {
		return nil, fmt.Errorf("make secret %s: %w", name, err)
	}
	var v []byte
	if err := db.NewRaw(`SELECT value FROM server_secrets WHERE name = ?`, name).Scan(ctx, &v); err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	return v, nil
}
