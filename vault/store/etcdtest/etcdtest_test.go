package etcdtest

import (
	"context"
	"testing"
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
