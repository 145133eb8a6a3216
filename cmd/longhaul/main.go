// Command longhaul is the operators' tool for workers that use longhaul: it checks that
// a bucket's lifecycle rules cannot delete blobs in use (check retention), finds the
// workflows that reference missing or corrupt blobs (fsck), and removes what failed
// uploads leave (sweep uploads).
//
// Install with `go install github.com/seed-a62fcf0e/longhaul/cmd/longhaul@latest`.
//
// Exit codes: 0 all good; 1 problems found (an unsafe or missing lifecycle rule, missing
// or corrupt blobs, debris left); 2 usage error; 3 cannot tell (the store or Temporal
// could not be read).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK         = 0
	exitProblems   = 1
	exitUsage      = 2
	exitCannotTell = 3
)

// exitError carries an exit code; an error without one exits with exitCannotTell.
type exitError struct {
	code int
	err  error
	// silent: the command already printed why.
	silent bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error { return &exitError{code: exitUsage, err: err} }

// errProblems is returned by a command that printed problems: exit 1, no more message.
var errProblems = &exitError{code: exitProblems, err: errors.New("problems found"), silent: true}

// errCannotTell is returned by a command that printed why it cannot tell: exit 3.
var errCannotTell = &exitError{code: exitCannotTell, err: errors.New("cannot tell"), silent: true}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.silent {
			fmt.Fprintln(stderr, "longhaul:", err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "longhaul:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitCannotTell
}

// isUsage recognizes cobra's own usage errors (unknown command or flag, bad value).
func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

type usageError struct{ err error }

func (u *usageError) Error() string { return u.err.Error() }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "longhaul",
		Short: "Operate the blob stores of longhaul workers",
		Long: `longhaul checks and cleans the blob stores that longhaul workers offload payloads to.

Exit codes: 0 all good; 1 problems found; 2 usage error; 3 cannot tell (the store or
Temporal could not be read).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	check := &cobra.Command{Use: "check", Short: "Check a store's configuration", Args: noArgs, RunE: needSub}
	check.AddCommand(newCheckRetention())
	sweep := &cobra.Command{Use: "sweep", Short: "Remove what failed uploads left", Args: noArgs, RunE: needSub}
	sweep.AddCommand(newSweepUploads())
	root.AddCommand(check, newFsck(), sweep)
	return root
}

// noArgs refuses positional arguments with a usage error (and shows help for a bare
// group command).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("%s: unknown command %q (see --help)", cmd.CommandPath(), args[0])}
	}
	return nil
}

// needSub is a group command run without a subcommand.
func needSub(cmd *cobra.Command, _ []string) error {
	_ = cmd.Help()
	return &usageError{fmt.Errorf("%s needs a subcommand", cmd.CommandPath())}
}

// outputFlag adds --output.
func outputFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "output", "o", "text", "output format: text or json")
}

func checkOutput(o string) error {
	if o != "text" && o != "json" {
		return usageErr(fmt.Errorf("--output %q: want text or json", o))
	}
	return nil
}
