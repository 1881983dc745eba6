package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clientvault/clientvault/vault"
	"github.com/clientvault/clientvault/vault/store"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// A vault is a file, or a prefix of keys on an etcd cluster, named by a URL:
//
//	etcd://HOST:2379[,HOST:2379...]/PREFIX
//
// TLS is on by default: the cluster's CA (--ca, or the system's), and the
// client certificate and key (--cert, --key) that etcd checks. Only a
// cluster on this computer's loopback address may be reached without TLS,
// with ?tls=off (a test, or a cluster reached through an SSH tunnel).
//
// The vault's location and TLS files can be named once in the config file
// (vaultConfigPath): {"vault": "etcd://...", "ca": "...", "cert": "...",
// "key": "..."}; a flag or CLIENTVAULT_VAULT wins over it.

// etcdScheme starts the URL of a vault on etcd.
const etcdScheme = "etcd://"

// engineTimeout is how long a command waits for the cluster to answer one
// request before it gives up with store.ErrUnavailable (exit 17).
const engineTimeout = 5 * time.Second

// isRemote reports whether loc names a vault on etcd, not a file.
func isRemote(loc string) bool { return strings.HasPrefix(loc, etcdScheme) }

// vaultConfig is the config file that names the vault once.
type vaultConfig struct {
	Vault string `json:"vault"`
	CA    string `json:"ca,omitempty"`
	Cert  string `json:"cert,omitempty"`
	Key   string `json:"key,omitempty"`
}

func vaultConfigPath(a *App) string { return filepath.Join(configDir(a), "clientvault", "config.json") }

// config reads the config file, once; a missing one is an empty config.
func (a *App) config() (*vaultConfig, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	c := &vaultConfig{}
	b, err := os.ReadFile(vaultConfigPath(a))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, c); err != nil {
			return nil, usagef("%s: not a clientvault config (%v)", vaultConfigPath(a), err)
		}
	}
	a.cfg = c
	return c, nil
}

// etcdTarget is a parsed etcd vault URL.
type etcdTarget struct {
	endpoints []string
	prefix    string
	plain     bool // ?tls=off, loopback only
	// maxOps and maxBytes are the cluster's --max-txn-ops and
	// --max-request-bytes, when set above etcd's defaults
	// (?max-txn-ops=N&max-request-bytes=N): bulk writes then commit in
	// fewer, larger transactions.
	maxOps, maxBytes int
}

// parseEtcdURL parses etcd://HOST:PORT[,HOST:PORT]/PREFIX[?tls=off].
func parseEtcdURL(loc string) (*etcdTarget, error) {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return nil, badURL("%s: not an etcd vault URL (etcd://HOST:2379/PREFIX)", loc)
	}
	t := &etcdTarget{prefix: strings.Trim(u.Path, "/")}
	if t.prefix == "" {
		t.prefix = "clientvault"
	}
	t.prefix = "/" + t.prefix + "/"
	for _, h := range strings.Split(u.Host, ",") {
		host, _, err := net.SplitHostPort(h)
		if err != nil {
			return nil, badURL("%s: the host %q needs a port (etcd listens on 2379)", loc, h)
		}
		ip := net.ParseIP(host)
		local := host == "localhost" || ip != nil && ip.IsLoopback()
		switch u.Query().Get("tls") {
		case "", "on":
		case "off":
			if !local {
				return nil, badURL("%s: tls=off is refused for a cluster on another computer: client records would cross the network readable by anyone on the way to etcd's access control (use --ca, --cert, --key)", loc)
			}
			t.plain = true
		default:
			return nil, badURL("%s: tls must be on or off", loc)
		}
		t.endpoints = append(t.endpoints, h)
	}
	for name, dst := range map[string]*int{"max-txn-ops": &t.maxOps, "max-request-bytes": &t.maxBytes} {
		if q := u.Query().Get(name); q != "" {
			n, err := strconv.Atoi(q)
			if err != nil || n < 1 {
				return nil, badURL("%s: %s must be a positive number", loc, name)
			}
			*dst = n
		}
	}
	return t, nil
}

// badURL is a mistake in an etcd vault's URL, with a hint that says how one
// is written.
func badURL(format string, args ...any) error {
	return withHint(usagef(format, args...),
		"an etcd vault is named etcd://HOST:2379[,HOST:2379...]/PREFIX, with ?tls=off only for this computer's own etcd (README: A salon on several computers)")
}

