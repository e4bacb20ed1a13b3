// Package rietest runs a function's real bootstrap under the AWS Lambda Runtime
// Interface Emulator, for tests: the binary that SAM deploys (built for this
// machine's architecture), its environment, its cold start and its JSON logs,
// without Docker or an AWS account.
//
//	bootstrap := rietest.Build(t, "WebhookFunction")
//	em := rietest.Start(t, bootstrap, []string{"STATE_TABLE=...", ...})
//	out := em.Invoke(t, event)
package rietest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// GoTool returns the go command that runs this test.
func GoTool(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		tb.Fatal("the go command is not on PATH: the emulator tests build the functions with it")
	}
	return p
}

// Build builds the Lambda function with logical ID function (e.g.
// "WebhookFunction") through the Makefile's build-<LogicalId> target, the one
// sam build runs, but for this machine's architecture, and returns the path
// of the binary, named bootstrap.
func Build(tb testing.TB, function string) string {
	tb.Helper()
	dir := tb.TempDir()
	run(tb, nil, "make", "--no-print-directory", "build-"+function,
		"ARTIFACTS_DIR="+dir, "LAMBDA_GOARCH="+runtime.GOARCH, "GO="+GoTool(tb))
	return filepath.Join(dir, "bootstrap")
}

// emulatorPkg is the emulator, a tool dependency in go.mod.
const emulatorPkg = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

func run(tb testing.TB, env []string, name string, args ...string) {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = modroot.Dir(tb)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Emulator is a running emulator with one function.
type Emulator struct {
	url  string
	log  *lineBuffer
	stop func()
}

var emulator struct {
	sync.Mutex
	path string
}

// EmulatorBinary returns the emulator built for this machine, static (no
// cgo), as the container test puts it in an image.
func EmulatorBinary(tb testing.TB) string {
	tb.Helper()
	return emulatorBinary(tb)
}

// emulatorBinary builds the emulator once per test process, under the
// module's ignored .build folder.
func emulatorBinary(tb testing.TB) string {
	tb.Helper()
	emulator.Lock()
	defer emulator.Unlock()
	if emulator.path == "" {
		path := filepath.Join(modroot.Dir(tb), ".build", "test", "aws-lambda-rie")
		run(tb, []string{"CGO_ENABLED=0"}, GoTool(tb), "build", "-o", path, emulatorPkg)
		emulator.path = path
	}
	return emulator.path
}

// Start runs bootstrap under the emulator with exactly env (plus PATH) as its
// environment, and stops it when the test ends, if Stop has not.
func Start(tb testing.TB, bootstrap string, env []string) *Emulator {
	tb.Helper()
	rie := emulatorBinary(tb)

	addr, apiAddr := freeAddr(tb), freeAddr(tb)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	// SIGTERM lets the emulator stop the function too; SIGKILL would orphan it.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	logs := &lineBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("start emulator: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			_ = cmd.Wait()
			if tb.Failed() {
				tb.Logf("emulator and function output:\n%s", strings.Join(logs.lines(0), "\n"))
			}
		})
	}
	tb.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("emulator did not listen on %s: %v\n%s", addr, err, strings.Join(logs.lines(0), "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &Emulator{url: "http://" + addr + "/2015-03-31/functions/function/invocations", log: logs, stop: stop}
}

// Stop ends the emulator and the function.
func (e *Emulator) Stop() { e.stop() }

// FreeAddr returns a loopback address, host:port, free when it was asked for.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	return freeAddr(tb)
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Invoke sends one event and returns the function's response payload.
func (e *Emulator) Invoke(tb testing.TB, event []byte) []byte {
	tb.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(e.url, "application/json", bytes.NewReader(event))
	if err != nil {
		tb.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("invoke: read response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("invoke: emulator answered %s: %s", resp.Status, body)
	}
	return body
}

// LogMark is a position in the output, to look for lines written after it.
func (e *Emulator) LogMark() int { return e.log.count() }

// WaitLog returns the first JSON log line written after mark for which match
// is true, waiting up to timeout for the function's output to arrive.
func (e *Emulator) WaitLog(tb testing.TB, mark int, timeout time.Duration, match func(map[string]any) bool) map[string]any {
	tb.Helper()
	var found map[string]any
	e.WaitLine(tb, mark, timeout, func(line string) bool {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && match(m) {
			found = m
			return true
		}
		return false
	})
	return found
}

// WaitLine returns the first output line written after mark for which match
// is true (the emulator's own lines, such as its REPORT, included).
func (e *Emulator) WaitLine(tb testing.TB, mark int, timeout time.Duration, match func(string) bool) string {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range e.log.lines(mark) {
			if match(line) {
				return line
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no matching output line within %v; output since the invocation:\n%s",
				timeout, strings.Join(e.log.lines(mark), "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lineBuffer collects output lines from several writers.
type lineBuffer struct {
	mu      sync.Mutex
	partial []byte
	done    []string
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.partial = append(b.partial, p...)
	consumed := 0
	for {
		i := bytes.IndexByte(b.partial[consumed:], '\n')
		if i < 0 {
			break
		}
		b.done = append(b.done, string(b.partial[consumed:consumed+i]))
		consumed += i + 1
	}
	b.partial = append([]byte(nil), b.partial[consumed:]...)
	return len(p), nil
}

func (b *lineBuffer) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.done)
}

func (b *lineBuffer) lines(from int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.done[from:]...)
}
