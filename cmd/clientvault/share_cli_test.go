package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
)

// cli runs clientvault commands in a test directory, as one person would
// in a shell: each run gets a fresh App with the same environment.
type cli struct {
	t    *testing.T
	dir  string
	env  map[string]string
	now  time.Time
	pass string
}

func newCLI(t *testing.T) *cli {
	dir := t.TempDir()
	return &cli{t: t, dir: dir, now: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), pass: "correct horse battery", env: map[string]string{
		"HOME":                 dir,
		"CLIENTVAULT_VAULT":    filepath.Join(dir, "vault.db"),
		"CLIENTVAULT_IDENTITY": filepath.Join(dir, "owner.key"),
	}}
}

func (c *cli) path(name string) string { return filepath.Join(c.dir, name) }

// run runs clientvault with args and returns the exit code and both streams.
func (c *cli) run(args ...string) (int, string, string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	a := &App{
		In: strings.NewReader(""), Out: &out, Err: &errb,
		Getenv:     func(k string) string { return c.env[k] },
		Now:        func() time.Time { return c.now },
		WorkFactor: 10,
		ReadSecret: func(string) (string, error) { return c.pass, nil },
	}
	code := Run(args, a)
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	code, out, errs := c.run(args...)
	if code != 0 {
		c.t.Fatalf("clientvault %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// fails runs a command that must exit with code and returns its stderr.
func (c *cli) fails(code int, args ...string) string {
	c.t.Helper()
	got, _, errs := c.run(args...)
	if got != code {
		c.t.Fatalf("clientvault %s: exit %d, want %d\n%s", strings.Join(args, " "), got, code, errs)
	}
	return errs
}

// as runs fn with the identity set to key, as a coworker's shell would.
func (c *cli) as(key string, fn func()) {
	old := c.env["CLIENTVAULT_IDENTITY"]
	c.env["CLIENTVAULT_IDENTITY"] = c.path(key)
	defer func() { c.env["CLIENTVAULT_IDENTITY"] = old }()
	fn()
}

var publicKeyRE = regexp.MustCompile(`age1[0-9a-z]+`)

// keygen makes a key file and returns its public key.
func (c *cli) keygen(name string) string {
	c.t.Helper()
	return publicKeyRE.FindString(c.ok("keygen", "-o", c.path(name)))
}

var (
	ageOnce sync.Once
	ageBin  string
	ageErr  error
)

// ageCommand builds the real age command from the filippo.io/age module in
// go.mod (a tool dependency), once per test binary.
func ageCommand(t *testing.T) string {
	t.Helper()
	ageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clientvault-age-")
		if err != nil {
			ageErr = err
			return
		}
		ageBin = filepath.Join(dir, "age")
		out, err := exec.Command("go", "build", "-o", ageBin, "filippo.io/age/cmd/age").CombinedOutput()
		if err != nil {
			ageErr = err
			t.Logf("%s", out)
		}
	})
	if ageErr != nil {
		t.Fatalf("building age: %v", ageErr)
	}
	return ageBin
}

// ageDecrypt runs `age -d -i key file` and returns what it prints.
func ageDecrypt(t *testing.T, key, file string) (string, error) {
	t.Helper()
	out, err := exec.Command(ageCommand(t), "-d", "-i", key, file).CombinedOutput()
	return string(out), err
}

const (
	clientName  = "Jane Marigold Doe"
	clientPhone = "+1 555 0100"
)

func TestCLISharing(t *testing.T) {
	c := newCLI(t)
	c.keygen("owner.key")
	bea := c.keygen("bea.key")
	cal := c.keygen("cal.key")
	c.keygen("stranger.key")
	if err := os.WriteFile(c.path("cal.pub"), []byte("# Cal's key\n"+cal+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("init", "--recovery-out", c.path("recovery.txt"))
	jane := strings.TrimSpace(c.ok("add", "--name", clientName, "--phone", clientPhone, "--allergy", "latex"))
	john := strings.TrimSpace(c.ok("add", "--name", "John Roe"))
	ownerPub := publicKeyRE.FindString(string(must(os.ReadFile(c.path("owner.key")))))

	// Staff: by key text and by a file holding one; bad keys refused.
	// staff add prints the line the coworker runs once to pin the owner's
	// key; until then their view is refused.
	trust := strings.Fields(c.ok("staff", "add", "Bea", bea))
	if len(trust) != 3 || trust[0] != "clientvault" || trust[1] != "trust" {
		t.Fatalf("staff add printed %q, want 'clientvault trust KEY'", trust)
	}
	c.ok("staff", "add", "Cal", c.path("cal.pub"))
	c.fails(exitUsage, "staff", "add", "Zed", "age1notakeyatall")
	c.fails(exitUsage, "staff", "add", "Zed", c.path("missing.pub"))
	if e := c.fails(exitUsage, "staff", "add", "Zed", c.path("bea.key")); !strings.Contains(e, "private key") {
		t.Errorf("a private key file: %s", e)
	}
	c.fails(exitRefused, "staff", "add", "Eve", ownerPub)
	c.fails(exitRefused, "staff", "add", "Bea", cal)
	if out := c.ok("staff", "list"); !strings.Contains(out, "Bea") || !strings.Contains(out, cal) {
		t.Errorf("staff list:\n%s", out)
	}

	// No consent yet: refused, and the error shows the command to run.
	e := c.fails(exitNoConsent, "share", jane, "--with", "Bea")
	if !strings.Contains(e, "clientvault consent add "+jane+` --to "Bea"`) {
		t.Errorf("no-consent error does not name the consent add command:\n%s", e)
	}
	c.fails(exitNotFound, "share", jane, "--with", "Nobody")
	c.fails(exitRefused, "share", jane, "--with", "owner")
	c.fails(exitUsage, "share", jane)

	// Consents.
	c.fails(exitUsage, "consent", "add", jane, "--to", "Bea", "--scope", "full")
	c.fails(exitNotFound, "consent", "add", jane, "--to", "Nobody", "--scope", "full", "--purpose", "cover",
		"--method", "written", "--evidence", "F1", "--obtained-by", "Olivia Owner")
	out := c.ok("consent", "add", jane, "--to", "Bea", "--scope", "contact,health", "--purpose", "covering Tuesdays",
		"--method", "written", "--evidence", "form C-12", "--obtained-by", "Olivia Owner")
	cid := regexp.MustCompile(`consent ([0-9a-f]{16}) recorded`).FindStringSubmatch(out)
	if cid == nil {
		t.Fatalf("consent add printed %q", out)
	}
	if out := c.ok("consent", "list", jane); !strings.Contains(out, cid[1]) || !strings.Contains(out, "active") {
		t.Errorf("consent list:\n%s", out)
	}
	c.fails(exitNoConsent, "share", john, "--with", "Bea") // the consent is Jane's

	// Share, twice, with an age file for the coworker.
	if out := c.ok("share", jane, "--with", "Bea", "--out", c.path("bea.age")); !strings.Contains(out, "shared record "+jane) {
		t.Errorf("share printed %q", out)
	}
	if out := c.ok("share", jane, "--with", "Bea"); !strings.Contains(out, "already shared") {
		t.Errorf("sharing twice printed %q", out)
	}
	c.fails(exitRefused, "share", jane, "--with", "Bea", "--out", c.path("bea.age"))
	c.ok("share", jane, "--with", "Bea", "--out", c.path("bea.age"), "--force")
	plain, err := ageDecrypt(t, c.path("bea.key"), c.path("bea.age"))
	if err != nil || !strings.Contains(plain, clientPhone) || !strings.Contains(plain, jane) {
		t.Fatalf("age -d -i bea.key bea.age: %v\n%s", err, plain)
	}
	if _, err := ageDecrypt(t, c.path("cal.key"), c.path("bea.age")); err == nil {
		t.Fatal("Cal's key opens the file written for Bea")
	}

	// The coworker views with their own key; other records are not shared.
	c.as("bea.key", func() {
		if e := c.fails(exitOwnerUnknown, "view", jane); !strings.Contains(e, "hint: ask the vault's owner for the line") {
			t.Errorf("coworker view before trust:\n%s", e)
		}
		c.fails(exitUsage, "trust", "cvowner1short")
		// A well-formed key that did not sign her staff entry: refused now.
		if e := c.fails(exitTampered, "trust", "cvowner1"+strings.Repeat("A", 43)); !strings.Contains(e, "did not sign your staff entry") {
			t.Errorf("trust of a wrong key:\n%s", e)
		}
		c.ok("trust", trust[2])
		c.ok("trust", trust[2]) // again: the same key is fine
		for _, ref := range []string{jane, jane[:6], clientName} {
			if out := c.ok("view", ref); !strings.Contains(out, clientPhone) || !strings.Contains(out, "latex") {
				t.Errorf("coworker view %q:\n%s", ref, out)
			}
		}
		if e := c.fails(exitWrongKey, "view", john); !strings.Contains(e, "not shared with you") || !strings.Contains(e, "hint: ask the vault's owner") {
			t.Errorf("coworker view of another record:\n%s", e)
		}
		c.fails(exitWrongKey, "view", "John Roe")
		// find and list cover only what is shared with them (issue 14).
		if out := c.ok("list"); !strings.Contains(out, clientName) || strings.Contains(out, "John Roe") {
			t.Errorf("coworker list:\n%s", out)
		}
		if out := c.ok("find", strings.Fields(clientName)[0]); !strings.Contains(out, jane) {
			t.Errorf("coworker find:\n%s", out)
		}
		c.fails(exitNotFound, "find", "roe")
	})
	c.as("cal.key", func() { c.fails(exitWrongKey, "view", jane) })
	c.as("stranger.key", func() { c.fails(exitWrongKey, "view", jane) })

	// Every sharing action is in the record's access report.
	var events []map[string]any
	if err := json.Unmarshal([]byte(c.ok("audit", "--record", jane, "--json")), &events); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range events {
		seen[ev["action"].(string)+"/"+ev["actor"].(string)] = true
	}
	for _, want := range []string{"consent-add/owner", "share/owner", "share-file/owner", "view/Bea"} {
		if !seen[want] {
			t.Errorf("audit --record lacks %s: %v", want, seen)
		}
	}

	// Revoking says what it cannot undo and closes the record to Bea.
	out = c.ok("consent", "revoke", cid[1])
	for _, want := range []string{"withdrawn", "cannot be undone", "Bea", "share file"} {
		if !strings.Contains(out, want) {
			t.Errorf("consent revoke output lacks %q:\n%s", want, out)
		}
	}
	c.fails(exitRefused, "consent", "revoke", cid[1])
	c.as("bea.key", func() { c.fails(exitWrongKey, "view", jane) })
	c.fails(exitNoConsent, "share", jane, "--with", "Bea")
	if out := c.ok("unshare", jane, "--with", "Cal"); !strings.Contains(out, "was not shared") {
		t.Errorf("unshare of a record never shared: %q", out)
	}

	// An expiring consent and a share with --until.
	c.ok("consent", "add", john, "--to", "Cal", "--scope", "full", "--purpose", "p", "--method", "verbal",
		"--witness", "Sam Reception", "--obtained-by", "Olivia Owner", "--expires", "2026-03-20")
	c.ok("share", john, "--with", "Cal", "--until", "2026-03-12")
	c.fails(exitUsage, "share", john, "--with", "Cal", "--until", "2026-03-01")
	c.as("cal.key", func() { c.ok("view", john) })
	c.now = c.now.AddDate(0, 0, 3)
	c.as("cal.key", func() { c.fails(exitWrongKey, "view", john) })
	if out := c.ok("unshare", john, "--with", "Cal"); !strings.Contains(out, "was not shared") {
		t.Errorf("a lapsed share was not removed before unshare: %q", out) // share/unshare lapse first
	}
	c.now = c.now.AddDate(0, 0, 30)
	c.fails(exitNoConsent, "share", john, "--with", "Cal") // the consent expired

	// Disclosure needs a basis; it is written, recorded and accounted for.
	if e := c.fails(exitUsage, "disclose", jane, "--to", "County Court", "--out", c.path("d.age")); !strings.Contains(e, "--basis is required") {
		t.Errorf("disclose without a basis:\n%s", e)
	}
	if _, err := os.Stat(c.path("d.age")); err == nil {
		t.Fatal("a refused disclosure wrote its file")
	}
	c.fails(exitUsage, "disclose", jane, "--to", "County Court", "--basis", "because", "--reference", "S1", "--out", c.path("d.age"), "--recipient", cal)
	c.ok("disclose", jane, "--to", "County Court", "--basis", "subpoena", "--reference", "SUB-2026-17",
		"--scope", "contact", "--out", c.path("d.age"), "--recipient", cal)
	if plain, err := ageDecrypt(t, c.path("cal.key"), c.path("d.age")); err != nil || !strings.Contains(plain, "SUB-2026-17") || strings.Contains(plain, "latex") {
		t.Fatalf("disclosed file: %v\n%s", err, plain)
	}
	c.fails(exitRefused, "disclose", jane, "--to", "County Court", "--basis", "subpoena", "--reference", "SUB-2026-17",
		"--out", c.path("d.age"), "--recipient", cal)
	c.ok("disclose", jane, "--to", "State Board", "--basis", "regulator", "--reference", "case 88",
		"--client-notified", "--notified-at", "2026-03-01", "--out", c.path("board.age"))
	if out := c.ok("disclose", "list"); !strings.Contains(out, "SUB-2026-17") || !strings.Contains(out, "case 88") {
		t.Errorf("disclose list:\n%s", out)
	}
	if out := c.ok("disclose", "list", john); strings.Contains(out, "SUB") {
		t.Errorf("John's disclosures:\n%s", out)
	}

	// The client's own data.
	var x map[string]any
	if err := json.Unmarshal([]byte(c.ok("export", jane, "--json")), &x); err != nil {
		t.Fatal(err)
	}
	if len(x["disclosures"].([]any)) != 2 || len(x["consents"].([]any)) != 1 || len(x["access"].([]any)) == 0 {
		t.Errorf("export --json: %v", x)
	}
	if out := c.ok("export", jane); !strings.Contains(out, clientPhone) || !strings.Contains(out, "Who accessed your record") {
		t.Errorf("export:\n%s", out)
	}
	c.ok("export", jane, "--out", c.path("export.age"))
	c.fails(exitRefused, "export", jane, "--out", c.path("export.age"))
	sid, _ := age.NewScryptIdentity(c.pass)
	r, err := age.Decrypt(bytes.NewReader(must(os.ReadFile(c.path("export.age")))), sid)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(r)
	if !strings.Contains(buf.String(), clientName) {
		t.Errorf("the sealed export lacks the record:\n%s", buf.String())
	}

	// Removing a coworker who holds consents.
	if out := c.ok("staff", "remove", "Cal"); !strings.Contains(out, "consent(s) no longer apply") {
		t.Errorf("staff remove:\n%s", out)
	}
	c.fails(exitNotFound, "staff", "remove", "Cal")
	if out := c.ok("consent", "list", john); !strings.Contains(out, "staff removed") {
		t.Errorf("consent list after staff remove:\n%s", out)
	}

	// Nothing of the client's in the audit log; the vault verifies.
	audit := c.ok("audit", "--json")
	for _, secret := range []string{clientName, clientPhone, "latex", "covering Tuesdays", "SUB-2026-17", "County Court", "Sam Reception"} {
		if strings.Contains(audit, secret) {
			t.Errorf("the audit log holds %q", secret)
		}
	}
	for _, action := range []string{"staff-add", "consent-revoke", "unshare", "disclose", "export", "staff-remove"} {
		if !strings.Contains(audit, `"action": "`+action+`"`) {
			t.Errorf("the audit log lacks %s", action)
		}
	}
	c.ok("verify")
	c.ok("audit", "--verify")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
