//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const testPassphrase = "correct horse battery"

var (
	recoveryKeyRE = regexp.MustCompile(`AGE-SECRET-KEY-1[0-9A-Z]+`)
	recordIDRE    = regexp.MustCompile(`\b([0-9a-f]{16})\s*$`)
	publicKeyRE   = regexp.MustCompile(`age1[0-9a-z]+`)
)

// initOnTerminal runs init on the terminal as a person would, choosing
// testPassphrase, and keeps the recovery key it shows in a file, so that
// later commands can be checked without a terminal (--identity).
func (e *ptyEnv) initOnTerminal() {
	e.t.Helper()
	c := e.start("init")
	c.field("Keep records for", "")  // the default, 7y
	c.field("Recovery key file", "") // shown on the terminal
	c.expect("New passphrase:")
	c.typeSecret(testPassphrase)
	c.expect("Same passphrase again:")
	c.typeSecret(testPassphrase)
	c.expect("Recovery key")
	if code := c.wait(); code != 0 {
		e.t.Fatalf("init: exit %d\n%s", code, c.text())
	}
	e.keepRecoveryKey(c.text())
}

func (e *ptyEnv) keepRecoveryKey(screen string) {
	e.t.Helper()
	key := recoveryKeyRE.FindString(screen)
	if key == "" {
		e.t.Fatalf("no recovery key on the terminal:\n%s", screen)
	}
	path := filepath.Join(e.home, "recovery.txt")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.env = append(e.env, "CLIENTVAULT_IDENTITY="+path)
}

// scriptEnv is e for commands run without a terminal, with the recovery key.
func (e *ptyEnv) viewJSON(id string) map[string]any {
	e.t.Helper()
	out := e.run("view", id, "--json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		e.t.Fatalf("view --json: %v\n%s", err, out)
	}
	return m
}

// unlock types the passphrase at the prompt.
func (c *console) unlock(pass string) {
	c.t.Helper()
	c.expect("Passphrase for identity.age:")
	c.typeSecret(pass)
}

// addedID returns the record ID the command printed.
func (c *console) addedID() string {
	c.t.Helper()
	m := recordIDRE.FindStringSubmatch(c.text())
	if m == nil {
		c.t.Fatalf("no record ID on the terminal:\n%s", tail(c.text()))
	}
	return m[1]
}

func TestTerminalAddFillsEveryField(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	// The person's passphrase identity, not the recovery key, opens it on
	// the terminal.
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "add")
	c.unlock(testPassphrase)
	c.field("Full name", "Jane Doe")
	c.field("Preferred name", "Jay")
	c.field("Date of birth", "1990-04-02")
	c.field("Phone", "+1 555 0100")
	c.field("Email", "jane@example.com")
	c.field("Address", "1 Main St")
	c.field("Emergency contact", "John Doe +1 555 0101")
	c.expect("┃ Skin type")
	for range 3 { // not recorded, I, II, III
		c.send(keyDown)
	}
	c.typeLine("")
	c.field("Allergies", "latex, lanolin")
	c.field("Medications", "isotretinoin")
	c.field("Medical conditions", "eczema")
	c.field("Contraindications", "recent sun exposure")
	c.expect("┃ Pregnant?")
	c.send("y") // pregnant: yes, and on to the next group
	c.field("Notes", "prefers afternoon appointments")
	// A patch test, in a form of its own.
	c.expect("Record a patch test?")
	c.send("y")
	c.expect("┃ Patch test date")
	c.send(strings.Repeat(keyBackspace, 10)) // today's date is filled in
	c.typeLine("2026-01-10")
	c.field("Product tested", "lash tint")
	c.field("Area", "behind ear")
	c.expect("┃ Result")
	c.send(keyDown) // not read yet, negative
	c.typeLine("")
	c.field("Read at", "2026-01-12")
	if code := c.wait(); code != 0 {
		t.Fatalf("add: exit %d\n%s", code, tail(c.text()))
	}
	id := c.addedID()
	if n := strings.Count(c.text(), "Passphrase for"); n != 1 {
		t.Errorf("asked for the passphrase %d times, want once", n)
	}

	got := e.viewJSON(id)
	want := map[string]any{
		"name": "Jane Doe", "preferred_name": "Jay", "dob": "1990-04-02", "phone": "+1 555 0100",
		"email": "jane@example.com", "address": "1 Main St", "emergency_contact": "John Doe +1 555 0101",
		"skin_type": "III", "pregnant": true, "notes": "prefers afternoon appointments",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if pts, _ := got["patch_tests"].([]any); len(pts) != 1 ||
		fmt.Sprint(pts[0]) != "map[area:behind ear date:2026-01-10 product:lash tint read_at:2026-01-12 result:negative]" {
		t.Errorf("patch tests = %v", got["patch_tests"])
	}
	lists := map[string]string{"allergies": "latex,lanolin", "medications": "isotretinoin",
		"conditions": "eczema", "contraindications": "recent sun exposure"}
	for k, v := range lists {
		if s := joinAny(got[k]); s != v {
			t.Errorf("%s = %s, want %s", k, s, v)
		}
	}
}

