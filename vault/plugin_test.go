package vault

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// The test binary doubles as an age plugin, "age-plugin-cvtest", standing in
// for a hardware key: it wraps an X25519 key and asks for a PIN every time
// it unwraps, as a token asks for a touch.
func init() {
	if filepath.Base(os.Args[0]) != "age-plugin-cvtest" {
		return
	}
	p, err := plugin.New("cvtest")
	if err != nil {
		os.Exit(1)
	}
	p.HandleRecipient(func(data []byte) (age.Recipient, error) { return age.ParseX25519Recipient(string(data)) })
	p.HandleIdentity(func(data []byte) (age.Identity, error) {
		inner, err := age.ParseX25519Identity(string(data))
		if err != nil {
			return nil, err
		}
		return pinIdentity{inner, p}, nil
	})
	p.RegisterFlags(nil)
	flag.Parse()
	os.Exit(p.Main())
}

type pinIdentity struct {
	inner *age.X25519Identity
	p     *plugin.Plugin
}

func (i pinIdentity) Unwrap(s []*age.Stanza) ([]byte, error) {
	pin, err := i.p.RequestValue("PIN for the test token", true)
	if err != nil {
		return nil, err
	}
	if pin != "1234" {
		return nil, errors.New("wrong PIN")
	}
	return i.inner.Unwrap(s)
}

// A plugin identity (a hardware key) is asked once per command, not once
// per record: it opens the vault key, and the vault key opens the records.
func TestPluginIdentityAsksOncePerCommand(t *testing.T) {
	bin := t.TempDir()
	if err := os.Symlink(os.Args[0], filepath.Join(bin, "age-plugin-cvtest")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	inner, _ := GenerateIdentity()
	keyFile := filepath.Join(t.TempDir(), "token.txt")
	os.WriteFile(keyFile, []byte(plugin.EncodeIdentity("cvtest", []byte(inner.String()))+"\n"), 0o600)
	prompts := 0
	ui := &plugin.ClientUI{
		RequestValue:   func(name, prompt string, secret bool) (string, error) { prompts++; return "1234", nil },
		DisplayMessage: func(name, message string) error { return nil },
		Confirm:        func(name, prompt, yes, no string) (bool, error) { return true, nil },
	}
	ids, err := LoadIdentities(keyFile, Prompter{Plugin: ui})
	if err != nil {
		t.Fatal(err)
	}
	rs := []age.Recipient{mustPluginRecipient(t, inner, ui)}
	path := filepath.Join(t.TempDir(), "v.db")
	if err := Create(path, CreateOptions{Owner: rs, Now: testClock}); err != nil {
		t.Fatal(err)
	}
	v, err := Open(path, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(ids...); err != nil {
		t.Fatal(err)
	}
	tv := &testVault{Vault: v}
	added := tv.add(t, fakeRecord(1), fakeRecord(2), fakeRecord(3))
	for _, id := range added {
		if _, err := v.View(id.String()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.List(); err != nil {
		t.Fatal(err)
	}
	if prompts != 1 {
		t.Errorf("the token was asked %d times in one session, want once", prompts)
	}
}

func mustPluginRecipient(t *testing.T, inner *age.X25519Identity, ui *plugin.ClientUI) age.Recipient {
	t.Helper()
	r, err := plugin.NewRecipient(plugin.EncodeRecipient("cvtest", []byte(inner.Recipient().String())), ui)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
