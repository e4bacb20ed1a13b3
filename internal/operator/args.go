package operator

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// The checks on what an operator types. A typo is refused before anything
// is read, in one line that says what a good value looks like (ExitUsage):
// a filter that matches nothing would otherwise print "(none)" and look
// like an answer.

// Outcomes are the values --outcome takes: every state.Outcome (the
// webhook's answers and the archive's record of an alert resent on purpose).
var Outcomes = outcomeNames(state.Outcomes)

func outcomeNames(outcomes []state.Outcome) []string {
	names := make([]string, len(outcomes))
	for i, o := range outcomes {
		names[i] = string(o)
	}
	return names
}

// usageError is a usage error of the command whose flags are fs: Run prints
// it on one line with a pointer to that command's --help.
func usageError(fs *flag.FlagSet, format string, args ...any) error {
	return &exitError{code: ExitUsage, msg: fmt.Sprintf(format, args...), help: fs.Name()}
}

// parse parses flags anywhere among the arguments and returns the others.
// A bad flag is one line (Run adds the pointer to --help), not the flag
// package's message followed by every flag; --help prints the help.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	help, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = help; fs.SetOutput(out) }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				help()
				return nil, err
			}
			return nil, usageError(fs, "%s", flagMessage(err))
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// flagMessage is the flag package's error in the tool's words.
func flagMessage(err error) string {
	msg := err.Error()
	// The flag package names a flag -name; the docs write --name.
	dashes := func(name string) string { return "-" + strings.TrimPrefix(name, "--") }
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + dashes(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return dashes(name) + " needs a value"
	}
	// invalid value "x" for flag -limit: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if value, name, ok := strings.Cut(rest, " for flag "); ok {
			name, why, _ := strings.Cut(name, ": ")
			if strings.HasPrefix(why, "parse error") {
				why = "want a whole number"
			}
			return fmt.Sprintf("%s %s: %s", dashes(name), value, why)
		}
	}
	return msg
}

// checkItemKey refuses what cannot be an itemKey, so that a typo is not
// answered "nothing stored".
func checkItemKey(fs *flag.FlagSet, key string) error {
	if len(key) == 18 && allDigits(key) {
		return nil
	}
	return usageError(fs, "%q is not an itemKey: an itemKey is POPBiLL's 18-digit cashbill id, such as 022122116191200001", key)
}

// businessNumber reads --corp: 10 digits, with or without the dashes of
// 679-87-00433; empty stays empty (no filter).
func businessNumber(fs *flag.FlagSet, name, v string) (string, error) {
	n := strings.ReplaceAll(v, "-", "")
	if v == "" || cashbill.IsBusinessNumber(n) {
		return n, nil
	}
	return "", usageError(fs, "--%s %q: a business number is 10 digits, such as 6798700433 or 679-87-00433", name, v)
}

// checkMgtKey refuses what cannot be a mgtKey: 1 to 24 characters.
func checkMgtKey(fs *flag.FlagSet, v string) error {
	if n := len([]rune(v)); n >= 1 && n <= 24 {
		return nil
	}
	return usageError(fs, "--mgt %q: a mgtKey is the seller's document number, 1 to 24 characters", v)
}

// checkOutcome refuses an outcome no delivery has; empty is no filter.
func checkOutcome(fs *flag.FlagSet, v string) error {
	for _, o := range Outcomes {
		if v == "" || v == o {
			return nil
		}
	}
	return usageError(fs, "--outcome %q: want one of %s", v, strings.Join(Outcomes, ", "))
}

// checkLimit refuses a limit that would show nothing.
func checkLimit(fs *flag.FlagSet, n int) error {
	if n > 0 {
		return nil
	}
	return usageError(fs, "--limit %d: want a whole number of at least 1", n)
}

// Duration reads the one duration syntax of every flag: a Go duration
// (90m, 24h, 1h30m) or a whole number of days (7d), greater than zero.
func Duration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 && n <= 100*365 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q: want a duration greater than zero, such as 90m, 24h, 66h or 7d", s)
}

// durationFlag reads flag name's value s with Duration.
func durationFlag(fs *flag.FlagSet, name, s string) (time.Duration, error) {
	d, err := Duration(s)
	if err != nil {
		return 0, usageError(fs, "--%s %s", name, err.Error())
	}
	return d, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
