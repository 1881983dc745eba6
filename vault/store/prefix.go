package store

import "bytes"

// PrefixCursor returns a cursor over the keys of b that start with prefix:
// it sees no other key, and on an engine that reads a bucket in pages
// (etcd) it reads no other either, so that a user whose role may read only
// that range of the bucket (Etcd.KeyRange) can walk it. A plain cursor's
// pages go on past the prefix.
func PrefixCursor(b Bucket, prefix []byte) Cursor {
	if p, ok := b.(interface{ PrefixCursor([]byte) Cursor }); ok {
		return p.PrefixCursor(prefix)
	}
	// The keys with the prefix are those from it to the first key past
	// them.
	return &rangeCursor{c: b.Cursor(), from: prefix, to: prefixEnd(prefix)}
}

// prefixEnd returns the first key after every key that starts with prefix,
// or nil if there is none (an empty prefix, or one of 0xff bytes alone).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// RangeCursor returns a cursor over the keys of b in [from, to) (from the
// first key for a nil from, to the last for a nil to): it sees no other
// key, and on an engine that reads a bucket in pages or streams (etcd) it
// reads no other either. A plain cursor that is left at to has read on
// past it, as far as the engine reads ahead: a walk of one part of a bucket
// should be bounded by the part.
func RangeCursor(b Bucket, from, to []byte) Cursor {
	if r, ok := b.(interface{ RangeCursor(from, to []byte) Cursor }); ok {
		return r.RangeCursor(from, to)
	}
	return &rangeCursor{c: b.Cursor(), from: from, to: to}
}

// rangeCursor bounds an engine's cursor to the keys of a range.
type rangeCursor struct {
	c        Cursor
	from, to []byte
}

func (r *rangeCursor) in(k, v []byte) ([]byte, []byte) {
	if k == nil || bytes.Compare(k, r.from) < 0 || r.to != nil && bytes.Compare(k, r.to) >= 0 {
		return nil, nil
	}
	return k, v
}

func (r *rangeCursor) First() ([]byte, []byte) { return r.in(r.c.Seek(r.from)) }
func (r *rangeCursor) Next() ([]byte, []byte)  { return r.in(r.c.Next()) }
func (r *rangeCursor) Prev() ([]byte, []byte)  { return r.in(r.c.Prev()) }

func (r *rangeCursor) Last() ([]byte, []byte) {
	if r.to != nil {
		if k, _ := r.c.Seek(r.to); k != nil {
			return r.in(r.c.Prev())
		}
	}
	return r.in(r.c.Last())
}

func (r *rangeCursor) Seek(key []byte) ([]byte, []byte) {
	if bytes.Compare(key, r.from) < 0 {
		key = r.from
	}
	return r.in(r.c.Seek(key))
}
