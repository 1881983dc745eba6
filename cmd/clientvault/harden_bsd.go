//go:build unix && !linux

package main

// hardenPlatform: macOS and the BSDs have no per-process dumpable switch;
// the zero core limit is what keeps memory out of core files there.
func hardenPlatform() {}
