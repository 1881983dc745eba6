package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// bucketHolds holds the legal holds, placed and released, keyed by record ID
// and a sequence number. Each value is the hold's JSON sealed with age to the
// vault's key (its reason may name the client), under a MAC that binds it to
// its key. It is created by the first hold.

// HoldOptions describe a legal hold.
type HoldOptions struct {
	// Reason says why the record is held; required. It is stored sealed.
	Reason string
	// Review is when the hold should be looked at again; zero means a year
	// from today.
	Review records.Date
}

// Hold places a legal hold on the record ref names: it is neither expired
// nor erased while the hold stands. The entry's hold flag, covered by its
// MAC, is what Expire reads; the hold itself is stored sealed.
func (v *Vault) Hold(ref string, o HoldOptions) (*consent.Hold, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	now := v.now().Truncate(time.Second)
	var h consent.Hold
	err := v.update(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		id := m.entry.ID
		h = consent.Hold{Record: id.String(), Reason: o.Reason, By: v.opts.Actor, At: now, Review: o.Review}
		if h.Review.IsZero() {
			h.Review = records.DateOf(now).AddYears(1)
		}
		if err := h.Validate(now); err != nil {
			return recordErr(id, fmt.Errorf("hold: %w: %s", ErrInvalid, joinLines(err)))
		}
		b, err := tx.CreateBucketIfNotExists(bucketHolds)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if b.Get(append(clone(id[:]), seqKey(seq)...)) != nil {
			return fmt.Errorf("legal holds: the next number is taken: the sequence was set back: %w", ErrTampered)
		}
		if err := v.putHold(b, append(clone(id[:]), seqKey(seq)...), &h); err != nil {
			return err
		}
		m.entry.Held = true
		if err := v.rewriteEntry(tx, m.entry); err != nil {
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionHold, Record: id.String(), Detail: "legal hold placed"})
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// Release releases every hold standing on the record ref names and returns
// them. The holds are kept, released, as proof of when and why the record
// was held. A record with no hold standing is ErrNotFound.
func (v *Vault) Release(ref string) ([]consent.Hold, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	now := v.now().Truncate(time.Second)
	var released []consent.Hold
	err := v.update(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		id := m.entry.ID
		b := tx.Bucket(bucketHolds)
		if b != nil {
			// Collect first: a bucket is not written while a cursor walks it.
			type standing struct {
				k []byte
				h *consent.Hold
			}
			var todo []standing
			err := v.eachHold(b, id[:], func(k []byte, h *consent.Hold) error {
				if h.Active() {
					todo = append(todo, standing{k, h})
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, s := range todo {
				if err := s.h.Release(now, v.opts.Actor); err != nil {
					return recordErr(id, fmt.Errorf("release: %w: %v", ErrInvalid, err))
				}
				if err := v.putHold(b, s.k, s.h); err != nil {
					return err
				}
				released = append(released, *s.h)
			}
		}
		if len(released) == 0 && !m.entry.Held {
			return recordErr(id, fmt.Errorf("no legal hold stands: %w", ErrNotFound))
		}
		m.entry.Held = false
		if err := v.rewriteEntry(tx, m.entry); err != nil {
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionRelease, Record: id.String(), Count: len(released), Detail: "legal hold released"})
	})
	return released, err
}

// Holds returns the legal holds, those standing or, with all, released ones
// too, ordered by record and time.
func (v *Vault) Holds(all bool) ([]consent.Hold, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	out := []consent.Hold{}
	err := v.view(func(tx *txn) error {
		b := tx.Bucket(bucketHolds)
		if b == nil {
			return nil
		}
		return v.eachHold(b, nil, func(_ []byte, h *consent.Hold) error {
			if all || h.Active() {
				out = append(out, *h)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Record != out[j].Record {
			return out[i].Record < out[j].Record
		}
		return out[i].At.Before(out[j].At)
	})
	return out, err
}

// recordHolds returns the holds of one record, standing and released.
func (v *Vault) recordHolds(tx *txn, id ID) ([]consent.Hold, error) {
	out := []consent.Hold{}
	b := tx.Bucket(bucketHolds)
	if b == nil {
		return out, nil
	}
	err := v.eachHold(b, id[:], func(_ []byte, h *consent.Hold) error {
		out = append(out, *h)
		return nil
	})
	return out, err
}

// putHold seals h to the vault's key and stores it under k with its MAC.
func (v *Vault) putHold(b *bucket, k []byte, h *consent.Hold) error {
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	ct, err := encrypt(js, v.keys.recipient)
	if err != nil {
		return err
	}
	return b.Put(k, append(v.keys.mac(macObject, []byte("hold"), k, ct), ct...))
}

// eachHold opens the holds whose keys start with prefix, checking each MAC
// and that the hold names the record its key does.
func (v *Vault) eachHold(b *bucket, prefix []byte, fn func(k []byte, h *consent.Hold) error) error {
	c := b.prefixCursor(prefix)
	for k, val := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, val = c.Next() {
		if len(k) != 16 || len(val) < macLen {
			return fmt.Errorf("legal hold: %w", errEntry)
		}
		id := ID(k[:8])
		ct := val[macLen:]
		if !hmac.Equal(val[:macLen], v.keys.mac(macObject, []byte("hold"), k, ct)) {
			return recordErr(id, fmt.Errorf("legal hold: %w", ErrTampered))
		}
		plain, err := decrypt(ct, v.keys.identity)
		if err != nil {
			return recordErr(id, fmt.Errorf("legal hold: %w", err))
		}
		var h consent.Hold
		if err := json.Unmarshal(plain, &h); err != nil || h.Record != id.String() {
			return recordErr(id, fmt.Errorf("legal hold: %w", ErrTampered))
		}
		if err := fn(clone(k), &h); err != nil {
			return err
		}
	}
	return nil
}
