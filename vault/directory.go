package vault

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clientvault/clientvault/internal/agent"
	"github.com/clientvault/clientvault/records"
)

// bucketDirectory is the sealed directory: for each record, the few fields
// that finding and listing clients need (the name and its search tokens,
// date of birth, phone, email, last visit, retain-until date and hold
// flag), sealed with AES-256-GCM under a key derived from the vault's keys.
// Opening 100,000 of them takes milliseconds where opening the records
// with age takes seconds, and a find or a list reads nothing of the notes.
//
// Rows are keyed by the record's slot, like the expiry metadata, so that a
// bulk add appends them with its entries. A row is
//
//	version (1) | record ID (8) | stage (8) | nonce (12) | AES-GCM sealed fields
//
// with the slot, the version, the ID and the stage as additional data, so
// that a row moved to another slot (another record's, or none), or given
// another ID or stage, fails to open. The ID and stage say nothing that the
// stored entry does not say in the clear. What the AEAD cannot tell is an
// older row of the same record put back (say, from before a note): Verify
// compares every row with its record and reports it as stale; and a row
// of a destroyed record put back in its old slot: Find and the duplicate
// check look up the ID map for the rows they match, and Verify reports it
// as left over.
//
// A row is written in the transaction that writes its record's entry (a
// bulk add's batch, Note, an import's update, a hold, a retention change)
// and removed with it (erase, expire, an interrupted add). Verify checks
// that every record has its row, authentic and current, and that no row is
// left over.
//
// A vault made before this bucket existed does not have it; the first
// Unlock that may write builds it from every record (buildDirectory), which
// decrypts each one once. Until then Find and Clients return
// ErrNoDirectory, and the CLI opens the vault for writing to build it.
//
// It is not in allBuckets, which are the buckets Open requires: a vault
// made before it would be refused as damaged. Compaction, backup and
// restore copy every bucket, and Verify checks it when it is there.

// ErrNoDirectory is returned by Find, Clients, Duplicates and the source
// CheckDuplicates wraps when the vault has no
// sealed directory yet (it was made by an earlier version and was not yet
// opened for writing); opening it for writing builds the directory.
var ErrNoDirectory = errors.New("the vault has no client directory yet")

// labelDirectory is the HKDF label of the directory key and the prefix of
// each row's additional data.
const labelDirectory = "clientvault/v1/directory"

const (
	directoryVersion = 1
	dirHeadLen       = 1 + 8 + 8
	dirNonceLen      = 12
)

// dirFields is what a directory row holds, in the clear once opened.
type dirFields struct {
	name string
	// tokens are records.SearchTokens of the name and preferred name,
	// space-separated, or "" when spellTokens makes them from the name and
	// pref, the preferred name.
	tokens      string
	pref        string
	phone       string
	email       string
	dob         records.Date
	lastVisit   records.Date
	retainUntil records.Date
	held        bool
}

// directoryFields returns the fields of rec that the directory keeps; the
// retain-until date and hold flag come from its entry when it is stored.
func directoryFields(rec *records.Record) *dirFields {
	toks := records.SearchTokens(rec.Name)
	if rec.PreferredName != "" {
		toks = append(toks, records.SearchTokens(rec.PreferredName)...)
	}
	tokens, pref := strings.Join(toks, " "), ""
	if spelled, ok := spellTokens(nil, []byte(rec.Name), []byte(rec.PreferredName)); ok && string(spelled) == tokens {
		// The usual case, a name and preferred name in ASCII: the row
		// keeps the preferred name, and the reader spells the tokens out
		// again, cheaply. Each row is some 30 bytes smaller.
		tokens, pref = "", rec.PreferredName
	}
	return &dirFields{
		name: rec.Name, tokens: tokens, pref: pref, phone: rec.Phone,
		email: strings.ToLower(strings.TrimSpace(rec.Email)), dob: rec.DOB, lastVisit: rec.LastVisit(),
	}
}

