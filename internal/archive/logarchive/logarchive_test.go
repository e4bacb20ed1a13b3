//go:build integration

package logarchive_test

import (
	"testing"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archiveline"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/archivetest"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/logarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

const retention = 90 * 24 * time.Hour

// TestContract runs the contract on the recorder of the programs that are
// not the Lambda: its own stream, created on first use.
func TestContract(t *testing.T) {
	archivetest.RunKeeping(t, func(t *testing.T) archivetest.Adapter {
		client, group := mototest.LogGroup(t)
		return struct {
			*logarchive.Recorder
			*logarchive.Reader
		}{logarchive.NewRecorder(client, group, logarchive.ToolStream), logarchive.NewReader(client, group, retention)}
	}, archiveline.Kept)
}
