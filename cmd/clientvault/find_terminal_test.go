//go:build unix

package main

import (
	"strings"
	"testing"
)

// On a terminal, find offers the clients it found in a list; the one
// picked opens as a card, and that view is in the audit log.
func TestTerminalFindPicksAndOpensCard(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	e.run("add", "--name", "Jane Quennell", "--phone", "+1 415 555 0142")
	e.run("add", "--name", "Quentin Doe", "--phone", "+1 415 555 0199", "--allergy", "latex")
	c := e.start("find", "quen")
	c.expect("2 clients — pick one to open")
	c.expect("Quentin Doe")
	c.send(keyDown)
	c.send(keyEnter)
	c.expect("latex")
	if code := c.wait(); code != 0 {
		t.Fatalf("find: exit %d\n%s", code, tail(c.text()))
	}
	if out := e.run("audit"); !strings.Contains(out, "view") {
		t.Errorf("the card's view is not in the audit log:\n%s", out)
	}
}

// view NAME with several matches offers the same list on a terminal.
func TestTerminalViewAmbiguousNamePicks(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	e.run("add", "--name", "Jane Doe", "--dob", "1990-04-02")
	e.run("add", "--name", "Jane Doe", "--dob", "1985-01-01", "--allergy", "nickel", "--allow-duplicate")
	c := e.start("view", "Jane Doe")
	c.expect("2 clients — pick one to open")
	c.expect("born 1985-01-01")
	// Ordered by name, then ID: pick the one born in 1985 wherever it is.
	if strings.Index(c.text(), "born 1985-01-01") > strings.Index(c.text(), "born 1990-04-02") {
		c.send(keyDown)
	}
	c.send(keyEnter)
	c.expect("nickel")
	if code := c.wait(); code != 0 {
		t.Fatalf("view: exit %d\n%s", code, tail(c.text()))
	}
}
