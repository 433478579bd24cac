package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"gavel/app/db/dbtest"
	"gavel/app/server"
	"gavel/app/server/servertest"
)

// An instance whose clock runs an hour slow still shows an auction as
// ended when the database (which decides acceptance) says so: pages use
// the instance's clock corrected by the offset it measures.
func TestPagesDecideEndedByTheDatabasesClock(t *testing.T) {
	t.Parallel()
	slow := func() time.Time { return time.Now().Add(-time.Hour) }
	inst := servertest.Start(t, dbtest.URL(t), nil, func(p *server.Parts) { p.LocalClock = slow; p.ManualSettle = true })
	a := (&testApp{URL: inst.URL, DB: inst.DB, Client: &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}).newClient()
	id := a.as(t, "seller").sell(t, "Lamp", 1_000, "1h0m0s")
	// Ended a minute ago by the database's clock (an hour and a minute
	// ahead of this instance's own).
	if _, err := inst.DB.ExecContext(context.Background(), `UPDATE auctions SET ends_at = now() - interval '1 minute',
		starts_at = now() - interval '2 hours' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	_, doc := a.get(t, fmt.Sprintf("/auctions/%d", id))
	if phase, _ := doc.Find(`[data-testid="countdown"]`).Attr("data-phase"); phase != "ended" {
		t.Errorf("the room says %q, want ended", phase)
	}
	if doc.Find(`[data-testid="bid-form"]`).Length() != 0 {
		t.Error("the room still offers the bid form")
	}
}