func joinAny(v any) string {
	list, _ := v.([]any)
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i], _ = x.(string)
	}
	return strings.Join(parts, ",")
}

func TestTerminalAddCorrectsBadDateInPlace(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "add")
	c.unlock(testPassphrase)
	c.field("Full name", "Ann Lee")
	c.field("Preferred name", "")
	c.field("Date of birth", "1990-02-30") // no such day
	c.expect("not a real date")
	// The form stays on the field, with what was typed: erase the day and
	// type the right one.
	c.send(strings.Repeat(keyBackspace, 2))
	c.typeLine("28")
	for _, f := range []string{"Phone", "Email", "Address", "Emergency contact", "Skin type",
		"Allergies", "Medications", "Medical conditions", "Contraindications", "Pregnant?", "Notes", "Record a patch test?"} {
		c.field(f, "")
	}
	if code := c.wait(); code != 0 {
		t.Fatalf("add: exit %d\n%s", code, tail(c.text()))
	}
	got := e.viewJSON(c.addedID())
	if got["name"] != "Ann Lee" || got["dob"] != "1990-02-28" {
		t.Errorf("record = %v; want Ann Lee born 1990-02-28", got)
	}
}

func TestTerminalCtrlCInAddLeavesVaultUnchanged(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	e.run("add", "--name", "Existing Client")
	before := storedVault(t, e.vaultPath())

	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "add")
	c.unlock(testPassphrase)
	c.field("Full name", "Half Typed")
	c.expect("┃ Preferred name")
	c.send("1985-")
	c.expect("1985-")
	c.send(keyCtrlC)
	if code := c.wait(); code != exitCanceled {
		t.Fatalf("exit %d, want %d\n%s", code, exitCanceled, tail(c.text()))
	}
	if !strings.Contains(c.text(), "cancelled; nothing was changed") {
		t.Errorf("no cancel message:\n%s", tail(c.text()))
	}
	after := storedVault(t, e.vaultPath())
	if !bytes.Equal(before, after) {
		t.Error("the vault file changed")
	}
	e.run("verify")
	var list []map[string]any
	if err := json.Unmarshal([]byte(e.run("list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("list has %d records, want 1", len(list))
	}
}

// A mistyped --vault while the vault exists at the default path asks before
// a second vault is made; No (the default) makes nothing.
func TestTerminalMistypedVaultAsks(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	typo := filepath.Join(e.home, "valut.db")
	c := e.start("add", "--vault", typo)
	c.expect("Create a second vault there?")
	c.expect("Your vault is at " + e.vaultPath())
	c.send(keyEnter)
	if code := c.wait(); code != exitCanceled {
		t.Fatalf("add --vault typo: exit %d, want %d\n%s", code, exitCanceled, tail(c.text()))
	}
	if strings.Contains(c.text(), "New passphrase") {
		t.Error("asked for a new passphrase before the question")
	}
	if _, err := os.Stat(typo); err == nil {
		t.Error("a second vault was created")
	}
}

func TestTerminalFirstAddCreatesVault(t *testing.T) {
	e := newPtyEnv(t)
	if onEtcd() {
		// A vault on etcd is the salon's, made once with init: the first
		// add says so before any question.
		c := e.start("add")
		c.expect("hint: run 'clientvault init'")
		if code := c.wait(); code != exitNoVault {
			t.Fatalf("add with no vault on etcd: exit %d, want %d\n%s", code, exitNoVault, tail(c.text()))
		}
		if strings.Contains(c.text(), "passphrase") {
			t.Errorf("asked for a passphrase before saying there is no vault:\n%s", tail(c.text()))
		}
		return
	}
	c := e.start("add")
	c.expect("no vault yet; creating one at " + e.vaultPath())
	c.expect("New passphrase:")
	c.typeSecret(testPassphrase)
	c.expect("Same passphrase again:")
	c.typeSecret(testPassphrase)
	c.expect("Recovery key")
	c.field("Full name", "First Client")
	for _, f := range []string{"Preferred name", "Date of birth", "Phone", "Email", "Address", "Emergency contact",
		"Skin type", "Allergies", "Medications", "Medical conditions", "Contraindications", "Pregnant?", "Notes", "Record a patch test?"} {
		c.field(f, "")
	}
	if code := c.wait(); code != 0 {
		t.Fatalf("add: exit %d\n%s", code, tail(c.text()))
	}
	screen := c.text()
	// The passphrase just chosen opens the vault: it is not asked again.
	if n := strings.Count(screen, "Passphrase for"); n != 0 {
		t.Errorf("asked for the passphrase %d more times after choosing it", n)
	}
	id := c.addedID()
	e.keepRecoveryKey(screen)
	if got := e.viewJSON(id); got["name"] != "First Client" {
		t.Errorf("name = %v", got["name"])
	}
	if _, err := os.Stat(filepath.Join(e.home, "config", "clientvault", "identity.age")); err != nil {
		t.Errorf("no identity at the default path: %v", err)
	}
}

func TestTerminalWrongPassphraseThenRight(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	e.run("add", "--name", "Jane Doe")
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "list")
	c.unlock("not the passphrase")
	c.expect("wrong passphrase, try again")
	c.unlock(testPassphrase)
	c.expect("Jane Doe")
	if code := c.wait(); code != 0 {
		t.Fatalf("list: exit %d\n%s", code, tail(c.text()))
	}
	if strings.Contains(c.text(), testPassphrase) || strings.Contains(c.text(), "not the passphrase") {
		t.Error("a passphrase was echoed")
	}
}

