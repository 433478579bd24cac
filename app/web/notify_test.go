package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// bellCount is the unread count the page's header shows ("" for none).
func bellCount(doc *goquery.Document) string {
	return strings.TrimSpace(doc.Find(`[data-testid="bell"] [data-testid="bell-count"]`).Text())
}

func TestOutbidWithNoTabOpenShowsOnTheNextPageLoadAndOnTheNotificationsPage(t *testing.T) {
	t.Parallel()
	a := start(t, nil, noLimits)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 10_000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	if _, doc := alice.get(t, "/"); doc.Find(`[data-testid="bell"]`).Length() != 1 || bellCount(doc) != "" {
		t.Fatalf("alice's bell before anything: %q", doc.Find(`[data-testid="bell"]`).Text())
	}
	if st, _ := alice.bid(t, id, 10_000, ""); st != http.StatusOK {
		t.Fatalf("alice's bid: %d", st)
	}
	// Alice has no page open; bob outbids her twice.
	bob.bid(t, id, 11_000, "")
	alice.bid(t, id, 12_000, "")
	bob.bid(t, id, 20_000, "")
	_, doc := alice.get(t, "/", "Accept-Language", "en")
	if got := bellCount(doc); got != "1" {
		t.Errorf("alice's bell after two outbids: %q, want 1", got)
	}
	if name := strings.Join(strings.Fields(doc.Find(`[data-testid="bell"]`).Text()), " "); !strings.HasSuffix(name, "Notifications, 1 unread") {
		t.Errorf("the bell says %q", name)
	}
	_, doc = alice.get(t, "/me/notifications", "Accept-Language", "en")
	notes := doc.Find(`[data-testid="note"]`)
	if notes.Length() != 1 {
		t.Fatalf("%d notifications on alice's page, want 1 (two outbids on one auction are one row)", notes.Length())
	}
	if href, _ := notes.Find("a").Attr("href"); href != fmt.Sprintf("/auctions/%d", id) ||
		!strings.Contains(notes.Text(), "You have been outbid. The price is now ₩13,000") || !notes.HasClass("note--unread") {
		t.Errorf("alice's notification: %q (%s)", notes.Text(), href)
	}
	// In Korean too.
	_, doc = alice.get(t, "/me/notifications", "Accept-Language", "ko")
	if !strings.Contains(doc.Find(`[data-testid="note"]`).Text(), "더 높은 입찰이 들어왔습니다") {
		t.Errorf("korean: %q", doc.Find(`[data-testid="note"]`).Text())
	}

	// Someone else sees none of it.
	_, doc = bob.get(t, "/me/notifications", "Accept-Language", "en")
	// Bob was outbid once himself (by alice's 12,000), and sees that alone.
	if !strings.Contains(doc.Find(`[data-testid="note-list"]`).Text(), "₩12,000") || bellCount(doc) != "1" {
		t.Errorf("bob's page: %q, bell %q", doc.Find(`[data-testid="note-list"]`).Text(), bellCount(doc))
	}
	if n := doc.Find(`[data-testid="note"]`).Length(); n != 1 {
		t.Errorf("bob sees %d notifications, want his own one", n)
	}
	if _, doc := seller.get(t, "/me/notifications"); doc.Find(`[data-testid="note"]`).Length() != 0 {
		t.Errorf("the seller sees %d notifications", doc.Find(`[data-testid="note"]`).Length())
	}
	// Signed out: sign in first.
	if resp, _ := a.newClient().get(t, "/me/notifications"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d", resp.StatusCode)
	}

	// Mark all read: without the CSRF token nothing changes.
	upto, _ := doc.Find(`input[name="upto"]`).Attr("value")
	if resp, _ := alice.postForm(t, "/me/notifications/read", url.Values{"_csrf": {"forged"}, "upto": {"0"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("mark read with a forged token: %d", resp.StatusCode)
	}
	if _, doc := alice.get(t, "/"); bellCount(doc) != "1" {
		t.Errorf("a refused mark-read changed the bell: %q", bellCount(doc))
	}
	_ = upto
	_, doc = alice.get(t, "/me/notifications")
	upto, _ = doc.Find(`form[action="/me/notifications/read"] input[name="upto"]`).Attr("value")
	if resp, _ := alice.postForm(t, "/me/notifications/read", url.Values{"upto": {upto}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark read: %d", resp.StatusCode)
	}
	_, doc = alice.get(t, "/me/notifications?marked=1")
	if bellCount(doc) != "" || doc.Find(`.note--unread`).Length() != 0 || doc.Find(`[data-testid="note"]`).Length() != 1 {
		t.Errorf("after mark read: bell %q, %d unread rows", bellCount(doc), doc.Find(`.note--unread`).Length())
	}
	// Bob's stay unread.
	if _, doc := bob.get(t, "/"); bellCount(doc) != "1" {
		t.Errorf("alice's mark-read touched bob's: %q", bellCount(doc))
	}
	if resp, _ := alice.get(t, "/me/notifications?before=x"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad page: %d", resp.StatusCode)
	}
}

func TestWatchToggleWorksWithAndWithoutJavaScriptAndSellersSeeOnlyTheCount(t *testing.T) {
	t.Parallel()
	a := start(t, nil, noLimits)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 10_000, "24h")
	room := fmt.Sprintf("/auctions/%d", id)
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	_, doc := alice.get(t, room)
	btn := doc.Find(`[data-testid="watch-form"] [data-testid="watch"]`)
	if p, _ := btn.Attr("aria-pressed"); p != "false" {
		t.Fatalf("alice's toggle before: %q", p)
	}
	// htmx: the toggle comes back in place, pressed.
	resp, frag := alice.postForm(t, room+"/watch", url.Values{"watch": {"1"}, "next": {room}}, "HX-Request", "true")
	if p, _ := frag.Find(`[data-testid="watch"]`).Attr("aria-pressed"); resp.StatusCode != 200 || p != "true" {
		t.Fatalf("htmx watch: %d, pressed %q", resp.StatusCode, p)
	}
	// Twice is once.
	alice.postForm(t, room+"/watch", url.Values{"watch": {"1"}}, "HX-Request", "true")
	// Without JavaScript: a post and a redirect back.
	resp, _ = bob.postForm(t, room+"/watch", url.Values{"watch": {"1"}, "next": {room}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != room {
		t.Fatalf("plain watch: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = bob.postForm(t, room+"/watch", url.Values{"watch": {"1"}, "next": {"https://evil.example/"}})
	if resp.Header.Get("Location") != "/" {
		t.Errorf("an off-site next: %q, want the front page", resp.Header.Get("Location"))
	}
	resp, _ = bob.postForm(t, room+"/watch", url.Values{"watch": {"1"}})
	if resp.Header.Get("Location") != room {
		t.Errorf("no next: %q, want the room", resp.Header.Get("Location"))
	}
	if n := count(t, a, `SELECT count(*) FROM watches WHERE auction_id = ?`, id); n != 2 {
		t.Errorf("%d watches, want 2", n)
	}
	_, doc = seller.get(t, room, "Accept-Language", "en")
	if got := doc.Find(`[data-testid="watchers"]`).Text(); got != "2 watching" || strings.Contains(doc.Text(), "alice") ||
		doc.Find(`[data-testid="watch-form"]`).Length() != 0 {
		t.Errorf("the seller's room: %q", got)
	}
	// Watch lists are their owners' alone.
	_, doc = alice.get(t, "/me/watching")
	if doc.Find(`[data-testid="watched"]`).Length() != 1 {
		t.Errorf("alice watches %d", doc.Find(`[data-testid="watched"]`).Length())
	}
	if _, doc := a.as(t, "cee").get(t, "/me/watching"); doc.Find(`[data-testid="watched"]`).Length() != 0 {
		t.Error("cee sees someone's watch list")
	}
	// The seller may not watch their own listing: refused, nothing kept.
	resp, frag = seller.postForm(t, room+"/watch", url.Values{"watch": {"1"}}, "HX-Request", "true", "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(frag.Text(), "You cannot watch your own listing") {
		t.Errorf("seller watching: %d %q", resp.StatusCode, frag.Text())
	}
	resp, _ = seller.postForm(t, room+"/watch", url.Values{"watch": {"1"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("seller watching, plain: %d", resp.StatusCode)
	}
	for _, bad := range []string{"", "yes", "2"} {
		if resp, _ := alice.postForm(t, room+"/watch", url.Values{"watch": {bad}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("watch=%q: %d", bad, resp.StatusCode)
		}
	}
	if resp, _ := alice.postForm(t, "/auctions/999999/watch", url.Values{"watch": {"1"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("no such auction: %d", resp.StatusCode)
	}
	// Unwatch.
	resp, frag = alice.postForm(t, room+"/watch", url.Values{"watch": {"0"}}, "HX-Request", "true")
	if p, _ := frag.Find(`[data-testid="watch"]`).Attr("aria-pressed"); p != "false" {
		t.Errorf("unwatch: %q", p)
	}
	if n := count(t, a, `SELECT count(*) FROM watches WHERE auction_id = ?`, id); n != 1 {
		t.Errorf("%d watches after alice's unwatch, want 1", n)
	}
}

func TestEveryCardHasTheVisitorsOwnWatchToggle(t *testing.T) {
	t.Parallel()
	a := start(t, nil, noLimits)
	seller := a.as(t, "seller")
	lamp := seller.sell(t, "Lamp", 10_000, "24h")
	vase := seller.sell(t, "Vase", 10_000, "24h")
	alice, bob := a.as(t, "alice"), a.as(t, "bob")
	alice.postForm(t, fmt.Sprintf("/auctions/%d/watch", lamp), url.Values{"watch": {"1"}})
	pressed := func(c *testApp, id int64) string {
		t.Helper()
		_, doc := c.get(t, "/")
		btn := doc.Find(fmt.Sprintf(`#auction-%d [data-testid="watch"]`, id))
		if btn.Length() != 1 {
			return "none"
		}
		p, _ := btn.Attr("aria-pressed")
		return p
	}
	// Twice each: the second page comes from the front page's cache.
	for range 2 {
		if got := pressed(alice, lamp); got != "true" {
			t.Errorf("alice's lamp: %q", got)
		}
		if got := pressed(alice, vase); got != "false" {
			t.Errorf("alice's vase: %q", got)
		}
		if got := pressed(bob, lamp); got != "false" {
			t.Errorf("bob's lamp (alice watches it): %q", got)
		}
		if got := pressed(a.newClient(), lamp); got != "none" {
			t.Errorf("a signed-out visitor's card: %q", got)
		}
	}
	// Each toggle carries its visitor's own CSRF token.
	_, doc := bob.get(t, "/")
	tok, _ := doc.Find(fmt.Sprintf(`#auction-%d [data-testid="watch-form"] input[name="_csrf"]`, lamp)).Attr("value")
	if meta, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content"); tok == "" || tok != meta {
		t.Errorf("bob's card token %q, page token %q", tok, meta)
	}
	// A search (not cached) has them too.
	_, doc = alice.get(t, "/?q=Lamp")
	if p, _ := doc.Find(fmt.Sprintf(`#auction-%d [data-testid="watch"]`, lamp)).Attr("aria-pressed"); p != "true" {
		t.Errorf("search result: %q", p)
	}
}

func TestTheNotificationsPageIsPagedNewestFirst(t *testing.T) {
	t.Parallel()
	a := start(t, nil, noLimits)
	seller := a.as(t, "seller")
	id := seller.sell(t, "Lamp", 10_000, "24h")
	alice := a.as(t, "alice")
	// 35 old notifications, as rows (their causes are tested elsewhere).
	if _, err := a.DB.Exec(`INSERT INTO notifications (user_id, auction_id, kind, amount, read_at)
		SELECT u.id, ?, 'lost', 1000 * g, now() FROM users u, generate_series(1, 35) g WHERE u.nick = 'alice'`, id); err != nil {
		t.Fatal(err)
	}
	_, doc := alice.get(t, "/me/notifications", "Accept-Language", "en")
	notes := doc.Find(`[data-testid="note"]`)
	if notes.Length() != 30 || !strings.Contains(notes.First().Text(), "₩35,000") {
		t.Fatalf("first page: %d rows, first %q", notes.Length(), notes.First().Text())
	}
	older, ok := doc.Find(`[data-testid="older-notes"]`).Attr("href")
	if !ok {
		t.Fatal("no link to older notifications")
	}
	if doc.Find(`[data-testid="mark-all-read"]`).Length() != 0 {
		t.Error("mark all read offered with nothing unread")
	}
	_, doc = alice.get(t, older, "Accept-Language", "en")
	notes = doc.Find(`[data-testid="note"]`)
	if notes.Length() != 5 || !strings.Contains(notes.Last().Text(), "₩1,000") || doc.Find(`[data-testid="older-notes"]`).Length() != 0 {
		t.Errorf("second page: %d rows, last %q", notes.Length(), notes.Last().Text())
	}
}
