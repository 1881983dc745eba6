package main

import (
	"fmt"
	"strings"
	"testing"
)

// An ID prefix that matches several records lists them by ID in a script,
// and with names and dates of birth for the person at the terminal.
func TestAmbiguousPrefixNamesOnATerminal(t *testing.T) {
	e := newTestEnv(t)
	e.keyAndInit()
	// Enough records that two IDs surely share their first 4 digits.
	var in strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&in, "{\"name\": \"Client Number%04d\", \"dob\": \"1990-01-%02d\"}\n", i, 1+i%28)
	}
	ids := strings.Fields(e.mustRun(in.String(), "add", "--from", "-"))
	seen := map[string]string{}
	var prefix string
	for _, id := range ids {
		if _, ok := seen[id[:4]]; ok {
			prefix = id[:4]
			break
		}
		seen[id[:4]] = id
	}
	if prefix == "" {
		t.Skip("no two IDs share 4 digits (about 1 run in 10^7)")
	}

	_, script, code := e.run("", "view", prefix)
	if code != exitAmbiguous || strings.Contains(script, "Client") || !strings.Contains(script, "  "+seen[prefix]+"\n") {
		t.Fatalf("script: exit %d\n%s", code, script)
	}

	a, _, errOut := e.app("")
	a.StdinTTY, a.StdoutTTY = true, true
	// view offers a list to pick from on a terminal (cmd_find.go); the
	// other commands that take a RECORD name the candidates in the error.
	if code := Run([]string{"consent", "list", prefix}, a); code != exitAmbiguous {
		t.Fatalf("terminal: exit %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if !strings.HasPrefix(lines[0], "clientvault: id prefix matches") || !strings.HasPrefix(lines[len(lines)-1], "hint: ") {
		t.Fatalf("terminal:\n%s", errOut)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if !strings.Contains(l, "  Client Number") || !strings.Contains(l, "  born 1990-01-") {
			t.Errorf("candidate line %q has no name and date of birth", l)
		}
	}
}
