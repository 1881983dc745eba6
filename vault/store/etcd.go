package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Etcd is the engine of a prefix of an etcd cluster: buckets are ranges of
// etcd's keys under the prefix, a View reads one revision of them, and an
// Update is one etcd transaction, made only if no other Update committed
// since its snapshot, and otherwise run again on a new one.
//
// The keys under the prefix P:
//
//	P + "b/"                                 the generation G of the content ("" until a Replace)
//	P + "b/" + G + "/" + name                bucket name's marker: its sequence (8 bytes, big-endian)
//	P + "c"                                  the commit counter
//	P + "c/" + G                             the commit counter of a generation written aside
//	P + "d"                                  when Compact last ran
//	P + "k/" + G + "/" + len(name) + name + key   a key of bucket name (len(name) is one byte)
//
// Replace writes a whole new content aside, as a new generation, which no
// reader sees; its Publish then makes it the content in one commit, which
// writes P + "b/", and deletes the old one (see Replacer).
//
// A bucket's keys are one contiguous range of etcd's keys that no other
// bucket's keys share: the name's length goes before it, so that bucket
// "a"'s keys are not among bucket "ab"'s. KeyRange gives the range of the
// keys of a bucket that start with a prefix, for etcd's role-based access
// control (a role allowed to read one range reads nothing else). Bucket
// names are 1 to 255 bytes; keys are any non-empty bytes.
//
// Transactions. A transaction starts with one linearizable read of every
// bucket marker (the vault has a few dozen buckets), which fixes its
// revision; every later read is made at that revision (serializable: it is
// served by any member that has it), so a View is a snapshot and never
// waits for a writer. A transaction reads each key once: what it read, and
// what it wrote, it answers from memory. Cursors read pages of keys, never
// a whole bucket at once: going forward, the chunks of one stream of the
// range (etcd 3.7's RangeStream: a Range with a limit costs the server as
// much as every key after the page, which it counts); going back, keys
// alone, then their values a page at a time (etcd has no reverse range: a
// descending one is read whole and sorted, so Last on a large bucket costs
// as much as a walk of its keys). An Update keeps its writes in memory, and its
// reads see them merged in order; when its function returns nil, they are
// sent as one etcd transaction that is applied only if the commit counter
// was not written after the snapshot's revision, and that writes the
// counter too. Every Update, on every computer, writes the counter, so a
// commit is refused exactly when another was made since its snapshot, and
// Update then runs its function again on a new snapshot (with a randomized
// backoff, at most Attempts times), so that no change is lost. A commit
// whose answer does not come in time is looked up before Update answers:
// it either is written or never will be (see resolve).
//
// Limits are the server's (--max-txn-ops, --max-request-bytes), less what
// the engine writes itself; a transaction over them is refused by Update
// with ErrTooLarge before anything is sent.
type Etcd struct {
	cli *clientv3.Client
	o   EtcdOptions
	// noStreams: the server cannot stream a range, or the options say not
	// to.
	noStreams atomic.Bool
	prefix    string
	counter   string // P + "c"; that of its generation for content written aside
	// current is the layout of the generation the last transaction read
	// (P + "b/" says which it is).
	current atomic.Pointer[etcdLayout]
	// aside: the engine writes a content aside (Replace): it has its own
	// commit counter, and its layout is fixed.
	aside bool
}

// etcdLayout is where one generation of the engine's content is.
type etcdLayout struct {
	gen     string // "" for the first
	markers string // P + "b/" + gen + "/"
	keys    string // P + "k/" + gen + "/"
}

// layoutOf is the layout of generation gen under prefix.
func layoutOf(prefix, gen string) *etcdLayout {
	return &etcdLayout{gen: gen, markers: prefix + "b/" + gen + "/", keys: prefix + "k/" + gen + "/"}
}

// genLen is the length of a generation's name: hex of 8 random bytes.
const genLen = 16

// EtcdOptions are the settings of an Etcd engine; zero values are defaults.
type EtcdOptions struct {
	// RequestTimeout bounds each request to etcd: 5 s unless set. A request
	// that takes longer fails with ErrUnavailable.
	RequestTimeout time.Duration
	// MaxTxnOps and MaxRequestBytes are the server's --max-txn-ops and
	// --max-request-bytes: etcd's defaults, 128 and 1.5 MiB, unless set.
	// The client must send requests that large: clientv3 sends 2 MiB at
	// most unless its MaxCallSendMsgSize says more.
	MaxTxnOps       int
	MaxRequestBytes int
	// PageSize is the most keys a cursor reads in one request going back,
	// and going forward on a server that cannot stream a range (before
	// etcd 3.7, or with NoStreams): 512 unless set.
	PageSize int
	// NoStreams makes cursors read forward in pages of PageSize keys
	// (Range requests) rather than in one stream (RangeStream, etcd 3.7).
	// A page costs the server as much as all the keys after it in the
	// bucket, which it counts; the engine falls back to pages by itself on
	// a server that has no streams.
	NoStreams bool
	// Attempts is how many times Update runs its function when other
	// writers keep committing first, before it gives up with ErrConflict:
	// 32 unless set.
	Attempts int
	// CloseClient makes Close close the client too.
	CloseClient bool
	// User is the etcd user the client is (the common name of its client
	// certificate), whose own grants OwnGrants reads; "" for none.
	User string
}

// Errors of the etcd engine alone.
var (
	// ErrConflict is returned by Update when other writers committed first
	// every time it ran its function; nothing of it is written.
	ErrConflict = errors.New("store: other writers kept committing first")
	// ErrCommitUnknown is returned by Update when etcd did not answer a
	// commit in time and could not be asked afterwards whether it was
	// made: the transaction is either written whole or not at all. The
	// error is ErrUnavailable too.
	ErrCommitUnknown = errors.New("store: the engine did not say whether the transaction was written")
)

const (
	// maxBucketName is the longest bucket name: its length is one byte.
	maxBucketName = 255
	// opOverhead bounds the bytes of protocol buffer framing of one
	// operation of a transaction request beyond its key, range end and
	// value; txnOverhead bounds those of the request itself (the compare,
	// etcd's raft header and user name).
	opOverhead  = 16
	txnOverhead = 1024
	// sequenceOps are operations Limits keeps back for the markers of the
	// buckets whose sequence (or existence) a transaction changes.
	sequenceOps = 8
	// firstPage is the size of a cursor's first forward page: a Seek is
	// often followed by a few moves only. Pages double up to PageSize.
	firstPage = 64
	// backPages is how many pages of keys a cursor going back reads at most
	// at once (fetchBackward).
	backPages = 64
)

// NewEtcd returns the engine of the keys under prefix in the cluster of cli.
// The prefix ends in "/", so that one vault's keys are not a part of
// another's.
func NewEtcd(cli *clientv3.Client, prefix string, o EtcdOptions) (*Etcd, error) {
	if cli == nil {
		return nil, errors.New("store: no etcd client")
	}
	if prefix == "" || prefix[len(prefix)-1] != '/' {
		return nil, fmt.Errorf("store: the etcd prefix %q does not end in /", prefix)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 5 * time.Second
	}
	if o.MaxTxnOps <= 0 {
		o.MaxTxnOps = 128
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 3 << 19 // 1.5 MiB
	}
	if o.PageSize <= 0 {
		o.PageSize = 512
	}
	if o.Attempts <= 0 {
		o.Attempts = 32
	}
	e := &Etcd{cli: cli, o: o, prefix: prefix, counter: prefix + "c"}
	e.current.Store(layoutOf(prefix, ""))
	e.noStreams.Store(o.NoStreams)
	return e, nil
}

