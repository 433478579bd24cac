package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gavel/app/fixture"
)

// FuzzEditForm edits a listing with any title and description, and moves
// its photo to any position: never a 5xx; the listing changes exactly
// when the edit was accepted, to what was typed (cleaned as the sell form
// cleans it), and a refused move changes nothing.
func FuzzEditForm(f *testing.F) {
	f.Add("Brass lamp", "Works", "0")
	f.Add("", "", "")
	f.Add(strings.Repeat("x", 101), strings.Repeat("y", 2001), "-1")
	f.Add(" \t\n", "\x00", "7")
	f.Add("a\rb", "<script>alert(1)</script>", "8")
	f.Add("\xff\xfe", "line\r\nbreak", "99999999999999999999")
	a := startFuzzApp(f)
	id := fixture.Auction(f, a.db, a.userID, "Lamp", 1_000, time.Hour)
	var img int64
	if err := a.db.QueryRow(`SELECT image_id FROM auctions WHERE id = ?`, id).Scan(&img); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, description, to string) {
		var before string
		if err := a.db.QueryRow(`SELECT title || '|' || description FROM auctions WHERE id = ?`, id).Scan(&before); err != nil {
			t.Fatal(err)
		}
		st, _, body := a.post(t, a.c, a.csrf, fmt.Sprintf("/auctions/%d/edit", id), url.Values{"title": {title}, "description": {description}})
		noServerError(t, fmt.Sprintf("edit %q %q", title, description), st, body)
		var after, stored string
		if err := a.db.QueryRow(`SELECT title || '|' || description, title FROM auctions WHERE id = ?`, id).Scan(&after, &stored); err != nil {
			t.Fatal(err)
		}
		switch {
		case st == http.StatusNoContent: // accepted: htmx is sent to the room
			if stored == "" || strings.ContainsAny(stored, "\x00\r") {
				t.Fatalf("edit %q stored title %q", title, stored)
			}
		case after != before:
			t.Fatalf("edit refused with %d, yet %q -> %q", st, before, after)
		}
		st, _, body = a.post(t, a.c, a.csrf, fmt.Sprintf("/auctions/%d/photos/%d/move", id, img), url.Values{"to": {to}})
		noServerError(t, fmt.Sprintf("move to %q", to), st, body)
		var n int
		if err := a.db.QueryRow(`SELECT count(*) FROM auction_photos p JOIN auctions a ON a.id = p.auction_id AND a.image_id = p.image_id
			WHERE p.auction_id = ? AND p.position = 0`, id).Scan(&n); err != nil || n != 1 {
			t.Fatalf("after moving to %q (%d): the cover is not the first photo (%d, %v)", to, st, n, err)
		}
	})
}
