package vault

import (
	"slices"
	"sort"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// Export is a client's own data for a subject access request: their record,
// the consents they gave, who their record is shared with now, every
// disclosure made without consent, and every recorded access to it.
type Export struct {
	Record      *Stored              `json:"record"`
	Consents    []ConsentInfo        `json:"consents"`
	SharedWith  []ShareInfo          `json:"shared_with"`
	Disclosures []consent.Disclosure `json:"disclosures"`
	// Access is the record's audit log: views, shares, exports and more,
	// with who and when.
	Access []Event `json:"access"`
}

// ShareInfo is one coworker a record is shared with now.
type ShareInfo struct {
	Staff string       `json:"staff"`
	Scope []string     `json:"scope"`
	Since time.Time    `json:"since"`
	Until records.Date `json:"until,omitzero"`
}

// Export gathers the client's data of the record ref names and records the
// export in the audit log. write, if set, is given the export inside the
// transaction (to seal and write a file): if it fails, nothing is recorded.
func (v *Vault) Export(ref string, write func(*Export) error) (*Export, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	now := v.now()
	var out *Export
	err := v.update(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		id := m.entry.ID
		x := &Export{Record: v.stored(m.entry, m.record), Consents: []ConsentInfo{}, SharedWith: []ShareInfo{}, Access: []Event{}}
		x.Record.SharedWith = v.sharedWith(tx, id)
		cs, err := v.consentsOf(tx, id)
		if err != nil {
			return err
		}
		uids := v.staffUIDs(tx)
		for i := range cs {
			x.Consents = append(x.Consents, ConsentInfo{Consent: cs[i].Consent, Status: consentStatus(&cs[i], uids, now)})
		}
		sort.SliceStable(x.Consents, func(i, j int) bool { return x.Consents[i].GivenAt.Before(x.Consents[j].GivenAt) })
		for _, name := range x.Record.SharedWith {
			k := shareKeyOf(id, name)
			sb, err := v.parseShare(k, tx.Bucket(bucketShares).Get(k))
			if err != nil {
				return recordErr(id, err)
			}
			x.SharedWith = append(x.SharedWith, ShareInfo{Staff: name, Scope: sb.Scope, Since: sb.Created, Until: sb.Until})
		}
		if x.Disclosures, err = v.disclosuresOf(tx, id[:]); err != nil {
			return err
		}
		keep := func(e Event) error {
			if e.Record == id.String() || slices.Contains(e.Records, id.String()) {
				x.Access = append(x.Access, e)
			}
			return nil
		}
		if err := v.walkAudit(tx, keep); err != nil {
			return err
		}
		chain := len(x.Access)
		if err := v.walkStaffAudit(tx, keep); err != nil {
			return err
		}
		x.Access = mergeStaffEvents(x.Access[:chain:chain], x.Access[chain:])
		detail := "subject access export"
		if write != nil {
			if err := write(x); err != nil {
				return err
			}
			detail += ", file written"
		}
		out = x
		return v.appendAudit(tx, Event{Action: ActionExport, Record: id.String(), Detail: detail})
	})
	return out, err
}

// SealWithPassphrase seals data as an age file that `age -d` opens with
// the passphrase (scrypt at 2^workFactor; 0 means age's default).
func SealWithPassphrase(data []byte, passphrase string, workFactor int) ([]byte, error) {
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	if workFactor > 0 {
		r.SetWorkFactor(workFactor)
	}
	return encrypt(data, r)
}

// WriteFile writes data to path durably, readable by the owner only. It
// never replaces an existing file unless overwrite is set (ErrExists).
func WriteFile(path string, data []byte, overwrite bool) error {
	if overwrite {
		return replaceFile(path, data)
	}
	return writeNewFile(path, data)
}
