package main

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
)

// A coworker's card says which parts their consent leaves out, in place of
// an empty section (no allergies shown is not "no allergies").
func TestCardOfASharedCopy(t *testing.T) {
	s := &vault.Stored{ID: "7f3a9c2e01b4d5e6", Scope: []string{"contact", "treatments"},
		Record: &records.Record{Name: "Jane Doe", Phone: "+1 555 0100"}}
	card := renderCard(lipgloss.NewRenderer(&strings.Builder{}), 100, s, recordCard(s))
	for _, want := range []string{"Health", "health", "not shared with you (consent covers contact, treatments)", "patch_tests", "shared with you"} {
		if !strings.Contains(card, want) {
			t.Errorf("no %q in the card:\n%s", want, card)
		}
	}
	if strings.Count(card, "not shared with you") != 2 {
		t.Errorf("want health and patch tests left out, once each:\n%s", card)
	}
	s.Scope = nil // the owner's view
	if card := renderCard(lipgloss.NewRenderer(&strings.Builder{}), 100, s, recordCard(s)); strings.Contains(card, "not shared") {
		t.Errorf("the owner's card:\n%s", card)
	}
}
