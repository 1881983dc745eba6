package vault

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault/store"
	"golang.org/x/crypto/ssh"
)

// MAC labels of the sharing objects (see keys.go for the others).
const (
	macStaff      = "clientvault/v1/staff"
	macConsent    = "clientvault/v1/consent"
	macShare      = "clientvault/v1/share"
	macDisclosure = "clientvault/v1/disclosure"
	macStaffAudit = "clientvault/v1/staff-audit"
)

// Staff is a coworker records can be shared with.
type Staff struct {
	Name      string `json:"name"`
	Recipient string `json:"recipient"`
	// OwnerKey, set by StaffAdd, is the owner's signing key, which the
	// coworker pins once ('clientvault trust') to tell the owner's shares
	// from forged ones.
	OwnerKey string    `json:"owner_key,omitempty"`
	Added    time.Time `json:"added"`
	// Shares is how many records are shared with them now.
	Shares int `json:"shares"`
	// EngineUser, set by StaffAdd on an engine that enforces who reads
	// what (etcd), is the engine's user made for them: the common name
	// (CN) their client certificate must have.
	EngineUser string `json:"engine_user,omitempty"`
	// Unenforced, with EngineUser, says that the engine does not enforce
	// its access control now (etcd's authentication is not enabled).
	Unenforced bool `json:"unenforced,omitempty"`
}

// staffEntry is a staff member as stored: their public key, and a random
// share key sealed both to the vault's key and to theirs. The share key
// authenticates shares to the coworker (who cannot check the vault's MAC)
// and the coworker's own audit events to the owner. UID is random per
// registration, so that a consent given for one registration never opens a
// record to a later one of the same name with another key.
type staffEntry struct {
	V         int       `json:"v"`
	Name      string    `json:"name"`
	UID       string    `json:"uid"`
	Recipient string    `json:"recipient"`
	Added     time.Time `json:"added"`
	KeyVault  []byte    `json:"key_vault"`
	KeyStaff  []byte    `json:"key_staff"`
	// Sig is the owner's signature (owner.go), which the coworker checks
	// with the owner key they pinned.
	Sig []byte `json:"sig,omitempty"`
}

// staffSession is what a coworker's key unlocks: their own staff entry and
// share key. It opens nothing but the shares made for them.
type staffSession struct {
	entry    *staffEntry
	shareKey []byte
	ids      []age.Identity
	// restricted: the engine lets them read only what grants say
	// (access.go), so their shares are found from these, not by a walk
	// that the engine refuses.
	restricted bool
	grants     []store.Grant
}

// ParseStaffKey reads a coworker's public key: an age X25519 (age1…) or
// post-quantum (age1pq1…) recipient, or an SSH ed25519 or RSA public key as
// in authorized_keys. Plugin recipients are refused: sharing must not depend
// on a plugin being installed on the owner's machine.
func ParseStaffKey(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	var r age.Recipient
	var err error
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		r, err = age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "age1"):
		r, err = age.ParseX25519Recipient(s)
	case strings.HasPrefix(s, "ssh-ed25519 "), strings.HasPrefix(s, "ssh-rsa "):
		var pk ssh.PublicKey
		if pk, _, _, _, err = ssh.ParseAuthorizedKey([]byte(s)); err == nil {
			r, err = newSSHRecipient(pk)
		}
	default:
		err = errors.New("unknown kind")
	}
	if err != nil {
		return nil, fmt.Errorf("staff key: %w: not an age (age1…) or SSH (ssh-ed25519, ssh-rsa) public key", ErrInvalid)
	}
	return r, nil
}

// checkStaffName accepts the name of one person, as a consent's To must be.
func checkStaffName(name string) error {
	if err := consent.ValidateTo(name); err != nil {
		return fmt.Errorf("staff name: %w: %v", ErrInvalid, err)
	}
	if isOwnerName(name) {
		return fmt.Errorf("staff name %q is the vault owner's: %w", name, ErrRefused)
	}
	return nil
}

func isOwnerName(name string) bool {
	return strings.EqualFold(strings.TrimSpace(name), "owner")
}

