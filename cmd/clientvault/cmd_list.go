package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/clientvault/clientvault/records"
	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

// listOptions are the list command's flag values.
type listOptions struct {
	sort      string
	limit     int
	dueBefore string
}

func newListCmd(a *App) *cobra.Command {
	o := &listOptions{}
	c := &cobra.Command{
		Use:   "list",
		Short: "List the records: ID, name, date of birth, last visit",
		Long: `List the clients: ID, name, date of birth, last visit and the date until
which the record must be kept. It reads the vault's sealed directory, not the
records, and writes nothing: it is not recorded in the audit log. A coworker
lists only the clients shared with them.

Lines are written as they come: aligned in blocks of 1000.`,
		Example: `  clientvault list
  clientvault list --sort last-visit --limit 20
  clientvault list --due-before 2027-01-01 --sort retain-until --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error { return runList(a, o) },
	}
	f := c.Flags()
	f.StringVar(&o.sort, "sort", vault.SortName, "order: name, last-visit (latest first) or retain-until (soonest first)")
	f.IntVar(&o.limit, "limit", 0, "list at most N clients")
	f.StringVar(&o.dueBefore, "due-before", "", "only clients whose record may be destroyed before DATE (YYYY-MM-DD)")
	return c
}

func runList(a *App, o *listOptions) error {
	lo := vault.ListOptions{Sort: o.sort, Limit: o.limit}
	switch o.sort {
	case vault.SortName, vault.SortLastVisit, vault.SortRetainUntil:
	default:
		return usagef("--sort must be name, last-visit or retain-until")
	}
	if o.limit < 0 {
		return usagef("--limit must be 0 (no limit) or more")
	}
	if o.dueBefore != "" {
		d, err := records.ParseDate(o.dueBefore)
		if err != nil {
			return usagef("--due-before: %v", err)
		}
		lo.DueBefore = d
	}
	out := bufio.NewWriterSize(a.Out, 64<<10)
	var w clientWriter = &plainClients{out: out}
	if a.jsonOut {
		w = &jsonClients{out: out}
	}
	_, err := withDirectory(a, func(v *vault.Vault) (struct{}, error) {
		return struct{}{}, v.Clients(lo, w.write)
	})
	if err != nil {
		return err
	}
	if err := w.end(); err != nil {
		return err
	}
	return out.Flush()
}

// clientWriter writes listed clients as they come.
type clientWriter interface {
	write(vault.Client) error
	end() error
}

// plainClients writes aligned columns, flushed every listBlock lines so
// that a long list streams rather than waiting for its widest name.
type plainClients struct {
	out io.Writer
	tw  *tabwriter.Writer
	n   int
}

const listBlock = 1000

func (p *plainClients) write(c vault.Client) error {
	if p.tw == nil {
		p.tw = tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(p.tw, "ID\tNAME\tBORN\tLAST VISIT\tRETAIN UNTIL")
	}
	fmt.Fprintf(p.tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, dash(c.DOB.String()), dash(c.LastVisit.String()), dash(c.RetainUntil.String()))
	if p.n++; p.n%listBlock == 0 {
		return p.tw.Flush()
	}
	return nil
}

func (p *plainClients) end() error {
	if p.tw == nil {
		p.tw = tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(p.tw, "ID\tNAME\tBORN\tLAST VISIT\tRETAIN UNTIL")
	}
	return p.tw.Flush()
}

// jsonClients writes a JSON array, an element at a time, indented as
// printJSON indents.
type jsonClients struct {
	out io.Writer
	n   int
}

func (j *jsonClients) write(c vault.Client) error {
	b, err := json.MarshalIndent(c, "  ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n  "
	if j.n == 0 {
		sep = "[\n  "
	}
	j.n++
	if _, err := io.WriteString(j.out, sep); err != nil {
		return err
	}
	_, err = j.out.Write(b)
	return err
}

func (j *jsonClients) end() error {
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.out, end)
	return err
}
