// Command clientvault keeps the client records of estheticians, beauty
// operators and laser technicians in one encrypted vault file.
package main

import (
	"github.com/clientvault/clientvault/internal/harden"
	"os"
	"strconv"
)

// testWorkFactor is empty in every release build. The end-to-end tests build
// the binary with -ldflags "-X main.testWorkFactor=10" so that the identities
// they create cost milliseconds instead of a second to unlock; it only lowers
// the scrypt work factor of identities created by that test binary, and a
// production build has no flag or variable that can set it.
var testWorkFactor string

func main() {
	// Best effort: a command works without it (the agent does not: runAgent).
	_ = harden.Process()
	a := System()
	if n, err := strconv.Atoi(testWorkFactor); err == nil && n > 0 {
		a.WorkFactor = n
	}
	os.Exit(Run(os.Args[1:], a))
}
