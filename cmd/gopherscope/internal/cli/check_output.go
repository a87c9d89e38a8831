package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// writeCheckTable prints the reports as a table (POD, INJECTED, REASON,
// HINT), each row's message below it, then the installation's notes.
func writeCheckTable(w io.Writer, inst *installation, reports []podReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "POD\tINJECTED\tREASON\tHINT")
	for _, r := range reports {
		injected := "no"
		if r.Injected {
			injected = "yes"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Pod, injected, r.Reason, r.Hint)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the table: %w", err)
	}
	for _, r := range reports {
		_, _ = fmt.Fprintf(w, "\n%s: %s\n", r.Pod, r.Message)
		for _, warning := range r.Warnings {
			_, _ = fmt.Fprintf(w, "  warning: %s\n", warning)
		}
	}
	for _, n := range inst.notes {
		_, _ = fmt.Fprintf(w, "\nnote: %s\n", n)
	}
	return nil
}

// writeCheckJSON prints the reports as a JSON array.
func writeCheckJSON(w io.Writer, reports []podReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(reports); err != nil {
		return fmt.Errorf("write the JSON: %w", err)
	}
	return nil
}
