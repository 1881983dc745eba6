package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The tests of this file are about etcd's faults and its many writers: they
// run on etcd servers of their own whatever CLIENTVAULT_TEST_ENGINE says.

// etcdTestPrefix is the prefix of the vaults of this file's tests.
const etcdTestPrefix = "/salon/"

// faultOps and faultBytes are the limits of one transaction on the
// clusters of these tests, raised as a salon's would be for bulk writes
// (README).
const (
	faultOps   = 2048
	faultBytes = 4 << 20
)

// etcdEngine returns an engine of the vault under etcdTestPrefix in the
// cluster of cli.
func etcdEngine(t testing.TB, cli *clientv3.Client, o store.EtcdOptions) store.Engine {
	t.Helper()
	e, err := store.NewEtcd(cli, etcdTestPrefix, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// createOnEtcd makes a vault in the cluster of cli and returns its owner.
func createOnEtcd(t testing.TB, cli *clientv3.Client, o store.EtcdOptions) *age.X25519Identity {
	t.Helper()
	owner, err := GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	e := etcdEngine(t, cli, o)
	defer e.Close()
	if err := CreateIn(e, "etcd", CreateOptions{Owner: []age.Recipient{owner.Recipient()}, Now: testClock}); err != nil {
		t.Fatal(err)
	}
	return owner
}

// openOnEtcd opens the vault in the cluster of cli and unlocks it with
// owner's key, as a command on one computer does (read-only if vo says
// so). It is closed when t ends.
func openOnEtcd(t testing.TB, cli *clientv3.Client, owner age.Identity, o store.EtcdOptions, vo Options) *Vault {
	t.Helper()
	vo.Now = testClock
	v, err := OpenEngine(etcdEngine(t, cli, o), "etcd", vo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Unlock(owner); err != nil {
		t.Fatal(err)
	}
	return v
}

// verified checks the whole vault and its audit chain, and returns how many
// records it holds and how many interrupted adds are left to remove.
func verified(t testing.TB, v *Vault) (records, stages int) {
	t.Helper()
	rep, err := v.Verify()
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !rep.OK() {
		t.Errorf("verify: %v", rep.Problems)
	}
	if _, err := v.VerifyAudit(); err != nil {
		t.Errorf("the audit chain: %v", err)
	}
	return rep.Records, rep.PendingStages
}

// visibleRecords counts the records a command sees, and the interrupted
// adds left to remove, without opening any: Verify's count, cheaply.
func visibleRecords(t testing.TB, v *Vault) (n, stages int) {
	t.Helper()
	err := v.view(func(tx *txn) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, raw := c.First(); k != nil; k, raw = c.Next() {
			if e, err := unmarshalEntry(raw); err == nil && tx.visible(e) {
				n++
			}
		}
		stages = keyCount(tx.Bucket(bucketStages).Bucket)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, stages
}

// TestEtcdClusterMemberKilledDuringImport: a member of a three-member
// cluster (a follower, then the leader) is killed in the middle of an
// import. The import goes on through the members left and completes, with
// every row in; only a last commit whose answer was lost with the member may
// fail it, with none of the rows visible. The vault verifies either way, and
// the members left serve the next command.
func TestEtcdClusterMemberKilledDuringImport(t *testing.T) {
	const before, rows = 3, 1000
	recs, _ := benchRecords(0, before+rows)
	for _, victim := range []string{"follower", "leader"} {
		t.Run(victim, func(t *testing.T) {
			c := etcdtest.StartCluster(t, 3, etcdtest.MaxTxnOps(faultOps), etcdtest.MaxRequestBytes(faultBytes))
			cli := c.Client(t)
			o := store.EtcdOptions{RequestTimeout: 2 * time.Second, MaxTxnOps: faultOps, MaxRequestBytes: faultBytes}
			owner := createOnEtcd(t, cli, o)
			v := openOnEtcd(t, cli, owner, o, Options{})
			if _, err := v.Add(context.Background(), sliceSource(clonedRecords(recs[:before])), AddOptions{}); err != nil {
				t.Fatal(err)
			}
			kill := c.WaitLeader(t)
			if victim == "follower" {
				kill = (kill + 1) % c.Size()
			}
			var (
				once     sync.Once
				killed   = make(chan struct{})
				at       int
				finished atomic.Bool
				midway   bool
			)
			start := time.Now()
			rep, err := v.Import(context.Background(), rowSource(rowsOf(clonedRecords(recs[before:])...)), ImportOptions{
				BatchSize: 100,
				Progress: func(read, written int) {
					if written >= rows/3 {
						once.Do(func() {
							at = written
							// The import goes on while the member dies.
							go func() {
								c.Kill(kill)
								midway = !finished.Load()
								close(killed)
							}()
						})
					}
				},
			})
			finished.Store(true)
			took := time.Since(start)
			<-killed
			if !midway {
				t.Fatalf("the import ended (%v) before member %d was killed", err, kill)
			}
			t.Logf("member %d (the %s) killed with %d rows written; the import: %v after %v", kill, victim, at, err, took)
			want := before + rows
			if err != nil && !errors.Is(err, store.ErrCommitUnknown) {
				// The members left have a quorum: reads and commits
				// go on through them.
				t.Errorf("the import stopped with a member killed: %v", err)
			}
			if err != nil {
				want = before
				if rep != nil && rep.Imported != 0 {
					t.Errorf("a failed import reports %d rows imported", rep.Imported)
				}
			} else if rep.Imported != rows {
				t.Errorf("%d rows imported of %d", rep.Imported, rows)
			}
			n, _ := verified(t, v)
			switch {
			case n == want:
			case errors.Is(err, store.ErrCommitUnknown) && (n == before || n == before+rows):
				// The final commit's answer was lost: it was made or
				// not, whole.
				t.Logf("the import's last commit is unknown to it: %d records", n)
			default:
				t.Errorf("%d records after the import (%v), want %d", n, err, want)
			}
			if imports, want := countActions(t, v, ActionImport), min(n-before, 1); imports != want {
				t.Errorf("the audit log has %d imports, with %d records imported", imports, n-before)
			}
			// The next command, on the members left: it removes what a
			// failed import staged, and writes.
			v2 := openOnEtcd(t, cli, owner, o, Options{})
			if n2, stages := visibleRecords(t, v2); n2 != n || stages != 0 {
				t.Errorf("reopened: %d records and %d stages, want %d and none", n2, stages, n)
			}
			if _, err := v2.Add(context.Background(), sliceSource([]*records.Record{fakeRecord(1)}), AddOptions{}); err != nil {
				t.Fatalf("an add on the members left: %v", err)
			}
			if n2, _ := verified(t, v2); n2 != n+1 {
				t.Errorf("%d records after one more, want %d", n2, n+1)
			}
		})
	}
}

// clonedRecords copies recs, which Add and Import change (they number
// treatments and let the plaintext go).
func clonedRecords(recs []*records.Record) []*records.Record {
	out := make([]*records.Record, len(recs))
	for i, r := range recs {
		c := *r
		c.Treatments = append([]records.Treatment(nil), r.Treatments...)
		out[i] = &c
	}
	return out
}

// TestEtcdConcurrentWriters: two computers (two clients of one etcd, each
// with its own vault handle) add records (one at a time, and every fifth
// add three in staged batches of one) and note the same two clients at
// once. Every add and every note is there once, numbered without gaps or
// repeats, the audit log has an entry for each, and the vault verifies.
func TestEtcdConcurrentWriters(t *testing.T) {
	s := etcdtest.Start(t, etcdtest.MaxTxnOps(faultOps), etcdtest.MaxRequestBytes(faultBytes))
	o := store.EtcdOptions{MaxTxnOps: faultOps, MaxRequestBytes: faultBytes}
	clients := []*clientv3.Client{s.NewClient(t, "", ""), s.NewClient(t, "", "")}
	owner := createOnEtcd(t, clients[0], o)
	ctx := context.Background()
	v0 := openOnEtcd(t, clients[0], owner, o, Options{})
	seeds, err := v0.Add(ctx, sliceSource([]*records.Record{fakeRecord(1), fakeRecord(2)}), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const each = 20
	type done struct {
		added []ID
		notes map[ID][]int // the numbers Note returned, by client
		err   error
	}
	results := make([]done, len(clients))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w, cli := range clients {
		v := openOnEtcd(t, cli, owner, o, Options{Actor: fmt.Sprintf("computer%d", w)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			r.notes = map[ID][]int{}
			<-start
			for i := range each {
				var recs []*records.Record
				for j := range 1 + 2*(i%5/4) {
					recs = append(recs, benchRecord(1000*w+10*i+j))
				}
				ids, err := v.Add(ctx, sliceSource(recs), AddOptions{BatchSize: 1})
				if err != nil {
					r.err = fmt.Errorf("computer %d, add %d: %w", w, i, err)
					return
				}
				r.added = append(r.added, ids...)
				seed := seeds[i%len(seeds)]
				n, err := v.Note(seed.String(), records.Treatment{Date: records.Date{Year: 2026, Month: 11, Day: 1},
					Service: fmt.Sprintf("computer %d note %d", w, i)})
				if err != nil {
					r.err = fmt.Errorf("computer %d, note %d: %w", w, i, err)
					return
				}
				r.notes[seed] = append(r.notes[seed], n)
			}
		}()
	}
	begin := time.Now()
	close(start)
	wg.Wait()
	var added []ID
	for _, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		added = append(added, r.added...)
	}
	t.Logf("%d adds (%d records) and %d notes from %d computers at once in %v",
		each*len(clients), len(added), each*len(clients), len(clients), time.Since(begin))

	// Every record added is there once, and every note.
	if n, stages := visibleRecords(t, v0); n != len(seeds)+len(added) || stages != 0 {
		t.Errorf("%d records and %d stages, want %d and none", n, stages, len(seeds)+len(added))
	}
	for _, id := range added {
		if _, err := v0.View(id.String()); err != nil {
			t.Errorf("an added record: %v", err)
		}
	}
	for _, seed := range seeds {
		st, err := v0.View(seed.String())
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		var numbers []int
		for i, tr := range st.Treatments {
			got = append(got, tr.Service)
			if tr.N != i+1 {
				t.Errorf("client %s: entry %d is numbered %d", seed, i+1, tr.N)
			}
		}
		for w, r := range results {
			numbers = append(numbers, r.notes[seed]...)
			for i := range each {
				if seeds[i%len(seeds)] == seed {
					want = append(want, fmt.Sprintf("computer %d note %d", w, i))
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("client %s has the notes\n%q\nwant\n%q", seed, got, want)
		}
		slices.Sort(numbers)
		for i, n := range numbers {
			if n != i+1 {
				t.Errorf("client %s: Note returned the numbers %v, want 1 to %d once each", seed, numbers, len(want))
				break
			}
		}
	}

	// The audit log has one entry for each, and its chain holds.
	events, err := v0.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	auditedAdds := map[string]int{}
	for _, e := range events {
		count[e.Action]++
		if e.Action == ActionAdd {
			for _, id := range append(e.Records, e.Record) {
				auditedAdds[id]++
			}
		}
	}
	if count[ActionAdd] != 1+each*len(clients) || count[ActionNote] != each*len(clients) {
		t.Errorf("the audit log has %d adds and %d notes, want %d and %d", count[ActionAdd], count[ActionNote], 1+each*len(clients), each*len(clients))
	}
	for _, id := range added {
		if auditedAdds[id.String()] != 1 {
			t.Errorf("record %s's add is in the audit log %d times", id, auditedAdds[id.String()])
		}
	}
	verified(t, v0)

	// A reader is not blocked by a writer: computer 1 views and lists, and
	// a third computer opens the vault read-only, while computer 0's large
	// add is half written; none of them sees its records until it is
	// published, then all of them do.
	t.Run("reader", func(t *testing.T) {
		writer := openOnEtcd(t, clients[0], owner, o, Options{})
		reader := openOnEtcd(t, clients[1], owner, o, Options{})
		before, _ := visibleRecords(t, v0)
		var third *Vault
		err := halfWrittenAdd(t, writer, 5000, func() {
			if _, err := reader.View(seeds[0].String()); err != nil {
				t.Errorf("a view during the add: %v", err)
			}
			if list, err := reader.List(); err != nil || len(list) != before {
				t.Errorf("a list during the add: %d records (%v), want %d", len(list), err, before)
			}
			third = openOnEtcd(t, clients[1], owner, o, Options{ReadOnly: true})
			if got, _ := visibleRecords(t, third); got != before {
				t.Errorf("a computer that opened the vault during the add sees %d records, want %d", got, before)
			}
		})
		if err != nil {
			t.Fatalf("the add: %v", err)
		}
		for _, v := range []*Vault{reader, third} {
			if got, _ := visibleRecords(t, v); got != before+halfAdd {
				t.Errorf("after the add: %d records, want %d", got, before+halfAdd)
			}
		}
		verified(t, v0)
	})

	// A third computer opens the vault for writing while computer 0's add
	// is half written. The add beat a moment ago (stagebeats), so the
	// opener leaves its stage alone and the add completes. Once its beats
	// have stopped longer than stageAlive, a stage is an interrupted add's
	// and is removed: an add that was only slow then fails, having added
	// nothing (ErrBusy), and never publishes records that are gone.
	t.Run("writer opens", func(t *testing.T) {
		writer := openOnEtcd(t, clients[0], owner, o, Options{})
		before, _ := visibleRecords(t, v0)
		err := halfWrittenAdd(t, writer, 6000, func() {
			openOnEtcd(t, clients[1], owner, o, Options{})
		})
		if err != nil {
			t.Fatalf("an add going on when another computer opened the vault: %v", err)
		}
		if n, stages := visibleRecords(t, v0); n != before+halfAdd || stages != 0 {
			t.Errorf("%d records and %d stages, want %d and none", n, stages, before+halfAdd)
		}
		verified(t, v0)
	})
	t.Run("writer opens after the beats stopped", func(t *testing.T) {
		beatsLongStopped(t)
		writer := openOnEtcd(t, clients[0], owner, o, Options{})
		before, _ := visibleRecords(t, v0)
		err := halfWrittenAdd(t, writer, 7000, func() {
			openOnEtcd(t, clients[1], owner, o, Options{})
		})
		if !errors.Is(err, ErrBusy) {
			t.Errorf("the add: %v, want ErrBusy", err)
		}
		if n, stages := visibleRecords(t, v0); n != before || stages != 0 {
			t.Errorf("%d records and %d stages, want %d and none", n, stages, before)
		}
		verified(t, v0)
	})
}

// halfAdd is how many records halfWrittenAdd adds.
const halfAdd = 500

// halfWrittenAdd adds halfAdd records with v, from benchRecord(first) on,
// in staged batches, and runs during while half of them are written and
// the add waits; it returns the add's result.
func halfWrittenAdd(t *testing.T, v *Vault, first int, during func()) error {
	t.Helper()
	const batch = 100
	recs, _ := benchRecords(first, halfAdd)
	var (
		staged  = make(chan struct{})
		release = make(chan struct{})
		once    sync.Once
		given   int
	)
	next := sliceSource(recs)
	added := make(chan error, 1)
	go func() {
		ids, err := v.Add(context.Background(), func() (*records.Record, error) {
			// Half way, the add waits until during is done.
			if given++; given == halfAdd/2+1 {
				<-release
			}
			return next()
		}, AddOptions{BatchSize: batch, Progress: func(written int) {
			if written >= 2*batch {
				once.Do(func() { close(staged) })
			}
		}})
		if err == nil && len(ids) != halfAdd {
			err = fmt.Errorf("%d IDs for %d records", len(ids), halfAdd)
		}
		added <- err
	}()
	select {
	case <-staged:
	case err := <-added:
		t.Fatalf("the add ended before it was half written: %v", err)
	}
	during()
	close(release)
	return <-added
}

// bounded runs fn and returns its error and how long it took; it fails t if
// fn has not returned in 30 s. A command whose cluster is gone must give up
// by itself, in about its request timeout: the bound tells a hang from an
// answer, it does not time the answer.
func bounded(t *testing.T, what string, fn func() error) (time.Duration, error) {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no answer in 30 s", what)
		return 0, nil
	}
}

// TestEtcdClusterLost: a computer that loses the whole cluster in the
// middle of a bulk add gets ErrUnavailable from it, and from its next
// write, by itself (its request timeout is 500 ms). When the members are
// started again from their data directories, nothing of either is there:
// the add's staged batches are invisible, the vault verifies, and the next
// command removes them and writes.
func TestEtcdClusterLost(t *testing.T) {
	beatsLongStopped(t)
	c := etcdtest.StartCluster(t, 3, etcdtest.MaxTxnOps(faultOps), etcdtest.MaxRequestBytes(faultBytes))
	o := store.EtcdOptions{RequestTimeout: 500 * time.Millisecond, MaxTxnOps: faultOps, MaxRequestBytes: faultBytes}
	cli := c.Client(t)
	owner := createOnEtcd(t, cli, o)
	v := openOnEtcd(t, cli, owner, o, Options{})
	ctx := context.Background()
	seeds, err := v.Add(ctx, sliceSource([]*records.Record{fakeRecord(1), fakeRecord(2), fakeRecord(3)}), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 100
	recs, _ := benchRecords(0, 6*batch)
	var lost time.Time
	_, err = bounded(t, "an add whose cluster is gone", func() error {
		_, err := v.Add(ctx, sliceSource(recs), AddOptions{BatchSize: batch, Progress: func(written int) {
			if written >= 2*batch && lost.IsZero() {
				// Two batches staged, and every member gone before
				// the third is committed.
				c.Stop()
				lost = time.Now()
			}
		}})
		return err
	})
	if lost.IsZero() {
		t.Fatalf("the add ended before the cluster was lost: %v", err)
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("an add whose cluster is gone: %v, want ErrUnavailable", err)
	}
	t.Logf("the add, %v after the cluster was lost: %v", time.Since(lost), err)
	note := records.Treatment{Date: records.Date{Year: 2026, Month: 11, Day: 1}, Service: "brow tint"}
	took, err := bounded(t, "a note whose cluster is gone", func() error {
		_, err := v.Note(seeds[0].String(), note)
		return err
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("a note whose cluster is gone: %v, want ErrUnavailable", err)
	}
	t.Logf("the note, after %v: %v", took, err)

	// Back, from the members' data directories.
	start := time.Now()
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("3 members started again in %v", time.Since(start))
	cli = c.Client(t)
	ro := openOnEtcd(t, cli, owner, o, Options{ReadOnly: true})
	if n, stages := verified(t, ro); n != len(seeds) || stages != 1 {
		t.Errorf("read-only, after the restart: %d records and %d stages, want %d and the add's", n, stages, len(seeds))
	}
	treatments := func(v *Vault) int {
		n := -1
		err := v.view(func(tx *txn) error {
			m, _, err := v.resolve(tx, seeds[0].String())
			if err == nil {
				n = len(m.record.Treatments)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := treatments(ro); n != 0 {
		t.Errorf("the note that failed left %d treatments", n)
	}
	events, err := ro.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Action == ActionNote || e.Action == ActionAdd && e.Count != len(seeds) {
			t.Errorf("the audit log has an entry of what failed: %+v", e)
		}
	}

	// The next command removes the staged batches, and writes.
	w := openOnEtcd(t, cli, owner, o, Options{})
	if _, err := w.Note(seeds[0].String(), note); err != nil {
		t.Fatalf("a note once the cluster is back: %v", err)
	}
	if n := treatments(w); n != 1 {
		t.Errorf("%d treatments after a note, want 1", n)
	}
	if n, stages := verified(t, w); n != len(seeds) || stages != 0 {
		t.Errorf("after the next command: %d records and %d stages, want %d and none", n, stages, len(seeds))
	}
	w.view(func(tx *txn) error {
		if n := keyCount(tx.Bucket(bucketRecords).Bucket); n != len(seeds) {
			t.Errorf("%d entries stored after the next command, want %d", n, len(seeds))
		}
		return nil
	})
}

// TestEtcdNoSpace: on an etcd whose database reached its quota (its NOSPACE
// alarm), a vault write fails with ErrNoSpace and writes nothing: the vault
// reads and verifies as it was. Then what the command's hint says to do
// (compact and defragment, disarm the alarm) lets it write again.
func TestEtcdNoSpace(t *testing.T) {
	s := etcdtest.Start(t, etcdtest.QuotaBackendBytes(2<<20))
	cli := s.Client
	o := store.EtcdOptions{}
	owner := createOnEtcd(t, cli, o)
	v := openOnEtcd(t, cli, owner, o, Options{})
	ctx := context.Background()
	seeds, err := v.Add(ctx, sliceSource([]*records.Record{fakeRecord(1), fakeRecord(2)}), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Something else in the cluster fills it. The server sees its
	// database grow when its backend commits, every 100 ms.
	big := string(make([]byte, 256<<10))
	filled := false
	for i := 0; i < 200 && !filled; i++ {
		_, err := cli.Put(ctx, fmt.Sprintf("/filler/%d", i), big)
		switch {
		case err == nil:
			time.Sleep(20 * time.Millisecond)
		case errors.Is(rpctypes.Error(err), rpctypes.ErrNoSpace):
			filled = true
		default:
			t.Fatalf("filling etcd: %v", err)
		}
	}
	if !filled {
		t.Fatal("etcd never ran out of space")
	}

	note := records.Treatment{Date: records.Date{Year: 2026, Month: 11, Day: 1}, Service: "brow tint"}
	if _, err := v.Note(seeds[0].String(), note); !errors.Is(err, store.ErrNoSpace) {
		t.Errorf("a note on a full etcd: %v, want ErrNoSpace", err)
	} else {
		t.Log(err)
	}
	if _, err := v.Add(ctx, sliceSource([]*records.Record{fakeRecord(3)}), AddOptions{}); !errors.Is(err, store.ErrNoSpace) {
		t.Errorf("an add on a full etcd: %v, want ErrNoSpace", err)
	}
	if _, err := v.View(seeds[0].String()); !errors.Is(err, store.ErrNoSpace) {
		t.Errorf("a view (it writes its audit entry) on a full etcd: %v, want ErrNoSpace", err)
	}

	// As it was: read by another computer, read-only.
	ro := openOnEtcd(t, cli, owner, o, Options{ReadOnly: true})
	if n, stages := verified(t, ro); n != len(seeds) || stages != 0 {
		t.Errorf("on a full etcd: %d records and %d stages, want %d and none", n, stages, len(seeds))
	}
	events, err := ro.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Action != ActionAdd || last.Count != len(seeds) {
		t.Errorf("the audit log ends with %+v, want the add of the seeds", last)
	}

	// What to do: free space, compact and defragment, disarm the alarm.
	if _, err := cli.Delete(ctx, "/filler/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if err := etcdEngine(t, cli, o).(Compacter).Compact(ctx); err != nil {
		t.Fatal(err)
	}
	alarms, err := cli.AlarmList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alarms.Alarms {
		if _, err := cli.AlarmDisarm(ctx, (*clientv3.AlarmMember)(a)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := v.Note(seeds[0].String(), note); err != nil || n != 1 {
		t.Fatalf("a note once etcd has room again: entry %d, %v", n, err)
	}
	verified(t, v)
}
