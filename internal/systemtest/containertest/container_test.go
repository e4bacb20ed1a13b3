//go:build integration

package containertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archiveline"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/rietest"
)

// expectation is one entry of events/expected.json.
type expectation struct {
	Status  int    `json:"status"`
	Outcome string `json:"outcome"`
	Alert   bool   `json:"alert"`
}

// TestSamplesAnsweredFromAContainerOnTheBridgeNetwork runs the webhook's
// linux bootstrap under the emulator in a FROM-scratch image, on Docker's
// default bridge with samconfig.toml's add_host for sam local invoke, its
// environment from the env_vars file samconfig.toml names, reaching the
// moto_server that infra/local-infra.sh (make local-infra) starts as
// host.docker.internal, and invoked through a published port. Every event of
// events/expected.json, in order, must get its status and logged outcome, and
// the 305 exactly one alert on the topic: what sam local invoke shows.
func TestSamplesAnsweredFromAContainerOnTheBridgeNetwork(t *testing.T) {
	requireDocker(t)
	root := modroot.Dir(t)
	addHosts, envFile := localInvokeSettings(t, root)

	moto := startLocalInfra(t, root)
	t.Setenv(mototest.EnvVar, moto.endpoint) // the subscriber reads the topic on the host side
	alerts := mototest.SubscribeTo(t, moto.vars["ALERT_TOPIC_ARN"])

	env := functionEnv(t, filepath.Join(root, envFile), "WebhookFunction", moto, nil)
	image := buildImage(t, rietest.Build(t, "WebhookFunction"), rietest.EmulatorBinary(t))
	c := runContainer(t, image, addHosts, env)

	var want map[string]expectation
	readJSON(t, filepath.Join(root, "events", "expected.json"), &want)
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names) // the events tell their story in file name order
	for _, name := range names {
		event, err := os.ReadFile(filepath.Join(root, "events", name))
		if err != nil {
			t.Fatal(err)
		}
		mark := len(c.logs(t))
		status, body := c.invoke(t, event)
		line := c.requestLog(t, mark)
		got := expectation{Status: status, Outcome: fmt.Sprint(line["outcome"])}
		published := alerts.Drain(t)
		for deadline := time.Now().Add(5 * time.Second); want[name].Alert && len(published) == 0 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			published = alerts.Drain(t)
		}
		got.Alert = len(published) > 0
		if got != want[name] || len(published) > 1 {
			t.Errorf("%s: got %+v (%d alerts), want %+v; body %s\nrequest log: %v", name, got, len(published), want[name], body, line)
		}
		if status == http.StatusOK && body != `{"result":"OK"}` {
			t.Errorf("%s: 200 with body %s, want {\"result\":\"OK\"}", name, body)
		}
		archived(t, name, line, status, event)
	}
	if late := alerts.Drain(t); len(late) > 0 {
		t.Errorf("%d more alerts published after the events: %v", len(late), late)
	}
}

// archived checks that the container's request line, as Lambda would ship
// it to the log group, is the delivery's archive record: the answer, and
// for a refused delivery the request as received, so it can be replayed.
func archived(t *testing.T, name string, line map[string]any, status int, event []byte) {
	t.Helper()
	raw, err := json.Marshal(line)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := archiveline.Decode(string(raw))
	if !ok || d.Status != status || string(d.Outcome) != fmt.Sprint(line["outcome"]) {
		t.Errorf("%s: the request line is no archive record of the delivery (status %d): %s", name, status, raw)
		return
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &req); err != nil {
		t.Fatal(err)
	}
	if archive.Refused(d.Outcome) && !d.Truncated && string(d.Body) != req.Body {
		t.Errorf("%s: refused, and its archive record does not keep the body as received: %s", name, raw)
	}
	if !archive.Refused(d.Outcome) && d.BodySize != len(req.Body) {
		t.Errorf("%s: applied, archived bodySize %d, want %d", name, d.BodySize, len(req.Body))
	}
}

// requireDocker fails unless a Docker engine answers, and skips, saying why,
// when infra/with-docker.sh (make test) found none to be had.
func requireDocker(t *testing.T) {
	t.Helper()
	if reason := os.Getenv("CONTAINER_TEST_SKIP"); reason != "" {
		t.Skip("no Docker engine: " + reason)
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Fatalf("no Docker engine answers `docker info` (%v): run `make test-container`, which uses a running engine "+
			"or installs docker.io and starts dockerd as root\n%s", err, lastLines(out, 5))
	}
}

