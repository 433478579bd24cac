package auth

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Nicknames are shown beside every bid, so two that look alike must not both
// exist, and none may look empty. A nickname is stored NFKC-normalised (full
// width, ligatures and compatibility forms become their plain letters); its
// uniqueness is on NickKey, a confusable skeleton.

// invisibleRune reports whether r draws nothing or changes nothing visible:
// default-ignorable code points (joiners, variation selectors, bidi and
// other format controls, the combining grapheme joiner) and the Hangul
// fillers, which are letters that draw as blanks.
func invisibleRune(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0': // Hangul fillers
		return true
	}
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r) ||
		unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Noncharacter_Code_Point, r)
}

// confusables maps letters and digits that look like a basic Latin letter in
// common fonts to that letter: a small table of the usual impersonations
// (digits for letters, Cyrillic and Greek homoglyphs), not all of Unicode's
// confusables.txt. It is applied before case folding, so a capital I maps
// with the lower-case l it resembles.
var confusables = map[rune]rune{
	'0': 'o', '1': 'l', 'I': 'l', '5': 's',
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
	'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ј': 'j', 'ԁ': 'd', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l',
	'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p', 'С': 'c', 'Т': 't',
	'У': 'y', 'Х': 'x', 'Ѕ': 's', 'І': 'l', 'Ј': 'j', 'Ӏ': 'l',
	// Greek
	'α': 'a', 'ο': 'o', 'ρ': 'p', 'ν': 'v', 'ι': 'i', 'κ': 'k', 'υ': 'u', 'τ': 't',
	'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ζ': 'z', 'Η': 'h', 'Ι': 'l', 'Κ': 'k', 'Μ': 'm', 'Ν': 'n',
	'Ο': 'o', 'Ρ': 'p', 'Τ': 't', 'Υ': 'y', 'Χ': 'x',
}

// NickKey is the skeleton nickname uniqueness is checked on: NFKC, the
// confusables table, full case folding, "rn" as "m", and runs of spaces as
// one. Nicknames with the same key look alike.
func NickKey(nick string) string {
	s := norm.NFKC.String(strings.TrimSpace(nick))
	s = strings.Map(func(r rune) rune {
		if m, ok := confusables[r]; ok {
			return m
		}
		return r
	}, s)
	s = cases.Fold().String(s)
	s = strings.ReplaceAll(s, "rn", "m")
	return strings.Join(strings.Fields(s), " ")
}
