package vault

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/clientvault/clientvault/records"
)

// Problem is one thing Verify found wrong. Record is the record's ID where
// the problem is about one record.
type Problem struct {
	Record string `json:"record,omitempty"`
	What   string `json:"problem"`
}

func (p Problem) String() string {
	if p.Record != "" {
		return "record " + p.Record + ": " + p.What
	}
	return p.What
}

// Report is what Verify checked and found.
type Report struct {
	Records       int       `json:"records"`
	IndexEntries  int       `json:"index_entries"`
	AuditEntries  int       `json:"audit_entries"`
	PendingStages int       `json:"pending_stages"` // interrupted bulk adds, invisible until removed
	Problems      []Problem `json:"problems"`

	// CompactionPending is true when destroyed records may remain in freed
	// pages of the file: a compaction did not finish (a full disk). The
	// vault is correct; the next command that writes compacts it.
	CompactionPending bool `json:"compaction_pending"`
}

// OK reports whether Verify found no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks the whole vault: bbolt's own consistency, the header, every
// record's MAC, ciphertext and bound ID, that the blind index and the expiry
// metadata match the records, the audit chain, and that the records present
// are exactly those the audit log says were added and not destroyed. It
// returns every problem it finds rather than stopping at the first.
func (v *Vault) Verify() (*Report, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	rep := &Report{Problems: []Problem{}}
	add := func(rec, format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Record: rec, What: fmt.Sprintf(format, args...)})
	}
	type item struct {
		id  ID
		raw []byte
	}
	var items []item
	index := map[string]bool{}
	slotsSeen := map[string]bool{}
	var auditIDs map[string]bool
	staged := map[ID]bool{} // records of interrupted bulk adds: invisible
	err := v.view(func(tx *txn) error {
		// Verify reports every bucket that fails its root rather than
		// stopping at the first one a read checks.
		tx.unguarded = true
		if f := tx.file(); f != nil {
			for _, err := range checkStructure(f) {
				add("", "file structure: %v", err)
			}
		}
		if err := v.verifyState(tx, add); err != nil {
			return err
		}
		v.verifyObjects(tx, add)
		v.verifyShards(tx, add)
		meta := tx.Bucket(bucketMeta)
		if !hmacEqual(meta.Get(keyHeaderMAC), v.keys.mac(macHeader, meta.Get(keyHeader), meta.Get(keyKeys))) {
			add("", "vault header: tampered with")
		}
		rep.CompactionPending = meta.Get(keyCompactPending) != nil
		// A bulk add that was killed leaves a stage: its entries are
		// invisible and the next command that writes removes them. That is
		// the vault as it was before the add, not a problem, as long as the
		// stage is authentic (a forged one could hide records).
		err := tx.Bucket(bucketStages).ForEach(func(k, val []byte) error {
			rep.PendingStages++
			if len(k) != 8 || len(val) != 8+macLen || !hmacEqual(val[8:], v.keys.mac(macObject, []byte("stage"), k, val[:8])) {
				add("", "an interrupted bulk add's marker: tampered with")
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketIDs).ForEach(func(k, slot []byte) error {
			if len(k) != 8 {
				add("", "ID map holds a malformed key")
				return nil
			}
			id := ID(k)
			raw := tx.Bucket(bucketRecords).Get(slot)
			if raw == nil {
				add(id.String(), "its stored entry is missing")
				return nil
			}
			slotsSeen[string(slot)] = true
			if e, err := unmarshalEntry(raw); err == nil && !v.visible(e) {
				staged[id] = true
				return nil
			}
			items = append(items, item{id, clone(raw)})
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketRecords).ForEach(func(k, raw []byte) error {
			if !slotsSeen[string(k)] {
				if e, err := unmarshalEntry(raw); err == nil && !v.visible(e) {
					return nil
				}
				add("", "an entry in slot %d belongs to no record ID", binary.BigEndian.Uint64(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketIndex).ForEach(func(k, _ []byte) error {
			if len(k) == tagLen+8 && staged[ID(k[tagLen:])] {
				return nil
			}
			index[string(k)] = true
			return nil
		})
		if err != nil {
			return err
		}
		rep.IndexEntries = len(index)
		v.verifySharing(tx, add)
		v.verifyExpiry(tx, add)
		if err := v.verifyArchive(tx); err != nil {
			add("", "%v", err)
		}
		auditIDs = map[string]bool{}
		err = v.walkAudit(tx, func(e Event) error {
			rep.AuditEntries++
			live, ok := liveEffect[e.Action]
			if !ok {
				return nil
			}
			for _, id := range append(slices.Clone(e.Records), e.Record) {
				if id == "" {
					continue
				}
				if live {
					auditIDs[id] = true
				} else {
					delete(auditIDs, id)
				}
			}
			return nil
		})
		if err != nil {
			add("", "audit log: %v", err)
			auditIDs = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	checked := make(map[ID]*records.Record, len(items))
	recs := make([]*records.Record, len(items))
	errs := make([]error, len(items))
	raws := make([][]byte, len(items))
	for i, it := range items {
		raws[i] = it.raw
	}
	v.keys.prime(raws) // with the unlock agent: in batches
	parallel(len(items), func(i int) {
		_, recs[i], errs[i] = v.keys.open(items[i].id, items[i].raw)
	})
	v.keys.primeIndexTags(recs)
	for i, it := range items {
		if errs[i] != nil {
			add(it.id.String(), "%v", trimRecordPrefix(errs[i], it.id))
			continue
		}
		rep.Records++
		checked[it.id] = recs[i]
		for _, t := range v.keys.indexTags(recs[i]) {
			k := string(append(clone(t), it.id[:]...))
			if !index[k] {
				add(it.id.String(), "missing from the name index")
			}
			delete(index, k)
		}
	}
	var stray []string
	for k := range index {
		if len(k) == tagLen+8 && staged[ID([]byte(k[tagLen:]))] {
			continue
		}
		if len(k) == tagLen+8 {
			stray = append(stray, ID([]byte(k[tagLen:])).String())
		} else {
			stray = append(stray, "(malformed)")
		}
	}
	sort.Strings(stray)
	for _, id := range stray {
		add(id, "an index entry points to this record but does not match it")
	}
	if err := v.verifyDirectory(checked, add); err != nil {
		return nil, err
	}
	if auditIDs != nil {
		present := map[string]bool{}
		for _, it := range items {
			present[it.id.String()] = true
			if !auditIDs[it.id.String()] {
				add(it.id.String(), "is in the vault but the audit log never added it")
			}
		}
		var missing []string
		for id := range auditIDs {
			if !present[id] {
				missing = append(missing, id)
			}
		}
		sort.Strings(missing)
		for _, id := range missing {
			add(id, "was added (audit log) but is missing from the vault")
		}
	}
	if err := v.keys.failure(); err != nil {
		return nil, err // the unlock agent stopped answering: no verdict
	}
	return rep, nil
}

// liveEffect says, for the audit actions that add or remove records, whether
// the records they name exist afterwards.
var liveEffect = map[string]bool{
	ActionAdd: true, ActionImport: true,
	ActionErase: false, ActionExpire: false, ActionDestroy: false,
}

func trimRecordPrefix(err error, id ID) string {
	return strings.TrimPrefix(err.Error(), "record "+id.String()+": ")
}

func sortSummaries(s []Summary) {
	sort.Slice(s, func(i, j int) bool {
		a, b := records.NormalizeName(s[i].Name), records.NormalizeName(s[j].Name)
		if a != b {
			return a < b
		}
		return s[i].ID < s[j].ID
	})
}