// directoryAEAD returns the AES-256-GCM of the directory, keyed once with a
// key derived (HKDF-SHA256) from the vault's MAC key under its own label.
// Staff sessions have no MAC key, so no directory key: they find only
// among their shares. A cipher.AEAD from crypto/cipher is safe for
// concurrent use.
// The key is the one the unlock agent derives for the same label
// (agent.DeriveAEAD), so that rows sealed in process open through the
// agent and back; with the keys in the agent, rows are sealed and opened
// there (k.aead), never with the key here.
func (k *keySet) directoryAEAD() cipher.AEAD {
	k.dirOnce.Do(func() {
		var err error
		if k.dirAEAD, err = agent.DeriveAEAD(k.macKey, labelDirectory); err != nil {
			panic(err) // only for a label the agent refuses
		}
	})
	return k.dirAEAD
}

// appendPlain appends the encoding of f.
func (f *dirFields) appendPlain(b []byte) []byte {
	for _, s := range []string{f.name, f.tokens, f.pref, f.phone, f.email} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint32(b, dateNum(f.dob))
	b = binary.BigEndian.AppendUint32(b, dateNum(f.lastVisit))
	b = binary.BigEndian.AppendUint32(b, dateNum(f.retainUntil))
	var flags byte
	if f.held {
		flags |= 1
	}
	return append(b, flags)
}

// sealDirectory returns the directory row of record id, of stage, stored in
// slot, holding f.
func (k *keySet) sealDirectory(id ID, stage uint64, slot []byte, f *dirFields) ([]byte, error) {
	plain := f.appendPlain(make([]byte, 0, 96+len(f.name)+len(f.tokens)+len(f.pref)+len(f.phone)+len(f.email)))
	defer clear(plain)
	head := make([]byte, dirHeadLen, dirHeadLen+dirNonceLen+len(plain)+16)
	head[0] = directoryVersion
	copy(head[1:9], id[:])
	binary.BigEndian.PutUint64(head[9:17], stage)
	if k.remote != nil {
		// The agent seals with a random nonce of its own: nonce || sealed,
		// the layout of a row after its head.
		out, err := k.aead(labelDirectory).Seal([][]byte{plain}, [][]byte{directoryAD(nil, slot, head)})
		if err != nil {
			return nil, err
		}
		return append(head, out[0]...), nil
	}
	aead := k.directoryAEAD()
	b := head[:dirHeadLen+dirNonceLen]
	if _, err := rand.Read(b[dirHeadLen:]); err != nil {
		return nil, err
	}
	return aead.Seal(b, b[dirHeadLen:dirHeadLen+dirNonceLen], plain, directoryAD(nil, slot, b[:dirHeadLen])), nil
}

// directoryAD appends to b the additional data of a row stored in slot
// whose head is head: the label, the slot (8 bytes) and the head.
func directoryAD(b, slot, head []byte) []byte {
	b = append(b, labelDirectory...)
	b = append(b, slot...)
	return append(b, head...)
}

// dirRow is a directory row, opened.
type dirRow struct {
	id    ID
	stage uint64
	// plain is the opened fields' encoding; it aliases the opener's buffer.
	plain []byte
}

// dirOpener opens rows with one buffer for the plaintext and one for the
// additional data, reused from row to row: a list opens every row.
type dirOpener struct {
	aead  cipher.AEAD
	plain []byte
	ad    []byte
	// remote opens through the unlock agent, when it holds the keys:
	// openAll, or one row at a time.
	remote *aeadKey
}

func (k *keySet) newDirOpener() *dirOpener {
	if k.remote != nil {
		return &dirOpener{remote: k.aead(labelDirectory)}
	}
	return &dirOpener{aead: k.directoryAEAD()}
}

