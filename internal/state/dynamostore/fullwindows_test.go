package dynamostore

import (
	"fmt"
	"testing"
	"time"
)

// TestFullWindowsRemembersPerThresholdAndForgetsEndedWindows: a window is
// full for the threshold it was found full at; past fullWindowsKept, the
// windows that have ended are forgotten first, the open ones kept.
func TestFullWindowsRemembersPerThresholdAndForgetsEndedWindows(t *testing.T) {
	var f fullWindows
	open := time.Now().Add(time.Hour)
	f.add("storm#open", 3, open)
	if !f.has("storm#open", 3) || f.has("storm#open", 4) || f.has("storm#other", 3) {
		t.Fatal("has answers for another window or threshold")
	}
	for i := range fullWindowsKept {
		f.add(fmt.Sprintf("storm#ended-%d", i), 3, time.Now().Add(-time.Minute))
	}
	if !f.has("storm#open", 3) || f.has("storm#ended-0", 3) || !f.has(fmt.Sprintf("storm#ended-%d", fullWindowsKept-1), 3) {
		t.Errorf("after %d more: open kept %v, first ended kept %v; want the open one and the last added only", fullWindowsKept, f.has("storm#open", 3), f.has("storm#ended-0", 3))
	}
	if len(f.ends) > fullWindowsKept {
		t.Errorf("%d windows remembered, want at most %d", len(f.ends), fullWindowsKept)
	}
}
