// Package etcdtest starts an etcd server inside a test's own process, so
// that the tests of the etcd engine, the vault and the CLI run on etcd with
// nothing installed: etcd's embed package, one member on loopback ports, its
// data in the test's temporary directory, its logs silenced, and everything
// closed when the test ends.
//
// A server is ready in 0.05 to 0.1 s (TestStart logs it; etcd's default
// heartbeat and election timeout would make it 0.5 to 1 s), so a test that
// wants a server of its own may have one.
package etcdtest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Option changes the server's configuration before it starts.
type Option func(*embed.Config)

// MaxTxnOps sets the most operations one transaction may have (etcd's
// --max-txn-ops; 128 unless set).
func MaxTxnOps(n uint) Option { return func(c *embed.Config) { c.MaxTxnOps = n } }

// MaxRequestBytes sets the largest request the server takes (etcd's
// --max-request-bytes; 1.5 MiB unless set).
func MaxRequestBytes(n uint) Option { return func(c *embed.Config) { c.MaxRequestBytes = n } }

// QuotaBackendBytes sets the size of the database at which the server
// raises its NOSPACE alarm and refuses writes (etcd's --quota-backend-bytes;
// 2 GiB unless set).
func QuotaBackendBytes(n int64) Option { return func(c *embed.Config) { c.QuotaBackendBytes = n } }

// SnapshotCount sets how many applied changes make the server take a
// snapshot (etcd's --snapshot-count; 10,000 unless set). Only after a
// snapshot may the write-ahead log files before it be removed.
func SnapshotCount(n uint64) Option { return func(c *embed.Config) { c.SnapshotCount = n } }

// MaxWALs sets how many write-ahead log files the server keeps (etcd's
// --max-wals; 5 unless set); older ones are removed once a snapshot covers
// them, at most 30 seconds later.
func MaxWALs(n uint) Option { return func(c *embed.Config) { c.MaxWalFiles = n } }

// Fsync makes the server sync its log and database to disk as a real one
// does; without it (the default here, to keep tests fast) it does not.
func Fsync() Option { return func(c *embed.Config) { c.UnsafeNoFsync = false } }

// Server is a running embedded etcd.
type Server struct {
	Etcd *embed.Etcd
	// Client is a client of the server, closed with it.
	Client *clientv3.Client
	// Endpoint is the server's client URL.
	Endpoint string
	// Dir is the server's data directory (its database is
	// Dir/member/snap/db, its log under Dir/member/wal).
	Dir string
	// Started is how long the server took to be ready.
	Started time.Duration

	stop sync.Once
	// closed is closed once a cluster member that was killed is closed.
	closed chan struct{}
}

// Stop stops the server, as a crash would for its clients: they fail to
// reach it. It is stopped when the test ends if not before.
func (s *Server) Stop() { s.stop.Do(s.Etcd.Close) }

// StartEtcd starts a server for t and returns a client of it; both are
// closed when t ends.
func StartEtcd(t testing.TB, opts ...Option) *clientv3.Client {
	t.Helper()
	return Start(t, opts...).Client
}

// Start starts a server for t; it is closed when t ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := StartIn(t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	t.Cleanup(s.Stop)
	s.Client = s.NewClient(t, "", "")
	return s
}

