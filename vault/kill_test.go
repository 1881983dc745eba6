package vault

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
)

// Issue 2, promise 8: a process killed (SIGKILL) in the middle of writing
// leaves a vault that Verify accepts, holding all of that command's change
// or none of it; a second process waits about a second, then gets ErrBusy.
// These tests run a real child process: the test binary itself, re-executed
// with CLIENTVAULT_TEST_HELPER naming what it should do, as os/exec's own
// tests do. The child talks to the parent through its standard output,
// which it writes unbuffered, so every line it printed before it was killed
// reaches the parent.

const helperEnv = "CLIENTVAULT_TEST_HELPER"

// TestHelperProcess is the child's side; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	err := runHelper(mode, os.Getenv("CLIENTVAULT_TEST_VAULT"), os.Getenv("CLIENTVAULT_TEST_KEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

func runHelper(mode, path, key string) error {
	v, err := Open(path, Options{Now: benchNow, Actor: "helper"})
	if err != nil {
		return err
	}
	defer v.Close()
	id, err := age.ParseX25519Identity(key)
	if err != nil {
		return err
	}
	if err := v.Unlock(id); err != nil {
		return err
	}
	switch mode {
	case "bulk-add":
		// One staged add of many batches; a line after each batch.
		n, _ := strconv.Atoi(os.Getenv("CLIENTVAULT_TEST_N"))
		batch, _ := strconv.Atoi(os.Getenv("CLIENTVAULT_TEST_BATCH"))
		recs, _ := benchRecords(1000, n)
		_, err := v.Add(context.Background(), source(recs), AddOptions{
			BatchSize: batch,
			Progress:  func(written int) { fmt.Printf("batch %d\n", written) },
		})
		if err != nil {
			return err
		}
		fmt.Println("done")
	case "single-adds":
		// One small add after another, each its own transaction, with a
		// line before and after each.
		for i := 1; i <= 100000; i++ {
			fmt.Printf("adding %d\n", i)
			recs, _ := benchRecords(2000+i, 1)
			if _, err := v.Add(context.Background(), source(recs), AddOptions{}); err != nil {
				return err
			}
			fmt.Printf("added %d\n", i)
		}
	case "import":
		// TestImportKilled's large import (importKilled).
		importKilled(v)
	case "hold":
		// Hold the vault open (bbolt's write lock) until stdin closes.
		fmt.Println("holding")
		io.Copy(io.Discard, os.Stdin)
	default:
		return fmt.Errorf("unknown helper mode %q", mode)
	}
	return nil
}

// child is a helper process and the lines it prints.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	stdin io.WriteCloser
}

// startHelper starts the test binary as a helper in mode on the vault at
// path, unlocked with owner.
func startHelper(t *testing.T, mode, path string, owner *age.X25519Identity, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "CLIENTVAULT_TEST_VAULT="+path, "CLIENTVAULT_TEST_KEY="+owner.String())
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = &prefixWriter{t: t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1024), stdin: stdin}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return c
}

// next returns the child's next line; ok is false once it exited.
func (c *child) next(t *testing.T, timeout time.Duration) (line string, ok bool) {
	t.Helper()
	select {
	case line, ok = <-c.lines:
		return line, ok
	case <-time.After(timeout):
		t.Fatalf("the helper printed nothing for %v", timeout)
		return "", false
	}
}

// kill SIGKILLs the child, waits for it, and returns every line it printed
// that the parent had not read yet.
func (c *child) kill(t *testing.T) []string {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range c.lines {
		rest = append(rest, l)
	}
	err := c.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Logf("helper was not killed by the signal (it had finished): %v", err)
	}
	return rest
}