// Limits are the server's, less what the engine itself writes: the commit
// counter, sequenceOps bucket markers, and the framing and key prefixes of
// every operation. A transaction within them is always taken.
func (e *Etcd) Limits() Limits {
	perOp := opOverhead + len(layoutOf(e.prefix, strings.Repeat("0", genLen)).keys) + 1 + maxBucketName
	return Limits{
		Ops:   max(e.o.MaxTxnOps-1-sequenceOps, 1),
		Bytes: max(e.o.MaxRequestBytes-txnOverhead-(e.o.MaxTxnOps)*perOp, 1),
	}
}

// KeyRange returns the range [start, end) of etcd's keys that holds the keys
// of bucket that start with keyPrefix (all of the bucket's with an empty
// one): what an etcd role is granted to read them and nothing else.
func (e *Etcd) KeyRange(bucket, keyPrefix []byte) (start, end string) {
	start = e.current.Load().bucketPrefix(string(bucket)) + string(keyPrefix)
	return start, clientv3.GetPrefixRangeEnd(start)
}

// MetaRange returns the range [start, end) of etcd's keys that every
// transaction reads before any bucket (the bucket markers) and that every
// commit writes (the commit counter, and the markers of buckets made,
// deleted or whose sequence changes): a role needs read on it to use the
// engine at all, and write to commit.
func (e *Etcd) MetaRange() (start, end string) { return e.prefix, e.counter + "\x00" }

// Close releases the engine, and the client if the options say so.
func (e *Etcd) Close() error {
	if e.o.CloseClient {
		return e.cli.Close()
	}
	return nil
}

// Compact removes from etcd what is no longer its present state: every
// earlier revision of every key (etcd's history is the cluster's, not the
// prefix's: the compaction is of all keys), then the space it took in each
// member's database file (a defragmentation, member after member; a member
// serves no requests while it is defragmented). After it, a value deleted or
// overwritten is in no member's database; etcd's write-ahead log and
// snapshot files keep it until they are rotated out. A View that is reading
// an older revision when Compact runs fails. Compact is bounded by ctx, not
// by RequestTimeout: a large database takes a while to defragment.
func (e *Etcd) Compact(ctx context.Context) error {
	// etcd keeps what the revision it compacts to reads: a value deleted
	// by the last write would stay. A write of its own comes after it,
	// unless etcd is out of space (then the compaction is what frees it).
	var rev int64
	put, err := e.cli.Put(ctx, e.prefix+"d", time.Now().UTC().Format(time.RFC3339))
	if errors.Is(etcdErr(err), ErrNoSpace) {
		get, gerr := e.cli.Get(ctx, e.counter, clientv3.WithCountOnly())
		if gerr == nil {
			rev = get.Header.Revision
		}
		err = gerr
	} else if err == nil {
		rev = put.Header.Revision
	}
	if err != nil {
		return etcdErr(err)
	}
	_, err = e.cli.Compact(ctx, rev, clientv3.WithCompactPhysical())
	if err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return etcdErr(err)
	}
	members, err := e.cli.MemberList(ctx)
	if err != nil {
		return etcdErr(err)
	}
	var errs []error
	for _, m := range members.Members {
		if len(m.ClientURLs) == 0 { // added, not started
			continue
		}
		if _, err := e.cli.Defragment(ctx, m.ClientURLs[0]); err != nil {
			errs = append(errs, fmt.Errorf("defragmenting %s: %w", m.Name, etcdErr(err)))
		}
	}
	return errors.Join(errs...)
}

// ctx is the context of one request.
func (e *Etcd) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), e.o.RequestTimeout)
}

// pointer is the key that says which generation is the content; its range
// as a prefix holds every generation's bucket markers too.
func (e *Etcd) pointer() string { return e.prefix + "b/" }

func (l *etcdLayout) bucketPrefix(name string) string {
	return l.keys + string([]byte{byte(len(name))}) + name
}

func (e *Etcd) View(fn func(Tx) error) error {
	tx, err := e.begin(false)
	if err != nil {
		return err
	}
	ferr := fn(tx)
	tx.end()
	if err := tx.failure(); err != nil {
		return err
	}
	return ferr
}

