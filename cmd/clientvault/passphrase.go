package main

import (
	"fmt"
	"math"

	"github.com/trustelem/zxcvbn"
)

// minPassphraseScore is the least zxcvbn score a new passphrase must have:
// 3 means it takes about 10^8 to 10^10 guesses, which the identity file's
// scrypt (about a second a guess) turns into years. The most common
// passphrases, names, dates, keyboard walks and l33t-speak words score 0 to
// 2. zxcvbn (a Go port of Dropbox's estimator, with its lists of 30,000
// common passwords, names and words) is used rather than a list of our own.
const minPassphraseScore = 3

// weakPassphrase says why p is too easy to guess, or "" if it is not. The
// reason names no part of the passphrase.
func weakPassphrase(p string) string {
	r := zxcvbn.PasswordStrength(p, []string{"clientvault", "client", "vault", "esthetician", "salon"})
	if r.Score >= minPassphraseScore {
		return ""
	}
	return fmt.Sprintf("that passphrase is among the easiest to guess (strength %d of 4, about 10^%d guesses: common passwords, names, dates and keyboard patterns are tried first)",
		r.Score, int(math.Log10(max(r.Guesses, 1))))
}
