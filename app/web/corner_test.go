package web

import (
	"bytes"
	"context"
	"testing"

	"gavel/app/i18n"
	"gavel/views"
	"gavel/views/layout"
)

// A kept corner is the one rendered for the view as it is: a change of
// anything the corner shows (language, nick, balance, unread count, token)
// renders it again, and a visitor never gets another's.
func TestAKeptCornerIsTheViewsOwn(t *testing.T) {
	cm := newCornerMemo(2)
	first := views.Ctx{P: i18n.For(i18n.English), User: &views.User{ID: 5, Nick: "alice", Balance: 1000}, Unread: 1, CSRF: "token-a"}
	// Each step changes one thing of the view before it.
	steps := []struct {
		what   string
		change func(v *views.Ctx)
	}{
		{"first", func(*views.Ctx) {}},
		{"the same again", func(*views.Ctx) {}},
		{"another language", func(v *views.Ctx) { v.P = i18n.For(i18n.Korean) }},
		{"a new nick", func(v *views.Ctx) { v.User.Nick = "alice <b>" }},
		{"a new balance", func(v *views.Ctx) { v.User.Balance = 2500 }},
		{"no unread", func(v *views.Ctx) { v.Unread = 0 }},
		{"a new token", func(v *views.Ctx) { v.CSRF = "token-b" }},
		{"another visitor", func(v *views.Ctx) { v.User.ID = 6 }},
		{"a third visitor, past the cap", func(v *views.Ctx) { v.User.ID = 7 }},
		{"the first again", func(v *views.Ctx) { *v = first }},
	}
	v := first
	for _, st := range steps {
		u := *v.User
		v.User = &u
		st.change(&v)
		got, err := cm.get(context.Background(), v)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := layout.Corner(v).Render(context.Background(), &want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: kept\n%s\nwant\n%s", st.what, got, want.Bytes())
		}
	}
	if len(cm.m) > 2 {
		t.Errorf("%d corners kept, the cap is 2", len(cm.m))
	}
}
