package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gavel/app/auction"
)

// adminApp is a site whose operator is the dev account "operator".
func adminApp(t *testing.T) (*testApp, *testApp) {
	t.Helper()
	a := start(t, map[string]string{"ADMINS": "dev:operator", "STARTING_BALANCE": "1000000", "SHORT_AUCTION": "2s",
		"SOFT_CLOSE_WINDOW": "0"}, noLimits)
	return a, a.as(t, "operator")
}

func (a *testApp) act(t *testing.T, path, reason string, more ...string) (int, string) {
	t.Helper()
	v := url.Values{"reason": {reason}}
	for i := 0; i+1 < len(more); i += 2 {
		v.Set(more[i], more[i+1])
	}
	resp, doc := a.postForm(t, path, v)
	return resp.StatusCode, strings.TrimSpace(doc.Find(`[data-testid="admin-error"]`).Text())
}

func TestEveryAdminRouteRefusesOthers(t *testing.T) {
	t.Parallel()
	a, _ := adminApp(t)
	id := a.as(t, "seller").sell(t, "Lamp", 1_000, "1h0m0s")
	other := a.as(t, "nobody")
	for _, path := range []string{"/admin", "/admin/?q=x"} {
		if resp, _ := other.get(t, path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s by a non-operator: %d", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/auctions/%d/cancel", "/auctions/%d/hide", "/auctions/%d/unhide", "/users/%d/suspend", "/users/%d/unsuspend"} {
		p := "/admin" + fmt.Sprintf(path, id)
		if code, _ := other.act(t, p, "because"); code != http.StatusForbidden {
			t.Errorf("POST %s by a non-operator: %d", p, code)
		}
	}
	if resp, _ := a.newClient().get(t, "/admin"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /admin signed out: %d, want a redirect to sign in", resp.StatusCode)
	}
	if n := count(t, a, `SELECT count(*) FROM moderation_log`); n != 0 {
		t.Errorf("refused actions logged %d rows", n)
	}
}

func TestOperatorCancelsAnOpenAuctionWithBidsAndItsPagesSayWhy(t *testing.T) {
	t.Parallel()
	a, op := adminApp(t)
	id := a.as(t, "seller").sell(t, "Fake watch", 1_000, "1h0m0s")
	b := a.as(t, "bidder")
	b.bid(t, id, 50_000, "")
	if code, msg := op.act(t, fmt.Sprintf("/admin/auctions/%d/cancel", id), ""); code != 422 || msg == "" {
		t.Errorf("a cancel without a reason: %d %q", code, msg)
	}
	if code, msg := op.act(t, fmt.Sprintf("/admin/auctions/%d/cancel", id), "Counterfeit"); code != http.StatusSeeOther {
		t.Fatalf("cancel: %d %q", code, msg)
	}
	if n := count(t, a, `SELECT committed FROM users WHERE nick = 'bidder'`); n != 0 {
		t.Errorf("the leader still has %d committed", n)
	}
	_, doc := b.get(t, fmt.Sprintf("/auctions/%d", id))
	if got := doc.Find(`[data-testid="cancel-reason"]`).Text(); !strings.Contains(got, "Counterfeit") {
		t.Errorf("the room's reason: %q", got)
	}
	if code, _ := b.bid(t, id, 60_000, ""); code != http.StatusConflict {
		t.Errorf("a bid after the cancel: %d", code)
	}
	_, doc = op.get(t, "/admin")
	row := doc.Find(`[data-testid="admin-log-row"]`).First().Text()
	if !strings.Contains(row, "operator") || !strings.Contains(row, "Fake watch") || !strings.Contains(row, "Counterfeit") {
		t.Errorf("the log: %q", row)
	}
	if code, _ := op.act(t, fmt.Sprintf("/admin/auctions/%d/cancel", id), "again"); code != http.StatusConflict {
		t.Errorf("cancelling twice: %d", code)
	}
}

// A sold auction cancelled by an operator leaves every balance exactly as
// it was before the sale; money is conserved.
func TestOperatorCancelsASaleAndTheMoneyGoesBack(t *testing.T) {
	t.Parallel()
	a, op := adminApp(t)
	id := a.as(t, "seller").sell(t, "Clock", 10_000, "2s")
	a.as(t, "buyer").bid(t, id, 10_000, "")
	balances := func() map[string]int64 {
		out := map[string]int64{}
		rows, err := a.DB.QueryContext(context.Background(), `SELECT nick, balance FROM users`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			var b int64
			rows.Scan(&n, &b)
			out[n] = b
		}
		return out
	}
	before := balances()
	time.Sleep(2100 * time.Millisecond)
	if _, err := auction.NewSweeper(a.DB, nil).SettleDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := balances(); got["buyer"] != before["buyer"]-10_000 || got["seller"] != before["seller"]+10_000 {
		t.Fatalf("after the sale: %v (before %v)", got, before)
	}
	if code, msg := op.act(t, fmt.Sprintf("/admin/auctions/%d/cancel", id), "Not as described"); code != http.StatusSeeOther {
		t.Fatalf("cancel the sale: %d %q", code, msg)
	}
	if got := balances(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("after the cancel: %v, want %v", got, before)
	}
	if n := count(t, a, `SELECT count(*) FROM ledger WHERE auction_id = ? AND kind IN ('refund', 'reversal')`, id); n != 2 {
		t.Errorf("%d reversing rows", n)
	}
	if n := count(t, a, `SELECT (SELECT sum(balance) FROM users) - (SELECT sum(amount) FROM ledger WHERE kind IN ('signup', 'deposit'))`); n != 0 {
		t.Errorf("won created or destroyed: %d", n)
	}
}

func TestOperatorHidesAListingFromTheLists(t *testing.T) {
	t.Parallel()
	a, op := adminApp(t)
	id := a.as(t, "seller").sell(t, "Spam listing", 1_000, "1h0m0s")
	guest := a.newClient()
	listed := func() bool {
		_, doc := guest.get(t, "/")
		return strings.Contains(doc.Find(`[data-testid="card"]`).Text(), "Spam listing")
	}
	if !listed() {
		t.Fatal("the listing is not on the front page to begin with")
	}
	if code, _ := op.act(t, fmt.Sprintf("/admin/auctions/%d/hide", id), "Spam"); code != http.StatusSeeOther {
		t.Fatalf("hide: %d", code)
	}
	if listed() {
		t.Error("a hidden listing is on the front page")
	}
	if resp, _ := guest.get(t, fmt.Sprintf("/auctions/%d", id)); resp.StatusCode != 200 {
		t.Errorf("its room: %d", resp.StatusCode)
	}
	op.act(t, fmt.Sprintf("/admin/auctions/%d/unhide", id), "Reviewed")
	if !listed() {
		t.Error("an unhidden listing is not back")
	}
	_, doc := op.get(t, "/admin?q=Spam")
	if doc.Find(`[data-testid="admin-auction"]`).Length() != 1 || doc.Find(`[data-testid="admin-log-row"]`).Length() != 2 {
		t.Errorf("the page: %d auctions, %d log rows", doc.Find(`[data-testid="admin-auction"]`).Length(), doc.Find(`[data-testid="admin-log-row"]`).Length())
	}
}

func TestOperatorSuspendsAUser(t *testing.T) {
	t.Parallel()
	a, op := adminApp(t)
	id := a.as(t, "seller").sell(t, "Vase", 1_000, "1h0m0s")
	kept := a.as(t, "seller").sell(t, "Bowl", 1_000, "1h0m0s")
	cheat := a.as(t, "cheat")
	cheat.bid(t, id, 5_000, "")
	cheat.bid(t, kept, 5_000, "")
	cheatID := count(t, a, `SELECT id FROM users WHERE nick = 'cheat'`)

	// Suspended, leading bids standing: signed out at once, the bids stay.
	if code, msg := op.act(t, fmt.Sprintf("/admin/users/%d/suspend", cheatID), "Shill bidding"); code != http.StatusSeeOther {
		t.Fatalf("suspend: %d %q", code, msg)
	}
	if _, doc := cheat.get(t, "/"); strings.Contains(doc.Find(`[data-testid="nick"]`).Text(), "cheat") {
		t.Error("the suspended user is still signed in")
	}
	if resp, _ := cheat.get(t, "/wallet"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the suspended user's wallet: %d", resp.StatusCode)
	}
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE leader_id = ? AND status = 'open'`, cheatID); n != 2 {
		t.Errorf("leading %d, want both bids standing", n)
	}
	// The writer refuses them too, whatever page they held.
	b := auction.NewBidder(a.DB, auction.BidderOptions{})
	defer b.Close()
	other := a.as(t, "other")
	other.bid(t, id, 6_000, "")
	if _, err := b.PlaceBid(context.Background(), auction.BidInput{AuctionID: id, BidderID: int64(cheatID), Amount: 100_000}); err == nil ||
		!strings.Contains(err.Error(), "bid.suspended") {
		t.Errorf("a suspended bidder's bid: %v", err)
	}
	// Lifted, then suspended again with their leading auctions cancelled.
	op.act(t, fmt.Sprintf("/admin/users/%d/unsuspend", cheatID), "Appeal")
	if code, _ := op.act(t, fmt.Sprintf("/admin/users/%d/suspend", cheatID), "Again", "cancel_leading", "1"); code != http.StatusSeeOther {
		t.Fatalf("suspend again: %d", code)
	}
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE id = ? AND status = 'cancelled'`, kept); n != 1 {
		t.Errorf("the auction they led is not cancelled")
	}
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE id = ? AND status = 'open'`, id); n != 1 {
		t.Errorf("the auction someone else leads was cancelled")
	}
	_, doc := op.get(t, "/admin?q=cheat")
	if doc.Find(`[data-testid="admin-user"] [data-testid="suspended"]`).Length() != 1 {
		t.Error("the page does not show the suspension")
	}
	if n := count(t, a, `SELECT count(*) FROM moderation_log`); n != 4 {
		t.Errorf("%d log rows, want suspend, unsuspend, cancel, suspend", n)
	}
}