// localInvokeSettings reads what samconfig.toml gives sam local invoke: the
// --add-host mappings and the env-vars file. The function must stay on the
// default bridge, so no docker_network.
func localInvokeSettings(t *testing.T, root string) (addHosts []string, envFile string) {
	t.Helper()
	invokeParams := samconfigTable(t, filepath.Join(root, "samconfig.toml"), "default.local_invoke.parameters")
	if _, ok := invokeParams["docker_network"]; ok {
		t.Errorf("samconfig.toml's local_invoke sets docker_network; SAM CLI 1.86 and later ignore a host network, and the function must stay on the bridge")
	}
	addHosts = stringList(t, invokeParams, "add_host")
	envFile, _ = invokeParams["env_vars"].(string)
	if envFile == "" {
		t.Fatal("samconfig.toml's local_invoke has no env_vars file")
	}
	return addHosts, envFile
}

// localInfra is the moto_server of infra/local-infra.sh and what it printed.
type localInfra struct {
	endpoint string // as the host reaches it
	port     string
	vars     map[string]string
}

// startLocalInfra runs infra/local-infra.sh as make local-infra does, on a
// free port and a folder of the test's own, and stops its moto_server with
// `infra/local-infra.sh --stop` (make local-infra-stop) when the test ends.
func startLocalInfra(t *testing.T, root string) localInfra {
	t.Helper()
	port := freePort(t)
	env := mototest.LocalInfraEnv(port, t.TempDir(), "GO="+rietest.GoTool(t))
	script := func(args ...string) (string, error) {
		cmd := exec.Command("infra/local-infra.sh", args...)
		cmd.Dir, cmd.Env = root, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("infra/local-infra.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		t.Logf("infra/local-infra.sh %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()+string(out)))
		return string(out), nil
	}
	out, err := script()
	t.Cleanup(func() {
		if _, err := script("--stop"); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = strings.Trim(v, "'")
	}
	return localInfra{endpoint: vars["AWS_ENDPOINT_URL"], port: port, vars: vars}
}

// functionEnv is what SAM gives the function's container: the function's
// variables from the env-vars file, with the file's moto port replaced by the
// test's (the host stays host.docker.internal), and likewise the port of each
// URL variable standIns names (variable → the port its stand-in listens on), the
// sample credential, test keys, and the log format template.yaml's
// LoggingConfig asks for.
func functionEnv(t *testing.T, file, function string, moto localInfra, standIns map[string]string) []string {
	t.Helper()
	var all map[string]map[string]string
	readJSON(t, file, &all)
	vars, ok := all[function]
	if !ok {
		t.Fatalf("%s has no %s", file, function)
	}
	ports := map[string]string{"AWS_ENDPOINT_URL": moto.port}
	maps.Copy(ports, standIns)
	for k, port := range ports {
		u, err := url.Parse(vars[k])
		if err != nil || u.Hostname() != "host.docker.internal" {
			t.Fatalf("%s: %s %s = %q, want http://host.docker.internal:PORT/... (the container's way to this machine)", file, function, k, vars[k])
		}
		u.Host = u.Hostname() + ":" + port
		vars[k] = u.String()
	}
	for _, k := range []string{"STATE_TABLE", "ALERT_TOPIC_ARN", "EVENT_BUS_NAME"} {
		if v, ok := vars[k]; ok && v != moto.vars[k] {
			t.Fatalf("%s: %s %s = %q, make local-infra made %q", file, function, k, v, moto.vars[k])
		}
	}
	env := []string{"AWS_REGION=" + moto.vars["AWS_REGION"], "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_LAMBDA_LOG_FORMAT=JSON"}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// buildImage builds testdata/Dockerfile (FROM scratch) with bootstrap and
// the emulator, and removes the image when the test ends.
func buildImage(t *testing.T, bootstrap, emulator string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range [][2]string{{bootstrap, "bootstrap"}, {emulator, "aws-lambda-rie"}, {filepath.Join("testdata", "Dockerfile"), "Dockerfile"}} {
		copyFile(t, f[0], filepath.Join(dir, f[1]))
	}
	image := fmt.Sprintf("popbill-webhook-containertest:%d-%d", os.Getpid(), time.Now().UnixNano())
	docker(t, "build", "-q", "-t", image, dir)
	t.Cleanup(func() { _, _ = exec.Command("docker", "rmi", "-f", image).CombinedOutput() })
	return image
}

// container is a running function container.
type container struct {
	name string
	url  string
}

// runContainer starts image on the default bridge network with the given
// --add-host mappings and environment, publishes the emulator's port 8080 on
// a free loopback port, and removes the container when the test ends (its
// output is logged when the test failed).
func runContainer(t *testing.T, image string, addHosts, env []string) *container {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Logf("Docker on %s: host.docker.internal is Docker Desktop's own", runtime.GOOS)
	}
	c := &container{name: strings.NewReplacer(":", "-", "/", "-").Replace(image)}
	args := []string{"run", "-d", "--name", c.name, "-p", "127.0.0.1::8080"}
	for _, h := range addHosts {
		args = append(args, "--add-host", h)
	}
	for _, kv := range env {
		args = append(args, "-e", kv)
	}
	docker(t, append(args, image)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container output:\n%s", strings.Join(c.logs(t), "\n"))
		}
		_, _ = exec.Command("docker", "rm", "-f", c.name).CombinedOutput()
	})
	hostPort := strings.TrimSpace(strings.SplitN(docker(t, "port", c.name, "8080/tcp"), "\n", 2)[0])
	c.url = "http://" + hostPort + "/2015-03-31/functions/function/invocations"
	// Once it listens, the emulator answers any path but the invocations one
	// with 404, without invoking the function: each test's invocations are the
	// only ones. (Before, Docker's port proxy accepts and closes the connection.)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + hostPort + "/")
		if err == nil {
			resp.Body.Close()
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator in the container did not answer on %s: %v\n%s", hostPort, err, strings.Join(c.logs(t), "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// invoke sends one event and returns the status and body of the function's
// API Gateway response.
func (c *container) invoke(t *testing.T, event []byte) (int, string) {
	t.Helper()
	raw := c.invokeRaw(t, event)
	var out struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("invoke: the function's response is not an API Gateway response: %v: %s", err, raw)
	}
	return out.StatusCode, out.Body
}

