package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestResolve: a commit whose answer was lost is found made if it was, and
// if it was not, it never can be.
func TestResolve(t *testing.T) {
	cli := etcdtest.StartEtcd(t)
	ctx := context.Background()
	e, err := NewEtcd(cli, "v/", EtcdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// commit makes what a commit of id on a snapshot at rev makes.
	commit := func(rev int64, id string) bool {
		resp, err := cli.Txn(ctx).If(unchangedSince(e.counter, rev)).Then(clientv3.OpPut(e.counter, id), clientv3.OpPut("v/x", id)).Commit()
		if err != nil {
			t.Fatal(err)
		}
		return resp.Succeeded
	}
	snapshot := func() int64 {
		resp, err := cli.Get(ctx, "v/")
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}

	rev := snapshot()
	if !commit(rev, "mine") {
		t.Fatal("the commit failed")
	}
	commit(snapshot(), "later") // commits after it do not hide it
	if made, err := e.resolve(rev, "mine", true); err != nil || !made {
		t.Errorf("a commit made: resolve says %v, %v", made, err)
	}

	rev = snapshot()
	if made, err := e.resolve(rev, "lost", true); err != nil || made {
		t.Errorf("a commit never made: resolve says %v, %v", made, err)
	}
	if commit(rev, "lost") {
		t.Error("a commit resolve found not made was made after it")
	}

	rev = snapshot()
	if !commit(rev, "another") {
		t.Fatal("another's commit failed")
	}
	for _, fence := range []bool{true, false} {
		if made, err := e.resolve(rev, "mine", fence); err != nil || made {
			t.Errorf("another's commit first (fence %v): resolve says %v, %v", fence, made, err)
		}
	}
	// An answer that was an error: no fence is needed, none is made.
	rev = snapshot()
	if made, err := e.resolve(rev, "refused", false); err != nil || made {
		t.Errorf("a commit refused: resolve says %v, %v", made, err)
	}
	if !commit(rev, "next") {
		t.Error("resolve without a fence wrote the counter")
	}
	if made, err := e.resolve(rev, "next", false); err != nil || !made {
		t.Errorf("a commit made, without a fence: resolve says %v, %v", made, err)
	}
}

func TestEtcdErr(t *testing.T) {
	for _, c := range []struct {
		err  error
		want error
	}{
		{rpctypes.ErrNoSpace, ErrNoSpace},
		{rpctypes.ErrGRPCNoSpace, ErrNoSpace},
		{rpctypes.ErrPermissionDenied, ErrAccessDenied},
		{rpctypes.ErrGRPCPermissionDenied, ErrAccessDenied},
		{rpctypes.ErrUserEmpty, ErrAccessDenied},
		{rpctypes.ErrTooManyOps, ErrTooLarge},
		{rpctypes.ErrRequestTooLarge, ErrTooLarge},
		{rpctypes.ErrNoLeader, ErrUnavailable},
		{rpctypes.ErrTimeout, ErrUnavailable},
		{context.DeadlineExceeded, ErrUnavailable},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), ErrUnavailable},
		{status.Error(codes.Unavailable, "connection refused"), ErrUnavailable},
		{clientv3.ErrNoAvailableEndpoints, ErrUnavailable},
	} {
		got := etcdErr(c.err)
		if !errors.Is(got, c.want) || !errors.Is(got, c.err) {
			t.Errorf("etcdErr(%v) = %v, want %v wrapping it", c.err, got, c.want)
		}
	}
	if err := etcdErr(rpctypes.ErrCompacted); errors.Is(err, ErrUnavailable) || !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("etcdErr(ErrCompacted) = %v", err)
	}
}
