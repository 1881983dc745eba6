package vault

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/clientvault/clientvault/records"
)

// Client is one client as the directory has them: what finding and listing
// show, never the record's health details or notes.
type Client struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	DOB         records.Date `json:"dob,omitzero"`
	Phone       string       `json:"phone,omitempty"`
	Email       string       `json:"email,omitempty"`
	LastVisit   records.Date `json:"last_visit,omitzero"`
	RetainUntil records.Date `json:"retain_until,omitzero"`
	Held        bool         `json:"held,omitempty"`
}

// Find returns the clients that query names, ordered by name: a name
// (every word of the query starts a word of the client's name or preferred
// name, in any order, ignoring case and accents: "quen", "odegard" for
// "Ødegård"), phone digits in any formatting ("5550142" finds
// "+1 415 555-0142"), or an email address or part of one (a query with an
// "@"). The owner searches the sealed directory; a coworker (UnlockAsStaff)
// only the records shared with them. Find writes nothing, so it works on a
// vault opened read-only, and it is not audited: it shows the directory's
// fields, and opening a record (View) is.
func (v *Vault) Find(query string) ([]Client, error) {
	q, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	parts := runtime.GOMAXPROCS(0)
	outs, keyss := make([][]Client, parts), make([][]string, parts)
	err = v.eachClient(parts, q.matches, func(p int, r *clientRow) error {
		outs[p] = append(outs[p], r.client())
		keyss[p] = append(keyss[p], string(r.searchTokens()))
		return nil
	}, true)
	if err != nil {
		return nil, err
	}
	out, keys := slices.Concat(outs...), slices.Concat(keyss...)
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(strings.Compare(keys[a], keys[b]), strings.Compare(out[a].ID, out[b].ID))
	})
	sorted := make([]Client, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted, nil
}

// query is a parsed Find query.
type query struct {
	words  [][]byte // name mode: folded words, each a prefix of some token
	digits []byte   // phone mode
	email  []byte   // email mode: lower case, a part of the address
}

func parseQuery(s string) (*query, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") {
		return &query{email: []byte(strings.ToLower(s))}, nil
	}
	letters, digits := false, records.PhoneDigits(s)
	for _, r := range s {
		if r != ' ' && !strings.ContainsRune("+-().0123456789/", r) {
			letters = true
		}
	}
	if !letters && len(digits) >= 3 {
		return &query{digits: []byte(digits)}, nil
	}
	var q query
	for _, w := range records.SearchTokens(s) {
		q.words = append(q.words, []byte(w))
	}
	if len(q.words) == 0 {
		return nil, fmt.Errorf("%w: search for a name, phone number (3 digits or more) or email", ErrInvalid)
	}
	return &q, nil
}

