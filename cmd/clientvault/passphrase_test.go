package main

import (
	"strings"
	"testing"
)

func TestWeakPassphrase(t *testing.T) {
	for _, c := range []struct {
		p    string
		weak bool
	}{
		{"password1", true},
		{"iloveyou123", true},
		{"qwertyuiop", true},
		{"Summer2026!", true},
		{"clientvault2026", true},
		{"correct horse battery staple", false},
		{"violet-lantern-oboe-gravel", false},
		{"xK9#mP2q!vL7", false},
	} {
		if got := weakPassphrase(c.p) != ""; got != c.weak {
			t.Errorf("weakPassphrase(%q) weak = %v, want %v (%s)", c.p, got, c.weak, weakPassphrase(c.p))
		}
	}
}

// TestInitRefusesCommonPassphrase: the first add (which creates the vault
// and the identity) asks again after one of the most common passphrases,
// and says why.
func TestInitRefusesCommonPassphrase(t *testing.T) {
	e := newPersonEnv(t, "password123", "a long passphrase", "a long passphrase")
	_, errs, code := e.firstAdd("--name", "Jane Doe")
	if code != 0 {
		t.Fatalf("add exited %d: %s", code, errs)
	}
	if e.asked != 3 || !strings.Contains(errs, "among the easiest to guess") || strings.Contains(errs, "password123") {
		t.Fatalf("asked %d times; stderr %q", e.asked, errs)
	}
}
