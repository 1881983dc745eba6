package vault

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// Stored is a record as the vault holds it: the client's record plus what
// the vault adds. Its JSON is the record's with id, created, retain_until
// and holds added (DESIGN.md).
type Stored struct {
	ID          string         `json:"id"`
	Created     time.Time      `json:"created"`
	RetainUntil records.Date   `json:"retain_until"`
	Holds       []consent.Hold `json:"holds"`
	// Scope is, in a coworker's view of a shared copy, the parts of the
	// record their consent covers (consent.Scopes); nil in the owner's.
	Scope []string `json:"scope,omitempty"`
	*records.Record
	// SharedWith lists the coworkers the record is shared with (View and
	// Export fill it in; a coworker's copy names its reader); not part of
	// the record's JSON.
	SharedWith []string `json:"-"`
}

func (v *Vault) stored(e *entry, rec *records.Record) *Stored {
	return &Stored{
		ID: e.ID.String(), Created: e.Created, RetainUntil: e.RetainUntil,
		Holds: []consent.Hold{}, Record: rec,
	}
}

// visible reports whether an entry is published (not part of a pending stage).
func (v *Vault) visible(e *entry) bool { return e.Stage == 0 || !v.pending[e.Stage] }

// sealAgain seals rec again into e, to the vault's key alone. No version of
// clientvault has written an entry with readers besides the vault's key
// (sharing makes shares instead): entry.Readers is parsed for the format's
// sake, and an entry that names some is refused rather than re-sealed
// without them.
func (v *Vault) sealAgain(e *entry, rec *records.Record) error {
	if len(e.Readers) > 0 {
		return recordErr(e.ID, fmt.Errorf("sealed to %d staff this version does not know: %w", len(e.Readers), ErrRefused))
	}
	return v.keys.seal(e, rec, nil)
}

// getEntry returns the stored bytes of a visible record, or ErrNotFound.
func (v *Vault) getEntry(tx *txn, id ID) ([]byte, error) {
	slot := tx.Bucket(bucketIDs).Get(id[:])
	if slot == nil {
		return nil, recordErr(id, ErrNotFound)
	}
	raw := tx.Bucket(bucketRecords).Get(slot)
	if raw == nil {
		return nil, recordErr(id, fmt.Errorf("its slot is empty: %w", ErrTampered))
	}
	if e, err := unmarshalEntry(raw); err == nil && !tx.visible(e) {
		return nil, recordErr(id, ErrNotFound)
	}
	return raw, nil
}

// match is one record a reference resolved to, opened.
type match struct {
	entry  *entry
	record *records.Record
}

