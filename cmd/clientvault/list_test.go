package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
)

func listTestClients() []vault.Client {
	return []vault.Client{
		{ID: "0123456789abcdef", Name: "Jane Doe", DOB: records.Date{Year: 1990, Month: 4, Day: 2}, RetainUntil: records.Date{Year: 2033, Month: 2, Day: 28}},
		{ID: "fedcba9876543210", Name: "Ingrid Ødegård <&> \"q\" \\ \u2028 \x01", Phone: "+1 415 555-0142", Email: "i@example.test",
			LastVisit: records.Date{Year: 2026, Month: 2, Day: 1}, Held: true},
		{ID: "00000000000000ff", Name: "X"},
	}
}

// The list's hand-written JSON is what printJSON writes for the same array.
func TestListJSONIsEncodingJSON(t *testing.T) {
	for n := range 4 {
		cs := listTestClients()[:n]
		var got, want bytes.Buffer
		w := &jsonClients{out: &got}
		for _, c := range cs {
			if err := w.write(c); err != nil {
				t.Fatal(err)
			}
		}
		w.end()
		if cs == nil {
			cs = []vault.Client{}
		}
		printJSON(&want, cs)
		if got.String() != want.String() {
			t.Errorf("%d clients:\n%s\nwant\n%s", n, got.String(), want.String())
		}
		var back []vault.Client
		if err := json.Unmarshal(got.Bytes(), &back); err != nil || len(back) != len(cs) {
			t.Errorf("does not read back: %v", err)
		}
	}
}

// The list's hand-padded columns are what text/tabwriter writes, block by
// block.
func TestListPlainIsTabwriter(t *testing.T) {
	var cs []vault.Client
	for i := range 2*listBlock + 7 {
		c := listTestClients()[i%3]
		c.Name += strings.Repeat("é", i%17)
		cs = append(cs, c)
	}
	for _, n := range []int{0, 1, 3, listBlock - 1, listBlock, 2*listBlock + 7} {
		var got, want bytes.Buffer
		w := &plainClients{out: &got}
		for _, c := range cs[:n] {
			if err := w.write(c); err != nil {
				t.Fatal(err)
			}
		}
		w.end()
		tw := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tBORN\tLAST VISIT\tRETAIN UNTIL")
		for i, c := range cs[:n] {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, dash(c.DOB.String()), dash(c.LastVisit.String()), dash(c.RetainUntil.String()))
			if (i+2)%listBlock == 0 {
				tw.Flush()
			}
		}
		tw.Flush()
		if got.String() != want.String() {
			t.Errorf("%d clients: differs from tabwriter", n)
		}
	}
}

// lockProbe is an output that, at its first write, checks that another
// process could open the vault for writing: the command no longer holds it
// (bbolt's file lock; a vault on etcd has none to hold, and opens too).
type lockProbe struct {
	open  func() (*vault.Vault, error)
	tried bool
	err   error
	bytes.Buffer
}

func (p *lockProbe) Write(b []byte) (int, error) {
	if !p.tried {
		p.tried = true
		v, err := p.open()
		if err == nil {
			v.Close()
		}
		p.err = err
	}
	return p.Buffer.Write(b)
}

// find and list print after they have closed the vault, so that output
// piped into a pager does not keep writers waiting.
func TestFindAndListPrintWithoutHoldingTheVault(t *testing.T) {
	e := newPersonEnv(t, "a long passphrase", "a long passphrase")
	if _, errs, code := e.firstAdd("--name", "Jane Doe", "--dob", "1990-04-02"); code != 0 {
		t.Fatalf("first add: exit %d: %s", code, errs)
	}
	for _, args := range [][]string{{"list"}, {"list", "--json"}, {"find", "jane"}} {
		e.answer("a long passphrase")
		a, _, errOut := e.app("")
		other, _, _ := e.app("")
		p := &lockProbe{open: func() (*vault.Vault, error) {
			return other.openVault(other.VaultPath(), vault.Options{Now: time.Now, LockTimeout: 100 * time.Millisecond})
		}}
		a.Out, a.StdoutTTY = p, false
		code := Run(args, a)
		if code != 0 || !p.tried || p.err != nil || !strings.Contains(p.String(), "Jane Doe") {
			t.Errorf("%v: exit %d, wrote %v, a writer opening the vault meanwhile: %v\n%s", args, code, p.tried, p.err, errOut)
		}
	}
}