// isOwnerKey reports whether a recipient is the owner's or the recovery key.
func (v *Vault) isOwnerKey(s string) bool {
	for _, k := range append(slices.Clone(v.hdr.Owner), v.hdr.Recovery...) {
		if k == s {
			return true
		}
	}
	return s == v.hdr.VaultRecipient
}

// StaffAdd registers a coworker by name and public key. A name already
// registered, or the owner's own key, is refused.
func (v *Vault) StaffAdd(name string, key age.Recipient) (*Staff, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	name = strings.TrimSpace(name)
	if err := checkStaffName(name); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("staff %s: %w: a public key is required", name, ErrInvalid)
	}
	rs := RecipientString(key)
	if v.isOwnerKey(rs) {
		return nil, fmt.Errorf("staff %s: that is the owner's key, which opens every record already: %w", name, ErrRefused)
	}
	shareKey := make([]byte, 32)
	uid := make([]byte, 16)
	if _, err := rand.Read(shareKey); err != nil {
		return nil, err
	}
	if _, err := rand.Read(uid); err != nil {
		return nil, err
	}
	st := &staffEntry{V: 1, Name: name, UID: hex.EncodeToString(uid), Recipient: rs, Added: v.now().Truncate(time.Second)}
	var err error
	if st.KeyVault, err = encrypt(shareKey, v.keys.recipient); err != nil {
		return nil, err
	}
	if st.KeyStaff, err = encrypt(shareKey, key); err != nil {
		return nil, fmt.Errorf("staff %s: %w: the key cannot be sealed to", name, ErrInvalid)
	}
	v.signStaff(st, shareKey)
	err = v.update(func(tx *txn) error {
		if tx.Bucket(bucketStaff).Get([]byte(name)) != nil {
			return fmt.Errorf("staff %s: %w", name, ErrExists)
		}
		for _, other := range v.allStaffRaw(tx) {
			// Names are unique whatever their case: "bea lopez" and "Bea
			// Lopez" would be two coworkers to a consent form but one to
			// a person.
			if strings.EqualFold(other.Name, name) {
				return fmt.Errorf("staff %s: the name is taken by %s: %w", name, other.Name, ErrExists)
			}
			if other.Recipient == rs {
				return fmt.Errorf("staff %s: that key is already registered for %s: %w", name, other.Name, ErrExists)
			}
		}
		if err := v.putStaff(tx, st); err != nil {
			return err
		}
		tx.access.added = []string{name}
		return v.appendAudit(tx, Event{Action: ActionStaffAdd, Staff: name})
	})
	if err != nil {
		return nil, err
	}
	ok, err := v.OwnerKey()
	if err != nil {
		return nil, err
	}
	out := &Staff{Name: name, Recipient: rs, Added: st.Added, OwnerKey: ok}
	if ac := v.access(); ac != nil {
		out.EngineUser = ac.MemberUser(name)
		// The coworker is registered whatever etcd answers here; a
		// warning not given is the one cost of its not answering.
		if on, err := ac.Enforced(); err == nil {
			out.Unenforced = !on
		}
	}
	return out, nil
}

func (v *Vault) putStaff(tx *txn, st *staffEntry) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketStaff).Put([]byte(st.Name), append(body, v.keys.mac(macStaff, []byte(st.Name), body)...))
}

// parseStaff decodes a stored staff entry without checking its MAC.
func parseStaff(name, raw []byte) (*staffEntry, []byte, error) {
	if len(raw) < macLen {
		return nil, nil, fmt.Errorf("staff %s: %w", name, ErrTampered)
	}
	body := raw[:len(raw)-macLen]
	var st staffEntry
	if err := json.Unmarshal(body, &st); err != nil || st.V != 1 || st.Name != string(name) {
		return nil, nil, fmt.Errorf("staff %s: %w", name, ErrTampered)
	}
	return &st, raw[len(raw)-macLen:], nil
}

