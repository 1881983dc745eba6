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
	c := &verifier{v: v, rep: &Report{Problems: []Problem{}}, index: map[string]bool{}, staged: map[ID]bool{}}
	if err := v.view(c.walk); err != nil {
		return nil, err
	}
	checked := c.openRecords()
	c.checkStrayIndex()
	if err := v.verifyDirectory(checked, c.add); err != nil {
		return nil, err
	}
	c.checkAudited()
	if err := v.keys.failure(); err != nil {
		return nil, err // the unlock agent stopped answering: no verdict
	}
	return c.rep, nil
}

// verifier is one run of Verify: what it has read of the vault, and its
// report.
type verifier struct {
	v   *Vault
	rep *Report
	// items are the visible records' entries, to open once the read
	// transaction is over.
	items []storedEntry
	// index holds the index keys not yet matched to a record.
	index map[string]bool
	// staged are the records of interrupted bulk adds: invisible.
	staged map[ID]bool
	// audited are the records the audit log says exist, nil if the log
	// cannot be read.
	audited map[string]bool
}

// add reports a problem, of the record rec if not "".
func (c *verifier) add(rec, format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{Record: rec, What: fmt.Sprintf(format, args...)})
}

// walk reads the whole vault in one read transaction, checking what needs
// no decryption.
func (c *verifier) walk(tx *txn) error {
	v := c.v
	// Verify reports every bucket that fails its root rather than stopping
	// at the first one a read checks.
	tx.unguarded = true
	if f := tx.file(); f != nil {
		for _, err := range checkStructure(f) {
			c.add("", "file structure: %v", err)
		}
	}
	if err := v.verifyState(tx, c.add); err != nil {
		return err
	}
	v.verifyObjects(tx, c.add)
	v.verifyShards(tx, c.add)
	meta := tx.Bucket(bucketMeta)
	if !hmacEqual(meta.Get(keyHeaderMAC), v.keys.mac(macHeader, meta.Get(keyHeader), meta.Get(keyKeys))) {
		c.add("", "vault header: tampered with")
	}
	c.rep.CompactionPending = meta.Get(keyCompactPending) != nil
	for _, read := range []func(*txn) error{c.readStages, c.readEntries, c.readIndex} {
		if err := read(tx); err != nil {
			return err
		}
	}
	v.verifySharing(tx, c.add)
	v.verifyExpiry(tx, c.add)
	if err := v.verifyArchive(tx); err != nil {
		c.add("", "%v", err)
	}
	c.readAudit(tx)
	return nil
}

// readStages counts the stages of interrupted bulk adds. A bulk add that
// was killed leaves a stage: its entries are invisible and the next command
// that writes removes them. That is the vault as it was before the add, not
// a problem, as long as the stage is authentic (a forged one could hide
// records).
func (c *verifier) readStages(tx *txn) error {
	return tx.Bucket(bucketStages).ForEach(func(k, val []byte) error {
		c.rep.PendingStages++
		if len(k) != 8 || len(val) != 8+macLen || !hmacEqual(val[8:], c.v.keys.mac(macObject, []byte("stage"), k, val[:8])) {
			c.add("", "an interrupted bulk add's marker: tampered with")
		}
		return nil
	})
}

// readEntries collects the visible records' entries through the ID map,
// and checks that every entry belongs to a record ID.
func (c *verifier) readEntries(tx *txn) error {
	slotsSeen := map[string]bool{}
	err := tx.Bucket(bucketIDs).ForEach(func(k, slot []byte) error {
		if len(k) != 8 {
			c.add("", "ID map holds a malformed key")
			return nil
		}
		id := ID(k)
		raw := tx.Bucket(bucketRecords).Get(slot)
		if raw == nil {
			c.add(id.String(), "its stored entry is missing")
			return nil
		}
		slotsSeen[string(slot)] = true
		if e, err := unmarshalEntry(raw); err == nil && !tx.visible(e) {
			c.staged[id] = true
			return nil
		}
		c.items = append(c.items, storedEntry{id, clone(raw)})
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRecords).ForEach(func(k, raw []byte) error {
		if !slotsSeen[string(k)] {
			if e, err := unmarshalEntry(raw); err == nil && !tx.visible(e) {
				return nil
			}
			c.add("", "an entry in slot %d belongs to no record ID", binary.BigEndian.Uint64(k))
		}
		return nil
	})
}

// readIndex collects the index keys, but those of staged records.
func (c *verifier) readIndex(tx *txn) error {
	err := tx.Bucket(bucketIndex).ForEach(func(k, _ []byte) error {
		if len(k) == tagLen+8 && c.staged[ID(k[tagLen:])] {
			return nil
		}
		c.index[string(k)] = true
		return nil
	})
	c.rep.IndexEntries = len(c.index)
	return err
}

// readAudit checks the audit chain and collects the records it says exist.
func (c *verifier) readAudit(tx *txn) {
	c.audited = map[string]bool{}
	err := c.v.walkAudit(tx, func(e Event) error {
		c.rep.AuditEntries++
		live, ok := liveEffect[e.Action]
		if !ok {
			return nil
		}
		for _, id := range append(slices.Clone(e.Records), e.Record) {
			if id == "" {
				continue
			}
			if live {
				c.audited[id] = true
			} else {
				delete(c.audited, id)
			}
		}
		return nil
	})
	if err != nil {
		c.add("", "audit log: %v", err)
		c.audited = nil
	}
}

// openRecords decrypts and authenticates every visible record, on all
// cores, checks their index entries, and returns those that opened.
func (c *verifier) openRecords() map[ID]*records.Record {
	v, items := c.v, c.items
	checked := make(map[ID]*records.Record, len(items))
	recs := make([]*records.Record, len(items))
	errs := make([]error, len(items))
	v.primeEntries(items)
	parallel(len(items), func(i int) {
		_, recs[i], errs[i] = v.keys.open(items[i].id, items[i].raw)
	})
	v.keys.primeIndexTags(recs)
	for i, it := range items {
		if errs[i] != nil {
			c.add(it.id.String(), "%v", trimRecordPrefix(errs[i], it.id))
			continue
		}
		c.rep.Records++
		checked[it.id] = recs[i]
		for _, t := range v.keys.indexTags(recs[i]) {
			k := string(append(clone(t), it.id[:]...))
			if !c.index[k] {
				c.add(it.id.String(), "missing from the name index")
			}
			delete(c.index, k)
		}
	}
	return checked
}

// checkStrayIndex reports the index entries that no record matched.
func (c *verifier) checkStrayIndex() {
	var stray []string
	for k := range c.index {
		if len(k) == tagLen+8 && c.staged[ID([]byte(k[tagLen:]))] {
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
		c.add(id, "an index entry points to this record but does not match it")
	}
}

// checkAudited reports the records present that the audit log never added,
// and those it added that are missing.
func (c *verifier) checkAudited() {
	if c.audited == nil {
		return
	}
	present := map[string]bool{}
	for _, it := range c.items {
		present[it.id.String()] = true
		if !c.audited[it.id.String()] {
			c.add(it.id.String(), "is in the vault but the audit log never added it")
		}
	}
	var missing []string
	for id := range c.audited {
		if !present[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	for _, id := range missing {
		c.add(id, "was added (audit log) but is missing from the vault")
	}
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