func TestTerminalThreeWrongPassphrases(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "list")
	for range 3 {
		c.unlock("wrong one")
	}
	c.expect("clientvault: wrong passphrase")
	c.expect("hint:")
	if code := c.wait(); code != exitWrongPassphrase {
		t.Fatalf("exit %d, want %d", code, exitWrongPassphrase)
	}
	if n := strings.Count(c.text(), "Passphrase for"); n != 3 {
		t.Errorf("asked %d times, want 3", n)
	}
}

func TestTerminalCtrlCAtPassphrasePrompt(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	before := storedVault(t, e.vaultPath())
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "add", "--name", "Jane Doe")
	c.expect("Passphrase for identity.age:")
	c.send("half")
	c.send(keyCtrlC)
	if code := c.wait(); code != exitCanceled {
		t.Fatalf("exit %d, want %d\n%s", code, exitCanceled, tail(c.text()))
	}
	if echo, err := terminalEchoes(c.pty); err != nil {
		t.Log(err)
	} else if !echo {
		t.Error("the terminal was left without echo")
	}
	after := storedVault(t, e.vaultPath())
	if !bytes.Equal(before, after) {
		t.Error("the vault file changed")
	}
}

func TestTerminalAccessibleAdd(t *testing.T) {
	for _, mode := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"add", "--accessible"}},
		{"env", []string{"ACCESSIBLE=1"}, []string{"add"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			e := newPtyEnv(t)
			e.initOnTerminal()
			c := e.startEnv(append([]string{"CLIENTVAULT_IDENTITY="}, mode.env...), mode.args...)
			c.unlock(testPassphrase)
			// Accessible mode asks one plain line at a time, without
			// redrawing: what a screen reader can follow.
			c.expect("Full name")
			c.typeLine("Jane Doe")
			c.expect("Preferred name")
			c.typeLine("")
			c.expect("Date of birth")
			c.typeLine("02/04/1990")
			c.expect("not a date in YYYY-MM-DD form")
			c.typeLine("1990-04-02")
			c.expect("Phone")
			c.typeLine("")
			c.expect("Email")
			c.typeLine("")
			c.expect("Address")
			c.typeLine("")
			c.expect("Emergency contact")
			c.typeLine("")
			c.expect("Type III")
			c.expect("Enter a number between 1 and 7")
			c.typeLine("4") // 1 not recorded, 2 I, 3 II, 4 III
			// The field's description is said too (huh drops it there).
			c.expect("(separate with commas)")
			c.expect("Allergies")
			c.typeLine("latex")
			for _, f := range []string{"Medications", "Medical conditions", "Contraindications"} {
				c.expect(f)
				c.typeLine("")
			}
			c.expect("Pregnant?")
			c.typeLine("n")
			c.expect("Notes")
			c.typeLine("screen reader user")
			c.expect("Record a patch test?")
			c.typeLine("")
			if code := c.wait(); code != 0 {
				t.Fatalf("add: exit %d\n%s", code, tail(c.text()))
			}
			got := e.viewJSON(c.addedID())
			if got["dob"] != "1990-04-02" || got["skin_type"] != "III" || joinAny(got["allergies"]) != "latex" || got["notes"] != "screen reader user" {
				t.Errorf("record = %v", got)
			}
		})
	}
}

