//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The tests in this file drive the real clientvault binary on a
// pseudo-terminal, as a person at the keyboard would: they type into the
// forms and the passphrase prompts and read what the terminal shows.
//
// The binary is the clientvault command that TestMain puts on PATH: this
// test binary run as clientvault (testCommand), whose identities use a low
// scrypt work factor so that each unlock costs milliseconds.

// clientvaultBinary returns the path of the clientvault command.
func clientvaultBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("clientvault")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testTimeout bounds each pseudo-terminal test: a hang fails it.
const testTimeout = 20 * time.Second

// ptyEnv is a person's machine with nothing on it yet: a home directory whose
// data and config directories are empty.
type ptyEnv struct {
	t    *testing.T
	home string
	env  []string
	// vault is where the machine's vault is on etcd, named in its config
	// file (nameVaultInConfig); "" on the file engine.
	vault string
}

func newPtyEnv(t *testing.T) *ptyEnv {
	home := t.TempDir()
	vault, err := nameVaultInConfig(filepath.Join(home, "config"))
	if err != nil {
		t.Fatal(err)
	}
	return &ptyEnv{t: t, home: home, vault: vault, env: []string{
		"HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"PATH=" + os.Getenv("PATH"),
		"TERM=xterm-256color",
		"LANG=C.UTF-8",
	}}
}

// vaultPath is where the machine's vault is: the file in its data
// directory, or on etcd the URL in its config file.
func (e *ptyEnv) vaultPath() string {
	if e.vault != "" {
		return e.vault
	}
	return filepath.Join(e.home, "data", "clientvault", "vault.db")
}

// run runs the binary without a terminal and returns its stdout; it fails the
// test on a non-zero exit.
func (e *ptyEnv) run(args ...string) string {
	e.t.Helper()
	out, code, stderr := e.runCode(args...)
	if code != 0 {
		e.t.Fatalf("clientvault %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return out
}

func (e *ptyEnv) runCode(args ...string) (stdout string, code int, stderr string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientvaultBinary(e.t), args...)
	cmd.Env = e.env
	// A new session has no controlling terminal: the command cannot ask on
	// /dev/tty (the developer's terminal), as in a cron job.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var o, er bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &er
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		e.t.Fatal(err)
	}
	return o.String(), code, er.String()
}

// console is a running command on a pseudo-terminal, with an expect-like
// reader of what it shows.
type console struct {
	t      *testing.T
	cmd    *exec.Cmd
	pty    *os.File
	mu     sync.Mutex
	raw    []byte // everything the terminal received
	seen   int    // how much of the plain text expect has consumed
	update chan struct{}
	exited chan struct{}
	code   int
}

// start runs the binary on a new pseudo-terminal: stdin, stdout and stderr
// are all the terminal, as in a shell.
func (e *ptyEnv) start(args ...string) *console {
	return e.startEnv(nil, args...)
}

func (e *ptyEnv) startEnv(extra []string, args ...string) *console {
	e.t.Helper()
	cmd := exec.Command(clientvaultBinary(e.t), args...)
	cmd.Env = append(append([]string{}, e.env...), extra...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 120})
	if err != nil {
		e.t.Fatal(err)
	}
	c := &console{t: e.t, cmd: cmd, pty: f, update: make(chan struct{}, 1), exited: make(chan struct{})}
	go c.readLoop()
	go func() {
		err := cmd.Wait()
		c.code = cmd.ProcessState.ExitCode()
		if err != nil && c.code == 0 {
			c.code = -1
		}
		close(c.exited)
	}()
	e.t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			cmd.Process.Kill()
			<-c.exited
		}
		f.Close()
	})
	return c
}

// terminalQueries are the questions a terminal program asks its terminal,
// with the answers a dark xterm would give; answering them keeps the
// programs from waiting for a reply that a bare pseudo-terminal never sends.
var terminalQueries = []struct{ ask, answer string }{
	{"\x1b]11;?\x1b\\", "\x1b]11;rgb:0000/0000/0000\x1b\\"},
	{"\x1b]11;?\x07", "\x1b]11;rgb:0000/0000/0000\x07"},
	{"\x1b]10;?\x1b\\", "\x1b]10;rgb:ffff/ffff/ffff\x1b\\"},
	{"\x1b[6n", "\x1b[1;1R"},
	{"\x1b[c", "\x1b[?62;22c"},
}

