package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"gavel/app/db/dbtest"
	"gavel/app/live"
	"gavel/app/server"
	"gavel/app/server/servertest"
	"gavel/views"
)

// startNamed is start on dbURL with the LISTEN connection named name and
// reconnecting after backoff, so that a test can cut it.
func startNamed(t *testing.T, dbURL, name string, backoff time.Duration) (*testApp, *live.Hub) {
	t.Helper()
	inst := servertest.Start(t, dbURL, nil, func(p *server.Parts) {
		p.ManualSettle = true
		p.Live.AppName, p.Live.Backoff = name, backoff
		noLimits(&p.Web)
	})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	a := &testApp{URL: inst.URL, Client: client, Server: inst.Server.Web(), DB: inst.DB}
	hub := inst.Server.Hub()
	waitFor(t, 5*time.Second, "the listener", func() bool { up, _ := hub.Listening(); return up })
	return a, hub
}

// noteIDs is user's notification ids, oldest first.
func noteIDs(t *testing.T, a *testApp, user int64) []string {
	t.Helper()
	var ids []int64
	if err := a.DB.NewRaw(`SELECT id FROM notifications WHERE user_id = ? ORDER BY id`, user).Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out
}

// quiet fails if s brings a notice within d.
func quiet(t *testing.T, s *sseClient, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev := <-s.Events:
			if ev.Name == views.NoticeEvent {
				t.Errorf("an unexpected notice, id %s: %s", ev.ID, ev.Data)
				return
			}
		case <-timeout:
			return
		}
	}
}

func TestANotificationMadeOnOneInstanceReachesTheUsersStreamOnAnotherAndAReconnectReplaysExactlyTheMissedOnes(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	a := startOn(t, url, nil, noLimits)
	b := startOn(t, url, nil, noLimits)
	seller := a.as(t, "seller")
	lamp := seller.sell(t, "Lamp", 10_000, "24h")
	vase := seller.sell(t, "Vase", 10_000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	aliceID := count(t, a, `SELECT id FROM users WHERE nick = 'alice'`)
	alice.bid(t, lamp, 10_000, "")
	alice.bid(t, vase, 10_000, "")

	// Alice's page is served by instance B, its stream too.
	bAlice := b.newClient()
	bAlice.Client.Jar = alice.Client.Jar
	_, page := bAlice.get(t, "/", "Accept-Language", "en")
	sse, _ := page.Find("body").Attr("sse-connect")
	if !strings.Contains(sse, "after=0") {
		t.Fatalf("alice's page streams %q, want after=0 (she has no notification yet)", sse)
	}
	s := openSSE(t, b.URL+sse, "Cookie", alice.cookies(t), "Accept-Language", "en")
	if s.Resp.StatusCode != 200 {
		t.Fatalf("/events: %d", s.Resp.StatusCode)
	}
	// Bob outbids her through instance A.
	bob.bid(t, lamp, 11_000, "")
	ev := s.next(t, views.NoticeEvent, 5*time.Second)
	ids := noteIDs(t, a, int64(aliceID))
	if len(ids) != 1 || ev.ID != ids[0] {
		t.Fatalf("the notice's id %q, alice's rows %v", ev.ID, ids)
	}
	n := fragment(t, ev.Data)
	if !strings.Contains(n.Text(), "You have been outbid") {
		t.Errorf("notice: %q", n.Text())
	}
	whole, _ := goquery.NewDocumentFromReader(strings.NewReader(ev.Data))
	bell := whole.Find("#" + views.BellID)
	if oob, _ := bell.Attr("hx-swap-oob"); oob != "true" || strings.TrimSpace(bell.Find(`[data-testid="bell-count"]`).Text()) != "1" {
		t.Errorf("the bell out of band: %q %q", oob, bell.Text())
	}
	// Nobody else's stream gets it: bob's stays quiet.
	sb := openSSE(t, a.URL+"/events", "Cookie", bob.cookies(t))
	quiet(t, sb, 300*time.Millisecond)

	// The page closes; two more notices come meanwhile (the lamp's merges
	// into the unread one with a new id, the vase's is new).
	s.Resp.Body.Close()
	last := ev.ID
	alice.bid(t, lamp, 12_000, "")
	bob.bid(t, lamp, 13_000, "")
	bob.bid(t, vase, 11_000, "")
	ids = noteIDs(t, a, int64(aliceID))
	if len(ids) != 2 {
		t.Fatalf("alice's rows after the gap: %v, want two (the lamp's merged)", ids)
	}
	// EventSource reconnects with Last-Event-ID: exactly the missed rows,
	// each once, and nothing else. (Their order is not certain: the stream
	// is registered before the replay is read, so that nothing committed
	// meanwhile is lost, and a row's live notice may come first.)
	r := openSSE(t, b.URL+sse, "Cookie", alice.cookies(t), "Last-Event-ID", last, "Accept-Language", "en")
	var replayed []string
	for range ids {
		replayed = append(replayed, r.next(t, views.NoticeEvent, 5*time.Second).ID)
	}
	slices.Sort(replayed)
	if want := slices.Sorted(slices.Values(ids)); !slices.Equal(replayed, want) {
		t.Errorf("replayed %v, want %v", replayed, want)
	}
	quiet(t, r, 500*time.Millisecond)
	// A reconnect that had everything gets nothing again.
	r2 := openSSE(t, b.URL+sse, "Cookie", alice.cookies(t), "Last-Event-ID", ids[1])
	quiet(t, r2, 500*time.Millisecond)
	// A malformed id is refused, clearly.
	if bad := openSSE(t, b.URL+"/events", "Cookie", alice.cookies(t), "Last-Event-ID", "x1"); bad.Resp.StatusCode != http.StatusBadRequest {
		t.Errorf("Last-Event-ID x1: %d", bad.Resp.StatusCode)
	}
}

func TestAKilledListenConnectionLosesNoNotification(t *testing.T) {
	t.Parallel()
	name := "gavel-notes-test-" + randomHex(4)
	a, hub := startNamed(t, dbtest.URL(t), name, time.Second)
	seller := a.as(t, "seller")
	lamp := seller.sell(t, "Lamp", 10_000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	aliceID := count(t, a, `SELECT id FROM users WHERE nick = 'alice'`)
	alice.bid(t, lamp, 10_000, "")
	s := openSSE(t, a.URL+"/events?after=0", "Cookie", alice.cookies(t))
	time.Sleep(200 * time.Millisecond)

	var killed int
	if err := a.DB.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?`,
		name).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate the listener: %v (%d)", err, killed)
	}
	waitFor(t, 3*time.Second, "the hub to notice", func() bool { up, _ := hub.Listening(); return !up })
	_, before := hub.Listening()
	// Outbid while nobody listens: the NOTIFY is gone, the row is not.
	bob.bid(t, lamp, 11_000, "")
	waitFor(t, 10*time.Second, "a new listener", func() bool { up, n := hub.Listening(); return up && n > before })
	ev := s.next(t, views.NoticeEvent, 10*time.Second)
	if ids := noteIDs(t, a, int64(aliceID)); len(ids) != 1 || ev.ID != ids[0] {
		t.Errorf("after the outage: notice %q, rows %v", ev.ID, ids)
	}
	quiet(t, s, 300*time.Millisecond)
}
