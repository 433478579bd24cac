package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"gavel/app/db/dbtest"
)

// A user's bell and watch list are kept in memory by each instance. What
// changes them on another instance (a watch, an outbid, "mark all read")
// shows on this one's next pages within a second, and at once on the
// instance that made the change.
func TestTheBellAndWatchListCachedOnOneInstanceFollowChangesMadeOnAnother(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	a := startOn(t, dbURL, nil, noLimits)
	b := startOn(t, dbURL, nil, noLimits)
	lamp := a.as(t, "seller").sell(t, "Lamp", 10_000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	room := fmt.Sprintf("/auctions/%d", lamp)

	// Alice's pages on B: fill B's cache (no notification, not watching).
	onB := b.newClient()
	onB.Client.Jar = alice.Client.Jar
	shows := func(c *testApp, wantBell string, wantWatching string) func() bool {
		return func() bool {
			_, doc := c.get(t, room)
			bell := strings.TrimSpace(doc.Find(`[data-testid="bell-count"]`).Text())
			pressed, _ := doc.Find(`[data-testid="watch"]`).Attr("aria-pressed")
			return bell == wantBell && pressed == wantWatching
		}
	}
	if !shows(onB, "", "false")() {
		t.Fatal("alice's first page on B: want no count and not watching")
	}

	// She watches through A: A shows it at once, B within a second.
	if resp, _ := alice.postForm(t, room+"/watch", url.Values{"watch": {"1"}}); resp.StatusCode != 303 {
		t.Fatalf("watch: %d", resp.StatusCode)
	}
	if !shows(alice, "", "true")() {
		t.Error("A does not show the watch it just made")
	}
	waitFor(t, time.Second, "B to show alice watching", shows(onB, "", "true"))

	// Bob outbids her through A: B's bell counts it.
	alice.bid(t, lamp, 10_000, "")
	bob.bid(t, lamp, 11_000, "")
	waitFor(t, time.Second, "B's bell to count the outbid", shows(onB, "1", "true"))

	// She marks all read on A: B's bell clears.
	if resp, _ := alice.postForm(t, "/me/notifications/read", url.Values{"upto": {"0"}}); resp.StatusCode != 303 {
		t.Fatalf("mark all read: %d", resp.StatusCode)
	}
	waitFor(t, time.Second, "B's bell to clear", shows(onB, "", "true"))
}

// A bidder's maximum is kept by each instance that showed it. Raising it
// on another instance (which adds no bid row) shows on this one within a
// second, and at once on the instance that took the raise.
func TestAMaximumCachedOnOneInstanceFollowsARaiseOnAnother(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	a := startOn(t, dbURL, nil, noLimits)
	b := startOn(t, dbURL, nil, noLimits)
	listening(t, b)
	lamp := a.as(t, "seller").sell(t, "Lamp", 10_000, "24h")
	alice := a.as(t, "alice")
	room := fmt.Sprintf("/auctions/%d", lamp)
	onB := b.newClient()
	onB.Client.Jar = alice.Client.Jar
	standing := func(c *testApp) string {
		_, doc := c.get(t, room)
		return doc.Find(`[data-testid="my-standing"]`).Text()
	}
	if st, doc := alice.bid(t, lamp, 20_000, ""); st != 200 {
		t.Fatalf("bid: %d %s", st, doc.Text())
	}
	waitFor(t, time.Second, "B to show her maximum of 20,000", func() bool { return strings.Contains(standing(onB), "20,000") })
	if st, doc := alice.bid(t, lamp, 30_000, ""); st != 200 || doc.Find(`[data-outcome="raised"]`).Length() != 1 {
		t.Fatalf("raise: %d %s", st, doc.Text())
	}
	if got := standing(alice); !strings.Contains(got, "30,000") {
		t.Errorf("A right after the raise: %q, want 30,000", got)
	}
	waitFor(t, time.Second, "B to show the raise", func() bool { return strings.Contains(standing(onB), "30,000") })
}