// openAll opens rows in one batch (through the agent; in process, one by
// one): their slots and values, in order. A row that does not open is
// errDirRow with its index.
func (o *dirOpener) openAll(slots, vals [][]byte) ([]dirRow, int, error) {
	rows := make([]dirRow, len(vals))
	if o.remote == nil {
		for i := range vals {
			r, err := o.open(slots[i], vals[i])
			if err != nil {
				return nil, i, err
			}
			r.plain = clone(r.plain)
			rows[i] = r
		}
		return rows, 0, nil
	}
	sealed, ads := make([][]byte, len(vals)), make([][]byte, len(vals))
	for i, val := range vals {
		if len(val) < dirHeadLen+dirNonceLen+16 || val[0] != directoryVersion {
			return nil, i, errDirRow
		}
		sealed[i], ads[i] = val[dirHeadLen:], directoryAD(nil, slots[i], val[:dirHeadLen])
	}
	plain, err := o.remote.Open(sealed, ads)
	if errors.Is(err, ErrTampered) {
		// Which one: found again row by row, on this path only.
		for i := range sealed {
			if _, err := o.remote.Open(sealed[i:i+1], ads[i:i+1]); err != nil {
				return nil, i, errDirRow
			}
		}
	}
	if err != nil {
		return nil, 0, err
	}
	for i, val := range vals {
		rows[i] = dirRow{id: ID(val[1:9]), stage: binary.BigEndian.Uint64(val[9:17]), plain: plain[i]}
	}
	return rows, 0, nil
}

// errDirRow is the error for a directory row that does not open.
var errDirRow = errors.New("directory entry: tampered with, moved, or another record's")

// open authenticates and decrypts the row val stored in slot. The plaintext
// is valid until the next call.
func (o *dirOpener) open(slot, val []byte) (dirRow, error) {
	if o.remote != nil {
		rows, _, err := o.openAll([][]byte{slot}, [][]byte{val})
		if err != nil {
			return dirRow{}, err
		}
		return rows[0], nil
	}
	if len(val) < dirHeadLen+dirNonceLen+o.aead.Overhead() || val[0] != directoryVersion {
		return dirRow{}, errDirRow
	}
	o.ad = directoryAD(o.ad[:0], slot, val[:dirHeadLen])
	var err error
	o.plain, err = o.aead.Open(o.plain[:0], val[dirHeadLen:dirHeadLen+dirNonceLen], val[dirHeadLen+dirNonceLen:], o.ad)
	if err != nil {
		return dirRow{}, errDirRow
	}
	return dirRow{id: ID(val[1:9]), stage: binary.BigEndian.Uint64(val[9:17]), plain: o.plain}, nil
}

// dirView is the decoded plaintext of a row, its strings aliasing it.
type dirView struct {
	name, tokens, pref, phone, email []byte
	dob, lastVisit, retainUntil      uint32
	held                             bool
}

// decodeDir decodes a row's plaintext without copying.
func decodeDir(p []byte) (dirView, bool) {
	var d dirView
	r := reader{b: p}
	d.name = r.bytes(r.uvarint())
	d.tokens = r.bytes(r.uvarint())
	d.pref = r.bytes(r.uvarint())
	d.phone = r.bytes(r.uvarint())
	d.email = r.bytes(r.uvarint())
	if r.err || len(r.b) != 13 {
		return d, false
	}
	d.dob = binary.BigEndian.Uint32(r.b[0:4])
	d.lastVisit = binary.BigEndian.Uint32(r.b[4:8])
	d.retainUntil = binary.BigEndian.Uint32(r.b[8:12])
	d.held = r.b[12]&1 != 0
	return d, r.b[12]&^1 == 0
}

// fields copies d into dirFields.
func (d dirView) fields() *dirFields {
	return &dirFields{
		name: string(d.name), tokens: string(d.tokens), pref: string(d.pref), phone: string(d.phone), email: string(d.email),
		dob: numDate(uint64(d.dob)), lastVisit: numDate(uint64(d.lastVisit)),
		retainUntil: numDate(uint64(d.retainUntil)), held: d.held,
	}
}

