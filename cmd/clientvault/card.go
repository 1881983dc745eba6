package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/vault"
	"github.com/muesli/termenv"
	"golang.org/x/term"
)

// The record card is how view shows a record to a person at a terminal:
// titled sections, the health facts that must not be missed picked out.
// Scripts and pipes get printRecord's stable lines instead, and --json.

// cardSection is one titled part of the card. Commands that add to a record
// (consents, shares) add their own section to recordCard.
type cardSection struct {
	Title string
	Rows  []cardRow
}

// cardRow is one labelled value; Warn picks it out (allergies,
// contraindications, medications, pregnancy).
type cardRow struct {
	Label, Value string
	Warn         bool
}

// recordCard lays out s as card sections: client, health, patch tests,
// treatments, and the vault's own facts.
func recordCard(s *vault.Stored) []cardSection {
	r := s.Record
	join := func(v []string) string { return strings.Join(v, ", ") }
	client := cardSection{Title: "Client", Rows: []cardRow{
		{Label: "preferred name", Value: r.PreferredName},
		{Label: "date of birth", Value: r.DOB.String()},
		{Label: "birthday", Value: birthday(r.Birthday)},
		{Label: "phone", Value: r.Phone},
		{Label: "email", Value: r.Email},
		{Label: "address", Value: r.Address},
		{Label: "emergency", Value: r.EmergencyContact},
		{Label: "first visit", Value: r.FirstVisit.String()},
		{Label: "last visit", Value: r.LastVisited.String()},
	}}
	health := cardSection{Title: "Health", Rows: []cardRow{
		{Label: "skin type", Value: fitzpatrick(r.SkinType)},
		{Label: "allergies", Value: join(r.Allergies), Warn: true},
		{Label: "contraindications", Value: join(r.Contraindications), Warn: true},
		{Label: "medications", Value: join(r.Medications), Warn: true},
		{Label: "conditions", Value: join(r.Conditions)},
		{Label: "notes", Value: r.Notes},
	}}
	if r.Pregnant {
		health.Rows = append(health.Rows, cardRow{Label: "pregnant", Value: "yes", Warn: true})
	}
	patch := cardSection{Title: "Patch tests"}
	for _, p := range r.PatchTests {
		patch.Rows = append(patch.Rows, cardRow{Label: p.Date.String(),
			Value: strings.Join(nonEmpty(p.Product, p.Area, p.Result, readAt(p.ReadAt)), " · "),
			Warn:  p.Result == "positive"})
	}
	treat := cardSection{Title: "Treatments"}
	for _, t := range r.Treatments {
		head := t.Service
		if t.Amends > 0 {
			head += fmt.Sprintf(" (corrects #%d)", t.Amends)
		}
		if by := correctedBy(r, t.N); by > 0 {
			head += fmt.Sprintf(" (corrected by #%d)", by)
		}
		lines := nonEmpty(strings.Join(nonEmpty(head, t.Area), " · "))
		if len(t.Products) > 0 {
			lines = append(lines, "products: "+join(t.Products))
		}
		if len(t.Settings) > 0 {
			lines = append(lines, "settings: "+settingsText(t.Settings))
		}
		lines = append(lines, nonEmpty(strings.Join(nonEmpty(by(t.Technician), t.Outcome), " · "), aftercare(t.Aftercare))...)
		for _, w := range t.Warnings {
			lines = append(lines, "recorded despite: "+w)
		}
		treat.Rows = append(treat.Rows, cardRow{Label: fmt.Sprintf("#%d %s", t.N, t.Date), Value: strings.Join(lines, "\n"), Warn: len(t.Warnings) > 0})
	}
	var history []string
	for _, am := range r.Amendments {
		history = append(history, amendmentText(am))
	}
	kept := cardSection{Title: "Record", Rows: []cardRow{
		{Label: "amended", Value: strings.Join(history, "\n")},
		{Label: "created", Value: s.Created.Format("2006-01-02")},
		{Label: "retain until", Value: s.RetainUntil.String()},
		{Label: "shared with", Value: join(s.SharedWith)},
	}}
	if s.Scope != nil {
		// A coworker's copy: say what their consent leaves out, so that an
		// empty section is not read as "none".
		for _, sec := range []struct {
			sec  *cardSection
			part string
		}{{&client, consent.Contact}, {&health, consent.Health}, {&patch, consent.PatchTests}, {&treat, consent.Treatments}} {
			if !consent.Covers(s.Scope, sec.part) {
				sec.sec.Rows = []cardRow{{Label: sec.part, Value: notShared(s.Scope), Warn: true}}
			}
		}
		kept.Rows = append(kept.Rows, cardRow{Label: "shared with you", Value: join(s.Scope)})
	}
	return []cardSection{client, health, patch, treat, kept}
}

// notShared says that a part of a record is left out of a coworker's copy,
// and what their consent covers.
func notShared(scope []string) string {
	return "not shared with you (consent covers " + strings.Join(scope, ", ") + ")"
}

func fitzpatrick(t string) string {
	if t == "" {
		return ""
	}
	return "Fitzpatrick " + t
}

// cardLabelWidth is the width of the label column.
const cardLabelWidth = 19

// renderCard draws the card for a terminal width columns wide. The
// renderer decides colours: none with NO_COLOR or on a non-colour terminal.
func renderCard(r *lipgloss.Renderer, width int, s *vault.Stored, sections []cardSection) string {
	width = min(max(width, 40), 100)
	inner := width - 4 // border and padding
	accent := lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7571F9"}
	title := r.NewStyle().Bold(true)
	dim := r.NewStyle().Faint(true)
	section := r.NewStyle().Bold(true).Foreground(accent)
	label := r.NewStyle().Width(cardLabelWidth).Faint(true)
	value := r.NewStyle().Width(inner - cardLabelWidth)
	warn := value.Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#C0392B", Dark: "#FF5F5F"})

	name := s.Name
	if s.PreferredName != "" && s.PreferredName != s.Name {
		name += " (" + s.PreferredName + ")"
	}
	parts := []string{title.Render(name) + "  " + dim.Render(s.ID)}
	for _, sec := range sections {
		var rows []string
		for _, row := range sec.Rows {
			if row.Value == "" {
				continue
			}
			st := value
			if row.Warn {
				st = warn
			}
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, label.Render(row.Label), st.Render(row.Value)))
		}
		if len(rows) == 0 {
			continue
		}
		parts = append(parts, "", section.Render(sec.Title))
		parts = append(parts, rows...)
	}
	box := r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1).Width(width - 2)
	return box.Render(strings.Join(parts, "\n")) + "\n"
}

// printCard writes the card of s to the App's output, a terminal.
func (a *App) printCard(s *vault.Stored) {
	r := lipgloss.NewRenderer(a.Out, termenv.WithEnvironment(appEnviron{a}))
	if a.noColor() {
		r.SetColorProfile(termenv.Ascii)
	}
	io.WriteString(a.Out, renderCard(r, terminalWidth(a.Out), s, recordCard(s)))
}

// terminalWidth is the width of the terminal w writes to, or 80.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return 80
}

// appEnviron lets the colour profile follow the App's environment.
type appEnviron struct{ a *App }

func (e appEnviron) Environ() []string      { return nil }
func (e appEnviron) Getenv(k string) string { return e.a.Getenv(k) }