func (e *Etcd) Update(fn func(Tx) error) error {
	backoff := 2 * time.Millisecond
	for attempt := 1; ; attempt++ {
		tx, err := e.begin(true)
		if err != nil {
			return err
		}
		ferr := fn(tx)
		tx.end()
		err = tx.failure()
		if err == nil && ferr != nil {
			return ferr
		}
		if err == nil {
			err = tx.commit()
		}
		if !errors.Is(err, errStale) {
			return err
		}
		if attempt == e.o.Attempts {
			return fmt.Errorf("%w: the transaction was tried %d times", ErrConflict, attempt)
		}
		time.Sleep(time.Duration(mathrand.Int64N(int64(backoff))))
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// errStale is a snapshot that another commit made old: the commit's
// compare failed, or the revision was compacted under a read.
var errStale = errors.New("store: the snapshot is no longer the present")

// begin starts a transaction: one read of which generation is the content
// and of every bucket marker, which fixes its revision.
func (e *Etcd) begin(writable bool) (*etcdTx, error) {
	ctx, cancel := e.ctx()
	defer cancel()
	resp, err := e.cli.Get(ctx, e.pointer(), clientv3.WithPrefix())
	if err != nil {
		return nil, etcdErr(err)
	}
	lay := e.current.Load()
	if !e.aside {
		gen := ""
		if len(resp.Kvs) > 0 && string(resp.Kvs[0].Key) == e.pointer() {
			gen = string(resp.Kvs[0].Value)
		}
		if gen != lay.gen {
			lay = layoutOf(e.prefix, gen)
			e.current.Store(lay)
		}
	}
	tx := &etcdTx{e: e, lay: lay, writable: writable, rev: resp.Header.Revision, buckets: map[string]*etcdBucket{}}
	for _, kv := range resp.Kvs {
		if !strings.HasPrefix(string(kv.Key), lay.markers) {
			continue // the pointer, or another generation's
		}
		name := string(kv.Key[len(lay.markers):])
		if len(kv.Value) != 8 || name == "" || len(name) > maxBucketName {
			return nil, fmt.Errorf("store: etcd: the bucket marker %q is not one the engine wrote", kv.Key)
		}
		b := tx.newBucket(name)
		b.inBase, b.exists = true, true
		b.seq = binary.BigEndian.Uint64(kv.Value)
	}
	return tx, nil
}

// etcdTx is a transaction of the etcd engine. Buckets and cursors of one
// transaction may be used by several goroutines, each its own: what they
// share (the buckets' caches and writes) is under mu.
type etcdTx struct {
	e *Etcd
	// lay is the layout of the generation of the content it reads.
	lay      *etcdLayout
	writable bool
	// rev is the revision the transaction reads.
	rev int64

	mu sync.Mutex
	// err is the first read that failed: a read answers nil then, and the
	// transaction's result is err.
	err error
	// buckets are those of the snapshot and those the transaction made.
	buckets map[string]*etcdBucket
	// streams are the cursors' streams, closed when the transaction ends.
	streams []*etcdStream
}

// end closes what the transaction's cursors left open.
func (tx *etcdTx) end() {
	tx.mu.Lock()
	streams := tx.streams
	tx.streams = nil
	tx.mu.Unlock()
	for _, s := range streams {
		s.close()
	}
}

// etcdBucket is a bucket as a transaction sees it: the snapshot's keys, and
// over them the transaction's own writes.
type etcdBucket struct {
	tx   *etcdTx
	name string
	// prefix is the etcd key prefix of its keys, end the end of their range.
	prefix, end string
	// exists: the bucket is there in the transaction.
	exists bool
	// inBase: its marker is in the snapshot.
	inBase bool
	// wiped: it was deleted in the transaction, so the snapshot's keys are
	// not its (it may have been made again since).
	wiped bool
	seq   uint64
	// markerDirty: the marker is to be written (the bucket was made or its
	// sequence changed).
	markerDirty bool
	// cache holds the snapshot's values read by Get; nil for a key that is
	// not there.
	cache map[string][]byte
	// known are ranges [from, to) of the snapshot's keys read whole into
	// cache (Prefetch): a key in one that is not in cache is not there.
	known [][2]string
	// writes are the transaction's puts and deletes (a nil value), by key;
	// order is their keys in order.
	writes map[string]write
	order  []string
	// inserted are the keys put by Insert that the transaction does not
	// know are absent from the snapshot: the commit requires each to be
	// absent (a compare), where a Put would have read it first.
	inserted map[string]bool
}

type write struct {
	key, value []byte
	// expires, if set, is when etcd deletes the key by itself: the key is
	// put with a lease of that time (PutExpiring).
	expires time.Time
}

func (tx *etcdTx) newBucket(name string) *etcdBucket {
	prefix := tx.lay.bucketPrefix(name)
	b := &etcdBucket{tx: tx, name: name, prefix: prefix, end: clientv3.GetPrefixRangeEnd(prefix)}
	tx.buckets[name] = b
	return b
}

// failure is the transaction's error: a failed read, mapped.
func (tx *etcdTx) failure() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.err == nil {
		return nil
	}
	if errors.Is(tx.err, rpctypes.ErrCompacted) || errors.Is(rpctypes.Error(tx.err), rpctypes.ErrCompacted) {
		if tx.writable {
			return errStale
		}
		return fmt.Errorf("%w: %w", ErrSnapshotGone, tx.err)
	}
	return etcdErr(tx.err)
}

// fail records a failed read.
func (tx *etcdTx) fail(err error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.err == nil {
		tx.err = err
	}
}

// read reads at the transaction's revision: from any member that has it,
// or, if the one asked has not caught up with it yet, through the leader.
func (tx *etcdTx) read(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	ctx, cancel := tx.e.ctx()
	defer cancel()
	opts = append(opts, clientv3.WithRev(tx.rev))
	resp, err := tx.e.cli.Get(ctx, key, append(opts, clientv3.WithSerializable())...)
	if errors.Is(err, rpctypes.ErrFutureRev) {
		resp, err = tx.e.cli.Get(ctx, key, opts...)
	}
	return resp, err
}

func validName(name []byte) bool { return len(name) > 0 && len(name) <= maxBucketName }

func (tx *etcdTx) Writable() bool { return tx.writable }

func (tx *etcdTx) Bucket(name []byte) Bucket {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if b := tx.buckets[string(name)]; b != nil && b.exists {
		return b
	}
	return nil
}

func (tx *etcdTx) CreateBucket(name []byte) (Bucket, error) { return tx.create(name, false) }

func (tx *etcdTx) CreateBucketIfNotExists(name []byte) (Bucket, error) { return tx.create(name, true) }

func (tx *etcdTx) create(name []byte, mayExist bool) (Bucket, error) {
	if !tx.writable {
		return nil, ErrTxNotWritable
	}
	if !validName(name) {
		return nil, fmt.Errorf("store: a bucket name of %d bytes (1 to %d on etcd)", len(name), maxBucketName)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	b := tx.buckets[string(name)]
	if b != nil && b.exists {
		if mayExist {
			return b, nil
		}
		return nil, ErrBucketExists
	}
	if b == nil {
		b = tx.newBucket(string(name))
	}
	b.exists, b.markerDirty, b.seq = true, true, 0
	return b, nil
}

func (tx *etcdTx) DeleteBucket(name []byte) error {
	if !tx.writable {
		return ErrTxNotWritable
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	b := tx.buckets[string(name)]
	if b == nil || !b.exists {
		return ErrBucketNotFound
	}
	b.exists, b.wiped, b.markerDirty, b.seq = false, b.inBase, false, 0
	b.cache, b.known, b.writes, b.order, b.inserted = nil, nil, nil, nil, nil
	return nil
}

func (tx *etcdTx) ForEach(fn func(name []byte, b Bucket) error) error {
	tx.mu.Lock()
	var bs []*etcdBucket
	for _, b := range tx.buckets {
		if b.exists {
			bs = append(bs, b)
		}
	}
	tx.mu.Unlock()
	slices.SortFunc(bs, func(a, b *etcdBucket) int { return strings.Compare(a.name, b.name) })
	for _, b := range bs {
		if err := fn([]byte(b.name), b); err != nil {
			return err
		}
	}
	return nil
}

// base reports whether the snapshot's keys are the bucket's. Under tx.mu.
func (b *etcdBucket) base() bool { return b.inBase && !b.wiped }

func (b *etcdBucket) Get(key []byte) []byte {
	tx := b.tx
	tx.mu.Lock()
	if w, ok := b.writes[string(key)]; ok {
		tx.mu.Unlock()
		return w.value
	}
	if !b.base() || len(key) == 0 {
		tx.mu.Unlock()
		return nil
	}
	if v, ok := b.cache[string(key)]; ok {
		tx.mu.Unlock()
		return v
	}
	if b.absent(string(key)) {
		tx.mu.Unlock()
		return nil
	}
	tx.mu.Unlock()
	resp, err := tx.read(b.prefix + string(key))
	if err != nil {
		tx.fail(err)
		return nil
	}
	var v []byte
	if len(resp.Kvs) > 0 {
		v = nonNil(resp.Kvs[0].Value)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if b.cache == nil {
		b.cache = make(map[string][]byte)
	}
	b.cache[string(key)] = v
	return v
}

// absent reports whether the transaction knows that key is not among the
// snapshot's: it read it, or a range around it. Under tx.mu.
func (b *etcdBucket) absent(key string) bool {
	if v, ok := b.cache[key]; ok {
		return v == nil
	}
	for _, r := range b.known {
		if r[0] <= key && (r[1] == "" || key < r[1]) {
			return true
		}
	}
	return false
}

// Prefetch reads every key of the snapshot in [from, to) (to the bucket's
// end if to is nil) in one request, so that Gets of keys in that range,
// there or not, ask etcd nothing (store.Prefetcher). The keys and values of
// the range are held to the transaction's end: the vault prefetches what a
// bulk write is about to fill, a range of a few hundred keys at most.
func (b *etcdBucket) Prefetch(from, to []byte) error {
	tx := b.tx
	tx.mu.Lock()
	base := b.base()
	tx.mu.Unlock()
	if !base || to != nil && string(to) <= string(from) {
		return nil
	}
	end := b.end
	if to != nil {
		end = b.prefix + string(to)
	}
	resp, err := tx.read(b.prefix+string(from), clientv3.WithRange(end))
	if err != nil {
		tx.fail(err)
		return etcdErr(err)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if b.cache == nil {
		b.cache = make(map[string][]byte, len(resp.Kvs))
	}
	for _, kv := range resp.Kvs {
		b.cache[string(kv.Key[len(b.prefix):])] = nonNil(kv.Value)
	}
	b.known = append(b.known, [2]string{string(from), string(to)})
	return nil
}

// PrefetchKeys reads the snapshot's values of keys (store.KeyPrefetcher):
// those the transaction has not read or written yet, in etcd transactions
// of point reads at the snapshot's revision, as many a request as the
// server takes. A key that is not there is remembered as not there.
func (b *etcdBucket) PrefetchKeys(keys [][]byte) error {
	tx := b.tx
	tx.mu.Lock()
	var need [][]byte
	if b.base() {
		for _, k := range keys {
			if _, ok := b.writes[string(k)]; ok || len(k) == 0 || b.absent(string(k)) {
				continue
			}
			if _, ok := b.cache[string(k)]; ok {
				continue
			}
			need = append(need, k)
		}
	}
	tx.mu.Unlock()
	for len(need) > 0 {
		// Within the server's limits on a request: its operations, and
		// its bytes (a read's framing is about that of a put).
		n, size := 0, txnOverhead
		for n < len(need) && n < tx.e.o.MaxTxnOps {
			size += opOverhead + len(b.prefix) + len(need[n])
			if n > 0 && size > tx.e.o.MaxRequestBytes {
				break
			}
			n++
		}
		chunk := need[:n]
		need = need[n:]
		values, err := tx.readKeys(b.prefix, chunk)
		if err != nil {
			tx.fail(err)
			return etcdErr(err)
		}
		tx.mu.Lock()
		if b.cache == nil {
			b.cache = make(map[string][]byte, len(chunk))
		}
		for i, k := range chunk {
			if _, ok := b.cache[string(k)]; !ok {
				b.cache[string(k)] = values[i]
			}
		}
		tx.mu.Unlock()
	}
	return nil
}

// readKeys reads the values of the keys prefix+k, each of keys, at the
// transaction's revision in one etcd transaction of reads (nil for a key
// that is not there), from any member that has the revision, or through
// the leader.
func (tx *etcdTx) readKeys(prefix string, keys [][]byte) ([][]byte, error) {
	ctx, cancel := tx.e.ctx()
	defer cancel()
	read := func(opts ...clientv3.OpOption) (*clientv3.TxnResponse, error) {
		ops := make([]clientv3.Op, len(keys))
		for i, k := range keys {
			ops[i] = clientv3.OpGet(prefix+string(k), append(opts, clientv3.WithRev(tx.rev))...)
		}
		return tx.e.cli.Txn(ctx).Then(ops...).Commit()
	}
	resp, err := read(clientv3.WithSerializable())
	if errors.Is(err, rpctypes.ErrFutureRev) {
		resp, err = read()
	}
	if err != nil {
		return nil, err
	}
	if len(resp.Responses) != len(keys) {
		return nil, fmt.Errorf("store: etcd: %d answers to %d reads", len(resp.Responses), len(keys))
	}
	values := make([][]byte, len(keys))
	for i, r := range resp.Responses {
		rr := r.GetResponseRange()
		if rr == nil {
			return nil, errors.New("store: etcd: a read answered as something else")
		}
		if len(rr.Kvs) > 0 {
			values[i] = nonNil(rr.Kvs[0].Value)
		}
	}
	return values, nil
}

// nonNil is v, or an empty value for nil: etcd hands an empty value back as
// nil.
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

func (b *etcdBucket) Put(key, value []byte) error {
	if len(key) == 0 {
		return ErrKeyRequired
	}
	return b.write(key, nonNil(value))
}

func (b *etcdBucket) Delete(key []byte) error { return b.write(key, nil) }

func (b *etcdBucket) write(key, value []byte) error {
	tx := b.tx
	if !tx.writable {
		return ErrTxNotWritable
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.err != nil {
		return etcdErr(tx.err)
	}
	if b.writes == nil {
		b.writes = make(map[string]write)
	}
	if _, ok := b.writes[string(key)]; !ok {
		i, _ := slices.BinarySearch(b.order, string(key))
		b.order = slices.Insert(b.order, i, string(key))
	}
	b.writes[string(key)] = write{key: key, value: value}
	return nil
}

// Insert puts key, which must not be in the bucket (store.Inserter). If the
// transaction does not know whether the snapshot has it, it does not read
// it: the commit requires that etcd have no such key, and fails with
// ErrKeyExists (writing nothing) if it has. With the compare of the commit
// counter, that is the key's absence from the snapshot.
func (b *etcdBucket) Insert(key, value []byte) error {
	if len(key) == 0 {
		return ErrKeyRequired
	}
	tx := b.tx
	if !tx.writable {
		return ErrTxNotWritable
	}
	tx.mu.Lock()
	unknown := false
	if w, ok := b.writes[string(key)]; ok {
		if w.value != nil {
			tx.mu.Unlock()
			return ErrKeyExists
		}
		// Deleted in the transaction: not there when it commits.
	} else if b.base() {
		if v, ok := b.cache[string(key)]; ok && v != nil {
			tx.mu.Unlock()
			return ErrKeyExists
		}
		unknown = !b.absent(string(key))
	}
	tx.mu.Unlock()
	if err := b.write(key, nonNil(value)); err != nil {
		return err
	}
	if unknown {
		tx.mu.Lock()
		if b.inserted == nil {
			b.inserted = make(map[string]bool)
		}
		b.inserted[string(key)] = true
		tx.mu.Unlock()
	}
	return nil
}

// PutExpiring puts key, which etcd deletes by itself at (or within a
// second after) the time at: the key is attached to a lease of that time,
// granted when the transaction commits. A time already past is a lease of
// one second.
func (b *etcdBucket) PutExpiring(key, value []byte, at time.Time) error {
	if err := b.Put(key, value); err != nil {
		return err
	}
	b.tx.mu.Lock()
	defer b.tx.mu.Unlock()
	w := b.writes[string(key)]
	w.expires = at
	b.writes[string(key)] = w
	return nil
}

func (b *etcdBucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (b *etcdBucket) Sequence() uint64 {
	b.tx.mu.Lock()
	defer b.tx.mu.Unlock()
	return b.seq
}

func (b *etcdBucket) SetSequence(n uint64) error {
	if !b.tx.writable {
		return ErrTxNotWritable
	}
	b.tx.mu.Lock()
	defer b.tx.mu.Unlock()
	b.seq, b.markerDirty = n, true
	return nil
}

func (b *etcdBucket) NextSequence() (uint64, error) {
	if !b.tx.writable {
		return 0, ErrTxNotWritable
	}
	b.tx.mu.Lock()
	defer b.tx.mu.Unlock()
	b.seq++
	b.markerDirty = true
	return b.seq, nil
}

// overlay returns the transaction's write nearest to k that is a put: the
// first at or after k going forward, the last before k going back (before
// the end when k is nil). Under tx.mu.
func (b *etcdBucket) overlay(k []byte, forward bool) (write, bool) {
	i := sort.Search(len(b.order), func(i int) bool { return b.order[i] >= string(k) })
	if !forward && k == nil {
		i = len(b.order)
	}
	for {
		if !forward {
			i--
		}
		if i < 0 || i >= len(b.order) {
			return write{}, false
		}
		if w := b.writes[b.order[i]]; w.value != nil {
			return w, true
		}
		if forward {
			i++
		}
	}
}

func (b *etcdBucket) Cursor() Cursor { return b.PrefixCursor(nil) }

// PrefixCursor returns a cursor that sees and reads only the keys that
// start with prefix: a role allowed to read that range (KeyRange) walks it.
func (b *etcdBucket) PrefixCursor(prefix []byte) Cursor {
	return &etcdCursor{b: b, lo: prefix, hi: prefixEnd(prefix), next: min(firstPage, b.tx.e.o.PageSize)}
}

// RangeCursor returns a cursor that sees and reads only the keys in
// [from, to) (store.RangeCursor).
func (b *etcdBucket) RangeCursor(from, to []byte) Cursor {
	return &etcdCursor{b: b, lo: from, hi: to, next: min(firstPage, b.tx.e.o.PageSize)}
}

// etcdCursor walks a bucket: the snapshot's keys, read a page at a time, and
// the transaction's writes, merged. It remembers where it is by key, so
// writes made while it is out are seen by its next move.
type etcdCursor struct {
	b *etcdBucket
	// lo and hi bound the keys the cursor sees and reads: [lo, hi), to
	// the bucket's end if hi is nil.
	lo, hi []byte
	// at is where the cursor is: on key, before the first key or after the
	// last, or nowhere yet.
	at  position
	key []byte
	// page is the last page of the snapshot's keys read; next is the size
	// of the next forward page (without streams), back that of the next
	// backward one.
	page       page
	next, back int
	// stream is the stream of forward pages.
	stream *etcdStream
}

type position int

const (
	nowhere position = iota
	onKey
	beforeFirst
	afterLast
)

// page is a run of the snapshot's keys of a bucket, in order, that holds
// every key of the range [from, to) (to the cursor's end if toEnd; from its
// start if from is its lo). A value is nil until it is read.
type page struct {
	valid    bool
	keys     [][]byte
	values   [][]byte
	from, to []byte
	toEnd    bool
}

func (c *etcdCursor) First() ([]byte, []byte) { return c.Seek([]byte{}) }

func (c *etcdCursor) Last() ([]byte, []byte) {
	w, ok := c.floor(nil)
	return c.land(w, ok, beforeFirst)
}

func (c *etcdCursor) Seek(key []byte) ([]byte, []byte) {
	w, ok := c.ceil(key)
	return c.land(w, ok, afterLast)
}

func (c *etcdCursor) Next() ([]byte, []byte) {
	switch c.at {
	case onKey:
		return c.Seek(append(slices.Clip(c.key), 0))
	case afterLast:
		return nil, nil
	}
	return c.First()
}

func (c *etcdCursor) Prev() ([]byte, []byte) {
	switch c.at {
	case onKey:
		w, ok := c.floor(c.key)
		return c.land(w, ok, beforeFirst)
	case beforeFirst:
		return nil, nil
	}
	return c.Last()
}

// land moves the cursor onto w, or, if there is none, off the end given.
func (c *etcdCursor) land(w write, ok bool, off position) ([]byte, []byte) {
	if !ok {
		c.at, c.key = off, nil
		return nil, nil
	}
	c.at, c.key = onKey, w.key
	return w.key, w.value
}

// ceil returns the cursor's first key at or after k.
func (c *etcdCursor) ceil(k []byte) (write, bool) {
	if string(k) < string(c.lo) {
		k = c.lo
	}
	w, ok := c.merged(k, true)
	if ok && c.hi != nil && string(w.key) >= string(c.hi) {
		return write{}, false
	}
	return w, ok
}

// floor returns the cursor's last key before k (nil: its last key).
func (c *etcdCursor) floor(k []byte) (write, bool) {
	if c.hi != nil && (k == nil || string(k) > string(c.hi)) {
		k = c.hi
	}
	w, ok := c.merged(k, false)
	if ok && string(w.key) < string(c.lo) {
		return write{}, false
	}
	return w, ok
}

// merged returns the bucket's first key at or after k going forward, its
// last before k going back (nil: its last key): the transaction's writes
// over the snapshot's keys, reading none outside the cursor's bounds.
func (c *etcdCursor) merged(k []byte, forward bool) (write, bool) {
	b, tx := c.b, c.b.tx
	tx.mu.Lock()
	over, overOK := b.overlay(k, forward)
	base := b.base()
	tx.mu.Unlock()
	if !base {
		return over, overOK
	}
	for {
		var under write
		ok := false
		if forward {
			under, ok = c.baseCeil(k)
		} else {
			under, ok = c.baseFloor(k)
		}
		switch {
		case !ok:
			return over, overOK
		case overOK && string(over.key) != string(under.key) && (string(over.key) < string(under.key)) == forward:
			return over, true
		case !c.written(under.key):
			return under, true
		case forward:
			k = append(slices.Clip(under.key), 0)
		default:
			k = under.key
		}
	}
}

// written reports whether the transaction wrote key, which hides the
// snapshot's.
func (c *etcdCursor) written(key []byte) bool {
	c.b.tx.mu.Lock()
	defer c.b.tx.mu.Unlock()
	_, ok := c.b.writes[string(key)]
	return ok
}

// baseCeil returns the snapshot's first key at or after k.
func (c *etcdCursor) baseCeil(k []byte) (write, bool) {
	p := &c.page
	if !p.valid || string(k) < string(p.from) || !(p.toEnd || string(k) < string(p.to)) {
		if !c.fetchForward(k) {
			return write{}, false
		}
	}
	i := sort.Search(len(p.keys), func(i int) bool { return string(p.keys[i]) >= string(k) })
	if i == len(p.keys) {
		if p.toEnd {
			return write{}, false
		}
		// No key of the page's range is at or after k: the next is at or
		// after its end.
		if !c.fetchForward(p.to) || len(p.keys) == 0 {
			return write{}, false
		}
		i = 0
	}
	return c.entry(i, true)
}

// baseFloor returns the snapshot's last key before k (nil: its last key).
func (c *etcdCursor) baseFloor(k []byte) (write, bool) {
	p := &c.page
	covered := p.valid && p.toEnd
	if k != nil {
		covered = p.valid && string(p.from) <= string(k) && (p.toEnd || string(k) <= string(p.to))
	}
	if !covered {
		if !c.fetchBackward(k) {
			return write{}, false
		}
	}
	i := len(p.keys)
	if k != nil {
		i = sort.Search(len(p.keys), func(i int) bool { return string(p.keys[i]) >= string(k) })
	}
	if i == 0 {
		if string(p.from) <= string(c.lo) {
			return write{}, false
		}
		if !c.fetchBackward(p.from) || len(p.keys) == 0 {
			return write{}, false
		}
		i = len(p.keys)
	}
	return c.entry(i-1, false)
}

// entry returns the page's key i with its value, reading the values of the
// keys from i on in the direction the cursor goes if the page has only
// their keys.
func (c *etcdCursor) entry(i int, forward bool) (write, bool) {
	p, b := &c.page, c.b
	if p.values[i] == nil {
		n := b.tx.e.o.PageSize
		lo, hi := i, min(i+n, len(p.keys))
		if !forward {
			lo, hi = max(i-n+1, 0), i+1
		}
		resp, err := b.tx.read(b.prefix+string(p.keys[lo]), clientv3.WithRange(b.prefix+string(p.keys[hi-1])+"\x00"),
			clientv3.WithLimit(int64(hi-lo)))
		if err == nil && len(resp.Kvs) != hi-lo {
			err = fmt.Errorf("store: etcd: bucket %q has other keys at one revision", b.name)
		}
		if err != nil {
			b.tx.fail(err)
			p.valid = false
			return write{}, false
		}
		for j, kv := range resp.Kvs {
			p.values[lo+j] = nonNil(kv.Value)
		}
	}
	return write{key: p.keys[i], value: p.values[i]}, true
}

// end is the end of the etcd range the cursor reads.
func (c *etcdCursor) end() string {
	if c.hi != nil {
		return c.b.prefix + string(c.hi)
	}
	return c.b.end
}

// fetchForward reads the page of keys from k on, with their values: the
// next chunk of the cursor's stream if it is at k, else the first of a new
// one (or a page of a Range request, on a server that cannot stream).
func (c *etcdCursor) fetchForward(k []byte) bool {
	b := c.b
	kvs, more, err := c.streamed(k)
	if errors.Is(err, errNoStreams) {
		var resp *clientv3.GetResponse
		resp, err = b.tx.read(b.prefix+string(k), clientv3.WithRange(c.end()), clientv3.WithLimit(int64(c.next)))
		if err == nil {
			kvs, more = resp.Kvs, resp.More
		}
		c.next = min(2*c.next, b.tx.e.o.PageSize)
	}
	if err != nil {
		b.tx.fail(err)
		c.page.valid = false
		return false
	}
	p := &c.page
	p.valid, p.from, p.toEnd = true, k, !more
	p.keys, p.values = p.keys[:0], p.values[:0]
	for _, kv := range kvs {
		p.keys = append(p.keys, kv.Key[len(b.prefix):])
		p.values = append(p.values, nonNil(kv.Value))
	}
	if more {
		p.to = append(slices.Clip(p.keys[len(p.keys)-1]), 0)
		if c.stream != nil {
			c.stream.at = p.to
		}
	}
	return true
}

var errNoStreams = errors.New("store: etcd: the server cannot stream a range")

// etcdStream is a range the server streams to a cursor, chunk by chunk,
// from at to the cursor's end. The server reads a chunk as the last is
// taken (gRPC's flow control holds it back), so a stream that is left after
// a few keys costs little; and unlike a Range with a limit, it does not
// count the keys after the chunk.
type etcdStream struct {
	ch     clientv3.GetStreamChan
	cancel context.CancelFunc
	// at is where its next chunk starts.
	at []byte
	// err is the failure to open it.
	err    error
	closed atomic.Bool
}

// close ends the stream, and takes what is still on its way so that
// clientv3's goroutine ends.
func (s *etcdStream) close() {
	if s.closed.Swap(true) {
		return
	}
	s.cancel()
	go func() {
		for range s.ch {
		}
	}()
}

// streamed returns the next chunk of the stream from k, opening it (and
// closing the last) if the cursor's stream is not at k, and whether the
// range has more.
func (c *etcdCursor) streamed(k []byte) ([]*mvccpb.KeyValue, bool, error) {
	tx := c.b.tx
	if tx.e.noStreams.Load() {
		return nil, false, errNoStreams
	}
	first := c.stream == nil || c.stream.closed.Load() || string(c.stream.at) != string(k)
	if first {
		if c.stream != nil {
			c.stream.close()
		}
		c.stream = tx.stream(c.b.prefix+string(k), c.end(), clientv3.WithSerializable())
	}
	resp, err := c.stream.recv(tx.e.o.RequestTimeout)
	if status.Code(err) == codes.Unavailable {
		// The member streaming it failed: once more, from the same key
		// at the same revision, through another.
		c.stream.close()
		c.stream = tx.stream(c.b.prefix+string(k), c.end(), clientv3.WithSerializable())
		resp, err = c.stream.recv(tx.e.o.RequestTimeout)
		first = true
	}
	if first && errors.Is(err, rpctypes.ErrFutureRev) {
		// The member asked has not caught up with the revision: through
		// the leader.
		c.stream.close()
		c.stream = tx.stream(c.b.prefix+string(k), c.end())
		resp, err = c.stream.recv(tx.e.o.RequestTimeout)
	}
	if status.Code(err) == codes.Unimplemented || errors.Is(rpctypes.Error(err), errUnimplemented) {
		tx.e.noStreams.Store(true)
		err = errNoStreams
	}
	if err != nil {
		c.stream.close()
		return nil, false, err
	}
	// Only the last chunk has a header.
	more := resp.Header == nil
	if !more {
		c.stream.close()
	}
	return resp.Kvs, more, nil
}

var errUnimplemented = status.Error(codes.Unimplemented, "")

// stream opens a stream of the range [key, end) at the transaction's
// revision.
func (tx *etcdTx) stream(key, end string, opts ...clientv3.OpOption) *etcdStream {
	ctx, cancel := context.WithCancel(context.Background())
	s := &etcdStream{cancel: cancel}
	ch, err := tx.e.cli.GetStream(ctx, key, append(opts, clientv3.WithRange(end), clientv3.WithRev(tx.rev))...)
	if err != nil {
		c := make(chan clientv3.RangeStreamResponse)
		close(c)
		ch, s.err = c, err
	}
	s.ch = ch
	tx.mu.Lock()
	tx.streams = append(tx.streams, s)
	tx.mu.Unlock()
	return s
}

// recv returns the stream's next chunk, waiting at most timeout.
func (s *etcdStream) recv(timeout time.Duration) (clientv3.RangeStreamResponse, error) {
	if s.err != nil {
		return clientv3.RangeStreamResponse{}, s.err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r, ok := <-s.ch:
		if !ok {
			return r, errors.New("store: etcd: the stream of a range ended before its last chunk")
		}
		return r, r.Err()
	case <-t.C:
		return clientv3.RangeStreamResponse{}, context.DeadlineExceeded
	}
}

// fetchBackward reads the keys before k (nil: the bucket's end), without
// their values, which entry reads a page at a time. etcd has no reverse range:
// a range in descending order is read whole by the server, then sorted and
// cut, so that going back costs as much as the keys before it whatever the
// limit. The keys alone are asked for, and more each time (up to
// backPages pages), so that a walk back over a bucket reads it whole only a
// few times.
func (c *etcdCursor) fetchBackward(k []byte) bool {
	b := c.b
	n := b.tx.e.o.PageSize
	if c.back == 0 {
		c.back = n
	}
	end := b.end
	if k != nil {
		end = b.prefix + string(k)
	}
	resp, err := b.tx.read(b.prefix+string(c.lo), clientv3.WithRange(end), clientv3.WithLimit(int64(c.back)),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithKeysOnly())
	if err != nil {
		b.tx.fail(err)
		c.page.valid = false
		return false
	}
	c.back = min(2*c.back, backPages*n)
	p := &c.page
	p.valid, p.from, p.to, p.toEnd = true, c.lo, k, k == nil
	p.keys, p.values = p.keys[:0], p.values[:0]
	for i := len(resp.Kvs) - 1; i >= 0; i-- {
		p.keys = append(p.keys, resp.Kvs[i].Key[len(b.prefix):])
		p.values = append(p.values, nil)
	}
	if resp.More {
		p.from = p.keys[0]
	}
	return true
}

// commit sends the transaction's writes as one etcd transaction, made only
// if no commit was made since the snapshot; errStale if one was.
func (tx *etcdTx) commit() error {
	e := tx.e
	leases, err := tx.grantLeases()
	if err != nil {
		return err
	}
	ops, inserted, size, keys, keyBytes := tx.ops(leases)
	if len(ops) == 0 {
		return nil
	}
	if l := e.Limits(); keys > l.Ops || keyBytes > l.Bytes {
		return fmt.Errorf("%w: %d keys of %d bytes, where the engine takes %d keys of %d bytes",
			ErrTooLarge, keys, keyBytes, l.Ops, l.Bytes)
	}
	id := newCommitID()
	ops = append(ops, clientv3.OpPut(e.counter, id))
	size += opOverhead + len(e.counter) + len(id) + txnOverhead
	if len(ops) > e.o.MaxTxnOps || len(inserted) >= e.o.MaxTxnOps || size > e.o.MaxRequestBytes {
		return fmt.Errorf("%w: %d operations of about %d bytes, where etcd takes %d operations of %d bytes",
			ErrTooLarge, len(ops), size, e.o.MaxTxnOps, e.o.MaxRequestBytes)
	}
	ctx, cancel := e.ctx()
	t := e.cli.Txn(ctx).If(append([]clientv3.Cmp{unchangedSince(e.counter, tx.rev)}, inserted...)...).Then(ops...)
	if len(inserted) > 0 {
		// Which compare failed: the counter's, or an inserted key's.
		t = t.Else(clientv3.OpGet(e.counter, clientv3.WithKeysOnly()))
	}
	resp, err := t.Commit()
	cancel()
	if err == nil {
		switch {
		case resp.Succeeded:
			return nil
		case len(inserted) > 0 && !counterMoved(resp, tx.rev):
			return fmt.Errorf("%w: a transaction of %d keys inserted", ErrKeyExists, len(inserted))
		}
		return errStale
	}
	made, fenced, err := e.settle(tx.rev, id, err)
	switch {
	case made:
		return nil
	case fenced:
		// The member that had it failed, and the fence, made through
		// another, keeps it from ever being made: run the transaction
		// again, as after a conflict.
		return errStale
	}
	return err
}

// settle finds out whether the commit id, made on the snapshot at rev,
// whose answer was the error err, was made (resolve). If it was not, it
// returns the error to report, and whether a fence keeps it from ever being
// made (the answer was lost, not a refusal); ErrCommitUnknown if etcd could
// not be asked.
func (e *Etcd) settle(rev int64, id string, err error) (made, fenced bool, _ error) {
	err = etcdErr(err)
	var fence bool
	switch {
	case errors.Is(err, ErrUnavailable):
		// The commit may be on its way still.
		fence = true
	case errors.Is(err, ErrNoSpace):
		// etcd applies the request that fills its quota, then answers it
		// NOSPACE (and refuses those after it).
	default:
		return false, false, err
	}
	made, rerr := e.resolve(rev, id, fence)
	switch {
	case rerr != nil:
		return false, false, fmt.Errorf("%w: %w (asking whether it was: %v)", ErrCommitUnknown, err, rerr)
	case made:
		return true, false, nil
	}
	return false, fence, err
}

// unchangedSince is the compare of a commit: key was not written after
// revision rev (a key that is not there has ModRevision 0).
func unchangedSince(key string, rev int64) clientv3.Cmp {
	return clientv3.Compare(clientv3.ModRevision(key), "<", rev+1)
}

// counterMoved reports whether the commit counter was written after rev, by
// the Else of a commit that failed: its one read of the counter.
func counterMoved(resp *clientv3.TxnResponse, rev int64) bool {
	if len(resp.Responses) != 1 {
		return true
	}
	rr := resp.Responses[0].GetResponseRange()
	return rr == nil || len(rr.Kvs) > 0 && rr.Kvs[0].ModRevision > rev
}

// newCommitID returns a value of the commit counter that no other commit
// writes, by which a commit is recognized (resolve).
func newCommitID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// resolve tells whether the commit id, made on a snapshot at revision rev,
// whose answer was lost or was an error, was made. Only one commit can
// follow rev (each compares the counter with its snapshot), so the first
// write of the counter after rev, if there is one, says whose it was. A
// commit whose answer was lost may still be on its way: with fence, a commit
// that moves the counter on is made first if none followed rev, so that the
// lost one, compared with rev, fails if it arrives later. Once resolve
// returns without error, the commit is made or never will be.
func (e *Etcd) resolve(rev int64, id string, fence bool) (bool, error) {
	ctx, cancel := e.ctx()
	defer cancel()
	if fence {
		resp, err := e.cli.Txn(ctx).If(unchangedSince(e.counter, rev)).Then(clientv3.OpPut(e.counter, newCommitID())).Commit()
		if err != nil {
			return false, err
		}
		if resp.Succeeded {
			return false, nil
		}
	} else {
		resp, err := e.cli.Get(ctx, e.counter)
		if err != nil {
			return false, err
		}
		if len(resp.Kvs) == 0 || resp.Kvs[0].ModRevision <= rev {
			return false, nil
		}
	}
	for w := range e.cli.Watch(ctx, e.counter, clientv3.WithRev(rev+1)) {
		if err := w.Err(); err != nil {
			return false, err
		}
		for _, ev := range w.Events {
			return string(ev.Kv.Value) == id, nil
		}
	}
	return false, fmt.Errorf("the watch of %q ended: %w", e.counter, ctx.Err())
}

// ops returns the etcd operations that make the transaction's writes, and
// about how many bytes they take in a request; and the keys the
// transaction put or deleted, and the bytes of those put with their values,
// for Limits.
// grantLeases grants a lease for each time at which keys the transaction
// puts expire (PutExpiring). A lease of a transaction that does not commit
// lapses by itself, with nothing attached.
func (tx *etcdTx) grantLeases() (map[time.Time]clientv3.LeaseID, error) {
	tx.mu.Lock()
	var times []time.Time
	for _, b := range tx.buckets {
		for _, w := range b.writes {
			if !w.expires.IsZero() && w.value != nil && !slices.ContainsFunc(times, w.expires.Equal) {
				times = append(times, w.expires)
			}
		}
	}
	tx.mu.Unlock()
	leases := map[time.Time]clientv3.LeaseID{}
	for _, at := range times {
		ttl := max(int64(time.Until(at)+time.Second-1)/int64(time.Second), 1)
		ctx, cancel := tx.e.ctx()
		l, err := tx.e.cli.Grant(ctx, ttl)
		cancel()
		if err != nil {
			return nil, etcdErr(err)
		}
		leases[at] = l.ID
	}
	return leases, nil
}

func (tx *etcdTx) ops(leases map[time.Time]clientv3.LeaseID) (ops []clientv3.Op, inserted []clientv3.Cmp, size, keys, keyBytes int) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	add := func(op clientv3.Op, key, end string, value []byte) {
		ops = append(ops, op)
		size += opOverhead + len(key) + len(end) + len(value)
	}
	del := func(key, end string) { add(clientv3.OpDelete(key, clientv3.WithRange(end)), key, end, nil) }
	names := make([]string, 0, len(tx.buckets))
	// Sized up front: an Op is some 200 bytes, and the slice of a bulk
	// write's 8,000 of them grown by appending was a tenth of what an
	// import on etcd allocated.
	n, fresh := 1, 0 // and the commit counter
	for name, b := range tx.buckets {
		names = append(names, name)
		n += len(b.order) + 2 // and the marker, or a wiped bucket's range
		fresh += len(b.inserted)
	}
	ops, inserted = make([]clientv3.Op, 0, n), make([]clientv3.Cmp, 0, fresh)
	slices.Sort(names)
	for _, name := range names {
		b := tx.buckets[name]
		marker := tx.lay.markers + name
		if !b.exists {
			if b.inBase {
				add(clientv3.OpDelete(marker), marker, "", nil)
				del(b.prefix, b.end)
			}
			continue
		}
		if b.markerDirty {
			seq := binary.BigEndian.AppendUint64(nil, b.seq)
			add(clientv3.OpPut(marker, string(seq)), marker, "", seq)
		}
		if b.wiped {
			// The snapshot's keys go, but for those put again: etcd
			// refuses a transaction that puts a key in a range it deletes.
			from := b.prefix
			for _, k := range b.order {
				if b.writes[k].value == nil {
					continue
				}
				if key := b.prefix + k; from < key {
					del(from, key)
				}
				from = b.prefix + k + "\x00"
			}
			del(from, b.end)
		}
		for _, k := range b.order {
			w := b.writes[k]
			keys++
			keyBytes += len(k) + len(w.value)
			switch {
			case w.value != nil && !w.expires.IsZero():
				add(clientv3.OpPut(b.prefix+k, string(w.value), clientv3.WithLease(leases[w.expires])), b.prefix+k, "", w.value)
			case w.value != nil:
				add(clientv3.OpPut(b.prefix+k, string(w.value)), b.prefix+k, "", w.value)
			case b.base() && !b.absent(k):
				add(clientv3.OpDelete(b.prefix+k), b.prefix+k, "", nil)
			}
			if w.value != nil && b.inserted[k] && !b.wiped {
				inserted = append(inserted, clientv3.Compare(clientv3.CreateRevision(b.prefix+k), "=", 0))
				size += opOverhead + len(b.prefix) + len(k)
				// The compare's bytes are the key's again, and its
				// framing, which Limits keeps no room for.
				keyBytes += opOverhead + len(b.prefix) + len(k)
			}
		}
	}
	return ops, inserted, size, keys, keyBytes
}

// etcdErr maps etcd's errors to the store's, keeping etcd's for the
// message.
func etcdErr(err error) error {
	if err == nil {
		return nil
	}
	// clientv3 hands etcd's errors back as rpctypes.EtcdError; a gRPC
	// status with etcd's message is one too.
	cause := rpctypes.Error(err)
	is := func(target error) bool { return errors.Is(err, target) || errors.Is(cause, target) }
	var (
		kind error
		ee   rpctypes.EtcdError
		code = status.Code(err)
	)
	if errors.As(cause, &ee) {
		code = ee.Code()
	}
	switch {
	case is(rpctypes.ErrNoSpace):
		kind = ErrNoSpace
	case is(rpctypes.ErrPermissionDenied), is(rpctypes.ErrUserEmpty), is(rpctypes.ErrAuthFailed),
		code == codes.PermissionDenied, code == codes.Unauthenticated:
		kind = ErrAccessDenied
	case is(rpctypes.ErrTooManyOps), is(rpctypes.ErrRequestTooLarge), code == codes.ResourceExhausted:
		kind = ErrTooLarge
	case is(context.DeadlineExceeded), is(context.Canceled), is(clientv3.ErrNoAvailableEndpoints),
		code == codes.Unavailable, code == codes.DeadlineExceeded, code == codes.Canceled:
		kind = ErrUnavailable
	default:
		return fmt.Errorf("store: etcd: %w", err)
	}
	return fmt.Errorf("%w: %w", kind, err)
}

var (
	_ Prefetcher    = (*etcdBucket)(nil)
	_ KeyPrefetcher = (*etcdBucket)(nil)
	_ Inserter      = (*etcdBucket)(nil)
)

var _ Replacer = (*Etcd)(nil)

// Replace begins writing a new content aside, as a new generation: it is
// published by one commit that compares the commit counter with the
// revision read here, so that a commit made meanwhile, on any computer, is
// never undone by it.
func (e *Etcd) Replace() (Replacement, error) {
	if e.aside {
		return nil, errors.New("store: etcd: a content written aside cannot be replaced")
	}
	// The revision that Publish compares the commit counter with.
	ctx, cancel := e.ctx()
	defer cancel()
	resp, err := e.cli.Get(ctx, e.counter, clientv3.WithCountOnly())
	if err != nil {
		return nil, etcdErr(err)
	}
	gen := newCommitID()[:genLen]
	aside := &Etcd{cli: e.cli, o: e.o, prefix: e.prefix, counter: e.counter + "/" + gen, aside: true}
	aside.o.CloseClient = false
	aside.current.Store(layoutOf(e.prefix, gen))
	aside.noStreams.Store(e.noStreams.Load())
	return &etcdReplacement{e: e, aside: aside, rev: resp.Header.Revision}, nil
}

// etcdReplacement is a content of an Etcd engine written aside (Replace),
// which replaces the engine's if no commit follows rev.
type etcdReplacement struct {
	e, aside *Etcd
	rev      int64
}

func (r *etcdReplacement) Engine() Engine { return r.aside }

// Publish points the engine at the new generation and writes the commit
// counter, in one etcd transaction that compares the counter with the
// revision of Replace; then it deletes the old content, and any other
// generation left aside by a replacement that never ended.
func (r *etcdReplacement) Publish(ctx context.Context) error {
	e, lay := r.e, r.aside.current.Load()
	id := newCommitID()
	rctx, cancel := e.ctx()
	resp, err := e.cli.Txn(rctx).If(unchangedSince(e.counter, r.rev)).Then(
		clientv3.OpPut(e.pointer(), lay.gen),
		clientv3.OpPut(e.counter, id),
		clientv3.OpDelete(r.aside.counter),
	).Commit()
	cancel()
	switch {
	case err == nil && !resp.Succeeded:
		return errors.Join(ErrReplaced, r.Abort())
	case err != nil:
		made, _, serr := e.settle(r.rev, id, err)
		switch {
		case errors.Is(serr, ErrCommitUnknown):
			return serr
		case !made:
			return errors.Join(serr, r.Abort())
		}
	}
	e.current.Store(lay)
	// Every other generation's markers and keys (the old content's, and
	// those of replacements that never ended), around the new one's, and
	// the counters of replacements that never ended. The pointer, P +
	// "b/", is before every marker.
	except := func(all, from, mine string) []clientv3.Op {
		return []clientv3.Op{
			clientv3.OpDelete(from, clientv3.WithRange(mine)),
			clientv3.OpDelete(clientv3.GetPrefixRangeEnd(mine), clientv3.WithRange(clientv3.GetPrefixRangeEnd(all))),
		}
	}
	ops := append(except(e.pointer(), e.pointer()+"\x00", lay.markers), except(e.prefix+"k/", e.prefix+"k/", lay.keys)...)
	ops = append(ops, clientv3.OpDelete(e.counter+"/", clientv3.WithPrefix()))
	_, err = e.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOldContentLeft, etcdErr(err))
	}
	return nil
}

// Abort deletes the generation written aside.
func (r *etcdReplacement) Abort() error {
	ctx, cancel := r.e.ctx()
	defer cancel()
	lay := r.aside.current.Load()
	_, err := r.e.cli.Txn(ctx).Then(
		clientv3.OpDelete(lay.markers, clientv3.WithPrefix()),
		clientv3.OpDelete(lay.keys, clientv3.WithPrefix()),
		clientv3.OpDelete(r.aside.counter)).Commit()
	return etcdErr(err)
}
