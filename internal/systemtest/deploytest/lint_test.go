//go:build integration

package deploytest

import (
	"os/exec"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// TestTemplatePassesCfnLint runs cfn-lint, which knows SAM and the resource
// specifications: any error or warning fails (informational notes do not).
func TestTemplatePassesCfnLint(t *testing.T) {
	path, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatal("cfn-lint is not installed: run `make test`, which installs it with pip (it checks template.yaml)")
	}
	cmd := exec.Command(path, "template.yaml")
	cmd.Dir = modroot.Dir(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}