func TestTerminalNoteForm(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe"))
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "note", id)
	c.unlock(testPassphrase)
	c.expect("┃ Date")
	c.send(strings.Repeat(keyBackspace, 10))
	c.typeLine("2099-01-01") // not yet
	c.expect("is in the future")
	c.send(strings.Repeat(keyBackspace, 10))
	c.typeLine("2026-02-01")
	c.field("Service", "laser hair removal")
	c.field("Area treated", "underarm")
	c.field("Technician", "owner")
	c.field("Products", "cooling gel, SPF 50")
	c.field("Device settings", "wavelength_nm 755") // no '='
	c.expect("write KEY=VALUE pairs")
	c.send(strings.Repeat(keyBackspace, 4))
	c.typeLine("=755, fluence_j_cm2=18")
	c.field("Outcome", "mild erythema")
	c.field("Aftercare", "SPF 50, no sun for 2 weeks")
	if code := c.wait(); code != 0 {
		t.Fatalf("note: exit %d\n%s", code, tail(c.text()))
	}
	c.expectNoMore("entry 1")
	got := e.viewJSON(id)
	ts, _ := got["treatments"].([]any)
	if len(ts) != 1 {
		t.Fatalf("treatments = %v", got["treatments"])
	}
	tr := ts[0].(map[string]any)
	settings, _ := tr["settings"].(map[string]any)
	if tr["date"] != "2026-02-01" || tr["service"] != "laser hair removal" || tr["area"] != "underarm" ||
		tr["technician"] != "owner" || joinAny(tr["products"]) != "cooling gel,SPF 50" ||
		tr["outcome"] != "mild erythema" || tr["aftercare"] != "SPF 50, no sun for 2 weeks" ||
		settings["wavelength_nm"] != float64(755) || settings["fluence_j_cm2"] != float64(18) {
		t.Errorf("treatment = %v", tr)
	}
}

func TestTerminalNoColor(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY=", "NO_COLOR=1"}, "add")
	c.unlock(testPassphrase)
	c.expect("┃ Full name")
	c.send(keyCtrlC)
	if code := c.wait(); code != exitCanceled {
		t.Fatalf("exit %d, want %d", code, exitCanceled)
	}
	c.mu.Lock()
	raw := string(c.raw)
	c.mu.Unlock()
	if colour := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7])[;m]`).FindString(raw); colour != "" {
		t.Errorf("NO_COLOR: the form has a colour sequence %q", colour)
	}
}

func TestTerminalAccessibleCtrlC(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	before := storedVault(t, e.vaultPath())
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "add", "--accessible")
	c.unlock(testPassphrase)
	c.expect("Full name")
	c.typeLine("Jane Doe")
	c.expect("Preferred name")
	c.send(keyCtrlC)
	if code := c.wait(); code != exitCanceled {
		t.Fatalf("exit %d, want %d\n%s", code, exitCanceled, tail(c.text()))
	}
	after := storedVault(t, e.vaultPath())
	if !bytes.Equal(before, after) {
		t.Error("the vault file changed")
	}
}

func TestTerminalViewCard(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe", "--allergy", "latex", "--skin-type", "II"))
	colour := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7])[;m]`)
	for _, noColor := range []bool{false, true} {
		env := []string{"CLIENTVAULT_IDENTITY=", "COLORTERM=truecolor"}
		if noColor {
			env = append(env, "NO_COLOR=1")
		}
		c := e.startEnv(env, "view", id)
		c.unlock(testPassphrase)
		c.expect("╭")
		c.expect("Jane Doe")
		c.expect("Health")
		c.expect("Fitzpatrick II")
		c.expect("latex")
		c.expect("╰")
		if code := c.wait(); code != 0 {
			t.Fatalf("view: exit %d", code)
		}
		c.mu.Lock()
		raw := string(c.raw)
		c.mu.Unlock()
		if got := colour.MatchString(raw); got == noColor {
			t.Errorf("NO_COLOR=%v: colour sequences present = %v", noColor, got)
		}
	}
	// Piped, the same command prints the plain lines.
	if out := e.run("view", id); !strings.HasPrefix(out, "id:") || strings.Contains(out, "╭") {
		t.Errorf("view to a pipe:\n%s", out)
	}
}

