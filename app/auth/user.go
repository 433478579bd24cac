// Package auth signs people in through goth providers (and the dev login),
// keeps server-side sessions in Postgres, and guards unsafe requests with
// CSRF tokens.
package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"
)

// User is a Gavel account. Identity is (Provider, ProviderUserID), never the
// email: Kakao gives none.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID             int64      `bun:"id,pk,autoincrement"`
	Provider       string     `bun:"provider"`
	ProviderUserID string     `bun:"provider_user_id"`
	Nick           string     `bun:"nick"`
	NickKey        string     `bun:"nick_key,nullzero"` // NickKey(Nick): what uniqueness is checked on
	Email          string     `bun:"email"`
	AvatarURL      string     `bun:"avatar_url"`
	Balance        int64      `bun:"balance"`
	Committed      int64      `bun:"committed"`    // maximums on the open auctions they lead
	SuspendedAt    *time.Time `bun:"suspended_at"` // by an operator: signed out, may not bid or list
	CreatedAt      time.Time  `bun:"created_at"`
}

// Nickname bounds, in characters.
const (
	NickMin = 2
	NickMax = 20
)

// Nickname errors; the web layer shows each as a message next to the field.
var (
	ErrNickLength = errors.New("nickname must be 2 to 20 characters")
	ErrNickChars  = errors.New("nickname has characters that are not allowed")
	ErrNickTaken  = errors.New("nickname is taken")
	ErrNickStart  = errors.New("nickname must start with a letter or digit")
)

// ErrNoUser is returned when a user id names no account.
var ErrNoUser = errors.New("no such user")

// NormalizeNick NFKC-normalises and trims nick and checks it: 2–20
// characters of letters, digits, spaces, '.', '_' and '-' (combining marks
// on letters too), starting with a letter or digit, none of them invisible
// (see invisibleRune). It does not check uniqueness.
func NormalizeNick(nick string) (string, error) {
	nick = strings.TrimSpace(norm.NFKC.String(nick))
	if n := utf8.RuneCountInString(nick); n < NickMin || n > NickMax {
		return nick, ErrNickLength
	}
	for i, r := range nick {
		if !nickRune(r) {
			return nick, ErrNickChars
		}
		if i == 0 && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return nick, ErrNickStart
		}
	}
	return nick, nil
}

func nickRune(r rune) bool {
	if invisibleRune(r) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) ||
		r == ' ' || r == '.' || r == '_' || r == '-'
}

// Identity is who a provider says signed in.
type Identity struct {
	Provider       string
	ProviderUserID string
	Nick           string // a suggestion: made valid and unique at sign-up
	Email          string
	AvatarURL      string
}

// FindOrCreate returns the account of id, creating it on first sign-in with
// a valid, unique nickname and a 'signup' ledger row of startingBalance.
// Later sign-ins refresh the email and avatar, never the nickname (the user
// may have changed it). created reports whether the account is new.
func FindOrCreate(ctx context.Context, db *bun.DB, id Identity, startingBalance int64) (u *User, created bool, err error) {
	if id.Provider == "" || id.ProviderUserID == "" {
		return nil, false, fmt.Errorf("find or create user: empty identity")
	}
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		u, created, err = findOrCreate(ctx, tx, id, startingBalance)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("find or create user: %w", err)
	}
	return u, created, nil
}

func findOrCreate(ctx context.Context, tx bun.IDB, id Identity, startingBalance int64) (*User, bool, error) {
	u := new(User)
	err := tx.NewRaw(`UPDATE users SET email = ?, avatar_url = ? WHERE provider = ? AND provider_user_id = ? RETURNING *`,
		id.Email, id.AvatarURL, id.Provider, id.ProviderUserID).Scan(ctx, u)
	if err == nil {
		return u, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, err
	}
	base := suggestNick(id.Nick)
	for i := 1; i <= 1000; i++ {
		nick := withSuffix(base, i)
		// ON CONFLICT DO NOTHING covers the identity and both nickname
		// indexes (case, skeleton): no row back means one of them is
		// taken, and the lookup below tells which.
		err := tx.NewRaw(`INSERT INTO users (provider, provider_user_id, nick, nick_key, email, avatar_url)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING *`,
			id.Provider, id.ProviderUserID, nick, NickKey(nick), id.Email, id.AvatarURL).Scan(ctx, u)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.NewRaw(`SELECT * FROM users WHERE provider = ? AND provider_user_id = ?`,
				id.Provider, id.ProviderUserID).Scan(ctx, u)
			if err == nil {
				return u, false, nil // a concurrent first sign-in won
			}
			if errors.Is(err, sql.ErrNoRows) {
				continue // the nickname is taken: try the next suffix
			}
		}
		if err != nil {
			return nil, false, err
		}
		if startingBalance > 0 {
			if _, err := tx.NewRaw(`INSERT INTO ledger (user_id, kind, amount) VALUES (?, 'signup', ?)`,
				u.ID, startingBalance).Exec(ctx); err != nil {
				return nil, false, err
			}
			u.Balance += startingBalance
		}
		return u, true, nil
	}
	return nil, false, fmt.Errorf("no free nickname for %q", base)
}

// suggestNick turns a provider's nickname into a valid one: allowed
// characters only, at most NickMax, "user" when too little is left.
func suggestNick(nick string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(norm.NFKC.String(nick)) {
		if nickRune(r) && (b.Len() > 0 || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	s := strings.TrimSpace(b.String())
	if utf8.RuneCountInString(s) < NickMin {
		return "user"
	}
	return truncate(s, NickMax)
}

// withSuffix returns base for i == 1 and base+i otherwise, shortening base so
// the whole stays within NickMax.
func withSuffix(base string, i int) string {
	if i == 1 {
		return base
	}
	suffix := strconv.Itoa(i)
	return strings.TrimSpace(truncate(base, NickMax-len(suffix))) + suffix
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// UserByID returns the account id.
func UserByID(ctx context.Context, db bun.IDB, id int64) (*User, error) {
	u := new(User)
	err := db.NewRaw(`SELECT * FROM users WHERE id = ?`, id).Scan(ctx, u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("load user %d: %w", id, err)
	}
	return u, nil
}

// SetNick changes a user's nickname after checking it; ErrNickTaken when
// another account has it in any letter case, or one that looks the same
// (the same NickKey).
func SetNick(ctx context.Context, db bun.IDB, userID int64, nick string) (string, error) {
	nick, err := NormalizeNick(nick)
	if err != nil {
		return nick, err
	}
	res, err := db.NewRaw(`UPDATE users SET nick = ?, nick_key = ? WHERE id = ?`, nick, NickKey(nick), userID).Exec(ctx)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nick, ErrNickTaken
	}
	if err != nil {
		return nick, fmt.Errorf("set nickname: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nick, ErrNoUser
	}
	return nick, nil
}
