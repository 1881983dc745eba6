//go:build !unix

package harden

// Process has no core limit to set here.
func Process() error { return nil }