func TestTerminalEscLeavesNote(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe"))
	before := storedVault(t, e.vaultPath())
	c := e.startEnv([]string{"CLIENTVAULT_IDENTITY="}, "note", id)
	c.unlock(testPassphrase)
	c.field("Date", "")
	c.expect("┃ Service")
	c.send("facial")
	c.expect("facial")
	time.Sleep(100 * time.Millisecond)
	c.send("\x1b") // Esc
	if code := c.wait(); code != exitCanceled {
		t.Fatalf("exit %d, want %d\n%s", code, exitCanceled, tail(c.text()))
	}
	after := storedVault(t, e.vaultPath())
	if !bytes.Equal(before, after) {
		t.Error("the vault file changed")
	}
}

// share with no consent offers the consent form on a terminal; filling it
// records the consent and shares, and the coworker's key then opens the
// record.
func TestTerminalShareOffersConsentForm(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe", "--allergy", "latex"))
	bea := filepath.Join(e.home, "bea.key")
	trust := strings.Fields(e.run("staff", "add", "Bea", publicKeyRE.FindString(e.run("keygen", "-o", bea))))
	e.run("trust", trust[len(trust)-1])
	c := e.start("share", id, "--with", "Bea")
	c.expect("Share " + id + " with Bea?")
	c.send("y")
	c.expect("no active consent")
	c.field("Coworker", "") // filled in: Bea
	c.expect("┃ Who consented")
	c.send(keyEnter) // the client
	c.expect("┃ What may be shared")
	c.send(" ") // full
	c.send(keyEnter)
	c.field("Purpose", "covering Tuesdays")
	c.expect("┃ How it was given")
	c.send(keyEnter) // written
	c.field("Witness", "")
	c.field("Evidence", "form C-12")
	c.field("Obtained by", "Olivia Owner")
	c.field("Expires", "")
	if code := c.wait(); code != 0 {
		t.Fatalf("share: exit %d\n%s", code, tail(c.text()))
	}
	c.expectNoMore("shared record " + id + " with Bea: full")
	if out := e.run("view", id, "--identity", bea, "--json"); !strings.Contains(out, "latex") {
		t.Errorf("the coworker's view: %s", out)
	}
	if out := e.run("consent", "list", id); !strings.Contains(out, "Bea") || !strings.Contains(out, "written") {
		t.Errorf("consent list:\n%s", out)
	}
}

// init on a terminal asks, in a form, how long records are kept and where
// the recovery key goes; a bad period is refused in place.
func TestTerminalInitForm(t *testing.T) {
	e := newPtyEnv(t)
	rec := filepath.Join(e.home, "recovery.key")
	c := e.start("init")
	c.expect("┃ Keep records for")
	c.send(strings.Repeat(keyBackspace, 4))
	c.typeLine("0y")
	c.expect("whole number of years")
	c.send(strings.Repeat(keyBackspace, 4))
	c.typeLine("10y")
	c.field("Recovery key file", rec)
	c.expect("New passphrase:")
	c.typeSecret(testPassphrase)
	c.expect("Same passphrase again:")
	c.typeSecret(testPassphrase)
	if code := c.wait(); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, tail(c.text()))
	}
	if strings.Contains(c.text(), "AGE-SECRET-KEY-1") {
		t.Error("the recovery key was shown although a file was chosen")
	}
	e.env = append(e.env, "CLIENTVAULT_IDENTITY="+rec)
	if out := e.run("retention", "show"); !strings.Contains(out, "10 years") {
		t.Errorf("retention after init with 10y:\n%s", out)
	}
}

// erase on a terminal without --reason asks for the reason and whether the
// record may go before its retention ends, then for confirmation.
func TestTerminalEraseForm(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe"))
	c := e.start("erase", id)
	c.expect("┃ Reason")
	c.send(keyEnter) // empty: refused
	c.expect("say why the record is erased")
	c.typeLine("client's request of 2026-11-20")
	c.expect("It must be kept until ")
	c.expect("Erase it even so?")
	// Focused, not only shown (its keys in the help line): a key sent
	// before the focus moves lands in the reason.
	c.expect("y Yes • n No")
	c.send("y")
	c.expect("Destroy the record of Jane Doe (" + id + ") for good?")
	c.send("y")
	if code := c.wait(); code != 0 {
		t.Fatalf("erase: exit %d\n%s", code, tail(c.text()))
	}
	c.expectNoMore("erased before its retention ended")
	if _, code, _ := e.runCode("view", id); code != exitNotFound {
		t.Errorf("view after erase: exit %d, want %d", code, exitNotFound)
	}
}

