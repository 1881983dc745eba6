package vault

import "slices"

// The buckets of a vault, and what their keys and values are. Every bucket
// of the file is declared here; the files named say more of each.
var (
	// meta: the vault's own keys (keyFormat, keyHeader, keyHeaderMAC,
	// keyKeys, keyAuditHead: the audit head with the state root,
	// keyCompactPending, keyDirectoryBuilding). vault.go, state.go.
	bucketMeta = []byte("meta")
	// ids: record ID (8 bytes) → the slot of its entry in records (8).
	bucketIDs = []byte("ids")
	// records: slot (8, a sequence number, so bulk adds append pages) →
	// the entry: metadata, the age ciphertext, its MAC. entry.go.
	bucketRecords = []byte("records")
	// index: blind index tag (16) || record ID (8) → empty. keys.go.
	bucketIndex = []byte("index")
	// audit: sequence number (8) → MAC (32) || the event's JSON. audit.go.
	bucketAudit = []byte("audit")
	// stages: stage number (8) → the bulk add's count (8) || MAC, for an
	// add not yet published. add.go, publish.go.
	bucketStages = []byte("stages")
	// staff: coworker name → their entry's JSON || MAC. staff.go, owner.go.
	bucketStaff = []byte("staff")
	// consents: record ID (8) || consent ID (8) → sealed object. consent.go.
	bucketConsents = []byte("consents")
	// shares: record ID (8) || coworker name → the share's JSON || vault
	// MAC || share-key MAC. share.go.
	bucketShares = []byte("shares")
	// disclosures: record ID (8) || disclosure ID → sealed object.
	// disclose.go.
	bucketDisclosures = []byte("disclosures")
	// staffaudit: sequence number (8) → a coworker's event JSON || MAC with
	// their share key; the one bucket outside the state root. staff.go.
	bucketStaffAudit = []byte("staffaudit")
	// expiry: slot (8) → retain-until, hold flag and entry tag, MAC'd.
	// expiry.go.
	bucketExpiry = []byte("expiry")
	// holds: record ID (8) || sequence number (8) → MAC || sealed hold.
	// hold.go.
	bucketHolds = []byte("holds")
	// directory: slot (8) → head (version, record ID, stage) || nonce ||
	// AES-GCM sealed fields for find and list. directory.go.
	bucketDirectory = []byte("directory")
	// archive: segment (8) || sequence number (8) → an audit entry of a
	// vault a restore replaced; segment || 2^64-1 → the segment's head.
	// restore_reapply.go.
	bucketArchive = []byte("archive")
	// objects: bucket name || 0 || key → the object's element (16), for
	// the guarded buckets. objects.go.
	bucketObjects = []byte("objects")
	// shardroots: bucket name || 0 || shard (1) → the shard's root (32),
	// for the guarded buckets. shards.go.
	bucketShardRoots = []byte("shardroots")
	// lapsing: share key → when it expires (8) || its element || MAC, for
	// the shares an engine deletes by itself (etcd leases). Outside the
	// state root; each entry is MAC'd. lapsing.go.
	bucketLapsing = []byte("lapsing")
	// stagebeats: stage number (8) → when its add last wrote (Unix
	// seconds, 8), on a shared engine: a staged add that beat lately is
	// going on, not interrupted. Outside the state root: an edit can only
	// keep an interrupted add's invisible entries a while longer, or fail
	// an add going on with nothing added. add.go.
	bucketStageBeats = []byte("stagebeats")

	// allBuckets are the buckets Open requires. Those made since the first
	// format (expiry, holds, directory, archive, objects, shardroots) are
	// created when first needed, so older vaults open.
	allBuckets = [][]byte{bucketMeta, bucketIDs, bucketRecords, bucketIndex, bucketAudit, bucketStages,
		bucketStaff, bucketConsents, bucketShares, bucketDisclosures, bucketStaffAudit}
)

// Keys of the meta bucket.
var (
	keyFormat    = []byte("format")
	keyHeader    = []byte("header")
	keyHeaderMAC = []byte("header_mac")
	keyKeys      = []byte("keys")
	keyAuditHead = []byte("audit_head")
)

// recordObjectKey is the key of an object kept under a record in the
// consents, disclosures and shares buckets: the record's ID followed by the
// object's own (a consent's or a disclosure's 8-byte ID, a share's
// coworker name), so that a record's objects are one key range.
func recordObjectKey(id ID, own []byte) []byte { return slices.Concat(id[:], own) }
