//go:build integration

package deploytest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/rietest"
)

// localInfraScript runs infra/local-infra.sh as make local-infra and make
// local-infra-stop do, with its own port and folder and no AWS_ENDPOINT_URL
// (so that it uses or starts its own moto_server), and returns its standard
// output and error.
func localInfraScript(t *testing.T, port, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command("infra/local-infra.sh", args...)
	cmd.Dir = modroot.Dir(t)
	cmd.Env = localInfraEnv(t, port, dir)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func localInfraEnv(t *testing.T, port, dir string) []string {
	t.Helper()
	return mototest.LocalInfraEnv(port, dir, "GO="+rietest.GoTool(t))
}

// TestLocalInfraLeavesAPortItDidNotStartAlone: something already listening on
// LOCAL_MOTO_PORT (another project's moto_server, say) is neither used nor
// written to, and neither make local-infra, make invoke nor make
// local-infra-stop touch it; each says so in one line.
func TestLocalInfraLeavesAPortItDidNotStartAlone(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	port := strconv.Itoa(other.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()

	stdout, stderr, err := localInfraScript(t, port, dir)
	if err == nil || stdout != "" {
		t.Fatalf("make local-infra used a port it did not start: err %v, printed %q", err, stdout)
	}
	if !strings.Contains(stderr, "did not start") || !strings.Contains(stderr, "LOCAL_MOTO_PORT") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("make local-infra should say in one line that the port is another process's and how to choose one; said %q", stderr)
	}
	invoke := exec.Command("infra/invoke.sh", "events/01-issue-300.json") // make invoke
	invoke.Dir, invoke.Env = modroot.Dir(t), localInfraEnv(t, port, dir)
	if out, err := invoke.CombinedOutput(); err == nil || !strings.Contains(string(out), "did not start") || strings.Contains(string(out), "== response") {
		t.Errorf("make invoke on a port make local-infra did not start: err %v, printed\n%s", err, out)
	}
	stdout, _, err = localInfraScript(t, port, dir, "--stop")
	if err != nil || !strings.Contains(stdout, "another process's, left alone") {
		t.Errorf("make local-infra-stop on another process's port: err %v, said %q", err, stdout)
	}
	if c, err := net.Dial("tcp", other.Addr().String()); err != nil {
		t.Errorf("the other process's port no longer answers: %v", err)
	} else {
		c.Close()
	}
}

// TestLocalInfraMotoOutlivesCtrlCUntilStopped: the Ctrl-C that stops make
// run-moto goes to the terminal's whole process group; the moto_server that
// make local-infra started keeps running (and its state with it) until make
// local-infra-stop, which says what it stopped, and afterwards that nothing
// is left to stop.
func TestLocalInfraMotoOutlivesCtrlCUntilStopped(t *testing.T) {
	port, dir := freePort(t), t.TempDir()
	t.Cleanup(func() { _, _, _ = localInfraScript(t, port, dir, "--stop") })

	// make run-moto: make local-infra, then a foreground program, in one process group.
	fg := exec.Command("bash", "-c", "infra/local-infra.sh >/dev/null && exec sleep 60")
	fg.Dir = modroot.Dir(t)
	fg.Env = localInfraEnv(t, port, dir)
	fg.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	fg.Stderr = &stderr
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fg.Process.Kill(); _ = fg.Wait() }()
	pidFile := filepath.Join(dir, "moto.pid")
	var moto int
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if raw, err := os.ReadFile(pidFile); err == nil && strings.Contains(stderr.String(), "started moto_server") {
			if moto, err = strconv.Atoi(strings.TrimSpace(string(raw))); err != nil {
				t.Fatalf("%s: %v", pidFile, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("make local-infra did not start moto_server within 90 s:\n%s", stderr.String())
		}
	}

	if err := syscall.Kill(-fg.Process.Pid, syscall.SIGINT); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	_ = fg.Wait()
	time.Sleep(500 * time.Millisecond)
	if !answers(port) {
		t.Fatalf("moto_server (pid %d) did not outlive the Ctrl-C", moto)
	}
	if _, stderr, err := localInfraScript(t, port, dir); err != nil || !strings.Contains(stderr, "using moto_server") {
		t.Errorf("make local-infra after the Ctrl-C should reuse its moto_server: err %v, said %q", err, stderr)
	}

	stdout, _, err := localInfraScript(t, port, dir, "--stop")
	if want := "stopped moto_server (pid " + strconv.Itoa(moto); err != nil || !strings.HasPrefix(stdout, want) {
		t.Errorf("make local-infra-stop: err %v, said %q, want %q...", err, stdout, want)
	}
	if answers(port) {
		t.Errorf("moto_server (pid %d) still answers after make local-infra-stop said it stopped", moto)
	}
	if stdout, _, _ := localInfraScript(t, port, dir, "--stop"); strings.TrimSpace(stdout) != "no moto_server started by make local-infra" {
		t.Errorf("a second make local-infra-stop said %q", stdout)
	}
}

// answers reports whether an HTTP server answers on 127.0.0.1:port.
func answers(port string) bool {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://127.0.0.1:" + port + "/moto-api/data.json")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func freePort(t *testing.T) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(rietest.FreeAddr(t))
	return port
}