// resolve finds the one record ref names: a unique ID prefix (4 to 16 hex
// digits) or a client's name, looked up through the blind index and then
// checked against the decrypted name, so that a forged index entry cannot
// make one client's name open another's file.
func (v *Vault) resolve(tx *txn, ref string) (*match, string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, "", fmt.Errorf("record reference: %w", ErrNotFound)
	}
	if looksLikeIDPrefix(ref) {
		ids, err := v.idsWithPrefix(tx, strings.ToLower(ref))
		if err != nil {
			return nil, "", err
		}
		switch len(ids) {
		case 1:
			raw, err := v.getEntry(tx, ids[0])
			if err != nil {
				return nil, "", err
			}
			e, rec, err := v.keys.open(ids[0], raw)
			if err != nil {
				return nil, "", err
			}
			return &match{e, rec}, "by id", nil
		case 0:
			// Not an ID: try it as a name.
		default:
			amb := &AmbiguousError{Ref: "id prefix"}
			for _, id := range ids {
				amb.Candidates = append(amb.Candidates, Candidate{ID: id.String()})
			}
			return nil, "", amb
		}
	}
	tag := v.keys.nameTag(ref)
	want := records.NormalizeName(ref)
	var found []*match
	err := v.eachUnderTag(tx, tag, func(id ID, raw []byte) error {
		e, rec, err := v.keys.open(id, raw)
		if err != nil {
			return err
		}
		if records.NormalizeName(rec.Name) == want {
			found = append(found, &match{e, rec})
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	switch len(found) {
	case 0:
		return nil, "", fmt.Errorf("no record with that ID or name: %w", ErrNotFound)
	case 1:
		return found[0], "by name", nil
	}
	amb := &AmbiguousError{Ref: "name"}
	for _, m := range found {
		amb.Candidates = append(amb.Candidates, Candidate{ID: m.entry.ID.String(), DOB: m.record.DOB.String()})
	}
	return nil, "", amb
}

// storedEntry is a record's stored entry, copied out of the transaction
// that read it.
type storedEntry struct {
	id  ID
	raw []byte
}

// readEntries returns the stored entry of every visible record, read in one
// transaction, and primes the unlock agent to open them.
func (v *Vault) readEntries() ([]storedEntry, error) {
	var items []storedEntry
	err := v.view(func(tx *txn) error {
		return tx.Bucket(bucketIDs).ForEach(func(k, _ []byte) error {
			if raw, err := v.getEntry(tx, ID(k)); err == nil {
				items = append(items, storedEntry{ID(k), clone(raw)})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	v.primeEntries(items)
	return items, nil
}

// primeEntries asks the unlock agent, if there is one, for what opening the
// entries needs, in batches.
func (v *Vault) primeEntries(items []storedEntry) {
	raws := make([][]byte, len(items))
	for i, it := range items {
		raws[i] = it.raw
	}
	v.keys.prime(raws)
}

// eachUnderTag calls fn with the ID and stored entry of each visible record
// that the blind index lists under tag, in the order of their IDs, until fn
// fails. A pending or dangling index entry is passed over; verify reports
// it.
func (v *Vault) eachUnderTag(tx *txn, tag []byte, fn func(id ID, raw []byte) error) error {
	c := tx.Bucket(bucketIndex).prefixCursor(tag)
	for k, _ := c.Seek(tag); k != nil && bytes.HasPrefix(k, tag); k, _ = c.Next() {
		if len(k) != tagLen+8 {
			continue
		}
		id := ID(k[tagLen:])
		raw, err := v.getEntry(tx, id)
		if err != nil {
			continue
		}
		if err := fn(id, raw); err != nil {
			return err
		}
	}
	return nil
}

// idsWithPrefix returns the visible IDs that start with the hex prefix p.
func (v *Vault) idsWithPrefix(tx *txn, p string) ([]ID, error) {
	// Seek to the first ID at or after the prefix padded with zeros.
	padded, err := hex.DecodeString((p + "0000000000000000")[:16])
	if err != nil {
		return nil, err
	}
	var out []ID
	// The IDs start with the whole bytes of p: a cursor over them alone
	// reads no further on etcd (where a cursor over the bucket streams
	// its keys after them ahead).
	c := tx.Bucket(bucketIDs).prefixCursor(padded[:len(p)/2])
	for k, _ := c.Seek(padded); k != nil && strings.HasPrefix(hex.EncodeToString(k), p); k, _ = c.Next() {
		id := ID(k)
		if _, err := v.getEntry(tx, id); err == nil {
			out = append(out, id)
		}
	}
	return out, nil
}

// View returns the record ref names and records the access in the audit log
// in the same transaction.
func (v *Vault) View(ref string) (*Stored, error) {
	if v.keys == nil && v.staff != nil {
		return v.viewShared(ref)
	}
	if v.keys == nil {
		return nil, ErrLocked
	}
	var out *Stored
	err := v.update(func(tx *txn) error {
		m, how, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		out = v.stored(m.entry, m.record)
		if out.Holds, err = v.recordHolds(tx, m.entry.ID); err != nil {
			return err
		}
		out.SharedWith = v.sharedWith(tx, m.entry.ID)
		return v.appendAudit(tx, Event{Action: ActionView, Record: m.entry.ID.String(), Detail: how})
	})
	return out, err
}

// Note appends a treatment entry to the record ref names and returns the
// entry's number. A correction is a new entry whose Amends names the entry it
// corrects; the original is kept.
func (v *Vault) Note(ref string, t records.Treatment) (int, error) {
	if v.keys == nil && v.staff != nil {
		return 0, v.noteShared(ref, t)
	}
	if v.keys == nil {
		return 0, ErrLocked
	}
	var n int
	err := v.update(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		detail := "treatment"
		if t.Amends > 0 {
			detail = fmt.Sprintf("amends entry %d", t.Amends)
		}
		n, err = v.noteIn(tx, m, t, Event{Action: ActionNote, Detail: detail})
		return err
	})
	return n, err
}

// noteIn appends the treatment entry t to the record m in tx, with the
// audit event ev (its record set here), and returns the entry's number.
func (v *Vault) noteIn(tx *txn, m *match, t records.Treatment, ev Event) (int, error) {
	now := v.now()
	var n int
	err := func() error {
		id := m.entry.ID
		if t.Amends > len(m.record.Treatments) {
			return recordErr(id, fmt.Errorf("%w: amends: there is no entry %d", ErrInvalid, t.Amends))
		}
		if t.Amends > 0 {
			t.StartFrom(m.record.Treatments[t.Amends-1]) // a correction starts from the entry it corrects
		}
		if errs := t.Validate(records.DateOf(now)); len(errs) > 0 {
			return recordErr(id, fmt.Errorf("%w: %s", ErrInvalid, joinFieldErrors(errs)))
		}
		rec := m.record
		if err := rec.CheckEntry(&t); err != nil {
			return recordErr(id, entryError(err))
		}
		if t.Amends > len(rec.Treatments) {
			return recordErr(id, fmt.Errorf("%w: amends: there is no entry %d", ErrInvalid, t.Amends))
		}
		n = len(rec.Treatments) + 1
		t.N = n
		rec.Treatments = append(rec.Treatments, t)
		e := m.entry
		e.Updated = now.Truncate(time.Second)
		e.RetainUntil = retainUntil(v.hdr.Retention, e.Created, rec)
		if err := v.reseal(tx, e, rec); err != nil {
			return err
		}
		ev.Record = id.String()
		return v.appendAudit(tx, ev)
	}()
	return n, err
}

// reseal seals rec again into e and rewrites its entry.
func (v *Vault) reseal(tx *txn, e *entry, rec *records.Record) error {
	if err := v.sealAgain(e, rec); err != nil {
		return err
	}
	if err := v.rewriteEntry(tx, e); err != nil {
		return err
	}
	return v.refreshShares(tx, e.ID, rec)
}

// Summary is one line of List.
type Summary struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	DOB         records.Date `json:"dob,omitzero"`
	LastVisit   records.Date `json:"last_visit,omitzero"`
	RetainUntil records.Date `json:"retain_until"`
	Held        bool         `json:"held,omitempty"`
}

// List decrypts every visible record on all cores and returns a summary of
// each, ordered by name. The listing is one audit entry.
func (v *Vault) List() ([]Summary, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	items, err := v.readEntries()
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(items))
	errs := make([]error, len(items))
	parallel(len(items), func(i int) {
		e, rec, err := v.keys.open(items[i].id, items[i].raw)
		if err != nil {
			errs[i] = err
			return
		}
		out[i] = Summary{ID: e.ID.String(), Name: rec.Name, DOB: rec.DOB, LastVisit: rec.LastVisit(), RetainUntil: e.RetainUntil, Held: e.Held}
	})
	if err := v.keys.failure(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	sortSummaries(out)
	err = v.update(func(tx *txn) error {
		return v.appendAudit(tx, Event{Action: ActionList, Count: len(out)})
	})
	return out, err
}

// parallel runs fn(0..n-1) on all cores.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func joinFieldErrors(errs []*records.FieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}
