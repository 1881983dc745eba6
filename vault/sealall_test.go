package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
)

// countingSource returns n records, then io.EOF; failAt, if non-zero, is the
// position whose read fails instead. It counts the calls made after it
// failed or ended.
type countingSource struct {
	n, failAt int
	read      int
	after     atomic.Int32
}

var errSourceBroken = errors.New("source broken")

func (c *countingSource) next() (*records.Record, error) {
	if c.read >= c.n || (c.failAt != 0 && c.read >= c.failAt) {
		c.after.Add(1)
		return nil, io.EOF
	}
	c.read++
	if c.read == c.failAt {
		return nil, errSourceBroken
	}
	return &records.Record{Name: fmt.Sprint(c.read)}, nil
}

// runSealAll runs sealAll over src with a prepare that fails at
// prepareFails (if non-zero) and a sink that fails at sinkFails, and
// returns the positions the sink saw, in order, and sealAll's error. It
// fails the test if sealAll does not return within ten seconds.
func runSealAll(t *testing.T, ctx context.Context, next func() (*records.Record, error), prepareFails, sinkFails int) ([]int, error) {
	t.Helper()
	var seen []int
	done := make(chan error, 1)
	go func() {
		done <- sealAll(ctx, recordsIn(next), func(s *sealed) error {
			if s.n == prepareFails {
				return fmt.Errorf("prepare %d", s.n)
			}
			if s.record.Name != fmt.Sprint(s.n) {
				return fmt.Errorf("record %q prepared as %d", s.record.Name, s.n)
			}
			s.raw = []byte(s.record.Name) // the work a worker hands back
			return nil
		}, func(s *sealed) error {
			if string(s.raw) != fmt.Sprint(s.n) {
				return fmt.Errorf("sink got %d unprepared", s.n)
			}
			seen = append(seen, s.n)
			if s.n == sinkFails {
				return fmt.Errorf("sink %d", s.n)
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		return seen, err
	case <-time.After(10 * time.Second):
		t.Fatal("sealAll did not return")
		return nil, nil
	}
}

// TestSealAllOrderAndStops checks that records reach the sink in input
// order, each once and prepared, whatever the length of the input against
// the size of the runs the workers take, and that the first failure of the
// source, of prepare or of the sink stops everything there.
func TestSealAllOrderAndStops(t *testing.T) {
	wantRun := func(t *testing.T, seen []int, upTo int) {
		t.Helper()
		if len(seen) != upTo {
			t.Fatalf("sink saw %d records, want %d", len(seen), upTo)
		}
		for i, n := range seen {
			if n != i+1 {
				t.Fatalf("sink saw record %d at position %d", n, i+1)
			}
		}
	}
	for _, n := range []int{0, 1, 2, 3, sealRun - 1, sealRun, sealRun + 1, 1000} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			src := &countingSource{n: n}
			seen, err := runSealAll(t, context.Background(), src.next, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			wantRun(t, seen, n)
			if src.after.Load() != 1 {
				t.Errorf("source read %d times after its end, want once", src.after.Load())
			}
		})
	}
	t.Run("source fails", func(t *testing.T) {
		src := &countingSource{n: 1000, failAt: 77}
		seen, err := runSealAll(t, context.Background(), src.next, 0, 0)
		if !errors.Is(err, errSourceBroken) {
			t.Fatalf("err = %v, want the source's", err)
		}
		wantRun(t, seen, 76)
		if src.after.Load() != 0 {
			t.Errorf("source read %d times after it failed", src.after.Load())
		}
	})
	t.Run("prepare fails", func(t *testing.T) {
		src := &countingSource{n: 1000}
		seen, err := runSealAll(t, context.Background(), src.next, 300, 0)
		if err == nil || err.Error() != "prepare 300" {
			t.Fatalf("err = %v, want prepare 300", err)
		}
		wantRun(t, seen, 299)
	})
	t.Run("sink fails", func(t *testing.T) {
		src := &countingSource{n: 1000}
		seen, err := runSealAll(t, context.Background(), src.next, 0, 500)
		if err == nil || err.Error() != "sink 500" {
			t.Fatalf("err = %v, want sink 500", err)
		}
		wantRun(t, seen, 500)
	})
	t.Run("cancelled", func(t *testing.T) {
		// An endless source; the caller gives up.
		ctx, cancel := context.WithCancel(context.Background())
		var i atomic.Int64
		next := func() (*records.Record, error) {
			n := i.Add(1)
			if n == 200 {
				cancel()
			}
			return &records.Record{Name: fmt.Sprint(n)}, nil
		}
		_, err := runSealAll(t, ctx, next, 0, 0)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// TestSealAllFirstRecordNotHeldBack checks that a slow source's first
// record is prepared and sunk before the source is asked for more than
// one more: runs start small, so a record typed at a prompt is not kept
// waiting for a full run.
func TestSealAllFirstRecordNotHeldBack(t *testing.T) {
	sunk := make(chan int, 10)
	reads := 0
	next := func() (*records.Record, error) {
		reads++
		switch reads {
		case 1:
			return &records.Record{Name: "1"}, nil
		case 2:
			select {
			case <-sunk:
				return nil, io.EOF
			case <-time.After(10 * time.Second):
				return nil, errors.New("the first record was not sunk while the source waited")
			}
		}
		return nil, io.EOF
	}
	err := sealAll(context.Background(), recordsIn(next), func(*sealed) error { return nil }, func(s *sealed) error {
		sunk <- s.n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
