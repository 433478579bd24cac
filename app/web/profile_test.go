package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

func TestProfileNicknameValidationInBothLanguages(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	a.as(t, "Taken")
	uid := a.loginDev(t, "changer")

	for _, tc := range []struct{ nick, lang, want string }{
		{"a", "ko", "닉네임은 2자 이상 20자 이하로 입력해 주세요."},
		{"a", "en", "Your nickname must be 2 to 20 characters long."},
		{"123456789012345678901", "en", "Your nickname must be 2 to 20 characters long."},
		{"<script>", "en", "Your nickname may only use letters, digits, spaces, '.', '_' and '-'."},
		{"<script>", "ko", "닉네임에는 글자, 숫자, 공백, 마침표(.), 밑줄(_), 하이픈(-)만 쓸 수 있습니다."},
		{"taken", "en", "Someone else already uses that nickname."},
		{" TAKEN ", "ko", "이미 다른 사람이 쓰고 있는 닉네임입니다."},
	} {
		resp, doc := a.postForm(t, "/me/profile", url.Values{"nick": {tc.nick}}, "Accept-Language", tc.lang)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%q (%s): status %d", tc.nick, tc.lang, resp.StatusCode)
		}
		if got := doc.Find(`[data-testid="error-nick"]`).Text(); got != tc.want {
			t.Errorf("%q (%s): error %q, want %q", tc.nick, tc.lang, got, tc.want)
		}
		if doc.Find(`.field--invalid input[aria-invalid="true"]`).Length() != 1 {
			t.Errorf("%q: field not marked invalid", tc.nick)
		}
	}
	var nick string
	a.DB.NewRaw(`SELECT nick FROM users WHERE id = ?`, uid).Scan(context.Background(), &nick)
	if nick != "changer" {
		t.Errorf("refused changes altered the nick to %q", nick)
	}

	// Plain form: trimmed, saved, redirected, shown in the header.
	resp, _ := a.postForm(t, "/me/profile", url.Values{"nick": {"  새 이름  "}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/me/profile?saved=1" {
		t.Fatalf("save: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc := a.get(t, "/me/profile?saved=1")
	if doc.Find(`[data-testid="flash"]`).Length() != 1 || doc.Find(`[data-testid="nick"]`).Text() != "안녕하세요, 새 이름님" {
		t.Errorf("after saving: flash %d, header %q", doc.Find(`[data-testid="flash"]`).Length(), doc.Find(`[data-testid="nick"]`).Text())
	}
	// Changing only the case of one's own nick is fine.
	if resp, _ := a.postForm(t, "/me/profile", url.Values{"nick": {"새 이름"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("saving the same nick: %d", resp.StatusCode)
	}

	// htmx: the form alone comes back, with the error or the confirmation.
	resp, doc = a.postForm(t, "/me/profile", url.Values{"nick": {"x"}}, "HX-Request", "true", "Accept-Language", "en")
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find("header.site-header").Length() != 0 ||
		doc.Find(`form[data-testid="profile-form"] [data-testid="error-nick"]`).Length() != 1 {
		t.Errorf("htmx error: %d, header %d", resp.StatusCode, doc.Find("header.site-header").Length())
	}
	resp, doc = a.postForm(t, "/me/profile", url.Values{"nick": {"htmx-nick"}}, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || doc.Find(`form[data-testid="profile-form"] [data-testid="flash"]`).Length() != 1 {
		t.Errorf("htmx save: %d", resp.StatusCode)
	}
	if v, _ := doc.Find(`input[name="nick"]`).Attr("value"); v != "htmx-nick" {
		t.Errorf("htmx form value %q", v)
	}
	// The header's nickname changes with it, out of band.
	if box := doc.Find(`#user-box[hx-swap-oob="true"] [data-testid="nick"]`); box.Text() != "안녕하세요, htmx-nick님" {
		t.Errorf("htmx save: header nick %q", box.Text())
	}

	// The provider's avatar is shown.
	if _, err := a.DB.NewRaw(`UPDATE users SET avatar_url = 'https://avatars.example/u.png' WHERE id = ?`, uid).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, doc = a.get(t, "/me/profile")
	if src, _ := doc.Find(`img[data-testid="avatar"]`).Attr("src"); src != "https://avatars.example/u.png" {
		t.Errorf("avatar: %q", src)
	}
}
