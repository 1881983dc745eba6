package harden

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHardenProcess: every command runs non-dumpable, with a zero core size
// limit (a core of `add` held the plaintext and the secret key). It checks
// in a child process, so that the test binary itself stays as it was: the
// test binary re-executed with CLIENTVAULT_TEST_HELPER naming what it
// should do, as the vault's kill tests do.
func TestHardenProcess(t *testing.T) {
	if os.Getenv("CLIENTVAULT_TEST_HELPER") == "harden" {
		if err := Process(); err != nil {
			t.Fatal(err)
		}
		d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
			t.Fatal(err)
		}
		if d != 0 || lim.Cur != 0 || lim.Max != 0 {
			t.Fatalf("dumpable %d, core limit %d/%d", d, lim.Cur, lim.Max)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHardenProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "CLIENTVAULT_TEST_HELPER=harden")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHardenProcess") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
