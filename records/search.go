package records

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// foldSpecial spells the letters that Unicode does not decompose into a
// base letter and an accent the way a person types them without the key:
// "Ødegård" is found by "odegard", "Łukasz" by "lukasz", "Straße" by
// "strasse".
var foldSpecial = map[rune]string{
	'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l", 'ß': "ss", 'ẞ': "ss",
	'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'đ': "d", 'Đ': "d",
	'ð': "d", 'Ð': "d", 'þ': "th", 'Þ': "th", 'ı': "i", 'ħ': "h", 'Ħ': "h",
}

// SearchTokens splits s into the words a search matches against: lower
// case, accents dropped (NFKD, then combining marks removed), letters
// without a decomposition spelled out (foldSpecial), split at spaces and
// punctuation, except that apostrophes and quotes join the letters around
// them ("O'Brien" is one word, "obrien", as NormalizeName has it).
func SearchTokens(s string) []string {
	var toks []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			toks = append(toks, b.String())
			b.Reset()
		}
	}
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case foldSpecial[r] != "":
			b.WriteString(foldSpecial[r])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’' || r == '‘' || r == '"' || r == '`':
			// joins the letters around it
		default:
			flush()
		}
	}
	flush()
	return toks
}

// PhoneDigits returns the digits of a phone number, whatever its
// formatting: "+1 415 555-0142" is "14155550142".
func PhoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
