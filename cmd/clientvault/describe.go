package main

import (
	"fmt"
	"io"

	"github.com/charmbracelet/huh"
)

// described is a form field whose description is also said in accessible
// mode: huh prints only a field's title there, and a screen reader user
// would not hear "separate with commas" or "YYYY-MM-DD; empty is today".
type described struct {
	huh.Field
	text string
}

// describe returns f with desc as its description, drawn by huh in the
// full-screen form and said before the question in accessible mode.
func describe[F interface {
	huh.Field
	Description(string) F
}](f F, desc string) huh.Field {
	return described{f.Description(desc), desc}
}

// RunAccessible says the description, then asks as the field does.
func (d described) RunAccessible(w io.Writer, r io.Reader) error {
	if d.text != "" {
		fmt.Fprintf(w, "(%s)\n", d.text)
	}
	return d.Field.RunAccessible(w, r)
}

// WithAccessible keeps the description when huh switches the field to
// accessible mode (it runs what this returns).
func (d described) WithAccessible(accessible bool) huh.Field {
	d.Field = d.Field.WithAccessible(accessible)
	return d
}
