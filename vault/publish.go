package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
)

// publishSpan is about how many records' ID-map and index entries one
// publishing transaction of a staged add may rewrite. IDs and index tags are
// random, so records published together land all over those trees: put in
// one transaction, 100,000 of them into a vault of 900,000 rewrite every
// page of both trees, and bbolt holds each rewritten page twice in memory
// until the commit (its decoded entries, and the page it writes), some 300
// MB. Split by key range, each transaction rewrites only the pages of its
// range.
var publishSpan = 50_000

// publishParts returns in how many transactions (key ranges) the records
// waiting to be published, and extra more, are written: one per
// publishSpan records that the trees will hold.
func (w *bulk) publishParts(extra int) int {
	var slots uint64
	_ = w.v.view(func(tx *txn) error {
		// Slots ever taken: at least as many as the records there are.
		slots = tx.Bucket(bucketRecords).Sequence()
		return nil
	})
	parts := 1 + (int(slots)+extra)/publishSpan
	// On etcd, a transaction holds at most so many keys: an ID map entry
	// and two index entries a record, with room for the ranges' unevenness.
	if n := w.v.perTxn(3, 128); n > 0 {
		parts = max(parts, 1+2*(len(w.published)+extra)/n)
	}
	return min(parts, 1<<16)
}

// publishStaged writes the ID map and index entries of the staged records
// waiting to be published, in key order, in transactions of their own, each
// over one range of keys (the first two bytes of an ID or a tag, which are
// uniform). The entries they lead to are staged, so they stay invisible
// until the final transaction ends the stage, and an interrupted add
// removes them with the stage.
func (w *bulk) publishStaged() error {
	if len(w.published) == 0 {
		return nil
	}
	recs := w.published
	slices.SortFunc(recs, func(a, b publishedRecord) int { return bytes.Compare(a.id[:], b.id[:]) })
	keys := make([][]byte, 0, 2*len(recs))
	for _, r := range recs {
		for _, t := range r.tags {
			keys = append(keys, indexKey(t, r.id))
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	ends := w.publishEnds(recs, keys)
	for part, end := range ends {
		// Keys whose first two bytes are below end go in this part.
		below := func(k []byte) bool { return part == len(ends)-1 || prefix16(k) < end }
		i := 0
		for i < len(recs) && below(recs[i].id[:]) {
			i++
		}
		j := 0
		for j < len(keys) && below(keys[j]) {
			j++
		}
		if i == 0 && j == 0 {
			continue
		}
		err := w.v.update(func(tx *txn) error {
			if err := w.stageThere(tx); err != nil {
				return err
			}
			// On etcd, each bucket's keys in the part's range in one
			// request, not one per key (the state root reads old values),
			// and none inserted without that read (putIDs).
			if i > 0 {
				if err := tx.Bucket(bucketIDs).prefetch(recs[0].id[:], append(clone(recs[i-1].id[:]), 0)); err != nil {
					return err
				}
			}
			if j > 0 {
				if err := tx.Bucket(bucketIndex).prefetch(keys[0], append(clone(keys[j-1]), 0)); err != nil {
					return err
				}
			}
			if err := putIDs(tx, recs[:i]); err != nil {
				return err
			}
			return putIndexKeys(tx, keys[:j])
		})
		if err != nil {
			return err
		}
		recs, keys = recs[i:], keys[j:]
		w.v.dropMapped()
	}
	clear(w.published)
	w.published = w.published[:0]
	return nil
}

// publishEnds returns where each of publishStaged's parts ends, in the
// first two bytes of the keys (the last part takes the rest): recs and keys
// are sorted. A file's parts split the range evenly, publishParts of them.
// On an engine with limits (etcd), whose transactions rewrite no pages, the
// parts are cut where the next range of keys with the same first two bytes
// would put more keys in one transaction than it may hold: as few
// transactions as the limits allow, where even ranges, kept within the
// limits whatever their unevenness, held half as many keys.
func (w *bulk) publishEnds(recs []publishedRecord, keys [][]byte) []uint32 {
	n := w.v.perTxn(1, 43) // an ID map or an index entry: 8 + 8 or 40 + 0 bytes
	if n == 0 {
		parts := w.publishParts(0)
		ends := make([]uint32, parts)
		for part := range parts {
			ends[part] = uint32((part + 1) << 16 / parts)
		}
		return ends
	}
	var ends []uint32
	i, j, in := 0, 0, 0
	for i < len(recs) || j < len(keys) {
		p := uint32(1 << 16)
		if i < len(recs) {
			p = prefix16(recs[i].id[:])
		}
		if j < len(keys) {
			p = min(p, prefix16(keys[j]))
		}
		c := 0
		for ; i < len(recs) && prefix16(recs[i].id[:]) == p; i++ {
			c++
		}
		for ; j < len(keys) && prefix16(keys[j]) == p; j++ {
			c++
		}
		if in > 0 && in+c > n {
			ends = append(ends, p)
			in = 0
		}
		in += c
	}
	return append(ends, 1<<16)
}

// prefix16 is the first two bytes of k, big-endian.
func prefix16(k []byte) uint32 { return uint32(binary.BigEndian.Uint16(k)) }

// putIDs maps each record's ID to its slot; recs are in ID order.
func putIDs(tx *txn, recs []publishedRecord) error {
	ids := tx.Bucket(bucketIDs)
	ids.appendInOrder()
	for _, r := range recs {
		taken, err := ids.insert(r.id[:], seqKey(r.slot))
		if err != nil {
			return err
		}
		if taken {
			return recordErr(r.id, errors.New("ID already in use"))
		}
	}
	return nil
}

// putIndexKeys writes index entries, in key order.
func putIndexKeys(tx *txn, keys [][]byte) error {
	idx := tx.Bucket(bucketIndex)
	idx.appendInOrder()
	for _, k := range keys {
		// The key ends with a new record's ID, which putIDs found free:
		// it is new too.
		taken, err := idx.insert(k, []byte{})
		if err != nil {
			return err
		}
		if taken {
			return recordErr(ID(k[tagLen:]), errors.New("index entry already in use"))
		}
	}
	return nil
}

// indexKey is the index key of a record's tag: the tag, then the ID.
func indexKey(tag [tagLen]byte, id ID) []byte {
	k := make([]byte, 0, tagLen+len(id))
	return append(append(k, tag[:]...), id[:]...)
}