// putDirectory writes the directory row of entry e, stored in slot, in the
// transaction that stores the entry. Its fields are e.dir when the record
// was just sealed (a new record, a note, an import's update); otherwise (a
// hold, a retention change) the row already there keeps its fields and
// takes e's retain-until date, hold flag and stage. A row that is missing
// or does not open is left for Verify to report and for the next rebuild;
// a vault without the bucket gets it whole when it is built.
//
// e keeps its fields: a transaction run again on etcd (another computer
// committed first) writes the row again, maybe in another slot. A bulk
// write lets them go once its batch is committed (bulk.letGo).
func (v *Vault) putDirectory(tx *txn, slot []byte, e *entry) error {
	b := tx.Bucket(bucketDirectory)
	if b == nil {
		return nil
	}
	if e.dirRow != nil && bytes.Equal(e.dirSlot, slot) {
		return b.Put(clone(slot), e.dirRow)
	}
	f := e.dir
	if f == nil {
		val := b.Get(slot)
		if val == nil {
			return nil
		}
		row, err := v.keys.newDirOpener().open(slot, val)
		if err != nil || row.id != e.ID {
			return nil
		}
		d, ok := decodeDir(row.plain)
		if !ok {
			return nil
		}
		f = d.fields()
	}
	f.retainUntil, f.held = e.RetainUntil, e.Held
	val, err := v.keys.sealDirectory(e.ID, e.Stage, slot, f)
	if err != nil {
		return err
	}
	return b.Put(clone(slot), val)
}

// deleteDirectory deletes the directory row of the record in slot.
func deleteDirectory(tx *txn, slot []byte) error {
	if b := tx.Bucket(bucketDirectory); b != nil {
		return b.Delete(slot)
	}
	return nil
}

// keyDirectoryBuilding, in the meta bucket, marks a directory whose build
// (buildDirectory) has begun and not ended: its rows are incomplete, so
// Find and Clients treat it as missing, Verify does not check it, and the
// next Unlock that may write builds it again from the start.
var keyDirectoryBuilding = []byte("directory_building")

// hasDirectory reports whether the vault has its directory, complete.
func (v *Vault) hasDirectory() (bool, error) {
	ready := false
	err := v.view(func(tx *txn) error {
		ready = directoryReady(tx)
		return nil
	})
	return ready, err
}

// directoryReady reports whether tx sees a complete directory.
func directoryReady(tx *txn) bool {
	return tx.Bucket(bucketDirectory) != nil && tx.Bucket(bucketMeta).Get(keyDirectoryBuilding) == nil
}

