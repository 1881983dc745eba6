package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/term"
)

// readSecret prints label to prompt and reads one line from the terminal fd
// without echo (term.ReadPassword). Ctrl-C at the prompt restores the
// terminal as it was (echo back on: ReadPassword, still blocked reading,
// never gets to restore it) and returns errCanceled, so the command exits
// with the cancel code having written nothing; Ctrl-D is errCanceled too.
func readSecret(fd int, prompt io.Writer, label string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", errNoTerminal
	}
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	defer signal.Stop(interrupt)

	type result struct {
		line []byte
		err  error
	}
	done := make(chan result, 1)
	fmt.Fprint(prompt, label)
	go func() {
		line, err := term.ReadPassword(fd)
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(prompt)
		if r.err != nil {
			return "", errCanceled
		}
		return string(r.line), nil
	case <-interrupt:
		// The reading goroutine stays blocked on the terminal; the command
		// returns errCanceled and the process exits before it matters.
		term.Restore(fd, state)
		fmt.Fprintln(prompt)
		return "", errCanceled
	}
}
