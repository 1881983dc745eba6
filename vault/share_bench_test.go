package vault

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// benchShares is the input size of the staff remove benchmark: a coworker
// who holds this many shared records, each with its consent.
const benchShares = 10_000

var (
	benchOnce     sync.Once
	benchTemplate string // a vault file where Bea holds benchShares shares
	benchOwner    *age.X25519Identity
	benchErr      error
)

// staffRemoveTemplate builds, once per process, a vault with benchShares
// records, each with a consent to Bea and a share sealed to her, and the
// audit events that made them.
func staffRemoveTemplate(b *testing.B) (string, *age.X25519Identity) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clientvault-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchTemplate = filepath.Join(dir, "template.db")
		benchErr = buildStaffRemoveTemplate(benchTemplate)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchTemplate, benchOwner
}

func buildStaffRemoveTemplate(path string) error {
	now := benchNow
	var err error
	if benchOwner, err = age.GenerateX25519Identity(); err != nil {
		return err
	}
	bea, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	if err := Create(path, CreateOptions{Owner: []age.Recipient{benchOwner.Recipient()}, Now: now}); err != nil {
		return err
	}
	v, err := Open(path, Options{Now: now})
	if err != nil {
		return err
	}
	defer v.Close()
	if err := v.Unlock(benchOwner); err != nil {
		return err
	}
	i := 0
	ids, err := v.Add(context.Background(), func() (*records.Record, error) {
		if i == benchShares {
			return nil, io.EOF
		}
		i++
		return benchRecord(i), nil
	}, AddOptions{BatchSize: 5000})
	if err != nil {
		return err
	}
	if _, err := v.StaffAdd("Bea", bea.Recipient()); err != nil {
		return err
	}
	return v.update(func(tx *txn) error {
		st, err := v.getStaff(tx, "Bea")
		if err != nil {
			return err
		}
		sk, err := v.shareKey(st)
		if err != nil {
			return err
		}
		for n, id := range ids {
			c := validConsent("Bea")
			c.ID, c.Record, c.GivenAt = fmt.Sprintf("%016x", n), id.String(), now()
			if err := v.putObject(tx, bucketConsents, macConsent, consentKeyFromHex(id, c.ID), []byte(st.UID), &c); err != nil {
				return err
			}
			rec := benchRecord(n + 1)
			if err := v.putShare(tx, id, rec, st, sk, &shareBody{Scope: []string{consent.Full}, Created: now()}); err != nil {
				return err
			}
			if err := v.appendAudit(tx, Event{Action: "share", Record: id.String(), Staff: "Bea", Detail: "scope full"}); err != nil {
				return err
			}
		}
		return nil
	})
}

func consentKeyFromHex(id ID, cid string) []byte {
	b, _ := base16(cid)
	return recordObjectKey(id, b)
}

func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

// BenchmarkStaffRemove10k removes a coworker who holds 10,000 shared
// records (and 10,000 consents) in one transaction. Each iteration works on
// a fresh copy of the same vault file. It reports records/s and, as
// x-age-seal, that rate over age's own sealing rate on all cores measured
// in the same run (BenchmarkAgeSeal10k's work): the issue asks for >= 0.8.
func BenchmarkStaffRemove10k(b *testing.B) {
	tmpl, owner := staffRemoveTemplate(b)
	ageRate := ageSealRate(b)
	dir := b.TempDir()
	var total time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("v%d.db", n))
		if err := copyFile(path, tmpl); err != nil {
			b.Fatal(err)
		}
		v, err := Open(path, Options{Now: time.Now})
		if err != nil {
			b.Fatal(err)
		}
		if err := v.Unlock(owner); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		rm, err := v.StaffRemove("Bea")
		total += time.Since(start)
		b.StopTimer()
		if err != nil || len(rm.Records) != benchShares {
			b.Fatalf("StaffRemove: %v (%d records)", err, len(rm.Records))
		}
		v.Close()
		os.Remove(path)
		b.StartTimer()
	}
	rate := float64(benchShares*b.N) / total.Seconds()
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(rate/ageRate, "x-age-seal")
}

// BenchmarkAgeSeal10k is the reference: age sealing 10,000 payloads the
// size of a shared record, one X25519 recipient each, on all cores.
func BenchmarkAgeSeal10k(b *testing.B) {
	payloads, to := agePayloads(b)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		sealPayloads(b, payloads, to)
	}
	b.ReportMetric(float64(benchShares*b.N)/b.Elapsed().Seconds(), "records/s")
}

func agePayloads(b *testing.B) ([][]byte, age.Recipient) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	payloads := make([][]byte, benchShares)
	for i := range payloads {
		if payloads[i], err = records.Encode(fmt.Sprintf("%016x", i), benchRecord(i)); err != nil {
			b.Fatal(err)
		}
	}
	return payloads, id.Recipient()
}

func sealPayloads(b *testing.B, payloads [][]byte, to age.Recipient) {
	errs := make([]error, len(payloads))
	parallel(len(payloads), func(i int) { _, errs[i] = encrypt(payloads[i], to) })
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// ageSealRate measures age's sealing rate (records/s) once, in this run.
func ageSealRate(b *testing.B) float64 {
	payloads, to := agePayloads(b)
	start := time.Now()
	sealPayloads(b, payloads, to)
	return float64(len(payloads)) / time.Since(start).Seconds()
}
