package etcdtest

import (
	"context"
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	for i := range 3 {
		s := Start(t, MaxTxnOps(256))
		t.Logf("server %d ready in %v", i, s.Started)
		ctx := context.Background()
		if _, err := s.Client.Put(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
		r, err := s.Client.Get(ctx, "k")
		if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v" {
			t.Fatalf("Get: %v %v", r, err)
		}
		if got := s.Etcd.Config().MaxTxnOps; got != 256 {
			t.Errorf("MaxTxnOps %d", got)
		}
	}
}

// TestCluster: a three-member cluster serves a client of all its members
// when its leader is killed, and again once every member was killed and
// started from its data directory.
func TestCluster(t *testing.T) {
	start := time.Now()
	c := StartCluster(t, 3)
	t.Logf("3 members ready in %v", time.Since(start))
	cli := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "k", "1"); err != nil {
		t.Fatal(err)
	}
	lead := c.WaitLeader(t)
	start = time.Now()
	c.Kill(lead)
	t.Logf("member %d, the leader, killed in %v", lead, time.Since(start))
	if c.Running(lead) {
		t.Errorf("member %d runs after Kill", lead)
	}
	// A write sent before the others elect a new leader may be lost
	// with the old one, and time out.
	t.Logf("a new leader, member %d, %v after the kill", c.WaitLeader(t), time.Since(start))
	if _, err := cli.Put(ctx, "k", "2"); err != nil {
		t.Fatalf("a write with the leader killed: %v", err)
	}
	start = time.Now()
	c.Stop()
	t.Logf("the other two killed in %v", time.Since(start))
	start = time.Now()
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("3 members started again in %v", time.Since(start))
	for i := range c.Size() {
		r, err := c.Member(i).NewClient(t, "", "").Get(ctx, "k")
		if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "2" {
			t.Errorf("member %d after the restart: %v %v", i, r, err)
		}
	}
}
