package vault

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
)

// A share is one record made readable to one coworker: the parts of the
// record their active consents cover (consent.Redact), encoded with the
// record's ID bound inside (records.Encode), sealed with age to the
// coworker's key only, and stored in the shares bucket under
// record ID || staff name. The record itself stays sealed to the vault's key
// alone. So sharing costs one seal, and unsharing, a withdrawn consent or a
// removed coworker is a deletion: afterwards the vault file holds nothing
// their key opens.
//
// The stored value is the JSON shareBody, then its MAC under the vault's
// key (which the owner checks), then its MAC under the staff member's share
// key (which the coworker checks: they cannot check the vault's, and age
// alone would let anyone with their public key forge a share).
type shareBody struct {
	V      int      `json:"v"`
	Record string   `json:"record"`
	Staff  string   `json:"staff"`
	UID    string   `json:"uid"`
	Scope  []string `json:"scope"`
	// Until is the last day of a share made with --until.
	Until records.Date `json:"until,omitzero"`
	// End is the day after which the share must be looked at again: the
	// earlier of Until and the first expiry among the consents behind it.
	End     records.Date `json:"end,omitzero"`
	Created time.Time    `json:"created"`
	Sealed  []byte       `json:"sealed"`
}

// SharedRecord is what a coworker's age file (share --out) holds, as JSON:
// the record's ID, the scope shared, and the parts of the record it covers.
type SharedRecord struct {
	ID    string   `json:"id"`
	Scope []string `json:"scope"`
	*records.Record
}

// shareKeyOf is the key of the share of record id with a coworker.
func shareKeyOf(id ID, staff string) []byte { return recordObjectKey(id, []byte(staff)) }

// shareOf splits the key of a share (shareKeyOf) into the record's ID and
// the coworker's name; ok is false for a key too short to be one.
func shareOf(k []byte) (id ID, staff string, ok bool) {
	if len(k) <= len(id) {
		return ID{}, "", false
	}
	return ID(k[:len(id)]), string(k[len(id):]), true
}

// parseShare decodes a stored share and checks its vault MAC.
func (v *Vault) parseShare(k, raw []byte) (*shareBody, error) {
	sb, body, err := splitShare(k, raw)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(raw[len(body):len(body)+macLen], v.keys.mac(macShare, k, body)) {
		return nil, fmt.Errorf("share for %s: %w", sb.Staff, ErrTampered)
	}
	return sb, nil
}

// splitShare decodes a stored share without checking a MAC, checking only
// that the record and staff name inside are those of its key.
func splitShare(k, raw []byte) (*shareBody, []byte, error) {
	bad := fmt.Errorf("share: malformed: %w", ErrTampered)
	if len(k) <= 8 || len(raw) < 2*macLen {
		return nil, nil, bad
	}
	body := raw[:len(raw)-2*macLen]
	var sb shareBody
	if err := json.Unmarshal(body, &sb); err != nil || sb.V != 1 {
		return nil, nil, bad
	}
	if sb.Record != ID(k[:8]).String() || sb.Staff != string(k[8:]) {
		return nil, nil, fmt.Errorf("share: it belongs elsewhere: %w", ErrTampered)
	}
	return &sb, body, nil
}

// activeScope is what the consents of one staff registration allow at now,
// and the day after which that must be looked at again.
func activeScope(cs []storedConsent, st *staffEntry, now time.Time) ([]string, records.Date) {
	var mine []consent.Consent
	var end records.Date
	for _, c := range cs {
		if c.uid != st.UID || c.To != st.Name {
			continue
		}
		mine = append(mine, c.Consent)
		if c.Active(now) && !c.Expires.IsZero() {
			end = minDate(end, c.Expires)
		}
	}
	return consent.ActiveScope(mine, st.Name, now), end
}

