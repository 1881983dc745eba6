package etcdtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
)

// Cluster is a cluster of embedded members in the test's process, each on
// two loopback ports of its own with its own data directory, for the tests
// of what a salon's three-member cluster does when a member, or all of
// them, go away.
//
// Members are killed as etcd's own integration tests stop theirs
// (tests/framework/integration: Member.Stop): the connections of its
// clients are cut, then the server is stopped hard, with no handing over of
// leadership (EtcdServer.HardStop), and its listeners closed
// (embed.Etcd.Close). Clients reach a member through a bridge, as those
// tests' do: the connections a member's gRPC server has open are out of
// reach of embed, and a member stopped hard while a client still reaches
// it serves a read from its closed database, a nil dereference that takes
// the test's process down. Its data directory stays, and Restart starts it
// again from there on the same ports.
type Cluster struct {
	specs   []memberSpec
	opts    []Option
	token   string
	initial string // etcd's --initial-cluster

	mu      sync.Mutex
	members []*Server
	bridges []*bridge
	running []bool
}

// memberSpec is what a member is started with, the first time and again:
// the addresses it serves its clients and its peers on, and that of its
// bridge, which its clients dial.
type memberSpec struct {
	name, dir, client, bridge, peer string
}

// Cluster members have longer ticks than a one-member server: three members
// in one process of a busy machine, with the vault sealing on every core,
// must not see their leader as gone at every pause, and a real election (a
// member killed) still takes well under a second.
const clusterTickMs, clusterElectionMs = 20, 400

// StartCluster starts a cluster of n members for t, in t's temporary
// directory, and waits until every member is ready; they are stopped when
// t ends.
func StartCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("etcdtest: a cluster of %d members", n)
	}
	dir := t.TempDir()
	var (
		c   *Cluster
		err error
	)
	// As for Start: a port taken between freePorts and the start.
	for try := range 5 {
		c, err = startCluster(filepath.Join(dir, fmt.Sprint(try)), n, opts)
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

func startCluster(dir string, n int, opts []Option) (*Cluster, error) {
	ports, err := freePorts(3 * n)
	if err != nil {
		return nil, err
	}
	var token [8]byte
	rand.Read(token[:])
	c := &Cluster{opts: opts, token: "etcdtest-" + hex.EncodeToString(token[:]),
		members: make([]*Server, n), bridges: make([]*bridge, n), running: make([]bool, n)}
	var initial []string
	for i := range n {
		s := memberSpec{name: fmt.Sprintf("m%d", i), client: ports[3*i], bridge: ports[3*i+1], peer: ports[3*i+2]}
		s.dir = filepath.Join(dir, s.name)
		c.specs = append(c.specs, s)
		initial = append(initial, s.name+"=http://"+s.peer)
	}
	c.initial = strings.Join(initial, ",")
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	if err := c.start(all); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// start starts the members given, and waits until each is ready (which a
// member is once a quorum of the cluster is up).
func (c *Cluster) start(members []int) error {
	begin := time.Now()
	for _, i := range members {
		c.waitClosed(i) // its ports
		cfg := c.config(i)
		e, err := embed.StartEtcd(cfg)
		if err != nil {
			return fmt.Errorf("starting member %s: %w", c.specs[i].name, err)
		}
		b, err := newBridge(c.specs[i].bridge, c.specs[i].client)
		if err != nil {
			e.Close()
			return fmt.Errorf("the bridge of member %s: %w", c.specs[i].name, err)
		}
		c.mu.Lock()
		c.members[i] = &Server{Etcd: e, Endpoint: cfg.AdvertiseClientUrls[0].String(), Dir: c.specs[i].dir}
		c.bridges[i] = b
		c.running[i] = true
		c.mu.Unlock()
	}
	for _, i := range members {
		s := c.Member(i)
		select {
		case <-s.Etcd.Server.ReadyNotify():
		case err := <-s.Etcd.Err():
			return fmt.Errorf("member %s failed to start: %w", c.specs[i].name, err)
		case <-time.After(30 * time.Second):
			return fmt.Errorf("member %s was not ready in 30 s", c.specs[i].name)
		}
		s.Started = time.Since(begin)
	}
	return nil
}

// config is member i's configuration.
func (c *Cluster) config(i int) *embed.Config {
	s := c.specs[i]
	cfg := memberConfig(s.name, s.dir, s.client, s.peer)
	// Its clients, and the engine's Compact (which defragments each member
	// at the URL the cluster lists), go through the bridge.
	cfg.AdvertiseClientUrls = []url.URL{{Scheme: "http", Host: s.bridge}}
	cfg.InitialCluster, cfg.InitialClusterToken = c.initial, c.token
	cfg.ClusterState = embed.ClusterStateFlagNew // ignored on a restart: the member's log says
	cfg.TickMs, cfg.ElectionMs = clusterTickMs, clusterElectionMs
	for _, o := range c.opts {
		o(cfg)
	}
	return cfg
}

// Size is the number of members, running or not.
func (c *Cluster) Size() int { return len(c.specs) }

// Member returns member i as last started (it may have been killed since).
func (c *Cluster) Member(i int) *Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[i]
}

// Endpoints returns the client URLs of every member, running or not.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, s := range c.specs {
		eps = append(eps, "http://"+s.bridge)
	}
	return eps
}

