package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Grant is a permission of one of an engine's users on keys of a bucket.
type Grant struct {
	Bucket []byte
	// Key is the key granted; with Prefix, every key of the bucket that
	// starts with it (an empty Key with Prefix is the whole bucket).
	Key    []byte
	Prefix bool
	// Write lets the user put and delete the keys too, not only read them.
	Write bool
}

// AccessControl is an engine that enforces, on top of the vault's
// cryptography, which keys each of its users may read and write (etcd's
// role-based access control). A member is one of the vault's users other
// than its owner (a coworker): the engine has one user of its own for
// each, allowed nothing but what it is granted and what every member needs
// to use the engine at all (its own keys: the commit counter, which every
// commit writes, and the bucket markers, which every transaction reads).
// Managing members takes the engine's administrator (etcd's root role):
// anyone else is refused with ErrAccessAdmin.
type AccessControl interface {
	// MemberUser is the engine's name for the user of member: on etcd, the
	// user name that the common name (CN) of the member's client
	// certificate must be. It is scoped to the engine's keys, so that the
	// vaults of one cluster do not share users.
	MemberUser(member string) string
	// AddMember makes member's user, allowed what every member needs and
	// grants. A member made already keeps their grants and gets these.
	AddMember(member string, grants ...Grant) error
	// GrantMember lets member read (or write) more; ErrNoMember if there is
	// no such member.
	GrantMember(member string, grants ...Grant) error
	// RevokeMember takes grants back; one not granted, or a member that is
	// not there, is no error.
	RevokeMember(member string, grants ...Grant) error
	// RemoveMember deletes member's user and all they were granted; a
	// member that is not there is no error.
	RemoveMember(member string) error
	// Enforced reports whether the engine enforces its access control now
	// (etcd: whether its authentication is enabled).
	Enforced() (bool, error)
	// OwnGrants returns what the engine's user that this connection is may
	// read and write, with restricted true; restricted is false, and there
	// are no grants, when the user may read everything (an administrator,
	// an engine that enforces nothing, a connection as no named user).
	OwnGrants() (grants []Grant, restricted bool, err error)
}

var (
	// ErrAccessAdmin is returned by an AccessControl that refuses to
	// manage members to a user who is not the engine's administrator. It
	// is ErrAccessDenied too.
	ErrAccessAdmin = fmt.Errorf("%w: managing the engine's users takes its administrator (etcd's root role)", ErrAccessDenied)
	// ErrNoMember is returned by GrantMember for a member the engine has
	// no user for.
	ErrNoMember = errors.New("store: the engine has no user for that member")
)

// MemberUser is the etcd user name of member: the member's name and the
// vault's prefix, made of lowercase letters, digits and dashes, and a short
// hash of both, which keeps apart two names that read the same here.
func (e *Etcd) MemberUser(member string) string {
	sum := sha256.Sum256([]byte(e.prefix + "\x00" + member))
	return slug(member) + "." + slug(e.prefix) + "." + hex.EncodeToString(sum[:3])
}

// slug is s in lowercase letters, digits and single dashes.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// engineGrants are what every member needs: read of the engine's own keys
// (the bucket markers each transaction starts with, and the commit
// counter), and write of the counter, which every commit compares and
// writes.
func (e *Etcd) engineGrants() []etcdPerm {
	start, end := e.MetaRange()
	return []etcdPerm{{start, end, false}, {e.counter, "", true}}
}

// etcdPerm is a permission of an etcd role: on the key, or on the range
// [key, end), to read, or to read and write.
type etcdPerm struct {
	key, end string
	write    bool
}

// permOf is the etcd permission of g.
func (e *Etcd) permOf(g Grant) etcdPerm {
	start := e.current.Load().bucketPrefix(string(g.Bucket)) + string(g.Key)
	end := ""
	if g.Prefix {
		end = clientv3.GetPrefixRangeEnd(start)
	}
	return etcdPerm{start, end, g.Write}
}

// adminErr maps etcd's refusal of a user's management to ErrAccessAdmin.
func adminErr(err error) error {
	if err == nil {
		return nil
	}
	if isEtcd(err, rpctypes.ErrPermissionDenied) || isEtcd(err, rpctypes.ErrUserEmpty) {
		return fmt.Errorf("%w (%v)", ErrAccessAdmin, err)
	}
	return etcdErr(err)
}

// isEtcd reports whether err is etcd's error target.
func isEtcd(err, target error) bool {
	return errors.Is(err, target) || errors.Is(rpctypes.Error(err), target)
}

// AddMember makes member's etcd role and user of the same name (MemberUser),
// the user without a password, and grants the role what every member needs
// and grants (store.AccessControl).
func (e *Etcd) AddMember(member string, grants ...Grant) error {
	user := e.MemberUser(member)
	ctx, cancel := e.ctx()
	defer cancel()
	_, err := e.cli.RoleAdd(ctx, user)
	if err != nil && !isEtcd(err, rpctypes.ErrRoleAlreadyExist) {
		return adminErr(err)
	}
	// A user of a client certificate alone: etcd takes their name from
	// its common name, and no password opens it.
	_, err = e.cli.UserAddWithOptions(ctx, user, "", &clientv3.UserAddOptions{NoPassword: true})
	if err != nil && !isEtcd(err, rpctypes.ErrUserAlreadyExist) {
		return adminErr(err)
	}
	if _, err := e.cli.UserGrantRole(ctx, user, user); err != nil {
		return adminErr(err)
	}
	for _, p := range e.engineGrants() {
		if err := e.grant(user, p); err != nil {
			return err
		}
	}
	return e.GrantMember(member, grants...)
}