// getStaff returns the authenticated staff entry of name, or ErrNotFound.
func (v *Vault) getStaff(tx *txn, name string) (*staffEntry, error) {
	raw := tx.Bucket(bucketStaff).Get([]byte(name))
	if raw == nil {
		return nil, fmt.Errorf("staff %s: %w (see 'clientvault staff list')", name, ErrNotFound)
	}
	st, tag, err := parseStaff([]byte(name), raw)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(tag, v.keys.mac(macStaff, []byte(name), raw[:len(raw)-macLen])) {
		return nil, fmt.Errorf("staff %s: %w", name, ErrTampered)
	}
	return st, nil
}

// allStaffRaw returns every staff entry that parses, unauthenticated.
func (v *Vault) allStaffRaw(tx *txn) []*staffEntry {
	var out []*staffEntry
	tx.Bucket(bucketStaff).ForEach(func(k, raw []byte) error {
		if st, _, err := parseStaff(k, raw); err == nil {
			out = append(out, st)
		}
		return nil
	})
	return out
}

// shareKey opens a staff member's share key with the vault's key.
func (v *Vault) shareKey(st *staffEntry) ([]byte, error) {
	k, err := decrypt(st.KeyVault, v.keys.identity)
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("staff %s: share key: %w", st.Name, ErrTampered)
	}
	return k, nil
}

// macWith is HMAC-SHA256 under key of a label and length-prefixed parts, as
// keySet.mac, for the staff share keys.
func macWith(key []byte, label string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	writePart(h, []byte(label))
	for _, p := range parts {
		writePart(h, p)
	}
	return h.Sum(nil)
}

