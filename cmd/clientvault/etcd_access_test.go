package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"

	"github.com/clientvault/clientvault/vault/store/etcdtest"
	"github.com/rogpeppe/go-internal/testscript"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// scriptEtcdTLS (etcdtls) starts an etcd for the script alone, as a salon
// runs one: it takes only clients with a certificate of its CA (in $WORK:
// ca.pem), and its authentication is on, with a root user of certificates
// alone (root.pem, root-key.pem: the owner's). $ETCD_TLS names it
// (etcd://127.0.0.1:PORT); it stops when the script ends.
func scriptEtcdTLS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: etcdtls")
	}
	ca, err := etcdtest.NewCAIn(ts.MkAbs(".etcd-ca"))
	ts.Check(err)
	s, err := etcdtest.StartIn(ts.MkAbs(".etcd"), etcdtest.ClientCertAuth(ca))
	ts.Check(err)
	ts.Defer(s.Stop)
	cli, err := s.DialCert("root")
	ts.Check(err)
	defer cli.Close()
	ctx := context.Background()
	_, err = cli.UserAddWithOptions(ctx, "root", "", &clientv3.UserAddOptions{NoPassword: true})
	ts.Check(err)
	_, err = cli.UserGrantRole(ctx, "root", "root")
	ts.Check(err)
	_, err = cli.AuthEnable(ctx)
	ts.Check(err)
	b, err := os.ReadFile(ca.File)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs("ca.pem"), b, 0o600))
	issue(ts, ca, "root", "root")
	ts.Setenv("ETCD_TLS", "etcd://"+strings.TrimPrefix(s.Endpoint, "https://"))
}

// scriptEtcdCert (etcdcert CN NAME [PREFIX]) issues, with the CA of
// etcdtls, a client certificate whose common name is CN (the etcd user it
// is), as NAME.pem and NAME-key.pem. With PREFIX, it makes the user CN too,
// allowed to read and write the keys under PREFIX and not etcd's root.
func scriptEtcdCert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: etcdcert CN NAME [PREFIX]")
	}
	ca, err := etcdtest.LoadCA(ts.MkAbs(".etcd-ca"))
	ts.Check(err)
	issue(ts, ca, args[0], args[1])
	if len(args) == 3 {
		issue(ts, ca, "root", ".root")
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{strings.TrimPrefix(ts.Getenv("ETCD_TLS"), "etcd://")},
			TLS: tlsOf(ts, ".root"), Logger: zap.NewNop()})
		ts.Check(err)
		defer cli.Close()
		ctx := context.Background()
		user, prefix := args[0], args[2]
		_, err = cli.RoleAdd(ctx, user)
		ts.Check(err)
		_, err = cli.RoleGrantPermission(ctx, user, prefix, clientv3.GetPrefixRangeEnd(prefix), clientv3.PermissionType(clientv3.PermReadWrite))
		ts.Check(err)
		_, err = cli.UserAddWithOptions(ctx, user, "", &clientv3.UserAddOptions{NoPassword: true})
		ts.Check(err)
		_, err = cli.UserGrantRole(ctx, user, user)
		ts.Check(err)
	}
}

// tlsOf is the TLS of a client with the certificate NAME.pem of etcdtls's
// CA.
func tlsOf(ts *testscript.TestScript, name string) *tls.Config {
	pair, err := tls.LoadX509KeyPair(ts.MkAbs(name+".pem"), ts.MkAbs(name+"-key.pem"))
	ts.Check(err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(ts.ReadFile("ca.pem")))
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

func issue(ts *testscript.TestScript, ca *etcdtest.CA, cn, name string) {
	cert, key, err := ca.Issue(cn, false)
	ts.Check(err)
	ts.Check(os.Rename(cert, ts.MkAbs(name+".pem")))
	ts.Check(os.Rename(key, ts.MkAbs(name+"-key.pem")))
}
