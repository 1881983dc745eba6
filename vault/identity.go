package vault

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"filippo.io/age/plugin"
	"golang.org/x/crypto/ssh"
)

// Prompter asks the person at the keyboard for things an identity needs. The
// vault never prompts by itself: the CLI passes one in, and a script passes
// one whose functions return an error that says which flag to use instead.
type Prompter struct {
	// Passphrase asks for the passphrase of the identity file named by
	// label; attempt counts from 1.
	Passphrase func(label string, attempt int) (string, error)
	// Attempts is how many times a wrong passphrase may be retried (1 when
	// there is no terminal).
	Attempts int
	// Plugin is the UI for age plugins (hardware keys): PIN and touch
	// prompts. Nil means plugins cannot ask anything.
	Plugin *plugin.ClientUI
}

// promptError marks an error that came from asking the user (no terminal, a
// cancelled prompt, a plugin failure), so that it is reported as it is and
// never mistaken for tampering.
type promptError struct{ err error }

func (e *promptError) Error() string { return e.err.Error() }
func (e *promptError) Unwrap() error { return e.err }

func isPluginOrPromptErr(err error) bool {
	var p *promptError
	return errors.As(err, &p)
}

// maxIdentityFile bounds what is read of an identity file.
const maxIdentityFile = 1 << 20

// LoadIdentities reads an identity file: a passphrase-protected identity (an
// age file, as `age -p` writes it, holding age keys), a plain age key file
// (X25519, post-quantum hybrid or plugin identities), or an SSH private key
// (ed25519 or RSA, encrypted or not). Nothing is decrypted yet: a passphrase
// is asked for only when an identity is first used, and only once.
func LoadIdentities(path string, p Prompter) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("identity file %s: %w", path, ErrNotFound)
		}
		return nil, fmt.Errorf("identity file: %w", err)
	}
	defer f.Close()
	contents, err := io.ReadAll(io.LimitReader(f, maxIdentityFile+1))
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	if len(contents) > maxIdentityFile {
		return nil, fmt.Errorf("identity file %s: too long to be an identity", path)
	}
	return ParseIdentities(contents, filepath.Base(path), p)
}

// ParseIdentities is LoadIdentities on the contents of a file; label names it
// in prompts and errors.
func ParseIdentities(contents []byte, label string, p Prompter) ([]age.Identity, error) {
	trimmed := bytes.TrimSpace(contents)
	switch {
	case bytes.HasPrefix(contents, []byte("age-encryption.org/")) || bytes.HasPrefix(trimmed, []byte(armor.Header)):
		if bytes.HasPrefix(trimmed, []byte(armor.Header)) {
			b, err := io.ReadAll(armor.NewReader(bytes.NewReader(trimmed)))
			if err != nil {
				return nil, fmt.Errorf("identity file %s: not a valid armored age file", label)
			}
			contents = b
		}
		return []age.Identity{&EncryptedIdentity{contents: contents, label: label, prompt: p}}, nil
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return parseSSHIdentity(trimmed, label, p)
	default:
		return parsePlainIdentities(contents, label, p)
	}
}

func parsePlainIdentities(contents []byte, label string, p Prompter) ([]age.Identity, error) {
	var ids []age.Identity
	sc := bufio.NewScanner(bytes.NewReader(contents))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var id age.Identity
		var err error
		switch {
		case strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-1"):
			id, err = age.ParseHybridIdentity(line)
		case strings.HasPrefix(line, "AGE-SECRET-KEY-1"):
			id, err = age.ParseX25519Identity(line)
		case strings.HasPrefix(line, "AGE-PLUGIN-"):
			var pid *plugin.Identity
			pid, err = plugin.NewIdentity(line, p.Plugin)
			if err == nil {
				id = pluginIdentity{pid}
			}
		case strings.HasPrefix(line, "age1"):
			return nil, fmt.Errorf("identity file %s line %d: holds a public key (recipient), not a private key", label, n)
		default:
			return nil, fmt.Errorf("identity file %s line %d: not an age or SSH private key", label, n)
		}
		if err != nil {
			return nil, fmt.Errorf("identity file %s line %d: malformed key", label, n)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("identity file %s: no keys found", label)
	}
	return ids, nil
}

