package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
)

// readSecret prints label to prompt and reads one line from the terminal fd
// without echo. Echo is turned off before the prompt appears, so that nothing
// typed ahead of it shows. Ctrl-C at the prompt restores the terminal as it
// was (echo back on) and returns errCanceled, so the command exits with the
// cancel code having written nothing; Ctrl-D is errCanceled too.
func readSecret(fd int, prompt io.Writer, label string) (string, error) {
	restore, err := noEcho(fd)
	if err != nil {
		return "", errNoTerminal
	}
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	defer signal.Stop(interrupt)

	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	fmt.Fprint(prompt, label)
	go func() {
		line, err := readLine(fd)
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		restore()
		fmt.Fprintln(prompt)
		if r.err != nil {
			return "", errCanceled
		}
		return r.line, nil
	case <-interrupt:
		// The reading goroutine stays blocked on the terminal; the command
		// returns errCanceled and the process exits before it matters.
		restore()
		fmt.Fprintln(prompt)
		return "", errCanceled
	}
}
