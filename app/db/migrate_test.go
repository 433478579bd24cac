package db_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/uptrace/bun"

	"gavel/app/db"
	"gavel/app/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func tables(t *testing.T, bdb *bun.DB) []string {
	t.Helper()
	var names []string
	err := bdb.NewRaw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`).Scan(context.Background(), &names)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestMigrationsUpDownUpOnARealDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb, _ := dbtest.NewEmpty(t)

	applied, err := db.Up(ctx, bdb)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := db.Migrations()
	if len(applied) != len(all) || len(all) == 0 {
		t.Fatalf("applied %d of %d migrations", len(applied), len(all))
	}
	want := "auction_addenda,auction_photos,auctions,bid_keys,bids,images,ledger,mail_outbox,mails,maximums,moderation_log,notifications,notify_prefs,river_job,river_leader,river_migration,river_notification,river_queue,server_secrets,sessions,users,watches"
	if got := strings.Join(tables(t, bdb), ","); got != want {
		t.Fatalf("tables after up: %s, want %s", got, want)
	}
	again, err := db.Up(ctx, bdb)
	if err != nil || len(again) != 0 {
		t.Fatalf("second up applied %d (err %v), want none", len(again), err)
	}

	for range all {
		if _, err := db.Down(ctx, bdb); err != nil {
			t.Fatal(err)
		}
	}
	if got := tables(t, bdb); len(got) != 0 {
		t.Fatalf("tables after down: %v", got)
	}
	if _, err := db.Down(ctx, bdb); err != db.ErrNothingToRollBack {
		t.Fatalf("down with nothing applied: %v", err)
	}
	status, err := db.Status(ctx, bdb)
	if err != nil || status[0].Applied != nil {
		t.Fatalf("status after down: %+v %v", status, err)
	}

	if _, err := db.Up(ctx, bdb); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tables(t, bdb), ","); got != want {
		t.Fatalf("tables after up again: %s", got)
	}
	status, _ = db.Status(ctx, bdb)
	for _, m := range status {
		if m.Applied == nil {
			t.Errorf("migration %04d not marked applied", m.Version)
		}
	}
}

func TestTwoInstancesMigratingAtOnceApplyEachMigrationOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url := dbtest.NewEmpty(t)
	const instances = 4
	var wg sync.WaitGroup
	counts := make([]int, instances)
	errs := make([]error, instances)
	for i := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each instance has its own pool, as separate processes would.
			bdb, err := db.Open(ctx, url)
			if err != nil {
				errs[i] = err
				return
			}
			defer bdb.Close()
			applied, err := db.Up(ctx, bdb)
			counts[i], errs[i] = len(applied), err
		}()
	}
	wg.Wait()
	total := 0
	for i := range instances {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	all, _ := db.Migrations()
	if total != len(all) {
		t.Fatalf("instances applied %d migrations in all, want %d (each once)", total, len(all))
	}
}

func TestAFailedMigrationIsNotMarkedApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb, _ := dbtest.NewEmpty(t)
	src := fstest.MapFS{
		"0001_good.up.sql":   {Data: []byte("CREATE TABLE good (id int)")},
		"0001_good.down.sql": {Data: []byte("DROP TABLE good")},
		"0002_bad.up.sql":    {Data: []byte("CREATE TABLE half (id int); SELECT no_such_function()")},
		"0002_bad.down.sql":  {Data: []byte("DROP TABLE half")},
	}
	applied, err := db.UpFrom(ctx, bdb, src)
	if err == nil || !strings.Contains(err.Error(), "0002_bad") {
		t.Fatalf("want the error to name 0002_bad, got %v", err)
	}
	if len(applied) != 1 {
		t.Fatalf("applied %d, want only 0001", len(applied))
	}
	var versions []int
	if err := bdb.NewRaw("SELECT version FROM schema_migrations ORDER BY 1").Scan(ctx, &versions); err != nil {
		t.Fatal(err)
	}
	if len(versions) != 1 || versions[0] != 1 {
		t.Fatalf("recorded versions %v, want [1]", versions)
	}
	if got := strings.Join(tables(t, bdb), ","); got != "good" {
		t.Fatalf("the failed migration left tables behind: %s", got)
	}
}
