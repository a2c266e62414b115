// Command esig is the signature service for Polish e-government portals:
// an issuing CA, a signer and a verifier behind one HTTP API.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	// The first garbage collection waits for a 16 MiB heap: without it
	// every esig process collected while the CA's libraries initialised,
	// a tenth of a one-document verify (see the package).
	_ "esig/cmd/esig/internal/startheap"
)

// rootCmd is the top of the command tree. Every subcommand registers itself
// on it from its own file's init function.
var rootCmd = &cobra.Command{
	Use:           "esig",
	Short:         "Issuing CA, signer and signature verifier for e-government portals",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// usageError marks an error in how esig was called (exit code 64).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCoder lets a command choose its exit status (esig verify does).
type exitCoder interface{ ExitCode() int }

// usageArgs makes a positional-argument check report a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// requireFlags reports missing flags as a usage error (cobra's own check
// cannot be told apart from a failure).
func requireFlags(cmd *cobra.Command, names ...string) error {
	var missing []string
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usageError{fmt.Errorf("required flag(s) %s not set", strings.Join(missing, ", "))}
	}
	return nil
}

// wrapArgs turns every command's argument errors into usage errors.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		c.Args = usageArgs(c.Args)
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

func main() {
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	wrapArgs(rootCmd)
	err := rootCmd.Execute()
	if err == nil {
		return
	}
	if ec, ok := err.(exitCoder); ok {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "esig:", msg)
		}
		os.Exit(ec.ExitCode())
	}
	fmt.Fprintln(os.Stderr, "esig:", err)
	if _, ok := err.(usageError); ok {
		os.Exit(64)
	}
	os.Exit(1)
}
