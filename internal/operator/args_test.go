package operator_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
)

// A typo is refused before anything is read: one line on stderr that says
// what a good value looks like and where the flags are listed, exit 2. The
// store these run against exists, so a typo that got through would answer
// "(none)" or "not found" instead.
func TestATypoIsOneLineAndExit2(t *testing.T) {
	local := "--local=" + localSite(t).flags[0][len("--local="):]
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"a misspelt flag", []string{"status", "--jsn", "022122116191200001"}, "unknown flag --jsn"},
		{"a flag with no value", []string{"deliveries", "--since"}, "--since needs a value"},
		{"a limit that is not a number", []string{"deliveries", "--limit", "x"}, `--limit "x": want a whole number`},
		{"a limit of zero", []string{"deliveries", "--limit", "0"}, "--limit 0"},
		{"a 17-digit itemKey", []string{"status", "02212211619120000"}, "is not an itemKey: an itemKey is POPBiLL's 18-digit cashbill id"},
		{"a 19-digit itemKey", []string{"status", "0221221161912000011"}, "18-digit"},
		{"a non-numeric itemKey", []string{"status", "02212211619120000x"}, "18-digit"},
		{"a malformed itemKey to resend", []string{"alerts", "resend", "12345"}, "18-digit"},
		{"a malformed itemKey to resend, dry run", []string{"alerts", "resend", "--dry-run", "x22122116191200001"}, "18-digit"},
		{"two itemKeys", []string{"status", "022122116191200001", "022122116191200002"}, "give one ITEMKEY"},
		{"a short business number", []string{"deliveries", "--corp", "123"}, `--corp "123": a business number is 10 digits`},
		{"a short business number with --mgt", []string{"status", "--corp", "679870043", "--mgt", "20221221-001"}, "10 digits"},
		{"a mgtKey too long", []string{"status", "--corp", "6798700433", "--mgt", strings.Repeat("m", 25)}, "1 to 24 characters"},
		{"a misspelt outcome", []string{"deliveries", "--outcome", "rejectd"}, "want one of stored, duplicate, stale, rejected, failed, resent"},
		{"an outcome in capitals", []string{"deliveries", "--outcome", "REJECTED"}, "want one of"},
		{"a misspelt outcome to replay", []string{"replay", "--outcome", "rejectd", "--since", "24h"}, "want one of"},
		{"a window of no length", []string{"deliveries", "--since", "0h"}, "greater than zero"},
		{"a window in weeks", []string{"deliveries", "--since", "2w"}, "such as 90m, 24h, 66h or 7d"},
		{"a negative deadline", []string{"alerts", "--overdue", "--deadline", "-1h"}, `--deadline "-1h": want a duration greater than zero`},
		{"a deadline without --overdue", []string{"alerts", "--pending", "--deadline", "3d"}, "--deadline goes with --overdue"},
		{"neither --pending nor --overdue", []string{"alerts"}, "give --pending or --overdue"},
		{"a stray argument to alerts", []string{"alerts", "--pending", "resnd"}, `unknown argument "resnd"`},
		{"an argument to deliveries", []string{"deliveries", "rejected"}, "takes no arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The target first: the flag under test comes last, as typed.
			at := 1
			if c.args[0] == "alerts" && len(c.args) > 1 && c.args[1] == "resend" {
				at = 2
			}
			args := append(append(append([]string{}, c.args[:at]...), local), c.args[at:]...)
			code, out, errOut := run(t, args...)
			if code != operator.ExitUsage {
				t.Errorf("exit %d, want %d (usage)\nstdout: %s\nstderr: %s", code, operator.ExitUsage, out, errOut)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr %q, want it to say %q", errOut, c.want)
			}
			if lines := strings.Count(errOut, "\n"); lines != 1 || !strings.Contains(errOut, " --help)") {
				t.Errorf("stderr has %d lines, want one that points to --help:\n%s", lines, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

func TestAnUnknownCommandIsOneLineNamingTheCommands(t *testing.T) {
	code, _, errOut := run(t, "statsu")
	if code != operator.ExitUsage || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "status, deliveries, replay, alerts") {
		t.Errorf("exit %d, stderr %q; want exit 2 and one line naming the commands", code, errOut)
	}
}

// Good values in every accepted spelling get past the checks to the store
// (here a missing file: exit 3, not 2).
func TestGoodValuesReachTheStore(t *testing.T) {
	missing := "--local=" + filepath.Join(t.TempDir(), "none.db")
	for _, args := range [][]string{
		{"status", "022122116191200001"},
		{"status", "--corp", "679-87-00433", "--mgt", "20221221-001"},
		{"deliveries", "--since", "7d", "--outcome", "resent", "--corp", "6798700433"},
		{"deliveries", "--since", "90m", "--limit", "5"},
		{"replay", "--since", "1h30m", "--outcome", "rejected"},
		{"alerts", "--overdue", "--deadline", "3d"},
		{"alerts", "--overdue", "--deadline", "66h"},
		{"alerts", "resend", "--dry-run", "022122116191200001"},
	} {
		if code, _, errOut := run(t, append(args, missing)...); code != operator.ExitNotFound {
			t.Errorf("%v: exit %d, want %d (the store is missing): %s", args, code, operator.ExitNotFound, errOut)
		}
	}
}

func TestOneDurationSyntax(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"90m", 90 * time.Minute}, {"24h", 24 * time.Hour}, {"1h30m", 90 * time.Minute}, {"7d", 7 * 24 * time.Hour},
		{"3d", 72 * time.Hour}, {"66h", 66 * time.Hour},
		{"", 0}, {"0", 0}, {"0d", 0}, {"-1h", 0}, {"-3d", 0}, {"3", 0}, {"d", 0}, {"1.5d", 0}, {"2w", 0}, {"3D", 0},
	} {
		got, err := operator.Duration(c.in)
		if got != c.want || (err != nil) != (c.want == 0) {
			t.Errorf("Duration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// The help lists every outcome --outcome takes, resent included.
func TestTheHelpListsEveryOutcome(t *testing.T) {
	for _, c := range []string{"deliveries", "replay"} {
		_, _, help := run(t, c, "--help")
		for _, o := range operator.Outcomes {
			if !strings.Contains(help, o) {
				t.Errorf("%s --help does not list the outcome %s", c, o)
			}
		}
	}
}
