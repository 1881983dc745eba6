package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clientvault/clientvault/vault"
	"github.com/spf13/cobra"
)

func newAuditCmd(a *App) *cobra.Command {
	var record string
	var verify bool
	c := &cobra.Command{
		Use:   "audit",
		Short: "Show the access log, or one client's access report",
		Long: `Show the access log: when, who, what, which record. It holds no client data.
--record ID is one client's access report ("who has seen my file?").
--verify checks the log's MAC chain and exits 9 if it was tampered with.`,
		Example: `  clientvault audit
  clientvault audit --record 7f3a9c2e01b4d5e6
  clientvault audit --verify`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			v, err := a.open(openOpts{})
			if err != nil {
				return err
			}
			defer v.Close()
			if verify {
				n, err := v.VerifyAudit()
				if err != nil {
					return err
				}
				if a.jsonOut {
					return printJSON(a.Out, map[string]any{"ok": true, "entries": n})
				}
				fmt.Fprintf(a.Out, "ok: %d audit entries, chain intact\n", n)
				return nil
			}
			f := vault.AuditFilter{}
			if record != "" {
				id, err := v.RecordID(record)
				if err != nil {
					return err
				}
				f.Record = id
			}
			events, err := v.Audit(f)
			if err != nil {
				return err
			}
			if a.jsonOut {
				if events == nil {
					events = []vault.Event{}
				}
				return printJSON(a.Out, events)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tRECORD\tDETAIL")
			for _, e := range events {
				rec := e.Record
				if rec == "" && e.Count > 0 {
					rec = "(" + count(e.Count, "record") + ")"
				}
				detail := e.Detail
				if e.Staff != "" && e.Staff != e.Actor {
					detail = strings.TrimSuffix("with "+e.Staff+"; "+detail, "; ")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Local().Format(time.DateTime), e.Actor, e.Action, dash(rec), detail)
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&record, "record", "", "only this record's entries: RECORD as every command takes it (ID, 4+ digits of it, or name); a destroyed record's by its full ID")
	c.Flags().BoolVar(&verify, "verify", false, "check the chain")
	return c
}
