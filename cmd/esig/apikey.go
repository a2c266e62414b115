package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"esig/api/auth"
	"esig/ca/audit"
)

var apikeyCmd = &cobra.Command{
	Use:   "apikey",
	Short: "Create, list and revoke API keys",
}

var apikeyCreateFlags struct {
	name   string
	scopes []string
}

var apikeyCreateCmd = &cobra.Command{
	Use:   "create --name NAME --scopes S[,S...]",
	Short: "Create an API key and print it once",
	Long: "Create an API key. Scopes: " + strings.Join(auth.AllScopes, ", ") + `.
The key is printed once; only its hash is stored.`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		if err := requireFlags(cmd, "name", "scopes"); err != nil {
			return err
		}
		st, err := openStore(cmd)
		if err != nil {
			return err
		}
		defer st.Close()
		token, k, err := auth.Create(cmd.Context(), st, apikeyCreateFlags.name, apikeyCreateFlags.scopes, "cli")
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "created key %s (%s) with scopes %s\n", k.ID, k.Name, strings.Join(k.Scopes, ","))
		fmt.Fprintln(cmd.OutOrStdout(), token)
		return nil
	},
}

var apikeyListCmd = &cobra.Command{
	Use:   "list",
	Short: "List API keys (never their secrets)",
	Args:  cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		st, err := openStore(cmd)
		if err != nil {
			return err
		}
		defer st.Close()
		keys, err := st.ListAPIKeys(cmd.Context())
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if !k.RevokedAt.IsZero() {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	},
}

var apikeyRevokeCmd = &cobra.Command{
	Use:   "revoke ID",
	Short: "Revoke an API key",
	Args:  cobra.ExactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		st, err := openStore(cmd)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.RevokeAPIKey(cmd.Context(), args[0], time.Now(), audit.Event{Kind: audit.KindAPIKeyRevoked, Actor: "cli", Object: args[0]}); err != nil {
			return fmt.Errorf("revoking %s: %w", args[0], err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
		return nil
	},
}

func init() {
	apikeyCreateCmd.Flags().StringVar(&apikeyCreateFlags.name, "name", "", "what the key is for")
	apikeyCreateCmd.Flags().StringSliceVar(&apikeyCreateFlags.scopes, "scopes", nil, "comma-separated scopes")
	apikeyCmd.AddCommand(apikeyCreateCmd, apikeyListCmd, apikeyRevokeCmd)
	rootCmd.AddCommand(apikeyCmd)
}
