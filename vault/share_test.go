package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/clientvault/clientvault/vault/store"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"github.com/clientvault/clientvault/consent"
	"github.com/clientvault/clientvault/records"
	"golang.org/x/crypto/ssh"
)

// clock is a test clock that tests move forward.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fixture is a vault with an owner, two clients and a coworker.
type fixture struct {
	path       string
	clk        *clock
	owner      *age.X25519Identity
	bea        *age.X25519Identity // a coworker
	v          *Vault
	jane, john ID
	ownerKey   ed25519.PublicKey // the owner's key, as the coworker pinned it
}

const (
	janeName   = "Jane Marigold Doe"
	janePhone  = "+1 555 0100"
	guardian   = "Mary Guardianson"
	purposeTxt = "covering the Tuesday laser appointment"
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "vault.db"), clk: &clock{time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}}
	var err error
	if f.owner, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	if f.bea, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	if err := Create(f.path, CreateOptions{Owner: []age.Recipient{f.owner.Recipient()}, Now: f.clk.now}); err != nil {
		t.Fatal(err)
	}
	f.reopenOwner(t)
	recs := []*records.Record{
		{Name: janeName, Phone: janePhone, DOB: records.Date{Year: 1990, Month: 4, Day: 2}, Allergies: []string{"latex"},
			Treatments: []records.Treatment{{Date: records.Date{Year: 2026, Month: 2, Day: 1}, Service: "brow tint"}}},
		{Name: "John Roe", Phone: "+1 555 0199"},
	}
	ids, err := f.v.Add(context.Background(), sliceNext(recs), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.jane, f.john = ids[0], ids[1]
	if _, err := f.v.StaffAdd("Bea", f.bea.Recipient()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f.v != nil {
			f.v.Close()
		}
	})
	return f
}

func sliceNext(recs []*records.Record) func() (*records.Record, error) {
	i := 0
	return func() (*records.Record, error) {
		if i == len(recs) {
			return nil, io.EOF
		}
		i++
		return recs[i-1], nil
	}
}