// invokeRaw sends one event and returns the function's response as the
// emulator gives it (for a function that failed, its errorType and errorMessage).
func (c *container) invokeRaw(t *testing.T, event []byte) []byte {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Post(c.url, "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: emulator answered %s (%v): %s", resp.Status, err, raw)
	}
	return raw
}

// logs returns the container's output lines so far.
func (c *container) logs(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("docker", "logs", c.name).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs: %v\n%s", err, out)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// requestLog waits for the function's one JSON "request" line after line mark.
func (c *container) requestLog(t *testing.T, mark int) map[string]any {
	t.Helper()
	return c.logLine(t, mark, "request")
}

// logLine waits for the function's first JSON line with the given message
// after line mark.
func (c *container) logLine(t *testing.T, mark int, message string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := c.logs(t)
		for _, line := range lines[min(mark, len(lines)):] {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["message"] == message {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no JSON %q log line within 10 s; output since the invocation:\n%s", message, strings.Join(lines[min(mark, len(lines)):], "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// samconfigTable reads the key = value lines of one table of samconfig.toml.
// Its values are TOML strings, integers and arrays of strings, written as
// JSON writes them, so each is read as JSON.
func samconfigTable(t *testing.T, path, table string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]any{}
	in, found := false, false
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			in = line == "["+table+"]"
			found = found || in
		case in:
			k, v, _ := strings.Cut(line, "=")
			var val any
			if err := json.Unmarshal([]byte(strings.TrimSpace(v)), &val); err != nil {
				t.Fatalf("%s [%s]: cannot read %q: %v", path, table, line, err)
			}
			vals[strings.TrimSpace(k)] = val
		}
	}
	if !found {
		t.Fatalf("%s has no [%s] table", path, table)
	}
	return vals
}

func stringList(t *testing.T, table map[string]any, key string) []string {
	t.Helper()
	list, _ := table[key].([]any)
	var out []string
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("samconfig.toml %s holds %v, not strings", key, table[key])
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("samconfig.toml's local_invoke has no %s list", key)
	}
	return out
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s%s", args[0], err, out, stderr.Bytes())
	}
	return string(out)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o755); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(rietest.FreeAddr(t))
	return port
}

func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