// minDate is the earlier of two dates, a zero date meaning "none".
func minDate(a, b records.Date) records.Date {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// putShare seals the parts of rec that scope covers to the coworker and
// stores the share.
func (v *Vault) putShare(tx *txn, id ID, rec *records.Record, st *staffEntry, shareKey []byte, sb *shareBody) error {
	to, err := ParseStaffKey(st.Recipient)
	if err != nil {
		return fmt.Errorf("staff %s: %w", st.Name, ErrTampered)
	}
	payload, err := records.Encode(id.String(), consent.Redact(rec, sb.Scope))
	if err != nil {
		return err
	}
	if sb.Sealed, err = encrypt(payload, to); err != nil {
		return err
	}
	sb.V, sb.Record, sb.Staff, sb.UID = 1, id.String(), st.Name, st.UID
	body, err := json.Marshal(sb)
	if err != nil {
		return err
	}
	k := shareKeyOf(id, st.Name)
	val := append(body, v.keys.mac(macShare, k, body)...)
	val = append(val, macWith(shareKey, macShare, k, body)...)
	return v.putShareObject(tx, k, val, sb.End)
}

// resyncShare brings the share of record id for staff name in line with the
// consents and the staff entry now: deleted when nothing allows it any more
// (or the staff member is gone or re-registered), re-sealed when its scope
// changed or when force is set (the record changed; rec is then the new
// record). rec may be nil: it is read when needed.
func (v *Vault) resyncShare(tx *txn, id ID, rec *records.Record, name string, force bool) error {
	shares := tx.Bucket(bucketShares)
	k := shareKeyOf(id, name)
	raw := shares.Get(k)
	if raw == nil {
		return nil
	}
	sb, err := v.parseShare(k, raw)
	if err != nil {
		return recordErr(id, err)
	}
	st, err := v.getStaff(tx, name)
	if errors.Is(err, ErrNotFound) {
		return shares.Delete(k)
	}
	if err != nil {
		return err
	}
	if st.UID != sb.UID {
		return shares.Delete(k)
	}
	cs, err := v.consentsOf(tx, id)
	if err != nil {
		return err
	}
	now := v.now()
	scope, end := activeScope(cs, st, now)
	end = minDate(end, sb.Until)
	if scope == nil || (!end.IsZero() && records.DateOf(now).After(end)) {
		return shares.Delete(k)
	}
	if !force && slices.Equal(scope, sb.Scope) && end == sb.End {
		return nil
	}
	if rec == nil {
		raw, err := v.getEntry(tx, id)
		if err != nil {
			return err
		}
		if _, rec, err = v.keys.open(id, raw); err != nil {
			return err
		}
	}
	shareKey, err := v.shareKey(st)
	if err != nil {
		return err
	}
	sb.Scope, sb.End = scope, end
	return v.putShare(tx, id, rec, st, shareKey, sb)
}

// refreshShares re-seals every share of record id from rec, its new
// content, in the transaction that changed it (Note).
func (v *Vault) refreshShares(tx *txn, id ID, rec *records.Record) error {
	for _, name := range v.sharedWith(tx, id) {
		if err := v.resyncShare(tx, id, rec, name, true); err != nil {
			return err
		}
	}
	return nil
}

// NoConsentError is returned by Share when no active consent of the client
// covers the coworker. errors.Is(err, ErrNoConsent) is true for it; it
// names the record by ID and the coworker, so that the caller can say which
// consent to record.
type NoConsentError struct {
	Record string
	Staff  string
}

func (e *NoConsentError) Error() string {
	return fmt.Sprintf("record %s: %v covers sharing with %s", e.Record, ErrNoConsent, e.Staff)
}

// Unwrap makes errors.Is(err, ErrNoConsent) true.
func (e *NoConsentError) Unwrap() error { return ErrNoConsent }

// ShareOptions tune Share.
type ShareOptions struct {
	// Until, if set, is the last day of the share; it lapses after it.
	Until records.Date
	// WriteFile, if set, is given an age file that the coworker's key opens
	// (age -d -i KEY), holding the shared part as SharedRecord JSON. It is
	// called inside the transaction: if it fails, nothing is shared.
	WriteFile func(ageFile []byte) error
}

// ShareResult is what Share did.
type ShareResult struct {
	Record string       `json:"record"`
	Staff  string       `json:"staff"`
	Scope  []string     `json:"scope"`
	Until  records.Date `json:"until,omitzero"`
	// Already is true when the same share existed and nothing changed.
	Already bool `json:"already"`
}

// Share makes the record ref names readable to the coworker name, in the
// parts their active consents cover. Without an active consent it fails
// with ErrNoConsent. Sharing again with the same options changes nothing.
// A record on legal hold can be shared (a hold stops destruction, not
// reading).
func (v *Vault) Share(ref, name string, o ShareOptions) (*ShareResult, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	name = strings.TrimSpace(name)
	now := v.now()
	if !o.Until.IsZero() && o.Until.Before(records.DateOf(now)) {
		return nil, fmt.Errorf("until: %w: is in the past", ErrInvalid)
	}
	var out *ShareResult
	err := v.update(func(tx *txn) error {
		// Shares that have lapsed go, and the coworkers' events are folded
		// in, before this share is decided on (LapseAndFold).
		if _, err := v.lapseShares(tx, records.DateOf(now)); err != nil {
			return err
		}
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		id := m.entry.ID
		if isOwnerName(name) || name == v.opts.Actor {
			return recordErr(id, fmt.Errorf("the owner reads every record already; there is nothing to share: %w", ErrRefused))
		}
		st, err := v.getStaff(tx, name)
		if err != nil {
			return recordErr(id, err)
		}
		if v.isOwnerKey(st.Recipient) {
			return recordErr(id, fmt.Errorf("staff %s holds the owner's key: %w", name, ErrRefused))
		}
		cs, err := v.consentsOf(tx, id)
		if err != nil {
			return err
		}
		scope, end := activeScope(cs, st, now)
		if scope == nil {
			return &NoConsentError{Record: id.String(), Staff: name}
		}
		end = minDate(end, o.Until)
		out = &ShareResult{Record: id.String(), Staff: name, Scope: scope, Until: o.Until}
		k := shareKeyOf(id, name)
		sb := &shareBody{Scope: scope, Until: o.Until, End: end, Created: now.Truncate(time.Second)}
		if raw := tx.Bucket(bucketShares).Get(k); raw != nil {
			old, err := v.parseShare(k, raw)
			if err != nil {
				return recordErr(id, err)
			}
			out.Already = old.UID == st.UID && slices.Equal(old.Scope, scope) && old.Until == o.Until && old.End == end
			sb.Created = old.Created
			// Sharing again grants it again, should the engine's
			// grant have gone missing (access.go).
			tx.noteShare(k, true)
		}
		if !out.Already {
			shareKey, err := v.shareKey(st)
			if err != nil {
				return err
			}
			if err := v.putShare(tx, id, m.record, st, shareKey, sb); err != nil {
				return err
			}
			detail := "scope " + strings.Join(scope, ",")
			if !o.Until.IsZero() {
				detail += ", until " + o.Until.String()
			}
			if err := v.appendAudit(tx, Event{Action: ActionShare, Record: id.String(), Staff: name, Detail: detail}); err != nil {
				return err
			}
		}
		if o.WriteFile == nil {
			return nil
		}
		to, err := ParseStaffKey(st.Recipient)
		if err != nil {
			return fmt.Errorf("staff %s: %w", name, ErrTampered)
		}
		b, err := json.MarshalIndent(SharedRecord{ID: id.String(), Scope: scope, Record: consent.Redact(m.record, scope)}, "", "  ")
		if err != nil {
			return err
		}
		file, err := encrypt(append(b, '\n'), to)
		if err != nil {
			return err
		}
		if err := o.WriteFile(file); err != nil {
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionShareFile, Record: id.String(), Staff: name,
			Detail: "age file written for the coworker, scope " + strings.Join(scope, ",")})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Unshared is what Unshare did.
type Unshared struct {
	Record string `json:"record"`
	Staff  string `json:"staff"`
	// Removed is false when the record was not shared with them.
	Removed bool `json:"removed"`
	// Exposure is what unsharing cannot undo.
	Exposure Exposure `json:"exposure"`
}

// Unshare removes the coworker's share of the record ref names: afterwards
// the vault file holds nothing of it that their key opens. The consent
// stays as it is. What they read or took before stays readable to them:
// Exposure lists it.
func (v *Vault) Unshare(ref, name string) (*Unshared, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	name = strings.TrimSpace(name)
	var out *Unshared
	err := v.update(func(tx *txn) error {
		if _, err := v.lapseShares(tx, records.DateOf(v.now())); err != nil {
			return err
		}
		m, _, err := v.resolve(tx, ref)
		if err != nil {
			return err
		}
		id := m.entry.ID
		out = &Unshared{Record: id.String(), Staff: name}
		k := shareKeyOf(id, name)
		shares := tx.Bucket(bucketShares)
		if shares.Get(k) == nil {
			if _, err := v.getStaff(tx, name); err != nil {
				return recordErr(id, err)
			}
		} else {
			if err := shares.Delete(k); err != nil {
				return err
			}
			out.Removed = true
			if err := v.appendAudit(tx, Event{Action: ActionUnshare, Record: id.String(), Staff: name, Detail: "share removed"}); err != nil {
				return err
			}
		}
		return v.exposure(tx, id, &out.Exposure)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LapseAndFold removes or narrows every share whose --until date or whose
// consents' expiry has passed, and returns how many records it changed.
// It also folds the coworkers' audit events into the vault's MAC chain,
// checked with their share keys (only their own views: staff.go), so that
// from then on removing one is detected like any other chain entry. Share
// and Unshare do both first, in their own transaction.
func (v *Vault) LapseAndFold() (int, error) {
	if v.keys == nil {
		return 0, ErrLocked
	}
	var n int
	err := v.update(func(tx *txn) error {
		var err error
		n, err = v.lapseShares(tx, records.DateOf(v.now()))
		return err
	})
	return n, err
}

// lapseShares is Lapse in the caller's transaction.
func (v *Vault) lapseShares(tx *txn, today records.Date) (int, error) {
	// Shares the engine deleted at their time first: they leave the root
	// before anything reads the shares (lapsing.go), and are narrowed to
	// what the remaining consents cover, as the others are below.
	n, err := v.lapseExpired(tx)
	if err != nil {
		return 0, err
	}
	for _, st := range v.allStaffRaw(tx) {
		st, err := v.getStaff(tx, st.Name)
		if err != nil {
			return 0, err
		}
		sk, err := v.shareKey(st)
		if err != nil {
			return 0, err
		}
		if err := v.absorbStaffAudit(tx, st, sk); err != nil {
			return 0, err
		}
	}
	var list [][]byte
	err = tx.Bucket(bucketShares).ForEach(func(k, raw []byte) error {
		sb, err := v.parseShare(k, raw)
		if err != nil {
			return recordErr(ID(k[:8]), err)
		}
		if !sb.End.IsZero() && today.After(sb.End) {
			list = append(list, clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	m, err := v.lapseEach(tx, list)
	return n + m, err
}

// lapseExpired folds in the shares the engine deleted at their time
// (foldLapsed) and lapses each as lapseEach does.
func (v *Vault) lapseExpired(tx *txn) (int, error) {
	folded, err := v.foldLapsed(tx)
	if err != nil {
		return 0, err
	}
	for _, k := range folded {
		// The engine deleted the share; its grant goes too (access.go).
		tx.noteShare(k, false)
	}
	return v.lapseEach(tx, folded)
}

// lapseEach narrows each share (by key) whose period or consent ended to
// what the consents that remain cover, or removes it, and logs it.
func (v *Vault) lapseEach(tx *txn, keys [][]byte) (int, error) {
	for _, k := range keys {
		id, name, ok := shareOf(k)
		if !ok {
			continue
		}
		if err := v.resyncShare(tx, id, nil, name, false); err != nil {
			return 0, err
		}
		detail := "share period or consent ended; share narrowed"
		if tx.Bucket(bucketShares).Get(shareKeyOf(id, name)) == nil {
			detail = "share period or consent ended; share removed"
		}
		if err := v.appendAudit(tx, Event{Action: ActionUnshare, Record: id.String(), Staff: name, Detail: detail}); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// Exposure is what no unshare, revocation or removal can take back: the
// coworkers who could read a record at some time, and the copies that left
// the vault (files written for a coworker, disclosures, exports).
type Exposure struct {
	Record string `json:"record"`
	// Readers are the coworkers the record was ever shared with.
	Readers []string `json:"readers"`
	// Copies are the files written from the record, oldest first.
	Copies []Copy `json:"copies"`
}

// Copy is one file written from a record.
type Copy struct {
	Kind string    `json:"kind"` // "share file", "disclosure", "export"
	For  string    `json:"for"`  // whom it was for: a coworker, a disclosure, "client"; in StaffRemoval the record
	At   time.Time `json:"at"`
}

// exposure reads the audit log for what record id's shares and copies
// were, into x.
func (v *Vault) exposure(tx *txn, id ID, x *Exposure) error {
	*x = Exposure{Record: id.String(), Readers: []string{}, Copies: []Copy{}}
	fn := func(e Event) error {
		if e.Record != id.String() && !slices.Contains(e.Records, id.String()) {
			return nil
		}
		switch e.Action {
		case ActionShare:
			if !slices.Contains(x.Readers, e.Staff) {
				x.Readers = append(x.Readers, e.Staff)
			}
		case ActionShareFile:
			x.Copies = append(x.Copies, Copy{Kind: "share file", For: e.Staff, At: e.Time})
		case ActionDisclose:
			x.Copies = append(x.Copies, Copy{Kind: "disclosure", For: e.Detail, At: e.Time})
		case ActionExport:
			if strings.Contains(e.Detail, "file") {
				x.Copies = append(x.Copies, Copy{Kind: "export", For: "client", At: e.Time})
			}
		}
		return nil
	}
	return v.walkAudit(tx, fn)
}

// viewShared is View for a coworker: ref is an ID (or unique prefix) or a
// client's name, matched against only the records shared with them.
func (v *Vault) viewShared(ref string) (*Stored, error) {
	if err := v.reloadGrants(); err != nil {
		return nil, err
	}
	var out *Stored
	err := v.update(func(tx *txn) error {
		st, how, err := v.findShared(tx, ref)
		if err != nil {
			return err
		}
		out = st
		return v.appendStaffAudit(tx, Event{Action: ActionView, Record: out.ID, Detail: how + ", shared copy"})
	})
	if err == nil {
		err = v.recordDates(out)
	}
	return out, err
}

// findShared finds, for a coworker, the record ref names among those
// shared with them (an ID, a unique prefix, or a client's name), and opens
// its share; how says which way it was named.
func (v *Vault) findShared(tx *txn, ref string) (*Stored, string, error) {
	s := v.staff
	ref = strings.TrimSpace(ref)
	var found []*Stored
	how := "by name"
	if keys, ok := v.ownShareKeys(); ok && looksLikeIDPrefix(ref) {
		// The engine lets them read their own shares alone: the ID is
		// looked for among those.
		p := strings.ToLower(ref)
		var ids []ID
		for _, k := range keys {
			if id := ID(k[:8]); strings.HasPrefix(id.String(), p) && tx.Bucket(bucketShares).Get(k) != nil {
				ids = append(ids, id)
			}
		}
		if len(ids) > 1 {
			return nil, "", &AmbiguousError{Ref: "id prefix", Candidates: candidates(ids)}
		}
		if len(ids) == 1 {
			k := shareKeyOf(ids[0], s.entry.Name)
			st, err := v.openShare(k, tx.Bucket(bucketShares).Get(k))
			if err != nil {
				return nil, "", err
			}
			found, how = append(found, st), "by id"
		}
	} else if looksLikeIDPrefix(ref) {
		ids, err := v.idsWithPrefix(tx, strings.ToLower(ref))
		if err != nil {
			return nil, "", err
		}
		if len(ids) > 1 {
			return nil, "", &AmbiguousError{Ref: "id prefix", Candidates: candidates(ids)}
		}
		if len(ids) == 1 {
			k := shareKeyOf(ids[0], s.entry.Name)
			raw := tx.Bucket(bucketShares).Get(k)
			if raw == nil {
				return nil, "", recordErr(ids[0], ErrNotShared)
			}
			st, err := v.openShare(k, raw)
			if err != nil {
				return nil, "", err
			}
			found, how = append(found, st), "by id"
		}
	}
	if how == "by name" {
		want := records.NormalizeName(ref)
		err := v.eachOwnShare(tx, func(k, raw []byte) error {
			st, err := v.openShare(k, raw)
			if err != nil {
				return err
			}
			if records.NormalizeName(st.Name) == want {
				found = append(found, st)
			}
			return nil
		})
		if err != nil {
			return nil, "", err
		}
	}
	switch len(found) {
	case 0:
		return nil, "", fmt.Errorf("no record of that ID or name: %w", ErrNotShared)
	case 1:
	default:
		amb := &AmbiguousError{Ref: "name"}
		for _, m := range found {
			amb.Candidates = append(amb.Candidates, Candidate{ID: m.ID, DOB: m.DOB.String()})
		}
		return nil, "", amb
	}
	return found[0], how, nil
}

// openShare checks a share with the coworker's share key and decrypts it
// with their identity. A share past its end is not shared any more.
func (v *Vault) openShare(k, raw []byte) (*Stored, error) {
	s := v.staff
	id := ID(k[:8])
	sb, body, err := splitShare(k, raw)
	if err != nil {
		return nil, recordErr(id, err)
	}
	if sb.UID != s.entry.UID || !hmac.Equal(raw[len(body)+macLen:], macWith(s.shareKey, macShare, k, body)) {
		return nil, recordErr(id, fmt.Errorf("share: %w", ErrTampered))
	}
	if !sb.End.IsZero() && records.DateOf(v.now()).After(sb.End) {
		return nil, recordErr(id, ErrNotShared)
	}
	rec, err := openSealed(id, sb.Sealed, s.ids...)
	if err != nil {
		return nil, err
	}
	return &Stored{ID: id.String(), Created: sb.Created, Holds: []consent.Hold{}, Scope: slices.Clone(sb.Scope), Record: rec, SharedWith: []string{s.entry.Name}}, nil
}

// sharedWith returns the names of the coworkers record id is shared with.
func (v *Vault) sharedWith(tx *txn, id ID) []string {
	var out []string
	c := tx.Bucket(bucketShares).prefixCursor(id[:])
	for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Next() {
		if _, name, ok := shareOf(k); ok {
			out = append(out, name)
		}
	}
	return out
}

// removeShares deletes every share of record id, for the commands that
// destroy a record (expire, erase): a share outliving its record would stay
// readable to the coworker. The record's consents are kept, as its audit
// entries are, for as long as the retention rules say. It returns the
// names of the coworkers whose shares went.
func (v *Vault) removeShares(tx *txn, id ID) ([]string, error) {
	names := v.sharedWith(tx, id)
	for _, name := range names {
		if err := tx.Bucket(bucketShares).Delete(shareKeyOf(id, name)); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// noteShared is Note for a coworker: a treatment entry for a record shared
// with them, written as a pending note, sealed to the vault's key and MAC'd
// with their share key in their own audit, which the owner's next fold
// (LapseAndFold, expire, staff remove) appends to the record as theirs. It
// changes nothing else, and cannot amend an entry.
func (v *Vault) noteShared(ref string, t records.Treatment) error {
	s := v.staff
	if t.Amends != 0 {
		return fmt.Errorf("amends: %w: a coworker adds entries; a correction is the owner's", ErrInvalid)
	}
	if strings.TrimSpace(t.Technician) == "" {
		t.Technician = s.entry.Name
	}
	to, err := age.ParseX25519Recipient(v.hdr.VaultRecipient)
	if err != nil {
		return fmt.Errorf("vault header: %w", ErrCorrupt)
	}
	if err := v.reloadGrants(); err != nil {
		return err
	}
	return v.update(func(tx *txn) error {
		st, _, err := v.findShared(tx, ref)
		if err != nil {
			return err
		}
		id, _ := ParseID(st.ID)
		if errs := t.Validate(records.DateOf(v.now())); len(errs) > 0 {
			return recordErr(id, fmt.Errorf("%w: %s", ErrInvalid, joinFieldErrors(errs)))
		}
		// The rules are checked against what the coworker can see; the
		// owner's fold keeps the warnings in the entry.
		if err := st.Record.CheckEntry(&t); err != nil {
			return recordErr(id, entryError(err))
		}
		plain, err := json.Marshal(&t)
		if err != nil {
			return err
		}
		sealed, err := encrypt(plain, to)
		clear(plain)
		if err != nil {
			return err
		}
		return v.appendStaffAudit(tx, Event{Action: ActionNote, Record: st.ID, Detail: "treatment, pending until the owner's next fold", Note: sealed})
	})
}