type prefixWriter struct{ t *testing.T }

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.t.Logf("helper stderr: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}

// killVault makes a vault holding a few records, owned by a plain key, and
// closes it; it returns its path, the owner and the IDs it holds.
func killVault(t *testing.T) (string, *age.X25519Identity, []ID) {
	t.Helper()
	v, owner := benchCreate(t, t.TempDir())
	recs, _ := benchRecords(0, 5)
	ids, err := v.Add(context.Background(), source(recs), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := v.Path()
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	return path, owner, ids
}

// openAs opens and unlocks the vault at path; read-only changes nothing.
func openAs(t *testing.T, path string, owner *age.X25519Identity, readOnly bool) *Vault {
	t.Helper()
	v, err := Open(path, Options{Now: benchNow, ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(owner); err != nil {
		v.Close()
		t.Fatal(err)
	}
	return v
}

// vaultCounts is what the vault holds, counted key by key: what is visible,
// and what is in each bucket, staged entries included.
type vaultCounts struct {
	visible                     int
	records, ids, index, stages int
	pending                     int // stages the vault knows as unpublished
}

func countVault(t *testing.T, v *Vault) vaultCounts {
	t.Helper()
	var c vaultCounts
	err := v.view(func(tx *txn) error {
		count := func(name []byte) int {
			n := 0
			tx.Bucket(name).ForEach(func(_, _ []byte) error { n++; return nil })
			return n
		}
		c.records, c.ids, c.index, c.stages = count(bucketRecords), count(bucketIDs), count(bucketIndex), count(bucketStages)
		return tx.Bucket(bucketIDs).ForEach(func(k, _ []byte) error {
			if _, err := v.getEntry(tx, ID(k)); err == nil {
				c.visible++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	c.pending = len(v.pending)
	return c
}

// mustVerify fails the test unless Verify finds no problem.
func mustVerify(t *testing.T, v *Vault) *Report {
	t.Helper()
	rep, err := v.Verify()
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify found problems: %v", rep.Problems)
	}
	return rep
}

// checkClean checks that a vault opened for writing holds no trace of a
// killed add: every stored entry, ID and index entry belongs to a visible
// record.
func checkClean(t *testing.T, v *Vault, want int) {
	t.Helper()
	c := countVault(t, v)
	if c != (vaultCounts{visible: want, records: want, ids: want, index: 2 * want}) {
		t.Fatalf("after the next write opened the vault: %+v, want %d records and nothing else", c, want)
	}
	if rep := mustVerify(t, v); rep.Records != want || rep.PendingStages != 0 {
		t.Fatalf("verify: %d records, %d pending stages; want %d, 0", rep.Records, rep.PendingStages, want)
	}
}

// raceDetector children are much slower; the kill tests use a smaller add.
func killSizes() (n, batch int) {
	if raceDetector || testing.Short() {
		return 2000, 100
	}
	return 10000, 500
}

// TestKillBulkAdd kills a bulk add of 20 batches at several points: after
// the first batch, after the second, halfway, and after the 19th, while
// the last batch is sealed or the final transaction (which writes it and
// publishes all of them) commits. Each time the vault must
// pass Verify and hold all of the add or none of it, the staged entries must
// be invisible, and the next command that opens the vault for writing must
// remove them.
func TestKillBulkAdd(t *testing.T) {
	beatsLongStopped(t)
	n, batch := killSizes()
	last := n/batch - 1
	for _, after := range []int{1, 2, n / batch / 2, last} {
		t.Run(fmt.Sprintf("after_batch_%d", after), func(t *testing.T) {
			path, owner, before := killVault(t)
			c := startHelper(t, "bulk-add", path, owner,
				fmt.Sprintf("CLIENTVAULT_TEST_N=%d", n), fmt.Sprintf("CLIENTVAULT_TEST_BATCH=%d", batch))
			var perBatch time.Duration
			for prev := time.Now(); ; {
				line, ok := c.next(t, 5*time.Minute)
				if !ok {
					t.Fatal("the helper exited before it was killed")
				}
				var written int
				if _, err := fmt.Sscanf(line, "batch %d", &written); err == nil {
					perBatch, prev = time.Since(prev), time.Now()
					if written >= after*batch {
						break
					}
				}
			}
			// Land the kill somewhere in the next batch's sealing or commit.
			// Before the last batch, anywhere in the time a batch takes, to
			// hit the final transaction now and then.
			delay := time.Duration(rand.IntN(30000)) * time.Microsecond
			if after == last {
				delay = perBatch/2 + time.Duration(rand.Int64N(int64(perBatch)))
			}
			time.Sleep(delay)
			rest := c.kill(t)
			finished := len(rest) > 0 && rest[len(rest)-1] == "done"
			t.Logf("killed %v after batch %d; printed after that: %d lines", delay, after, len(rest))

			// A command that only reads sees the vault as it was, or with
			// all of the add: the staged entries are still in the file,
			// invisible, and Verify accepts it.
			v := openAs(t, path, owner, true)
			got := countVault(t, v)
			rep := mustVerify(t, v)
			t.Logf("after the kill the vault holds %d records (%d before, %d in the add)", rep.Records, len(before), n)
			switch rep.Records {
			case len(before):
				if got.pending != 1 || got.stages != 1 || got.records <= len(before) {
					t.Errorf("none added, but the stage is not pending: %+v", got)
				}
				if finished {
					t.Error(`the helper printed "done" but its add is not in the vault`)
				}
			case len(before) + n:
				if got.pending != 0 || got.stages != 0 {
					t.Errorf("all added, but a stage is left: %+v", got)
				}
				if after != last {
					t.Errorf("killed after batch %d of %d, yet the add was published", after, n/batch)
				}
			default:
				t.Fatalf("vault holds %d records; want %d (none of the add) or %d (all of it)", rep.Records, len(before), len(before)+n)
			}
			v.Close()

			// The next command that writes removes what the killed add left.
			v = openAs(t, path, owner, false)
			defer v.Close()
			checkClean(t, v, rep.Records)
			for _, id := range before {
				if _, err := v.View(id.String()); err != nil {
					t.Errorf("record %s after the kill: %v", id, err)
				}
			}
			recs, _ := benchRecords(500000, 3)
			if _, err := v.Add(context.Background(), source(recs), AddOptions{}); err != nil {
				t.Fatal(err)
			}
			checkClean(t, v, rep.Records+3)
		})
	}
}

// TestKillSingleAdd kills a child that adds one record after another, at a
// few points; the add in flight when the kill lands is all there or not at
// all, and every add that finished is there.
func TestKillSingleAdd(t *testing.T) {
	beatsLongStopped(t)
	for _, after := range []int{1, 7, 25} {
		t.Run(fmt.Sprintf("after_add_%d", after), func(t *testing.T) {
			path, owner, before := killVault(t)
			c := startHelper(t, "single-adds", path, owner)
			lastAdding, lastAdded := 0, 0
			track := func(line string) {
				if n, ok := strings.CutPrefix(line, "adding "); ok {
					lastAdding, _ = strconv.Atoi(n)
				}
				if n, ok := strings.CutPrefix(line, "added "); ok {
					lastAdded, _ = strconv.Atoi(n)
				}
			}
			for lastAdded < after {
				line, ok := c.next(t, 2*time.Minute)
				if !ok {
					t.Fatal("the helper exited before it was killed")
				}
				track(line)
			}
			time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
			for _, line := range c.kill(t) {
				track(line)
			}

			v := openAs(t, path, owner, true)
			rep := mustVerify(t, v)
			got := rep.Records - len(before)
			// Add lastAdding was in flight: it is all there or not at all.
			if got != lastAdding && !(got == lastAdding-1 && lastAdded == lastAdding-1) {
				t.Fatalf("vault holds %d added records; the helper finished %d and had started %d", got, lastAdded, lastAdding)
			}
			t.Logf("killed during add %d (%d finished); the vault holds %d of them", lastAdding, lastAdded, got)
			v.Close()
			v = openAs(t, path, owner, false)
			defer v.Close()
			checkClean(t, v, rep.Records)
		})
	}
}

// TestBusy holds the vault open in a child process: Open in this process,
// for writing or reading, must give up after about the lock timeout with
// ErrBusy, never hang, and succeed once the child has let go.
func TestBusy(t *testing.T) {
	fileOnly(t, "the file's lock: etcd has none, a reader never waits")
	path, owner, _ := killVault(t)
	c := startHelper(t, "hold", path, owner)
	if line, ok := c.next(t, time.Minute); !ok || line != "holding" {
		t.Fatalf("helper said %q, want holding", line)
	}
	for _, readOnly := range []bool{false, true} {
		start := time.Now()
		v, err := Open(path, Options{Now: benchNow, ReadOnly: readOnly})
		elapsed := time.Since(start)
		if err == nil {
			v.Close()
			t.Fatalf("read-only=%v: Open succeeded while another process holds the vault", readOnly)
		}
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("read-only=%v: Open: %v, want ErrBusy", readOnly, err)
		}
		if elapsed < 900*time.Millisecond || elapsed > 3*time.Second {
			t.Errorf("read-only=%v: ErrBusy after %v, want about one second", readOnly, elapsed)
		}
		t.Logf("read-only=%v: %v after %v", readOnly, err, elapsed.Round(time.Millisecond))
	}
	// Once the other process lets go, the vault opens.
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	v := openAs(t, path, owner, false)
	defer v.Close()
	mustVerify(t, v)
}
