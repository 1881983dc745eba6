package etcdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
)

// CA is a certificate authority of a test, in a directory of its own: its
// certificate (CA.File) and key, and the certificates it issues. A server
// started with ClientCertAuth serves TLS with a certificate of it and takes
// only clients whose certificates it issued; with etcd's authentication
// on, such a client is the etcd user its certificate's common name (CN)
// names.
type CA struct {
	Dir  string
	File string // the CA's certificate, PEM
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a CA in a temporary directory of t.
func NewCA(t testing.TB) *CA {
	t.Helper()
	ca, err := NewCAIn(t.TempDir())
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	return ca
}

// NewCAIn makes a CA in dir, for a caller that has no testing.TB (a
// script's command).
func NewCAIn(dir string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "etcdtest CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &CA{Dir: dir, File: filepath.Join(dir, "ca.pem"), cert: cert, key: key}
	if err := writePEM(ca.File, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return ca, writePEM(filepath.Join(dir, "ca-key.pem"), "PRIVATE KEY", kb)
}

// LoadCA reads the CA that NewCA or NewCAIn made in dir back.
func LoadCA(dir string) (*CA, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		p, _ := pem.Decode(b)
		if p == nil {
			return nil, fmt.Errorf("%s: no PEM block", name)
		}
		return p.Bytes, nil
	}
	cb, err := read("ca.pem")
	if err != nil {
		return nil, err
	}
	kb, err := read("ca-key.pem")
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(cb)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("ca-key.pem: not an ECDSA key")
	}
	return &CA{Dir: dir, File: filepath.Join(dir, "ca.pem"), cert: cert, key: key}, nil
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

// Issue issues a certificate for cn, a client's (its CN is the etcd user
// it is) or, with server, the server's (for 127.0.0.1 and localhost), and
// returns the files of the certificate and of its key.
func (ca *CA) Issue(cn string, server bool) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return "", "", err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	base := filepath.Join(ca.Dir, fmt.Sprintf("%x", serial))
	certFile, keyFile = base+".pem", base+"-key.pem"
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	return certFile, keyFile, writePEM(keyFile, "PRIVATE KEY", kb)
}

// TLSConfig is the TLS of a client whose certificate names cn.
func (ca *CA) TLSConfig(cn string) (*tls.Config, error) {
	certFile, keyFile, err := ca.Issue(cn, false)
	if err != nil {
		return nil, err
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// ClientCertAuth makes the server serve its clients over TLS, with a
// certificate of ca, and take only clients with a certificate of ca (etcd's
// --client-cert-auth).
func ClientCertAuth(ca *CA) Option {
	return func(c *embed.Config) {
		certFile, keyFile, err := ca.Issue("127.0.0.1", true)
		if err != nil {
			panic(fmt.Sprintf("etcdtest: the server's certificate: %v", err))
		}
		for i := range c.ListenClientUrls {
			c.ListenClientUrls[i].Scheme = "https"
		}
		for i := range c.AdvertiseClientUrls {
			c.AdvertiseClientUrls[i].Scheme = "https"
		}
		c.ClientTLSInfo.CertFile, c.ClientTLSInfo.KeyFile = certFile, keyFile
		c.ClientTLSInfo.TrustedCAFile = ca.File
		c.ClientTLSInfo.ClientCertAuth = true
	}
}

// DialCert returns a new client of a server started with ClientCertAuth,
// whose certificate names cn (the etcd user it is); the caller closes it.
func (s *Server) DialCert(cn string) (*clientv3.Client, error) {
	info := s.Etcd.Config().ClientTLSInfo
	if !info.ClientCertAuth {
		return nil, errors.New("etcdtest: the server takes no client certificates")
	}
	ca, err := LoadCA(filepath.Dir(info.TrustedCAFile))
	if err != nil {
		return nil, err
	}
	tc, err := ca.TLSConfig(cn)
	if err != nil {
		return nil, err
	}
	return dialTLS([]string{s.Endpoint}, s.Etcd.Config().MaxRequestBytes, tc)
}

// NewCertClient is DialCert, closed when t ends.
func (s *Server) NewCertClient(t testing.TB, cn string) *clientv3.Client {
	t.Helper()
	cli, err := s.DialCert(cn)
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
