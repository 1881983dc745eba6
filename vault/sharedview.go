package vault

import ()

// recordDates gives a coworker's view of a shared copy the record's own
// created and retain-until dates, from the record's entry, instead of the
// share's. They are public metadata of the vault, which a coworker reads
// without the vault's key, so unauthenticated here; the owner's view and
// expire check them.
func (v *Vault) recordDates(s *Stored) error {
	if _, restricted := v.ownShareKeys(); restricted {
		// The engine lets them read their shares alone, not the
		// record's entry: the share's dates stay.
		return nil
	}
	id, err := ParseID(s.ID)
	if err != nil {
		return err
	}
	return v.view(func(tx *txn) error {
		raw, err := v.getEntry(tx, id)
		if err != nil {
			return nil // the record went; the share's own date stays
		}
		e, err := unmarshalEntry(raw)
		if err != nil {
			return nil
		}
		s.Created, s.RetainUntil = e.Created, e.RetainUntil
		return nil
	})
}