// Dial returns a new client of every member; the caller closes it.
func (c *Cluster) Dial() (*clientv3.Client, error) {
	return dial(c.Endpoints(), c.config(0).MaxRequestBytes, "", "")
}

// Client returns a new client of every member, closed when t ends.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := c.Dial()
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Kill stops member i abruptly, as a crash would for its clients and its
// peers: no leadership is handed over, and requests in flight to it fail.
// Its data directory stays. Killing a member that is not running does
// nothing.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	s, b, running := c.members[i], c.bridges[i], c.running[i]
	c.running[i] = false
	c.mu.Unlock()
	if s == nil || !running {
		return
	}
	s.stop.Do(func() {
		b.Close()
		s.Etcd.Server.HardStop()
		// Close takes a second, most of it waiting for the peers'
		// connections to the member to go idle, which they never do: it
		// goes on while the test does.
		s.closed = make(chan struct{})
		go func() {
			defer close(s.closed)
			s.Etcd.Close()
		}()
	})
}

// Stop kills every member that runs, and waits until they are closed.
func (c *Cluster) Stop() {
	for i := range c.members {
		c.Kill(i)
	}
	for i := range c.members {
		c.waitClosed(i)
	}
}

// waitClosed waits until the last run of member i is closed.
func (c *Cluster) waitClosed(i int) {
	if s := c.Member(i); s != nil && s.closed != nil {
		<-s.closed
	}
}

// Running reports whether member i runs.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running[i]
}

// Restart starts the members given (every member that does not run, if
// none is given) again from their data directories, on their ports, and
// waits until they are ready.
func (c *Cluster) Restart(members ...int) error {
	if len(members) == 0 {
		for i := range c.specs {
			if !c.Running(i) {
				members = append(members, i)
			}
		}
	}
	for _, i := range members {
		if c.Running(i) {
			return fmt.Errorf("etcdtest: member %s runs", c.specs[i].name)
		}
	}
	return c.start(members)
}

// Leader returns the index of the member that the running members take for
// their leader, or -1 if they have none or it does not run.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.members {
		if !c.running[i] {
			continue
		}
		lead := s.Etcd.Server.Leader()
		for j, m := range c.members {
			if c.running[j] && m.Etcd.Server.MemberID() == lead {
				return j
			}
		}
	}
	return -1
}

// WaitLeader waits until the running members have a leader that runs, and
// returns its index; it fails t after 10 s.
func (c *Cluster) WaitLeader(t testing.TB) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if l := c.Leader(); l >= 0 {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatal("etcdtest: the cluster has no leader after 10 s")
		}
		time.Sleep(clusterTickMs * time.Millisecond)
	}
}

// bridge passes the connections made to one address on to another, and
// cuts them all at once when closed.
type bridge struct {
	l  net.Listener
	to string

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

func newBridge(addr, to string) (*bridge, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b := &bridge{l: l, to: to, conns: map[net.Conn]bool{}}
	b.wg.Add(1)
	go b.serve()
	return b, nil
}

func (b *bridge) serve() {
	defer b.wg.Done()
	for {
		in, err := b.l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", b.to)
		if err != nil {
			in.Close()
			continue
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		b.conns[in], b.conns[out] = true, true
		b.wg.Add(2)
		b.mu.Unlock()
		go b.pipe(in, out)
		go b.pipe(out, in)
	}
}

// pipe copies from src to dst until either ends, and closes both.
func (b *bridge) pipe(dst, src net.Conn) {
	defer b.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	b.mu.Lock()
	delete(b.conns, dst)
	delete(b.conns, src)
	b.mu.Unlock()
}

// Close stops taking connections and cuts those it passes on.
func (b *bridge) Close() {
	b.l.Close()
	b.mu.Lock()
	b.closed = true
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}