// buildDirectory makes the directory of a vault that predates it: it opens
// every visible record with age (about 115 µs each, on all cores; 22-32 s
// for 100,000 records on the loaded 2-core machine of bench/README-find.md)
// and writes their rows, in slot order. It works in chunks of
// buildChunk records, each read, opened and written in transactions of its
// own, so that its memory does not grow with the vault: the first
// transaction sets keyDirectoryBuilding and the last clears it, and a build
// that was interrupted between them is started again by the next Unlock
// that may write. Records that fail to open get no row: Verify reports
// them. Entries of a pending stage are skipped (they go when the stage is
// discarded, which Unlock does first).
func (v *Vault) buildDirectory() error {
	if v.opts.ReadOnly {
		return nil
	}
	if ok, err := v.hasDirectory(); err != nil || ok {
		return err
	}
	type item struct {
		id   ID
		slot [8]byte
		val  []byte
	}
	var items []item
	err := v.update(func(tx *txn) error {
		if tx.Bucket(bucketDirectory) != nil {
			if err := tx.DeleteBucket(bucketDirectory); err != nil {
				return err
			}
		}
		if _, err := tx.CreateBucket(bucketDirectory); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keyDirectoryBuilding, []byte{1}); err != nil {
			return err
		}
		c := tx.Bucket(bucketIDs).Cursor()
		for k, slot := c.First(); k != nil; k, slot = c.Next() {
			if len(k) == len(ID{}) && len(slot) == 8 {
				items = append(items, item{id: ID(k), slot: [8]byte(slot)})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("build the client directory: %w", err)
	}
	slices.SortFunc(items, func(a, b item) int { return bytes.Compare(a.slot[:], b.slot[:]) })
	raws := make([][]byte, buildChunk)
	for start := 0; start < len(items); start += buildChunk {
		part := items[start:min(start+buildChunk, len(items))]
		err := v.view(func(tx *txn) error {
			recs := tx.Bucket(bucketRecords)
			for i := range part {
				raws[i] = clone(recs.Get(part[i].slot[:]))
			}
			return nil
		})
		if err != nil {
			return err
		}
		parallel(len(part), func(i int) {
			it, raw := &part[i], raws[i]
			raws[i] = nil
			if raw == nil {
				return
			}
			e, rec, err := v.keys.open(it.id, raw)
			if err != nil || !v.visible(e) {
				return
			}
			f := directoryFields(rec)
			f.retainUntil, f.held = e.RetainUntil, e.Held
			it.val, _ = v.keys.sealDirectory(e.ID, e.Stage, it.slot[:], f)
		})
		err = v.update(func(tx *txn) error {
			b := tx.Bucket(bucketDirectory)
			b.appendInOrder() // rows go in in slot order
			for i := range part {
				if part[i].val == nil {
					continue
				}
				if err := b.Put(part[i].slot[:], part[i].val); err != nil {
					return err
				}
				part[i].val = nil
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("build the client directory: %w", err)
		}
		v.dropMapped()
	}
	return v.update(func(tx *txn) error { return tx.Bucket(bucketMeta).Delete(keyDirectoryBuilding) })
}

// buildChunk is how many records buildDirectory opens and writes at once (a
// variable, so that tests build in several chunks).
var buildChunk = 4096

// spellTokens appends the search tokens of name and then of pref (the
// preferred name), space-separated, as records.SearchTokens makes them, if
// both are ASCII; ok is false if either is not. For ASCII it needs none of
// SearchTokens' Unicode normalisation: lower case, apostrophes and quotes
// join letters, anything else but letters and digits separates words.
func spellTokens(b, name, pref []byte) (_ []byte, ok bool) {
	start := len(b)
	for _, s := range [][]byte{name, pref} {
		sep := true
		for _, c := range s {
			switch {
			case c >= 0x80:
				return b, false
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
				fallthrough
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				if sep && len(b) > start {
					b = append(b, ' ')
				}
				sep = false
				b = append(b, c)
			case c == '\'', c == '"', c == '`':
			default:
				sep = true
			}
		}
	}
	return b, true
}

// primeDirectory seals, with the unlock agent, the directory rows of a
// batch about to be written from slot first on, in one request instead of
// one each; putDirectory takes them. In process it does nothing: rows are
// sealed as they are written.
func (k *keySet) primeDirectory(batch []*sealed, stage, first uint64) error {
	if k.remote == nil {
		return nil
	}
	var plains, ads, heads [][]byte
	var which []*entry
	for i, s := range batch {
		f := s.entry.dir
		if f == nil {
			continue
		}
		f.retainUntil, f.held = s.entry.RetainUntil, s.entry.Held
		head := make([]byte, dirHeadLen)
		head[0] = directoryVersion
		copy(head[1:9], s.entry.ID[:])
		binary.BigEndian.PutUint64(head[9:17], stage)
		slot := seqKey(first + uint64(i))
		s.entry.dirSlot = slot
		plains = append(plains, f.appendPlain(nil))
		ads = append(ads, directoryAD(nil, slot, head))
		heads = append(heads, head)
		which = append(which, s.entry)
	}
	if len(plains) == 0 {
		return nil
	}
	out, err := k.aead(labelDirectory).Seal(plains, ads)
	for _, p := range plains {
		clear(p)
	}
	if err != nil {
		return err
	}
	for i, e := range which {
		e.dirRow = append(heads[i], out[i]...)
	}
	return nil
}