func (e *Etcd) grant(role string, p etcdPerm) error {
	perm := clientv3.PermissionType(clientv3.PermRead)
	if p.write {
		perm = clientv3.PermissionType(clientv3.PermReadWrite)
	}
	ctx, cancel := e.ctx()
	defer cancel()
	_, err := e.cli.RoleGrantPermission(ctx, role, p.key, p.end, perm)
	if isEtcd(err, rpctypes.ErrRoleNotFound) {
		return fmt.Errorf("%w: etcd user %s", ErrNoMember, role)
	}
	return adminErr(err)
}

// GrantMember grants member's role grants; ErrNoMember if it has none.
func (e *Etcd) GrantMember(member string, grants ...Grant) error {
	user := e.MemberUser(member)
	for _, g := range grants {
		if err := e.grant(user, e.permOf(g)); err != nil {
			return err
		}
	}
	return nil
}

// RevokeMember revokes grants from member's role; a grant not there, or no
// role, is no error.
func (e *Etcd) RevokeMember(member string, grants ...Grant) error {
	user := e.MemberUser(member)
	for _, g := range grants {
		p := e.permOf(g)
		ctx, cancel := e.ctx()
		_, err := e.cli.RoleRevokePermission(ctx, user, p.key, p.end)
		cancel()
		switch {
		case isEtcd(err, rpctypes.ErrRoleNotFound):
			return nil
		case isEtcd(err, rpctypes.ErrPermissionNotGranted):
		case err != nil:
			return adminErr(err)
		}
	}
	return nil
}

// RemoveMember deletes member's etcd user and role.
func (e *Etcd) RemoveMember(member string) error {
	user := e.MemberUser(member)
	ctx, cancel := e.ctx()
	defer cancel()
	if _, err := e.cli.UserDelete(ctx, user); err != nil && !isEtcd(err, rpctypes.ErrUserNotFound) {
		return adminErr(err)
	}
	if _, err := e.cli.RoleDelete(ctx, user); err != nil && !isEtcd(err, rpctypes.ErrRoleNotFound) {
		return adminErr(err)
	}
	return nil
}

// Enforced reports whether etcd's authentication is enabled.
func (e *Etcd) Enforced() (bool, error) {
	ctx, cancel := e.ctx()
	defer cancel()
	resp, err := e.cli.AuthStatus(ctx)
	if err != nil {
		return false, etcdErr(err)
	}
	return resp.Enabled, nil
}

// OwnGrants reads the roles of the user the options name (EtcdOptions.User:
// the common name of the client certificate), which etcd lets a user read
// of themselves, and returns their permissions on the vault's buckets.
func (e *Etcd) OwnGrants() ([]Grant, bool, error) {
	if e.o.User == "" {
		return nil, false, nil
	}
	if on, err := e.Enforced(); err != nil || !on {
		return nil, false, err
	}
	// The grants name the keys of the content's generation: which it is,
	// read now (a restore may have moved it).
	if _, err := e.begin(false); err != nil {
		return nil, false, err
	}
	ctx, cancel := e.ctx()
	defer cancel()
	u, err := e.cli.UserGet(ctx, e.o.User)
	if err != nil {
		return nil, false, etcdErr(err)
	}
	var out []Grant
	for _, role := range u.Roles {
		if role == "root" {
			return nil, false, nil
		}
		r, err := e.cli.RoleGet(ctx, role)
		if err != nil {
			return nil, false, etcdErr(err)
		}
		for _, p := range r.Perm {
			if g, ok := e.grantOf(string(p.Key), string(p.RangeEnd), p.PermType == clientv3.PermReadWrite); ok {
				out = append(out, g)
			}
		}
	}
	return out, true, nil
}

// grantOf is the grant of the range [key, end) of etcd's keys, if it is the
// keys of one bucket, or of those of one bucket that start with a prefix.
func (e *Etcd) grantOf(key, end string, write bool) (Grant, bool) {
	rest, ok := strings.CutPrefix(key, e.current.Load().keys)
	if !ok || len(rest) < 1 || len(rest) < 1+int(rest[0]) || rest[0] == 0 {
		return Grant{}, false
	}
	g := Grant{Bucket: []byte(rest[1 : 1+int(rest[0])]), Key: []byte(rest[1+int(rest[0]):]), Write: write}
	switch end {
	case "":
	case clientv3.GetPrefixRangeEnd(key):
		g.Prefix = true
	default:
		return Grant{}, false
	}
	return g, true
}

// EtcdError maps an error of an etcd client to the store's (ErrAccessDenied,
// ErrUnavailable, ...), for the requests made outside an engine.
func EtcdError(err error) error { return etcdErr(err) }

var _ AccessControl = (*Etcd)(nil)
