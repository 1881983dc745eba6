package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestCLIRekeyRotate: rekey --rotate with a new key file; the old key opens
// nothing afterwards, the vault verifies, the coworker is refused until
// they run the printed trust line; then the recovery key alone is replaced.
func TestCLIRekeyRotate(t *testing.T) {
	c := newCLI(t)
	c.keygen("owner.key")
	bea := c.keygen("bea.key")
	c.ok("init", "--recovery-out", c.path("recovery.txt"))
	jane := strings.TrimSpace(c.ok("add", "--name", clientName, "--phone", clientPhone))
	trust := strings.Fields(c.ok("staff", "add", "Bea", bea))
	c.ok("consent", "add", jane, "--to", "Bea", "--scope", "contact,health", "--purpose", "covering Tuesdays",
		"--method", "written", "--evidence", "form C-12", "--obtained-by", "Olivia Owner")
	c.ok("share", jane, "--with", "Bea")
	c.as("bea.key", func() {
		c.ok("trust", trust[2])
		c.ok("view", jane)
	})

	c.fails(exitUsage, "rekey", "--keep-identity")
	c.fails(exitUsage, "rekey", "--keep-identity", "--recovery", "age1notakey")
	c.fails(exitUsage, "rekey", "--keep-identity", "--to", c.path("owner.key"), "--rotate")
	c.keygen("new.key")
	out := c.ok("rekey", "--rotate", "--to", c.path("new.key"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "Bea: clientvault trust cvowner1") || strings.Contains(out, trust[2]) {
		t.Fatalf("rekey --rotate printed %q, want Bea's new trust line", out)
	}
	newTrust := strings.Fields(lines[0])[3]
	c.env["CLIENTVAULT_IDENTITY"] = c.path("new.key")
	c.ok("verify")
	c.ok("audit", "--verify")
	if out := c.ok("view", jane); !strings.Contains(out, clientPhone) {
		t.Errorf("view after the rotation:\n%s", out)
	}
	john := strings.TrimSpace(c.ok("add", "--name", "John Roe"))
	c.as("owner.key", func() {
		c.fails(exitWrongKey, "view", jane)
		c.fails(exitWrongKey, "view", john)
	})
	c.as("bea.key", func() {
		c.fails(exitOwnerUnknown, "view", jane)
		c.ok("trust", newTrust)
		if out := c.ok("view", jane); !strings.Contains(out, clientPhone) {
			t.Errorf("the coworker's view after trusting the new key:\n%s", out)
		}
	})

	// The recovery key alone, keeping the identity; --json says what.
	rec := c.keygen("recovery2.key")
	var res struct {
		Identity string `json:"identity"`
		Recovery string `json:"recovery"`
	}
	if err := json.Unmarshal([]byte(c.ok("rekey", "--keep-identity", "--recovery", rec, "--json")), &res); err != nil ||
		res.Recovery != rec || res.Identity != c.path("new.key") {
		t.Fatalf("rekey --keep-identity --recovery --json: %+v, %v", res, err)
	}
	c.as("recovery.txt", func() { c.fails(exitWrongKey, "view", jane) })
	c.as("recovery2.key", func() { c.ok("view", jane) })
	c.ok("view", jane)
	if _, err := os.Stat(c.path("new.key")); err != nil {
		t.Fatal(err)
	}
}
