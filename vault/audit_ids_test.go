package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/clientvault/clientvault/vault/store"
	"slices"
	"testing"
	"time"

	"github.com/clientvault/clientvault/records"
)

// The audit event of a bulk add is written without json.Marshal of its
// list; it must be exactly what json.Marshal gives, and read back whole.
func TestMarshalAuditIDsIsJSONMarshal(t *testing.T) {
	var ids []ID
	for range 1000 {
		id, _ := newID()
		ids = append(ids, id)
	}
	ids = sortedIDs(ids)
	for i := 1; i < len(ids); i++ {
		if bytes.Compare(ids[i-1][:], ids[i][:]) > 0 {
			t.Fatal("sortedIDs: not sorted")
		}
	}
	for _, ev := range []Event{
		{Seq: 7, Time: time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC), Actor: "owner <\"x\">", Action: "import", Detail: "csv", Count: len(ids)},
		{Action: "add", Note: []byte{0, 1, 2, 0xff}, Staff: "Ana", Count: 2},
	} {
		got, err := marshalAuditIDs(ev, ids)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:macLen], make([]byte, macLen)) {
			t.Errorf("room for the MAC is not zeros")
		}
		ev.Records = idStrings(ids)
		want, _ := json.Marshal(ev)
		if !bytes.Equal(got[macLen:], want) {
			t.Errorf("marshalAuditIDs =\n%.300s\nwant\n%.300s", got[macLen:], want)
		}
	}
}

func TestBulkAddAuditListsEveryID(t *testing.T) {
	tv := newTestVault(t)
	defer func(e, s int) { publishEvery, publishSpan = e, s }(publishEvery, publishSpan)
	publishEvery, publishSpan = 4, 3
	var recs []*records.Record
	for i := range 11 {
		recs = append(recs, fakeRecord(i))
	}
	ids, err := tv.Add(context.Background(), sliceSource(recs), AddOptions{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := tv.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if want := idStrings(ids); last.Action != "add" || last.Count != len(ids) || !slices.Equal(last.Records, want) {
		t.Errorf("audit event %+v, want an add listing %v", last, want)
	}
	for _, r := range recs {
		if _, err := tv.View(r.Name); err != nil {
			t.Errorf("view %d after a staged add published in parts: %v", r.DOB.Day, err)
		}
	}
	if rep, err := tv.Verify(); err != nil || !rep.OK() || rep.Records != len(recs) || rep.PendingStages != 0 {
		t.Errorf("verify after a staged add published in parts: %+v %v", rep, err)
	}
}

// A staged add that fails after some of its records were published in
// parts leaves the vault as it was.
func TestBulkAddPublishedInPartsIsAllOrNothing(t *testing.T) {
	tv := newTestVault(t)
	tv.add(t, fakeRecord(0))
	counts := func() (n, ids, index int) {
		tv.engine().View(func(tx store.Tx) error {
			n, ids, index = keyCount(tx.Bucket(bucketRecords)), keyCount(tx.Bucket(bucketIDs)), keyCount(tx.Bucket(bucketIndex))
			return nil
		})
		return
	}
	n0, ids0, index0 := counts()
	defer func(e, s int) { publishEvery, publishSpan = e, s }(publishEvery, publishSpan)
	publishEvery, publishSpan = 4, 3
	var recs []*records.Record
	for i := 1; i <= 11; i++ {
		recs = append(recs, fakeRecord(i))
	}
	recs = append(recs, &records.Record{Name: "Bad Dob", DOB: records.Date{Year: 2099, Month: 1, Day: 1}})
	var published int
	_, err := tv.Add(context.Background(), sliceSource(recs), AddOptions{BatchSize: 2, Progress: func(int) {
		tv.engine().View(func(tx store.Tx) error { published = max(published, keyCount(tx.Bucket(bucketIDs))); return nil })
	}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Add = %v, want invalid", err)
	}
	if published <= ids0 {
		t.Fatalf("no IDs were published before the add failed: the test tests nothing")
	}
	if n, ids, index := counts(); n != n0 || ids != ids0 || index != index0 {
		t.Errorf("after a failed add: %d entries, %d IDs, %d index entries; want %d, %d, %d", n, ids, index, n0, ids0, index0)
	}
	if rep, err := tv.Verify(); err != nil || !rep.OK() || rep.Records != 1 || rep.PendingStages != 0 {
		t.Errorf("verify after a failed add: %+v %v", rep, err)
	}
}
