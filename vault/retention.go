package vault

import (
	"bytes"
	"fmt"
	"time"

	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// RetentionReport describes the vault's retention: its policy and, from the
// public metadata of the records, how many there are, how many are due for
// expiry today and how many a legal hold keeps.
type RetentionReport struct {
	Policy  consent.Policy `json:"policy"`
	Records int            `json:"records"`
	// Changed is how many records got a new retention date (SetRetention).
	Changed int `json:"changed"`
	Due     int `json:"due"`
	Held    int `json:"held"`
}

// RetentionStatus reports the policy and what is due today, reading only
// the records' public metadata (their MACs checked), without decrypting any.
func (v *Vault) RetentionStatus() (*RetentionReport, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	rep := &RetentionReport{Policy: v.hdr.Retention}
	err := v.view(func(tx *txn) error {
		defer readAround(tx)()
		due, held, _, n, err := v.scanDue(tx, records.DateOf(v.now()))
		rep.Records, rep.Due, rep.Held = n, len(due), len(held)
		return err
	})
	return rep, err
}

// SetRetention changes the vault's retention policy and recomputes every
// record's retention date under it. The dates depend on the last treatment
// and the date of birth, so every record is decrypted (on all cores); the
// new dates, the header and the audit event are written in one transaction,
// so a crash leaves the old policy and dates or the new ones.
func (v *Vault) SetRetention(p consent.Policy) (_ *RetentionReport, err error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("retention: %w: %s", ErrInvalid, joinLines(err))
	}
	type item struct {
		storedEntry
		e     *entry
		until records.Date
		err   error
	}
	stored, err := v.readEntries()
	if err != nil {
		return nil, err
	}
	items := make([]*item, len(stored))
	for i, se := range stored {
		items[i] = &item{storedEntry: se}
	}
	parallel(len(items), func(i int) {
		it := items[i]
		e, rec, err := v.keys.open(it.id, it.raw)
		if err != nil {
			it.err = err
			return
		}
		it.e = e
		it.until = retainUntil(p, e.Created, rec)
	})
	rep := &RetentionReport{Policy: p, Records: len(items)}
	saved := v.hdr
	defer func() {
		if err != nil {
			v.hdr = saved // the transaction did not commit
		}
	}()
	err = v.update(func(tx *txn) error {
		for _, it := range items {
			if it.err != nil {
				return it.err
			}
			if it.e.RetainUntil == it.until {
				continue
			}
			// The write lock was held since the read, but check anyway
			// that the entry is the one decrypted.
			if cur, err := v.getEntry(tx, it.id); err != nil || !bytes.Equal(cur, it.raw) {
				return recordErr(it.id, fmt.Errorf("changed while the retention was being set: %w", ErrRefused))
			}
			it.e.RetainUntil = it.until
			if err := v.rewriteEntry(tx, it.e); err != nil {
				return err
			}
			rep.Changed++
		}
		v.hdr.Retention = p
		if err := v.putHeader(tx); err != nil {
			return err
		}
		due, held, _, _, err := v.scanDue(tx, records.DateOf(v.now()))
		if err != nil {
			return err
		}
		rep.Due, rep.Held = len(due), len(held)
		return v.appendAudit(tx, Event{Action: ActionRetention, Count: rep.Changed,
			Detail: fmt.Sprintf("years=%d minor_age=%d minor_until_age=%d", p.Years, p.MinorAge, p.MinorUntilAge)})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// retainUntil is the date after which a record may be destroyed, as the
// entry stores it in the clear (so that expiry needs no key): the policy's
// date rounded up to the last day of its month. Unrounded, it would give
// away the last treatment's exact date and, for a client who was a minor,
// their exact date of birth (their 25th birthday). Keeping a record until
// the end of the month is allowed; destroying it earlier is not.
func retainUntil(p consent.Policy, created time.Time, rec *records.Record) records.Date {
	d := p.RetainUntil(rec.LastVisit(), records.DateOf(created), rec.DOB)
	if d.IsZero() {
		return d
	}
	return records.DateOf(time.Date(d.Year, d.Month+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1))
}
