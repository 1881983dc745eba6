//go:build linux || darwin

package vault

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/internal/agent"
	"github.com/clientvault/clientvault/internal/fakesheet"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/records/sheet"
)

// The cost of the unlock agent (issue 12, item 7): the same command with the
// vault's keys in process (unlocked with a plain X25519 owner key, so no
// scrypt is measured) and through an agent served in this process over a
// unix socket. Each op is a whole command's work on the vault: open,
// unlock, the operation, close. The input size is in each name.
//
//	go test ./vault -run '^$' -bench 'Agent' -benchtime=5x -count=3
//
// req/op is how many requests the agent answered per op; cpu-ms/op the
// process's CPU time per op, the agent's included.

const agentBenchN = 10000

type agentFixture struct {
	path  string
	owner *age.X25519Identity
	names []string
}

var agentFixtureOnce = sync.OnceValues(func() (*agentFixture, error) {
	dir, err := os.MkdirTemp("", "clientvault-agentbench-")
	if err != nil {
		return nil, err
	}
	owner, _ := GenerateIdentity()
	f := &agentFixture{path: filepath.Join(dir, "vault.db"), owner: owner}
	if err := Create(f.path, CreateOptions{Owner: []age.Recipient{owner.Recipient()}, Now: benchNow}); err != nil {
		return nil, err
	}
	v, err := Open(f.path, Options{Now: benchNow})
	if err != nil {
		return nil, err
	}
	defer v.Close()
	if err := v.Unlock(owner); err != nil {
		return nil, err
	}
	recs, _ := benchRecords(0, agentBenchN)
	for _, r := range recs {
		f.names = append(f.names, r.Name)
	}
	_, err = v.Add(context.Background(), source(recs), AddOptions{})
	return f, err
})

func agentFixtureFor(b *testing.B) *agentFixture {
	f, err := agentFixtureOnce()
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// agentModes runs fn with an unlock function for each mode, and reports
// the process's CPU time per op (the agent's included: it is served in this
// process) and the agent's requests per op. The machine is shared, so wall
// times swing; compare the modes within one run (-count interleaves them).
func agentModes(b *testing.B, owner *age.X25519Identity, fn func(b *testing.B, unlock func(*Vault) error)) {
	run := func(b *testing.B, unlock func(*Vault) error, requests func() uint64) {
		before, cpu := requests(), processCPU()
		fn(b, unlock)
		if used := processCPU() - cpu; used > 0 {
			b.ReportMetric(used.Seconds()*1e3/float64(b.N), "cpu-ms/op")
		}
		b.ReportMetric(float64(requests()-before)/float64(b.N), "req/op")
	}
	b.Run("key=inprocess", func(b *testing.B) {
		run(b, func(v *Vault) error { return v.Unlock(owner) }, func() uint64 { return 0 })
	})
	b.Run("key=agent", func(b *testing.B) {
		a := startTestAgent(b, owner)
		c, err := agent.Dial(a.sock, time.Now)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		run(b, func(v *Vault) error { return v.UnlockWithAgent(c) }, a.srv.Requests)
	})
}

// BenchmarkAgentView is `view NAME` at 10,000 records: open, unlock, find
// by the blind index, open the record, audit, close.
func BenchmarkAgentView(b *testing.B) {
	f := agentFixtureFor(b)
	b.Run(fmt.Sprintf("records=%d", agentBenchN), func(b *testing.B) {
		agentModes(b, f.owner, func(b *testing.B, unlock func(*Vault) error) {
			for i := 0; i < b.N; i++ {
				v, err := Open(f.path, Options{Now: benchNow})
				if err != nil {
					b.Fatal(err)
				}
				if err := unlock(v); err != nil {
					b.Fatal(err)
				}
				if _, err := v.View(f.names[(i*7919+13)%agentBenchN]); err != nil {
					b.Fatal(err)
				}
				v.Close()
			}
		})
	})
}

// BenchmarkAgentList is `list` at 10,000 records: open, unlock, open every
// record, audit, close.
func BenchmarkAgentList(b *testing.B) {
	f := agentFixtureFor(b)
	b.Run(fmt.Sprintf("records=%d", agentBenchN), func(b *testing.B) {
		agentModes(b, f.owner, func(b *testing.B, unlock func(*Vault) error) {
			for i := 0; i < b.N; i++ {
				v, err := Open(f.path, Options{Now: benchNow, ReadOnly: false})
				if err != nil {
					b.Fatal(err)
				}
				if err := unlock(v); err != nil {
					b.Fatal(err)
				}
				l, err := v.List()
				if err != nil || len(l) != agentBenchN {
					b.Fatalf("list: %d, %v", len(l), err)
				}
				v.Close()
			}
		})
	})
}

// BenchmarkAgentImport is `import` of a CSV of 10,000 rows into a fresh
// vault (not timed: its creation).
func BenchmarkAgentImport(b *testing.B) {
	var csv bytes.Buffer
	if err := fakesheet.Write(&csv, agentBenchN); err != nil {
		b.Fatal(err)
	}
	data := csv.Bytes()
	owner, _ := GenerateIdentity()
	b.Run(fmt.Sprintf("rows=%d", agentBenchN), func(b *testing.B) {
		agentModes(b, owner, func(b *testing.B, unlock func(*Vault) error) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				path := filepath.Join(b.TempDir(), "vault.db")
				if err := Create(path, CreateOptions{Owner: []age.Recipient{owner.Recipient()}, Now: testClock}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				v, err := Open(path, Options{Now: testClock})
				if err != nil {
					b.Fatal(err)
				}
				if err := unlock(v); err != nil {
					b.Fatal(err)
				}
				r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), sheet.Options{})
				if err != nil {
					b.Fatal(err)
				}
				rep, err := v.Import(context.Background(), sheetRows(r, records.DateOf(testClock())), ImportOptions{Source: "csv"})
				if err != nil || rep.Imported != agentBenchN {
					b.Fatalf("import: %v, %d imported", err, rep.Imported)
				}
				v.Close()
			}
		})
	})
}