// On a terminal, note shows the contraindication warnings and asks; Yes
// records the entry with them.
func TestTerminalNoteWarnsAndAsks(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe", "--medication", "isotretinoin"))
	c := e.start("note", id, "--service", "brow wax", "--date", "2026-02-01")
	c.expect("warning: laser, peels and waxing are contraindicated on isotretinoin")
	c.expect("Record this treatment anyway?")
	c.send("y")
	if code := c.wait(); code != 0 {
		t.Fatalf("note: exit %d\n%s", code, tail(c.text()))
	}
	got := e.viewJSON(id)
	ts, _ := got["treatments"].([]any)
	if len(ts) != 1 || ts[0].(map[string]any)["warnings"] == nil {
		t.Errorf("treatments = %v", got["treatments"])
	}
}

// On a terminal, edit opens the add form filled in with the record; what
// is changed there is the amendment.
func TestTerminalEditForm(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe", "--phone", "+1 555 0100", "--allergy", "latex"))
	c := e.start("edit", id)
	c.expect("Jane Doe") // the form shows the record
	c.field("Full name", "")
	c.field("Preferred name", "")
	c.field("Date of birth", "")
	c.expect("┃ Phone")
	c.send("\x15") // Ctrl-U: clear the field
	c.typeLine("+1 555 0199")
	for _, f := range []string{"Email", "Address", "Emergency contact", "Skin type"} {
		c.field(f, "")
	}
	c.expect("┃ Allergies")
	c.typeLine(", nuts")
	for _, f := range []string{"Medications", "Medical conditions", "Contraindications", "Pregnant?", "Notes"} {
		c.field(f, "")
	}
	if code := c.wait(); code != 0 {
		t.Fatalf("edit: exit %d\n%s", code, tail(c.text()))
	}
	c.expectNoMore("amendment 1): allergies, phone")
	got := e.viewJSON(id)
	if got["phone"] != "+1 555 0199" || joinAny(got["allergies"]) != "latex,nuts" || got["name"] != "Jane Doe" {
		t.Errorf("record = %v", got)
	}
}

// On a terminal, expire names the clients it would destroy before it asks;
// No (the default) destroys nothing.
func TestTerminalExpireNamesTheClients(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe", "--dob", "1980-05-06"))
	e.run("note", id, "--date", "2015-01-10", "--service", "facial")
	c := e.start("expire")
	c.expect("Destroy 1 record whose retention has ended?")
	c.expect("Jane Doe, born 1980-05-06  " + id)
	c.send(keyEnter)
	if code := c.wait(); code != exitCanceled {
		t.Fatalf("expire: exit %d, want %d\n%s", code, exitCanceled, tail(c.text()))
	}
	if got := e.viewJSON(id); got["name"] != "Jane Doe" {
		t.Errorf("the record went: %v", got)
	}
}

// consent add on a terminal offers the registered coworkers to choose from,
// and refuses an unknown one before the form.
func TestTerminalConsentChoosesFromStaff(t *testing.T) {
	e := newPtyEnv(t)
	e.initOnTerminal()
	id := strings.TrimSpace(e.run("add", "--name", "Jane Doe"))
	key := filepath.Join(e.home, "bea.key")
	e.run("keygen", "-o", key)
	pub := strings.TrimSpace(e.run("keygen", "-y", key))
	e.run("staff", "add", "Bea Lopez", pub)

	c := e.start("consent", "add", id, "--to", "Cal Ng")
	if code := c.wait(); code != exitNotFound {
		t.Fatalf("consent add --to an unknown coworker: exit %d\n%s", code, tail(c.text()))
	}
	if strings.Contains(c.text(), "Who consented") {
		t.Error("the form was shown before the coworker was checked")
	}

	c = e.start("consent", "add", id)
	c.expect("Coworker")
	c.expect("from 'clientvault staff list'")
	c.expect("Bea Lopez")
	c.send(keyCtrlC)
	if code := c.wait(); code != exitCanceled {
		t.Fatalf("consent add: exit %d\n%s", code, tail(c.text()))
	}
}
