package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/clientvault/clientvault/consent"
)

// Consent statuses, as ConsentInfo.Status reports them.
const (
	ConsentActive       = "active"
	ConsentWithdrawn    = "withdrawn"
	ConsentExpired      = "expired"
	ConsentNotYet       = "not yet given"
	ConsentStaffRemoved = "staff removed"
)

// ConsentInfo is a consent as the vault holds it, with what it allows now.
type ConsentInfo struct {
	consent.Consent
	Status string `json:"status"`
}

// storedConsent is a consent with the staff registration it was given for.
type storedConsent struct {
	consent.Consent
	uid string
}

// ConsentAdd records a client's consent to share the record ref names with
// the coworker c.To, who must be registered. c.Record, c.ID and (when zero)
// c.GivenAt are set by the vault; the consent is validated as
// consent.Consent.Validate says, sealed to the vault's key and MAC'd. It
// shares nothing by itself: Share does.
func (v *Vault) ConsentAdd(ref string, c consent.Consent) (*consent.Consent, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	now := v.now()
	err := v.update(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		id := m.entry.ID
		st, err := v.getStaff(tx, strings.TrimSpace(c.To))
		if err != nil {
			return recordErr(id, err)
		}
		cid := make([]byte, 8)
		if _, err := rand.Read(cid); err != nil {
			return err
		}
		c.ID, c.Record = hex.EncodeToString(cid), id.String()
		if c.GivenAt.IsZero() {
			c.GivenAt = now.Truncate(time.Second)
		}
		c.WithdrawnAt, c.WithdrawnBy = time.Time{}, ""
		if err := c.Validate(now); err != nil {
			return recordErr(id, fmt.Errorf("consent: %w: %s", ErrInvalid, joinLines(err)))
		}
		if err := v.putObject(tx, bucketConsents, macConsent, recordObjectKey(id, cid), []byte(st.UID), &c); err != nil {
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionConsentAdd, Record: id.String(), Staff: st.Name,
			Detail: fmt.Sprintf("consent %s, scope %s%s", c.ID, strings.Join(c.Scope, ","), expiresText(c.Expires.String()))})
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func expiresText(d string) string {
	if d == "" {
		return ""
	}
	return ", expires " + d
}

// consentsOf returns the record's consents, authenticated, decrypted and
// checked to belong to it.
func (v *Vault) consentsOf(tx *txn, id ID) ([]storedConsent, error) {
	var out []storedConsent
	c := tx.Bucket(bucketConsents).prefixCursor(id[:])
	for k, raw := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, raw = c.Next() {
		sc, err := v.openConsent(k, raw)
		if err != nil {
			return nil, recordErr(id, err)
		}
		out = append(out, *sc)
	}
	return out, nil
}

// openConsent authenticates and decrypts one stored consent, and checks
// that the record and consent IDs inside are those it is stored under.
func (v *Vault) openConsent(k, raw []byte) (*storedConsent, error) {
	if len(k) != 16 {
		return nil, fmt.Errorf("consent: malformed key: %w", ErrTampered)
	}
	var sc storedConsent
	meta, err := v.openObject(macConsent, k, raw, &sc.Consent)
	if err != nil {
		return nil, fmt.Errorf("consent %x: %w", k[8:], err)
	}
	if sc.Record != ID(k[:8]).String() || sc.ID != hex.EncodeToString(k[8:]) {
		return nil, fmt.Errorf("consent %x: it belongs elsewhere: %w", k[8:], ErrTampered)
	}
	sc.uid = string(meta)
	return &sc, nil
}

// status says what a consent allows at now, given the staff registrations.
func consentStatus(c *storedConsent, staffUIDs map[string]string, now time.Time) string {
	switch {
	case c.Withdrawn():
		return ConsentWithdrawn
	case staffUIDs[c.To] != c.uid:
		return ConsentStaffRemoved
	case c.Lapsed(now):
		return ConsentExpired
	case !c.Active(now):
		return ConsentNotYet
	}
	return ConsentActive
}

// Consents returns the consents of the record ref names, oldest first, with
// their status now; withdrawn ones included.
func (v *Vault) Consents(ref string) ([]ConsentInfo, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	now := v.now()
	out := []ConsentInfo{}
	err := v.view(func(tx *txn) error {
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		cs, err := v.consentsOf(tx, m.entry.ID)
		if err != nil {
			return err
		}
		uids := v.staffUIDs(tx)
		for i := range cs {
			out = append(out, ConsentInfo{Consent: cs[i].Consent, Status: consentStatus(&cs[i], uids, now)})
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].GivenAt.Before(out[j].GivenAt) })
	return out, err
}

// staffUIDs maps each registered staff name to its registration's UID.
func (v *Vault) staffUIDs(tx *txn) map[string]string {
	m := map[string]string{}
	for _, st := range v.allStaffRaw(tx) {
		m[st.Name] = st.UID
	}
	return m
}

// Revocation is what ConsentRevoke did.
type Revocation struct {
	Consent consent.Consent `json:"consent"`
	// Unshared is true when the coworker's share of the record was removed;
	// false when none existed or other consents still cover them (then the
	// share keeps only what those cover).
	Unshared bool `json:"unshared"`
	// Exposure is what the revocation cannot undo.
	Exposure Exposure `json:"exposure"`
}

// ConsentRevoke records the withdrawal of a consent (kept, never deleted)
// by the person named by, and in the same transaction removes or narrows
// the coworker's share of the record: afterwards their key opens nothing
// the consent allowed. A consent already withdrawn is ErrRefused.
func (v *Vault) ConsentRevoke(consentID, by string) (*Revocation, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	cid, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(consentID)))
	if err != nil || len(cid) != 8 {
		return nil, fmt.Errorf("consent ID: %w: 16 hex digits (see 'clientvault consent list RECORD')", ErrInvalid)
	}
	if strings.TrimSpace(by) == "" {
		by = v.opts.Actor
	}
	now := v.now()
	out := &Revocation{}
	err = v.update(func(tx *txn) error {
		var key, raw []byte
		c := tx.Bucket(bucketConsents).Cursor()
		for k, r := c.First(); k != nil; k, r = c.Next() {
			if len(k) == 16 && bytes.Equal(k[8:], cid) {
				key, raw = clone(k), clone(r)
				break
			}
		}
		if key == nil {
			return fmt.Errorf("consent %x: %w", cid, ErrNotFound)
		}
		sc, err := v.openConsent(key, raw)
		if err != nil {
			return err
		}
		id := ID(key[:8])
		if err := sc.Withdraw(now, by); err != nil {
			if errors.Is(err, consent.ErrWithdrawn) {
				return fmt.Errorf("consent %x: withdrawn already on %s: %w", cid, sc.WithdrawnAt.Format(time.DateOnly), ErrRefused)
			}
			return fmt.Errorf("consent %x: %w: %v", cid, ErrInvalid, err)
		}
		if err := v.putObject(tx, bucketConsents, macConsent, key, []byte(sc.uid), &sc.Consent); err != nil {
			return err
		}
		had := tx.Bucket(bucketShares).Get(shareKeyOf(id, sc.To)) != nil
		if err := v.resyncShare(tx, id, nil, sc.To, false); err != nil {
			return err
		}
		out.Unshared = had && tx.Bucket(bucketShares).Get(shareKeyOf(id, sc.To)) == nil
		out.Consent = sc.Consent
		detail := fmt.Sprintf("consent %x withdrawn", cid)
		if out.Unshared {
			detail += "; share removed"
		}
		if err := v.appendAudit(tx, Event{Action: ActionConsentRevoke, Record: id.String(), Staff: sc.To, Detail: detail}); err != nil {
			return err
		}
		return v.exposure(tx, id, &out.Exposure)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
