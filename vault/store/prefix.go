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
	return &prefixCursor{c: b.Cursor(), prefix: prefix, end: prefixEnd(prefix)}
}

// prefixCursor bounds an engine's cursor to the keys with a prefix.
type prefixCursor struct {
	c           Cursor
	prefix, end []byte
}

func (p *prefixCursor) in(k, v []byte) ([]byte, []byte) {
	if k == nil || !bytes.HasPrefix(k, p.prefix) {
		return nil, nil
	}
	return k, v
}

func (p *prefixCursor) First() ([]byte, []byte) { return p.in(p.c.Seek(p.prefix)) }
func (p *prefixCursor) Next() ([]byte, []byte)  { return p.in(p.c.Next()) }
func (p *prefixCursor) Prev() ([]byte, []byte)  { return p.in(p.c.Prev()) }

func (p *prefixCursor) Last() ([]byte, []byte) {
	if p.end != nil {
		if k, _ := p.c.Seek(p.end); k != nil {
			return p.in(p.c.Prev())
		}
	}
	return p.in(p.c.Last())
}

func (p *prefixCursor) Seek(key []byte) ([]byte, []byte) {
	if bytes.Compare(key, p.prefix) < 0 {
		key = p.prefix
	}
	return p.in(p.c.Seek(key))
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