// StaffList returns the registered coworkers, by name, with the number of
// records shared with each.
func (v *Vault) StaffList() ([]Staff, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	out := []Staff{}
	err := v.view(func(tx *txn) error {
		counts := map[string]int{}
		tx.Bucket(bucketShares).ForEach(func(k, _ []byte) error {
			if _, name, ok := shareOf(k); ok {
				counts[name]++
			}
			return nil
		})
		return tx.Bucket(bucketStaff).ForEach(func(k, _ []byte) error {
			st, err := v.getStaff(tx, string(k))
			if err != nil {
				return err
			}
			out = append(out, Staff{Name: st.Name, Recipient: st.Recipient, Added: st.Added, Shares: counts[st.Name]})
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// StaffRemoval is what StaffRemove did.
type StaffRemoval struct {
	Name string `json:"name"`
	// Records are the records that were shared with them: their shares are
	// gone from the vault file.
	Records []string `json:"records"`
	// Consents is how many of their consents no longer apply. The consents
	// are kept, as proof of what was allowed when; a later registration of
	// the same name needs new ones.
	Consents int `json:"consents"`
	// Copies are the age files written for them (share --out), with the
	// record each came from in For: removal cannot reach those.
	Copies []Copy `json:"copies"`
}

// StaffRemove removes a coworker and every share they hold, in one
// transaction. Shares are separate ciphertexts sealed to the coworker only,
// so removal deletes them and re-seals nothing: afterwards nothing in the
// vault file opens with the coworker's key. Their audit events, which only
// their share key authenticates, are verified and moved into the vault's
// own MAC chain first, so that they stay verifiable once the key is gone.
func (v *Vault) StaffRemove(name string) (*StaffRemoval, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	name = strings.TrimSpace(name)
	out := &StaffRemoval{Name: name, Records: []string{}, Copies: []Copy{}}
	err := v.update(func(tx *txn) error {
		st, ids, err := v.removeStaff(tx, name)
		if err != nil {
			return err
		}
		tx.access.removed = []string{name}
		out.Records = idStrings(ids)
		err = tx.Bucket(bucketConsents).ForEach(func(k, raw []byte) error {
			if meta, _, err := splitObject(raw); err == nil && string(meta) == st.UID {
				out.Consents++
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = v.walkAudit(tx, func(e Event) error {
			if e.Action == ActionShareFile && e.Staff == name {
				out.Copies = append(out.Copies, Copy{Kind: "share file", For: e.Record, At: e.Time})
			}
			return nil
		})
		if err != nil {
			return err
		}
		return v.appendAudit(tx, Event{Action: ActionStaffRemove, Staff: name, Records: out.Records, Count: len(ids),
			Detail: fmt.Sprintf("%d shares removed; %d consents no longer apply", len(ids), out.Consents)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// removeStaff deletes the staff entry of name and every share they hold,
// after folding their audit events into the chain; it returns the entry
// and the records that were shared with them.
func (v *Vault) removeStaff(tx *txn, name string) (*staffEntry, []ID, error) {
	st, err := v.getStaff(tx, name)
	if err != nil {
		return nil, nil, err
	}
	shareKey, err := v.shareKey(st)
	if err != nil {
		return nil, nil, err
	}
	if err := v.absorbStaffAudit(tx, st, shareKey); err != nil {
		return nil, nil, err
	}
	shares := tx.Bucket(bucketShares)
	var doomed [][]byte
	c := shares.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if _, staff, ok := shareOf(k); ok && staff == name {
			doomed = append(doomed, clone(k))
		}
	}
	var ids []ID
	for _, k := range doomed {
		if err := shares.Delete(k); err != nil {
			return nil, nil, err
		}
		ids = append(ids, ID(k[:8]))
	}
	return st, ids, tx.Bucket(bucketStaff).Delete([]byte(name))
}

// UnlockAsStaff opens the vault as a coworker: ids must open the share key
// of one registered staff member. A coworker reads only the records shared
// with them (View) and cannot change the vault; their views are recorded in
// the audit log under their share key. An identity that is no staff
// member's is ErrWrongKey.
//
// On an engine that restricts them (access.go), their staff entry is the
// one their grants name; an engine user that staff add did not make (one
// set up by hand, granting whole ranges) has none named, and reads the
// staff entries as far as the engine lets it.
func (v *Vault) UnlockAsStaff(ids ...age.Identity) error {
	if ac := v.access(); ac != nil {
		grants, restricted, err := ac.OwnGrants()
		if err != nil {
			return err
		}
		if restricted {
			err := v.unlockAsStaff(ids, grants, true)
			if !errors.Is(err, ErrWrongKey) {
				return err
			}
		}
	}
	return v.unlockAsStaff(ids, nil, false)
}

// unlockAsStaff is UnlockAsStaff among the staff entries that grants name
// (restricted), or all of them.
func (v *Vault) unlockAsStaff(ids []age.Identity, grants []store.Grant, restricted bool) error {
	var entries []*staffEntry
	err := v.view(func(tx *txn) error {
		if !restricted {
			entries = v.allStaffRaw(tx)
			return nil
		}
		for _, g := range grants {
			if !bytes.Equal(g.Bucket, bucketStaff) || g.Prefix {
				continue
			}
			if st, _, err := parseStaff(g.Key, tx.Bucket(bucketStaff).Get(g.Key)); err == nil {
				entries = append(entries, st)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, st := range entries {
		k, err := decrypt(st.KeyStaff, ids...)
		if errors.Is(err, ErrWrongKey) || errors.Is(err, ErrTampered) {
			continue
		}
		if err != nil {
			return err
		}
		if len(k) != 32 {
			continue
		}
		if err := v.checkStaffSig(st, k); err != nil {
			return err
		}
		v.staff = &staffSession{entry: st, shareKey: k, ids: ids, restricted: restricted, grants: grants}
		return nil
	}
	return ErrWrongKey
}

// StaffName returns the coworker's name after UnlockAsStaff, or "".
func (v *Vault) StaffName() string {
	if v.staff == nil {
		return ""
	}
	return v.staff.entry.Name
}

// appendStaffAudit records a coworker's event. A coworker cannot extend the
// vault's MAC chain; the event is MAC'd with their share key instead, which
// the owner can check (verify, audit). What this cannot prevent: someone
// with write access to the file deleting such an event before the owner
// folds it into the chain (at staff remove). Their events are keyed
// name || 0 || number (staffAuditPrefix), numbered from the last of their
// own: one range per coworker, which the engine lets them write and no
// other (access.go).
func (v *Vault) appendStaffAudit(tx *txn, e Event) error {
	s := v.staff
	b := tx.Bucket(bucketStaffAudit)
	prefix := staffAuditPrefix(s.entry.Name)
	var seq uint64 = 1
	if k, _ := b.prefixCursor(prefix).Last(); len(k) == len(prefix)+8 {
		seq = binary.BigEndian.Uint64(k[len(prefix):]) + 1
	}
	e.Time = v.now()
	e.Actor = s.entry.Name
	e.Staff = s.entry.Name
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	key := append(prefix, seqKey(seq)...)
	return b.Put(key, append(body, macWith(s.shareKey, macStaffAudit, key, []byte(s.entry.UID), body)...))
}

// walkStaffAudit reads the coworkers' audit events, checking each with its
// author's share key. An event that fails, or whose author is not
// registered, is ErrTampered.
func (v *Vault) walkStaffAudit(tx *txn, fn func(Event) error) error {
	keys := map[string]*staffSession{}
	c := tx.Bucket(bucketStaffAudit).Cursor()
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		e, err := v.checkStaffEvent(tx, keys, k, raw)
		if err != nil {
			return err
		}
		if err := fn(*e); err != nil {
			return err
		}
	}
	return nil
}

func (v *Vault) checkStaffEvent(tx *txn, keys map[string]*staffSession, k, raw []byte) (*Event, error) {
	bad := fmt.Errorf("coworker audit entry %x: %w", k, ErrTampered)
	if len(raw) < macLen {
		return nil, bad
	}
	body := raw[:len(raw)-macLen]
	var e Event
	if err := json.Unmarshal(body, &e); err != nil || e.Staff == "" {
		return nil, bad
	}
	s, ok := keys[e.Staff]
	if !ok {
		st, err := v.getStaff(tx, e.Staff)
		if err != nil {
			return nil, fmt.Errorf("coworker audit entry %x: its author is not registered: %w", k, ErrTampered)
		}
		sk, err := v.shareKey(st)
		if err != nil {
			return nil, err
		}
		s = &staffSession{entry: st, shareKey: sk}
		keys[e.Staff] = s
	}
	if !hmac.Equal(raw[len(raw)-macLen:], macWith(s.shareKey, macStaffAudit, k, []byte(s.entry.UID), body)) {
		return nil, bad
	}
	// Anyone with write access to the file can append here under their own
	// key; what they can truly cause is their own view of a shared record,
	// and a treatment note on it (pending until folded: foldNote).
	// Who acted is the registered coworker whose key made the MAC, never
	// what the event's JSON says.
	if e.Action != ActionView && e.Action != ActionNote {
		return nil, fmt.Errorf("coworker audit entry %x by %s: %w", k, s.entry.Name, errCoworkerAction)
	}
	e.Actor, e.Staff = s.entry.Name, s.entry.Name
	e.Seq = 0
	e.Detail = strings.TrimSpace(e.Detail + " (recorded by the coworker, MAC'd with their share key)")
	return &e, nil
}

// absorbStaffAudit moves a coworker's audit events into the vault's MAC
// chain, checked, before their share key goes with their staff entry.
func (v *Vault) absorbStaffAudit(tx *txn, st *staffEntry, shareKey []byte) error {
	b := tx.Bucket(bucketStaffAudit)
	keys := map[string]*staffSession{st.Name: {entry: st, shareKey: shareKey}}
	var mine [][]byte
	var events []Event
	c := b.Cursor()
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		var probe Event
		if json.Unmarshal(raw[:max(len(raw)-macLen, 0)], &probe) != nil || probe.Staff != st.Name {
			continue
		}
		e, err := v.checkStaffEvent(tx, keys, k, raw)
		if errors.Is(err, errCoworkerAction) {
			// Not folded: kept out of the chain, and its dropping is.
			mine = append(mine, clone(k))
			events = append(events, Event{Action: ActionRejected, Staff: st.Name,
				Detail: "a coworker's audit entry claimed an action only the owner can take; dropped"})
			continue
		}
		if err != nil {
			return err
		}
		mine = append(mine, clone(k))
		events = append(events, *e)
	}
	for i, k := range mine {
		if err := b.Delete(k); err != nil {
			return err
		}
		var err error
		if events[i].Action == ActionNote {
			err = v.foldNote(tx, st, events[i])
		} else {
			err = v.appendAudit(tx, events[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// foldNote appends a coworker's pending treatment note to its record, as
// the coworker's entry: only a new entry, never an amendment or any other
// change. Its contraindication warnings, if any, are kept in the entry (the
// coworker saw them when they wrote it). A note whose record is gone, or
// that is not a valid entry, is dropped, and the dropping recorded.
func (v *Vault) foldNote(tx *txn, st *staffEntry, e Event) error {
	rejected := func(why string) error {
		return v.appendAudit(tx, Event{Action: ActionRejected, Staff: st.Name, Record: e.Record,
			Detail: "a coworker's treatment note was not folded in: " + why})
	}
	plain, err := decrypt(e.Note, v.keys.identity)
	if err != nil {
		return rejected("it does not open with the vault's key")
	}
	var t records.Treatment
	if err := json.Unmarshal(plain, &t); err != nil {
		return rejected("it is not a treatment entry")
	}
	m, _, err := v.resolve(tx, e.Record)
	if err != nil {
		return rejected("its record is not in the vault")
	}
	// Only on a record shared with them now: a note written by hand into
	// their audit for another record (they have their share key) changes
	// nothing. One whose share was taken back before the fold is dropped
	// too, and the dropping recorded.
	if !slices.Contains(v.sharedWith(tx, m.entry.ID), st.Name) {
		return rejected("the record is not shared with them")
	}
	t.Amends, t.N = 0, 0
	t.AcceptWarnings()
	_, err = v.noteIn(tx, m, t, Event{Action: ActionNote, Actor: st.Name, Staff: st.Name, Time: e.Time,
		Detail: "treatment written by the coworker on their shared copy, folded in"})
	if errors.Is(err, ErrInvalid) {
		return rejected("it is not a valid entry")
	}
	return err
}

// splitObject splits a stored sealed object: uvarint(len meta) || meta ||
// uvarint(len sealed) || sealed || mac.
func splitObject(raw []byte) (meta, sealed []byte, err error) {
	if len(raw) < macLen {
		return nil, nil, ErrTampered
	}
	r := reader{b: raw[:len(raw)-macLen]}
	meta = r.bytes(r.uvarint())
	sealed = r.bytes(r.uvarint())
	if r.err || len(r.b) != 0 {
		return nil, nil, ErrTampered
	}
	return meta, sealed, nil
}

// putObject seals plain to the vault's key and stores it under key with its
// public meta, MAC'd with label over the key, the meta and the ciphertext.
func (v *Vault) putObject(tx *txn, bucket []byte, label string, key, meta []byte, plain any) error {
	b, err := json.Marshal(plain)
	if err != nil {
		return err
	}
	sealed, err := encrypt(b, v.keys.recipient)
	if err != nil {
		return err
	}
	var raw []byte
	raw = appendBytes(raw, meta)
	raw = appendBytes(raw, sealed)
	raw = append(raw, v.keys.mac(label, key, raw)...)
	return tx.Bucket(bucket).Put(key, raw)
}

// openObject authenticates a stored object and decrypts it into out.
func (v *Vault) openObject(label string, key, raw []byte, out any) (meta []byte, err error) {
	meta, sealed, err := splitObject(raw)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(raw[len(raw)-macLen:], v.keys.mac(label, key, raw[:len(raw)-macLen])) {
		return nil, ErrTampered
	}
	plain, err := decrypt(sealed, v.keys.identity)
	if err != nil {
		return nil, ErrTampered
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return nil, ErrTampered
	}
	return meta, nil
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// mergeStaffEvents places the coworkers' events (not yet in the chain) among
// the chain's events by time, keeping the chain's own order as it is.
func mergeStaffEvents(chain, staff []Event) []Event {
	if len(staff) == 0 {
		return chain
	}
	sort.SliceStable(staff, func(i, j int) bool { return staff[i].Time.Before(staff[j].Time) })
	out := make([]Event, 0, len(chain)+len(staff))
	j := 0
	for _, e := range chain {
		for j < len(staff) && staff[j].Time.Before(e.Time) {
			out = append(out, staff[j])
			j++
		}
		out = append(out, e)
	}
	return append(out, staff[j:]...)
}
