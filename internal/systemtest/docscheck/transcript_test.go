package docscheck_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/localserver"
	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/golden"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// The README's transcripts are run, not trusted. A block follows a marker
//
//	<!-- transcript session=NAME [fresh] [server=running|stopped] -->
//
// A ```sh block is run with bash against the session's make run (the
// receiver of cmd/localserver on a bbolt file in .local/state.db of the
// session's own directory; http://localhost:9854 becomes its address, and a
// sleep, waiting for the 30 s sweeper, becomes one second with the sweeper
// every 200 ms). A ``` block holds `$ .local/cashbill ...` commands: each
// is run through the tool, in that directory, and what it prints must be
// what the README shows, but for the IDs, times and message ids of the run
// (the same ID must be the same ID on both sides). -update rewrites the
// blocks with what this run printed.
func TestREADMETranscriptsAreWhatTheToolPrints(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is missing: the README's transcripts run it (apt-get install curl)")
	}
	root := modroot.Dir(t)
	path := filepath.Join(root, "README.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	blocks := transcriptBlocks(readme)
	if len(blocks) < 4 {
		t.Fatalf("README.md has %d transcript blocks, want the Try it locally block and both Operating it sessions", len(blocks))
	}
	t.Chdir(t.TempDir())
	sessions := map[string]*session{}
	defer func() {
		for _, s := range sessions {
			s.stop(t)
		}
	}()
	var rewritten strings.Builder
	last := 0
	for _, b := range blocks {
		s := sessions[b.session]
		if s == nil || b.fresh {
			if s != nil {
				s.stop(t)
			}
			s = &session{dir: t.TempDir(), readme: newTokens(), actual: newTokens()}
			sessions[b.session] = s
		}
		switch {
		case b.shell:
			s.start(t)
			s.shell(t, b.body)
			continue
		case b.server == "stopped":
			s.stop(t)
		case b.server == "running":
			s.start(t)
		}
		got, want, have := s.commands(t, b.body)
		if golden.Updating() {
			rewritten.WriteString(readme[last:b.bodyStart])
			rewritten.WriteString(strings.Join(got, "\n"))
			last = b.bodyEnd
			continue
		}
		for i := range want {
			if want[i] != have[i] {
				t.Errorf("README.md, session %s: the tool printed\n%s\nwhere the README shows\n%s\n(normalised: got\n%s\nwant\n%s)\ngo test ./internal/systemtest/docscheck -run Transcript -update rewrites the README's transcripts",
					b.session, got[i], groups(b.body)[i], have[i], want[i])
			}
		}
	}
	if golden.Updating() {
		rewritten.WriteString(readme[last:])
		if err := os.WriteFile(path, []byte(rewritten.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// block is one transcript block of the README.
type block struct {
	session, server    string
	fresh, shell       bool
	body               string
	bodyStart, bodyEnd int
}

var marker = regexp.MustCompile("<!-- transcript ([^>]*)-->\n```([a-z]*)\n")

func transcriptBlocks(readme string) []block {
	var out []block
	for _, m := range marker.FindAllStringSubmatchIndex(readme, -1) {
		b := block{shell: readme[m[4]:m[5]] == "sh", bodyStart: m[1]}
		for _, f := range strings.Fields(readme[m[2]:m[3]]) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "session":
				b.session = v
			case "server":
				b.server = v
			case "fresh":
				b.fresh = true
			}
		}
		end := strings.Index(readme[b.bodyStart:], "```\n")
		b.bodyEnd = b.bodyStart + end
		b.body = readme[b.bodyStart:b.bodyEnd]
		out = append(out, b)
	}
	return out
}

// session is one make run and its store.
type session struct {
	dir            string
	server         *httptest.Server
	receiver       *localserver.Server
	mu             sync.Mutex
	log            bytes.Buffer
	readme, actual *tokens
}

func (s *session) start(t *testing.T) {
	t.Helper()
	if s.server != nil {
		return
	}
	env := map[string]string{
		"AUTH_MODE": "basic", "AUTH_CREDENTIAL": "popbill:local-secret", "SWEEP_INTERVAL": "200ms",
		"STATE_FILE": filepath.Join(s.dir, ".local", "state.db"),
	}
	if err := os.MkdirAll(filepath.Join(s.dir, ".local"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := lockedWriter{mu: &s.mu, w: &s.log}
	r, err := localserver.New(context.Background(), func(k string) string { return env[k] }, out, slog.New(slog.NewJSONHandler(out, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.receiver, s.server = r, httptest.NewServer(r)
}

func (s *session) stop(t *testing.T) {
	t.Helper()
	if s.server == nil {
		return
	}
	s.server.Close()
	s.receiver.Close()
	s.server, s.receiver = nil, nil
}

var sleep = regexp.MustCompile(`(?m)^sleep [0-9]+`)

// shell runs a sh block as a reader would, against the session's receiver.
func (s *session) shell(t *testing.T, body string) {
	t.Helper()
	script := strings.ReplaceAll(body, "http://localhost:9854", s.server.URL)
	script = sleep.ReplaceAllString(script, "sleep 1")
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = s.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's sh block failed: %v\n%s\n%s", err, body, out)
	}
	if strings.Contains(string(out), `"error"`) || !strings.Contains(string(out), "OK") {
		t.Errorf("the README's sh block was not answered OK:\n%s", out)
	}
}

// commands runs each "$ .local/cashbill ..." line of body and returns each
// command as a terminal shows it, and normalised, what the README shows and
// what it printed.
func (s *session) commands(t *testing.T, body string) (got, want, have []string) {
	t.Helper()
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(s.dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(here)
	for _, g := range groups(body) {
		line, _, _ := strings.Cut(g, "\n")
		// The README's IDs are the ones its own run printed: this run's stand in.
		cmd := s.actual.denorm(s.readme.norm(strings.TrimPrefix(line, "$ ")))
		args := strings.Fields(strings.TrimPrefix(cmd, ".local/cashbill"))
		var stdout, stderr bytes.Buffer
		code := operator.Run(context.Background(), args, &stdout, &stderr, func(string) string { return "" })
		r := render(cmd, code, stdout.String(), stderr.String())
		got = append(got, r)
		want = append(want, s.readme.norm(g))
		have = append(have, s.actual.norm(r))
	}
	return got, want, have
}

var printedAlert = regexp.MustCompile(`(?s)\n=== ALERT (\S+) ===\n(.*?)=== end of alert ===\n\n`)

// render is one command as a terminal shows it: the alerts it printed
// (shortened), what it printed on stdout, its error line, its exit code.
func render(cmd string, code int, stdout, stderr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s\n", cmd)
	for _, m := range printedAlert.FindAllStringSubmatch(stderr, -1) {
		fmt.Fprintf(&b, "\n=== ALERT %s ===   (the alert, printed as make run prints it; %d lines left out here)\n\n", m[1], strings.Count(m[2], "\n")+1)
	}
	b.WriteString(stdout)
	if rest := printedAlert.ReplaceAllString(stderr, ""); rest != "" {
		b.WriteString(rest)
	}
	if code != 0 {
		fmt.Fprintf(&b, "(exit %d)\n", code)
	}
	return b.String()
}

// groups splits a block into its commands, each with its output.
func groups(body string) []string {
	var out []string
	for _, line := range strings.SplitAfter(body, "\n") {
		if strings.HasPrefix(line, "$ ") || len(out) == 0 {
			out = append(out, "")
		}
		out[len(out)-1] += line
	}
	for i := range out {
		out[i] = strings.TrimRight(out[i], "\n") + "\n"
	}
	if len(out) == 1 && strings.TrimSpace(out[0]) == "" {
		return nil
	}
	return out
}

// tokens replaces what changes from run to run with placeholders: IDs,
// and message-id tags numbered by first appearance (so that the
// same ID stays the same ID), times, dates and ages as they are.
type tokens struct {
	seen  map[string]string
	back  map[string]string
	count map[string]int
}

func newTokens() *tokens {
	return &tokens{seen: map[string]string{}, back: map[string]string{}, count: map[string]int{}}
}

var (
	numbered = []struct {
		name string
		re   *regexp.Regexp
	}{
		{"id", regexp.MustCompile(`\b\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}\b`)},
		{"tag", regexp.MustCompile(`\blocal-[0-9a-f]{6}\b`)},
	}
	unnumbered = []struct {
		name string
		re   *regexp.Regexp
	}{
		{"resent-<time>", regexp.MustCompile(`\bresent-\d{8}T\d{6}Z\b`)},
		{"<time>", regexp.MustCompile(`\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b`)},
		{"<date>", regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)},
		{"<age>", regexp.MustCompile(`\b\d+d\d{2}h\b|\b\d+h\d{2}m\b`)},
		{" ", regexp.MustCompile(`[ \t]+`)},
	}
)

func (k *tokens) norm(s string) string {
	for _, c := range numbered {
		s = c.re.ReplaceAllStringFunc(s, func(m string) string {
			if p, ok := k.seen[m]; ok {
				return p
			}
			k.count[c.name]++
			p := fmt.Sprintf("<%s%d>", c.name, k.count[c.name])
			k.seen[m], k.back[p] = p, m
			return p
		})
	}
	for _, c := range unnumbered {
		s = c.re.ReplaceAllString(s, c.name)
	}
	return s
}

var placeholder = regexp.MustCompile(`<(?:id|tag)\d+>`)

func (k *tokens) denorm(s string) string {
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		if v, ok := k.back[p]; ok {
			return v
		}
		return p
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
