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

// The add form names a client who is there already and adds only after a
// yes; No (the default) adds nothing.
func TestTerminalAddFormWarnsOfDuplicate(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	first := strings.TrimSpace(e.run("add", "--name", "Jane Doe", "--phone", "+1 555 0100"))
	for _, yes := range []bool{false, true} {
		c := e.start("add")
		c.field("Full name", "Someone Else")
		c.field("Preferred name", "")
		c.field("Date of birth", "")
		c.field("Phone", "555-0100 ") // the same digits, written otherwise
		for _, f := range []string{"Email", "Address", "Emergency contact"} {
			c.field(f, "")
		}
		c.expect("┃ Skin type")
		c.typeLine("")
		for _, f := range []string{"Allergies", "Medications", "Medical conditions", "Contraindications"} {
			c.field(f, "")
		}
		c.expect("┃ Pregnant?")
		c.send("n")
		c.field("Notes", "")
		c.expect("Record a patch test?")
		c.send(keyEnter) // No is the default
		c.expect("same phone is already in the vault: " + first)
		c.expect("Add a new record anyway?")
		if yes {
			c.send("y")
		} else {
			c.send(keyEnter) // No is the default
		}
		code := c.wait()
		switch {
		case yes && code != 0:
			t.Fatalf("add after yes: exit %d\n%s", code, tail(c.text()))
		case !yes && code != exitCanceled:
			t.Fatalf("add after no: exit %d, want %d\n%s", code, exitCanceled, tail(c.text()))
		}
	}
	if out := e.run("find", "someone"); strings.Count(out, "Someone Else") != 1 {
		t.Errorf("after one no and one yes:\n%s", out)
	}
}
