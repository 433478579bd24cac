package wallet_test

import (
	"context"
	"errors"
	"testing"

	"gavel/app/auth"
	"gavel/app/db/dbtest"
	"gavel/app/wallet"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestDepositChecksBoundsAndTheRollingCap(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	u, _, err := auth.FindOrCreate(ctx, db, auth.Identity{Provider: "dev", ProviderUserID: "w", Nick: "w1"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	lim := wallet.Limits{Min: 10, Max: 100, DailyCap: 150}
	if err := wallet.Deposit(ctx, db, u.ID, 9, lim); !errors.Is(err, wallet.ErrTooSmall) {
		t.Errorf("below min: %v", err)
	}
	if err := wallet.Deposit(ctx, db, u.ID, 101, lim); !errors.Is(err, wallet.ErrTooLarge) {
		t.Errorf("above max: %v", err)
	}
	// A deposit older than the rolling window does not count towards it.
	if _, err := db.ExecContext(ctx, `INSERT INTO ledger (user_id, kind, amount, created_at)
		VALUES (?, 'deposit', 100, now() - interval '25 hours')`, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := wallet.Deposit(ctx, db, u.ID, 100, lim); err != nil {
		t.Fatal(err)
	}
	var ce *wallet.CapError
	if err := wallet.Deposit(ctx, db, u.ID, 60, lim); !errors.As(err, &ce) || ce.Remaining != 50 {
		t.Errorf("over the cap: %v", err)
	}
	sum, err := wallet.Summarize(ctx, db, u.ID)
	if err != nil || sum.Balance != 300 || sum.Committed != 0 || sum.Available() != 300 {
		t.Errorf("summary: %+v %v", sum, err)
	}
	rows, next, err := wallet.History(ctx, db, u.ID, 0)
	if err != nil || len(rows) != 3 || next != 0 || rows[0].Amount != 100 || rows[2].Kind != "signup" {
		t.Errorf("history: %+v %d %v", rows, next, err)
	}
}
