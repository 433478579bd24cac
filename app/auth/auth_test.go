package auth_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gavel/app/auth"
	"gavel/app/config"
	"gavel/app/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestSessionStorageExpiresRowsLazilyAndBySweep(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	s := auth.NewSessionStorage(db)
	ctx := context.Background()

	if err := s.Set("live", []byte("a"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("live", []byte("b"), time.Hour); err != nil { // overwrite
		t.Fatal(err)
	}
	if got, err := s.Get("live"); err != nil || string(got) != "b" {
		t.Fatalf("Get live: %q %v", got, err)
	}
	if got, _ := s.Get("missing"); got != nil {
		t.Errorf("Get missing: %q", got)
	}
	for _, k := range []string{"old1", "old2"} {
		if err := s.Set(k, []byte("x"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE key LIKE 'old%'`); err != nil {
		t.Fatal(err)
	}
	// Reading an expired session finds nothing and deletes its row.
	if got, err := s.Get("old1"); err != nil || got != nil {
		t.Errorf("Get expired: %q %v", got, err)
	}
	var n int
	db.NewRaw(`SELECT count(*) FROM sessions WHERE key = 'old1'`).Scan(ctx, &n)
	if n != 0 {
		t.Error("expired row read but not deleted")
	}
	// The sweep removes the rest, and only expired rows.
	if deleted, err := s.DeleteExpired(ctx); err != nil || deleted != 1 {
		t.Errorf("DeleteExpired: %d %v", deleted, err)
	}
	db.NewRaw(`SELECT count(*) FROM sessions`).Scan(ctx, &n)
	if n != 1 {
		t.Errorf("%d rows left, want the live one", n)
	}
	if err := s.Delete("live"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get("live"); got != nil {
		t.Error("deleted session still readable")
	}
}

func TestNicknamesAreNormalizedAndChecked(t *testing.T) {
	for in, want := range map[string]error{
		"ab": nil, "  ab  ": nil, "김철수": nil, "jane.doe_1-x": nil, "a b": nil,
		"a": auth.ErrNickLength, "   ": auth.ErrNickLength, strings.Repeat("가", 21): auth.ErrNickLength,
		"<b>hi": auth.ErrNickChars, "a\u200bb": auth.ErrNickChars, "tab\there": auth.ErrNickChars,
	} {
		if _, err := auth.NormalizeNick(in); err != want {
			t.Errorf("NormalizeNick(%q) = %v, want %v", in, err, want)
		}
	}
}

func TestFirstSignInMakesAValidUniqueNickAndOneSignupCredit(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	mk := func(provider, id, nick string) *auth.User {
		t.Helper()
		u, _, err := auth.FindOrCreate(ctx, db, auth.Identity{Provider: provider, ProviderUserID: id, Nick: nick}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if u := mk("github", "1", "Ann"); u.Nick != "Ann" || u.Balance != 1000 {
		t.Errorf("first: %+v", u)
	}
	if u := mk("kakao", "2", "ann"); u.Nick != "ann2" {
		t.Errorf("case-insensitive collision: %q", u.Nick)
	}
	if u := mk("naver", "3", "ANN"); u.Nick != "ANN3" {
		t.Errorf("second collision: %q", u.Nick)
	}
	if u := mk("oidc", "4", ""); u.Nick != "user" {
		t.Errorf("no nickname: %q", u.Nick)
	}
	if u := mk("oidc", "5", "<>"); u.Nick != "user2" {
		t.Errorf("nothing usable: %q", u.Nick)
	}
	long := strings.Repeat("x", 30)
	if u := mk("oidc", "6", long); u.Nick != strings.Repeat("x", 20) {
		t.Errorf("long: %q", u.Nick)
	}
	if u := mk("oidc", "7", long); u.Nick != strings.Repeat("x", 19)+"2" {
		t.Errorf("long collision: %q", u.Nick)
	}
	again := mk("github", "1", "Renamed upstream")
	if again.Nick != "Ann" {
		t.Errorf("second sign-in changed the nick: %q", again.Nick)
	}

	// Many first sign-ins of one identity at once: one account, one credit.
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := auth.FindOrCreate(ctx, db, auth.Identity{Provider: "dev", ProviderUserID: "racer", Nick: "racer"}, 1000); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var users, credits int
	db.NewRaw(`SELECT count(*) FROM users WHERE provider_user_id = 'racer'`).Scan(ctx, &users)
	db.NewRaw(`SELECT count(*) FROM ledger l JOIN users u ON u.id = l.user_id WHERE u.provider_user_id = 'racer'`).Scan(ctx, &credits)
	if users != 1 || credits != 1 {
		t.Errorf("racing first sign-ins: %d users, %d credits", users, credits)
	}
}

func TestSetNickRefusesATakenNickInAnyCase(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	a, _, _ := auth.FindOrCreate(ctx, db, auth.Identity{Provider: "dev", ProviderUserID: "a", Nick: "Alpha"}, 0)
	b, _, _ := auth.FindOrCreate(ctx, db, auth.Identity{Provider: "dev", ProviderUserID: "b", Nick: "Beta"}, 0)
	if _, err := auth.SetNick(ctx, db, b.ID, "ALPHA"); err != auth.ErrNickTaken {
		t.Errorf("taken: %v", err)
	}
	if nick, err := auth.SetNick(ctx, db, a.ID, " alpha "); err != nil || nick != "alpha" {
		t.Errorf("own nick in another case: %q %v", nick, err)
	}
}

func TestDevProviderGoesThroughGothsInterface(t *testing.T) {
	svc, err := auth.NewService(&config.Config{Env: config.Development, DevLogin: true, BaseURL: "http://x"})
	if err != nil {
		t.Fatal(err)
	}
	authURL, pend, err := svc.Begin("dev")
	if err != nil || authURL != auth.DevFormPath+"?state="+url.QueryEscape(pend.State) {
		t.Fatalf("Begin: %q %v", authURL, err)
	}
	if pend.Verifier != "" {
		t.Error("dev login has no PKCE")
	}
	if _, err := svc.Complete("dev", pend, url.Values{"state": {pend.State + "x"}, "nick": {"Zed"}}); err != auth.ErrState {
		t.Errorf("wrong state: %v", err)
	}
	old := pend
	old.Started = time.Now().Add(-auth.PendingTTL - time.Second).Unix()
	if _, err := svc.Complete("dev", old, url.Values{"state": {pend.State}, "nick": {"Zed"}}); err != auth.ErrState {
		t.Errorf("stale state: %v", err)
	}
	id, err := svc.Complete("dev", pend, url.Values{"state": {pend.State}, "nick": {" Zed "}})
	if err != nil || id.ProviderUserID != "zed" || id.Nick != "Zed" || id.Provider != "dev" {
		t.Errorf("Complete: %+v %v", id, err)
	}
	off, _ := auth.NewService(&config.Config{Env: config.Development, BaseURL: "http://x"})
	if off.Has("dev") || len(off.Names()) != 0 {
		t.Errorf("dev login off but providers %v", off.Names())
	}
	if _, _, err := off.Begin("dev"); err != auth.ErrUnknownProvider {
		t.Errorf("Begin dev when off: %v", err)
	}
}

func TestNicknamesAreNFKCAndNeverInvisible(t *testing.T) {
	for in, want := range map[string]string{
		"ａｌｉｃｅ": "alice", // full width
		"ﬁne":   "fine",  // ligature
		"①②":    "12",
	} {
		if got, err := auth.NormalizeNick(in); err != nil || got != want {
			t.Errorf("NormalizeNick(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"alice\uFE0F",        // variation selector
		"al\u034Fice",        // combining grapheme joiner
		"bob\u200D",          // zero width joiner
		"\u3164\u3164",       // Hangul filler
		"a\uFFA0b",           // halfwidth Hangul filler
		"ev\u202Eil",         // right-to-left override
		"\u00ADsoft",         // soft hyphen
		"..ab", "-ab", " _x", // must start with a letter or digit
	} {
		if got, err := auth.NormalizeNick(in); err == nil {
			t.Errorf("NormalizeNick(%q) accepted as %q", in, got)
		}
	}
}

func TestLookalikeNicknamesCannotBothBeTaken(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	alice, _, err := auth.FindOrCreate(ctx, db, auth.Identity{Provider: "dev", ProviderUserID: "alice", Nick: "alice"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := auth.FindOrCreate(ctx, db, auth.Identity{Provider: "dev", ProviderUserID: "b", Nick: "bob"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, look := range []string{"a1ice", "AIice", "аlice" /* Cyrillic а */, "ａｌｉｃｅ", "ALICE"} {
		if got, err := auth.SetNick(ctx, db, b.ID, look); err != auth.ErrNickTaken {
			t.Errorf("SetNick(%q) = %q, %v; want ErrNickTaken", look, got, err)
		}
	}
	// A first sign-in with a lookalike gets a suffix instead.
	u, _, err := auth.FindOrCreate(ctx, db, auth.Identity{Provider: "github", ProviderUserID: "9", Nick: "a1ice"}, 0)
	if err != nil || u.Nick == "a1ice" {
		t.Errorf("lookalike first sign-in: %q, %v", u.Nick, err)
	}
	if _, err := auth.SetNick(ctx, db, alice.ID, "Alice"); err != nil {
		t.Errorf("own nick in another case: %v", err)
	}
	if got, err := auth.SetNick(ctx, db, b.ID, "alicia"); err != nil {
		t.Errorf("a different nick: %q %v", got, err)
	}
}
