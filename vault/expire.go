package vault

import (
	"bytes"
	"fmt"
	"os"
	"slices"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// Reason codes: the Detail of the "expire" and "erase" audit events, which
// say why records were destroyed. Free text a person typed goes, sealed,
// into the event's Note.
const (
	ReasonRetentionEnded = "retention ended"
	ReasonErasure        = "erasure request"
	ReasonErasureForced  = "erasure request, before retention ended"
	ReasonReapplied      = "re-applied after restore"
)

// ExpireOptions tune Expire.
type ExpireOptions struct {
	// DryRun finds what would be destroyed and changes nothing.
	DryRun bool
}

// ExpireReport says what Expire destroyed, or would destroy.
type ExpireReport struct {
	DryRun bool         `json:"dry_run"`
	Today  records.Date `json:"today"`
	// Records is how many records were checked.
	Records int `json:"records"`
	// Expired lists the IDs of the records destroyed (or, on a dry run,
	// that would be).
	Expired []string `json:"expired"`
	// Held lists the records whose retention ended but which a legal hold
	// keeps.
	Held []string `json:"held"`
	// SharesLapsed is how many shares ended or narrowed because their end
	// date or their consents' passed (lapseShares).
	SharesLapsed int `json:"shares_lapsed"`
	// SizeBefore and SizeAfter are the vault file's size in bytes, before
	// and after compaction.
	SizeBefore int64 `json:"size_before"`
	SizeAfter  int64 `json:"size_after"`
}

// Expire destroys every record whose retention has ended and on which no
// legal hold stands, and lapses expired consents. It finds them from the
// records' public metadata (retain-until date and hold flag), kept small and
// authenticated in bucketExpiry, and authenticates each one's stored entry
// before destroying it; it decrypts no record.
//
// The destruction and the compaction are one step: the vault is written
// into a new file without the due records, their ID mappings, expiry
// metadata, index entries, consents, shares and holds, with one "expire"
// audit event naming them, and the new file replaces the old one (rewrite).
// The rename is the commit: until it the old vault is whole and nothing is
// destroyed, after it nothing of the records is in the file. (Deleting them
// in a transaction of the old file first made bbolt rewrite nearly every
// page of it, only for the compaction to copy the result again, and left
// the ciphertexts in freed pages until the compaction ended.)
func (v *Vault) Expire(o ExpireOptions) (*ExpireReport, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	now := v.now()
	rep := &ExpireReport{DryRun: o.DryRun, Today: records.DateOf(now), Expired: []string{}, Held: []string{}}
	rep.SizeBefore = fileSize(v.path)
	var due, stale []ID
	scan := func(tx *txn) error {
		var held []ID
		var err error
		due, held, stale, rep.Records, err = v.scanDue(tx, rep.Today)
		rep.Expired, rep.Held = idStrings(due), idStrings(held)
		return err
	}
	// The scan reads records all over the file: let the kernel read ahead
	// (readAround).
	if o.DryRun {
		err := v.view(func(tx *txn) error {
			defer readAround(tx)()
			return scan(tx)
		})
		rep.SizeAfter = rep.SizeBefore
		return rep, err
	}
	var gone doomed
	err := v.update(func(tx *txn) error {
		defer readAround(tx)() // before the commit, which may move the map
		if err := scan(tx); err != nil {
			return err
		}
		// Metadata that did not match its entry is rewritten from the
		// entry, which was authenticated; the due records go anyway.
		going := make(map[ID]bool, len(due))
		for _, id := range due {
			going[id] = true
		}
		for _, id := range stale {
			if !going[id] {
				if err := v.refreshExpiry(tx, id); err != nil {
					return err
				}
			}
		}
		var err error
		if rep.SharesLapsed, err = v.lapseShares(tx, records.DateOf(now)); err != nil {
			return err
		}
		if len(due) > 0 {
			gone, err = doomedBy(tx, due)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(due) > 0 {
		ev := destroyEvent(Event{Action: ActionExpire, Detail: ReasonRetentionEnded}, due)
		err := v.rewrite(gone, func(tx *txn) error { return v.appendAudit(tx, ev) })
		if err != nil {
			rep.Expired = []string{}
			return rep, fmt.Errorf("no record was destroyed: %w (expire writes a new copy of the vault beside it: it needs free space for about %d MB)", err, (rep.SizeBefore>>20)+1)
		}
	}
	rep.SizeAfter = fileSize(v.path)
	return rep, nil
}

// scanDue finds the records due for destruction on today and those past
// retention but held. It reads each record's expiry metadata (bucketExpiry),
// small and authenticated, rather than its sealed entry; the entry itself is
// read and authenticated whole only for a record past retention (before it
// is destroyed or reported held) and for one whose metadata is missing.
// There the entry decides, and the record is listed in
// stale so that its metadata can be rewritten. Forged metadata, or an
// entry whose MAC fails, stops the scan: its dates cannot be trusted.
func (v *Vault) scanDue(tx *txn, today records.Date) (due, held, stale []ID, n int, err error) {
	// Who is what, from the metadata alone.
	type check struct {
		id      ID
		slot    []byte
		s       expiryState
		trusted bool
	}
	var checks []check
	classify := func(id ID, s expiryState) {
		if s.stage != 0 && tx.pending[s.stage] {
			return // part of an unpublished bulk add
		}
		n++
		switch {
		case consent.Due(s.retainUntil, today, s.held):
			due = append(due, id)
		case s.held && consent.Due(s.retainUntil, today, false):
			held = append(held, id)
		}
	}
	// The records in slot order, so that the table, keyed by slot, is read
	// in one pass beside them rather than looked up once per record (which
	// took two thirds of the scan).
	type record struct {
		id   ID
		slot []byte
	}
	// Slots ever taken: at least as many as the records there are.
	bySlot := make([]record, 0, min(tx.Bucket(bucketRecords).Sequence(), 1<<20))
	c := tx.Bucket(bucketIDs).Cursor()
	for k, slot := c.First(); k != nil; k, slot = c.Next() {
		if len(k) != len(ID{}) {
			continue // not a record; verify reports it
		}
		bySlot = append(bySlot, record{ID(k), slot})
	}
	slices.SortFunc(bySlot, func(a, b record) int { return bytes.Compare(a.slot, b.slot) })
	var rows *cursor
	var rowKey, rowVal []byte
	if exp := tx.Bucket(bucketExpiry); exp != nil {
		rows = exp.Cursor()
		rowKey, rowVal = rows.First()
	}
	v.keys.primeExpiryRows(tx.Bucket(bucketExpiry)) // with the unlock agent: one batch
	r := v.keys.newExpiryReader()
	for _, rec := range bySlot {
		id, slot := rec.id, rec.slot
		var s expiryState
		trusted := false
		var ev []byte
		if rows != nil {
			for rowKey != nil && bytes.Compare(rowKey, slot) < 0 {
				rowKey, rowVal = rows.Next()
			}
			if bytes.Equal(rowKey, slot) {
				ev = rowVal
			}
		}
		if ev != nil {
			var ok bool
			if s, ok = r.read(id, slot, ev); !ok {
				return nil, nil, nil, 0, recordErr(id, fmt.Errorf("expiry metadata: %w", ErrTampered))
			}
			trusted = true
		}
		if trusted && !consent.Due(s.retainUntil, today, false) {
			classify(id, s)
			continue
		}
		checks = append(checks, check{id, slot, s, trusted})
	}
	recs := tx.Bucket(bucketRecords)
	// On etcd, the entries in a few requests, not one each.
	slots := make([][]byte, len(checks))
	for i, ch := range checks {
		slots[i] = ch.slot
	}
	if err := recs.prefetchKeys(slots); err != nil {
		return nil, nil, nil, 0, err
	}
	for _, ch := range checks {
		raw := recs.Get(ch.slot)
		if raw == nil {
			continue // an ID without an entry is no record; verify reports it
		}
		if !authentic(v.keys, ch.id, raw) {
			return nil, nil, nil, 0, recordErr(ch.id, ErrTampered)
		}
		e, err := unmarshalEntry(raw)
		if err != nil {
			return nil, nil, nil, 0, recordErr(ch.id, err)
		}
		es := stateOf(ch.slot, e, raw)
		if !ch.trusted || !ch.s.equal(es) {
			stale = append(stale, ch.id)
		}
		classify(ch.id, es)
	}
	return due, held, stale, n, nil
}

// recordBuckets are the buckets, besides records, ids and index, whose keys
// start with a record's ID and which go with it. Some come with other
// features and may not exist in a vault yet.
var recordBuckets = [][]byte{bucketConsents, bucketShares, bucketHolds}

// destroy deletes the records ids, with their ID mappings, index entries
// and everything kept under their IDs, appends ev naming them, and marks the
// vault for compaction, all in tx.
func (v *Vault) destroy(tx *txn, ids []ID, ev Event) error {
	gone, err := doomedBy(tx, ids)
	if err != nil {
		return err
	}
	if err := gone.delete(tx); err != nil {
		return err
	}
	if err := markCompaction(tx); err != nil {
		return err
	}
	return v.appendAudit(tx, destroyEvent(ev, ids))
}

// destroyEvent is ev naming the records ids as destroyed.
func destroyEvent(ev Event, ids []ID) Event {
	ev.Records = idStrings(ids)
	ev.Count = len(ids)
	if len(ids) == 1 {
		ev.Record, ev.Records = ids[0].String(), nil
	}
	return ev
}

// doomed is what destroying records removes from the vault: for each
// top-level bucket, the keys, or names of nested buckets, that go.
type doomed map[string]map[string]bool

// doomedBy returns what destroying the records ids removes, as tx sees the
// vault: each one's entry and expiry metadata (under its slot), its ID
// mapping, its index entries (keyed tag || ID), and what recordBuckets keep
// under its ID.
func doomedBy(tx *txn, ids []ID) (doomed, error) {
	d := doomed{}
	add := func(bucket []byte, k []byte) {
		keys := d[string(bucket)]
		if keys == nil {
			keys = map[string]bool{}
			d[string(bucket)] = keys
		}
		keys[string(k)] = true
	}
	gone := make(map[ID]bool, len(ids))
	idb := tx.Bucket(bucketIDs)
	// On etcd, the mappings in a few requests, not one each.
	idKeys := make([][]byte, len(ids))
	for i := range ids {
		idKeys[i] = ids[i][:]
	}
	if err := idb.prefetchKeys(idKeys); err != nil {
		return nil, err
	}
	for _, id := range ids {
		slot := idb.Get(id[:])
		if slot == nil {
			return nil, recordErr(id, ErrNotFound)
		}
		add(bucketRecords, slot)
		add(bucketExpiry, slot)
		add(bucketDirectory, slot)
		add(bucketIDs, id[:])
		gone[id] = true
	}
	// The index is keyed tag || ID; the tags need the plaintext, the
	// suffix does not.
	err := tx.Bucket(bucketIndex).ForEach(func(k, _ []byte) error {
		if len(k) == tagLen+8 && gone[ID(k[tagLen:])] {
			add(bucketIndex, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// What recordBuckets keep under an ID starts with it, in binary or in
	// hex. For many records, each bucket is walked once: a lookup of each
	// prefix is a request on etcd, two for each record and bucket.
	var prefixes map[string]bool
	if len(ids) > walkRecordBuckets {
		prefixes = make(map[string]bool, 2*len(ids))
		for _, id := range ids {
			prefixes[string(id[:])], prefixes[id.String()] = true, true
		}
	}
	for _, name := range recordBuckets {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		if prefixes != nil {
			err := b.ForEach(func(k, _ []byte) error {
				if len(k) >= len(ID{}) && prefixes[string(k[:len(ID{})])] || len(k) >= 2*len(ID{}) && prefixes[string(k[:2*len(ID{})])] {
					add(name, k)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			continue
		}
		for _, id := range ids {
			for _, p := range [][]byte{id[:], []byte(id.String())} {
				c := b.prefixCursor(p)
				for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
					add(name, k)
				}
			}
		}
	}
	return d, nil
}

// walkRecordBuckets is how many records doomedBy looks up one by one in
// each of recordBuckets; for more, it walks each bucket once.
const walkRecordBuckets = 64

// has reports whether the key k of the bucket at path goes.
func (d doomed) has(path [][]byte, k []byte) bool {
	return len(path) == 1 && d[string(path[0])][string(k)]
}

// doomedKey is one key that goes.
type doomedKey struct{ bucket, key []byte }

// sorted lists what goes, the ID map first (which makes the records
// unreachable), then by bucket and key.
func (d doomed) sorted() []doomedKey {
	var out []doomedKey
	for name, keys := range d {
		for k := range keys {
			out = append(out, doomedKey{[]byte(name), []byte(k)})
		}
	}
	slices.SortFunc(out, func(a, b doomedKey) int {
		ai, bi := !bytes.Equal(a.bucket, bucketIDs), !bytes.Equal(b.bucket, bucketIDs)
		if ai != bi {
			if bi {
				return -1
			}
			return 1
		}
		if c := bytes.Compare(a.bucket, b.bucket); c != 0 {
			return c
		}
		return bytes.Compare(a.key, b.key)
	})
	return out
}

// delete removes from tx what goes: keys, and nested buckets by name.
func (d doomed) delete(tx *txn) error {
	for name, keys := range d {
		b := tx.Bucket([]byte(name))
		if b == nil {
			continue
		}
		for k := range keys {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
