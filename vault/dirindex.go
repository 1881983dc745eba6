package vault

import (
	"errors"
	"strconv"

	"github.com/clientvault/clientvault/records"
)

// dirIndex finds clients already in the vault by a name folded further
// than the blind index folds it (Ø as o, Ł as l, ß as ss: records.FoldName),
// which the index cannot without a new format, and by their phones and
// emails (contacts: what a phone or an email that a row shares with them
// makes of it is records.SharedContact's rule, since a family may share
// them). It is built once per import from the client directory, in memory
// only.
type dirIndex struct {
	byNameDOB, byName map[string][]ID
	contacts          *contactIndex
}

// buildDirIndex reads the directory into a dirIndex; nil if the vault has
// no directory yet.
func (v *Vault) buildDirIndex() (*dirIndex, error) {
	x := &dirIndex{byNameDOB: map[string][]ID{}, byName: map[string][]ID{}, contacts: newContactIndex(false)}
	err := v.eachClient(1, func(*clientRow) bool { return true }, func(_ int, r *clientRow) error {
		name := records.FoldName(string(r.name))
		x.contacts.addClient(r, name)
		x.byName[name] = append(x.byName[name], r.id)
		if r.dob != 0 {
			k := name + "|" + strconv.FormatUint(uint64(r.dob), 10)
			x.byNameDOB[k] = append(x.byNameDOB[k], r.id)
		}
		return nil
	}, true)
	if errors.Is(err, ErrNoDirectory) {
		return nil, nil
	}
	return x, err
}

// contactIndex returns the index of the phones and emails of the
// directory's clients (of none if x is nil), for an import that looks for
// earlier rows of its file too if inFile.
func (x *dirIndex) contactIndex(inFile bool) *contactIndex {
	if x == nil {
		return newContactIndex(inFile)
	}
	x.contacts.inFile = inFile
	return x.contacts
}

// findInDirectory looks for rec's client through x: the same folded name
// and date of birth is the client (exact); the same folded name that
// records.LikelySameClient confirms is likely the client. It returns the first such record not of stage, and how many
// there are.
func (v *Vault) findInDirectory(x *dirIndex, stage uint64, rec *records.Record) (m *match, exact bool, n int, err error) {
	name := records.FoldName(rec.Name)
	if !rec.DOB.IsZero() {
		ids := x.byNameDOB[name+"|"+strconv.FormatUint(uint64(dateNum(rec.DOB)), 10)]
		if m, n, err = v.firstMatch(ids, stage, nil); m != nil || err != nil {
			return m, true, n, err
		}
	}
	m, n, err = v.firstMatch(x.byName[name], stage, func(r *records.Record) bool { return records.LikelySameClient(r, rec) })
	return m, false, n, err
}

// firstMatch opens the records ids that are not of stage and that ok (if
// set) accepts, and returns the first and how many there are (each ID
// counted once).
func (v *Vault) firstMatch(ids []ID, stage uint64, ok func(*records.Record) bool) (*match, int, error) {
	if len(ids) == 0 {
		return nil, 0, nil
	}
	var first *match
	n := 0
	seen := map[ID]bool{}
	err := v.view(func(tx *txn) error {
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			raw, err := v.getEntry(tx, id)
			if err != nil {
				continue
			}
			if e, err := unmarshalEntry(raw); err != nil || (stage != 0 && e.Stage == stage) {
				continue
			}
			e, rec, err := v.keys.open(id, raw)
			if err != nil {
				return err
			}
			if ok != nil && !ok(rec) {
				continue
			}
			if n++; first == nil {
				first = &match{e, rec}
			}
		}
		return nil
	})
	return first, n, err
}
