package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"esig/ca/audit"
)

// auditBroken is the failure of esig audit verify (exit status 1).
type auditBroken struct{ err *audit.BrokenError }

func (e auditBroken) Error() string { return e.err.Error() }
func (e auditBroken) ExitCode() int { return 1 }

var auditCmd = &cobra.Command{
	Use:   "audit",
	Short: "Inspect the hash-chained audit log",
}

var auditVerifyCmd = &cobra.Command{
	Use:   "verify",
	Short: "Walk the audit chain and name the first broken entry",
	Long: `Recompute every audit entry's hash and its link to the entry before it.
Exit status 0 when the chain holds, 1 at the first broken entry (named).`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		st, err := openStore(cmd)
		if err != nil {
			return err
		}
		defer st.Close()
		var v audit.Verifier
		err = st.WalkAudit(cmd.Context(), v.Add)
		var broken *audit.BrokenError
		if errors.As(err, &broken) {
			return auditBroken{broken}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "audit chain holds: %d entries\n", v.Count())
		return nil
	},
}

func init() {
	auditCmd.AddCommand(auditVerifyCmd)
	rootCmd.AddCommand(auditCmd)
}