func (c *console) readLoop() {
	buf := make([]byte, 4096)
	for {
		n, err := c.pty.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			for _, q := range terminalQueries {
				for range bytes.Count(chunk, []byte(q.ask)) {
					c.pty.WriteString(q.answer)
				}
			}
			c.mu.Lock()
			c.raw = append(c.raw, chunk...)
			c.mu.Unlock()
			select {
			case c.update <- struct{}{}:
			default:
			}
		}
		if err != nil {
			close(c.update)
			return
		}
	}
}

// ansi matches terminal control sequences: CSI, OSC, and two-byte escapes.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?<>=!]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMNOZc]`)

// stripANSI returns what a person would read: the text without control
// sequences and carriage returns.
func stripANSI(b []byte) string {
	s := ansi.ReplaceAllString(string(b), "")
	return strings.ReplaceAll(s, "\r", "")
}

func (c *console) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return stripANSI(c.raw)
}

// expect waits until the terminal shows want after what earlier expects
// consumed, and consumes up to its end.
func (c *console) expect(want string) {
	c.t.Helper()
	deadline := time.After(testTimeout)
	for {
		s := c.text()
		if i := strings.Index(s[min(c.seen, len(s)):], want); i >= 0 {
			c.seen += i + len(want)
			return
		}
		select {
		case _, ok := <-c.update:
			if !ok {
				// The terminal closed: one last look, then fail.
				s := c.text()
				if i := strings.Index(s[min(c.seen, len(s)):], want); i >= 0 {
					c.seen += i + len(want)
					return
				}
				c.t.Fatalf("terminal closed before %q appeared; it showed:\n%s", want, tail(s[min(c.seen, len(s)):]))
			}
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("timed out waiting for %q; the terminal showed:\n%s", want, tail(c.text()[min(c.seen, len(c.text())):]))
		}
	}
}

// field waits until the form focuses the field titled title (huh marks it
// with a bar), then types text and Enter. Waiting matters: a form moves the
// focus asynchronously, and keys typed before it moves land in the field
// before.
func (c *console) field(title, text string) {
	c.t.Helper()
	c.expect("┃ " + title)
	c.typeLine(text)
}

// expectNoMore checks that want is in what the terminal showed after the
// last expect, once the command has exited.
func (c *console) expectNoMore(want string) {
	c.t.Helper()
	s := c.text()
	if !strings.Contains(s[min(c.seen, len(s)):], want) {
		c.t.Errorf("the terminal did not show %q; it showed:\n%s", want, tail(s[min(c.seen, len(s)):]))
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// send types s on the keyboard.
func (c *console) send(s string) {
	c.t.Helper()
	if _, err := c.pty.WriteString(s); err != nil {
		c.t.Fatalf("typing: %v", err)
	}
}

// typeLine types s and Enter, a key at a time apart so that a form sees each
// key as a person's.
func (c *console) typeLine(s string) {
	c.t.Helper()
	c.send(s)
	time.Sleep(30 * time.Millisecond)
	c.send("\r")
	time.Sleep(60 * time.Millisecond)
}

// typeSecret types s and Enter at a passphrase prompt, once the terminal no
// longer echoes: the prompt is written just before echo is turned off
// (term.ReadPassword), and a person types after reading it.
func (c *console) typeSecret(s string) {
	c.t.Helper()
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(5 * time.Millisecond) {
		if echo, err := terminalEchoes(c.pty); err != nil || !echo {
			break // not known here (not Linux), or off
		}
	}
	c.typeLine(s)
}

// Keys as a terminal sends them.
const (
	keyEnter     = "\r"
	keyDown      = "\x1b[B"
	keyBackspace = "\x7f"
	keyCtrlC     = "\x03"
)

// wait waits for the command to exit and returns its exit code.
func (c *console) wait() int {
	c.t.Helper()
	select {
	case <-c.exited:
		// Drain what is left on the terminal.
		for range c.update {
		}
		return c.code
	case <-time.After(testTimeout):
		c.t.Fatalf("the command did not exit; the terminal showed:\n%s", tail(c.text()))
	}
	return -1
}
