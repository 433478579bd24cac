package i18n

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

func TestChooseLanguageCookieThenAcceptLanguageThenKorean(t *testing.T) {
	for _, tc := range []struct {
		cookie, accept string
		want           Lang
	}{
		{"en", "ko-KR,ko;q=0.9", English},
		{"ko", "en-US", Korean},
		{"", "en-US,en;q=0.9", English},
		{"", "ko-KR,en;q=0.5", Korean},
		{"", "fr-FR,en;q=0.5", English},
		{"", "fr-FR", Korean},
		{"", "", Korean},
		{"xx", "garbage;;q", Korean},
	} {
		if got := Choose(tc.cookie, tc.accept); got != tc.want {
			t.Errorf("Choose(%q, %q) = %s, want %s", tc.cookie, tc.accept, got, tc.want)
		}
	}
}

func TestMoneyAndNumbersPerLanguage(t *testing.T) {
	for _, l := range Langs {
		p := For(l)
		if got := p.Money(1234000); got != "₩1,234,000" {
			t.Errorf("%s: Money = %q", l, got)
		}
		if got := p.Money(-5000); got != "-₩5,000" {
			t.Errorf("%s: negative Money = %q", l, got)
		}
	}
	if got := For(Korean).Remaining(26*time.Hour + 3*time.Minute + 4*time.Second); got != "1일 02:03:04" {
		t.Errorf("Korean Remaining = %q", got)
	}
	if got := For(English).Remaining(59 * time.Second); got != "00:00:59" {
		t.Errorf("English Remaining = %q", got)
	}
	if got := For(English).Remaining(-time.Second); got != "00:00:00" {
		t.Errorf("negative Remaining = %q", got)
	}
}

// Numbers are grouped as golang.org/x/text/message groups them for each
// language (which Number used until it was done by hand, for speed).
func TestNumbersAreGroupedAsTheLanguageGroupsThem(t *testing.T) {
	ns := []int64{0, 1, -1, 9, 10, 99, 100, 999, 1000, -1000, 9999, 10000, 123456, 999999, 1000000,
		1234567, -1234567, 1 << 40, math.MaxInt64, math.MinInt64 + 1}
	for n := int64(1); n < math.MaxInt64/7; n = n*7 + 3 {
		ns = append(ns, n, -n, n+1)
	}
	for _, l := range Langs {
		ref := message.NewPrinter(language.Make(string(l)))
		p := For(l)
		for _, n := range ns {
			if got, want := p.Number(n), ref.Sprintf("%d", n); got != want {
				t.Errorf("%s: Number(%d) = %q, want %q", l, n, got, want)
			}
		}
	}
	if got := For(Korean).Money(math.MinInt64); got != "-₩9,223,372,036,854,775,808" {
		t.Errorf("Money(MinInt64) = %q", got)
	}
}

func TestCatalogHasBothLanguagesForEveryMessage(t *testing.T) {
	verb := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	for k, e := range catalog {
		if strings.TrimSpace(e.ko) == "" || strings.TrimSpace(e.en) == "" {
			t.Errorf("%s: missing a language: %+v", k, e)
		}
		if a, b := verb.FindAllString(e.ko, -1), verb.FindAllString(e.en, -1); strings.Join(a, "") != strings.Join(b, "") {
			t.Errorf("%s: format verbs differ: ko %v, en %v", k, a, b)
		}
	}
}

// TestEveryKeyUsedInCodeIsInTheCatalog scans the Go and templ sources for
// T("key") calls and message keys in Key: "…" fields, so that no page shows
// a raw key.
func TestEveryKeyUsedInCodeIsInTheCatalog(t *testing.T) {
	use := regexp.MustCompile(`\bT\("([a-z0-9_]+\.[a-z0-9_.]+)"`)
	root := filepath.Join("..", "..")
	found := 0
	for _, dir := range []string{"app", "views"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, "_templ.go") {
				return err
			}
			if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".templ") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range use.FindAllStringSubmatch(string(b), -1) {
				found++
				if !Has(m[1]) {
					t.Errorf("%s uses %q, which is not in the catalog", path, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found < 10 {
		t.Fatalf("found only %d message uses: the scan is broken", found)
	}
}

func TestDurationNamesTheLargestWholeUnit(t *testing.T) {
	for d, want := range map[time.Duration][2]string{
		10 * time.Minute:   {"10분", "10 minutes"},
		time.Hour:          {"1시간", "1 hour"},
		6 * time.Hour:      {"6시간", "6 hours"},
		24 * time.Hour:     {"1일", "1 day"},
		72 * time.Hour:     {"3일", "3 days"},
		30 * time.Second:   {"30초", "30 seconds"},
		90 * time.Minute:   {"90분", "90 minutes"},
		7 * 24 * time.Hour: {"7일", "7 days"},
	} {
		if got := For(Korean).Duration(d); got != want[0] {
			t.Errorf("Korean %v = %q", d, got)
		}
		if got := For(English).Duration(d); got != want[1] {
			t.Errorf("English %v = %q", d, got)
		}
	}
}

// A parsed language does not share the bytes it was parsed from: a
// request's query or cookie is overwritten by the connection's next one.
func TestParseKeepsNothingOfItsInput(t *testing.T) {
	b := []byte("en")
	l, ok := Parse(unsafe.String(&b[0], len(b)))
	copy(b, "ko")
	if !ok || l != English {
		t.Errorf("parsed %q (%v), then its input changed: %q", "en", ok, l)
	}
}
