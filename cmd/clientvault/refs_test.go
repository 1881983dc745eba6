package main

import (
	"strings"
	"testing"
)

// Every command that takes a record takes it the same three ways: its ID,
// a unique prefix of 4 or more digits, or the client's name.
func TestEveryRecordCommandTakesIDPrefixOrName(t *testing.T) {
	e, ids := goldenVault(t)
	prefix := ids[0][:4]
	for n := 4; strings.HasPrefix(ids[1], prefix); n++ {
		prefix = ids[0][:n]
	}
	for _, ref := range []string{ids[0], prefix, "jane doe"} {
		for _, args := range [][]string{
			{"view", ref},
			{"note", ref, "--service", "facial", "--date", "2026-02-20"},
			{"consent", "list", ref},
			{"disclose", "list", ref},
			{"export", ref, "--json"},
			{"audit", "--record", ref},
			{"hold", ref, "--reason", "claim 7"},
			{"release", ref},
			{"unshare", ref, "--with", "Nobody"},
		} {
			out, errOut, code := e.run("", args...)
			if args[0] == "unshare" {
				// No such coworker: the record was found first.
				if code != exitNotFound || !strings.Contains(errOut, "staff") {
					t.Errorf("clientvault %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
				}
				continue
			}
			if code != 0 {
				t.Errorf("clientvault %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
			}
			if args[0] == "audit" && !strings.Contains(out, ids[0]) {
				t.Errorf("audit --record %s: not the record's entries:\n%s", ref, out)
			}
		}
	}
}
