package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// DiscloseOptions say how a disclosure is sealed and where it goes.
type DiscloseOptions struct {
	// Recipient is the public key of whoever receives the disclosure. When
	// nil, the file is sealed with Passphrase instead (age -d asks for it).
	Recipient age.Recipient
	// Passphrase seals the file when there is no Recipient.
	Passphrase string
	// WorkFactor is the scrypt work factor (log2) for a passphrase; 0 means
	// age's default. Tests lower it.
	WorkFactor int
	// WriteFile is given the age file; required. It is called inside the
	// transaction that records the disclosure, so that a disclosure is
	// recorded if and only if its file was written.
	WriteFile func(ageFile []byte) error
}

// DisclosedRecord is what a disclosure's age file holds, as JSON.
type DisclosedRecord struct {
	Disclosure consent.Disclosure `json:"disclosure"`
	Record     *records.Record    `json:"record"`
}

// Disclose gives the record ref names, in the parts d.Scope covers (full
// when empty), to d.Recipient without the client's consent, on the legal
// basis d states: d.Basis and d.Reference are required (consent.Disclosure
// .Validate). The vault sets d.ID, d.Record, d.At and (when empty) d.By.
// The disclosure is recorded, sealed to the vault's key, and audited.
func (v *Vault) Disclose(ref string, d consent.Disclosure, o DiscloseOptions) (*consent.Disclosure, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	if o.WriteFile == nil {
		return nil, fmt.Errorf("disclose: an output file is required: %w", ErrInvalid)
	}
	var to age.Recipient = o.Recipient
	if to == nil {
		if len(o.Passphrase) == 0 {
			return nil, fmt.Errorf("disclose: a recipient key or a passphrase is required: %w", ErrInvalid)
		}
		r, err := age.NewScryptRecipient(o.Passphrase)
		if err != nil {
			return nil, err
		}
		if o.WorkFactor > 0 {
			r.SetWorkFactor(o.WorkFactor)
		}
		to = r
	}
	now := v.now()
	if len(d.Scope) == 0 {
		d.Scope = []string{consent.Full}
	}
	if strings.TrimSpace(d.By) == "" {
		d.By = v.opts.Actor
	}
	d.At = now.Truncate(time.Second)
	err := v.update(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		id := m.entry.ID
		did := make([]byte, 8)
		if _, err := rand.Read(did); err != nil {
			return err
		}
		d.ID, d.Record = hex.EncodeToString(did), id.String()
		if err := d.Validate(now); err != nil {
			return recordErr(id, fmt.Errorf("disclosure: %w: %s", ErrInvalid, joinLines(err)))
		}
		b, err := json.MarshalIndent(DisclosedRecord{Disclosure: d, Record: consent.Redact(m.record, d.Scope)}, "", "  ")
		if err != nil {
			return err
		}
		file, err := encrypt(append(b, '\n'), to)
		if err != nil {
			return err
		}
		if err := v.putObject(tx, bucketDisclosures, macDisclosure, recordObjectKey(id, did), nil, &d); err != nil {
			return err
		}
		if err := o.WriteFile(file); err != nil {
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionDisclose, Record: id.String(),
			Detail: fmt.Sprintf("disclosure %s, basis %s, scope %s", d.ID, d.Basis, strings.Join(d.Scope, ","))})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Disclosures is the accounting of disclosures: every disclosure of the
// record ref names, or of all records when ref is "", oldest first.
func (v *Vault) Disclosures(ref string) ([]consent.Disclosure, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	out := []consent.Disclosure{}
	err := v.view(func(tx *txn) error {
		var prefix []byte
		if ref != "" {
			m, _, err := v.resolve(tx, ref)
			if err != nil {
				return err
			}
			prefix = m.entry.ID[:]
		}
		var err error
		out, err = v.disclosuresOf(tx, prefix)
		return err
	})
	return out, err
}

func (v *Vault) disclosuresOf(tx *txn, prefix []byte) ([]consent.Disclosure, error) {
	out := []consent.Disclosure{}
	c := tx.Bucket(bucketDisclosures).prefixCursor(prefix)
	for k, raw := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, raw = c.Next() {
		d, err := v.openDisclosure(k, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

func (v *Vault) openDisclosure(k, raw []byte) (*consent.Disclosure, error) {
	if len(k) != 16 {
		return nil, fmt.Errorf("disclosure: malformed key: %w", ErrTampered)
	}
	var d consent.Disclosure
	if _, err := v.openObject(macDisclosure, k, raw, &d); err != nil {
		return nil, fmt.Errorf("disclosure %x: %w", k[8:], err)
	}
	if d.Record != ID(k[:8]).String() || d.ID != hex.EncodeToString(k[8:]) {
		return nil, fmt.Errorf("disclosure %x: it belongs elsewhere: %w", k[8:], ErrTampered)
	}
	return &d, nil
}
