//go:build integration

package containertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/statechange"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/eventstest"
	"github.com/popbill-cashbill-webhook/receiver/internal/sweeper"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/rietest"
)

// invocation is one `sam local invoke FUNCTION -e EVENT`: the running
// container, where its output stood before the event, and the response.
type invocation struct {
	name     string // "FUNCTION -e EVENT", for failure messages
	c        *container
	mark     int
	response []byte
}

// TestEveryOtherFunctionRunsFromAContainerOnTheBridgeNetwork runs each
// function besides the webhook as `sam local invoke FUNCTION -e EVENT` does:
// its linux bootstrap, built by its build-<LogicalId> rule, under the emulator
// in a FROM-scratch image on Docker's default bridge with samconfig.toml's
// add_host, its variables from the env_vars file's entry for it (only the
// ports of make local-infra's moto and of the test's Slack stand-in
// rewritten), reaching this machine as host.docker.internal. Each invocation
// must succeed and do what the function is for: the sweeper returns its
// report, the Slack notifier posts the alert once, the forwarder puts the
// stream's increases on the bus.
func TestEveryOtherFunctionRunsFromAContainerOnTheBridgeNetwork(t *testing.T) {
	requireDocker(t)
	root := modroot.Dir(t)
	addHosts, envFile := localInvokeSettings(t, root)
	moto := startLocalInfra(t, root)
	t.Setenv(mototest.EnvVar, moto.endpoint) // the checks read moto on the host side
	emulator := rietest.EmulatorBinary(t)

	for _, tc := range []struct {
		function, event string
		// arrange readies what the function reaches besides moto before the
		// invocation, and returns the host ports of its stand-ins by the
		// variable that names them, and the check of the invocation.
		arrange func(t *testing.T, moto localInfra) (standIns map[string]string, check func(*testing.T, invocation))
	}{
		{"SweeperFunction", "events/sweeper-schedule.json", arrangeSweeper},
		{"SlackNotifierFunction", "events/sns-nts-failure.json", arrangeSlack},
		{"EventForwarderFunction", "events/stream-state-changes.json", arrangeForwarder},
	} {
		name := tc.function + " -e " + tc.event
		t.Run(name, func(t *testing.T) {
			standIns, check := tc.arrange(t, moto)
			env := functionEnv(t, filepath.Join(root, envFile), tc.function, moto, standIns)
			image := buildImage(t, rietest.Build(t, tc.function), emulator)
			c := runContainer(t, image, addHosts, env)
			event, err := os.ReadFile(filepath.Join(root, tc.event))
			if err != nil {
				t.Fatal(err)
			}
			mark := len(c.logs(t))
			raw := c.invokeRaw(t, event)
			var failure struct{ ErrorType, ErrorMessage string }
			if json.Unmarshal(raw, &failure) == nil && failure.ErrorType != "" {
				t.Fatalf("%s: the invocation failed: %s: %s", name, failure.ErrorType, failure.ErrorMessage)
			}
			check(t, invocation{name: name, c: c, mark: mark, response: raw})
			if n := countPrefix(c.logs(t), "START RequestId:"); n != 1 {
				t.Errorf("%s: the container ran %d invocations, want the event's one", name, n)
			}
		})
	}
}

// arrangeSweeper: on make local-infra's fresh table nothing is owed, so the
// sweeper's report, every count of it, is zero, and nothing failed.
func arrangeSweeper(*testing.T, localInfra) (map[string]string, func(*testing.T, invocation)) {
	return nil, func(t *testing.T, inv invocation) {
		var got map[string]any
		if err := json.Unmarshal(inv.response, &got); err != nil {
			t.Fatalf("%s: the response is not the sweeper's report: %v: %s", inv.name, err, inv.response)
		}
		var want map[string]any
		raw, _ := json.Marshal(sweeper.Report{})
		_ = json.Unmarshal(raw, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: report %s, want %s (nothing owed on a fresh table)", inv.name, inv.response, raw)
		}
	}
}

