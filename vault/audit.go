package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Event is one entry of the audit log: who did what to which record, when.
// It never holds client data: records are named by ID, and Detail holds only
// words of the program's own (such as "by name") or counts.
type Event struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Record  string    `json:"record,omitempty"`
	Records []string  `json:"records,omitempty"`
	Count   int       `json:"count,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	// Note is free text a person typed (an erasure's reason), sealed with
	// age to the vault's key because it may name the client; OpenNote
	// reads it.
	Note []byte `json:"note,omitempty"`
	// Staff names the coworker a sharing event is about (staff names are
	// not client data).
	Staff string `json:"staff,omitempty"`
}

// The audit log is a MAC chain: each stored entry is
//
//	mac (32 bytes) || JSON of the Event
//
// with mac = HMAC(macKey, label, previous entry's mac, JSON). The head (the
// last sequence number and its mac) is kept in the meta bucket under its own
// MAC, so that removing entries from the end is detected as well as editing
// or removing any other entry.

// appendAudit adds e to the log in transaction tx, the same transaction as the
// change it records.
func (v *Vault) appendAudit(tx *txn, e Event) error {
	return v.appendAuditAs(tx, e, func(e Event) ([]byte, error) {
		body, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		return append(make([]byte, macLen, macLen+len(body)), body...), nil
	})
}

// appendAuditAs is appendAudit with the event encoded by encode, which
// returns the stored value with its first macLen bytes left for the MAC.
func (v *Vault) appendAuditAs(tx *txn, e Event, encode func(Event) ([]byte, error)) error {
	if v.keys == nil {
		return ErrLocked
	}
	st, err := tx.state()
	if err != nil {
		return err
	}
	e.Seq = st.seq + 1
	if e.Time.IsZero() {
		e.Time = v.now()
	}
	if e.Actor == "" {
		e.Actor = v.opts.Actor
	}
	val, err := encode(e)
	if err != nil {
		return err
	}
	tag := v.keys.mac(macAudit, st.tag, val[macLen:])
	copy(val, tag)
	if err := tx.Bucket(bucketAudit).Put(seqKey(e.Seq), val); err != nil {
		return err
	}
	st.seq, st.tag = e.Seq, tag
	tx.changed = true
	return nil
}

// auditHead returns the last sequence number and its mac, from the head,
// whose MAC it checks. An empty log has sequence 0 and an empty mac.
func (v *Vault) auditHead(tx *txn) (uint64, []byte, error) {
	st, err := tx.state()
	if err != nil {
		return 0, nil, err
	}
	return st.seq, st.tag, nil
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// AuditFilter selects audit events; the zero filter selects all.
type AuditFilter struct {
	Record string // a full record ID
}

// Audit returns the events of the log that match f, oldest first. It checks
// the chain as it reads and fails with ErrTampered at the first break.
// Coworkers' views not yet folded into the chain (Seq 0, checked with their
// share keys) are placed among them by time.
func (v *Vault) Audit(f AuditFilter) ([]Event, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	var out []Event
	err := v.view(func(tx *txn) error {
		keep := func(e Event) error {
			if f.Record == "" || e.Record == f.Record || slices.Contains(e.Records, f.Record) {
				out = append(out, e)
			}
			return nil
		}
		if err := v.walkAudit(tx, keep); err != nil {
			return err
		}
		chain := len(out)
		if err := v.walkStaffAudit(tx, keep); err != nil {
			return err
		}
		out = mergeStaffEvents(out[:chain], out[chain:])
		return nil
	})
	return out, err
}

// VerifyAudit checks the whole chain and returns the number of entries.
func (v *Vault) VerifyAudit() (int, error) {
	if v.keys == nil {
		return 0, ErrLocked
	}
	n := 0
	err := v.view(func(tx *txn) error {
		count := func(Event) error { n++; return nil }
		if err := v.walkAudit(tx, count); err != nil {
			return err
		}
		if err := v.verifyArchive(tx); err != nil {
			return err
		}
		return v.walkStaffAudit(tx, count)
	})
	return n, err
}

// walkAudit reads the log in order, checking every link of the chain, the
// sequence numbers and the head.
func (v *Vault) walkAudit(tx *txn, fn func(Event) error) error {
	headSeq, headMAC, err := v.auditHead(tx)
	if err != nil {
		return err
	}
	var prev []byte
	var want uint64 = 1
	c := tx.Bucket(bucketAudit).Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		seq := binary.BigEndian.Uint64(k)
		if len(k) != 8 || seq != want || len(val) < macLen {
			return fmt.Errorf("audit entry %d: missing or out of order: %w", want, ErrTampered)
		}
		tag, body := val[:macLen], val[macLen:]
		if !hmac.Equal(tag, v.keys.mac(macAudit, prev, body)) {
			return fmt.Errorf("audit entry %d: %w", seq, ErrTampered)
		}
		var e Event
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&e); err != nil || e.Seq != seq {
			return fmt.Errorf("audit entry %d: %w", seq, ErrTampered)
		}
		if err := fn(e); err != nil {
			return err
		}
		prev = clone(tag)
		want++
	}
	if want-1 != headSeq || !hmac.Equal(prev, headMAC) {
		return fmt.Errorf("audit log: entries after %d are missing: %w", want-1, ErrTampered)
	}
	return nil
}

func hmacEqual(a, b []byte) bool { return len(a) > 0 && hmac.Equal(a, b) }
