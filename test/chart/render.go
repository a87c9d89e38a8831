package chart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// DefaultKubeVersion is the Kubernetes version charts are rendered for: the version of the
// local control plane. A helm built with `go install` assumes 1.20, which the chart refuses.
const DefaultKubeVersion = "1.37.2"

// Renderer runs `helm template` on the chart.
type Renderer struct {
	// Helm is the path of the helm binary.
	Helm string
	// ChartDir is the chart's directory.
	ChartDir string
	// KubeVersion is passed as --kube-version.
	KubeVersion string
	// APIVersions are passed as --api-versions: the APIs the cluster is assumed to serve
	// besides Kubernetes' own. NewRenderer sets cert-manager's (a cluster where
	// tls.mode=cert-manager can work); empty renders for a cluster without it.
	APIVersions []string
}

// CertManagerAPIVersion is the API the chart's tls.mode=cert-manager needs.
const CertManagerAPIVersion = "cert-manager.io/v1"

// NewRenderer returns a Renderer for the repository's chart and bin/helm, found by walking
// up from the working directory to the repository root (the directory holding go.mod).
func NewRenderer() (*Renderer, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	r := &Renderer{
		Helm:        filepath.Join(root, "bin", "helm"),
		ChartDir:    filepath.Join(root, "charts", "gopherscope"),
		KubeVersion: DefaultKubeVersion,
		APIVersions: []string{CertManagerAPIVersion},
	}
	if _, err := os.Stat(r.Helm); err != nil {
		return nil, fmt.Errorf("find helm %q (build it with `make tools`): %w", r.Helm, err)
	}
	return r, nil
}

// RepoRoot returns the nearest directory at or above the working directory that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Template renders the chart as release in namespace with the given values (merged over
// values.yaml, like `helm template -f`) and returns the manifest. A failure returns an error
// that carries helm's message.
func (r *Renderer) Template(ctx context.Context, release, namespace string, values map[string]any, extraArgs ...string) ([]byte, error) {
	valuesYAML, err := yaml.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("encode values: %w", err)
	}
	args := []string{
		"template", release, r.ChartDir,
		"--namespace", namespace,
		"--kube-version", r.KubeVersion,
		"--values", "-",
	}
	for _, v := range r.APIVersions {
		args = append(args, "--api-versions", v)
	}
	args = append(args, extraArgs...)
	cmd := exec.CommandContext(ctx, r.Helm, args...) //nolint:gosec // the helm path is the repository's own bin/helm
	cmd.Stdin = bytes.NewReader(valuesYAML)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm template %s: %w: %s", release, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
