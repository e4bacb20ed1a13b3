//go:build integration

package deploytest

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// TestMakefileBuildsArm64Bootstrap runs the target SAM runs and checks that
// the result is what provided.al2023 on arm64 executes: a static arm64 ELF
// named bootstrap.
func TestMakefileBuildsArm64Bootstrap(t *testing.T) {
	artifacts := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "build-WebhookFunction", "ARTIFACTS_DIR="+artifacts)
	cmd.Dir = modroot.Dir(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-WebhookFunction: %v\n%s", err, out)
	}
	path := filepath.Join(artifacts, "bootstrap")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no bootstrap in ARTIFACTS_DIR: %v", err)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		t.Errorf("bootstrap is %v %v, want EM_AARCH64 ELFCLASS64", f.Machine, f.Class)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap is dynamically linked: build it with CGO_ENABLED=0")
		}
	}
	if info.Mode()&0o111 == 0 {
		t.Error("bootstrap is not executable")
	}
	if f.Section(".debug_info") != nil {
		t.Error("bootstrap has DWARF: build it with -ldflags='-s -w'")
	}
	t.Logf("bootstrap for linux/arm64: %d bytes (%.1f MiB)", info.Size(), float64(info.Size())/(1<<20))
}
