package views

import (
	"testing"

	"gavel/app/i18n"
)

// The language links of a plain path, built without parsing it, are what
// parsing gives; any other path is parsed.
func TestLangURLOfAPlainPathIsWhatParsingGives(t *testing.T) {
	for _, path := range []string{"/", "/auctions/12", "/me/watching", "/a-b_c.d~e/", "/?view=new&lang=en", "/search?q=%EB%9E%A8%ED%94%84", "/l%C3%A4mp", "/x y"} {
		c := Ctx{P: i18n.For(i18n.Korean), Path: path, BaseURL: "https://gavel.example/"}
		for _, lang := range []string{"", "ko", "en"} {
			if got, want := c.LangURL(lang), c.parsedLangURL(lang); got != want {
				t.Errorf("%q, %q: %q, parsed %q", path, lang, got, want)
			}
		}
	}
	if got := (Ctx{P: i18n.For(i18n.Korean), Path: "/"}).LangURL("en"); got != "" {
		t.Errorf("without BASE_URL: %q", got)
	}
}

func TestEventsURLNamesTheAuctionsTheLanguageAndTheLastNotice(t *testing.T) {
	c := Ctx{P: i18n.For(i18n.English), Watch: []int64{3, 14, 159}, Summaries: true, User: &User{}, LastNote: 26}
	if got, want := c.EventsURL(), "/events?auctions=3,14,159&summary=1&lang=en&after=26"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	c = Ctx{P: i18n.For(i18n.Korean), User: &User{}}
	if got, want := c.EventsURL(), "/events?lang=ko&after=0"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := (Ctx{P: i18n.For(i18n.Korean)}).EventsURL(); got != "" {
		t.Errorf("nothing to stream: %q", got)
	}
}