func parseSSHIdentity(pemBytes []byte, label string, p Prompter) ([]age.Identity, error) {
	id, err := agessh.ParseIdentity(pemBytes)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if missing.PublicKey == nil {
			return nil, fmt.Errorf("identity file %s: an encrypted SSH key without its public key", label)
		}
		ask := func() ([]byte, error) {
			if p.Passphrase == nil {
				return nil, &promptError{errors.New("a passphrase is needed and there is no terminal to ask on")}
			}
			s, err := p.Passphrase(label, 1)
			if err != nil {
				return nil, &promptError{err}
			}
			return []byte(s), nil
		}
		eid, err := agessh.NewEncryptedSSHIdentity(missing.PublicKey, pemBytes, ask)
		if err != nil {
			return nil, fmt.Errorf("identity file %s: %w", label, err)
		}
		return []age.Identity{sshIdentity{eid, missing.PublicKey}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identity file %s: not a supported SSH private key (ed25519 or RSA)", label)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: not a supported SSH private key (ed25519 or RSA)", label)
	}
	return []age.Identity{plainSSHIdentity{id, signer.PublicKey()}}, nil
}

// plainSSHIdentity is an unencrypted SSH key with its public key, which
// agessh does not expose.
type plainSSHIdentity struct {
	age.Identity
	pub ssh.PublicKey
}

// sshRecipient is an SSH public key as an age recipient that prints as the
// authorized_keys line.
type sshRecipient struct {
	age.Recipient
	pub ssh.PublicKey
}

func (r sshRecipient) String() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(r.pub)))
}

func newSSHRecipient(pub ssh.PublicKey) (age.Recipient, error) {
	r, err := agessh.ParseRecipient(strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))))
	if err != nil {
		return nil, err
	}
	return sshRecipient{r, pub}, nil
}

// sshIdentity turns a wrong SSH key passphrase into ErrWrongPassphrase.
type sshIdentity struct {
	*agessh.EncryptedSSHIdentity
	pub ssh.PublicKey
}

func (i sshIdentity) Unwrap(s []*age.Stanza) ([]byte, error) {
	k, err := i.EncryptedSSHIdentity.Unwrap(s)
	if err != nil && !errors.Is(err, age.ErrIncorrectIdentity) && !isPluginOrPromptErr(err) {
		return nil, ErrWrongPassphrase
	}
	return k, err
}

// pluginIdentity marks plugin failures (a missing plugin, a refused PIN) as
// prompt errors, so that they are not taken for tampering.
type pluginIdentity struct{ *plugin.Identity }

func (i pluginIdentity) Unwrap(s []*age.Stanza) ([]byte, error) {
	k, err := i.Identity.Unwrap(s)
	if err != nil && !errors.Is(err, age.ErrIncorrectIdentity) {
		return nil, &promptError{fmt.Errorf("age plugin %s: %w", i.Name(), err)}
	}
	return k, err
}

// EncryptedIdentity is a passphrase-protected identity file: an age file,
// sealed with a passphrase (scrypt), whose plaintext is an age key file. It
// is decrypted on first use, and the passphrase is asked for at most
// Prompter.Attempts times.
type EncryptedIdentity struct {
	contents []byte
	label    string
	prompt   Prompter
	ids      []age.Identity
}

// Unwrap implements age.Identity, decrypting the file on first use.
func (e *EncryptedIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if err := e.unlock(); err != nil {
		return nil, err
	}
	for _, id := range e.ids {
		k, err := id.Unwrap(stanzas)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		return k, err
	}
	return nil, age.ErrIncorrectIdentity
}

// Recipients returns the public keys of the identities in the file.
func (e *EncryptedIdentity) Recipients() ([]age.Recipient, error) {
	if err := e.unlock(); err != nil {
		return nil, err
	}
	return Recipients(e.ids)
}

func (e *EncryptedIdentity) unlock() error {
	if e.ids != nil {
		return nil
	}
	if e.prompt.Passphrase == nil {
		return &promptError{errors.New("the identity is passphrase-protected and there is no terminal to ask on")}
	}
	attempts := max(e.prompt.Attempts, 1)
	for attempt := 1; ; attempt++ {
		pass, err := e.prompt.Passphrase(e.label, attempt)
		if err != nil {
			return &promptError{err}
		}
		plain, err := decryptWithPassphrase(e.contents, pass)
		if errors.Is(err, ErrWrongPassphrase) && attempt < attempts {
			continue
		}
		if err != nil {
			return err
		}
		ids, err := parsePlainIdentities(plain, e.label, e.prompt)
		if err != nil {
			return err
		}
		e.ids = ids
		return nil
	}
}

