// Package operator is the command-line tool for the receiver's operators
// (cmd/cashbill): what happened to a cashbill, what arrived, and
// replaying archived deliveries through the webhook's own handler after a
// fix. It works against a deployed stack (the SDK's default credentials,
// tables found from the stack's outputs) and against the bbolt file of
// `make run`.
package operator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aws/smithy-go"
)

// Exit codes, for scripts.
const (
	ExitOK       = 0
	ExitFailed   = 1 // the store or AWS could not be read or written
	ExitUsage    = 2 // unknown command or flag, missing argument, a value that cannot be right (an itemKey not of 18 digits, an unknown --outcome)
	ExitNotFound = 3 // nothing known about the cashbill, or an ID not in the archive
	ExitBusy     = 4 // the local store is held by another process (make run)
	ExitRefused  = 5 // replay: at least one delivery was not accepted (or was skipped)
)

// exitError carries an exit code and a message for the person at the terminal.
type exitError struct {
	code int
	msg  string
	// help names the command whose --help a usage error points to.
	help string
}

func (e *exitError) Error() string { return e.msg }

func exit(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// command is one subcommand. The table is the whole tool.
type command struct {
	name, usage, summary string
	run                  func(ctx context.Context, e *Env, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"status", "status [flags] ITEMKEY | status [flags] --corp CORPNUM --mgt MGTKEY",
			"the stored state, the alert status and the deliveries of one cashbill, newest first", status},
		{"deliveries", "deliveries [flags] [--since 24h] [--outcome rejected] [--corp CORPNUM]",
			"what arrived in a time window, with status and reason, newest first", deliveries},
		{"replay", "replay [flags] ID... | replay [flags] --outcome rejected --since 24h",
			"send archived deliveries through the webhook's handler again (in-process) and print each outcome", replay},
		{"alerts", "alerts [flags] --pending | alerts [flags] --overdue | alerts resend [flags] ITEMKEY",
			alertsSummary, alerts},
		{"businesses", businessesUsage, businessesSummary, businesses},
		{"routes", routesUsage, routesSummary, routes},
	}
}

// Env is what a command runs with.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Open opens the backend the flags choose; tests replace it.
	Open func(ctx context.Context, t Target, write bool) (*Backend, error)
}

// Run runs the tool with args (without the program name) and returns its exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return (&Env{Stdout: stdout, Stderr: stderr, Getenv: getenv, Open: Open}).Run(ctx, args)
}

// Run runs the tool in e.
func (e *Env) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		e.usage(e.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			var ee *exitError
			switch {
			case err == nil:
				return ExitOK
			case errors.Is(err, flag.ErrHelp):
				return ExitOK
			case errors.As(err, &ee):
				if ee.msg != "" {
					fmt.Fprintln(e.Stderr, "cashbill "+c.name+": "+ee.msg+helpPointer(ee, c.name))
				}
				return ee.code
			case errors.As(err, new(*smithy.OperationError)):
				fmt.Fprintln(e.Stderr, "cashbill "+c.name+": "+awsCause(err))
				return ExitFailed
			default:
				fmt.Fprintln(e.Stderr, "cashbill "+c.name+": "+err.Error())
				return ExitFailed
			}
		}
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	fmt.Fprintf(e.Stderr, "cashbill: unknown command %q: the commands are %s (see cashbill --help)\n", args[0], strings.Join(names, ", "))
	return ExitUsage
}

func (e *Env) usage(w io.Writer) {
	fmt.Fprintln(w, `cashbill: what happened to a POPBiLL cashbill, what arrived, replaying deliveries, and alerts.

Usage: cashbill COMMAND [flags] [arguments]   (cashbill COMMAND --help for its flags)

Commands:`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, `
Where it reads (every command):
  --local[=PATH]   the bbolt file of make run (default .local/state.db; the default target).
                   make run holds the file: stop it first (exit code 4 says it is held).
  --stack NAME     a deployed stack: its tables, topic and the webhook's log group (the delivery
                   archive) from its outputs (SDK default credentials)
  --state-table, --archive-log-group, --topic   name them directly (or STATE_TABLE, ARCHIVE_LOG_GROUP,
                   ALERT_TOPIC_ARN, as in .local/infra.env of make run-moto)

Output: aligned tables with KST times; --json for scripts.
Exit codes: 0 done, 1 store or AWS failure, 2 usage (a bad flag or value), 3 not found (alerts resend: or no alert),
            4 local store busy, 5 refused: replay refused or skipped a delivery, or alerts resend
            found the alert being published by someone else.`)
}

// flagSet is a command's flags: the target flags, --json and the command's own.
func (e *Env) flagSet(name, usage string, t *Target, asJSON *bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	t.register(fs)
	fs.BoolVar(asJSON, "json", false, "print JSON for scripts instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cashbill %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// helpPointer ends a usage error's line: where the command's flags are listed.
func helpPointer(ee *exitError, command string) string {
	if ee.code != ExitUsage {
		return ""
	}
	return " (see cashbill " + or(ee.help, command) + " --help)"
}

// short is s on one line, cut to n characters.
func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// helpWith is a command's --help: what it does, its usage and its flags.
func helpWith(fs *flag.FlagSet, usage, summary string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "cashbill %s: %s\n\nUsage: cashbill %s\n\nFlags:\n", fs.Name(), summary, usage)
		fs.PrintDefaults()
		fmt.Fprintln(w, "\nExit codes: 0 done, 1 store or AWS failure, 2 usage (a bad flag or value), 3 not found (resend: or no alert), 4 local store busy, 5 refused (replay: refused or skipped; resend: being published by someone else).")
	}
}