func (f *fixture) reopenOwner(t testing.TB) {
	t.Helper()
	if f.v != nil {
		f.v.Close()
	}
	v, err := Open(f.path, Options{Now: f.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(f.owner); err != nil {
		t.Fatal(err)
	}
	f.v = v
}

// asStaff closes the owner's handle and opens the vault with id, as a
// coworker would.
func (f *fixture) asStaff(t *testing.T, id age.Identity) *Vault {
	t.Helper()
	if f.ownerKey == nil {
		// Pinned at enrolment, as a coworker does with 'clientvault trust'.
		s, err := f.v.OwnerKey()
		if err != nil {
			t.Fatal(err)
		}
		if f.ownerKey, err = ParseOwnerKey(s); err != nil {
			t.Fatal(err)
		}
	}
	f.v.Close()
	f.v = nil
	v, err := Open(f.path, Options{Now: f.clk.now, OwnerKey: f.ownerKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock(id); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Unlock with a coworker's key: %v, want ErrWrongKey", err)
	}
	if err := v.UnlockAsStaff(id); err != nil {
		t.Fatal(err)
	}
	f.v = v
	return v
}

func (f *fixture) consent(t *testing.T, rec ID, to string, scope ...string) *consent.Consent {
	t.Helper()
	c, err := f.v.ConsentAdd(rec.String(), validConsent(to, scope...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func validConsent(to string, scope ...string) consent.Consent {
	if len(scope) == 0 {
		scope = []string{consent.Full}
	}
	return consent.Consent{GivenBy: "guardian", Guardian: guardian, GuardianAuthority: "parent", To: to, Scope: scope,
		Purpose: purposeTxt, Method: "written", Evidence: "form 12 v3", ObtainedBy: "Olivia Owner"}
}

// coworkerOpens attacks the vault file with a coworker's key: it reads
// every value of every bucket with bbolt directly, finds every age
// ciphertext in it (raw, or base64 inside JSON, with or without trailing
// MACs) and tries to decrypt each. It returns the plaintexts it opened.
func coworkerOpens(t *testing.T, path string, id age.Identity) []string {
	t.Helper()
	var opened []string
	try := func(b []byte) {
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte("age-encryption.org/v1"))
			if j < 0 {
				return
			}
			if r, err := age.Decrypt(bytes.NewReader(b[i+j:]), id); err == nil {
				if p, err := io.ReadAll(r); err == nil {
					opened = append(opened, string(p))
				}
			}
			i += j + 1
		}
	}
	var walkJSON func(any)
	walkJSON = func(x any) {
		switch x := x.(type) {
		case string:
			if b, err := base64.StdEncoding.DecodeString(x); err == nil {
				try(b)
			}
		case []any:
			for _, y := range x {
				walkJSON(y)
			}
		case map[string]any:
			for _, y := range x {
				walkJSON(y)
			}
		}
	}
	err := rawEngine(t, path, true, func(tx store.Tx) error {
		return tx.ForEach(func(name []byte, b store.Bucket) error {
			return b.ForEach(func(k, val []byte) error {
				try(val)
				for _, trim := range []int{0, macLen, 2 * macLen} {
					if len(val) < trim {
						continue
					}
					var x any
					if json.Unmarshal(val[:len(val)-trim], &x) == nil {
						walkJSON(x)
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return opened
}

// attack closes the vault, runs coworkerOpens on its file, and reopens it
// as the owner. It returns what the key opened besides its share key.
func (f *fixture) attack(t *testing.T, id age.Identity) []string {
	t.Helper()
	if f.v != nil {
		f.v.Close()
		f.v = nil
	}
	defer f.reopenOwner(t)
	var out []string
	for _, p := range coworkerOpens(t, f.path, id) {
		// The coworker's own share key (in their staff entry) is theirs to
		// open: 32 random bytes, no client data. Anything else counts.
		if len(p) != 32 {
			out = append(out, p)
		}
	}
	return out
}

func TestShareRefusals(t *testing.T) {
	f := newFixture(t)
	jane := f.jane.String()
	cases := []struct {
		name  string
		setup func()
		staff string
		want  error
	}{
		{"no consent", nil, "Bea", ErrNoConsent},
		{"unknown staff", nil, "Zed", ErrNotFound},
		{"the owner", nil, "owner", ErrRefused},
		{"consent for another record", func() { f.consent(t, f.john, "Bea") }, "Bea", ErrNoConsent},
		{"expired consent", func() {
			c := validConsent("Bea")
			c.GivenAt = f.clk.t.AddDate(0, 0, -20)
			c.Expires = records.DateOf(f.clk.t.AddDate(0, 0, -5))
			if _, err := f.v.ConsentAdd(jane, c); err != nil {
				t.Fatal(err)
			}
		}, "Bea", ErrNoConsent},
		{"revoked consent", func() {
			c := f.consent(t, f.jane, "Bea")
			if _, err := f.v.ConsentRevoke(c.ID, ""); err != nil {
				t.Fatal(err)
			}
		}, "Bea", ErrNoConsent},
	}
	for _, tc := range cases {
		if tc.setup != nil {
			tc.setup()
		}
		_, err := f.v.Share(jane, tc.staff, ShareOptions{})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Share = %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), janeName) {
			t.Errorf("%s: error holds client data: %v", tc.name, err)
		}
	}
	if got := f.attack(t, f.bea); len(got) != 0 {
		t.Fatalf("the coworker opens %d values without any share", len(got))
	}
}

func TestShareViewRevoke(t *testing.T) {
	f := newFixture(t)
	c := f.consent(t, f.jane, "Bea", consent.Contact, consent.Health)
	res, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Already || strings.Join(res.Scope, ",") != "contact,health" {
		t.Fatalf("Share = %+v", res)
	}
	again, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{})
	if err != nil || !again.Already {
		t.Fatalf("sharing twice: %+v, %v; want Already", again, err)
	}
	if n := countActions(t, f.v, "share"); n != 1 {
		t.Fatalf("%d share audit events after sharing twice, want 1", n)
	}
	if opened := f.attack(t, f.bea); len(opened) == 0 {
		t.Fatal("the attack finds nothing even with a share: it cannot fail")
	}

	v := f.asStaff(t, f.bea)
	for _, ref := range []string{f.jane.String(), f.jane.String()[:6], "jane marigold DOE"} {
		s, err := v.View(ref)
		if err != nil {
			t.Fatalf("coworker View(%q): %v", ref, err)
		}
		if s.Name != janeName || s.Phone != janePhone || len(s.Allergies) != 1 {
			t.Fatalf("coworker sees %+v", s.Record)
		}
		if len(s.Treatments) != 0 {
			t.Fatal("treatments are outside the consent's scope but the coworker sees them")
		}
	}
	for _, ref := range []string{f.john.String(), "John Roe", "nobody at all"} {
		_, err := v.View(ref)
		if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "not shared with you") {
			t.Fatalf("coworker View(%q) = %v, want not shared with you", ref, err)
		}
	}
	if _, err := v.List(); !errors.Is(err, ErrLocked) {
		t.Fatalf("coworker List = %v, want ErrLocked", err)
	}

	f.reopenOwner(t)
	events, err := f.v.Audit(AuditFilter{Record: f.jane.String()})
	if err != nil {
		t.Fatal(err)
	}
	views := 0
	for _, e := range events {
		if e.Action == "view" && e.Actor == "Bea" {
			views++
		}
	}
	if views != 3 {
		t.Fatalf("%d coworker views in the record's audit, want 3", views)
	}

	rev, err := f.v.ConsentRevoke(c.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rev.Unshared || !slices.Contains(rev.Exposure.Readers, "Bea") {
		t.Fatalf("revocation = %+v", rev)
	}
	if _, err := f.v.ConsentRevoke(c.ID, ""); !errors.Is(err, ErrRefused) {
		t.Fatalf("revoking twice = %v, want ErrRefused", err)
	}
	list, err := f.v.Consents(f.jane.String())
	if err != nil || len(list) != 1 || list[0].Status != ConsentWithdrawn || list[0].WithdrawnBy != "owner" {
		t.Fatalf("consents after revoke = %+v, %v", list, err)
	}
	if opened := f.attack(t, f.bea); len(opened) != 0 {
		t.Fatalf("after revocation the coworker's key still opens %d stored values", len(opened))
	}
	v = f.asStaff(t, f.bea)
	if _, err := v.View(f.jane.String()); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("coworker View after revoke = %v", err)
	}
}

func countActions(t *testing.T, v *Vault, action string) int {
	t.Helper()
	events, err := v.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == action {
			n++
		}
	}
	return n
}

func TestShareUntilLapses(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	until := records.DateOf(f.clk.t.AddDate(0, 0, 1))
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{Until: records.DateOf(f.clk.t.AddDate(0, 0, -1))}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("share until yesterday = %v, want ErrInvalid", err)
	}
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{Until: until}); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.AddDate(0, 0, 2)
	v := f.asStaff(t, f.bea)
	if _, err := v.View(f.jane.String()); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("coworker View after the share's end = %v, want not shared", err)
	}
	f.reopenOwner(t)
	rep, err := f.v.Verify()
	if err != nil || !problemSays(rep, "ended") {
		t.Fatalf("verify before lapse: %+v %v", rep, err)
	}
	if n, err := f.v.LapseAndFold(); err != nil || n != 1 {
		t.Fatalf("Lapse = %d, %v", n, err)
	}
	if opened := f.attack(t, f.bea); len(opened) != 0 {
		t.Fatalf("after the share lapsed the coworker's key opens %d stored values", len(opened))
	}
	if rep, err := f.v.Verify(); err != nil || !rep.OK() {
		t.Fatalf("verify after lapse: %+v %v", rep, err)
	}
}

// problemSays reports whether some problem's text contains word.
func problemSays(rep *Report, word string) bool {
	for _, p := range rep.Problems {
		if strings.Contains(p.What, word) {
			return true
		}
	}
	return false
}

func TestStaffRemove(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	f.consent(t, f.john, "Bea")
	for _, id := range []ID{f.jane, f.john} {
		if _, err := f.v.Share(id.String(), "Bea", ShareOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	v := f.asStaff(t, f.bea)
	if _, err := v.View(f.john.String()); err != nil {
		t.Fatal(err)
	}
	f.reopenOwner(t)
	rm, err := f.v.StaffRemove("Bea")
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Records) != 2 || rm.Consents != 2 {
		t.Fatalf("StaffRemove = %+v", rm)
	}
	if opened := f.attack(t, f.bea); len(opened) != 0 {
		t.Fatalf("after removal the coworker's key opens %d stored values", len(opened))
	}
	// The coworker's view was folded into the vault's chain before their
	// share key went.
	events, err := f.v.Audit(AuditFilter{Record: f.john.String()})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		found = found || (e.Action == "view" && e.Actor == "Bea" && e.Seq > 0)
	}
	if !found {
		t.Fatal("the removed coworker's view is not in the chain")
	}
	list, _ := f.v.Consents(f.jane.String())
	if len(list) != 1 || list[0].Status != ConsentStaffRemoved {
		t.Fatalf("consents after removal: %+v", list)
	}
	// The same name registered again with another key does not inherit the
	// old consents.
	other, _ := age.GenerateX25519Identity()
	if _, err := f.v.StaffAdd("Bea", other.Recipient()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); !errors.Is(err, ErrNoConsent) {
		t.Fatalf("share with a re-registered name = %v, want ErrNoConsent", err)
	}
	if _, err := f.v.StaffRemove("Zed"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing unknown staff = %v", err)
	}
	if rep, err := f.v.Verify(); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestStaffAddBadInput(t *testing.T) {
	f := newFixture(t)
	if _, err := ParseStaffKey("age1notakey"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ParseStaffKey(bad) = %v", err)
	}
	if _, err := ParseStaffKey("ssh-dss AAAA"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ParseStaffKey(dss) = %v", err)
	}
	cases := []struct {
		name string
		key  age.Recipient
		want error
	}{
		{"Bea", f.bea.Recipient(), ErrExists},
		{"Cal", f.bea.Recipient(), ErrExists},
		{"Cal", f.owner.Recipient(), ErrRefused},
		{"owner", f.bea.Recipient(), ErrRefused},
		{"all staff", f.bea.Recipient(), ErrInvalid},
		{"Ann and Bea", f.bea.Recipient(), ErrInvalid},
	}
	for _, tc := range cases {
		if _, err := f.v.StaffAdd(tc.name, tc.key); !errors.Is(err, tc.want) {
			t.Errorf("StaffAdd(%q) = %v, want %v", tc.name, err, tc.want)
		}
	}
	list, err := f.v.StaffList()
	if err != nil || len(list) != 1 || list[0].Name != "Bea" {
		t.Fatalf("StaffList = %+v, %v", list, err)
	}
}

// TestStaffKeySwapped edits a staff entry's public key in the file, as an
// attacker who wants the next share sealed to them would.
func TestStaffKeySwapped(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	mallory, _ := age.GenerateX25519Identity()
	f.v.Close()
	f.v = nil
	editValue(t, f.path, bucketStaff, []byte("Bea"), func(b []byte) []byte {
		return bytes.Replace(b, []byte(f.bea.Recipient().String()), []byte(mallory.Recipient().String()), 1)
	})
	f.reopenOwner(t)
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); !errors.Is(err, ErrTampered) {
		t.Fatalf("share with a swapped staff key = %v, want ErrTampered", err)
	}
	rep, err := f.v.Verify()
	if err != nil || !problemSays(rep, "staff Bea: tampered") {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if opened := f.attack(t, mallory); len(opened) != 0 {
		t.Fatal("the swapped-in key opens something")
	}
}

func editValue(t *testing.T, path string, bucket, key []byte, fn func([]byte) []byte) {
	t.Helper()
	err := rawEngine(t, path, false, func(tx store.Tx) error {
		b := tx.Bucket(bucket)
		old := b.Get(key)
		if old == nil {
			t.Fatalf("no value under %x in %s", key, bucket)
		}
		nv := fn(clone(old))
		if bytes.Equal(nv, old) {
			t.Fatal("the edit changed nothing")
		}
		return b.Put(key, nv)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTamperSharingObjects flips a byte of each stored consent, share and
// coworker audit event in turn, and restores a share after its consent was
// withdrawn: verify reports each.
func TestTamperSharingObjects(t *testing.T) {
	f := newFixture(t)
	c := f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	v := f.asStaff(t, f.bea)
	if _, err := v.View(f.jane.String()); err != nil {
		t.Fatal(err)
	}
	f.reopenOwner(t)
	if rep, err := f.v.Verify(); err != nil || !rep.OK() {
		t.Fatalf("verify before tampering: %+v %v", rep, err)
	}
	shareKeyBytes := shareKeyOf(f.jane, "Bea")
	var savedShare []byte
	f.v.engine().View(func(tx store.Tx) error {
		savedShare = clone(tx.Bucket(bucketShares).Get(shareKeyBytes))
		return nil
	})
	targets := []struct {
		bucket []byte
		key    []byte
		at     func(n int) int
		want   string
	}{
		{bucketConsents, consentKeyFromID(t, f.jane, c.ID), func(n int) int { return n / 2 }, "consent"},
		{bucketShares, shareKeyBytes, func(n int) int { return n - 1 }, "share"},
		{bucketShares, shareKeyBytes, func(n int) int { return n - macLen - 1 }, "share"},
		{bucketStaffAudit, append(staffAuditPrefix("Bea"), seqKey(1)...), func(n int) int { return n - 1 }, "coworker audit"},
	}
	for _, tg := range targets {
		f.v.Close()
		f.v = nil
		var orig []byte
		editValue(t, f.path, tg.bucket, tg.key, func(b []byte) []byte {
			orig = clone(b)
			b[tg.at(len(b))] ^= 1
			return b
		})
		f.reopenOwner(t)
		rep, err := f.v.Verify()
		if err != nil || !problemSays(rep, tg.want) {
			t.Errorf("flipping a byte of %s: verify = %+v, %v", tg.bucket, rep, err)
		}
		f.v.Close()
		f.v = nil
		editValue(t, f.path, tg.bucket, tg.key, func([]byte) []byte { return orig })
		f.reopenOwner(t)
	}
	if _, err := f.v.ConsentRevoke(c.ID, ""); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	f.v = nil
	if err := rawEngine(t, f.path, false, func(tx store.Tx) error { return tx.Bucket(bucketShares).Put(shareKeyBytes, savedShare) }); err != nil {
		t.Fatal(err)
	}
	f.reopenOwner(t)
	rep, err := f.v.Verify()
	if err != nil || !problemSays(rep, "without an active consent") {
		t.Fatalf("a share restored after revocation: verify = %+v, %v", rep, err)
	}
}

func consentKeyFromID(t *testing.T, rec ID, cid string) []byte {
	t.Helper()
	b, err := base16(cid)
	if err != nil {
		t.Fatal(err)
	}
	return recordObjectKey(rec, b)
}

func TestNoteRefreshesShareAndHoldAllowsSharing(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	// A legal hold stops destruction, not sharing.
	err := f.v.update(func(tx *txn) error {
		raw, _ := f.v.getEntry(tx, f.jane)
		e, _, err := f.v.keys.open(f.jane, raw)
		if err != nil {
			return err
		}
		e.Held = true
		return f.v.rewriteEntry(tx, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatalf("sharing a held record: %v", err)
	}
	if _, err := f.v.Note(f.jane.String(), records.Treatment{Date: records.DateOf(f.clk.t), Service: "lash lift"}); err != nil {
		t.Fatal(err)
	}
	v := f.asStaff(t, f.bea)
	s, err := v.View(f.jane.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Treatments) != 2 || s.Treatments[1].Service != "lash lift" {
		t.Fatalf("the coworker's copy was not refreshed by note: %+v", s.Treatments)
	}
}

func TestDiscloseAndExport(t *testing.T) {
	f := newFixture(t)
	var file []byte
	write := func(b []byte) error { file = b; return nil }
	court, _ := age.GenerateX25519Identity()
	_, err := f.v.Disclose(f.jane.String(), consent.Disclosure{Recipient: "County Court"}, DiscloseOptions{Recipient: court.Recipient(), WriteFile: write})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "basis") || file != nil {
		t.Fatalf("disclosure without a basis = %v (file written: %v)", err, file != nil)
	}
	d, err := f.v.Disclose(f.jane.String(), consent.Disclosure{Recipient: "County Court", Basis: "subpoena", Reference: "SUB-2026-17",
		Scope: []string{consent.Contact}}, DiscloseOptions{Recipient: court.Recipient(), WriteFile: write})
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(file), court)
	if err != nil {
		t.Fatal(err)
	}
	var got DisclosedRecord
	if err := json.NewDecoder(r).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Record.Phone != janePhone || len(got.Record.Allergies) != 0 || got.Disclosure.Reference != "SUB-2026-17" {
		t.Fatalf("disclosed file: %+v", got)
	}
	f.clk.t = f.clk.t.Add(time.Hour)
	if _, err := f.v.Disclose(f.jane.String(), consent.Disclosure{Recipient: "Board", Basis: "regulator", Reference: "R1"},
		DiscloseOptions{Passphrase: "correct horse battery", WorkFactor: 10, WriteFile: write}); err != nil {
		t.Fatal(err)
	}
	sid, _ := age.NewScryptIdentity("correct horse battery")
	if _, err := age.Decrypt(bytes.NewReader(file), sid); err != nil {
		t.Fatalf("passphrase disclosure does not open: %v", err)
	}
	all, err := f.v.Disclosures("")
	if err != nil || len(all) != 2 || all[0].ID != d.ID || all[0].Basis != consent.Subpoena {
		t.Fatalf("Disclosures = %+v, %v", all, err)
	}
	if mine, _ := f.v.Disclosures(f.john.String()); len(mine) != 0 {
		t.Fatalf("John's disclosures: %+v", mine)
	}

	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	x, err := f.v.Export(f.jane.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if x.Record.Name != janeName || len(x.Disclosures) != 2 || len(x.SharedWith) != 1 || x.SharedWith[0].Staff != "Bea" || len(x.Consents) != 1 {
		t.Fatalf("export = %+v", x)
	}
	actions := map[string]bool{}
	for _, e := range x.Access {
		actions[e.Action] = true
	}
	for _, a := range []string{"add", "disclose", "consent-add", "share"} {
		if !actions[a] {
			t.Errorf("export's access list lacks %s", a)
		}
	}
	if countActions(t, f.v, "export") != 1 {
		t.Fatal("the export is not audited")
	}
	assertAuditClean(t, f.v)
}

// assertAuditClean fails if any audit event holds client data.
func assertAuditClean(t *testing.T, v *Vault) {
	t.Helper()
	events, err := v.Audit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(events)
	for _, secret := range []string{janeName, janePhone, guardian, purposeTxt, "SUB-2026-17", "County Court", "form 12"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the audit log holds client data %q", secret)
		}
	}
}

func TestFileHoldsNoSharingPlaintext(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	f.v.Close()
	f.v = nil
	raw := storedBytes(t, f.path)
	for _, secret := range []string{janeName, janePhone, guardian, purposeTxt, "latex"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the vault file holds %q in the clear", secret)
		}
	}
}

func base16(s string) ([]byte, error) { return hex.DecodeString(s) }

// TestShareWithSSHKey registers a coworker by an ssh-ed25519 public key, as
// authorized_keys writes it, and opens their share with the private key.
func TestShareWithSSHKey(t *testing.T) {
	f := newFixture(t)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " cal@laptop"
	r, err := ParseStaffKey(line)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.StaffAdd("Cal", r); err != nil {
		t.Fatal(err)
	}
	f.consent(t, f.john, "Cal", consent.Full)
	if _, err := f.v.Share(f.john.String(), "Cal", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	id, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		t.Fatal(err)
	}
	v := f.asStaff(t, id)
	if v.StaffName() != "Cal" {
		t.Fatalf("unlocked as %q", v.StaffName())
	}
	s, err := v.View("John Roe")
	if err != nil || s.ID != f.john.String() {
		t.Fatalf("view with the SSH key: %v", err)
	}
	if _, err := v.View(f.jane.String()); !errors.Is(err, ErrNotShared) {
		t.Fatalf("view of another record = %v", err)
	}
}

// TestRevokeNarrowsShare withdraws one of two consents: the share keeps only
// what the other covers, re-sealed, and the coworker's views are folded into
// the chain by the next Lapse.
func TestRevokeNarrowsShare(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea", consent.Contact)
	health := f.consent(t, f.jane, "Bea", consent.Health)
	res, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{})
	if err != nil || strings.Join(res.Scope, ",") != "contact,health" {
		t.Fatalf("Share = %+v, %v", res, err)
	}
	f.reopenOwner(t)
	rev, err := f.v.ConsentRevoke(health.ID, "Jane's mother")
	if err != nil || rev.Unshared {
		t.Fatalf("revoke = %+v, %v; want the share kept, narrowed", rev, err)
	}
	v := f.asStaff(t, f.bea)
	s, err := v.View(f.jane.String())
	if err != nil {
		t.Fatal(err)
	}
	if s.Phone != janePhone || len(s.Allergies) != 0 {
		t.Fatalf("after withdrawing the health consent the coworker sees %+v", s.Record)
	}
	for _, p := range f.attack(t, f.bea) {
		if strings.Contains(p, "latex") {
			t.Fatal("the stored share still holds the health part")
		}
	}
	if _, err := f.v.LapseAndFold(); err != nil {
		t.Fatal(err)
	}
	events, err := f.v.Audit(AuditFilter{Record: f.jane.String()})
	if err != nil {
		t.Fatal(err)
	}
	folded := 0
	for _, e := range events {
		if e.Actor == "Bea" && e.Seq == 0 {
			t.Fatalf("a coworker event is still outside the chain after Lapse: %+v", e)
		}
		if e.Actor == "Bea" {
			folded++
		}
	}
	if folded != 1 {
		t.Fatalf("%d coworker views in the chain, want 1", folded)
	}
	if rep, err := f.v.Verify(); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestRemoveSharesForDestroyedRecord is the hook the destroying commands
// call: afterwards the coworker's key opens nothing of the record.
func TestRemoveSharesForDestroyedRecord(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	var gone []string
	err := f.v.update(func(tx *txn) (err error) {
		gone, err = f.v.removeShares(tx, f.jane)
		return err
	})
	if err != nil || len(gone) != 1 || gone[0] != "Bea" {
		t.Fatalf("removeShares = %v, %v", gone, err)
	}
	if opened := f.attack(t, f.bea); len(opened) != 0 {
		t.Fatalf("the coworker's key opens %d values after removeShares", len(opened))
	}
}

// TestCoworkerRefusesMovedOrForgedShares moves Jane's share under John's
// key, and forges a share that anyone with Bea's public key could make: the
// coworker's view refuses both as tampering rather than showing them.
func TestCoworkerRefusesMovedOrForgedShares(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	forged, err := records.Encode(f.john.String(), &records.Record{Name: "John Roe", Notes: "forged"})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := encrypt(forged, f.bea.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(shareBody{V: 1, Record: f.john.String(), Staff: "Bea", Scope: []string{"full"}, Sealed: sealed})
	var jane []byte
	f.v.engine().View(func(tx store.Tx) error {
		jane = clone(tx.Bucket(bucketShares).Get(shareKeyOf(f.jane, "Bea")))
		return nil
	})
	cases := map[string][]byte{
		"moved":  jane,
		"forged": append(body, make([]byte, 2*macLen)...),
	}
	for name, val := range cases {
		err := f.v.engine().Update(func(tx store.Tx) error {
			return tx.Bucket(bucketShares).Put(shareKeyOf(f.john, "Bea"), val)
		})
		if err != nil {
			t.Fatal(err)
		}
		v := f.asStaff(t, f.bea)
		if s, err := v.View(f.john.String()); !errors.Is(err, ErrTampered) {
			t.Errorf("%s share: coworker View = %+v, %v; want ErrTampered", name, s, err)
		}
		f.reopenOwner(t)
		if rep, err := f.v.Verify(); err != nil || rep.OK() {
			t.Errorf("%s share: verify found nothing", name)
		}
	}
}

// FuzzSplitShare feeds arbitrary stored shares to the parser the coworker
// and verify use: it must never panic, and what it accepts must be bound to
// its key.
func FuzzSplitShare(f *testing.F) {
	id := ID{1, 2, 3, 4, 5, 6, 7, 8}
	body, _ := json.Marshal(shareBody{V: 1, Record: id.String(), Staff: "Bea", Scope: []string{"full"}})
	f.Add(shareKeyOf(id, "Bea"), append(body, make([]byte, 2*macLen)...))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, k, raw []byte) {
		sb, _, err := splitShare(k, raw)
		if err == nil && (sb.Record != ID(k[:8]).String() || sb.Staff != string(k[8:])) {
			t.Fatalf("accepted a share not bound to its key: %+v", sb)
		}
	})
}

// FuzzSplitObject feeds arbitrary stored consents and disclosures to their
// parser: it must never panic.
func FuzzSplitObject(f *testing.F) {
	f.Add(append(appendBytes(appendBytes(nil, []byte("uid")), []byte("age-encryption.org/v1")), make([]byte, macLen)...))
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		meta, sealed, err := splitObject(raw)
		if err == nil && len(meta)+len(sealed) > len(raw) {
			t.Fatal("parts longer than the input")
		}
	})
}

// expire lapses shares whose period ended, in its own transaction, and an
// expired record takes its shares and consents with it.
func TestExpireLapsesSharesAndDestroysThem(t *testing.T) {
	f := newFixture(t)
	f.consent(t, f.jane, "Bea")
	f.consent(t, f.john, "Bea")
	if _, err := f.v.Share(f.jane.String(), "Bea", ShareOptions{Until: records.DateOf(f.clk.t.AddDate(0, 0, 1))}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Share(f.john.String(), "Bea", ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.AddDate(0, 0, 2)
	rep, err := f.v.Expire(ExpireOptions{})
	if err != nil || rep.SharesLapsed != 1 {
		t.Fatalf("expire = %+v, %v; want 1 share lapsed", rep, err)
	}
	if got := f.v.sharedWithOf(t, f.jane); len(got) != 0 {
		t.Errorf("jane still shared with %v", got)
	}
	// Ten years on, John's record is due: it goes with its share and consents.
	f.clk.t = f.clk.t.AddDate(10, 0, 0)
	if rep, err = f.v.Expire(ExpireOptions{}); err != nil || len(rep.Expired) != 2 {
		t.Fatalf("expire = %+v, %v; want both records destroyed", rep, err)
	}
	if opened := f.attack(t, f.bea); len(opened) != 0 {
		t.Fatalf("after expiry the coworker's key opens %d stored values", len(opened))
	}
	if rep, err := f.v.Verify(); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func (v *Vault) sharedWithOf(t *testing.T, id ID) []string {
	var names []string
	v.view(func(tx *txn) error { names = v.sharedWith(tx, id); return nil })
	return names
}
