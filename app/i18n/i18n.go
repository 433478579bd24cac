// Package i18n is Gavel's message catalog (Korean and English), the choice of
// a request's language, and number, money and time formatting per language.
package i18n

import (
	"fmt"
	"strconv"
	"time"
	_ "time/tzdata" // the site's zone must load on machines without zoneinfo

	"golang.org/x/text/language"
)

// Lang is a language Gavel speaks.
type Lang string

// The languages, Korean first: it is the default.
const (
	Korean  Lang = "ko"
	English Lang = "en"
)

// Langs lists every language, in the order the switcher shows them.
var Langs = []Lang{Korean, English}

// Zone is where Gavel shows times: an auction site for won.
var Zone = mustZone("Asia/Seoul")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // tzdata is embedded: this cannot fail
	}
	return loc
}

var matcher = language.NewMatcher([]language.Tag{language.Korean, language.English})

// Parse returns the language named by s ("ko", "en") and whether it is one.
// It returns the constant, never s itself: s may be a request's bytes,
// which the connection's next request reuses.
func Parse(s string) (Lang, bool) {
	switch Lang(s) {
	case Korean:
		return Korean, true
	case English:
		return English, true
	}
	return Korean, false
}

// Choose picks a request's language: the cookie set by the switcher, else the
// best match for Accept-Language, else Korean.
func Choose(cookie, acceptLanguage string) Lang {
	if l, ok := Parse(cookie); ok {
		return l
	}
	if acceptLanguage == "" {
		return Korean
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Korean
	}
	tag, _, conf := matcher.Match(tags...)
	if conf == language.No {
		return Korean
	}
	if base, _ := tag.Base(); base.String() == "en" {
		return English
	}
	return Korean
}

// Printer renders messages, numbers, money and times in one language.
type Printer struct {
	lang Lang
}

var printers = map[Lang]*Printer{
	Korean:  {lang: Korean},
	English: {lang: English},
}

// For returns the printer of lang (Korean for an unknown one).
func For(lang Lang) *Printer {
	if p, ok := printers[lang]; ok {
		return p
	}
	return printers[Korean]
}

// Lang returns the printer's language code, for <html lang>.
func (p *Printer) Lang() Lang { return p.lang }

// T returns the message key in the printer's language, formatted with args
// like fmt.Sprintf. An unknown key comes back as itself, so a missing entry
// shows on the page instead of hiding; a test keeps the catalog complete.
func (p *Printer) T(key string, args ...any) string {
	m, ok := catalog[key]
	if !ok {
		return key
	}
	s := m.ko
	if p.lang == English {
		s = m.en
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Number formats n with the language's digit grouping: 1,234,000.
func (p *Printer) Number(n int64) string { return grouped(n, "") }

// Money formats an amount of won: ₩1,234,000.
func (p *Printer) Money(n int64) string { return grouped(n, "₩") }

// grouped is n's sign, unit, then its digits grouped by three with commas,
// as both languages write them (-₩1,234,000). Pages show many amounts, so
// this is done by hand rather than through a formatting library.
func grouped(n int64, unit string) string {
	var buf [32]byte
	b := buf[:0]
	m := uint64(n)
	if n < 0 {
		b, m = append(b, '-'), -m // also right for math.MinInt64
	}
	b = append(b, unit...)
	var db [20]byte
	digits := strconv.AppendUint(db[:0], m, 10)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return string(b)
}

// Time formats t as a date and time in the site's zone.
func (p *Printer) Time(t time.Time) string {
	t = t.In(Zone)
	if p.lang == English {
		return t.Format("Jan 2, 2006 15:04 MST")
	}
	return t.Format("2006. 1. 2. 15:04 MST")
}

// Date formats t as a date in the site's zone.
func (p *Printer) Date(t time.Time) string {
	t = t.In(Zone)
	if p.lang == English {
		return t.Format("Jan 2, 2006")
	}
	return t.Format("2006. 1. 2.")
}

// Remaining formats a time left as H:MM:SS, with days in front past 24 hours
// ("2d 03:04:05" / "2일 03:04:05"). Negative durations read as zero.
func (p *Printer) Remaining(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	days, h, m, sec := s/86400, s/3600%24, s/60%60, s%60
	clock := fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
	if days == 0 {
		return clock
	}
	return p.T("time.days", days) + " " + clock
}

// entry is one message in both languages.
type entry struct{ ko, en string }

// Duration names a whole number of days, hours, minutes or seconds: "1일",
// "3 days", "10 minutes".
func (p *Printer) Duration(d time.Duration) string {
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return p.T(one, n)
		}
		return p.T(many, n)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "duration.day", "duration.days")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "duration.hour", "duration.hours")
	case d >= time.Minute && d%time.Minute == 0:
		return p.T("duration.minutes", int64(d/time.Minute))
	}
	return p.T("duration.seconds", int64(d/time.Second))
}
