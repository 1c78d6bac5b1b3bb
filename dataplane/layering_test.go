package dataplane_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering fails when the dataplane or the IPsec transforms import
// something above them: the control plane, the config, logging, port
// drivers or commands. Imports must point down (ENGINEERING.md).
func TestLayering(t *testing.T) {
	const mod = "github.com/fastipsec/fastipsec/"
	rules := []struct {
		pkgs      string
		forbidden []string
	}{
		{"./...", []string{mod + "ctrl", mod + "config", mod + "ports", mod + "ipsec", mod + "cmd", mod + "perf", "go.uber.org/zap"}},
		{"../ipsec/...", []string{mod + "ctrl", mod + "config", mod + "ports", mod + "cmd", mod + "perf", "go.uber.org/zap"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", r.pkgs).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") {
				continue
			}
			t.Fatalf("go list %s: %v\n%s", r.pkgs, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			for _, dep := range fields[1:] {
				for _, bad := range r.forbidden {
					if dep == bad || strings.HasPrefix(dep, bad+"/") {
						t.Errorf("%s imports %s (directly or through another package)", fields[0], dep)
					}
				}
			}
		}
	}
}
