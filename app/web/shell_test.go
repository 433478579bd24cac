package web

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"gavel/app/i18n"
	"gavel/views"
	"gavel/views/layout"
	"gavel/views/pages"
	"gavel/views/parts"
)

// The front page a signed-in visitor gets from the shell every signed-in
// visitor shares, with their token, corner, stream URL and cards in it, is
// byte for byte the page rendered for them alone, plain and gzipped; and a
// page that would show the visitor outside the slots is not a shell.
func TestTheSharedShellWithAVisitorsSlotsIsTheirPage(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, i18n.Zone)
	cards := []pages.Card{
		{ID: 1, Title: "Lamp", Image: "/img/1", Seller: "seller", State: parts.State{ID: 1, Status: parts.StatusOpen, Price: 1000, MinNext: 1100, EndsAt: now.Add(time.Hour)}},
		{ID: 2, Title: "Vase <b>", Image: "/img/2", Seller: "bob", State: parts.State{ID: 2, Status: parts.StatusOpen, Price: 5000, BidCount: 3, MinNext: 5500, EndsAt: now.Add(2 * time.Hour)}},
	}
	for _, tc := range []struct {
		lang     i18n.Lang
		user     views.User
		unread   int
		last     int64
		fragment bool
	}{
		{i18n.English, views.User{ID: 5, Nick: "alice", Balance: 1_234_567}, 3, 42, false},
		{i18n.Korean, views.User{ID: 6, Nick: "밥 & <co>", Balance: 0}, 0, 0, false},
		{i18n.English, views.User{ID: 5, Nick: "alice"}, 1, 7, true},
	} {
		token := strings.Repeat("T", len(tokenHole))
		v := views.Ctx{P: i18n.For(tc.lang), User: &tc.user, CSRF: token, Path: "/?page=1", BaseURL: "https://gavel.example",
			Watch: []int64{1, 2}, Unread: tc.unread, LastNote: tc.last}
		l := pages.List{Cards: cards, Page: 1, HasMore: true, Now: now}
		var grid bytes.Buffer
		if err := pages.Cards(v, cards, now).Render(context.Background(), &grid); err != nil {
			t.Fatal(err)
		}
		grid.WriteString(`<form><input name="_csrf" value="` + token + `"></form>`) // as the toggles carry it
		alone := l
		alone.Grid = rawHTML(grid.Bytes())
		comp := pages.Home(v, alone)
		if tc.fragment {
			comp = pages.HomeBody(v, alone)
		}
		var want bytes.Buffer
		if err := comp.Render(context.Background(), &want); err != nil {
			t.Fatal(err)
		}

		b, err := homeShell(context.Background(), v, l, tc.fragment)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := newShell(b)
		if err != nil {
			t.Fatal(err)
		}
		if wantSlots := map[bool]string{false: "acg", true: "g"}[tc.fragment]; string(sh.slots) != wantSlots {
			t.Errorf("slots %q, want %q", sh.slots, wantSlots)
		}
		if bytes.Contains(b, []byte(tc.user.Nick)) || bytes.Contains(b, []byte(token)) {
			t.Error("the shell holds the visitor's name or token")
		}
		gridSp, err := newSpliced(bytes.ReplaceAll(grid.Bytes(), []byte(token), []byte(tokenHole)))
		if err != nil {
			t.Fatal(err)
		}
		var corner bytes.Buffer
		if err := layout.Corner(v).Render(context.Background(), &corner); err != nil {
			t.Fatal(err)
		}
		checkBody(t, want.String(), func(w io.Writer, gzip bool) { writeShell(w, gzip, sh, v, corner.Bytes(), gridSp) })
	}

	// A page showing the visitor's name outside the slots (here: in the
	// search box) is not shared.
	v := views.Ctx{P: i18n.For(i18n.English), User: &views.User{ID: 5, Nick: "alice"}, Path: "/"}
	leak := pages.List{Cards: cards, Now: now, Query: standIn}
	if _, err := homeShell(context.Background(), v, leak, false); err == nil {
		t.Error("a page with the stand-in's name outside the slots became a shell")
	}
}
