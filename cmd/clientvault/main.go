// Command clientvault keeps the client records of estheticians, beauty
// operators and laser technicians in one encrypted vault file.
package main

import (
	"os"

	"github.com/clientvault/clientvault/internal/harden"
)

func main() {
	// Best effort: a command works without it (the agent does not: runAgent).
	_ = harden.Process()
	os.Exit(Run(os.Args[1:], System()))
}