// arrangeSlack starts the Slack stand-in on the address the container reaches
// as host.docker.internal; the notifier must post the alert to it exactly once,
// at the env-vars file's path, and log it posted.
func arrangeSlack(t *testing.T, _ localInfra) (map[string]string, func(*testing.T, invocation)) {
	slack := startSlackStandIn(t)
	_, port, _ := net.SplitHostPort(slack.addr)
	return map[string]string{"SLACK_WEBHOOK_URL": port}, func(t *testing.T, inv invocation) {
		line := inv.c.logLine(t, inv.mark, "slack message sent")
		if line["outcome"] != "posted" {
			t.Errorf("%s: logged outcome %v, want posted: %v", inv.name, line["outcome"], line)
		}
		posts := slack.received()
		if len(posts) != 1 {
			t.Fatalf("%s: the Slack stand-in on %s received %d posts, want 1: %v", inv.name, slack.addr, len(posts), posts)
		}
		p := posts[0]
		if p.method != http.MethodPost || p.path != "/services/local" {
			t.Errorf("%s: %s %s, want a POST to events/env.json's /services/local", inv.name, p.method, p.path)
		}
		var msg struct {
			Blocks []json.RawMessage `json:"blocks"`
		}
		if err := json.Unmarshal([]byte(p.body), &msg); err != nil || len(msg.Blocks) == 0 {
			t.Errorf("%s: the post is not a Slack message with blocks (%v): %s", inv.name, err, p.body)
		}
		for _, want := range []string{"20251127-0002", "TS4"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("%s: the post lacks the alert's %q: %s", inv.name, want, p.body)
			}
		}
	}
}

// arrangeForwarder subscribes a queue to make local-infra's bus with the rule
// docs/events.md gives; the sample batch's issue and its NTS result reach it,
// the alert's lifecycle write does not, and no record fails.
func arrangeForwarder(t *testing.T, moto localInfra) (map[string]string, func(*testing.T, invocation)) {
	consumer := eventstest.Consumer(t, moto.vars["EVENT_BUS_NAME"])
	return nil, func(t *testing.T, inv invocation) {
		if got := strings.TrimSpace(string(inv.response)); got != `{"batchItemFailures":[]}` {
			t.Errorf("%s: response %s, want {\"batchItemFailures\":[]} (no record failed)", inv.name, got)
		}
		line := inv.c.logLine(t, inv.mark, "forward")
		if got := fmt.Sprint(line["report"]); got != "map[published:2 records:3 skipped:1]" {
			t.Errorf("%s: logged report %s, want 3 records, 2 published, 1 skipped", inv.name, got)
		}
		want := []string{"025112714103200001:300<-0", "025112714103200001:304<-300"}
		var got []string
		for deadline := time.Now().Add(5 * time.Second); len(got) < len(want) && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			got = append(got, increases(consumer.Received(t))...)
		}
		time.Sleep(300 * time.Millisecond)
		got = append(got, increases(consumer.Received(t))...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the bus's rule delivered %v, want %v", inv.name, got, want)
		}
	}
}

// increases is each event as "itemKey:stateCode<-previousStateCode".
func increases(es []statechange.Envelope) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s:%d<-%d", e.Detail.ItemKey, e.Detail.StateCode, e.Detail.PreviousStateCode))
	}
	return out
}

// slackStandIn answers every POST with 200 "ok", as a Slack incoming webhook
// does, and keeps what it was sent.
type slackStandIn struct {
	addr  string
	mu    sync.Mutex
	posts []slackPost
}

type slackPost struct{ method, path, body string }

// startSlackStandIn listens where a container on the default bridge reaches
// this machine as host.docker.internal: the bridge's gateway address
// (infra/docker-gateway.sh, as infra/invoke.sh's stand-in does), or the
// loopback under Docker Desktop, which forwards host.docker.internal there.
func startSlackStandIn(t *testing.T) *slackStandIn {
	t.Helper()
	cmd := exec.Command("infra/docker-gateway.sh")
	cmd.Dir = modroot.Dir(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("infra/docker-gateway.sh: %v", err)
	}
	host := strings.TrimSpace(string(out))
	if host == "" {
		t.Logf("no Docker bridge gateway on this machine (Docker Desktop?): the Slack stand-in listens on 127.0.0.1")
		host = "127.0.0.1"
	}
	s := &slackStandIn{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.posts = append(s.posts, slackPost{method: r.Method, path: r.URL.Path, body: string(body)})
		s.mu.Unlock()
		_, _ = io.Copy(w, bytes.NewBufferString("ok"))
	}))
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("the Slack stand-in cannot listen on %s: %v", host, err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	s.addr = l.Addr().String()
	return s
}

func (s *slackStandIn) received() []slackPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackPost(nil), s.posts...)
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
