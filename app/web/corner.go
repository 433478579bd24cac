package web

import (
	"bytes"
	"context"
	"sync"

	"gavel/app/i18n"
	"gavel/views"
	"gavel/views/layout"
)

// cornerMemo keeps each signed-in visitor's last rendered header corner
// (the bell and the user box) with everything it shows: a visitor who
// loads the front page again with nothing changed gets the same bytes
// without a render. Past max visitors it starts again empty.
type cornerMemo struct {
	max int

	mu sync.Mutex
	m  map[int64]cornerEntry // by user id
}

// cornerKey is everything layout.Corner reads from a signed-in view.
type cornerKey struct {
	lang   i18n.Lang
	user   views.User
	unread int
	csrf   string
}

type cornerEntry struct {
	key  cornerKey
	html []byte
}

func newCornerMemo(max int) *cornerMemo {
	return &cornerMemo{max: max, m: map[int64]cornerEntry{}}
}

// get returns v's corner; v must be signed in. The bytes are shared:
// callers only read them.
func (cm *cornerMemo) get(ctx context.Context, v views.Ctx) ([]byte, error) {
	k := cornerKey{lang: v.P.Lang(), user: *v.User, unread: v.Unread, csrf: v.CSRF}
	cm.mu.Lock()
	e, ok := cm.m[k.user.ID]
	cm.mu.Unlock()
	if ok && e.key == k {
		return e.html, nil
	}
	var buf bytes.Buffer
	if err := layout.Corner(v).Render(ctx, &buf); err != nil {
		return nil, err
	}
	cm.mu.Lock()
	if len(cm.m) >= cm.max {
		cm.m = map[int64]cornerEntry{}
	}
	cm.m[k.user.ID] = cornerEntry{key: k, html: buf.Bytes()}
	cm.mu.Unlock()
	return buf.Bytes(), nil
}