// StartMain starts a server for a TestMain (which has no testing.TB), with
// its data in a new temporary directory, and a client of it; stop stops
// both and removes the directory.
func StartMain(opts ...Option) (s *Server, stop func(), err error) {
	dir, err := os.MkdirTemp("", "etcdtest-*")
	if err != nil {
		return nil, nil, err
	}
	if s, err = StartIn(dir, opts...); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	if s.Client, err = s.Dial("", ""); err != nil {
		s.Stop()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return s, func() {
		s.Client.Close()
		s.Stop()
		os.RemoveAll(dir)
	}, nil
}

// StartIn starts a server with its data in dir, for a TestMain (which has
// no testing.TB): the caller stops it. Its Client is nil: make one with
// Dial.
func StartIn(dir string, opts ...Option) (*Server, error) {
	var (
		e   *embed.Etcd
		cfg *embed.Config
		err error
	)
	start := time.Now()
	// The ports are free when asked for and taken a moment later; another
	// process may take one in between, and then the start is tried again.
	for range 5 {
		if cfg, err = config(dir, opts); err != nil {
			return nil, err
		}
		e, err = embed.StartEtcd(cfg)
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("starting etcd: %w", err)
	}
	s := &Server{Etcd: e, Endpoint: cfg.AdvertiseClientUrls[0].String(), Dir: dir}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		s.Stop()
		return nil, fmt.Errorf("etcd failed to start: %w", err)
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, errors.New("etcd was not ready in 30 s")
	}
	s.Started = time.Since(start)
	return s, nil
}

// Dial returns a new client of the server, as user with password if user
// is not empty; the caller closes it.
func (s *Server) Dial(user, password string) (*clientv3.Client, error) {
	if s.Etcd.Config().ClientTLSInfo.ClientCertAuth && user == "" {
		// A server that takes only certificates: its own client is etcd's
		// root user.
		return s.DialCert("root")
	}
	return dial([]string{s.Endpoint}, s.Etcd.Config().MaxRequestBytes, user, password)
}

// dial returns a client of the endpoints of servers that take requests of
// maxRequest bytes.
func dial(endpoints []string, maxRequest uint, user, password string) (*clientv3.Client, error) {
	return newClient(clientv3.Config{Endpoints: endpoints, Username: user, Password: password}, maxRequest)
}

// dialTLS returns a client of the endpoints over TLS, as the user the
// certificate of tc names.
func dialTLS(endpoints []string, maxRequest uint, tc *tls.Config) (*clientv3.Client, error) {
	return newClient(clientv3.Config{Endpoints: endpoints, TLS: tc}, maxRequest)
}

func newClient(c clientv3.Config, maxRequest uint) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		TLS:         c.TLS,
		Endpoints:   c.Endpoints,
		DialTimeout: 5 * time.Second,
		Username:    c.Username,
		Password:    c.Password,
		Logger:      zap.NewNop(),
		// The client sends requests as large as the server takes
		// (clientv3's own limit is 2 MiB).
		MaxCallSendMsgSize: max(2<<20, int(maxRequest)+64<<10),
	})
}

// NewClient returns another client of the server, as user with password
// if user is not empty (for a server with authentication on); it is closed
// when t ends.
func (s *Server) NewClient(t testing.TB, user, password string) *clientv3.Client {
	t.Helper()
	cli, err := s.Dial(user, password)
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// config is the configuration of a one-member server in dir on two free
// loopback ports, with opts applied.
func config(dir string, opts []Option) (*embed.Config, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	cfg := memberConfig("etcdtest", dir, ports[0], ports[1])
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// A one-member cluster elects itself at its first election timeout:
	// short ticks make it ready sooner.
	cfg.TickMs, cfg.ElectionMs = 10, 100
	for _, o := range opts {
		o(cfg)
	}
	return cfg, nil
}

// memberConfig is the configuration of a member named name with its data
// in dir, serving clients on the loopback address client and its peers on
// peer, silent and without fsync.
func memberConfig(name, dir, client, peer string) *embed.Config {
	cu := url.URL{Scheme: "http", Host: client}
	pu := url.URL{Scheme: "http", Host: peer}
	cfg := embed.NewConfig()
	cfg.Name = name
	cfg.Dir = dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.EnableGRPCGateway = false
	cfg.UnsafeNoFsync = true
	// Users' passwords hashed at bcrypt's least cost: authentication in a
	// test takes no time.
	cfg.BcryptCost = 4
	return cfg
}

// freePorts returns n loopback addresses whose ports are free now.
func freePorts(n int) ([]string, error) {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("a free port: %w", err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}
