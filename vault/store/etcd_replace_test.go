package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/clientvault/clientvault/vault/store"
	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"github.com/clientvault/clientvault/vault/store/storetest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// contentOf lists every bucket's keys and values, as "bucket/key=value".
func contentOf(t *testing.T, e store.Engine) []string {
	t.Helper()
	var got []string
	err := e.View(func(tx store.Tx) error {
		return tx.ForEach(func(name []byte, b store.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				got = append(got, fmt.Sprintf("%s/%s=%s", name, k, v))
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// keysUnder lists etcd's keys under prefix.
func keysUnder(t *testing.T, cli *clientv3.Client, prefix string) []string {
	t.Helper()
	resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	return keys
}

// TestEtcdReplace: a content written aside, in several transactions, is
// seen by no reader until Publish; then every reader, on this client or
// another, sees it whole and nothing of the old, which is gone from etcd.
// A second replacement replaces the first; an aborted one leaves nothing.
func TestEtcdReplace(t *testing.T) {
	s := etcdtest.Start(t)
	e, err := store.NewEtcd(s.Client, "salon/", store.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := store.NewEtcd(s.NewClient(t, "", ""), "salon/", store.EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, e, "records", "1", "old one", "2", "old two")
	storetest.Put(t, e, "meta", "head", "old")
	old := contentOf(t, e)

	for round, want := range [][]string{
		{"meta/head=new 0", "records/3=new three 0", "records/4=new four 0"},
		{"meta/head=new 1", "records/3=new three 1", "records/4=new four 1"},
	} {
		r, err := e.Replace()
		if err != nil {
			t.Fatal(err)
		}
		storetest.Put(t, r.Engine(), "records", "3", fmt.Sprintf("new three %d", round))
		storetest.Put(t, r.Engine(), "records", "4", fmt.Sprintf("new four %d", round))
		storetest.Put(t, r.Engine(), "meta", "head", fmt.Sprintf("new %d", round))
		if got := contentOf(t, r.Engine()); !slices.Equal(got, want) {
			t.Errorf("round %d: aside: %q", round, got)
		}
		if got := contentOf(t, other); !slices.Equal(got, old) {
			t.Errorf("round %d: before Publish, another client reads %q, want %q", round, got, old)
		}
		if err := r.Publish(context.Background()); err != nil {
			t.Fatal(err)
		}
		for who, eng := range map[string]store.Engine{"this client": e, "another client": other} {
			if got := contentOf(t, eng); !slices.Equal(got, want) {
				t.Errorf("round %d: after Publish, %s reads %q, want %q", round, who, got, want)
			}
		}
		// etcd holds the new content and the generation's name: what
		// was there before is deleted.
		keys := keysUnder(t, s.Client, "salon/")
		if len(keys) != 2+2+3 { // the generation, the counter; two markers; three keys
			t.Errorf("round %d: etcd's keys after Publish: %q", round, keys)
		}
		old = want
	}

	// Aborted: nothing of it stays, and the content is as it was.
	before := keysUnder(t, s.Client, "salon/")
	r, err := e.Replace()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, r.Engine(), "records", "9", "never")
	if err := r.Abort(); err != nil {
		t.Fatal(err)
	}
	if after := keysUnder(t, s.Client, "salon/"); !slices.Equal(after, before) {
		t.Errorf("after Abort, etcd's keys are %q, were %q", after, before)
	}
	if got := contentOf(t, other); !slices.Equal(got, old) {
		t.Errorf("after Abort: %q", got)
	}
}

// TestEtcdReplaceAfterACommit: a commit made on another computer while a
// content is written aside makes Publish fail with ErrReplaced: the commit
// stays, the aside content goes. An Update that read the old content and
// commits after a Publish runs again on the new.
func TestEtcdReplaceAfterACommit(t *testing.T) {
	s := etcdtest.Start(t)
	e, _ := store.NewEtcd(s.Client, "salon/", store.EtcdOptions{})
	other, _ := store.NewEtcd(s.NewClient(t, "", ""), "salon/", store.EtcdOptions{})
	storetest.Put(t, e, "records", "1", "one")

	r, err := e.Replace()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, r.Engine(), "records", "1", "replaced")
	storetest.Put(t, other, "records", "2", "added meanwhile")
	if err := r.Publish(context.Background()); !errors.Is(err, store.ErrReplaced) {
		t.Fatalf("Publish after another commit: %v, want ErrReplaced", err)
	}
	if got, want := contentOf(t, e), []string{"records/1=one", "records/2=added meanwhile"}; !slices.Equal(got, want) {
		t.Errorf("after the refused Publish: %q, want %q", got, want)
	}
	// A marker, the counter, two keys: nothing of the refused content.
	if keys := keysUnder(t, s.Client, "salon/"); len(keys) != 4 {
		t.Errorf("the refused content is still in etcd: %q", keys)
	}

	// An Update of the other computer reads the old content, then the
	// replacement is published before it commits: it runs again.
	r, err = e.Replace()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, r.Engine(), "records", "1", "replaced")
	runs := 0
	err = other.Update(func(tx store.Tx) error {
		runs++
		b := tx.Bucket([]byte("records"))
		if runs == 1 {
			if err := r.Publish(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		return b.Put([]byte("5"), append([]byte("saw "), b.Get([]byte("1"))...))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("the Update ran %d times, want 2", runs)
	}
	if got, want := contentOf(t, e), []string{"records/1=replaced", "records/5=saw replaced"}; !slices.Equal(got, want) {
		t.Errorf("after the Update: %q, want %q", got, want)
	}
}

// TestEtcdReadDuringCompaction: a View whose revision another computer
// compacts away while it reads fails with ErrSnapshotGone, nothing read
// from a later revision; an Update in the same case runs again on the
// present, and commits.
func TestEtcdReadDuringCompaction(t *testing.T) {
	s := etcdtest.Start(t)
	e, _ := store.NewEtcd(s.Client, "salon/", store.EtcdOptions{})
	other, _ := store.NewEtcd(s.NewClient(t, "", ""), "salon/", store.EtcdOptions{})
	storetest.Put(t, e, "records", "1", "one", "2", "two")
	compactMeanwhile := func() {
		storetest.Put(t, other, "records", "2", "two again")
		if err := other.Compact(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	err := e.View(func(tx store.Tx) error {
		b := tx.Bucket([]byte("records"))
		b.Get([]byte("1"))
		compactMeanwhile()
		if v := b.Get([]byte("2")); v != nil {
			t.Errorf("a read after the compaction answered %q", v)
		}
		return nil
	})
	if !errors.Is(err, store.ErrSnapshotGone) {
		t.Errorf("a View whose snapshot was compacted: %v, want ErrSnapshotGone", err)
	}
	runs := 0
	err = e.Update(func(tx store.Tx) error {
		runs++
		b := tx.Bucket([]byte("records"))
		if runs == 1 {
			compactMeanwhile()
		}
		return b.Put([]byte("3"), append([]byte("after "), b.Get([]byte("2"))...))
	})
	if err != nil || runs != 2 {
		t.Errorf("an Update whose snapshot was compacted: %v after %d runs, want success after 2", err, runs)
	}
	if got := contentOf(t, e); !slices.Contains(got, "records/3=after two again") {
		t.Errorf("after the Update: %q", got)
	}
}