func (q *query) matches(r *clientRow) bool {
	switch {
	case q.email != nil:
		return bytes.Contains(r.email, q.email)
	case q.digits != nil:
		r.buf = appendDigits(r.buf[:0], r.phone) // kept, so that the next row reuses it
		return bytes.Contains(r.buf, q.digits)
	}
	for _, w := range q.words {
		found := false
		for t := range bytes.SplitSeq(r.searchTokens(), []byte{' '}) {
			if bytes.HasPrefix(t, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// appendDigits appends the digits of s to b.
func appendDigits(b, s []byte) []byte {
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	return b
}

// clientRow is one client being read, its byte fields aliasing a buffer
// that is valid only until the next row.
type clientRow struct {
	id                               ID
	name, tokens, pref, phone, email []byte
	dob, lastVisit, retainUntil      uint32
	held                             bool
	buf                              []byte // scratch space for matching
	tokBuf                           []byte // scratch space for spelling tokens out
}

// searchTokens returns the row's search tokens, spelling them out from
// the name and preferred name (spellTokens) when the row does not keep
// them: only when a match or an order needs them.
func (r *clientRow) searchTokens() []byte {
	if len(r.tokens) == 0 {
		r.tokBuf, _ = spellTokens(r.tokBuf[:0], r.name, r.pref)
		r.tokens = r.tokBuf
	}
	return r.tokens
}

func (r *clientRow) client() Client {
	return Client{
		ID: r.id.String(), Name: string(r.name), DOB: numDate(uint64(r.dob)), Phone: string(r.phone),
		Email: string(r.email), LastVisit: numDate(uint64(r.lastVisit)),
		RetainUntil: numDate(uint64(r.retainUntil)), Held: r.held,
	}
}

// eachClient calls fn with each visible client that match accepts: the
// owner's from the sealed directory, a coworker's from their shares. With
// checkIDs, a directory row that match accepts is passed on only if the ID
// map says its record is in that slot (a lookup per row: Find and the
// duplicate check look up the rows they match; a list of every row leaves
// that to Verify, which reports a row left over).
//
// With parts > 1, a large directory is read in that many ranges of slots at
// once, each in its own read transaction on its own goroutine, and fn is
// called with the range's number, from that goroutine: opening and
// decoding the rows is most of a find's or a list's time, and a read
// transaction is not to be shared between goroutines. match and fn must
// then be safe to call concurrently for different parts.
func (v *Vault) eachClient(parts int, match func(*clientRow) bool, fn func(part int, r *clientRow) error, checkIDs bool) error {
	if v.keys == nil && v.staff != nil {
		return v.eachSharedClient(match, func(r *clientRow) error { return fn(0, r) })
	}
	if v.keys == nil {
		return ErrLocked
	}
	var first, last uint64
	err := v.view(func(tx *txn) error {
		if !directoryReady(tx) {
			return ErrNoDirectory
		}
		if k, _ := tx.Bucket(bucketDirectory).Cursor().First(); len(k) == 8 {
			first = binary.BigEndian.Uint64(k)
		}
		// The rows are keyed by slot: none is past the last slot taken.
		// (A cursor's Last on etcd has the member read every key of the
		// bucket: etcd has no reverse range.)
		last = max(tx.Bucket(bucketRecords).Sequence(), first)
		return nil
	})
	if err != nil {
		return err
	}
	if last-first < minPartRows*uint64(parts) {
		parts = 1
	}
	if parts <= 1 {
		return v.eachClientIn(0, nil, nil, match, fn, checkIDs)
	}
	span := (last - first) / uint64(parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		from := seqKey(first + uint64(p)*span)
		var to []byte
		if p < parts-1 {
			to = seqKey(first + uint64(p+1)*span)
		}
		if p == 0 {
			from = nil
		}
		wg.Go(func() { errs[p] = v.eachClientIn(p, from, to, match, fn, checkIDs) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// minPartRows is the fewest slots each part of a parallel read covers (a
// variable, so that tests read small vaults in parts).
var minPartRows uint64 = 8192

// eachClientIn is eachClient over the directory rows from slot from (nil:
// the first) to slot to (nil: the last), excluded, in one read transaction.
func (v *Vault) eachClientIn(part int, from, to []byte, match func(*clientRow) bool, fn func(part int, r *clientRow) error, checkIDs bool) error {
	return v.view(func(tx *txn) error {
		dir := tx.Bucket(bucketDirectory)
		if dir == nil {
			return ErrNoDirectory
		}
		ids := tx.Bucket(bucketIDs)
		o := v.keys.newDirOpener()
		var r clientRow
		// Bounded by the part: on etcd, a cursor over the whole bucket
		// streams on past to, into the next part's rows.
		c := dir.rangeCursor(from, to)
		k, val := c.First()
		tampered := func(k, val []byte) error {
			if len(val) >= dirHeadLen {
				return recordErr(ID(val[1:9]), fmt.Errorf("directory entry: %w", ErrTampered))
			}
			return fmt.Errorf("directory entry in slot %x: %w", k, ErrTampered)
		}
		// Through the unlock agent, the range's rows are opened in one
		// batch first, not one round trip each.
		var batch []dirRow
		if o.remote != nil {
			var slots, vals [][]byte
			for k2, v2 := k, val; k2 != nil && (to == nil || bytes.Compare(k2, to) < 0); k2, v2 = c.Next() {
				slots, vals = append(slots, k2), append(vals, v2)
			}
			rows, i, err := o.openAll(slots, vals)
			if errors.Is(err, errDirRow) {
				return tampered(slots[i], vals[i])
			}
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				return nil
			}
			batch = rows
			k, val = c.Seek(slots[0])
		}
		for n := 0; k != nil && (to == nil || bytes.Compare(k, to) < 0); k, val = c.Next() {
			var row dirRow
			var err error
			if batch != nil {
				row, n = batch[n], n+1
			} else if row, err = o.open(k, val); err != nil {
				return tampered(k, val)
			}
			if row.stage != 0 && tx.pending[row.stage] {
				continue
			}
			d, ok := decodeDir(row.plain)
			if !ok {
				return recordErr(row.id, fmt.Errorf("directory entry: %w", ErrTampered))
			}
			r = clientRow{id: row.id, name: d.name, tokens: d.tokens, pref: d.pref, phone: d.phone, email: d.email,
				dob: d.dob, lastVisit: d.lastVisit, retainUntil: d.retainUntil, held: d.held, buf: r.buf, tokBuf: r.tokBuf}
			if !match(&r) {
				continue
			}
			if checkIDs && !bytes.Equal(ids.Get(row.id[:]), k) {
				continue // a row left over; Verify reports it
			}
			if err := fn(part, &r); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachSharedClient is eachClient for a coworker: it opens each of their
// shares (with age: a coworker holds few) and makes its row from the parts
// shared with them. Shares past their end are left out.
func (v *Vault) eachSharedClient(match func(*clientRow) bool, fn func(*clientRow) error) error {
	if err := v.reloadGrants(); err != nil {
		return err
	}
	var found []*Stored
	err := v.view(func(tx *txn) error {
		return v.eachOwnShare(tx, func(k, raw []byte) error {
			st, err := v.openShare(k, raw)
			if errors.Is(err, ErrNotShared) {
				return nil
			}
			if err != nil {
				return err
			}
			found = append(found, st)
			return nil
		})
	})
	if err != nil {
		return err
	}
	var r clientRow
	for _, st := range found {
		id, err := ParseID(st.ID)
		if err != nil {
			continue
		}
		f := directoryFields(st.Record)
		if f.tokens == "" {
			t, _ := spellTokens(nil, []byte(f.name), []byte(f.pref))
			f.tokens = string(t)
		}
		r = clientRow{id: id, name: []byte(f.name), tokens: []byte(f.tokens), phone: []byte(f.phone),
			email: []byte(f.email), dob: dateNum(f.dob), lastVisit: dateNum(f.lastVisit), buf: r.buf}
		if !match(&r) {
			continue
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

// Sort orders for ListOptions.
const (
	SortName        = "name"
	SortLastVisit   = "last-visit"
	SortRetainUntil = "retain-until"
)

// ListOptions choose what Clients lists.
type ListOptions struct {
	// Sort is SortName (the default), SortLastVisit (most recent first)
	// or SortRetainUntil (soonest first).
	Sort string
	// Limit, if positive, is how many clients to list at most.
	Limit int
	// DueBefore, if set, lists only the clients whose retain-until date is
	// before that day.
	DueBefore records.Date
}

// Clients calls each with the clients the directory holds, as o chooses
// and orders them: ListClients, then Each.
func (v *Vault) Clients(o ListOptions, each func(Client) error) error {
	l, err := v.ListClients(o)
	if err != nil {
		return err
	}
	return l.Each(each)
}

// ClientList is what ListClients chose, in order, held in memory: it stays
// valid once the vault is closed, so that a command prints it without
// holding the vault's lock (a list piped into a pager would otherwise keep
// every writer waiting).
type ClientList struct {
	items  [][]listItem
	arenas [][]byte
	order  []sortKey
}

// Len is how many clients l holds.
func (l *ClientList) Len() int { return len(l.order) }

// Each calls each with the clients of l in order, until it returns an
// error.
func (l *ClientList) Each(each func(Client) error) error {
	// The IDs, in hex, and the names are handed out as strings that share
	// the arenas' memory rather than one allocation and copy each (200,000
	// of them for 100,000 clients, a sixth of a list's time): the arenas are
	// not written again, and a string keeps its arena alive.
	hexIDs := make([]byte, 0, 16*len(l.order))
	for _, sk := range l.order {
		it := &l.items[sk.part][sk.i]
		at := len(hexIDs)
		hexIDs = hex.AppendEncode(hexIDs, it.id[:])
		c := Client{ID: unsafe.String(&hexIDs[at], 16), Name: arenaString(l.arenas[it.part][it.at : it.at+it.nameLen]),
			DOB: numDate(uint64(it.dob)), LastVisit: numDate(uint64(it.lastVisit)), RetainUntil: numDate(uint64(it.retainUntil)), Held: it.held}
		if err := each(c); err != nil {
			return err
		}
	}
	return nil
}

// ListClients returns the clients the directory holds (a coworker: those
// shared with them), as o chooses and orders them. Like Find, it writes
// nothing and is not audited. While the rows are read and sorted, each
// client takes about 40 bytes beside its name and search key, and the sort
// moves 32-byte keys, not the clients.
func (v *Vault) ListClients(o ListOptions) (*ClientList, error) {
	switch o.Sort {
	case "", SortName, SortLastVisit, SortRetainUntil:
	default:
		return nil, fmt.Errorf("%w: sort must be name, last-visit or retain-until", ErrInvalid)
	}
	due := dateNum(o.DueBefore)
	// Sized up front: grown by appending, the slices were copied over and
	// over, a tenth of a list's time.
	var slots uint64
	if v.keys != nil {
		_ = v.view(func(tx *txn) error {
			slots = tx.Bucket(bucketRecords).Sequence()
			return nil
		})
	}
	// Each part of the read keeps its clients, with their names and search
	// keys in an arena of its own rather than a string each.
	parts := runtime.GOMAXPROCS(0)
	each1 := min(slots, 1<<22)/uint64(parts) + 16
	items, arenas := make([][]listItem, parts), make([][]byte, parts)
	for p := range parts {
		items[p], arenas[p] = make([]listItem, 0, each1), make([]byte, 0, each1*64)
	}
	wanted := func(r *clientRow) bool { return due == 0 || (r.retainUntil != 0 && r.retainUntil < due) }
	err := v.eachClient(parts, wanted, func(p int, r *clientRow) error {
		items[p] = append(items[p], listItem{
			id: r.id, dob: r.dob, lastVisit: r.lastVisit, retainUntil: r.retainUntil, held: r.held, part: uint8(p),
			at: uint32(len(arenas[p])), nameLen: uint32(len(r.name)), keyLen: uint32(len(r.searchTokens())),
		})
		arenas[p] = append(append(arenas[p], r.name...), r.searchTokens()...)
		return nil
	}, false)
	if err != nil {
		return nil, err
	}
	key := func(it *listItem) []byte {
		at := it.at + it.nameLen
		return arenas[it.part][at : at+it.keyLen]
	}
	// The sort orders small keys: the date the order asks for, if any, and
	// the first bytes of the search key (the folded name), big-endian, so
	// that comparing them as numbers compares the bytes; only equal keys
	// compare the whole name, then the ID. Each part is sorted on its own
	// goroutine, and the parts merged.
	orders := make([][]sortKey, parts)
	compare := func(a, b sortKey) int {
		// Not cmp.Or, which computes every comparison before it picks one.
		switch {
		case a.k1 != b.k1:
			return cmp.Compare(a.k1, b.k1)
		case a.k2 != b.k2:
			return cmp.Compare(a.k2, b.k2)
		case a.k3 != b.k3:
			return cmp.Compare(a.k3, b.k3)
		}
		x, y := &items[a.part][a.i], &items[b.part][b.i]
		return cmp.Or(bytes.Compare(key(x), key(y)), bytes.Compare(x.id[:], y.id[:]))
	}
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			order := make([]sortKey, len(items[p]))
			for i := range items[p] {
				it := &items[p][i]
				k := key(it)
				sk := sortKey{i: int32(i), part: uint8(p)}
				switch o.Sort {
				case SortLastVisit:
					sk.k1, sk.k2, sk.k3 = uint64(^it.lastVisit), prefix8(k), prefix8(k[min(8, len(k)):])
				case SortRetainUntil:
					sk.k1, sk.k2, sk.k3 = uint64(it.retainUntil), prefix8(k), prefix8(k[min(8, len(k)):])
				default:
					sk.k1, sk.k2, sk.k3 = prefix8(k), prefix8(k[min(8, len(k)):]), prefix8(k[min(16, len(k)):])
				}
				order[i] = sk
			}
			slices.SortFunc(order, compare)
			orders[p] = order
		})
	}
	wg.Wait()
	order := orders[0]
	for _, next := range orders[1:] {
		order = mergeSorted(order, next, compare)
	}
	if o.Limit > 0 && len(order) > o.Limit {
		order = order[:o.Limit]
	}
	return &ClientList{items: items, arenas: arenas, order: order}, nil
}

// arenaString returns b as a string that shares its memory; b must never
// be written again.
func arenaString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// listItem is one client held by Clients while it sorts; its name and
// search key are in Clients' arena from at.
type listItem struct {
	id                          ID
	dob, lastVisit, retainUntil uint32
	at, nameLen, keyLen         uint32
	held                        bool
	part                        uint8
}

// sortKey is what Clients sorts: two numbers that decide most comparisons,
// and the item's index.
type sortKey struct {
	k1, k2, k3 uint64
	i          int32
	part       uint8
}

// mergeSorted merges two sorted slices into a new one.
func mergeSorted(a, b []sortKey, compare func(a, b sortKey) int) []sortKey {
	out := make([]sortKey, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if compare(b[0], a[0]) < 0 {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// prefix8 is the first 8 bytes of b as a big-endian number, zero-padded.
func prefix8(b []byte) uint64 {
	var p [8]byte
	copy(p[:], b)
	return binary.BigEndian.Uint64(p[:])
}
