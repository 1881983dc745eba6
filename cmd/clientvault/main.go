// Command clientvault keeps the client records of estheticians, beauty
// operators and laser technicians in one encrypted vault file.
package main

import "os"

func main() { os.Exit(Run(os.Args[1:], System())) }