// readPEM reads a PEM file named by flag; a missing one is not found (exit 3).
func readPEM(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s %s: no such file: %w", flag, path, vault.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return b, nil
}

// tlsConfig builds the TLS of a connection to etcd from --ca, --cert and
// --key, or the config file.
func (a *App) tlsConfig() (*tls.Config, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	pick := func(flag, env, conf string) string {
		if flag != "" {
			return flag
		}
		if v := a.Getenv(env); v != "" {
			return v
		}
		return conf
	}
	ca, cert, key := pick(a.etcdCA, "CLIENTVAULT_CA", cfg.CA), pick(a.etcdCert, "CLIENTVAULT_CERT", cfg.Cert), pick(a.etcdKey, "CLIENTVAULT_KEY", cfg.Key)
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := readPEM("--ca", ca)
		if err != nil {
			return nil, err
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, usagef("--ca %s: no PEM certificate in it", ca)
		}
	}
	if (cert == "") != (key == "") {
		return nil, usagef("--cert and --key go together")
	}
	if cert != "" {
		certPEM, err := readPEM("--cert", cert)
		if err != nil {
			return nil, err
		}
		keyPEM, err := readPEM("--key", key)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, usagef("--cert/--key: %v", err)
		}
		t.Certificates = []tls.Certificate{pair}
	}
	return t, nil
}

// dialEngine connects to the etcd vault at loc.
func (a *App) dialEngine(loc string) (store.Engine, error) {
	t, err := parseEtcdURL(loc)
	if err != nil {
		return nil, err
	}
	cc := clientv3.Config{Endpoints: t.endpoints, DialTimeout: engineTimeout, Logger: zap.NewNop(),
		// clientv3 sends at most 2 MiB unless told: as much as the
		// cluster takes, when the URL says it takes more.
		MaxCallSendMsgSize: max(2<<20, t.maxBytes+64<<10)}
	if !t.plain {
		if cc.TLS, err = a.tlsConfig(); err != nil {
			return nil, err
		}
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("vault %s: %v: %w", loc, err, store.ErrUnavailable)
	}
	// Fail early and clearly when no member answers.
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	if _, err := cli.Get(ctx, t.prefix+"c"); err != nil {
		cli.Close()
		if errors.Is(store.EtcdError(err), store.ErrAccessDenied) {
			// A certificate whose user etcd does not know (a coworker
			// removed) or that may not read the vault.
			return nil, fmt.Errorf("vault %s: etcd refused this connection (%v): %w", loc, err, store.ErrAccessDenied)
		}
		return nil, fmt.Errorf("vault %s: no etcd member answered (%v): %w", loc, err, store.ErrUnavailable)
	}
	e, err := store.NewEtcd(cli, t.prefix, store.EtcdOptions{RequestTimeout: engineTimeout, CloseClient: true,
		MaxTxnOps: t.maxOps, MaxRequestBytes: t.maxBytes, User: certUser(cc.TLS)})
	if err != nil {
		cli.Close()
		return nil, err
	}
	return e, nil
}

// certUser is the etcd user a client certificate makes its client: its
// common name (CN); "" without a certificate.
func certUser(t *tls.Config) string {
	if t == nil || len(t.Certificates) == 0 || len(t.Certificates[0].Certificate) == 0 {
		return ""
	}
	c, err := x509.ParseCertificate(t.Certificates[0].Certificate[0])
	if err != nil {
		return ""
	}
	return c.Subject.CommonName
}

// openVault opens the vault at loc: a file, or an etcd vault.
func (a *App) openVault(loc string, o vault.Options) (*vault.Vault, error) {
	if _, err := a.config(); err != nil {
		return nil, err // a config file that does not parse is not silently passed by
	}
	if !isRemote(loc) {
		return vault.Open(loc, o)
	}
	e, err := a.dialEngine(loc)
	if err != nil {
		return nil, err
	}
	v, err := vault.OpenEngine(e, loc, o)
	if err != nil {
		e.Close()
	}
	return v, err
}

// createVault creates the vault at loc: a file, or an etcd vault.
func (a *App) createVault(loc string, o vault.CreateOptions) error {
	if _, err := a.config(); err != nil {
		return err
	}
	if !isRemote(loc) {
		return vault.Create(loc, o)
	}
	e, err := a.dialEngine(loc)
	if err != nil {
		return err
	}
	defer e.Close()
	return vault.CreateIn(e, loc, o)
}
