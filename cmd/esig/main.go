// Command esig is the signature service for Polish e-government portals:
// an issuing CA, a signer and a verifier behind one HTTP API.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
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

func main() {
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
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
