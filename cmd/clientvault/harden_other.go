//go:build !unix

package main

// hardenProcess has nothing to set where there is no core size limit.
func hardenProcess() {}
