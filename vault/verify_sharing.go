package vault

import (
	"crypto/hmac"
	"slices"

	"github.com/clientvault/clientvault/records"
)

// verifySharing is Verify's part for sharing: every staff entry, consent,
// share and disclosure authentic and bound to where it is stored, no share
// for a staff member who is gone or re-registered, none without an active
// consent behind it or wider than the consents allow, none past its end,
// and the coworkers' own audit events authentic.
func (v *Vault) verifySharing(tx *txn, add func(rec, format string, args ...any)) {
	staff := map[string]*staffEntry{}
	tx.Bucket(bucketStaff).ForEach(func(k, _ []byte) error {
		st, err := v.getStaff(tx, string(k))
		if err != nil {
			add("", "%v", err)
			return nil
		}
		staff[st.Name] = st
		return nil
	})
	exists := func(id ID) bool { return tx.Bucket(bucketIDs).Get(id[:]) != nil }
	tx.Bucket(bucketConsents).ForEach(func(k, raw []byte) error {
		sc, err := v.openConsent(k, raw)
		if err != nil {
			add(idOfKey(k), "%v", err)
			return nil
		}
		if !exists(ID(k[:8])) {
			add(idOfKey(k), "consent %s belongs to no record in the vault", sc.ID)
		}
		return nil
	})
	tx.Bucket(bucketDisclosures).ForEach(func(k, raw []byte) error {
		if _, err := v.openDisclosure(k, raw); err != nil {
			add(idOfKey(k), "%v", err)
		}
		return nil
	})
	now := v.now()
	shareKeys := map[string][]byte{}
	tx.Bucket(bucketShares).ForEach(func(k, raw []byte) error {
		sb, err := v.parseShare(k, raw)
		if err != nil {
			add(idOfKey(k), "%v", err)
			return nil
		}
		id := ID(k[:8])
		if !exists(id) {
			add(id.String(), "a share for %s belongs to no record in the vault", sb.Staff)
		}
		st := staff[sb.Staff]
		if st == nil || st.UID != sb.UID {
			add(id.String(), "shared with %s, who is not (or no longer) registered staff", sb.Staff)
			return nil
		}
		sk, ok := shareKeys[st.Name]
		if !ok {
			if sk, err = v.shareKey(st); err != nil {
				add("", "%v", err)
			}
			shareKeys[st.Name] = sk
		}
		body := raw[:len(raw)-2*macLen]
		if sk != nil && !hmac.Equal(raw[len(raw)-macLen:], macWith(sk, macShare, k, body)) {
			add(id.String(), "share for %s: its coworker MAC does not match: tampered with", sb.Staff)
		}
		cs, err := v.consentsOf(tx, id)
		if err != nil {
			return nil // reported with the consents
		}
		scope, _ := activeScope(cs, st, now)
		switch {
		case scope == nil:
			add(id.String(), "shared with %s without an active consent", sb.Staff)
		case !slices.Equal(scope, sb.Scope):
			add(id.String(), "shared with %s in a scope the consents do not allow now", sb.Staff)
		case !sb.End.IsZero() && records.DateOf(now).After(sb.End):
			add(id.String(), "the share for %s ended on %s but is still stored: run 'clientvault expire'", sb.Staff, sb.End)
		}
		return nil
	})
	if err := v.walkStaffAudit(tx, func(Event) error { return nil }); err != nil {
		add("", "%v", err)
	}
}

func idOfKey(k []byte) string {
	if len(k) < 8 {
		return ""
	}
	return ID(k[:8]).String()
}
