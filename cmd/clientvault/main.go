// Command clientvault keeps the client records of estheticians, beauty
// operators and laser technicians in one encrypted vault file.
package main

import (
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
	hardenProcess()
	a := System()
	if n, err := strconv.Atoi(testWorkFactor); err == nil && n > 0 {
		a.WorkFactor = n
	}
	os.Exit(Run(os.Args[1:], a))
}
