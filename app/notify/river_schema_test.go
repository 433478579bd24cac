package notify_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"gavel/app/db/dbtest"
	migrations "gavel/sql"
)

// River's schema is embedded as migrations 0031 and 0032: they must be
// River's own SQL (this River's, as go.mod names it), and after them
// River's own migrator must find nothing to do.
func TestTheEmbeddedRiverSchemaIsRiversOwn(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	m, err := rivermigrate.New(riverdatabasesql.New(db.DB), nil)
	if err != nil {
		t.Fatal(err)
	}
	var embedded strings.Builder
	for _, name := range []string{"0031_river_1_4.up.sql", "0032_river_5_8.up.sql"} {
		b, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		embedded.Write(b)
	}
	for _, v := range m.AllVersions() {
		want := strings.TrimSpace(strings.ReplaceAll(v.SQLUp, "/* TEMPLATE: schema */", ""))
		if !strings.Contains(embedded.String(), want) {
			t.Errorf("River's migration %d (%s) is not embedded as it is: regenerate 0031/0032 from rivermigrate", v.Version, v.Name)
		}
	}
	if n := len(m.AllVersions()); n != 8 {
		t.Errorf("River has %d migrations, the embedded schema 8: add a migration with the new ones", n)
	}
	res, err := m.Validate(context.Background(), nil)
	if err != nil || !res.OK {
		t.Errorf("River's migrator on our schema: %v %v", err, res)
	}
	plan, err := m.Migrate(context.Background(), rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: true})
	if err != nil || len(plan.Versions) != 0 {
		t.Errorf("River's migrator would apply %v (%v), want nothing", plan, err)
	}
}