// decryptWithPassphrase opens an age file sealed with a passphrase.
func decryptWithPassphrase(contents []byte, pass string) ([]byte, error) {
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(contents), id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		if len(noMatch.StanzaTypes) == 1 && noMatch.StanzaTypes[0] == "scrypt" {
			return nil, ErrWrongPassphrase
		}
		return nil, errors.New("identity file is not passphrase-protected")
	}
	if err != nil {
		return nil, fmt.Errorf("identity file is damaged: %w", ErrCorrupt)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("identity file is damaged: %w", ErrCorrupt)
	}
	return b, nil
}

// Recipients returns the public key of each identity that has one.
func Recipients(ids []age.Identity) ([]age.Recipient, error) {
	var rs []age.Recipient
	for _, id := range ids {
		switch id := id.(type) {
		case *age.X25519Identity:
			rs = append(rs, id.Recipient())
		case *age.HybridIdentity:
			rs = append(rs, id.Recipient())
		case plainSSHIdentity:
			r, err := newSSHRecipient(id.pub)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		case sshIdentity:
			r, err := newSSHRecipient(id.pub)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		case pluginIdentity:
			rs = append(rs, id.Recipient())
		case *EncryptedIdentity:
			inner, err := id.Recipients()
			if err != nil {
				return nil, err
			}
			rs = append(rs, inner...)
		default:
			return nil, fmt.Errorf("an identity of type %T has no known public key", id)
		}
	}
	if len(rs) == 0 {
		return nil, errors.New("no identity with a public key")
	}
	return rs, nil
}

// RecipientString is the text form of a recipient (age1…, ssh-ed25519 …).
func RecipientString(r age.Recipient) string {
	if s, ok := r.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", r)
}

// GenerateIdentity returns a fresh X25519 identity.
func GenerateIdentity() (*age.X25519Identity, error) { return age.GenerateX25519Identity() }

// IdentityFileContents is the text of a plain age key file for id, as
// age-keygen writes it.
func IdentityFileContents(id *age.X25519Identity) []byte {
	return fmt.Appendf(nil, "# clientvault identity\n# public key: %s\n%s\n", id.Recipient(), id)
}

// WriteIdentity writes id to path as a plain age key file, or, with a
// passphrase, sealed with it (scrypt at 2^workFactor; 0 means age's
// default). It never overwrites a file: ErrExists if path is taken.
func WriteIdentity(path string, id *age.X25519Identity, passphrase string, workFactor int) error {
	contents := IdentityFileContents(id)
	if passphrase != "" {
		r, err := age.NewScryptRecipient(passphrase)
		if err != nil {
			return err
		}
		if workFactor > 0 {
			r.SetWorkFactor(workFactor)
		}
		if contents, err = encrypt(contents, r); err != nil {
			return err
		}
	}
	return writeNewFile(path, contents)
}

// ChangePassphrase re-seals the passphrase-protected identity file at path
// with a new passphrase, replacing it atomically.
func ChangePassphrase(path, oldPass, newPass string, workFactor int) error {
	contents, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("identity file: %w", err)
	}
	if !bytes.HasPrefix(contents, []byte("age-encryption.org/")) {
		return fmt.Errorf("identity file %s is not passphrase-protected: %w", filepath.Base(path), ErrRefused)
	}
	plain, err := decryptWithPassphrase(contents, oldPass)
	if err != nil {
		return err
	}
	if _, err := parsePlainIdentities(plain, filepath.Base(path), Prompter{}); err != nil {
		return err
	}
	r, err := age.NewScryptRecipient(newPass)
	if err != nil {
		return err
	}
	if workFactor > 0 {
		r.SetWorkFactor(workFactor)
	}
	sealed, err := encrypt(plain, r)
	if err != nil {
		return err
	}
	return replaceFile(path, sealed)
}

// ParseRecipient reads a public key: age1… (X25519 or post-quantum), an SSH
// public key, or an age plugin recipient (age1name1…).
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "ssh-"):
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
		if err != nil {
			return nil, errors.New("not a valid SSH public key")
		}
		return newSSHRecipient(pub)
	case strings.HasPrefix(s, "age1pq1"):
		return age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "age1"):
		if r, err := age.ParseX25519Recipient(s); err == nil {
			return r, nil
		}
		if r, err := plugin.NewRecipient(s, nil); err == nil {
			return r, nil
		}
	}
	return nil, errors.New("not an age or SSH public key")
}
